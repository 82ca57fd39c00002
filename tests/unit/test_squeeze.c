/* test_squeeze: a squeeze (softnet time_squeeze, the budget layer) is a
 * precursor, not a lost packet. Batches stored through intake, as the
 * ingest thread stores them: host "busy" reports only time_squeeze deltas
 * with every drop counter flat, host "lossy" 5 socket drops and a burst
 * whose collector (from before the precursor layer) attributed 9 squeezes
 * to it. Every drops total, ranking, diagnosis and burst leaves the
 * squeezes out and shows them apart; /api/drops keeps their rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api.h"
#include "intake.h"
#include "store.h"
#include "testlib.h"
#include "ts.h"

#define S TS_NS_PER_S
#define T0 (INT64_C(1795305600) * S)
#define SQUEEZES 42 /* busy's: 40 then 2 */

typedef struct {
    char dir[64], path[128];
    store_t *st;
    stats_board_t *stats;
} fixture_t;

static fixture_t s_fixture;

static const series_def_t s_defs[] = {
    {1, "softnet", "cpu0", "time_squeeze", KIND_COUNTER, LAYER_BUDGET, false, ""},
    {2, "softnet", "cpu0", "dropped", KIND_COUNTER, LAYER_BACKLOG, false, ""},
    {3, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER, LAYER_SOCKET, false, ""},
    {4, "netdev", "eth0", "rx_missed_errors", KIND_COUNTER, LAYER_NIC, false, ""},
    {5, "sysctl", "", "net.core.netdev_budget", KIND_SETTING, LAYER_CONFIG, false, ""},
};
#define NDEFS (sizeof s_defs / sizeof s_defs[0])

/* Stores one batch of host at ts with the given deltas (values follow
 * them), the definitions in the first, and bursts. */
static void s_store(const char *host, uint64_t seq, int64_t ts, const int64_t *deltas,
                    const burst_msg_t *bursts, size_t nbursts)
{
    static const uint32_t ids[NDEFS] = {1, 2, 3, 4, 5};
    static uint64_t values[NDEFS];
    uint32_t flags[NDEFS] = {0};
    for (size_t i = 0; i < NDEFS; i++) {
        values[i] = i == 4 ? 300 : values[i] + (uint64_t)deltas[i];
        flags[i] = seq == 1 ? SAMPLE_FIRST : 0;
    }
    msg_t m = {.host = host, .boot_id = "boot-1", .incarnation = 1, .seq = seq, .sent_ns = ts,
               .type = MSG_TYPE_BATCH,
               .batch = {.ts_ns = ts, .prev_ts_ns = ts - S, .ndefs = seq == 1 ? NDEFS : 0,
                         .defs = s_defs, .nsamples = NDEFS, .series = ids, .values = values,
                         .deltas = deltas, .flags = flags, .nbursts = nbursts, .bursts = bursts}};
    char err[256] = "";
    size_t samples;
    assert_int_equal(store_begin(s_fixture.st, err, sizeof err), 0);
    store_rc_t rc = intake_store(s_fixture.st, &m, ts, &samples, err, sizeof err);
    if (rc != STORE_OK)
        fail_msg("storing %s's batch %llu: %s", host, (unsigned long long)seq, err);
    assert_int_equal(store_commit(s_fixture.st, err, sizeof err), 0);
}

