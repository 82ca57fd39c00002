/* ingest: the aggregator's ZeroMQ ROUTER. Receives collector messages,
 * decodes and validates them, stores them in groups (one transaction per
 * group), and acknowledges each message only after its group committed.
 * The only aggregator module that touches ZeroMQ. */
#ifndef DROPSCOPE_INGEST_H
#define DROPSCOPE_INGEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts.h"
#include "stats.h"
#include "store.h"

/* CurveZMQ: the aggregator's certificate and the directory of the public
 * certificates of the collectors it admits. */
typedef struct {
    const char *cert;      /* PATH_secret written by `dropscope keygen PATH` */
    const char *allow_dir; /* a directory of collectors' public certificates */
} ingest_security_t;

typedef struct ingest ingest_t;

/* Binds a ROUTER to endpoint, with CurveZMQ and an allow-list when sec is
 * given (czmq zauth; each key then speaks only for the host its certificate
 * names), in plain text when sec is NULL. Its counters are published to
 * board (borrowed) before each group's acks are sent, and at least every
 * 200 ms. NULL with the reason in err. */
ingest_t *ingest_new(const char *endpoint, const ingest_security_t *sec, store_t *store,
                     stats_board_t *board, char *err, size_t errsz);
void ingest_destroy(ingest_t **self_p);

/* How far ahead of the aggregator's clock a message's times may be
 * (default VALIDATE_SKEW_DEFAULT_NS, a day); how far behind is the raw
 * retention (ingest_set_retention): a spool resent after an outage is old,
 * but nothing older than the store keeps is taken. */
void ingest_set_max_skew(ingest_t *self, int64_t max_skew_ns);

/* Keeps rollups and retention going between groups (store_upkeep); off
 * until called. */
void ingest_set_retention(ingest_t *self, const store_retention_t *retention);

/* What a SIGHUP runs (stop_take_reload), on the ingest thread between
 * two groups, so it may call this module's setters and the store's
 * without locking; systemd is told RELOADING=1 before and READY=1 after. */
void ingest_set_reload(ingest_t *self, void (*reload)(void *ctx), void *ctx);

/* Re-reads the --allow directory now, changed or not: zauth's certificate
 * store (new handshakes) and the hosts the keys speak for (connections
 * already open). On failure the list in use stays, with the reason
 * logged. A no-op in plain text. */
void ingest_reload_allow(ingest_t *self);

/* Live incidents over the store (fleetlive.h, reading target as this
 * aggregator, name), rather than over the bursts this aggregator stores:
 * for a store several aggregators share. Call after ingest_set_alerts.
 * 0, -1 + err. */
int ingest_share_live(ingest_t *self, const char *target, const char *name, char *err,
                      size_t errsz);

/* Alerts (both borrowed, both or neither NULL): each commit's drops feed
 * watch, a settled incident not sent before and the watch's events are
 * queued on alerts (never waiting on the network). Off until called. */
void ingest_set_alerts(ingest_t *self, alerts_watch_t *watch, alerts_t *alerts);

/* Serves until *stop becomes non-zero. Each turn of the loop (at most
 * 200 ms apart) takes a pending reload, feeds systemd's watchdog, and
 * every few seconds refreshes the status systemd shows. */
void ingest_run(ingest_t *self, volatile sig_atomic_t *stop);

#endif
