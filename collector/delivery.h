/* delivery: the collector's side of exact delivery (docs/ARCHITECTURE.md, Transport). With a
 * spool, every message is written to disk before it is sent and deleted
 * only when the aggregator acknowledges it (after its commit); at most
 * DELIVERY_WINDOW are in flight, and when acks stop coming the oldest
 * unacknowledged messages are sent again, with a backoff. Beside the spool
 * it keeps the state file (the last counter values), committed together
 * with each batch, so a restarted collector on the same boot continues
 * from them. Without a spool, messages go straight to ZeroMQ's queue and a
 * restart loses what was not yet acknowledged. */
#ifndef DROPSCOPE_DELIVERY_H
#define DROPSCOPE_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "uplink.h"
#include "series.h"
#include "spool.h"
#include "state.h"

#define DELIVERY_WINDOW 64                          /* messages in flight */
#define DELIVERY_SPOOL_SIZE (UINT64_C(64) << 20)    /* default --spool-size */

typedef struct delivery delivery_t;

/* Uses link (borrowed) and, when spool_dir is not NULL, a spool there of at
 * most spool_size bytes. NULL with the reason in err. */
delivery_t *delivery_new(uplink_t *link, const char *spool_dir, uint64_t spool_size, char *err,
                         size_t errsz);
void delivery_destroy(delivery_t **self_p);

/* Before the first snapshot: finishes a commit a crash interrupted and, when
 * the state file belongs to boot `boot_id`, restores its series into
 * `series`. Returns the time of those values (the previous snapshot of the
 * gap), or 0 when there is nothing to continue from. */
int64_t delivery_restore(delivery_t *self, const char *boot_id, series_t *series);

/* Sends message (incarnation, seq) of nsamples samples; takes buf. With a
 * spool and a `head`, the state (head + series) is committed together with
 * the message: after a crash either both are on disk or neither. */
void delivery_send(delivery_t *self, uint64_t incarnation, uint64_t seq, uint32_t nsamples,
                   uint8_t *buf, size_t len, const state_head_t *head, series_t *series);

/* The aggregator stored (incarnation, seq): forget it, send more. */
void delivery_acked(delivery_t *self, uint64_t incarnation, uint64_t seq);

/* The aggregator refused (incarnation, seq) for good (ACK_REJECTED): it is
 * forgotten and counted, with its samples, in delivery_stats, which every
 * batch reports; with a spool the count survives restarts. */
void delivery_rejected(delivery_t *self, uint64_t incarnation, uint64_t seq);

/* The aggregator cannot store (incarnation, seq) yet (ACK_NEED_DEFS): with
 * a spool it is kept and not sent again until delivery_release; without
 * one it cannot be sent again, and is counted as rejected. */
void delivery_defer(delivery_t *self, uint64_t incarnation, uint64_t seq);

/* The definitions the deferred messages need are stored: they go again,
 * in order. */
void delivery_release(delivery_t *self);

/* Makes the messages spooled since the last call survive a power loss
 * (spool_sync: one directory fsync for all of them). Call before waiting.
 * An error is logged; the messages are still sent. */
void delivery_sync(delivery_t *self);

/* Resends what is overdue; call regularly. Returns the ms until it wants
 * to be called again (bounded by the caller's own timeout). */
int delivery_tick(delivery_t *self);

/* What the spool lost to its bound (zero without a spool), and what the
 * aggregator refused (counted in memory without a spool). */
spool_stats_t delivery_stats(const delivery_t *self);

#endif