static int s_setup(void **state)
{
    fixture_t *f = &s_fixture;
    f->st = testlib_store_new("squeeze", f->dir, f->path);
    assert_non_null(f->stats = stats_board_new());
    static const int64_t none[NDEFS] = {0};
    static const int64_t squeeze40[NDEFS] = {40, 0, 0, 0, 0}, squeeze2[NDEFS] = {2, 0, 0, 0, 0};
    static const int64_t socket5[NDEFS] = {0, 0, 5, 0, 0};
    s_store("busy", 1, T0 + 1 * S, none, NULL, 0);
    s_store("busy", 2, T0 + 2 * S, squeeze40, NULL, 0);
    s_store("busy", 3, T0 + 3 * S, squeeze2, NULL, 0);
    s_store("busy", 4, T0 + 4 * S, none, NULL, 0);
    static const uint32_t profile[4] = {10, 300, 280, 12};
    burst_msg_t b = {.iface = "eth0", .start_ns = T0 + 2 * S - 5000000,
                     .end_ns = T0 + 2 * S - 2000000, .peak_per_ms = 300, .packets = 602,
                     .bytes = 60200, .threshold_per_ms = 100,
                     .profile_start_ns = T0 + 2 * S - 5000000,
                     .tick_ns = 1000000, .nprofile = 4, .profile = profile,
                     .profile_complete = true};
    b.drops[LAYER_SOCKET] = 5;
    b.drops[LAYER_BUDGET] = 9;
    s_store("lossy", 1, T0 + 1 * S, none, NULL, 0);
    s_store("lossy", 2, T0 + 2 * S, socket5, &b, 1);
    char err[256];
    assert_int_equal(store_flush_hosts(f->st, err, sizeof err), 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    stats_board_destroy(&s_fixture.stats);
    testlib_store_destroy(&s_fixture.st, s_fixture.dir);
    return 0;
}


/* GET path over the stored range, with one more parameter (name NULL:
 * none); the answer, which must be a 200. */
static json_t *s_get(const char *path, const char *name, const char *value)
{
    char from[32], to[32];
    snprintf(from, sizeof from, "%lld", (long long)T0);
    snprintf(to, sizeof to, "%lld", (long long)(T0 + 100 * S));
    testlib_params_t p = {{"from", "to", name, NULL}, {from, to, value}};
    api_reply_t r = api_get(s_fixture.st, s_fixture.stats, path, p.names, testlib_param, &p);
    if (r.status != 200)
        fail_msg("%s: %d %s", path, r.status, r.body);
    json_t *doc = json_loads(r.body, 0, NULL);
    assert_non_null(doc);
    free(r.body);
    return doc;
}

static json_int_t s_int(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        fail_msg("no integer \"%s\"", key);
    return json_integer_value(v);
}

/* The squeezes are stored as rows of their layer, and /api/drops lists them
 * so (a user still sees them, filtered by layer=budget too). */
static void test_rows_kept(void **state)
{
    (void)state;
    assert_int_equal(testlib_sql_scalar(s_fixture.path, "SELECT count(*) FROM drops WHERE "
                                                        "layer = 'budget'"),
                     2);
    json_t *rows = s_get("/api/drops", "layer", "budget");
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "series")),
                        "softnet/cpu0/time_squeeze");
    assert_int_equal(s_int(json_array_get(rows, 0), "delta"), 40);
    assert_int_equal(s_int(json_array_get(rows, 1), "delta"), 2);
    json_decref(rows);
}

/* /api/totals: 0 drops for busy, its squeezes apart; the fleet's drops are
 * lossy's 5 only. */
static void test_totals(void **state)
{
    (void)state;
    json_t *doc = s_get("/api/totals", "host", "busy");
    assert_int_equal(s_int(doc, "total"), 0);
    assert_int_equal(json_object_size(json_object_get(doc, "layers")), 0);
    assert_int_equal(s_int(doc, "squeezes"), SQUEEZES);
    json_decref(doc);
    doc = s_get("/api/totals", NULL, NULL);
    assert_int_equal(s_int(doc, "total"), 5);
    assert_int_equal(json_object_size(json_object_get(doc, "layers")), 1);
    assert_int_equal(s_int(json_object_get(doc, "layers"), "socket"), 5);
    assert_null(json_object_get(json_object_get(doc, "layers"), "budget"));
    assert_int_equal(s_int(doc, "squeezes"), SQUEEZES);
    json_decref(doc);
    doc = s_get("/api/totals", "layer", "budget"); /* asked for: squeezes, still no drops */
    assert_int_equal(s_int(doc, "total"), 0);
    assert_int_equal(s_int(doc, "squeezes"), SQUEEZES);
    json_decref(doc);
}

/* /api/top: the host that lost 5 packets ranks above the one that only
 * squeezed 42 times; busy shows 0 drops, no layer, 42 squeezes. */
