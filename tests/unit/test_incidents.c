/* Tests aggregator/incidents on a real SQLite store filled through intake
 * (the ingest path, which moves each burst onto the aggregator's clock):
 * incidents grouped from four hosts' received bursts with exact members,
 * distinct hosts, sums, clock uncertainty and recurrence; the limit
 * keeping the newest; min_hosts; the bound on bursts read and the range it
 * says it covered; (from, to]; a fleet's large incidents against a naive
 * reference for their hosts; and the JSON form rows.c gives them, byte for
 * byte as the API has always answered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testlib.h"

#include "incidents.h"
#include "intake.h"
#include "rows.h"
#include "store.h"
#include "ts.h"

#define S TS_NS_PER_S
#define MS TS_NS_PER_MS
#define US INT64_C(1000)
#define T0 (INT64_C(1795305600) * S)
#define FLEET 40 /* hosts of the random fleet, after T0 + 100 s */
#define FLEET_T (T0 + 200 * S)

typedef struct {
    char dir[64], path[128];
    store_t *st;
} fixture_t;

/* Each host's clock against the aggregator's: a is 1 us ahead (100 us
 * uncertain), b 0.5 us behind (50 us), c exact, d unmeasured (its kernel
 * says 5 ms). */
/* The fleet's host names: FLEET_NAME characters, the most a name may have. */
#define FLEET_NAME 255
static const char s_long[] =
    "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
    "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
    "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr";

static clock_msg_t s_clock(const char *host)
{
    switch (host[0]) {
    case 'a': return (clock_msg_t){.offset_valid = true, .offset_ns = 1000, .rtt_ns = 200 * US};
    case 'b': return (clock_msg_t){.offset_valid = true, .offset_ns = -500, .rtt_ns = 100 * US};
    case 'd': return (clock_msg_t){.maxerror_ns = 5 * MS};
    default: return (clock_msg_t){.offset_valid = true};
    }
}

static burst_msg_t s_burst(const char *iface, int64_t start, uint64_t packets, bool tx)
{
    return (burst_msg_t){.iface = iface,
                         .tx = tx,
                         .start_ns = start,
                         .end_ns = start + 2 * MS,
                         .peak_per_ms = 100,
                         .packets = packets,
                         .bytes = packets * 100,
                         .drops = {[LAYER_SOCKET] = packets / 10},
                         .tick_ns = MS};
}

/* Stores one batch of host at ts carrying bursts, seq after the host's last. */
static void s_send(store_t *st, const char *host, int64_t ts, const burst_msg_t *bursts, size_t n)
{
    static char last_host[256];
    static uint64_t seq;
    seq = strcmp(last_host, host) == 0 ? seq + 1 : 1;
    snprintf(last_host, sizeof last_host, "%s", host);
    msg_t m = {.host = host,
               .boot_id = "boot",
               .incarnation = 1,
               .seq = seq,
               .sent_ns = ts,
               .type = MSG_TYPE_BATCH,
               .batch = {.ts_ns = ts, .nbursts = n, .bursts = bursts, .clock = s_clock(host)}};
    char err[256];
    size_t samples;
    assert_int_equal(store_begin(st, err, sizeof err), 0);
    store_rc_t rc = intake_store(st, &m, ts, &samples, err, sizeof err);
    if (rc != STORE_OK)
        fail_msg("%s at %lld: %s", host, (long long)ts, err);
    assert_int_equal(store_commit(st, err, sizeof err), 0);
}

/* Bursts of a, b, c and d (host clocks; the hosts' ids in that order):
 *   1 s    a eth0, a eth1 +200 us, b +300 us, c +1.5 ms: incident 1
 *   5 s    a alone; 7 s b and c sending (tx): no incident
 *   9 s    b, d +6 ms: within 2 ms plus d's 5 ms uncertainty: incident 2
 *   20..50 s every 10 s, a and c: incidents 3 to 6, recurring
 * and after 100 s a fleet of FLEET hosts bursting at random within 1 ms,
 * three times each, then again in random subsets 10 s later. */
