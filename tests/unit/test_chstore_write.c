/* Tests the ClickHouse store's writer (aggregator/chstore.c, chstore_write.c,
 * chstore_hosts.c) against a real clickhouse-server started for this run
 * (tests/tools/clickhouse-test-server.sh; skipped when it is not installed),
 * each test on a database of its own, reading back with plain SQL: the rows
 * a hello and two batches store; a resend answered STORE_DUPLICATE; an
 * undefined wire id answered STORE_NEED_DEFS; a second aggregator taking
 * over a run (definitions from `series`); a rollback; the host and series
 * bounds; tallies after a commit and restored by a fresh writer; retention
 * dropping a day and counting its drops once; the hosts row written by two
 * aggregators in turn. Times are fixed (2023), never the clock's. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "chstore.h"
#include "clickhouse.h"
#include "testlib.h"
#include "ts.h"

#define T0 (INT64_C(1700000000) * 1000000000) /* 2023-11-14T22:13:20Z */
#define SEC INT64_C(1000000000)
#define DAY (86400 * SEC)

static testlib_ch_t s_ch;

static int s_group_setup(void **state)
{
    (void)state;
    return testlib_ch_start(&s_ch, "chstore");
}

static int s_group_teardown(void **state)
{
    (void)state;
    return testlib_ch_destroy(&s_ch);
}

/* --- helpers ------------------------------------------------------------------------------ */

static char *s_url(const char *db)
{
    static char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/?database=%s", s_ch.port, db);
    return url;
}

/* A writer on database db (migrated), named name. */
static chstore_t *s_writer(const char *db, const char *name)
{
    if (s_ch.absent)
        skip();
    char err[1024] = "";
    chstore_t *st = chstore_open(s_url(db), NULL, true, true, err, sizeof err);
    if (!st)
        fail_msg("chstore_open %s: %s", db, err);
    chstore_set_name(st, name);
    return st;
}

/* The TabSeparated answer to sql on db, in a buffer of the caller's. */
static char *s_read(const char *db, const char *sql)
{
    char err[1024] = "";
    clickhouse_t *ch = clickhouse_new(s_url(db), NULL, NULL, err, sizeof err);
    assert_non_null(ch);
    const uint8_t *answer;
    size_t len;
    char *full;
    assert_true(asprintf(&full, "%s FORMAT TabSeparated", sql) > 0);
    if (clickhouse_query(ch, full, &answer, &len, err, sizeof err) != 0)
        fail_msg("%s: %s", full, err);
    char *out = strndup((const char *)answer, len);
    clickhouse_destroy(&ch);
    free(full);
    return out;
}

static void s_expect(const char *db, const char *sql, const char *want)
{
    char *got = s_read(db, sql);
    if (strcmp(got, want) != 0)
        fail_msg("%s:\n got: [%s]\nwant: [%s]", sql, got, want);
    free(got);
}

static long s_count(const char *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count() FROM %s", table);
    char *got = s_read(db, sql);
    long n = atol(got);
    free(got);
    return n;
}

static void s_begin(chstore_t *st)
{
    char err[512] = "";
    if (chstore_begin(st, err, sizeof err) != 0)
        fail_msg("begin: %s", err);
}

static void s_commit(chstore_t *st)
{
    char err[1024] = "";
    if (chstore_commit(st, err, sizeof err) != 0)
        fail_msg("commit: %s", err);
}

static void s_flush(chstore_t *st)
{
    char err[1024] = "";
    if (chstore_flush_hosts(st, err, sizeof err) != 0)
        fail_msg("flush: %s", err);
}

/* --- the fixture: host h1's run 7 -------------------------------------------------------- */

