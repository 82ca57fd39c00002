/* Tests aggregator/live, the incidents found as bursts arrive: an incident
 * is reported once, only after it settled (window, widest clock
 * uncertainty and LIVE_SETTLE_NS past its start), in start order, with its
 * hosts named; bursts count only once committed, and an abandoned group
 * leaves nothing; sent bursts and bursts outside the kept window are
 * refused (at its exact edges too); the buffer holds LIVE_MAX_BURSTS at
 * most, committed or waiting, and forgets old bursts and the host names
 * no burst refers to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "live.h"
#include "ts.h"

#define S TS_NS_PER_S
#define MS TS_NS_PER_MS
#define T (INT64_C(1795305600) * S)
#define WINDOW (2 * MS)

static const clock_msg_t s_exact = {.offset_valid = true};

/* What live_scan reported, copied out of its callback. */
typedef struct {
    size_t n;
    live_incident_t inc[8];
    char hosts[8][1024];
} seen_t;

static void s_seen(void *ctx, const live_incident_t *inc)
{
    seen_t *s = ctx;
    assert_true(s->n < 8);
    s->inc[s->n] = *inc;
    snprintf(s->hosts[s->n], sizeof s->hosts[0], "%s", inc->hosts);
    s->inc[s->n].hosts = s->hosts[s->n];
    s->n++;
}

static seen_t s_scan(live_t *live, int64_t now)
{
    seen_t s = {0};
    live_scan(live, now, s_seen, &s);
    return s;
}

static burst_msg_t s_burst(int64_t start, uint64_t packets)
{
    return (burst_msg_t){.iface = "eth0",
                         .start_ns = start,
                         .end_ns = start + MS,
                         .packets = packets,
                         .drops = {[LAYER_SOCKET] = packets / 10}};
}

/* Adds host's burst at start (exact clock), now being `now`; must be added. */
static void s_add(live_t *live, const char *host, int64_t start, uint64_t packets, int64_t now)
{
    burst_msg_t b = s_burst(start, packets);
    assert_int_equal(live_add(live, host, &b, &s_exact, now), LIVE_ADDED);
}

static void test_reported_once_settled(void **state)
{
    (void)state;
    live_t *live = live_new(WINDOW, 2);
    assert_non_null(live);
    s_add(live, "a", T, 100, T);
    s_add(live, "b", T + MS, 200, T);
    s_add(live, "a", T + MS / 2, 300, T); /* a again: two hosts, three bursts */
    live_commit(live);
    assert_int_equal(live_bursts(live), 3);
    assert_int_equal(live_hosts(live), 2);
    /* Settled once its window and LIVE_SETTLE_NS have passed, not before. */
    assert_int_equal(s_scan(live, T + WINDOW + LIVE_SETTLE_NS).n, 0);
    seen_t s = s_scan(live, T + WINDOW + LIVE_SETTLE_NS + 1);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.inc[0].start_ns, T);
    assert_int_equal(s.inc[0].end_ns, T + 2 * MS); /* b's */
    assert_int_equal(s.inc[0].nhosts, 2);
    assert_int_equal(s.inc[0].nbursts, 3);
    assert_int_equal(s.inc[0].packets, 600);
    assert_int_equal(s.inc[0].drops, 60);
    assert_false(s.inc[0].uncertain);
    assert_string_equal(s.hosts[0], "a, b");
    /* Once: neither a later scan nor a late member reports it again. */
    assert_int_equal(s_scan(live, T + 5 * S).n, 0);
    s_add(live, "c", T + MS, 50, T + 5 * S);
    live_commit(live);
    assert_int_equal(s_scan(live, T + 6 * S).n, 0);
    live_destroy(&live);
    assert_null(live);
    live_destroy(&live); /* safe twice */
}

/* A group's bursts are seen once its transaction committed; a rolled-back
 * group's are forgotten, and those committed before it stay. */