static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->st = testlib_store_new("incidents", f->dir, f->path);
    burst_msg_t a[] = {s_burst("eth0", T0 + S, 100, false),
                       s_burst("eth1", T0 + S + 200 * US, 200, false)};
    s_send(f->st, "a", T0 + 2 * S, a, 2);
    burst_msg_t alone = s_burst("eth0", T0 + 5 * S, 50, false);
    s_send(f->st, "a", T0 + 6 * S, &alone, 1);
    burst_msg_t recur[4];
    for (int i = 0; i < 4; i++)
        recur[i] = s_burst("eth0", T0 + (20 + 10 * i) * S, 10, false);
    s_send(f->st, "a", T0 + 60 * S, recur, 4);
    burst_msg_t b[] = {s_burst("eth0", T0 + S + 300 * US, 300, false),
                       s_burst("eth0", T0 + 7 * S, 70, true),
                       s_burst("eth0", T0 + 9 * S, 90, false)};
    s_send(f->st, "b", T0 + 10 * S, b, 3);
    burst_msg_t c[] = {s_burst("eth0", T0 + S + 1500 * US, 400, false),
                       s_burst("eth2", T0 + 7 * S, 70, true)};
    s_send(f->st, "c", T0 + 8 * S, c, 2);
    for (int i = 0; i < 4; i++)
        recur[i] = s_burst("eth0", T0 + (20 + 10 * i) * S, 20, false);
    s_send(f->st, "c", T0 + 60 * S, recur, 4);
    burst_msg_t d = s_burst("eth0", T0 + 9 * S + 6 * MS, 60, false);
    s_send(f->st, "d", T0 + 10 * S, &d, 1);
    unsigned seed = 7;
    for (int h = 0; h < FLEET; h++) {
        char name[256]; /* as long as names go (255): shown whole */
        snprintf(name, sizeof name, "%.*s%02d", FLEET_NAME - 2, s_long, h);
        burst_msg_t r[4];
        size_t n = 0;
        for (int k = 0; k < 3; k++)
            r[n++] = s_burst("eth0", FLEET_T + rand_r(&seed) % MS, 1 + rand_r(&seed) % 1000, false);
        if (rand_r(&seed) % 2)
            r[n++] = s_burst("eth1", FLEET_T + 10 * S + rand_r(&seed) % MS, 5, false);
        s_send(f->st, name, FLEET_T + 20 * S, r, n);
    }
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

static incidents_t *s_find(fixture_t *f, int64_t from, int64_t to, unsigned min_hosts,
                           int64_t limit, int64_t max_bursts, rows_cut_t *cut)
{
    incidents_query_t q = {from, to, 2 * MS, min_hosts, limit, max_bursts};
    char err[256] = "";
    incidents_t *found = incidents_find(f->st, &q, cut, err, sizeof err);
    if (!found)
        fail_msg("incidents_find: %s", err);
    return found;
}

static void s_member(const incident_member_t *m, const char *host, const char *iface, int64_t start,
                     int64_t uncertainty, int64_t packets)
{
    assert_string_equal(m->host, host);
    assert_string_equal(m->iface, iface);
    assert_int_equal(m->start_ns, start);
    assert_int_equal(m->uncertainty_ns, uncertainty);
    assert_int_equal(m->packets, packets);
    assert_int_equal(m->drops, packets / 10);
}

