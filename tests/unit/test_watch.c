/* Tests collector/watch: which counters the single-host view prints (the
 * receive path's, moved or not 0), in what order (path, most first, name),
 * and the table and JSON lines as printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "watch.h"

#define T0 INT64_C(1796317200000000000) /* 2026-12-03T17:00:00Z */

typedef struct {
    const char *source, *device, *name;
    uint64_t before, after;
} obs_t;

static const obs_t s_obs[] = {
    {"snmp", "", "Udp.RcvbufErrors", 10, 15},  /* socket +5 */
    {"snmp", "", "Udp.InErrors", 4, 4},        /* proto, overlaps: not moved */
    {"softnet", "cpu0", "dropped", 1, 4},      /* backlog +3 */
    {"softnet", "cpu1", "dropped", 0, 3},      /* backlog +3: after cpu0 by name */
    {"softnet", "cpu0", "time_squeeze", 2, 12}, /* budget +10: a precursor */
    {"netdev", "eth0", "rx_packets", 100, 200}, /* traffic: never */
    {"sysctl", "", "net.core.rmem_max", 212992, 425984}, /* a setting: never */
};

static series_t *s_two_snapshots(void)
{
    series_t *s = series_new(100);
    for (int round = 0; round < 2; round++) {
        series_begin(s, "boot");
        for (size_t i = 0; i < sizeof s_obs / sizeof *s_obs; i++) {
            const obs_t *o = &s_obs[i];
            reading_t r = {o->source, o->device, o->name, round ? o->after : o->before, 0};
            assert_int_equal(series_observe(s, &r), 0);
        }
        series_end(s);
    }
    return s;
}

static void test_rows(void **state)
{
    (void)state;
    series_t *s = s_two_snapshots();
    size_t n;
    watch_row_t *rows = watch_rows(s, false, &n);
    assert_int_equal(n, 4); /* by path (layer_path): budget, backlog, socket */
    assert_string_equal(rows[0].series, "softnet/cpu0/time_squeeze");
    assert_int_equal(rows[0].n, 10);
    assert_int_equal(rows[0].layer, LAYER_BUDGET);
    assert_string_equal(rows[1].series, "softnet/cpu0/dropped");
    assert_int_equal(rows[1].n, 3);
    assert_string_equal(rows[2].series, "softnet/cpu1/dropped");
    assert_string_equal(rows[3].series, "snmp//Udp.RcvbufErrors");
    assert_int_equal(rows[3].n, 5);
    free(rows);
    /* Values: the proto counter that did not move too, sorted most first. */
    rows = watch_rows(s, true, &n);
    assert_int_equal(n, 5);
    assert_string_equal(rows[1].series, "softnet/cpu0/dropped");
    assert_int_equal(rows[1].n, 4);
    assert_string_equal(rows[2].series, "softnet/cpu1/dropped");
    assert_string_equal(rows[3].series, "snmp//Udp.InErrors");
    assert_true(rows[3].overlap);
    assert_int_equal(rows[4].layer, LAYER_SOCKET);
    assert_int_equal(rows[4].n, 15);
    free(rows);
    series_destroy(&s);
}

static char *s_printed(const watch_opts_t *o, int64_t span, const watch_row_t *rows, size_t n,
                       const sampler_burst_t *bursts, size_t nbursts)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(watch_print(f, o, "h1", T0, span, rows, n, bursts, nbursts), 0);
    fclose(f);
    return text;
}

static void test_print(void **state)
{
    (void)state;
    series_t *s = s_two_snapshots();
    size_t n;
    watch_row_t *rows = watch_rows(s, false, &n);
    watch_opts_t o = {.interval_ns = 500000000, .header = true};
    sampler_burst_t burst = {.iface = "eth0",
                             .ev = {.start_ns = T0 - 300000000, .end_ns = T0 - 297000000,
                                    .peak_per_ms = 2500, .packets = 5000}};
    char *text = s_printed(&o, 501000000, rows, n, &burst, 1);
    assert_string_equal(text,
                        "# 2026-12-03T17:00:00.000Z h1: drops in the last 0.501 s\n"
                        "LAYER              DELTA  COUNTER\n"
                        "budget                10  softnet/cpu0/time_squeeze  (squeezes: a "
                        "precursor, not drops)\n"
                        "backlog                3  softnet/cpu0/dropped\n"
                        "backlog                3  softnet/cpu1/dropped\n"
                        "socket                 5  snmp//Udp.RcvbufErrors\n"
                        "burst     eth0 rx at 2026-12-03T16:59:59.700Z: 5000 packets in 3.0 ms, "
                        "peak 2500 per ms\n");
    free(text);
    o.header = false;
    text = s_printed(&o, 501000000, NULL, 0, NULL, 0);
    assert_string_equal(text, "# 2026-12-03T17:00:00.000Z h1: drops in the last 0.501 s\n"
                              "# none moved\n");
    free(text);
    /* JSON: one line, the deltas by name "delta" */
    o.json = true;
    text = s_printed(&o, 501000000, rows, n, &burst, 1);
    assert_true(strchr(text, '\n') == text + strlen(text) - 1); /* one line */
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "host")), "h1");
    assert_string_equal(json_string_value(json_object_get(doc, "ts")), "2026-12-03T17:00:00.000Z");
    assert_int_equal(json_integer_value(json_object_get(doc, "interval_ns")), 501000000);
    json_t *c = json_object_get(doc, "counters");
    assert_int_equal(json_array_size(c), 4);
    json_t *last = json_array_get(c, 3);
    assert_string_equal(json_string_value(json_object_get(last, "layer")), "socket");
    assert_string_equal(json_string_value(json_object_get(last, "series")),
                        "snmp//Udp.RcvbufErrors");
    assert_int_equal(json_integer_value(json_object_get(last, "delta")), 5);
    assert_false(json_is_true(json_object_get(last, "overlap")));
    json_t *b = json_array_get(json_object_get(doc, "bursts"), 0);
    assert_string_equal(json_string_value(json_object_get(b, "iface")), "eth0");
    assert_string_equal(json_string_value(json_object_get(b, "direction")), "rx");
    assert_int_equal(json_integer_value(json_object_get(b, "packets")), 5000);
    assert_true(json_integer_value(json_object_get(b, "start_ns")) == T0 - 300000000);
    json_decref(doc);
    free(text);
    free(rows);
    series_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
