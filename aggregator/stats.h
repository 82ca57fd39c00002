/* stats: the ingest's counters and gauges as other threads see them. The
 * ingest thread keeps its own copy in plain fields and publishes it to a
 * board after each group and each second; /metrics (an HTTP worker) reads
 * the latest published copy. The board also holds every host's monotonic
 * counters (the fleet), which ingest adds to after each commit and
 * /metrics/fleet copies out. The board is the only state the two threads
 * share. */
#ifndef DROPSCOPE_STATS_H
#define DROPSCOPE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The bounds on what one peer can cost the aggregator, as counted in
 * dropscope_limit_hits_total{limit}. */
typedef enum {
    STATS_LIMIT_SERIES,      /* series of one host (STORE_MAX_SERIES_PER_HOST): refused */
    STATS_LIMIT_HOSTS,       /* hosts in the database (--max-hosts): a new one refused */
    STATS_LIMIT_LIVE_WINDOW, /* a burst outside now +- the live window: not correlated live */
    STATS_LIMIT_LIVE_FULL,   /* a burst beyond LIVE_MAX_BURSTS: not correlated live */
    STATS_LIMIT_COUNT
} stats_limit_t;

/* "series_per_host", "hosts", "live_window", "live_bursts". */
const char *stats_limit_name(stats_limit_t limit);

/* The upper bounds, in seconds, of the commit duration histogram's buckets,
 * the last +Inf: a commit of a few hundred batches takes 0.2-2 ms on an
 * SSD (bench_ingest.sh), a stalled disk seconds. */
#define STATS_COMMIT_BUCKETS 15
extern const double stats_commit_bounds[STATS_COMMIT_BUCKETS];

#define STATS_MAX_PEERS 64 /* peers whose decode errors are counted by name */

typedef struct {
    char peer[64];   /* peer address ("local" over ipc) */
    uint64_t errors; /* frames from it that were not a valid message */
} stats_peer_t;

typedef struct {
    uint64_t messages;          /* frames received */
    uint64_t batches;           /* batches stored */
    uint64_t samples_stored;    /* samples in stored batches */
    uint64_t duplicates;        /* resent messages acknowledged again */
    uint64_t decode_errors;     /* frames that were not a valid Envelope */
    uint64_t rejected;          /* valid protobuf breaking a rule (ACK_REJECTED) */
    uint64_t identity_rejected; /* of those: a host its key does not speak for */
    uint64_t need_defs;         /* batches refused for unknown series ids */
    uint64_t commit_failures;   /* groups rolled back: nothing acknowledged */
    uint64_t commits;           /* transactions committed */
    uint64_t auth_failures;     /* connections that failed the CurveZMQ handshake */
    uint64_t incidents;         /* incidents found live as bursts arrived */
    uint64_t acks_unsent_full;  /* acks not sent: the sender's pipe was full */
    uint64_t acks_unsent_gone;  /* acks not sent: the sender had disconnected */
    uint64_t limit_hits[STATS_LIMIT_COUNT]; /* refused or set aside, by limit */
    uint64_t commit_le[STATS_COMMIT_BUCKETS]; /* commits by duration: le[i-1] < d <= le[i] */
    uint64_t commit_ns;         /* the commits' durations, summed */
    uint64_t group_messages;    /* messages in the last group: how many were waiting */
    uint64_t upkeep_rows;       /* rows rolled up, merged or expired since start */
    uint64_t upkeep_failures;
    uint64_t host_caches;       /* hosts the writer holds in memory (idle ones leave) */
    stats_peer_t peers[STATS_MAX_PEERS]; /* decode errors by peer; further peers share the
                                            last row, "other" */
    size_t npeers;
} stats_t;

/* Counts a frame from peer that was not a valid message. */
void stats_count_peer(stats_t *self, const char *peer);

/* Counts a commit that took ns in the duration histogram. */
void stats_observe_commit(stats_t *self, int64_t ns);

typedef struct stats_board stats_board_t;

/* A board holding all zero until the first stats_publish. NULL out of memory. */
stats_board_t *stats_board_new(void);
void stats_board_destroy(stats_board_t **self_p);

/* Replaces the published copy with *stats (the ingest thread). */
void stats_publish(stats_board_t *self, const stats_t *stats);

/* The latest published copy into *out (any thread). */
void stats_read(stats_board_t *self, stats_t *out);

/* Adds t (what a commit stored of one host, or what the store held at
 * start) to that host's counters on the board: counts only ever grow (t's
 * are unsigned), gauges take t's. -1 out of memory (nothing added). */
int stats_fleet_add(stats_board_t *self, const store_tally_t *t);

/* The sum of every host's counters into *total (host ""): the fleet-wide
 * figures, without a copy of the hosts. */
void stats_fleet_total(stats_board_t *self, store_tally_t *total);

/* A copy of every host's counters, in the order the hosts were first
 * added, into *hosts (the caller frees it; NULL when none); their count. */
size_t stats_fleet_copy(stats_board_t *self, store_tally_t **hosts);

/* A schema migration under way: main posts it while the writer migrates,
 * before ingest starts, and /healthz and the API answer "migrating"
 * meanwhile rather than nothing. */
typedef struct {
    char name[64];        /* the migration running, e.g. "015_degraded.sql" */
    int index, count;     /* the index-th (from 1) of count */
    int64_t started_ns;   /* wall clock: when this one started */
} stats_migration_t;

/* Posts the migration running; NULL: none (done). */
void stats_set_migration(stats_board_t *self, const stats_migration_t *m);
/* true with *out when a migration runs. */
bool stats_migration(stats_board_t *self, stats_migration_t *out);

/* The alert senders' counters (alerts_send.c), by receiver: they live on
 * the board apart from stats_t, which only the ingest thread writes. */
#define STATS_ALERT_RECEIVERS 2 /* alertmanager, webhook (alerts_receiver_t) */
typedef struct {
    uint64_t sent[STATS_ALERT_RECEIVERS];   /* events delivered (2xx) */
    uint64_t failed[STATS_ALERT_RECEIVERS]; /* attempts that failed (each retry counts) */
    uint64_t dropped;                       /* events a full queue dropped, unsent */
} stats_alerts_t;

/* Adds d to the board's alert counters (a sender thread). */
void stats_alerts_add(stats_board_t *self, const stats_alerts_t *d);
/* The alert counters into *out (any thread). */
void stats_alerts_read(stats_board_t *self, stats_alerts_t *out);

#endif