static void test_grouped(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    incidents_t *found = s_find(f, T0, T0 + 100 * S, 2, 100, 0, &cut);
    assert_int_equal(found->n, 6);
    const incident_t *i1 = &found->incidents[0];
    assert_int_equal(i1->id, 1);
    assert_int_equal(i1->start_ns, T0 + S + 1000);             /* a's, on the aggregator's clock */
    assert_int_equal(i1->end_ns, T0 + S + 1500 * US + 2 * MS); /* c's end */
    assert_int_equal(i1->nmembers, 4);
    s_member(&i1->members[0], "a", "eth0", T0 + S + 1000, 100 * US, 100);
    s_member(&i1->members[1], "a", "eth1", T0 + S + 200 * US + 1000, 100 * US, 200);
    s_member(&i1->members[2], "b", "eth0", T0 + S + 300 * US - 500, 50 * US, 300);
    s_member(&i1->members[3], "c", "eth0", T0 + S + 1500 * US, 0, 400);
    assert_int_equal(i1->nhosts, 3); /* a once */
    assert_string_equal(i1->hosts[0], "a");
    assert_string_equal(i1->hosts[1], "b");
    assert_string_equal(i1->hosts[2], "c");
    assert_int_equal(i1->packets, 1000);
    assert_int_equal(i1->drops, 100);
    assert_int_equal(i1->period_ns, 0);
    assert_false(i1->uncertain);

    const incident_t *i2 = &found->incidents[1]; /* d's 5 ms exceed the 2 ms window */
    assert_int_equal(i2->id, 2);
    assert_int_equal(i2->start_ns, T0 + 9 * S - 500);
    assert_int_equal(i2->end_ns, T0 + 9 * S + 8 * MS);
    assert_true(i2->uncertain);
    assert_int_equal(i2->nhosts, 2);
    assert_string_equal(i2->hosts[0], "b");
    assert_string_equal(i2->hosts[1], "d");
    s_member(&i2->members[1], "d", "eth0", T0 + 9 * S + 6 * MS, 5 * MS, 60);
    assert_int_equal(i2->period_ns, 0);

    for (int k = 0; k < 4; k++) { /* c (exact clock) before a (1 us ahead) */
        const incident_t *r = &found->incidents[2 + k];
        assert_int_equal(r->id, 3 + k);
        assert_int_equal(r->start_ns, T0 + (20 + 10 * k) * S);
        assert_int_equal(r->end_ns, T0 + (20 + 10 * k) * S + 2 * MS + 1000);
        assert_int_equal(r->period_ns, 10 * S);
        assert_int_equal(r->nhosts, 2);
        assert_string_equal(r->hosts[0], "c");
        assert_string_equal(r->hosts[1], "a");
        assert_int_equal(r->packets, 30);
        assert_int_equal(r->drops, 3);
    }
    assert_false(cut.limit);
    assert_int_equal(cut.bursts_from_ns, 0);
    incidents_destroy(&found);
    assert_null(found);
    incidents_destroy(&found); /* safe twice */
}

/* Bursts that start at the same instant come by host name, whatever order
 * the store numbered their hosts in (zz reported first: the lower id), so
 * that every store gives the same answer. */
static void test_same_start_by_name(void **state)
{
    fixture_t *f = *state;
    const int64_t t = T0 + 1000 * S;
    burst_msg_t zz = s_burst("eth0", t, 10, false), yy = s_burst("eth0", t, 20, false);
    s_send(f->st, "zz", t + S, &zz, 1);
    s_send(f->st, "yy", t + S, &yy, 1);
    incidents_t *found = s_find(f, t - S, t + S, 2, 100, 0, NULL);
    assert_int_equal(found->n, 1);
    assert_int_equal(found->incidents[0].nhosts, 2);
    assert_string_equal(found->incidents[0].hosts[0], "yy");
    assert_string_equal(found->incidents[0].members[0].host, "yy");
    assert_string_equal(found->incidents[0].hosts[1], "zz");
    incidents_destroy(&found);
}

/* The limit keeps the newest incidents, numbered as among all of them. */
static void test_limit_and_min_hosts(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    incidents_t *found = s_find(f, T0, T0 + 100 * S, 2, 2, 0, &cut);
    assert_int_equal(found->n, 2);
    assert_int_equal(found->incidents[0].id, 5);
    assert_int_equal(found->incidents[1].id, 6);
    assert_int_equal(found->incidents[1].start_ns, T0 + 50 * S);
    assert_true(cut.limit);
    incidents_destroy(&found);
    cut = ROWS_CUT_INIT;
    found = s_find(f, T0, T0 + 100 * S, 2, 6, 0, &cut); /* exactly all: whole */
    assert_int_equal(found->n, 6);
    assert_false(cut.limit);
    incidents_destroy(&found);
    found = s_find(f, T0, T0 + 100 * S, 3, 100, 0, &cut); /* three hosts: only the first */
    assert_int_equal(found->n, 1);
    assert_int_equal(found->incidents[0].id, 1);
    assert_int_equal(found->incidents[0].nhosts, 3);
    incidents_destroy(&found);
}

