/* Tests collector/burst, the microburst state machine, on synthetic sample
 * sequences: quiet links, single-tick bursts, merging across short gaps,
 * late ticks judged by their real rate, short samples over a whole tick,
 * a burst's onset, and random sequences against a
 * naive reference (group the hot samples, split where the quiet stretch
 * reaches the gap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "burst.h"

#define MS INT64_C(1000000)

static const burst_opts_t s_opts = {100, 3 * MS, MS};

/* Feeds one 1 ms tick ending at t; returns whether an event came out. */
static bool s_tick(burst_t *b, int64_t t, uint64_t packets, burst_event_t *ev)
{
    return burst_feed(b, t, MS, packets, packets * 100, ev);
}

static void test_quiet_link_has_no_burst(void **state)
{
    (void)state;
    burst_t b;
    burst_init(&b, &s_opts);
    burst_event_t ev;
    for (int64_t t = 1; t <= 10000; t++)
        assert_false(s_tick(&b, t * MS, 1 + (uint64_t)(t % 3 == 0) * 98, &ev)); /* 1 or 99 */
    assert_false(burst_flush(&b, &ev));
}

static void test_single_tick_burst(void **state)
{
    (void)state;
    burst_t b;
    burst_init(&b, &s_opts);
    burst_event_t ev;
    for (int64_t t = 1; t < 50; t++)
        assert_false(s_tick(&b, t * MS, 1, &ev));
    assert_false(s_tick(&b, 50 * MS, 300, &ev));
    assert_false(s_tick(&b, 51 * MS, 1, &ev));
    assert_false(s_tick(&b, 52 * MS, 1, &ev));
    assert_true(s_tick(&b, 53 * MS, 1, &ev)); /* quiet for the 3 ms gap: over */
    assert_int_equal(ev.start_ns, 49 * MS);
    assert_int_equal(ev.onset_ns, 48 * MS); /* the tick before carried a packet */
    assert_int_equal(ev.end_ns, 50 * MS);
    assert_int_equal(ev.packets, 300);
    assert_int_equal(ev.bytes, 30000);
    assert_true(ev.peak_per_ms == 300.0);
    assert_int_equal(ev.hot_samples, 1);
    assert_false(s_tick(&b, 54 * MS, 1, &ev)); /* nothing more */
}

static void test_gaps_merge_or_split(void **state)
{
    (void)state;
    burst_t b;
    burst_init(&b, &s_opts);
    burst_event_t ev;
    /* Hot at 10, quiet 11-12 (2 ms < gap), hot at 13: one burst. */
    uint64_t seq[] = {150, 5, 7, 400, 0, 0, 0};
    int events = 0;
    for (int i = 0; i < 7; i++)
        events += s_tick(&b, (10 + i) * MS, seq[i], &ev);
    assert_int_equal(events, 1);
    assert_int_equal(ev.start_ns, 9 * MS);
    assert_int_equal(ev.end_ns, 13 * MS);
    assert_int_equal(ev.packets, 150 + 5 + 7 + 400); /* the quiet ticks inside count */
    assert_true(ev.peak_per_ms == 400.0);
    assert_int_equal(ev.hot_samples, 2);
    /* Hot at 20, quiet 21-23 (3 ms = gap), hot at 24: two bursts. */
    uint64_t split[] = {150, 5, 7, 9, 400, 0, 0, 0};
    events = 0;
    burst_event_t first = {0};
    for (int i = 0; i < 8; i++) {
        if (s_tick(&b, (20 + i) * MS, split[i], &ev)) {
            if (events++ == 0)
                first = ev;
        }
    }
    assert_int_equal(events, 2);
    assert_int_equal(first.start_ns, 19 * MS);
    assert_int_equal(first.end_ns, 20 * MS);
    assert_int_equal(first.packets, 150); /* the trailing quiet ticks do not */
    assert_int_equal(ev.start_ns, 23 * MS);
    assert_int_equal(ev.packets, 400);
}

static void test_late_ticks_use_real_rate(void **state)
{
    (void)state;
    burst_t b;
    burst_init(&b, &s_opts);
    burst_event_t ev;
    /* 250 packets over a 3 ms late tick: 83/ms, not a burst. */
    assert_false(burst_feed(&b, 3 * MS, 3 * MS, 250, 0, &ev));
    assert_false(burst_flush(&b, &ev));
    /* 300 over 3 ms is exactly 100/ms: hot. */
    assert_false(burst_feed(&b, 6 * MS, 3 * MS, 300, 0, &ev));
    assert_true(burst_flush(&b, &ev));
    assert_int_equal(ev.start_ns, 3 * MS);
    assert_int_equal(ev.end_ns, 6 * MS);
    assert_true(ev.peak_per_ms == 100.0);
    /* A sample shorter than a tick is judged over a whole tick: 30 packets
     * in 250 us are 30/ms, not 120/ms ... */
    assert_false(burst_feed(&b, 7 * MS, MS / 4, 30, 0, &ev));
    assert_false(burst_flush(&b, &ev));
    /* ... and 2 packets in the 16 us left after a late tick are no burst
     * (seen on a loaded machine: 124/ms by the naive rate). */
    assert_false(burst_feed(&b, 7 * MS + 16000, 16000, 2, 0, &ev));
    assert_false(burst_flush(&b, &ev));
    /* 120 packets in 250 us are a burst, of 120/ms. */
    assert_false(burst_feed(&b, 8 * MS, MS / 4, 120, 0, &ev));
    assert_true(burst_flush(&b, &ev));
    assert_true(ev.peak_per_ms == 120.0);
    /* Zero or negative durations are ignored. */
    assert_false(burst_feed(&b, 8 * MS, 0, 1000000, 0, &ev));
    assert_false(burst_flush(&b, &ev));
}

