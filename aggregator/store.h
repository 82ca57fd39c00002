/* store: the aggregator's database. This SQLite implementation is the
 * only module that touches SQLite: one writer connection (the ingest
 * thread) applies migrations at open and stores messages inside
 * transactions the caller groups; reader connections (the HTTP threads)
 * answer queries concurrently thanks to WAL. Every statement binds its
 * parameters.
 *
 * This header is the contract a second storage engine implements:
 * chstore.h, ClickHouse's, to which every function here forwards when the
 * store was opened on an http:// or https:// URL instead of a path. What
 * callers rely on:
 *  - Input is the store's own types below, already validated (intake.c
 *    translates the wire format's messages and corrects burst clocks): the
 *    store knows nothing of protobuf or ZeroMQ.
 *  - A message is stored whole or not at all, inside the caller's group
 *    (store_begin .. store_commit): nothing is visible to readers, nor may
 *    be acknowledged, before the commit returns 0; a failed commit or
 *    store_rollback leaves no trace of the group.
 *  - Idempotent: a batch is identified by (host, incarnation, seq); storing
 *    it again changes nothing and answers STORE_DUPLICATE.
 *  - Samples name series by the collector's wire ids, which the store maps
 *    to its series per (host, incarnation) from the definitions it has been
 *    given, in any earlier batch of that run: a batch using an id never
 *    defined answers STORE_NEED_DEFS and stores nothing.
 *  - Bounds on what one host can cost (STORE_MAX_SERIES_PER_HOST,
 *    --max-hosts) answer STORE_OVER_LIMIT and store nothing.
 *  - Readers may run on other connections and threads, each connection
 *    used by one thread at a time; their callbacks' pointers are valid
 *    during the call only. */
#ifndef DROPSCOPE_STORE_H
#define DROPSCOPE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layer.h"
#include "sample.h"

typedef struct store store_t;

/* Opens (creating if needed) the database at path. A writer applies the
 * pending migrations (PRAGMA user_version) and switches to WAL; a reader
 * needs an existing, migrated database. path may also be a ClickHouse URL,
 * http://HOST:PORT/?database=NAME (chstore.h). NULL with the reason in
 * err. */
store_t *store_open(const char *path, bool writer, char *err, size_t errsz);

/* The credentials (NULL: ClickHouse's default user) and cluster (NULL or
 * "": one server) of every later store_open of a ClickHouse URL: the
 * config file's, never the command line's. Copied. */
void store_set_auth(const char *user, const char *password, const char *cluster);
void store_close(store_t **self_p);

/* A migration as store_migrate reports it: before it starts (elapsed_ns 0)
 * and every STORE_PROGRESS_NS while it runs. */
typedef struct {
    const char *name;          /* e.g. "015_degraded.sql" */
    int index, count;          /* the index-th (from 1) of the count pending */
    int from_version;          /* the database's version before the first */
    int64_t elapsed_ns;        /* since this one started */
} store_migration_t;
typedef void store_progress_fn(void *ctx, const store_migration_t *m);
#define STORE_PROGRESS_NS (5 * 1000000000LL)

/* The writer of store_open, with its migrations still to apply: the
 * database file exists (readers can open it, e.g. an HTTP server that says
 * "migrating" meanwhile) and nothing but store_migrate or store_close may
 * be called until store_migrate has returned 0. */
store_t *store_open_unmigrated(const char *path, char *err, size_t errsz);
/* Applies the pending migrations, each in its own transaction, calling
 * progress (when not NULL) as store_migration_t says. 0, or -1 + err
 * (the failed migration rolled back; the earlier ones stay). */
int store_migrate(store_t *self, store_progress_fn *progress, void *ctx, char *err, size_t errsz);

/* Groups the following store_hello/batch/heartbeat calls into one transaction. A failed
 * commit rolls everything back (and returns -1 with err): nothing of the
 * group was stored and nothing may be acknowledged. */
int store_begin(store_t *self, char *err, size_t errsz);
int store_commit(store_t *self, char *err, size_t errsz);
void store_rollback(store_t *self);

