/* Tests aggregator/timeline on a real SQLite store filled through intake
 * (the ingest path): three hosts' drops, bursts, a setting change, a gap in
 * one host's batches and the incident two hosts' bursts make, merged in
 * time order with exact values; the host filter (incidents of other hosts
 * left out), the limit keeping the newest events, the profile tick budget
 * spent host by host, the (from, to] range; and the JSON form rows.c gives
 * a timeline, byte for byte as the API has always answered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testlib.h"

#include "intake.h"
#include "rows.h"
#include "store.h"
#include "timeline.h"
#include "ts.h"

#define S TS_NS_PER_S
#define MS TS_NS_PER_MS
#define T0 (INT64_C(1795305600) * S)

typedef struct {
    char dir[64], path[128];
    store_t *st;
} fixture_t;

static const series_def_t s_defs[] = {
    {1, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER, LAYER_SOCKET, false, ""},
    {2, "sock", "udp:0.0.0.0:9999", "drops", KIND_COUNTER, LAYER_SOCKET, true, "77/app"},
    {3, "sysctl", "", "net.core.rmem_max", KIND_SETTING, LAYER_CONFIG, false, ""},
};

/* What a host reports at second s: the three series' values. */
typedef void(values_fn)(int s, uint64_t v[3]);

static void s_h1(int s, uint64_t v[3])
{
    v[0] = s < 3 ? 0 : s < 6 ? 5 : 7; /* +5 at 3 s, +2 at 6 s */
    v[1] = s < 3 ? 0 : 5;             /* the overlapping socket counter, +5 at 3 s */
    v[2] = s < 5 ? 212992 : 4194304;  /* raised at 5 s */
}

static void s_quiet(int s, uint64_t v[3])
{
    (void)s;
    v[0] = v[1] = 0;
    v[2] = 212992;
}

/* Stores host's batch of second s (deltas from the second before, the
 * first a baseline) with its bursts, the clock exact. */
static void s_batch(store_t *st, const char *host, int s, int prev, values_fn *fn,
                    const burst_msg_t *bursts, size_t nbursts)
{
    static const uint32_t ids[] = {1, 2, 3};
    uint64_t v[3], was[3];
    int64_t d[3];
    uint32_t flags[3];
    fn(s, v);
    fn(prev, was);
    for (int i = 0; i < 3; i++) {
        d[i] = prev < 0 || i == 2 ? 0 : (int64_t)(v[i] - was[i]);
        flags[i] = prev < 0 ? SAMPLE_FIRST : 0;
    }
    msg_t m = {.host = host,
               .boot_id = "boot",
               .incarnation = 1,
               .seq = (uint64_t)s + 1,
               .sent_ns = T0 + s * S,
               .type = MSG_TYPE_BATCH,
               .batch = {.ts_ns = T0 + s * S,
                         .prev_ts_ns = prev < 0 ? 0 : T0 + prev * S,
                         .ndefs = prev < 0 ? 3 : 0,
                         .defs = s_defs,
                         .nsamples = 3,
                         .series = ids,
                         .values = v,
                         .deltas = d,
                         .flags = flags,
                         .nbursts = nbursts,
                         .bursts = bursts,
                         .clock = {.offset_valid = true}}};
    char err[256];
    size_t n;
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    store_rc_t rc = intake_store(st, &m, m.sent_ns, &n, err, sizeof err);
    if (rc != STORE_OK)
        fail_msg("%s second %d: %s", host, s, err);
    assert_int_equal(store_commit(st, err, sizeof err), 0);
}

static const uint32_t s_ticks[] = {1, 2, 3, 4};

static burst_msg_t s_burst(const char *iface, int64_t start, size_t nprofile)
{
    return (burst_msg_t){.iface = iface,
                         .start_ns = start,
                         .end_ns = start + 2 * MS,
                         .peak_per_ms = 900.5,
                         .packets = 1800,
                         .bytes = 180000,
                         .threshold_per_ms = 256,
                         .drops = {[LAYER_SOCKET] = 5},
                         .profile_start_ns = start - 10 * MS,
                         .tick_ns = MS,
                         .nprofile = nprofile,
                         .profile = s_ticks,
                         .profile_complete = true};
}

/* h1: batches every second 0..9 s, drops at 3 s (two series) and 6 s, its
 * rmem_max raised at 5 s, a burst at 2.5 s (4 ticks). h2: batches 0..3 s,
 * then silent until 10..12 s, a burst 100 us after h1's (3 ticks): one
 * incident. h3: batches 0..9 s, a burst alone at 8 s (2 ticks). */
