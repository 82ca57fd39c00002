/* chstore_schema: the ClickHouse tables of chstore.h. Every statement is
 * one both ClickHouse 18.16 and current releases accept: the MergeTree
 * syntax with PARTITION BY and ORDER BY, no TTL, no LowCardinality, no
 * codecs, version columns unsigned (18.16's ReplacingMergeTree wants them
 * so). Times are Int64 ns since the epoch, UTC; partitions are UTC day
 * numbers (intDiv(ns, 86400e9)), so that retention drops a day with
 * ALTER TABLE t DROP PARTITION <day>. Names are stored in every row
 * (host, source, device, name): sorted by them, a column of repeats
 * compresses to almost nothing, and no query needs a join.
 *
 * On a cluster (chstore_table_ddl) each table's rows are in NAME_local, the
 * Replicated form of its engine, on every server (ON CLUSTER), its replicas
 * kept in ZooKeeper under /clickhouse/tables/{shard}/DB/NAME (the servers'
 * macros), and NAME is a Distributed table over them, sharded by the host:
 * every row of a host is on one shard, so what a query reads of a host
 * comes from one place. The materialized views fill the local tables from
 * the local ones; a replica's rollups come by replication as its raw rows
 * do. */
#define _GNU_SOURCE /* asprintf */
#include "chstore_schema.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A rollup table of buckets of STEP ns, and the view that fills it. */
#define ROLLUP(NAME, STEP)                                                                         \
    {.name = NAME,                                                                                 \
     .columns = "(host String, source String, device String, name String, bucket_ns Int64, "     \
                "delta AggregateFunction(sum, Int64), value AggregateFunction(argMax, UInt64, "  \
                "Int64), flags AggregateFunction(groupBitOr, UInt32))",                          \
     .engine = "AggregatingMergeTree",                                                             \
     .keys = "PARTITION BY intDiv(bucket_ns, 86400000000000) ORDER BY (host, source, device,"     \
             " name, bucket_ns)",                                                                 \
     .shard_by = "host",                                                                           \
     .time_column = "bucket_ns"},                                                                  \
    {.name = NAME "_view",                                                                         \
     .view_to = NAME,                                                                              \
     .view_select = "SELECT host, source, device, name, intDiv(ts_ns, " STEP ") * " STEP          \
                    " AS bucket_ns, sumState(delta) AS delta, argMaxState(value, ts_ns) AS "     \
                    "value, groupBitOrState(flags) AS flags FROM {db}.samples{local} GROUP BY "  \
                    "host, source, device, name, bucket_ns"}