/* Writes what stored messages changed in their hosts' rows (last seen, last
 * seq, clock, spool losses), in a transaction of its own, outside any
 * group. The writer keeps it in memory until then, so that a busy fleet
 * costs one hosts update per host and flush instead of one per message;
 * call it about once a second (store_close does it a last time). After a
 * crash or a rolled-back group, a host's row lags until its next message:
 * its batches, drops and bursts do not. */
int store_flush_hosts(store_t *self, char *err, size_t errsz);

typedef enum {
    STORE_OK,        /* stored (after the commit) */
    STORE_DUPLICATE, /* already stored earlier: a resend; acknowledge it */
    STORE_NEED_DEFS, /* refers to series ids never defined: nothing stored */
    STORE_INVALID,   /* breaks a rule (err says which): nothing stored */
    STORE_OVER_LIMIT,/* over a bound on one host's cost (store_last_limit): nothing stored */
    STORE_ERROR      /* the database failed (err): abandon the transaction */
} store_rc_t;

/* The bounds on what one host, or a stream of new host names, can cost
 * the store (and the writer's memory). */
#define STORE_MAX_SERIES_PER_HOST 100000 /* a host defining more is refused */
#define STORE_MAX_HOSTS_DEFAULT 100000   /* hosts in the database; a new one beyond is refused */
typedef enum { STORE_LIMIT_SERIES, STORE_LIMIT_HOSTS } store_limit_t;

/* The limit behind the last STORE_OVER_LIMIT. */
store_limit_t store_last_limit(const store_t *self);

/* Refuses messages from a host not in the database yet once it holds
 * max_hosts (default STORE_MAX_HOSTS_DEFAULT). */
void store_set_max_hosts(store_t *self, int64_t max_hosts);

/* The name of the aggregator this writer stores for (its --name, cut to
 * 127 bytes), written into the row of every host it stores a message of:
 * with several aggregators, where each host reports now. "" by default. */
void store_set_name(store_t *self, const char *name);

/* Forgets the writer's cache of every host that sent nothing since
 * now_mono_ns - idle_ns (call between transactions, after
 * store_flush_hosts); a host that comes back costs a reload. Returns the
 * number of hosts still cached. */
size_t store_evict_idle(store_t *self, int64_t now_mono_ns, int64_t idle_ns);

/* --- the fleet's monotonic counters --------------------------------------- */

#define STORE_TALLY_IFACES 8 /* (iface, direction) pairs counted per host; more share "other" */

typedef struct {
    char iface[32];      /* cut to 31 bytes */
    bool tx;             /* direction */
    uint64_t n;          /* bursts */
} store_burst_count_t;

/* What committed messages add to one host's counters, or (at start) what
 * is stored of them. Counts are added; the gauges (seen, delivery) replace. */
typedef struct {
    char host[256];
    uint64_t path[LAYER_COUNT]; /* positive non-overlapping deltas of drop and precursor layers */
    store_burst_count_t bursts[STORE_TALLY_IFACES];
    size_t nbursts;
    bool seen;                  /* last_seen_ns is set */
    int64_t last_seen_ns;       /* the latest message received, aggregator's clock */
    bool delivery;              /* the fields below are set (from a batch or the hosts row) */
    bool clock_valid;
    int64_t clock_offset_ns;    /* aggregator minus host */
    uint64_t spool_lost;        /* messages lost to the spool's bound or refused by us (cumulative) */
} store_tally_t;

/* Adds t's counts to *to, and takes its gauges when they are newer (seen)
 * or set (delivery). */
void store_tally_add(store_tally_t *to, const store_tally_t *t);

/* Calls fn for every host the last committed transaction stored messages
 * of, with what they added, then forgets them (the writer, right after
 * store_commit returned 0; a rollback forgets them unseen). The pointer
 * is valid during the call. */
void store_tally_each(store_t *self, void (*fn)(void *ctx, const store_tally_t *t), void *ctx);

/* What is stored of every host's counters, for the counters to start
 * from: drops and squeezes (the non-overlapping drop rows plus what
 * retention expired of them, drops_expired), bursts likewise, and the
 * hosts rows' last_seen, clock and spool losses; fn once per host and
 * kind. Call before any upkeep runs. 0, -1 + err. */