static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->st = testlib_store_new("timeline", f->dir, f->path);
    burst_msg_t b1 = s_burst("eth0", T0 + 2500 * MS, 4);
    burst_msg_t b2 = s_burst("eth1", T0 + 2500 * MS + 100000, 3);
    burst_msg_t b3 = s_burst("eth0", T0 + 8 * S, 2);
    for (int s = 0; s < 10; s++) {
        s_batch(f->st, "h1", s, s - 1, s_h1, &b1, s == 3);
        s_batch(f->st, "h3", s, s - 1, s_quiet, &b3, s == 9);
    }
    static const int h2[] = {0, 1, 2, 3, 10, 11, 12};
    for (size_t i = 0; i < sizeof h2 / sizeof *h2; i++)
        s_batch(f->st, "h2", h2[i], i ? h2[i - 1] : -1, s_quiet, &b2, h2[i] == 3);
    char err[256];
    assert_int_equal(store_flush_hosts(f->st, err, sizeof err), 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    testlib_store_destroy(&f->st, f->dir);
    free(f);
    return 0;
}

/* The timeline of (from, to] on hosts (NULL: all), limit events at most. */
static timeline_t *s_build(fixture_t *f, const char *hosts, int64_t from, int64_t to, int64_t limit,
                           rows_cut_t *cut)
{
    const char *names[4] = {hosts};
    timeline_query_t q = {.hosts = hosts ? names : NULL,
                          .nhosts = hosts ? 1 : 0,
                          .from_ns = from,
                          .to_ns = to,
                          .window_ns = 2 * MS,
                          .limit = limit};
    char err[256] = "";
    timeline_t *t = timeline_build(f->st, &q, cut, err, sizeof err);
    if (!t)
        fail_msg("timeline_build: %s", err);
    return t;
}

static void s_is(const timeline_event_t *ev, timeline_type_t type, const char *host, int64_t ts)
{
    assert_int_equal(ev->type, type);
    assert_string_equal(ev->host, host);
    assert_int_equal(ev->ts_ns, ts);
}

static void test_every_host(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    timeline_t *t = s_build(f, NULL, T0, T0 + 20 * S, 1000, &cut);
    assert_int_equal(t->n, 9);
    const timeline_event_t *ev = t->events;
    /* Ties keep the order read: host by host, incidents after. */
    s_is(&ev[0], TIMELINE_BURST, "h1", T0 + 2500 * MS);
    assert_string_equal(ev[0].burst.row.iface, "eth0");
    assert_string_equal(ev[0].burst.row.direction, "rx");
    assert_int_equal(ev[0].burst.row.packets, 1800);
    assert_int_equal(ev[0].burst.row.drops[LAYER_SOCKET], 5);
    assert_int_equal(ev[0].burst.row.nprofile, 4);
    assert_memory_equal(ev[0].burst.row.profile, s_ticks, sizeof s_ticks);
    assert_false(ev[0].burst.profile_omitted);

    s_is(&ev[1], TIMELINE_INCIDENT, "", T0 + 2500 * MS);
    const incident_t *inc = ev[1].incident;
    assert_int_equal(inc->id, 1);
    assert_int_equal(inc->nhosts, 2);
    assert_string_equal(inc->hosts[0], "h1");
    assert_string_equal(inc->hosts[1], "h2");
    assert_int_equal(inc->nmembers, 2);
    assert_int_equal(inc->packets, 3600);
    assert_int_equal(inc->drops, 10);

    s_is(&ev[2], TIMELINE_BURST, "h2", T0 + 2500 * MS + 100000);
    assert_string_equal(ev[2].burst.row.iface, "eth1");
    assert_int_equal(ev[2].burst.row.nprofile, 3);

    /* The two drops of 3 s in the order read (newest first, ties reversed). */
    s_is(&ev[3], TIMELINE_DROP, "h1", T0 + 3 * S);
    s_is(&ev[4], TIMELINE_DROP, "h1", T0 + 3 * S);
    const drop_row_t *sock = &ev[3].drop, *snmp = &ev[4].drop;
    assert_true(sock->overlap);
    assert_string_equal(sock->series, "sock/udp:0.0.0.0:9999/drops");
    assert_string_equal(sock->owner, "77/app");
    assert_int_equal(sock->delta, 5);
    assert_string_equal(snmp->series, "snmp//Udp.RcvbufErrors");
    assert_string_equal(snmp->layer, "socket");
    assert_string_equal(snmp->owner, "");
    assert_int_equal(snmp->delta, 5);
    assert_false(snmp->overlap);

    s_is(&ev[5], TIMELINE_GAP, "h2", T0 + 3 * S);
    assert_int_equal(ev[5].gap.end_ns, T0 + 10 * S);

    s_is(&ev[6], TIMELINE_SETTING, "h1", T0 + 5 * S);
    assert_string_equal(ev[6].setting.series, "sysctl//net.core.rmem_max");
    assert_int_equal(ev[6].setting.from, 212992);
    assert_int_equal(ev[6].setting.to, 4194304);

    s_is(&ev[7], TIMELINE_DROP, "h1", T0 + 6 * S);
    assert_int_equal(ev[7].drop.delta, 2);
    assert_string_equal(ev[7].drop.series, "snmp//Udp.RcvbufErrors");

    s_is(&ev[8], TIMELINE_BURST, "h3", T0 + 8 * S);
    assert_int_equal(ev[8].burst.row.nprofile, 2);

    /* Nothing was cut, and the profiles spent 9 ticks of the budget. */
    assert_false(cut.limit);
    assert_false(cut.profiles);
    assert_int_equal(cut.ticks_left, ROWS_PROFILE_TICKS - 9);
    assert_int_equal(cut.bursts_from_ns, 0);
    timeline_destroy(&t);
    assert_null(t);
    timeline_destroy(&t); /* safe twice */
}