const chstore_table_t chstore_tables[] = {
    /* One row per host and flush of the writer that stored its message;
     * the latest updated_ns wins (argMax when read, merges eventually). */
    {.name = "hosts",
     .columns = "(name String, boot_id String, backend String, kernel String, "
                "collector_version String, first_seen_ns Int64, last_seen_ns Int64, "
                "interval_ns Int64, incarnation UInt64, last_seq UInt64, ncpus Int64, "
                "spool_dropped_messages Int64, spool_dropped_samples Int64, "
                "spool_rejected_messages Int64, spool_rejected_samples Int64, clock_ts_ns "
                "Int64, clock_offset_valid UInt8, clock_offset_ns Int64, clock_rtt_ns Int64, "
                "clock_synced UInt8, clock_maxerror_ns Int64, clock_esterror_ns Int64, "
                "backend_note String, degraded String, aggregator String, updated_ns UInt64)",
     .engine = "ReplacingMergeTree",
     .engine_args = "updated_ns",
     .keys = "ORDER BY name",
     .shard_by = "name"},
    /* A run's series definitions: wire id -> series, for any aggregator
     * that meets the run. */
    {.name = "series",
     .columns = "(host String, incarnation UInt64, wire_id UInt32, source String, device "
                "String, name String, kind String, layer String, overlap UInt8, owner String, "
                "defined_ns UInt64)",
     .engine = "ReplacingMergeTree",
     .engine_args = "defined_ns",
     .keys = "ORDER BY (host, incarnation, wire_id)",
     .shard_by = "host"},
    /* The identity of every message stored (hello, batch), written last in
     * a commit: a resend finds it here. */
    {.name = "batches",
     .columns = "(host String, incarnation UInt64, seq UInt64, kind String, ts_ns Int64, "
                "prev_ts_ns Int64, received_ns Int64, aggregator String, nsamples UInt32)",
     .engine = "ReplacingMergeTree",
     .keys = "PARTITION BY intDiv(ts_ns, 86400000000000) ORDER BY (host, incarnation, seq)",
     .shard_by = "host",
     .time_column = "ts_ns"},
    /* Raw samples, as sent (values when they change, plus full snapshots). */
    {.name = "samples",
     .columns = "(host String, source String, device String, name String, ts_ns Int64, value "
                "UInt64, delta Int64, flags UInt32)",
     .engine = "ReplacingMergeTree",
     .keys = "PARTITION BY intDiv(ts_ns, 86400000000000) ORDER BY (host, source, device, "
             "name, ts_ns)",
     .shard_by = "host",
     .time_column = "ts_ns"},
    /* Non-zero deltas of drop counters (and precursors), with what the
     * series was then. */
    {.name = "drops",
     .columns = "(host String, ts_ns Int64, source String, device String, name String, layer "
                "String, prev_ts_ns Int64, delta Int64, reset UInt8, overlap UInt8, owner "
                "String)",
     .engine = "ReplacingMergeTree",
     .keys = "PARTITION BY intDiv(ts_ns, 86400000000000) ORDER BY (host, ts_ns, source, "
             "device, name)",
     .shard_by = "host",
     .time_column = "ts_ns"},
    /* Settings when first reported and whenever they change. Kept as long
     * as the rollups (a setting's first report says what holds after). */
    {.name = "settings",
     .columns = "(host String, source String, device String, name String, ts_ns Int64, value "
                "Int64)",
     .engine = "ReplacingMergeTree",
     .keys = "PARTITION BY intDiv(ts_ns, 86400000000000) ORDER BY (host, source, device, "
             "name, ts_ns)",
     .shard_by = "host",
     .time_column = "ts_ns"},
    {.name = "bursts",
     .columns = "(host String, iface String, direction String, start_ns Int64, end_ns Int64, "
                "peak_per_ms Float64, packets Int64, bytes Int64, threshold_per_ms Int64, "
                "drops Array(Int64), drops_total Int64, profile_start_ns Int64, tick_ns Int64, "
                "profile Array(UInt32), profile_complete UInt8, corrected_start_ns Int64, "
                "uncertainty_ns Int64)",
     .engine = "ReplacingMergeTree",
     .keys = "PARTITION BY intDiv(start_ns, 86400000000000) ORDER BY (host, start_ns, iface,"
             " direction)",
     .shard_by = "host",
     .time_column = "start_ns"},
    {.name = "gaps",
     .columns = "(host String, group_addr String, port UInt32, start_ns Int64, end_ns Int64, "
                "missing UInt64, first_seq UInt64, last_seq UInt64)",
     .engine = "ReplacingMergeTree",
     .keys = "PARTITION BY intDiv(start_ns, 86400000000000) ORDER BY (host, start_ns, "
             "group_addr, port, first_seq)",
     .shard_by = "host",
     .time_column = "start_ns"},
    /* What retention dropped of the counters' rows, per day: kind "drops"
     * (key = layer) or "bursts" (key = iface, direction "rx"/"tx"), and a
     * marker per table and day counted (kind "expired", key the table). A
     * day counted twice (two aggregators at once) gives the same rows,
     * read once. */
    {.name = "counts_expired",
     .columns = "(host String, kind String, key String, direction String, day Int64, n Int64)",
     .engine = "ReplacingMergeTree",
     .keys = "ORDER BY (host, kind, key, direction, day)",
     .shard_by = "host"},
    /* Each aggregator's latest sign of life: of those alive, the least name
     * reports the live incidents (chstore_live.c). */
    {.name = "aggregators",
     .columns = "(name String, seen_ns UInt64)",
     .engine = "ReplacingMergeTree",
     .engine_args = "seen_ns",
     .keys = "ORDER BY name",
     .shard_by = "name"},
    /* The live incidents reported, one row each (id: alerts_incident_id):
     * whoever reports next goes on after the newest. */
    {.name = "live_incidents",
     .columns = "(id String, start_ns Int64, hosts String, aggregator String, reported_ns "
                "Int64)",
     .engine = "ReplacingMergeTree",
     .keys = "PARTITION BY intDiv(start_ns, 86400000000000) ORDER BY (start_ns, id)",
     .shard_by = "id",
     .time_column = "start_ns"},
    /* The rollups: each bucket's delta sum, last value and flags or-ed (as
     * SQLite's rollups: a bucket says a counter restarted in it), per series. */
    ROLLUP("samples_1m", "60000000000"),
    ROLLUP("samples_1h", "3600000000000"),
};