static void test_commit_and_abandon(void **state)
{
    (void)state;
    live_t *live = live_new(WINDOW, 2);
    s_add(live, "a", T, 10, T);
    s_add(live, "b", T, 10, T);
    live_abandon(live);
    assert_int_equal(live_bursts(live), 0);
    assert_int_equal(s_scan(live, T + 3 * S).n, 0);

    s_add(live, "a", T + 4 * S, 10, T + 4 * S);
    live_commit(live);
    s_add(live, "b", T + 4 * S, 10, T + 4 * S); /* waiting for its commit */
    assert_int_equal(live_bursts(live), 2);
    assert_int_equal(s_scan(live, T + 7 * S).n, 0);
    assert_int_equal(live_bursts(live), 2); /* the scan kept the waiting one */
    live_abandon(live);
    assert_int_equal(live_bursts(live), 1); /* a's, committed, stays */
    s_add(live, "c", T + 4 * S + MS, 10, T + 7 * S);
    live_commit(live);
    seen_t s = s_scan(live, T + 8 * S);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.inc[0].start_ns, T + 4 * S);
    assert_int_equal(s.inc[0].nbursts, 2);
    assert_string_equal(s.hosts[0], "a, c");
    live_destroy(&live);
}

/* Sent bursts are skipped; a start must be in (now - KEEP, now + AHEAD]
 * on the aggregator's clock, after the host's offset. */
static void test_refused(void **state)
{
    (void)state;
    live_t *live = live_new(WINDOW, 2);
    burst_msg_t b = s_burst(T, 10);
    b.tx = true;
    assert_int_equal(live_add(live, "a", &b, &s_exact, T), LIVE_SKIPPED);
    b = s_burst(T - LIVE_KEEP_NS, 10);
    assert_int_equal(live_add(live, "a", &b, &s_exact, T), LIVE_OUTSIDE);
    b.start_ns++;
    assert_int_equal(live_add(live, "a", &b, &s_exact, T), LIVE_ADDED);
    b = s_burst(T + LIVE_AHEAD_NS + 1, 10);
    assert_int_equal(live_add(live, "a", &b, &s_exact, T), LIVE_OUTSIDE);
    b.start_ns--;
    assert_int_equal(live_add(live, "a", &b, &s_exact, T), LIVE_ADDED);
    /* The host's clock is 1 s behind: its burst at T + AHEAD is at
     * T + AHEAD + 1 s on ours. */
    clock_msg_t behind = {.offset_valid = true, .offset_ns = S};
    assert_int_equal(live_add(live, "a", &b, &behind, T), LIVE_OUTSIDE);
    assert_int_equal(live_bursts(live), 2);
    live_destroy(&live);
}

/* Bursts further apart than the window (and the uncertainty) are not one
 * incident; fewer hosts than min_hosts are none; a host whose clock is
 * unmeasured widens the window by its kernel's error bound, makes the
 * incident uncertain and later to settle. Settled incidents come in start
 * order; live.c reports forward in time, so a group that starts before
 * the last one reported is not reported however it settles. */
static void test_grouping(void **state)
{
    (void)state;
    live_t *live = live_new(WINDOW, 3);
    s_add(live, "a", T, 10, T);
    s_add(live, "b", T + MS, 10, T);
    s_add(live, "c", T + WINDOW + 1, 10, T); /* beyond a's window: two hosts, then one */
    clock_msg_t loose = {.maxerror_ns = 50 * MS};
    burst_msg_t b = s_burst(T + S + 40 * MS, 10);
    s_add(live, "a", T + S, 10, T);
    s_add(live, "b", T + S + MS, 10, T);
    assert_int_equal(live_add(live, "d", &b, &loose, T), LIVE_ADDED);
    s_add(live, "a", T + 3 * S, 10, T);
    s_add(live, "b", T + 3 * S, 10, T);
    s_add(live, "c", T + 3 * S, 10, T);
    live_commit(live);
    assert_int_equal(s_scan(live, T + S + WINDOW + 50 * MS + LIVE_SETTLE_NS).n, 0);
    seen_t s = s_scan(live, T + 3 * S + WINDOW + LIVE_SETTLE_NS + 1);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.inc[0].start_ns, T + S);
    assert_int_equal(s.inc[0].end_ns, T + S + 41 * MS); /* d's */
    assert_int_equal(s.inc[0].nhosts, 3);
    assert_true(s.inc[0].uncertain);
    assert_string_equal(s.hosts[0], "a, b, d");
    assert_int_equal(s.inc[1].start_ns, T + 3 * S);
    assert_false(s.inc[1].uncertain);
    assert_string_equal(s.hosts[1], "a, b, c");
    s_add(live, "a", T + 2 * S, 10, T + 6 * S);
    s_add(live, "b", T + 2 * S, 10, T + 6 * S);
    s_add(live, "c", T + 2 * S, 10, T + 6 * S);
    live_commit(live);
    assert_int_equal(s_scan(live, T + 7 * S).n, 0);
    live_destroy(&live);
}

