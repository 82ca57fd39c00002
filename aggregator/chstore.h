/* chstore: the store contract (store.h) on ClickHouse, for fleets past one
 * machine: several aggregators write to one ClickHouse (a single server, or
 * a cluster: sharded and replicated by ClickHouse itself) and any of them
 * answers any query for the whole fleet. store.c forwards every store_*
 * call to the chstore_* of the same name when the store was opened on a
 * ClickHouse URL; each behaves as store.h says of its store_* (same
 * arguments, rows, order, rounding and error meaning), except where this
 * header says otherwise.
 *
 * The tables (chstore_schema.c, created by chstore_migrate) are MergeTree
 * family, partitioned by UTC day of their time column (the day number,
 * intDiv(ns, 86400e9): retention drops whole partitions, as 18.16 has no
 * TTL), ordered for the API's queries: by host then time.
 *
 * What replaces SQLite's transactions, with several writers and no
 * transactions across tables:
 *  - A group (chstore_begin .. chstore_commit) is buffered in memory as
 *    RowBinary per table; the commit sends one INSERT per table that has
 *    rows, the `batches` rows (the identity of every message stored) last.
 *    A message is acknowledged only after all of them returned 200.
 *  - A message whose (host, incarnation, seq) is in `batches` is
 *    STORE_DUPLICATE. The writer asks only about a batch that is not the
 *    one right after the last of its run it knows stored, or whose host
 *    was away from it for a while (chstore_write.c): a query per run met,
 *    not per batch.
 *  - What can still be written twice (a commit cut part-way, then the
 *    resend; two aggregators given the same message at once) is harmless:
 *    every data row has a natural key (host, series, time; a burst's host,
 *    interface, direction and start; ...), the tables are
 *    ReplacingMergeTree on it, and every query reads each key once
 *    (GROUP BY the key, any() of the rest) rather than trusting merges.
 *  - Series definitions are rows of `series` per (host, incarnation, wire
 *    id): an aggregator that meets a run another one began loads them from
 *    there (STORE_NEED_DEFS only when nobody stored them).
 *  - Hosts are one row per host and flush (ReplacingMergeTree on name,
 *    version updated_ns): the latest wins; first_seen is the least.
 * Rollups (minute, hour) are ClickHouse's own: materialized views into
 * AggregatingMergeTree tables. A view sees every insert, so a message
 * written twice (the cut commit above) is summed twice in its minute and
 * hour, never in the raw rows the API reads below a minute's step.
 * Counters (tallies) are sums over `drops` and `bursts` plus what
 * retention expired of them (`counts_expired`). */
#ifndef DROPSCOPE_CHSTORE_H
#define DROPSCOPE_CHSTORE_H

#include "store.h"

typedef struct chstore chstore_t;

/* Whether target names a ClickHouse (http:// or https://) rather than a
 * SQLite file. */
bool chstore_is_url(const char *target);

/* Credentials come from the config file only (clickhouse-user,
 * clickhouse-password): NULL for the default user. cluster: NULL or "" for
 * one server; else the name of a cluster of the server's remote_servers,
 * whose tables are ReplicatedMergeTree (ZooKeeper paths from the
 * {shard} and {replica} macros) behind Distributed ones, inserts waiting
 * for insert_quorum = 2. */
typedef struct {
    const char *user, *password;
    const char *cluster;
} chstore_auth_t;

chstore_t *chstore_open(const char *url, const chstore_auth_t *auth, bool writer, bool migrate,
                        char *err, size_t errsz);
void chstore_close(chstore_t **self_p);

/* Creates the database and the tables that are missing (IF NOT EXISTS),
 * after checking the server's version (18.16 or newer). progress as
 * store_migrate's, one step per table. */
int chstore_migrate(chstore_t *self, store_progress_fn *progress, void *ctx, char *err,
                    size_t errsz);

int chstore_begin(chstore_t *self, char *err, size_t errsz);
int chstore_commit(chstore_t *self, char *err, size_t errsz);
void chstore_rollback(chstore_t *self);
int chstore_flush_hosts(chstore_t *self, char *err, size_t errsz);
store_limit_t chstore_last_limit(const chstore_t *self);
void chstore_set_max_hosts(chstore_t *self, int64_t max_hosts);
void chstore_set_name(chstore_t *self, const char *name);
size_t chstore_evict_idle(chstore_t *self, int64_t now_mono_ns, int64_t idle_ns);
void chstore_tally_each(chstore_t *self, void (*fn)(void *ctx, const store_tally_t *t), void *ctx);
int chstore_tally_restore(chstore_t *self, void (*fn)(void *ctx, const store_tally_t *t),
                          void *ctx, char *err, size_t errsz);

store_rc_t chstore_hello(chstore_t *self, const store_origin_t *origin, const store_hello_t *hello,
                         char *err, size_t errsz);
store_rc_t chstore_batch(chstore_t *self, const store_origin_t *origin,
                         const store_batch_t *batch, size_t *samples, char *err, size_t errsz);
store_rc_t chstore_heartbeat(chstore_t *self, const store_origin_t *origin, char *err,
                             size_t errsz);