const size_t chstore_ntables = sizeof chstore_tables / sizeof chstore_tables[0];

char *chstore_subst(const char *text, const char *db, const char *local)
{
    static const char *const keys[2] = {"{db}", "{local}"};
    const char *values[2] = {db, local};
    size_t cap = strlen(text) + 1;
    for (int k = 0; k < 2; k++)
        for (const char *p = text; (p = strstr(p, keys[k])); p += strlen(keys[k]))
            cap += strlen(values[k]);
    char *out = malloc(cap), *o = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        int k = !strncmp(p, keys[0], 4) ? 0 : !strncmp(p, keys[1], 7) ? 1 : -1;
        if (k < 0) {
            *o++ = *p++;
            continue;
        }
        size_t n = strlen(values[k]);
        memcpy(o, values[k], n);
        o += n;
        p += strlen(keys[k]);
    }
    *o = '\0';
    return out;
}

int chstore_table_ddl(const chstore_table_t *t, const char *db, const char *cluster,
                      char *stmts[2])
{
    bool on = cluster && *cluster;
    const char *local = on ? CHSTORE_LOCAL : "";
    char on_cluster[96] = "";
    if (on)
        snprintf(on_cluster, sizeof on_cluster, " ON CLUSTER %s", cluster);
    stmts[0] = stmts[1] = NULL;
    if (t->view_to) {
        char *select = chstore_subst(t->view_select, db, local);
        int rc = select && asprintf(&stmts[0], "CREATE MATERIALIZED VIEW IF NOT EXISTS %s.%s%s TO "
                                    "%s.%s%s AS %s", db, t->name, on_cluster, db, t->view_to,
                                    local, select) >= 0 ? 1 : -1;
        free(select);
        return rc;
    }
    const char *args = t->engine_args ? t->engine_args : "";
    if (!on)
        return asprintf(&stmts[0], "CREATE TABLE IF NOT EXISTS %s.%s %s ENGINE = %s(%s) %s", db,
                        t->name, t->columns, t->engine, args, t->keys) >= 0 ? 1 : -1;
    if (asprintf(&stmts[0], "CREATE TABLE IF NOT EXISTS %s.%s%s%s %s ENGINE = Replicated%s("
                 "'/clickhouse/tables/{shard}/%s/%s', '{replica}'%s%s) %s", db, t->name, local,
                 on_cluster, t->columns, t->engine, db, t->name, *args ? ", " : "", args,
                 t->keys) < 0)
        return -1;
    if (asprintf(&stmts[1], "CREATE TABLE IF NOT EXISTS %s.%s%s AS %s.%s%s ENGINE = Distributed("
                 "%s, %s, %s%s, cityHash64(%s))", db, t->name, on_cluster, db, t->name, local,
                 cluster, db, t->name, local, t->shard_by) < 0) {
        free(stmts[0]);
        stmts[0] = NULL;
        return -1;
    }
    return 2;
}