static const store_def_t s_defs[] = {
    {1, "nic", "eth0", "rx_dropped", KIND_COUNTER, LAYER_NIC, false, ""},
    {2, "sock", "udp", "rcvbuf_errors", KIND_COUNTER, LAYER_SOCKET, true, "42/app"},
    {3, "sysctl", "net", "rmem_max", KIND_SETTING, LAYER_CONFIG, false, ""},
    {4, "traffic", "eth0", "rx_packets", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
};
static const uint32_t s_profile[] = {1, 2, 3};

static store_origin_t s_origin(const char *host, uint64_t seq, int64_t received_ns)
{
    return (store_origin_t){.host = host, .boot_id = "boot-1", .incarnation = 7, .seq = seq,
                            .received_ns = received_ns};
}

static store_rc_t s_hello(chstore_t *st, const char *host, const char *backend)
{
    static const char *const degraded[] = {"ebpf: no CAP_BPF", "ethtool: no CAP_NET_ADMIN"};
    store_hello_t h = {.collector_version = "1.2.3", .kernel = "6.1.0", .backend = backend,
                       .ncpus = 8, .interval_ns = SEC, .backend_note = "note",
                       .ndegraded = 2, .degraded = degraded};
    store_origin_t o = s_origin(host, 1, T0);
    char err[512] = "";
    return chstore_hello(st, &o, &h, err, sizeof err);
}

/* Batch n (1 or 2) of the fixture, seq n + 1, at T0 + n s: batch 1 holds the
 * definitions, a burst and a gap; batch 2 none of them. */
static store_rc_t s_batch(chstore_t *st, const char *host, int n, char *err, size_t errsz)
{
    static const uint32_t series[] = {1, 2, 3, 4};
    static const uint64_t values[2][4] = {{100, 10, 212992, 1000}, {100, 14, 212992, 1010}};
    static const int64_t deltas[2][4] = {{5, 3, 0, 1000}, {0, 4, 0, 10}};
    static const uint32_t flags[2][4] = {{0, 0, SAMPLE_FIRST, 0}, {SAMPLE_RESET, 0, 0, 0}};
    store_burst_t burst = {.iface = "eth0", .start_ns = T0 + 500, .end_ns = T0 + 900,
                           .peak_per_ms = 12.5, .packets = 40, .bytes = 4000,
                           .threshold_per_ms = 10, .drops = {[LAYER_NIC] = 2},
                           .profile_start_ns = T0 + 500, .tick_ns = 100, .nprofile = 3,
                           .profile = s_profile, .profile_complete = true,
                           .corrected_start_ns = T0 + 600, .uncertainty_ns = 50};
    store_gap_t gap = {.group = "239.1.1.1", .port = 5000, .start_ns = T0 + 100,
                       .end_ns = T0 + 200, .missing = 3, .first_seq = 10, .last_seq = 12};
    store_batch_t b = {.ts_ns = T0 + n * SEC, .prev_ts_ns = T0 + (n - 1) * SEC,
                       .ndefs = n == 1 ? 4 : 0, .defs = s_defs, .nsamples = 4, .series = series,
                       .values = values[n - 1], .deltas = deltas[n - 1], .flags = flags[n - 1],
                       .nbursts = n == 1, .bursts = &burst, .spool_dropped_messages = 2,
                       .spool_rejected_messages = (uint64_t)n,
                       .clock = {.offset_valid = true, .offset_ns = 1000 * n, .rtt_ns = 77,
                                 .synced = true, .maxerror_ns = 5, .esterror_ns = 4},
                       .ngaps = n == 1, .gaps = &gap};
    store_origin_t o = s_origin(host, (uint64_t)n + 1, T0 + n * SEC + 10);
    size_t samples = 99;
    store_rc_t rc = chstore_batch(st, &o, &b, &samples, err, errsz);
    assert_int_equal(samples, rc == STORE_OK ? 4 : 0);
    return rc;
}

static void s_batch_ok(chstore_t *st, const char *host, int n)
{
    char err[1024] = "";
    store_rc_t rc = s_batch(st, host, n, err, sizeof err);
    if (rc != STORE_OK)
        fail_msg("batch %d of %s: rc %d: %s", n, host, rc, err);
}

/* The tallies chstore_tally_each or chstore_tally_restore gave, summed. */
typedef struct {
    store_tally_t t;
    int calls;
} tally_sum_t;

static void s_tally(void *ctx, const store_tally_t *t)
{
    tally_sum_t *s = ctx;
    assert_string_equal(t->host, "h1");
    snprintf(s->t.host, sizeof s->t.host, "%s", t->host);
    store_tally_add(&s->t, t);
    s->calls++;
}

/* hello + batch 1 in one group, batch 2 in a second; the tallies of both. */
static void s_fixture(chstore_t *st, tally_sum_t *sum)
{
    s_begin(st);
    assert_int_equal(s_hello(st, "h1", "ebpf"), STORE_OK);
    s_batch_ok(st, "h1", 1);
    s_commit(st);
    chstore_tally_each(st, s_tally, sum);
    s_begin(st);
    s_batch_ok(st, "h1", 2);
    s_commit(st);
    chstore_tally_each(st, s_tally, sum);
}

/* --- tests ---------------------------------------------------------------------------------- */

/* The tallies of the fixture's groups: non-overlapping positive drop
 * deltas, bursts, the latest gauges. */
static void s_assert_fixture_tally(const tally_sum_t *sum)
{
    assert_int_equal(sum->calls, 2);
    assert_int_equal(sum->t.path[LAYER_NIC], 5);
    assert_int_equal(sum->t.path[LAYER_SOCKET], 0);
    assert_int_equal(sum->t.path[LAYER_TRAFFIC], 0);
    assert_int_equal(sum->t.nbursts, 1);
    assert_string_equal(sum->t.bursts[0].iface, "eth0");
    assert_false(sum->t.bursts[0].tx);
    assert_int_equal(sum->t.bursts[0].n, 1);
    assert_true(sum->t.seen && sum->t.delivery && sum->t.clock_valid);
    assert_int_equal(sum->t.last_seen_ns, T0 + 2 * SEC + 10);
    assert_int_equal(sum->t.clock_offset_ns, 2000);
    assert_int_equal(sum->t.spool_lost, 4);
}

static void test_rows(void **state)
{
    (void)state;
    const char *db = "t_rows";
    chstore_t *st = s_writer(db, "agg-a");
    tally_sum_t sum = {0};
    s_fixture(st, &sum);
    s_flush(st);
    assert_int_equal(s_count(db, "samples"), 8);
    s_expect(db, "SELECT name, ts_ns - 1700000000000000000, value, delta, flags FROM samples "
                 "WHERE source = 'nic' ORDER BY ts_ns",
             "rx_dropped\t1000000000\t100\t5\t0\nrx_dropped\t2000000000\t100\t0\t2\n");
    /* drop and precursor layers only, a zero delta when reset, overlap and owner kept */
    s_expect(db, "SELECT ts_ns - 1700000000000000000, source, name, layer, "
                 "prev_ts_ns - 1700000000000000000, delta, reset, overlap, owner FROM drops "
                 "ORDER BY ts_ns, source",
             "1000000000\tnic\trx_dropped\tnic\t0\t5\t0\t0\t\n"
             "1000000000\tsock\trcvbuf_errors\tsocket\t0\t3\t0\t1\t42/app\n"
             "2000000000\tnic\trx_dropped\tnic\t1000000000\t0\t1\t0\t\n"
             "2000000000\tsock\trcvbuf_errors\tsocket\t1000000000\t4\t0\t1\t42/app\n");
    /* the setting once: unchanged in batch 2 */
    s_expect(db, "SELECT source, device, name, ts_ns - 1700000000000000000, value FROM settings",
             "sysctl\tnet\trmem_max\t1000000000\t212992\n");
    s_expect(db, "SELECT iface, direction, start_ns - 1700000000000000000, end_ns - "
                 "1700000000000000000, peak_per_ms, packets, bytes, threshold_per_ms, drops, "
                 "drops_total, profile, profile_complete, corrected_start_ns - "
                 "1700000000000000000, uncertainty_ns, tick_ns FROM bursts",
             "eth0\trx\t500\t900\t12.5\t40\t4000\t10\t[0,2,0,0,0,0,0,0,0,0,0,0]\t2\t[1,2,3]\t1\t"
             "600\t50\t100\n");
    s_expect(db, "SELECT host, group_addr, port, start_ns - 1700000000000000000, missing, "
                 "first_seq, last_seq FROM gaps",
             "h1\t239.1.1.1\t5000\t100\t3\t10\t12\n");
    s_expect(db, "SELECT wire_id, source, device, name, kind, layer, overlap, owner FROM series "
                 "WHERE incarnation = 7 ORDER BY wire_id",
             "1\tnic\teth0\trx_dropped\tcounter\tnic\t0\t\n"
             "2\tsock\tudp\trcvbuf_errors\tcounter\tsocket\t1\t42/app\n"
             "3\tsysctl\tnet\trmem_max\tsetting\tconfig\t0\t\n"
             "4\ttraffic\teth0\trx_packets\tcounter\ttraffic\t0\t\n");
    s_expect(db, "SELECT seq, kind, ts_ns - 1700000000000000000, nsamples, aggregator FROM batches "
                 "ORDER BY seq",
             "1\thello\t0\t0\tagg-a\n2\tbatch\t1000000000\t4\tagg-a\n"
             "3\tbatch\t2000000000\t4\tagg-a\n");
    s_expect(db, "SELECT name, boot_id, backend, kernel, collector_version, first_seen_ns - "
                 "1700000000000000000, last_seen_ns - 1700000000000000000, interval_ns, "
                 "incarnation, last_seq, ncpus, spool_dropped_messages, spool_dropped_samples, "
                 "spool_rejected_messages, spool_rejected_samples, clock_ts_ns - "
                 "1700000000000000000, clock_offset_valid, clock_offset_ns, clock_rtt_ns, "
                 "clock_synced, clock_maxerror_ns, clock_esterror_ns, backend_note, degraded, "
                 "aggregator FROM hosts",
             "h1\tboot-1\tebpf\t6.1.0\t1.2.3\t0\t2000000010\t1000000000\t7\t3\t8\t2\t0\t2\t0\t"
             "2000000000\t1\t2000\t77\t1\t5\t4\tnote\t"
             "ebpf: no CAP_BPF\\nethtool: no CAP_NET_ADMIN\tagg-a\n");
    s_assert_fixture_tally(&sum);
    chstore_close(&st);
    assert_null(st);
    chstore_close(&st); /* safe twice */
}

static void test_duplicate(void **state)
{
    (void)state;
    const char *db = "t_dup";
    chstore_t *st = s_writer(db, "agg-a");
    tally_sum_t sum = {0};
    s_fixture(st, &sum);
    char err[512] = "";
    s_begin(st);
    assert_int_equal(s_batch(st, "h1", 1, err, sizeof err), STORE_DUPLICATE);
    assert_int_equal(s_batch(st, "h1", 2, err, sizeof err), STORE_DUPLICATE);
    s_commit(st);
    tally_sum_t none = {0};
    chstore_tally_each(st, s_tally, &none);
    assert_int_equal(none.calls, 0);
    assert_int_equal(s_count(db, "samples"), 8);
    assert_int_equal(s_count(db, "drops"), 4);
    assert_int_equal(s_count(db, "bursts"), 1);
    assert_int_equal(s_count(db, "batches"), 3);
    chstore_close(&st);

    /* twice in one group: the second is the duplicate */
    db = "t_dup_group";
    st = s_writer(db, "agg-a");
    s_begin(st);
    s_batch_ok(st, "h1", 1);
    assert_int_equal(s_batch(st, "h1", 1, err, sizeof err), STORE_DUPLICATE);
    s_commit(st);
    assert_int_equal(s_count(db, "samples"), 4);
    assert_int_equal(s_count(db, "batches"), 1);
    chstore_close(&st);
}

static void test_need_defs(void **state)
{
    (void)state;
    const char *db = "t_defs";
    chstore_t *st = s_writer(db, "agg-a");
    char err[512] = "";
    s_begin(st);
    assert_int_equal(s_hello(st, "h1", "ebpf"), STORE_OK);
    assert_int_equal(s_batch(st, "h1", 2, err, sizeof err), STORE_NEED_DEFS);
    assert_string_equal(err, "sample 0 refers to undefined series id 1");
    s_commit(st);
    assert_int_equal(s_count(db, "samples"), 0);
    assert_int_equal(s_count(db, "drops"), 0);
    assert_int_equal(s_count(db, "series"), 0);
    s_expect(db, "SELECT kind FROM batches", "hello\n");
    chstore_close(&st);
}

static void test_second_writer(void **state)
{
    (void)state;
    const char *db = "t_second";
    chstore_t *a = s_writer(db, "agg-a"), *b = s_writer(db, "agg-b");
    char err[512] = "";
    s_begin(a);
    assert_int_equal(s_hello(a, "h1", "ebpf"), STORE_OK);
    s_batch_ok(a, "h1", 1);
    s_commit(a);
    /* the run moves to b: batch 2 carries no definitions */
    s_begin(b);
    s_batch_ok(b, "h1", 2);
    s_commit(b);
    s_expect(db, "SELECT seq, aggregator FROM batches WHERE kind = 'batch' ORDER BY seq",
             "2\tagg-a\n3\tagg-b\n");
    s_expect(db, "SELECT count(), sum(delta) FROM samples WHERE ts_ns = 1700000002000000000",
             "4\t14\n");
    s_begin(b);
    assert_int_equal(s_batch(b, "h1", 2, err, sizeof err), STORE_DUPLICATE);
    s_commit(b);
    /* Back on a, as a collector comes back: after its failover timeout, when
     * a has long let the host go (flushed, then idle: CHW_RECHECK_NS would
     * also have passed) and looks its run up again. */
    assert_int_equal(chstore_flush_hosts(a, err, sizeof err), 0);
    chstore_evict_idle(a, ts_mono_ns() + 60 * INT64_C(1000000000), INT64_C(1000000000));
    s_begin(a);
    assert_int_equal(s_batch(a, "h1", 2, err, sizeof err), STORE_DUPLICATE);
    s_commit(a);
    assert_int_equal(s_count(db, "samples"), 8);
    chstore_close(&a);
    chstore_close(&b);
}

static void test_rollback(void **state)
{
    (void)state;
    const char *db = "t_rollback";
    chstore_t *st = s_writer(db, "agg-a");
    s_begin(st);
    assert_int_equal(s_hello(st, "h1", "ebpf"), STORE_OK);
    s_batch_ok(st, "h1", 1);
    chstore_rollback(st);
    tally_sum_t none = {0};
    chstore_tally_each(st, s_tally, &none);
    assert_int_equal(none.calls, 0);
    s_flush(st);
    static const char *const tables[] = {"hosts", "series", "batches", "samples", "drops",
                                         "settings", "bursts", "gaps"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        assert_int_equal(s_count(db, tables[i]), 0);
    /* its definitions went too */
    char err[512] = "";
    s_begin(st);
    assert_int_equal(s_batch(st, "h1", 2, err, sizeof err), STORE_NEED_DEFS);
    s_commit(st);
    chstore_close(&st);
}

static void test_limits(void **state)
{
    (void)state;
    const char *db = "t_limits";
    chstore_t *st = s_writer(db, "agg-a");
    chstore_set_max_hosts(st, 1);
    char err[512] = "";
    s_begin(st);
    s_batch_ok(st, "h1", 1);
    assert_int_equal(s_batch(st, "h2", 1, err, sizeof err), STORE_OVER_LIMIT);
    assert_int_equal(chstore_last_limit(st), STORE_LIMIT_HOSTS);
    assert_non_null(strstr(err, "host h2 is new and refused (raise --max-hosts)"));
    s_commit(st);
    s_flush(st);
    chstore_close(&st);
    /* a fresh writer counts the hosts in ClickHouse */
    st = s_writer(db, "agg-a");
    chstore_set_max_hosts(st, 1);
    s_begin(st);
    assert_int_equal(s_batch(st, "h2", 1, err, sizeof err), STORE_OVER_LIMIT);
    s_batch_ok(st, "h1", 2);
    s_commit(st);

    /* one definition past the series bound: nothing of the batch stored */
    size_t n = STORE_MAX_SERIES_PER_HOST + 1;
    store_def_t *defs = calloc(n, sizeof *defs);
    char(*names)[16] = calloc(n, sizeof *names);
    assert_non_null(defs);
    assert_non_null(names);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "c%zu", i);
        defs[i] = (store_def_t){(uint32_t)i + 1, "x", "y", names[i], KIND_GAUGE, LAYER_TRAFFIC,
                                false, ""};
    }
    store_batch_t b = {.ts_ns = T0 + 9 * SEC, .ndefs = n, .defs = defs};
    store_origin_t o = s_origin("h1", 20, T0 + 9 * SEC);
    o.incarnation = 8;
    size_t samples;
    s_begin(st);
    assert_int_equal(chstore_batch(st, &o, &b, &samples, err, sizeof err), STORE_OVER_LIMIT);
    assert_int_equal(chstore_last_limit(st), STORE_LIMIT_SERIES);
    assert_non_null(strstr(err, "the most one host may define"));
    s_commit(st);
    s_expect(db, "SELECT count() FROM series WHERE incarnation = 8", "0\n");
    s_expect(db, "SELECT count() FROM batches WHERE incarnation = 8", "0\n");
    free(defs);
    free(names);
    chstore_close(&st);
}

