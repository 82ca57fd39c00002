/* delivery: the sending side of exact delivery (docs/ARCHITECTURE.md, Transport). Every message
 * is held until the aggregator acknowledges it (after its commit): with a spool on disk, where it
 * survives a crash; without one in memory, bounded (the oldest go, counted), where a restart loses
 * what was not acknowledged. At most a window of messages is in flight; when acks stop coming on
 * a connection, what is in flight on it goes again from the oldest, with a backoff, and so it
 * does when acks of newer messages have passed older ones over for the first timeout (the
 * aggregator answers in order: it lost them).
 * With a spool a message can carry a companion, opaque bytes committed together with it (the
 * collector's counter state, state.c), so that after a crash either both are on disk or neither.
 * The deliveries that send through one uplink share a channel: the connection's resend timer and
 * its full queue. The collector has one of each; dropscope-fleetsim has a delivery per simulated
 * host and a channel per socket, with many hosts to a socket. */
#ifndef DROPSCOPE_DELIVERY_H
#define DROPSCOPE_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"
#include "uplink.h"

#define DELIVERY_WINDOW 64                       /* messages in flight, by default */
#define DELIVERY_MEMORY 1000                     /* messages held without a spool, by default */
#define DELIVERY_SPOOL_SIZE (UINT64_C(64) << 20) /* default --spool-size */

typedef struct delivery_channel delivery_channel_t;
typedef struct delivery delivery_t;

/* A channel on link (borrowed; it must outlive the channel). NULL when out of memory. */
delivery_channel_t *delivery_channel_new(uplink_t *link);
/* Destroy the deliveries on a channel before it. Safe on NULL and twice; nulls *self_p. */
void delivery_channel_destroy(delivery_channel_t **self_p);

typedef struct {
    uint64_t send_failures; /* sends the uplink refused: its queue was full, or no connection */
    uint64_t resent;        /* messages sent again because no ack came in time */
} delivery_channel_stats_t;

delivery_channel_stats_t delivery_channel_stats(const delivery_channel_t *self);

/* The channel's link now goes to another aggregator (uplink_switch): what
 * was in flight on it goes again at each delivery's next call, at once
 * (the resend timer keeps its backoff: an ack resets it). */
void delivery_channel_restart(delivery_channel_t *self);

typedef struct {
    const char *spool_dir; /* NULL: messages are held in memory */
    uint64_t spool_size;   /* with a spool: its bound in bytes of message data */
    size_t memory_max;     /* without a spool: messages held at most (0: DELIVERY_MEMORY) */
    size_t window;         /* messages in flight at most (0: DELIVERY_WINDOW) */
} delivery_opts_t;

/* Sends through channel (borrowed). A failed send means, with a spool, that there is no
 * connection (the collector's spooling uplink is ZMQ_IMMEDIATE, whose queue dies with its
 * connection): everything in flight goes again once one is up; without a spool, that the
 * uplink's queue is full (it queues while disconnected): that message waits for the next try.
 * NULL with the reason in err (the spool cannot be opened; out of memory). */
delivery_t *delivery_new(delivery_channel_t *channel, const delivery_opts_t *opts, char *err,
                         size_t errsz);
void delivery_destroy(delivery_t **self_p);

/* Before the first send, with a spool: finishes the commit a crash interrupted (a companion
 * whose message is in the spool is committed; one whose message is not was never sent, and is
 * discarded), and returns the path of the last committed companion, which may not exist
 * (borrowed, valid while self is). NULL without a spool. */
const char *delivery_restore(delivery_t *self);

/* Sends message (incarnation, seq) of nsamples samples, taking *buf_p (len bytes; *buf_p is
 * nulled). With a spool and companion_len > 0, the companion (the caller's) is committed
 * together with the message; without a spool it is ignored. 0 when the message is held; -1
 * when it is lost (logged): the spool could not take it, or no memory. */
int delivery_send(delivery_t *self, uint64_t incarnation, uint64_t seq, uint32_t nsamples,
                  uint8_t **buf_p, size_t len, const void *companion, size_t companion_len);

/* The aggregator stored (incarnation, seq): forget it, send more. 1 when it was held, 0 when
 * not (an ack of a resent duplicate, or of a message already dropped). */
int delivery_acked(delivery_t *self, uint64_t incarnation, uint64_t seq);

/* The aggregator refused (incarnation, seq) for good (ACK_REJECTED): it is forgotten and
 * counted, with its samples, in delivery_stats, which every batch reports (with a spool the
 * count survives restarts). 1 when it was held, 0 when not (then nothing is counted). */
int delivery_rejected(delivery_t *self, uint64_t incarnation, uint64_t seq);

/* The aggregator cannot store (incarnation, seq) yet (ACK_NEED_DEFS): it is kept, and not sent
 * again until delivery_release. 1 when it was held and not deferred already, else 0. */
int delivery_defer(delivery_t *self, uint64_t incarnation, uint64_t seq);

/* The definitions the deferred messages need are stored: they go again, in order. */
void delivery_release(delivery_t *self);

/* Makes the messages spooled since the last call survive a power loss
 * (spool_sync: one directory fsync for all of them). Call before waiting.
 * An error is logged; the messages are still sent. Nothing to do without a spool. */
void delivery_sync(delivery_t *self);

/* Sends what is waiting (a queue was full, a link was down, no ack came in time on the
 * channel); call regularly. Returns the ms until it wants to be called again. */
int delivery_tick(delivery_t *self);

/* Messages held: sent or not, not yet acknowledged or rejected (deferred ones included). */
size_t delivery_held(const delivery_t *self);

/* What was lost to the bound (the spool's, or the memory's) and what the aggregator refused;
 * with a spool, cumulative across restarts. */
spool_stats_t delivery_stats(const delivery_t *self);

#endif