/* A host's timeline has the incidents it took part in, not the others'. */
static void test_host_filter(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    timeline_t *t = s_build(f, "h3", T0, T0 + 20 * S, 1000, &cut);
    assert_int_equal(t->n, 1);
    s_is(&t->events[0], TIMELINE_BURST, "h3", T0 + 8 * S);
    timeline_destroy(&t);
    t = s_build(f, "h2", T0, T0 + 20 * S, 1000, &cut);
    assert_int_equal(t->n, 3);
    s_is(&t->events[0], TIMELINE_INCIDENT, "", T0 + 2500 * MS);
    s_is(&t->events[1], TIMELINE_BURST, "h2", T0 + 2500 * MS + 100000);
    s_is(&t->events[2], TIMELINE_GAP, "h2", T0 + 3 * S);
    timeline_destroy(&t);
}

/* The limit keeps the newest events, and says so. */
static void test_limit(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    timeline_t *t = s_build(f, NULL, T0, T0 + 20 * S, 3, &cut);
    assert_int_equal(t->n, 3);
    s_is(&t->events[0], TIMELINE_SETTING, "h1", T0 + 5 * S);
    s_is(&t->events[1], TIMELINE_DROP, "h1", T0 + 6 * S);
    s_is(&t->events[2], TIMELINE_BURST, "h3", T0 + 8 * S);
    assert_true(cut.limit);
    timeline_destroy(&t);
    cut = ROWS_CUT_INIT; /* exactly all: whole */
    t = s_build(f, NULL, T0, T0 + 20 * S, 9, &cut);
    assert_int_equal(t->n, 9);
    assert_false(cut.limit);
    timeline_destroy(&t);
}

/* The profile budget is spent host by host as the bursts are read: a
 * profile that does not fit is left out even when a later, smaller one
 * still fits. */
static void test_profile_budget(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    cut.ticks_left = 6;
    timeline_t *t = s_build(f, NULL, T0, T0 + 20 * S, 1000, &cut);
    assert_int_equal(t->n, 9);
    const timeline_event_t *h1 = &t->events[0], *h2 = &t->events[2], *h3 = &t->events[8];
    s_is(h2, TIMELINE_BURST, "h2", T0 + 2500 * MS + 100000);
    assert_false(h1->burst.profile_omitted);
    assert_int_equal(h1->burst.row.nprofile, 4);
    assert_true(h2->burst.profile_omitted);
    assert_int_equal(h2->burst.row.nprofile, 0);
    assert_false(h3->burst.profile_omitted);
    assert_int_equal(h3->burst.row.nprofile, 2);
    assert_true(cut.profiles);
    assert_int_equal(cut.ticks_left, 0);
    char words[512];
    rows_cut_words(&cut, 1000, 1000000, words, sizeof words);
    assert_string_equal(words, "profiles (over 250000 profile ticks: older bursts have "
                               "profile_omitted true; narrow the range to see them)");
    timeline_destroy(&t);
}

/* Events in (from, to]: at from is out, at to is in; gaps come from the
 * batches inside the range only. */
static void test_range(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    timeline_t *t = s_build(f, NULL, T0 + 3 * S, T0 + 6 * S, 1000, &cut);
    assert_int_equal(t->n, 2);
    s_is(&t->events[0], TIMELINE_SETTING, "h1", T0 + 5 * S);
    s_is(&t->events[1], TIMELINE_DROP, "h1", T0 + 6 * S);
    timeline_destroy(&t);
    t = s_build(f, NULL, T0 + 13 * S, T0 + 20 * S, 1000, &cut); /* nothing happened */
    assert_int_equal(t->n, 0);
    timeline_destroy(&t);
}