int store_tally_restore(store_t *self, void (*fn)(void *ctx, const store_tally_t *t), void *ctx,
                        char *err, size_t errsz);

/* --- what the writer stores -------------------------------------------- */

#define STORE_MAX_WIRE_ID (1u << 20) /* a collector's series ids are 1 .. this - 1 */

/* Who sent a message, and when it arrived. */
typedef struct {
    const char *host, *boot_id;
    uint64_t incarnation; /* the collector's run: wire ids are its own */
    uint64_t seq;         /* the message's number within the run */
    int64_t received_ns;  /* on the aggregator's clock */
} store_origin_t;

/* A host's clock against the aggregator's, as its collector measured it. */
typedef struct {
    bool offset_valid;
    int64_t offset_ns, rtt_ns;
    bool synced; /* NTP-disciplined, within maxerror_ns (esterror_ns estimated) */
    int64_t maxerror_ns, esterror_ns;
} store_clock_t;

typedef struct {
    const char *collector_version, *kernel, *backend;
    uint32_t ncpus;
    int64_t interval_ns;
    const char *backend_note; /* why the backend asked for is not in use; "" */
    size_t ndegraded;         /* features running degraded for want of a capability */
    const char *const *degraded; /* each text without control characters */
} store_hello_t;

/* A series of the host, under the run's wire id. */
typedef struct {
    uint32_t id; /* 1 .. STORE_MAX_WIRE_ID - 1 */
    const char *source, *device, *name;
    kind_t kind;
    layer_t layer;
    bool overlap;      /* drops also counted by a more specific series */
    const char *owner; /* sock series: the process holding it, "pid/comm"; "" unknown */
} store_def_t;

typedef struct {
    const char *iface;
    bool tx;
    int64_t start_ns, end_ns; /* on the host's clock */
    double peak_per_ms;
    uint64_t packets, bytes, threshold_per_ms;
    uint64_t drops[LAYER_COUNT]; /* by layer */
    int64_t profile_start_ns, tick_ns;
    size_t nprofile;
    const uint32_t *profile; /* packets per tick */
    bool profile_complete;
    int64_t corrected_start_ns; /* start_ns on the aggregator's clock */
    int64_t uncertainty_ns;     /* of that correction */
} store_burst_t;

/* A probe's sequence gap (collector --probe), on the host's clock. */
typedef struct {
    const char *group; /* dotted quad: a name */
    uint32_t port;
    int64_t start_ns, end_ns;
    uint64_t missing, first_seq, last_seq;
} store_gap_t;

typedef struct {
    int64_t ts_ns, prev_ts_ns; /* when its values were read, and the previous read (0) */
    size_t ndefs;
    const store_def_t *defs;   /* ascending ids */
    size_t nsamples;           /* the length of each of the four columns */
    const uint32_t *series;    /* wire ids */
    const uint64_t *values;
    const int64_t *deltas;
    const uint32_t *flags;     /* SAMPLE_FIRST, SAMPLE_RESET */
    size_t nbursts;
    const store_burst_t *bursts;
    uint64_t spool_dropped_messages, spool_dropped_samples;   /* lost to the spool's bound */
    uint64_t spool_rejected_messages, spool_rejected_samples; /* refused by the aggregator */
    store_clock_t clock;
    size_t ngaps;
    const store_gap_t *gaps;   /* stored in the batch's savepoint; a gap stored already (same
                                  start, group, port, first) is not stored twice */
} store_batch_t;

/* Store one message of origin inside the current transaction: a hello, a
 * batch (*samples receives the samples stored) or a heartbeat (the host
 * was seen). On anything but STORE_OK the message leaves no trace. */
store_rc_t store_hello(store_t *self, const store_origin_t *origin, const store_hello_t *hello,
                       char *err, size_t errsz);
store_rc_t store_batch(store_t *self, const store_origin_t *origin, const store_batch_t *batch,
                       size_t *samples, char *err, size_t errsz);
store_rc_t store_heartbeat(store_t *self, const store_origin_t *origin, char *err, size_t errsz);

/* --- queries (any connection) ------------------------------------------- */

