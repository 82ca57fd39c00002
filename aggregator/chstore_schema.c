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
 * "{db}" in each statement stands for the database's name (an identifier,
 * checked by clickhouse_new). On a cluster, chstore_migrate rewrites each engine
 * to its Replicated form and adds a Distributed table in front. */
#include "chstore_schema.h"

const chstore_table_t chstore_tables[] = {
    /* One row per host and flush of the writer that stored its message;
     * the latest updated_ns wins (argMax when read, merges eventually). */
    {"hosts",
     "CREATE TABLE IF NOT EXISTS {db}.hosts (name String, boot_id String, backend String, "
     "kernel String, collector_version String, first_seen_ns Int64, last_seen_ns Int64, "
     "interval_ns Int64, incarnation UInt64, last_seq UInt64, ncpus Int64, "
     "spool_dropped_messages Int64, spool_dropped_samples Int64, "
     "spool_rejected_messages Int64, spool_rejected_samples Int64, clock_ts_ns Int64, "
     "clock_offset_valid UInt8, clock_offset_ns Int64, clock_rtt_ns Int64, clock_synced UInt8, "
     "clock_maxerror_ns Int64, clock_esterror_ns Int64, backend_note String, degraded String, "
     "aggregator String, updated_ns UInt64) "
     "ENGINE = ReplacingMergeTree(updated_ns) ORDER BY name",
     NULL},
    /* A run's series definitions: wire id -> series, for any aggregator
     * that meets the run. */
    {"series",
     "CREATE TABLE IF NOT EXISTS {db}.series (host String, incarnation UInt64, wire_id UInt32, "
     "source String, device String, name String, kind String, layer String, overlap UInt8, "
     "owner String, defined_ns UInt64) "
     "ENGINE = ReplacingMergeTree(defined_ns) ORDER BY (host, incarnation, wire_id)",
     NULL},
    /* The identity of every message stored (hello, batch), written last in
     * a commit: a resend finds it here. */
    {"batches",
     "CREATE TABLE IF NOT EXISTS {db}.batches (host String, incarnation UInt64, seq UInt64, "
     "kind String, ts_ns Int64, prev_ts_ns Int64, received_ns Int64, aggregator String, "
     "nsamples UInt32) "
     "ENGINE = ReplacingMergeTree() PARTITION BY intDiv(ts_ns, 86400000000000)"
     " ORDER BY (host, incarnation, seq)",
     "ts_ns"},
    /* Raw samples, as sent (values when they change, plus full snapshots). */
    {"samples",
     "CREATE TABLE IF NOT EXISTS {db}.samples (host String, source String, device String, "
     "name String, ts_ns Int64, value UInt64, delta Int64, flags UInt32) "
     "ENGINE = ReplacingMergeTree() PARTITION BY intDiv(ts_ns, 86400000000000)"
     " ORDER BY (host, source, device, name, "
     "ts_ns)",
     "ts_ns"},
    /* Non-zero deltas of drop counters (and precursors), with what the
     * series was then. */
    {"drops",
     "CREATE TABLE IF NOT EXISTS {db}.drops (host String, ts_ns Int64, source String, "
     "device String, name String, layer String, prev_ts_ns Int64, delta Int64, reset UInt8, "
     "overlap UInt8, owner String) "
     "ENGINE = ReplacingMergeTree() PARTITION BY intDiv(ts_ns, 86400000000000)"
     " ORDER BY (host, ts_ns, source, device, "
     "name)",
     "ts_ns"},
    /* Settings when first reported and whenever they change. Kept as long
     * as the rollups (a setting's first report says what holds after). */
    {"settings",
     "CREATE TABLE IF NOT EXISTS {db}.settings (host String, source String, device String, "
     "name String, ts_ns Int64, value Int64) "
     "ENGINE = ReplacingMergeTree() PARTITION BY intDiv(ts_ns, 86400000000000)"
     " ORDER BY (host, source, device, name, "
     "ts_ns)",
     "ts_ns"},
    {"bursts",
     "CREATE TABLE IF NOT EXISTS {db}.bursts (host String, iface String, direction String, "
     "start_ns Int64, end_ns Int64, peak_per_ms Float64, packets Int64, bytes Int64, "
     "threshold_per_ms Int64, drops Array(Int64), drops_total Int64, profile_start_ns Int64, "
     "tick_ns Int64, profile Array(UInt32), profile_complete UInt8, corrected_start_ns Int64, "
     "uncertainty_ns Int64) "
     "ENGINE = ReplacingMergeTree() PARTITION BY intDiv(start_ns, 86400000000000)"
     " ORDER BY (host, start_ns, iface, "
     "direction)",
     "start_ns"},
    {"gaps",
     "CREATE TABLE IF NOT EXISTS {db}.gaps (host String, group_addr String, port UInt32, "
     "start_ns Int64, end_ns Int64, missing UInt64, first_seq UInt64, last_seq UInt64) "
     "ENGINE = ReplacingMergeTree() PARTITION BY intDiv(start_ns, 86400000000000)"
     " ORDER BY (host, start_ns, group_addr, port, "
     "first_seq)",
     "start_ns"},
    /* What retention dropped of the counters' rows, per day: kind "drops"
     * (key = layer) or "bursts" (key = iface, direction "rx"/"tx"), and a
     * marker per table and day counted (kind "expired", key the table). A
     * day counted twice (two aggregators at once) gives the same rows,
     * read once. */
    {"counts_expired",
     "CREATE TABLE IF NOT EXISTS {db}.counts_expired (host String, kind String, key String, "
     "direction String, day Int64, n Int64) "
     "ENGINE = ReplacingMergeTree() ORDER BY (host, kind, key, direction, day)",
     NULL},
    /* The rollups: each bucket's delta sum, last value and flags or-ed (as
     * SQLite's rollups: a bucket says a counter restarted in it), per series. */
    {"samples_1m",
     "CREATE TABLE IF NOT EXISTS {db}.samples_1m (host String, source String, device String, "
     "name String, bucket_ns Int64, delta AggregateFunction(sum, Int64), "
     "value AggregateFunction(argMax, UInt64, Int64), flags AggregateFunction(groupBitOr, "
     "UInt32)) "
     "ENGINE = AggregatingMergeTree() PARTITION BY intDiv(bucket_ns, 86400000000000)"
     " ORDER BY (host, source, device, "
     "name, bucket_ns)",
     "bucket_ns"},
    {"samples_1m_view",
     "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.samples_1m_view TO {db}.samples_1m AS "
     "SELECT host, source, device, name, intDiv(ts_ns, 60000000000) * 60000000000 AS bucket_ns, "
     "sumState(delta) AS delta, argMaxState(value, ts_ns) AS value, "
     "groupBitOrState(flags) AS flags FROM {db}.samples "
     "GROUP BY host, source, device, name, bucket_ns",
     NULL},
    {"samples_1h",
     "CREATE TABLE IF NOT EXISTS {db}.samples_1h (host String, source String, device String, "
     "name String, bucket_ns Int64, delta AggregateFunction(sum, Int64), "
     "value AggregateFunction(argMax, UInt64, Int64), flags AggregateFunction(groupBitOr, "
     "UInt32)) "
     "ENGINE = AggregatingMergeTree() PARTITION BY intDiv(bucket_ns, 86400000000000)"
     " ORDER BY (host, source, device, "
     "name, bucket_ns)",
     "bucket_ns"},
    {"samples_1h_view",
     "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.samples_1h_view TO {db}.samples_1h AS "
     "SELECT host, source, device, name, intDiv(ts_ns, 3600000000000) * 3600000000000 AS "
     "bucket_ns, sumState(delta) AS delta, argMaxState(value, ts_ns) AS value, "
     "groupBitOrState(flags) AS flags FROM {db}.samples "
     "GROUP BY host, source, device, name, bucket_ns",
     NULL},
};

const size_t chstore_ntables = sizeof chstore_tables / sizeof chstore_tables[0];