static void test_top(void **state)
{
    (void)state;
    json_t *rows = s_get("/api/top", NULL, NULL);
    assert_int_equal(json_array_size(rows), 2);
    json_t *lossy = json_array_get(rows, 0), *busy = json_array_get(rows, 1);
    assert_string_equal(json_string_value(json_object_get(lossy, "host")), "lossy");
    assert_int_equal(s_int(lossy, "drops"), 5);
    assert_int_equal(s_int(json_object_get(lossy, "layers"), "socket"), 5);
    assert_int_equal(s_int(lossy, "squeezes"), 0);
    assert_string_equal(json_string_value(json_object_get(busy, "host")), "busy");
    assert_int_equal(s_int(busy, "drops"), 0);
    assert_int_equal(json_object_size(json_object_get(busy, "layers")), 0);
    assert_int_equal(s_int(busy, "squeezes"), SQUEEZES);
    json_decref(rows);
    rows = s_get("/api/top", "limit", "1"); /* the top one is the host that lost packets */
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "host")),
                        "lossy");
    json_decref(rows);
}

/* /api/diagnose: busy has no finding (nothing was lost), and the squeezes
 * as a precursor warning; lossy's socket finding, and no budget anywhere. */
static void test_diagnose(void **state)
{
    (void)state;
    json_t *doc = s_get("/api/diagnose", "host", "busy");
    assert_int_equal(json_array_size(json_object_get(doc, "findings")), 0);
    json_t *precursors = json_object_get(doc, "precursors");
    assert_int_equal(json_array_size(precursors), 1);
    json_t *w = json_array_get(precursors, 0);
    assert_string_equal(json_string_value(json_object_get(w, "layer")), "budget");
    assert_int_equal(s_int(w, "squeezes"), SQUEEZES);
    assert_null(json_object_get(w, "drops"));
    assert_non_null(strstr(json_string_value(json_object_get(w, "remedy")), "netdev_budget=600"));
    json_decref(doc);
    doc = s_get("/api/diagnose", "host", "lossy");
    json_t *findings = json_object_get(doc, "findings");
    assert_int_equal(json_array_size(findings), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(findings, 0), "layer")),
                        "socket");
    assert_int_equal(s_int(json_array_get(findings, 0), "drops"), 5);
    assert_int_equal(json_array_size(json_object_get(doc, "precursors")), 0);
    json_decref(doc);
}

/* A burst's drops are lost packets: the 9 squeezes an old collector
 * attributed to lossy's burst are in neither its drops nor its total. */
static void test_bursts(void **state)
{
    (void)state;
    assert_int_equal(testlib_sql_scalar(s_fixture.path, "SELECT drops_total FROM bursts"), 5);
    json_t *rows = s_get("/api/bursts", "host", "lossy");
    assert_int_equal(json_array_size(rows), 1);
    json_t *b = json_array_get(rows, 0);
    assert_int_equal(s_int(b, "drops_total"), 5);
    assert_int_equal(json_object_size(json_object_get(b, "drops")), 1);
    assert_int_equal(s_int(json_object_get(b, "drops"), "socket"), 5);
    json_decref(rows);
}

/* The timeline names busy's rows squeezes, not drops. */
static void test_timeline(void **state)
{
    (void)state;
    json_t *rows = s_get("/api/timeline", "host", "busy"), *e;
    size_t i, squeezes = 0;
    json_array_foreach(rows, i, e) {
        const char *type = json_string_value(json_object_get(e, "type"));
        assert_string_not_equal(type, "drop");
        squeezes += strcmp(type, "squeeze") == 0;
    }
    assert_int_equal(squeezes, 2);
    json_decref(rows);
}

/* /api/explain: time_squeeze is a precursor counter, not a drop one. */
static void test_explain(void **state)
{
    (void)state;
    testlib_params_t p = {{"series", NULL}, {"softnet/cpu0/time_squeeze"}};
    api_reply_t r =
        api_get(s_fixture.st, s_fixture.stats, "/api/explain", p.names, testlib_param, &p);
    assert_int_equal(r.status, 200);
    json_t *doc = json_loads(r.body, 0, NULL);
    free(r.body);
    assert_string_equal(json_string_value(json_object_get(doc, "layer")), "budget");
    assert_true(json_is_false(json_object_get(doc, "drop")));
    assert_true(json_is_true(json_object_get(doc, "precursor")));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_kept), cmocka_unit_test(test_totals),
        cmocka_unit_test(test_top),       cmocka_unit_test(test_diagnose),
        cmocka_unit_test(test_bursts),    cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_explain),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