typedef struct {
    const char *name, *boot_id, *backend, *kernel, *collector_version;
    int64_t first_seen_ns, last_seen_ns, interval_ns;
    uint64_t incarnation, last_seq;
    int64_t ncpus, nseries;
    int64_t spool_dropped_messages, spool_dropped_samples; /* lost to the spool's bound */
    int64_t clock_ts_ns;  /* when the clock below was reported; 0 = never */
    store_clock_t clock;
    const char *backend_note; /* why the backend asked for is not in use; "" */
    int64_t spool_rejected_messages, spool_rejected_samples; /* refused with ACK_REJECTED */
    const char *degraded; /* the last hello's degraded features, one a line; "" none */
    const char *aggregator; /* the --name of the aggregator that stored its latest message */
} host_row_t;

/* Calls fn for every host, by name; fn returns 0 to go on. 0, -1 + err. */
int store_hosts(store_t *self, int (*fn)(void *ctx, const host_row_t *row), void *ctx, char *err,
                size_t errsz);

/* True when a host of that name has reported. */
bool store_host_known(store_t *self, const char *name);
/* The --interval host's last hello gave, in ns; 0 when unknown. */
int64_t store_host_interval(store_t *self, const char *name);

typedef struct {
    const char *host; /* NULL = every host */
    layer_t layer;    /* LAYER_UNKNOWN = every drop layer */
    int64_t from_ns;  /* rows with from_ns < ts_ns <= to_ns */
    int64_t to_ns;
    int64_t step_ns;  /* > 0: one row per host, series and step-aligned bucket */
    int64_t limit;    /* rows at most */
} drops_query_t;

typedef struct {
    const char *host;
    const char *series; /* "source/device/name" */
    const char *layer;
    int64_t ts_ns;      /* when the delta was read; with a step, the bucket start */
    int64_t delta;
    bool reset;         /* the counter restarted within this delta */
    bool overlap;       /* also counted by a more specific series */
    const char *owner;  /* sock series: the process holding it, "pid/comm"; "" unknown */
} drop_row_t;

/* The hosts that dropped most in (from_ns, to_ns], most first, leaving out
 * overlapping series: fn(ctx, host, layer, drops) for each host and layer
 * with drops, grouped by host in that order. Hosts rank by their drop
 * layers' sum; precursor layers (layer_is_precursor: squeezes) come as
 * rows too but only break ties. 0, -1 + err. */
int store_top_droppers(store_t *self, int64_t from_ns, int64_t to_ns, int64_t limit,
                       int (*fn)(void *ctx, const char *host, const char *layer, int64_t drops),
                       void *ctx, char *err, size_t errsz);

/* Calls fn for each drop delta matching q, in time order. 0, -1 + err. */
int store_drops(store_t *self, const drops_query_t *q, int (*fn)(void *ctx, const drop_row_t *row),
                void *ctx, char *err, size_t errsz);

typedef struct {
    const char *host; /* NULL = every host */
    const char *iface; /* NULL = every interface */
    int64_t from_ns;  /* bursts starting in (from_ns, to_ns] */
    int64_t to_ns;
    int64_t limit;
    bool rx_only;     /* received bursts only */
} bursts_query_t;

typedef struct {
    const char *host, *iface, *direction;
    int64_t start_ns, end_ns;
    double peak_per_ms;
    int64_t packets, bytes, threshold_per_ms;
    int64_t drops[LAYER_COUNT]; /* by layer */
    int64_t profile_start_ns, tick_ns;
    size_t nprofile;
    const uint32_t *profile;    /* valid during the callback */
    bool profile_complete;
    int64_t corrected_start_ns; /* on the aggregator's clock */
    int64_t uncertainty_ns;     /* of that correction */
    int64_t host_id;            /* a number per host */
} burst_row_t;

typedef struct {
    const char *host, *iface;
    int64_t host_id;
    int64_t corrected_start_ns, end_ns, uncertainty_ns; /* end on the corrected clock too */
    int64_t packets, drops_total;
} burst_start_t;