/* A burst's onset reaches back over the tick before it when that tick
 * adjoins it and carried packets (the burst's edge, under the threshold),
 * and only then. */
static void test_onset(void **state)
{
    (void)state;
    burst_t b;
    burst_event_t ev;
    struct {
        int64_t lead_end, lead_packets, onset;
    } cases[] = {
        {10 * MS, 40, 9 * MS},         /* the burst began late in the tick before */
        {10 * MS, 0, 10 * MS},         /* a quiet tick before: onset is the start */
        {10 * MS + 3, 40, 9 * MS + 3}, /* a few ns apart (eBPF folds): still adjoining */
        {9 * MS, 40, 10 * MS},         /* a missing sample between: not adjoining */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        burst_init(&b, &s_opts);
        assert_false(
            burst_feed(&b, cases[i].lead_end, MS, (uint64_t)cases[i].lead_packets, 0, &ev));
        assert_false(s_tick(&b, 11 * MS, 300, &ev));
        assert_true(burst_flush(&b, &ev));
        assert_int_equal(ev.start_ns, 10 * MS);
        assert_int_equal(ev.onset_ns, cases[i].onset);
        assert_int_equal(ev.packets, 300); /* the edge is not counted as the burst's */
    }
}


/* The default threshold follows the link's median rate with a floor, and
 * whatever the ring: the field report's 700/ms bursts over a quiet link
 * stay bursts after the ring grew to 4096 (the ring/4 rule made it 1024);
 * a link that carries 500/ms all the time is not bursting at 700. */
static void test_default_threshold(void **state)
{
    (void)state;
    assert_int_equal(burst_default_threshold(0), BURST_FLOOR);
    assert_int_equal(burst_default_threshold(1), BURST_FLOOR);
    assert_int_equal(burst_default_threshold(25), BURST_FLOOR);
    assert_int_equal(burst_default_threshold(26), 104);
    assert_int_equal(burst_default_threshold(500), 2000);
    assert_int_equal(burst_default_threshold(UINT64_MAX), UINT64_MAX);
    burst_opts_t quiet = {burst_default_threshold(10), 5 * MS, MS};
    assert_true(burst_is_hot(&quiet, 700, MS));
    burst_opts_t busy = {burst_default_threshold(500), 5 * MS, MS};
    assert_false(burst_is_hot(&busy, 700, MS));
}
/* The naive reference, written from the definition: a burst opens at a hot
 * sample, takes every sample up to the last hot one, and closes at the
 * first quiet sample that ends gap_ns or more after the last hot sample. */
typedef struct {
    int64_t start, onset, end;
    uint64_t packets;
} ref_t;

static int s_reference(const int64_t *t, const int64_t *dt, const uint64_t *p, int n, ref_t *out)
{
    int nb = 0;
    bool open = false;
    uint64_t pending = 0;
    for (int i = 0; i < n; i++) {
        int64_t span = dt[i] > s_opts.min_dt_ns ? dt[i] : s_opts.min_dt_ns;
        bool hot = p[i] * 1000000 >= s_opts.threshold_per_ms * (uint64_t)span;
        if (hot) {
            if (!open) {
                bool lead = i > 0 && p[i - 1] > 0; /* the samples adjoin */
                out[nb++] =
                    (ref_t){t[i] - dt[i], lead ? t[i - 1] - dt[i - 1] : t[i] - dt[i], t[i], 0};
                open = true;
            }
            out[nb - 1].packets += pending + p[i];
            out[nb - 1].end = t[i];
            pending = 0;
        } else if (open && t[i] - out[nb - 1].end >= s_opts.gap_ns) {
            open = false;
            pending = 0;
        } else if (open) {
            pending += p[i];
        }
    }
    return nb;
}

static void test_random_against_reference(void **state)
{
    (void)state;
    enum { N = 20000 };
    static int64_t t[N], dt[N];
    static uint64_t p[N];
    static ref_t ref[N];
    srand(42);
    for (int round = 0; round < 20; round++) {
        int64_t now = 0;
        for (int i = 0; i < N; i++) {
            int kind = rand() % 10; /* some late ticks, and short ones after them */
            dt[i] = kind == 0 ? (1 + rand() % 4) * MS : kind == 1 ? 1 + rand() % MS : MS;
            now += dt[i];
            t[i] = now;
            p[i] = rand() % 20 == 0 ? (uint64_t)(rand() % 600) : (uint64_t)(rand() % 3);
        }
        int nref = s_reference(t, dt, p, N, ref);
        burst_t b;
        burst_init(&b, &s_opts);
        burst_event_t ev;
        int got = 0;
        for (int i = 0; i < N; i++) {
            if (burst_feed(&b, t[i], dt[i], p[i], 0, &ev)) {
                assert_true(got < nref);
                assert_int_equal(ev.start_ns, ref[got].start);
                assert_int_equal(ev.onset_ns, ref[got].onset);
                assert_int_equal(ev.end_ns, ref[got].end);
                assert_int_equal(ev.packets, ref[got].packets);
                got++;
            }
        }
        if (burst_flush(&b, &ev)) {
            assert_int_equal(ev.start_ns, ref[got].start);
            got++;
        }
        assert_int_equal(got, nref);
        assert_true(nref > 100); /* the sequences do contain bursts */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiet_link_has_no_burst),
        cmocka_unit_test(test_single_tick_burst),
        cmocka_unit_test(test_gaps_merge_or_split),
        cmocka_unit_test(test_late_ticks_use_real_rate),
        cmocka_unit_test(test_onset),
        cmocka_unit_test(test_default_threshold),
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