/* 15 received bursts, 7 read at most: the newest 8 are read (the 8th says
 * there were more), the oldest of them (c's at 20 s) is dropped, as its
 * peers may be beyond the bound; a's at 20 s stays alone. */
static void test_bursts_bound(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    incidents_t *found = s_find(f, T0, T0 + 100 * S, 2, 100, 7, &cut);
    assert_int_equal(found->n, 3);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(found->incidents[k].id, k + 1);
        assert_int_equal(found->incidents[k].start_ns, T0 + (30 + 10 * k) * S);
        assert_int_equal(found->incidents[k].period_ns, 10 * S);
    }
    assert_int_equal(cut.bursts_from_ns, T0 + 20 * S);
    assert_int_equal(cut.bursts_read, 7);
    assert_false(cut.limit);
    incidents_destroy(&found);
    cut = ROWS_CUT_INIT;
    found = s_find(f, T0, T0 + 100 * S, 2, 100, 15, &cut); /* all fit */
    assert_int_equal(found->n, 6);
    assert_int_equal(cut.bursts_from_ns, 0);
    incidents_destroy(&found);
}

/* Bursts starting in (from, to] on the aggregator's clock. */
static void test_range(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    incidents_t *found = s_find(f, T0 + S + 1000, T0 + 50 * S - 1, 2, 100, 0, &cut);
    assert_int_equal(found->n, 5); /* not a's first at 1 s, nor c's at 50 s */
    assert_int_equal(found->incidents[0].start_ns, T0 + S + 200 * US + 1000);
    assert_int_equal(found->incidents[0].nmembers, 3);
    assert_int_equal(found->incidents[0].nhosts, 3);
    assert_int_equal(found->incidents[4].start_ns, T0 + 40 * S);
    incidents_destroy(&found);
    found = s_find(f, T0 + 60 * S, T0 + 100 * S, 2, 100, 0, &cut); /* nothing */
    assert_int_equal(found->n, 0);
    incidents_destroy(&found);
}

/* The fleet's incidents: one of FLEET hosts with three bursts each, then
 * one of the random half that burst again. Each incident's hosts against
 * a naive reference: its members' names, each at its first appearance. */
static void test_fleet_hosts(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    incidents_t *found = s_find(f, FLEET_T - 1, FLEET_T + 20 * S, 2, 100, 0, &cut);
    assert_int_equal(found->n, 2);
    assert_int_equal(found->incidents[0].nmembers, 3 * FLEET);
    assert_int_equal(found->incidents[0].nhosts, FLEET);
    for (size_t i = 0; i < found->n; i++) {
        const incident_t *inc = &found->incidents[i];
        const char *naive[3 * FLEET];
        size_t n = 0;
        int64_t packets = 0;
        for (size_t k = 0; k < inc->nmembers; k++) {
            const incident_member_t *m = &inc->members[k];
            bool seen = false;
            for (size_t j = 0; j < n && !seen; j++)
                seen = strcmp(naive[j], m->host) == 0;
            if (!seen)
                naive[n++] = m->host;
            packets += m->packets;
            if (k)
                assert_true(m->start_ns >= inc->members[k - 1].start_ns);
        }
        assert_int_equal(inc->nhosts, n);
        for (size_t j = 0; j < n; j++) {
            assert_string_equal(inc->hosts[j], naive[j]);
            assert_int_equal(strlen(inc->hosts[j]), FLEET_NAME);
        }
        assert_int_equal(inc->packets, packets);
    }
    incidents_destroy(&found);
}