/* The few fields of every received burst starting (on the corrected
 * clock) in (from_ns, to_ns] that correlation needs, newest first, at most
 * limit rows (0: all): no profiles, so it stays fast over a fleet's hour.
 * 0, -1 + err. */
int store_burst_starts(store_t *self, int64_t from_ns, int64_t to_ns, int64_t limit,
                       int (*fn)(void *ctx, const burst_start_t *row), void *ctx, char *err,
                       size_t errsz);

/* Calls fn for each burst matching q, by start time. 0, -1 + err. */
int store_bursts(store_t *self, const bursts_query_t *q,
                 int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err, size_t errsz);

typedef struct {
    const char *host;   /* NULL = every host */
    int64_t from_ns;    /* gaps starting in (from_ns, to_ns] */
    int64_t to_ns;
    int64_t limit;      /* rows at most; 0 = all */
} gaps_query_t;

typedef struct {
    const char *host, *group;
    int64_t port;
    int64_t start_ns, end_ns;
    uint64_t missing, first_seq, last_seq;
} gap_row_t;

/* Calls fn for each probe gap matching q, by start time (then host);
 * store_gaps_newest newest first, so a limit keeps the newest. 0, -1 + err. */
int store_gaps(store_t *self, const gaps_query_t *q, int (*fn)(void *ctx, const gap_row_t *row),
               void *ctx, char *err, size_t errsz);
int store_gaps_newest(store_t *self, const gaps_query_t *q,
                      int (*fn)(void *ctx, const gap_row_t *row), void *ctx, char *err,
                      size_t errsz);

typedef struct {
    const char *host;   /* required */
    const char *source, *device, *name;
    int64_t from_ns;    /* samples read in (from_ns, to_ns] */
    int64_t to_ns;
    int64_t limit;
    int64_t step_s;     /* 0: raw samples; 60 or 3600: the rollups of that step, whose rows
                           start in [from_ns, to_ns) and hold the bucket's delta sum and last
                           value */
} series_query_t;

typedef struct {
    int64_t ts_ns;
    uint64_t value;
    int64_t delta;
    uint32_t flags; /* SAMPLE_FIRST, SAMPLE_RESET */
} series_row_t;

typedef struct {
    const char *source, *device, *name, *kind, *layer;
    bool overlap;
    const char *owner; /* as in drop_row_t */
} series_info_t;

/* Calls fn for every series of host, by source, device and name. 0, -1 + err. */
int store_series_list(store_t *self, const char *host,
                      int (*fn)(void *ctx, const series_info_t *row), void *ctx, char *err,
                      size_t errsz);

/* True when host has a series source/device/name. */
bool store_series_known(store_t *self, const char *host, const char *source, const char *device,
                        const char *name);

/* Calls fn for every stored sample of one series (values are sent when
 * they change, plus periodic full snapshots), in time order. 0, -1 + err. */
int store_series(store_t *self, const series_query_t *q,
                 int (*fn)(void *ctx, const series_row_t *row), void *ctx, char *err,
                 size_t errsz);

typedef struct {
    const char *source, *device, *name;
    const char *layer;
    bool overlap;
    int64_t drops;            /* sum of the deltas in the range */
    int64_t first_ns, last_ns; /* first and last delta in the range */
    int64_t deltas;           /* how many */
    const char *owner;        /* as in drop_row_t */
} drop_sum_t;

/* Calls fn for every drop counter of host with deltas in (from_ns, to_ns],
 * summed. 0, -1 + err. */
int store_drop_sums(store_t *self, const char *host, int64_t from_ns, int64_t to_ns,
                    int (*fn)(void *ctx, const drop_sum_t *row), void *ctx, char *err,
                    size_t errsz);

typedef struct {
    const char *source, *device, *name;
    int64_t ts_ns;   /* the value holds from here on */
    int64_t value;
} setting_row_t;

/* Calls fn for every recorded setting value of host up to to_ns, by series
 * then time (each row is a first report or a change). 0, -1 + err. */
int store_settings(store_t *self, const char *host, int64_t to_ns,
                   int (*fn)(void *ctx, const setting_row_t *row), void *ctx, char *err,
                   size_t errsz);

