/* ingest: the aggregator's ZeroMQ ROUTER. Receives collector messages,
 * decodes and validates them, stores them in groups (one transaction per
 * group), and acknowledges each message only after its group committed.
 * The only aggregator module that touches ZeroMQ. */
#ifndef DROPSCOPE_INGEST_H
#define DROPSCOPE_INGEST_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define INGEST_MAX_PEERS 64 /* peers whose decode errors are counted by name */

/* The bounds on what one peer can cost the aggregator, as counted in
 * dropscope_limit_hits_total{limit}. */
typedef enum {
    INGEST_LIMIT_SERIES,      /* series of one host (STORE_MAX_SERIES_PER_HOST): refused */
    INGEST_LIMIT_HOSTS,       /* hosts in the database (--max-hosts): a new one refused */
    INGEST_LIMIT_LIVE_WINDOW, /* a burst outside now +- the live window: not correlated live */
    INGEST_LIMIT_LIVE_FULL,   /* a burst beyond LIVE_MAX_BURSTS: not correlated live */
    INGEST_LIMIT_COUNT
} ingest_limit_t;

/* "series_per_host", "hosts", "live_window", "live_bursts". */
const char *ingest_limit_name(ingest_limit_t limit);

typedef struct {
    char peer[64];   /* peer address ("local" over ipc) */
    uint64_t errors; /* frames from it that were not a valid message */
} ingest_peer_t;

/* Counters shared with the HTTP thread (/metrics); only ingest writes them. */
typedef struct {
    _Atomic uint64_t messages;       /* frames received */
    _Atomic uint64_t batches;        /* batches stored */
    _Atomic uint64_t samples_stored; /* samples in stored batches */
    _Atomic uint64_t duplicates;     /* resent messages acknowledged again */
    _Atomic uint64_t decode_errors;  /* frames that were not a valid Envelope */
    _Atomic uint64_t rejected;       /* valid protobuf breaking a rule (ACK_REJECTED) */
    _Atomic uint64_t identity_rejected; /* of those: a host its key does not speak for */
    _Atomic uint64_t need_defs;      /* batches refused for unknown series ids */
    _Atomic uint64_t commit_failures;/* groups rolled back: nothing acknowledged */
    _Atomic uint64_t commits;        /* transactions committed */
    _Atomic uint64_t auth_failures;  /* connections that failed the CurveZMQ handshake */
    _Atomic uint64_t incidents;      /* incidents found live as bursts arrived */
    _Atomic uint64_t acks_unsent_full; /* acks not sent: the sender's pipe was full */
    _Atomic uint64_t acks_unsent_gone; /* acks not sent: the sender had disconnected */
    _Atomic uint64_t limit_hits[INGEST_LIMIT_COUNT]; /* by limit_t: refused or set aside */
    /* Gauges, updated every second by the ingest thread. */
    _Atomic uint64_t samples_per_s;  /* samples stored per second, over the last 10 s */
    _Atomic uint64_t commit_p50_us;  /* commit latency over the last 10 s */
    _Atomic uint64_t commit_p99_us;
    _Atomic uint64_t commit_max_us;
    _Atomic uint64_t group_messages; /* messages in the last group: how many were waiting */
    _Atomic uint64_t upkeep_rows;    /* rows rolled up, merged or expired since start */
    _Atomic uint64_t upkeep_failures;
    _Atomic uint64_t host_caches;    /* hosts the writer holds in memory (idle ones leave) */
    pthread_mutex_t peers_lock;      /* guards the per-peer table (set up by ingest_new) */
    ingest_peer_t peers[INGEST_MAX_PEERS];
    size_t npeers;                   /* further peers are counted under "other" */
} ingest_stats_t;

/* Copies the per-peer decode error counts into out (at most INGEST_MAX_PEERS
 * entries); returns how many. Thread-safe. */
size_t ingest_peer_errors(ingest_stats_t *stats, ingest_peer_t *out);

/* CurveZMQ: the aggregator's certificate and the directory of the public
 * certificates of the collectors it admits. */
typedef struct {
    const char *cert;      /* PATH_secret written by `dropscope keygen PATH` */
    const char *allow_dir; /* a directory of collectors' public certificates */
} ingest_security_t;

typedef struct ingest ingest_t;

/* Binds a ROUTER to endpoint, with CurveZMQ and an allow-list when sec is
 * given (czmq zauth; each key then speaks only for the host its certificate
 * names), in plain text when sec is NULL. NULL with the reason in err. */
ingest_t *ingest_new(const char *endpoint, const ingest_security_t *sec, store_t *store,
                     ingest_stats_t *stats, char *err, size_t errsz);
void ingest_destroy(ingest_t **self_p);

/* How far ahead of the aggregator's clock a message's times may be
 * (default VALIDATE_SKEW_DEFAULT_NS, a day); how far behind is the raw
 * retention (ingest_set_retention): a spool resent after an outage is old,
 * but nothing older than the store keeps is taken. */
void ingest_set_max_skew(ingest_t *self, int64_t max_skew_ns);

/* Keeps rollups and retention going between groups (store_upkeep); off
 * until called. */
void ingest_set_retention(ingest_t *self, const store_retention_t *retention);

/* Serves until *stop becomes non-zero. */
void ingest_run(ingest_t *self, volatile sig_atomic_t *stop);

#endif
