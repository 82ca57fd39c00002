/* Tests aggregator/metrics and the fleet's counters behind /metrics/fleet:
 * label values escaped as the exposition format says (backslash, double
 * quote, newline; nothing else), and on a real SQLite file, that what
 * commits add per host (drops by layer, squeezes apart, overlapping
 * counters left out, a rolled-back group not at all) equals what the store
 * restores at start, before and after retention deleted the oldest drops:
 * a restart never lowers a counter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intake.h"
#include "metrics.h"
#include "stats.h"
#include "store.h"
#include "testlib.h"

#define SEC INT64_C(1000000000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define T0 (INT64_C(1795359600) * SEC) /* a whole hour */
#define STEP (10 * SEC)

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(metrics_escape("a\\b\"c\nd", out, sizeof out), 10);
    assert_string_equal(out, "a\\\\b\\\"c\\nd");
    /* Tabs, other control characters and UTF-8 pass as they are (JSON's
     * escaper would have written \t and \u00e9, which the format does not define). */
    assert_int_equal(metrics_escape("t\tq\xc3\xa9", out, sizeof out), 5);
    assert_string_equal(out, "t\tq\xc3\xa9");
    /* Cut to fit, NUL-terminated; the length needed is returned. */
    assert_int_equal(metrics_escape("\"\"\"\"", out, 5), 8);
    assert_string_equal(out, "\\\"\\\"");
    assert_int_equal(metrics_escape("", out, sizeof out), 0);
    assert_string_equal(out, "");
}