/* Calls fn with the time of every batch host sent in (from_ns, to_ns], in
 * order (to find gaps in its data). 0, -1 + err. */
int store_batch_times(store_t *self, const char *host, int64_t from_ns, int64_t to_ns,
                      int (*fn)(void *ctx, int64_t ts_ns), void *ctx, char *err, size_t errsz);

/* Fills totals[layer] with the drops per layer of q's range, host and layer
 * (step and limit do not apply; q NULL: every host over all time), leaving
 * out overlapping series. 0, -1 + err. */
int store_drop_totals(store_t *self, const drops_query_t *q, int64_t totals[LAYER_COUNT],
                      char *err, size_t errsz);

/* --- queries that stay bounded (the HTTP API) ---------------------------- */

/* A deadline for a connection's queries, owned by the caller (one per
 * connection: each is used by one thread). */
typedef struct {
    int64_t mono_ns; /* ts_mono_ns() past which a query is stopped; 0: none */
    bool passed;     /* set when a query was stopped for it (the caller clears it) */
} store_deadline_t;

/* Makes every query on self check *deadline every few thousand SQLite VM
 * steps and fail once it has passed (-1, err says "stopped at its
 * deadline", deadline->passed set), whatever it was doing. deadline is
 * borrowed: it must outlive the connection, or be unset with NULL. */
void store_set_deadline(store_t *self, store_deadline_t *deadline);

/* The cheapest question that needs the database: 0, -1 + err. */
int store_ping(store_t *self, char *err, size_t errsz);

/* store_drops and store_bursts newest first (ties reversed too), so that a
 * limit keeps the newest rows of the range. 0, -1 + err. */
int store_drops_newest(store_t *self, const drops_query_t *q,
                       int (*fn)(void *ctx, const drop_row_t *row), void *ctx, char *err,
                       size_t errsz);
int store_bursts_newest(store_t *self, const bursts_query_t *q,
                        int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err,
                        size_t errsz);

/* --- upkeep (the writer's connection, between transactions) ------------ */

typedef struct {
    int64_t raw_ns;    /* raw batches are kept this long (default 14 days) */
    int64_t rollup_ns; /* rollups, drops and bursts this long (default 396 days) */
    int64_t lag_ns;    /* a minute is rolled up this long after it ended (2 min) */
} store_retention_t;

#define STORE_RETENTION_DEFAULT                                                                    \
    ((store_retention_t){14 * 86400 * INT64_C(1000000000), 396 * 86400 * INT64_C(1000000000),      \
                         120 * INT64_C(1000000000)})

/* The size of the database file and its WAL, in bytes. */
int64_t store_file_bytes(store_t *self);

/* Where the rollups of step_s (60 or 3600) are: every bucket before the
 * returned start is rolled up; INT64_MIN when none is. Step 0: where the
 * packing of raw minutes into blocks is, likewise (SQLite only). */
int64_t store_rolled_until(store_t *self, int64_t step_s);

/* One bounded step of upkeep in its own transaction, for about budget_ns:
 * late batches merged into their rollups, the next hosts of the minute and
 * hour being rolled up, expired rows deleted. Returns the units of work
 * done (0: nothing to do now), -1 + err (the step is rolled back). */
long store_upkeep(store_t *self, const store_retention_t *r, int64_t now_ns, int64_t budget_ns,
                  char *err, size_t errsz);

/* --- live incidents when several aggregators share the store ----------- */

/* Whether several aggregators may write to this store at once (ClickHouse):
 * their live incidents are then found over the store (fleetlive.h) rather
 * than over the bursts each ingests. On SQLite the store_live_* fail. */
bool store_shared(const store_t *self);

/* As chstore_live_beat, chstore_live_reported and chstore_live_report. */
int store_live_beat(store_t *self, const char *name, int64_t now_ns, int64_t alive_ns,
                    char *leader, size_t leadersz, char *err, size_t errsz);
int store_live_reported(store_t *self, int64_t *start_ns, char *err, size_t errsz);
int store_live_report(store_t *self, const char *id, int64_t start_ns, const char *hosts,
                      const char *name, int64_t now_ns, char *err, size_t errsz);

#endif