static void s_assert_json(const incidents_t *found, const char *want)
{
    json_t *rows = rows_incidents(found);
    char *text = json_dumps(rows, JSON_COMPACT);
    assert_string_equal(text, want);
    free(text);
    json_decref(rows);
}

/* The JSON form, as /api/incidents answered before incidents became
 * structs (the same store through the jansson-building incidents_find). */
static void test_json_form(void **state)
{
    fixture_t *f = *state;
    rows_cut_t cut = ROWS_CUT_INIT;
    incidents_t *found = s_find(f, T0, T0 + 100 * S, 3, 100, 0, &cut);
    s_assert_json(
        found, "[{\"id\":1,\"start_ns\":1795305601000001000,\"end_ns\":1795305601003500000,"
               "\"hosts\":[\"a\",\"b\",\"c\"],\"bursts\":4,\"packets\":1000,\"drops\":100,"
               "\"period_ms\":null,\"uncertain\":false,\"members\":[{\"host\":\"a\","
               "\"iface\":\"eth0\",\"start_ns\":1795305601000001000,\"uncertainty_ns\":100000,"
               "\"packets\":100,\"drops\":10},{\"host\":\"a\",\"iface\":\"eth1\","
               "\"start_ns\":1795305601000201000,\"uncertainty_ns\":100000,\"packets\":200,"
               "\"drops\":20},{\"host\":\"b\",\"iface\":\"eth0\",\"start_ns\":1795305601000299500,"
               "\"uncertainty_ns\":50000,\"packets\":300,\"drops\":30},{\"host\":\"c\","
               "\"iface\":\"eth0\",\"start_ns\":1795305601001500000,\"uncertainty_ns\":0,"
               "\"packets\":400,\"drops\":40}]}]");
    incidents_destroy(&found);
    found = s_find(f, T0, T0 + 100 * S, 2, 1, 9, &cut); /* recurring; numbered among 4 */
    s_assert_json(found,
                  "[{\"id\":4,\"start_ns\":1795305650000000000,\"end_ns\":1795305650002001000,"
                  "\"hosts\":[\"c\",\"a\"],\"bursts\":2,\"packets\":30,\"drops\":3,"
                  "\"period_ms\":10000.0,\"uncertain\":false,\"members\":[{\"host\":\"c\","
                  "\"iface\":\"eth0\",\"start_ns\":1795305650000000000,\"uncertainty_ns\":0,"
                  "\"packets\":20,\"drops\":2},{\"host\":\"a\",\"iface\":\"eth0\","
                  "\"start_ns\":1795305650000001000,\"uncertainty_ns\":100000,\"packets\":10,"
                  "\"drops\":1}]}]");
    incidents_destroy(&found);
    found = s_find(f, T0 + 8 * S, T0 + 10 * S, 2, 100, 0, &cut); /* uncertain */
    s_assert_json(found,
                  "[{\"id\":1,\"start_ns\":1795305608999999500,\"end_ns\":1795305609008000000,"
                  "\"hosts\":[\"b\",\"d\"],\"bursts\":2,\"packets\":150,\"drops\":15,"
                  "\"period_ms\":null,\"uncertain\":true,\"members\":[{\"host\":\"b\","
                  "\"iface\":\"eth0\",\"start_ns\":1795305608999999500,\"uncertainty_ns\":50000,"
                  "\"packets\":90,\"drops\":9},{\"host\":\"d\",\"iface\":\"eth0\","
                  "\"start_ns\":1795305609006000000,\"uncertainty_ns\":5000000,\"packets\":60,"
                  "\"drops\":6}]}]");
    incidents_destroy(&found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grouped),      cmocka_unit_test(test_limit_and_min_hosts),
        cmocka_unit_test(test_bursts_bound), cmocka_unit_test(test_range),
        cmocka_unit_test(test_fleet_hosts),  cmocka_unit_test(test_json_form),
        cmocka_unit_test(test_same_start_by_name),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