/* The tallies a fresh writer restores from what is stored. */
static tally_sum_t s_restored(const char *db)
{
    chstore_t *st = s_writer(db, "agg-r");
    tally_sum_t sum = {0};
    char err[1024] = "";
    if (chstore_tally_restore(st, s_tally, &sum, err, sizeof err) != 0)
        fail_msg("tally_restore: %s", err);
    chstore_close(&st);
    return sum;
}

static void test_tallies(void **state)
{
    (void)state;
    const char *db = "t_tallies";
    chstore_t *st = s_writer(db, "agg-a");
    tally_sum_t each = {0};
    s_fixture(st, &each);
    s_flush(st);
    chstore_close(&st);
    /* a drop row written twice (a commit cut part-way, then resent) counts once */
    char err[512] = "";
    clickhouse_t *ch = clickhouse_new(s_url(db), NULL, NULL, err, sizeof err);
    assert_non_null(ch);
    assert_int_equal(clickhouse_exec(ch, "INSERT INTO drops SELECT * FROM drops", err, sizeof err),
                     0);
    clickhouse_destroy(&ch);
    assert_int_equal(s_count(db, "drops"), 8);
    tally_sum_t got = s_restored(db);
    assert_int_equal(got.t.path[LAYER_NIC], each.t.path[LAYER_NIC]);
    assert_int_equal(got.t.path[LAYER_NIC], 5);
    assert_int_equal(got.t.path[LAYER_SOCKET], 0);
    assert_int_equal(got.t.nbursts, 1);
    assert_int_equal(got.t.bursts[0].n, each.t.bursts[0].n);
    assert_true(got.t.seen);
    assert_int_equal(got.t.last_seen_ns, each.t.last_seen_ns);
    assert_int_equal(got.t.clock_offset_ns, each.t.clock_offset_ns);
    assert_int_equal(got.t.spool_lost, each.t.spool_lost);
}