/* The JSON form, as /api/timeline answered before the timeline became
 * structs (the same store through the jansson-building timeline): each
 * event's row with "type" and "ts_ns" after it, a drop's "ts_ns" in its
 * row's place, an incident's "host" "". */
static void test_json_form(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    timeline_t *t = s_build(f, "h2", T0, T0 + 20 * S, 1000, &cut);
    json_t *rows = rows_timeline(t);
    char *text = json_dumps(rows, JSON_COMPACT);
    assert_string_equal(
        text,
        "[{\"id\":1,\"start_ns\":1795305602500000000,\"end_ns\":1795305602502100000,"
        "\"hosts\":[\"h1\",\"h2\"],\"bursts\":2,\"packets\":3600,\"drops\":10,"
        "\"period_ms\":null,\"uncertain\":false,\"members\":[{\"host\":\"h1\",\"iface\":"
        "\"eth0\",\"start_ns\":1795305602500000000,\"uncertainty_ns\":0,\"packets\":1800,"
        "\"drops\":5},{\"host\":\"h2\",\"iface\":\"eth1\",\"start_ns\":1795305602500100000,"
        "\"uncertainty_ns\":0,\"packets\":1800,\"drops\":5}],\"host\":\"\",\"type\":"
        "\"incident\",\"ts_ns\":1795305602500000000},{\"host\":\"h2\",\"iface\":\"eth1\","
        "\"direction\":\"rx\",\"start_ns\":1795305602500100000,\"end_ns\":1795305602502100000,"
        "\"corrected_start_ns\":1795305602500100000,\"uncertainty_ns\":0,\"peak_per_ms\":"
        "900.5,\"packets\":1800,\"bytes\":180000,\"threshold_per_ms\":256,\"drops\":"
        "{\"socket\":5},\"drops_total\":5,\"profile\":[1,2,3],\"profile_start_ns\":"
        "1795305602490100000,\"tick_ns\":1000000,\"profile_complete\":true,\"type\":\"burst\","
        "\"ts_ns\":1795305602500100000},{\"host\":\"h2\",\"end_ns\":1795305610000000000,"
        "\"seconds\":7.0,\"type\":\"gap\",\"ts_ns\":1795305603000000000}]");
    free(text);
    json_decref(rows);
    timeline_destroy(&t);
    t = s_build(f, "h1", T0 + 4 * S, T0 + 6 * S, 1000, &cut);
    rows = rows_timeline(t);
    text = json_dumps(rows, JSON_COMPACT);
    assert_string_equal(text, "[{\"host\":\"h1\",\"series\":\"sysctl//net.core.rmem_max\",\"from\":"
                              "212992,\"to\":4194304,\"type\":\"setting\",\"ts_ns\":"
                              "1795305605000000000},{\"host\":\"h1\",\"series\":"
                              "\"snmp//Udp.RcvbufErrors\",\"layer\":\"socket\",\"ts_ns\":"
                              "1795305606000000000,\"delta\":2,\"reset\":false,\"overlap\":false,"
                              "\"type\":\"drop\"}]");
    free(text);
    json_decref(rows);
    timeline_destroy(&t);
    t = s_build(f, "h1", T0 + 2900 * MS, T0 + 3 * S, 1000, &cut); /* an owner, an overlap */
    rows = rows_timeline(t);
    text = json_dumps(rows, JSON_COMPACT);
    assert_string_equal(text, "[{\"host\":\"h1\",\"series\":\"sock/udp:0.0.0.0:9999/drops\","
                              "\"layer\":\"socket\",\"ts_ns\":1795305603000000000,\"delta\":5,"
                              "\"reset\":false,\"overlap\":true,\"owner\":\"77/app\",\"type\":"
                              "\"drop\"},{\"host\":\"h1\",\"series\":\"snmp//Udp.RcvbufErrors\","
                              "\"layer\":\"socket\",\"ts_ns\":1795305603000000000,\"delta\":5,"
                              "\"reset\":false,\"overlap\":false,\"type\":\"drop\"}]");
    free(text);
    json_decref(rows);
    timeline_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_host), cmocka_unit_test(test_host_filter),
        cmocka_unit_test(test_limit),      cmocka_unit_test(test_profile_budget),
        cmocka_unit_test(test_range),      cmocka_unit_test(test_json_form),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