static const series_def_t s_defs[] = {
    {1, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER, LAYER_SOCKET, false, ""},
    {2, "softnet", "cpu0", "time_squeeze", KIND_COUNTER, LAYER_BUDGET, false, ""},
    {3, "sock", "udp:0.0.0.0:9999", "drops", KIND_COUNTER, LAYER_SOCKET, true, ""},
    {4, "netdev", "eth0", "rx_packets", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
};

typedef struct {
    char dir[64], path[128];
    store_t *st;
    stats_board_t *live; /* what ingest would have counted */
    uint64_t seq, value[4];
} fixture_t;

static void s_fleet_add(void *ctx, const store_tally_t *t)
{
    assert_int_equal(stats_fleet_add(ctx, t), 0);
}

/* Host "a"'s batch at ts: 5 socket drops, 3 squeezes, 7 drops of the
 * overlapping socket counter, 100 packets; committed or rolled back. */
static void s_batch(fixture_t *f, int64_t ts, bool keep)
{
    static const uint32_t ids[] = {1, 2, 3, 4};
    int64_t deltas[4] = {5, 3, 7, 100};
    uint64_t values[4];
    for (int i = 0; i < 4; i++)
        values[i] = f->value[i] + (uint64_t)deltas[i];
    uint32_t flags[4] = {0};
    bool first = f->seq == 0;
    msg_t m = {.host = "a",
               .boot_id = "boot",
               .incarnation = 1,
               .seq = f->seq + 1,
               .sent_ns = ts,
               .type = MSG_TYPE_BATCH,
               .batch = {ts,
                         ts - STEP,
                         false,
                         first ? 4 : 0,
                         s_defs,
                         4,
                         ids,
                         values,
                         deltas,
                         flags,
                         0,
                         NULL,
                         3,
                         0,
                         {0},
                         0,
                         0,
                         0,
                         NULL}};
    char err[256];
    size_t n;
    assert_int_equal(store_begin(f->st, err, sizeof err), 0);
    assert_int_equal(intake_store(f->st, &m, ts, &n, err, sizeof err), STORE_OK);
    if (!keep) {
        store_rollback(f->st);
        store_tally_each(f->st, s_fleet_add, f->live); /* nothing: forgotten */
        return;
    }
    assert_int_equal(store_commit(f->st, err, sizeof err), 0);
    store_tally_each(f->st, s_fleet_add, f->live);
    f->seq++;
    memcpy(f->value, values, sizeof values);
}

/* Host a's counters on board (the test fails when it has none). */
static store_tally_t s_host(stats_board_t *board)
{
    store_tally_t *hosts, t;
    size_t n = stats_fleet_copy(board, &hosts);
    assert_int_equal(n, 1);
    t = hosts[0];
    free(hosts);
    assert_string_equal(t.host, "a");
    return t;
}

/* A board as a restarted aggregator starts it. */
static stats_board_t *s_restored(fixture_t *f)
{
    stats_board_t *board = stats_board_new();
    char err[256];
    /* The hosts rows, as the writer leaves them every second and at close. */
    assert_int_equal(store_flush_hosts(f->st, err, sizeof err), 0);
    assert_int_equal(store_tally_restore(f->st, s_fleet_add, board, err, sizeof err), 0);
    return board;
}

static void s_assert_same(const store_tally_t *a, const store_tally_t *b)
{
    for (int l = 0; l < LAYER_COUNT; l++)
        assert_int_equal(a->path[l], b->path[l]);
    assert_int_equal(a->spool_lost, b->spool_lost);
}

static void test_counters_survive_restart_and_retention(void **state)
{
    (void)state;
    fixture_t f = {0};
    f.st = testlib_store_new("metrics", f.dir, f.path);
    f.live = stats_board_new();
    int batches = 0;
    for (int64_t ts = T0; ts < T0 + 2 * HOUR; ts += STEP, batches++)
        s_batch(&f, ts, true);
    char err[256];
    /* A rollback forgets the hosts rows' updates not flushed yet (their
     * next message brings them again): flushed first, as once a second. */
    assert_int_equal(store_flush_hosts(f.st, err, sizeof err), 0);
    s_batch(&f, T0 + 2 * HOUR, false); /* a failed group: neither stored nor counted */
    store_tally_t live = s_host(f.live);
    assert_true(layer_is_precursor(LAYER_BUDGET) && !layer_is_drop(LAYER_BUDGET));
    assert_int_equal(live.path[LAYER_SOCKET], 5 * batches); /* the overlapping 7s left out */
    assert_int_equal(live.path[LAYER_BUDGET], 3 * batches);
    assert_int_equal(live.path[LAYER_TRAFFIC], 0);
    assert_int_equal(live.spool_lost, 3);
    assert_true(live.seen && live.last_seen_ns == T0 + 2 * HOUR - STEP);

    stats_board_t *board = s_restored(&f);
    store_tally_t restored = s_host(board);
    s_assert_same(&restored, &live);
    assert_int_equal(restored.last_seen_ns, live.last_seen_ns);
    stats_board_destroy(&board);

    /* Retention deletes the first hour of drops: the counters restored
     * afterwards are as high as before, and go on alike. */
    int64_t rows = testlib_sql_scalar(f.path, "SELECT count(*) FROM drops");
    store_retention_t r = {HOUR, HOUR, MIN};
    long n;
    int rounds = 0;
    while ((n = store_upkeep(f.st, &r, T0 + 2 * HOUR + MIN, 50 * 1000000, err, sizeof err)) > 0)
        assert_true(++rounds < 100000);
    assert_int_equal(n, 0);
    int64_t left = testlib_sql_scalar(f.path, "SELECT count(*) FROM drops");
    assert_true(left > 0 && left < rows / 2 + 4);
    board = s_restored(&f);
    restored = s_host(board);
    s_assert_same(&restored, &live);
    s_batch(&f, T0 + 2 * HOUR, true);
    store_tally_t again = s_host(f.live);
    assert_int_equal(again.path[LAYER_SOCKET], live.path[LAYER_SOCKET] + 5);
    stats_board_destroy(&board);
    board = s_restored(&f);
    restored = s_host(board);
    s_assert_same(&restored, &again);
    stats_board_destroy(&board);
    stats_board_destroy(&f.live);
    testlib_store_destroy(&f.st, f.dir);
}

static void test_fleet_exposition(void **state)
{
    (void)state;
    stats_board_t *board = stats_board_new();
    store_tally_t t = {.host = "we\"ird\\host\n", .seen = true, .last_seen_ns = 1500 * SEC};
    t.path[LAYER_BUDGET] = 9; /* only squeezes */
    t.nbursts = 1;
    snprintf(t.bursts[0].iface, sizeof t.bursts[0].iface, "eth0");
    t.bursts[0].n = 2;
    assert_int_equal(stats_fleet_add(board, &t), 0);
    api_reply_t r = metrics_fleet_get(board);
    assert_int_equal(r.status, 200);
    assert_non_null(
        strstr(r.body, "dropscope_host_squeezes_total{host=\"we\\\"ird\\\\host\\n\"} 9\n"));
    assert_non_null(strstr(
        r.body, "dropscope_host_drops_total{host=\"we\\\"ird\\\\host\\n\",layer=\"socket\"} 0\n"));
    assert_null(strstr(r.body, "layer=\"budget\""));
    assert_non_null(strstr(r.body, "dropscope_host_bursts_total{host=\"we\\\"ird\\\\host\\n\","
                                   "iface=\"eth0\",direction=\"rx\"} 2\n"));
    assert_non_null(strstr(r.body, "dropscope_host_last_seen_timestamp_seconds{host=\"we\\\"ird"
                                   "\\\\host\\n\"} 1500.000\n"));
    assert_null(strstr(r.body, "dropscope_host_clock_offset_seconds{")); /* not measured */
    free(r.body);
    stats_board_destroy(&board);
}

static void test_commit_histogram(void **state)
{
    (void)state;
    stats_t s = {0};
    stats_observe_commit(&s, 50000);    /* 50 us: the first bucket */
    stats_observe_commit(&s, 1000000);  /* 1 ms: le=0.001 exactly */
    stats_observe_commit(&s, 10 * SEC); /* +Inf */
    assert_int_equal(s.commit_le[0], 1);
    assert_int_equal(s.commit_le[3], 1);
    assert_int_equal(s.commit_le[STATS_COMMIT_BUCKETS - 1], 1);
    assert_int_equal(s.commit_ns, 50000 + 1000000 + 10 * SEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_counters_survive_restart_and_retention),
        cmocka_unit_test(test_fleet_exposition),
        cmocka_unit_test(test_commit_histogram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