/* The hosts named are the distinct ones, at most 64 of them. */
static void test_many_hosts(void **state)
{
    (void)state;
    live_t *live = live_new(WINDOW, 2);
    char want[1024] = "";
    for (int h = 0; h < 70; h++) {
        char name[8];
        snprintf(name, sizeof name, "h%02d", h);
        s_add(live, name, T + h * 1000, 10, T);
        s_add(live, name, T + h * 1000 + 1, 10, T);
        if (h < 64)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", h ? ", " : "", name);
    }
    live_commit(live);
    seen_t s = s_scan(live, T + 3 * S);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.inc[0].nhosts, 70);
    assert_int_equal(s.inc[0].nbursts, 140);
    assert_string_equal(s.hosts[0], want);
    live_destroy(&live);
}

/* LIVE_MAX_BURSTS at most, committed or waiting; a scan forgets bursts
 * LIVE_KEEP_NS old, and then the names of hosts no burst refers to. */
static void test_bounds(void **state)
{
    (void)state;
    live_t *live = live_new(WINDOW, 2);
    burst_msg_t b = s_burst(T, 1);
    for (size_t i = 0; i < LIVE_MAX_BURSTS / 2; i++)
        assert_int_equal(live_add(live, "a", &b, &s_exact, T), LIVE_ADDED);
    live_commit(live);
    for (size_t i = LIVE_MAX_BURSTS / 2; i < LIVE_MAX_BURSTS; i++)
        assert_int_equal(live_add(live, "b", &b, &s_exact, T), LIVE_ADDED);
    assert_int_equal(live_add(live, "c", &b, &s_exact, T), LIVE_FULL);
    assert_int_equal(live_bursts(live), LIVE_MAX_BURSTS);
    live_abandon(live); /* b's half goes: room again */
    assert_int_equal(live_bursts(live), LIVE_MAX_BURSTS / 2);
    assert_int_equal(live_add(live, "c", &b, &s_exact, T), LIVE_ADDED);
    live_abandon(live);
    /* Old bursts are forgotten by a scan; their incident was never
     * reported, for it had not been scanned before it was forgotten. */
    assert_int_equal(s_scan(live, T + LIVE_KEEP_NS).n, 0);
    assert_int_equal(live_bursts(live), 0);
    live_destroy(&live);

    live = live_new(WINDOW, 2);
    for (int h = 0; h < 1100; h++) { /* ever new names */
        char name[16];
        snprintf(name, sizeof name, "n%04d", h);
        b = s_burst(T + h, 1);
        assert_int_equal(live_add(live, name, &b, &s_exact, T), LIVE_ADDED);
    }
    b = s_burst(T + 10 * S, 1);
    assert_int_equal(live_add(live, "kept", &b, &s_exact, T + 10 * S), LIVE_ADDED);
    live_commit(live);
    assert_int_equal(live_hosts(live), 1101);
    s_scan(live, T + LIVE_KEEP_NS + S); /* only kept's burst is young enough */
    assert_int_equal(live_bursts(live), 1);
    assert_int_equal(live_hosts(live), 1);
    s_add(live, "other", T + 10 * S + MS, 1, T + LIVE_KEEP_NS + S);
    live_commit(live);
    seen_t s = s_scan(live, T + LIVE_KEEP_NS + 2 * S);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.hosts[0], "kept, other"); /* kept's name survived the renumbering */
    live_destroy(&live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reported_once_settled),
        cmocka_unit_test(test_commit_and_abandon),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_grouping),
        cmocka_unit_test(test_many_hosts),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