static void test_upkeep(void **state)
{
    (void)state;
    const char *db = "t_upkeep";
    chstore_t *st = s_writer(db, "agg-a");
    tally_sum_t each = {0};
    s_fixture(st, &each);
    s_flush(st);
    /* 30 days on: raw rows kept 14 days, the rest 10 */
    store_retention_t r = {14 * DAY, 10 * DAY, 120 * SEC};
    char err[1024] = "";
    long n = chstore_upkeep(st, &r, T0 + 9 * DAY, 1000 * SEC, err, sizeof err);
    assert_int_equal(n, 0); /* nothing old enough yet */
    n = chstore_upkeep(st, &r, T0 + 30 * DAY, 1000 * SEC, err, sizeof err);
    if (n < 0)
        fail_msg("upkeep: %s", err);
    assert_true(n >= 6); /* batches, samples, drops, settings, bursts, gaps, rollups */
    static const char *const tables[] = {"batches", "samples", "drops", "settings",
                                         "bursts", "gaps", "samples_1m", "samples_1h"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        assert_int_equal(s_count(db, tables[i]), 0);
    s_expect(db, "SELECT host, kind, key, direction, sum(n) FROM counts_expired WHERE kind != "
                 "'expired' GROUP BY host, kind, key, direction ORDER BY kind, key",
             "h1\tbursts\teth0\trx\t1\nh1\tdrops\tnic\t\t5\n");
    /* Another aggregator counted the same day at once: the same rows again,
     * read once by the restore. */
    clickhouse_t *twice = clickhouse_new(s_url(db), NULL, NULL, err, sizeof err);
    assert_non_null(twice);
    assert_int_equal(clickhouse_exec(twice, "INSERT INTO counts_expired SELECT * FROM "
                                            "counts_expired", err, sizeof err), 0);
    clickhouse_destroy(&twice);
    assert_int_equal(chstore_upkeep(st, &r, T0 + 30 * DAY, 1000 * SEC, err, sizeof err), 0);
    /* a crash after the counts, before the DROP PARTITION: the day is there again */
    clickhouse_t *ch = clickhouse_new(s_url(db), NULL, NULL, err, sizeof err);
    assert_non_null(ch);
    assert_int_equal(clickhouse_exec(ch, "INSERT INTO drops (host, ts_ns, source, device, name, "
                                         "layer, delta) VALUES ('h1', 1700000001000000000, "
                                         "'nic', 'eth0', 'rx_dropped', 'nic', 5)",
                                     err, sizeof err),
                     0);
    clickhouse_destroy(&ch);
    assert_int_equal(chstore_upkeep(st, &r, T0 + 30 * DAY, 1000 * SEC, err, sizeof err), 1);
    assert_int_equal(s_count(db, "drops"), 0);
    chstore_close(&st);
    tally_sum_t got = s_restored(db);
    assert_int_equal(got.t.path[LAYER_NIC], 5);
    assert_int_equal(got.t.bursts[0].n, 1);
}

static void test_hosts_two_writers(void **state)
{
    (void)state;
    const char *db = "t_hosts";
    chstore_t *a = s_writer(db, "agg-a"), *b = s_writer(db, "agg-b");
    s_begin(a);
    assert_int_equal(s_hello(a, "h1", "ebpf"), STORE_OK);
    s_commit(a);
    s_flush(a);
    s_begin(b);
    s_batch_ok(b, "h1", 1); /* b never saw the hello */
    s_commit(b);
    s_flush(b);
    const char *sql = "SELECT argMax(backend, updated_ns), argMax(clock_offset_ns, updated_ns), "
                      "argMax(last_seq, updated_ns), argMax(aggregator, updated_ns), "
                      "min(first_seen_ns) - 1700000000000000000 FROM hosts";
    s_expect(db, sql, "ebpf\t1000\t2\tagg-b\t0\n");
    s_begin(a);
    store_origin_t o = s_origin("h1", 5, T0 + 5 * SEC);
    char err[512] = "";
    assert_int_equal(chstore_heartbeat(a, &o, err, sizeof err), STORE_OK);
    s_commit(a);
    s_flush(a); /* a's cache knew neither b's clock nor its seq */
    s_expect(db, sql, "ebpf\t1000\t5\tagg-a\t0\n");
    s_begin(b);
    assert_int_equal(s_hello(b, "h1", "afpacket"), STORE_OK);
    s_commit(b);
    s_flush(b);
    s_expect(db, sql, "afpacket\t1000\t5\tagg-b\t0\n"); /* seq: the latest message's */
    chstore_close(&a);
    chstore_close(&b);
}

static void test_misc(void **state)
{
    (void)state;
    assert_true(chstore_is_url("http://db:8123/?database=x"));
    assert_true(chstore_is_url("HTTPS://db/?database=x"));
    assert_false(chstore_is_url("/var/lib/dropscope/db.sqlite"));
    assert_false(chstore_is_url(NULL));
    int64_t until = chstore_rolled_until(NULL, 60);
    assert_int_equal(until % (60 * SEC), 0);
    if (s_ch.absent)
        skip();
    char err[1024] = "";
    chstore_auth_t auth = {.cluster = "c-1"};
    assert_null(chstore_open(s_url("t_misc"), &auth, true, true, err, sizeof err));
    assert_non_null(strstr(err, "clickhouse-cluster 'c-1' is not a cluster name"));
    auth.cluster = "nosuch"; /* not in this server's remote_servers: the server says so */
    assert_null(chstore_open(s_url("t_misc"), &auth, true, true, err, sizeof err));
    print_message("%s\n", err);
    assert_non_null(strstr(err, "cannot create database t_misc"));
    assert_non_null(strstr(err, "nosuch"));
    chstore_t *st = s_writer("t_misc", "agg-a");
    assert_true(chstore_file_bytes(st) >= 0);
    tally_sum_t sum = {0};
    s_fixture(st, &sum);
    assert_true(chstore_file_bytes(st) > 0);
    assert_int_equal(chstore_evict_idle(st, INT64_MAX, 0), 1); /* pending: kept */
    s_flush(st);
    assert_int_equal(chstore_evict_idle(st, INT64_MAX, 0), 0);
    chstore_close(&st);
}

/* Live incidents' coordination (chstore_live.c): the least name seen alive
 * within alive_ns leads, whoever asks; one that stopped beating drops out;
 * the newest incident reported is where a leader goes on. */
static void test_live(void **state)
{
    (void)state;
    chstore_t *a = s_writer("t_live", "agg-a"), *b = s_writer("t_live", "agg-b");
    char err[1024] = "", leader[64];
    int64_t newest = -1;
    assert_int_equal(chstore_live_reported(b, &newest, err, sizeof err), 0);
    assert_int_equal(newest, 0); /* none yet */
    /* agg-b alone: it leads */
    assert_int_equal(chstore_live_beat(b, "agg-b", T0, 10 * SEC, leader, sizeof leader, err,
                                       sizeof err), 0);
    assert_string_equal(leader, "agg-b");
    /* agg-a comes: it leads, for both */
    assert_int_equal(chstore_live_beat(a, "agg-a", T0 + SEC, 10 * SEC, leader, sizeof leader,
                                       err, sizeof err), 0);
    assert_string_equal(leader, "agg-a");
    assert_int_equal(chstore_live_beat(b, "agg-b", T0 + 2 * SEC, 10 * SEC, leader,
                                       sizeof leader, err, sizeof err), 0);
    assert_string_equal(leader, "agg-a");
    /* agg-a silent for 10 s: agg-b leads again */
    assert_int_equal(chstore_live_beat(b, "agg-b", T0 + 11 * SEC, 10 * SEC, leader,
                                       sizeof leader, err, sizeof err), 0);
    assert_string_equal(leader, "agg-b");
    /* a prefix of a name is less than it: "agg" leads "agg-b" */
    assert_int_equal(chstore_live_beat(a, "agg", T0 + 12 * SEC, 10 * SEC, leader, sizeof leader,
                                       err, sizeof err), 0);
    assert_int_equal(chstore_live_beat(b, "agg-b", T0 + 12 * SEC, 10 * SEC, leader,
                                       sizeof leader, err, sizeof err), 0);
    assert_string_equal(leader, "agg");
    assert_int_equal(chstore_live_report(a, "1-aa", T0 - 5 * SEC, "h1,h2", "agg-a", T0, err,
                                         sizeof err), 0);
    assert_int_equal(chstore_live_report(b, "2-bb", T0 - 3 * SEC, "h1,h3", "agg-b", T0, err,
                                         sizeof err), 0);
    assert_int_equal(chstore_live_reported(a, &newest, err, sizeof err), 0);
    assert_true(newest == T0 - 3 * SEC);
    s_expect("t_live", "SELECT id, hosts, aggregator FROM live_incidents ORDER BY start_ns",
             "1-aa\th1,h2\tagg-a\n2-bb\th1,h3\tagg-b\n");
    chstore_close(&a);
    chstore_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_need_defs),   cmocka_unit_test(test_second_writer),
        cmocka_unit_test(test_rollback),    cmocka_unit_test(test_limits),
        cmocka_unit_test(test_tallies),     cmocka_unit_test(test_upkeep),
        cmocka_unit_test(test_hosts_two_writers), cmocka_unit_test(test_misc),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