int chstore_hosts(chstore_t *self, int (*fn)(void *ctx, const host_row_t *row), void *ctx,
                  char *err, size_t errsz);
bool chstore_host_known(chstore_t *self, const char *name);
int64_t chstore_host_interval(chstore_t *self, const char *name);
int chstore_top_droppers(chstore_t *self, int64_t from_ns, int64_t to_ns, int64_t limit,
                         int (*fn)(void *ctx, const char *host, const char *layer, int64_t drops),
                         void *ctx, char *err, size_t errsz);
int chstore_drops(chstore_t *self, const drops_query_t *q,
                  int (*fn)(void *ctx, const drop_row_t *row), void *ctx, char *err, size_t errsz);
int chstore_drops_newest(chstore_t *self, const drops_query_t *q,
                         int (*fn)(void *ctx, const drop_row_t *row), void *ctx, char *err,
                         size_t errsz);
int chstore_burst_starts(chstore_t *self, int64_t from_ns, int64_t to_ns, int64_t limit,
                         int (*fn)(void *ctx, const burst_start_t *row), void *ctx, char *err,
                         size_t errsz);
int chstore_bursts(chstore_t *self, const bursts_query_t *q,
                   int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err,
                   size_t errsz);
int chstore_bursts_newest(chstore_t *self, const bursts_query_t *q,
                          int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err,
                          size_t errsz);
int chstore_gaps(chstore_t *self, const gaps_query_t *q, int (*fn)(void *ctx, const gap_row_t *row),
                 void *ctx, char *err, size_t errsz);
int chstore_gaps_newest(chstore_t *self, const gaps_query_t *q,
                        int (*fn)(void *ctx, const gap_row_t *row), void *ctx, char *err,
                        size_t errsz);
int chstore_series_list(chstore_t *self, const char *host,
                        int (*fn)(void *ctx, const series_info_t *row), void *ctx, char *err,
                        size_t errsz);
bool chstore_series_known(chstore_t *self, const char *host, const char *source,
                          const char *device, const char *name);
int chstore_series(chstore_t *self, const series_query_t *q,
                   int (*fn)(void *ctx, const series_row_t *row), void *ctx, char *err,
                   size_t errsz);
int chstore_drop_sums(chstore_t *self, const char *host, int64_t from_ns, int64_t to_ns,
                      int (*fn)(void *ctx, const drop_sum_t *row), void *ctx, char *err,
                      size_t errsz);
int chstore_settings(chstore_t *self, const char *host, int64_t to_ns,
                     int (*fn)(void *ctx, const setting_row_t *row), void *ctx, char *err,
                     size_t errsz);
int chstore_batch_times(chstore_t *self, const char *host, int64_t from_ns, int64_t to_ns,
                        int (*fn)(void *ctx, int64_t ts_ns), void *ctx, char *err, size_t errsz);
int chstore_drop_totals(chstore_t *self, const drops_query_t *q, int64_t totals[LAYER_COUNT],
                        char *err, size_t errsz);

/* --- live incidents over a store several aggregators share (chstore_live.c) --- */

/* Records that aggregator name is alive at now_ns, and puts in leader the
 * least name of those seen alive since now_ns - alive_ns, name included
 * (the one that reports live incidents). 0, -1 + err. */
int chstore_live_beat(chstore_t *self, const char *name, int64_t now_ns, int64_t alive_ns,
                      char *leader, size_t leadersz, char *err, size_t errsz);
/* The start of the newest live incident reported, 0 for none. 0, -1 + err. */
int chstore_live_reported(chstore_t *self, int64_t *start_ns, char *err, size_t errsz);
/* Records that aggregator name reported live incident id (starting at
 * start_ns, of hosts) at now_ns. 0, -1 + err. */
int chstore_live_report(chstore_t *self, const char *id, int64_t start_ns, const char *hosts,
                        const char *name, int64_t now_ns, char *err, size_t errsz);

/* The deadline becomes each query's max_execution_time (the time left in
 * whole seconds, rounded up: 18.16 takes no fraction, so a query may
 * overrun it by under a second); a query stopped for it, or asked once it
 * has passed, fails with err saying "stopped at its deadline" and
 * deadline->passed set, as store.h says. */
void chstore_set_deadline(chstore_t *self, store_deadline_t *deadline);
int chstore_ping(chstore_t *self, char *err, size_t errsz);

/* The bytes of the database's active parts on disk (system.parts); on a
 * cluster one replica's of each shard: the data once, not its copies. */
int64_t chstore_file_bytes(chstore_t *self);
/* Rollups are materialized views, complete as batches arrive: the start of
 * the bucket now_ns is in less the lag. */
int64_t chstore_rolled_until(chstore_t *self, int64_t step_s);
/* Retention: the day partitions wholly older than each table's retention
 * are dropped (after their drop and burst counts went into
 * counts_expired), a few per call. */
long chstore_upkeep(chstore_t *self, const store_retention_t *r, int64_t now_ns,
                    int64_t budget_ns, char *err, size_t errsz);

#endif
