/* Tests aggregator/correlate on synthetic fleets with a known truth: four of
 * eight hosts hit together every 500 ms among unrelated bursts elsewhere;
 * window edges; clock uncertainty that widens a window and makes an
 * incident uncertain; recurrence periods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "correlate.h"

#define MS INT64_C(1000000)

static correlate_burst_t s_b(uint32_t host, int64_t start, int64_t unc)
{
    return (correlate_burst_t){host, start, start + MS, unc, 300, 0, 0};
}

static void test_fleet_scenario(void **state)
{
    (void)state;
    enum { PERIODS = 20 };
    correlate_burst_t b[PERIODS * 4 + 200];
    size_t n = 0;
    srand(11);
    for (int k = 0; k < PERIODS; k++)
        for (uint32_t h = 0; h < 4; h++) /* synchronized, 0-0.5 ms of jitter */
            b[n++] = s_b(h, 1000 * MS + k * 500 * MS + rand() % (MS / 2), 0);
    /* Unrelated bursts on the other hosts, between the synchronized ones and
     * at least 7 ms from each other. */
    for (int i = 0; i < 200; i++)
        b[n++] = s_b(4 + (uint32_t)(i % 4),
                     1000 * MS + (i % PERIODS) * 500 * MS + 100 * MS + (i / PERIODS) * 30 * MS +
                         (i % 4) * 7 * MS,
                     0);
    correlate_incident_t *inc;
    long ni = correlate_find(b, n, 2 * MS, 2, &inc);
    assert_int_equal(ni, PERIODS);
    correlate_recurrence(inc, (size_t)ni);
    for (long i = 0; i < ni; i++) {
        assert_int_equal(inc[i].nhosts, 4);
        assert_int_equal(inc[i].count, 4);
        for (size_t k = inc[i].first; k < inc[i].first + inc[i].count; k++)
            assert_true(b[k].host < 4); /* exactly the targeted hosts */
        assert_false(inc[i].uncertain);
        assert_true(llabs(inc[i].period_ns - 500 * MS) <= 25 * MS);
        assert_int_equal(inc[i].packets, 4 * 300);
    }
    free(inc);
}

static void test_window_and_uncertainty(void **state)
{
    (void)state;
    correlate_incident_t *inc;
    /* 3 ms apart, window 2 ms: two hosts, but not together. */
    correlate_burst_t b[2] = {s_b(0, 100 * MS, 0), s_b(1, 103 * MS, 0)};
    assert_int_equal(correlate_find(b, 2, 2 * MS, 2, &inc), 0);
    free(inc);
    /* Exactly at the window edge: together. */
    b[0] = s_b(0, 100 * MS, 0);
    b[1] = s_b(1, 102 * MS, 0);
    assert_int_equal(correlate_find(b, 2, 2 * MS, 2, &inc), 1);
    assert_false(inc[0].uncertain);
    free(inc);
    /* A host whose clock is only known to 5 ms: grouped, but said to be uncertain. */
    b[0] = s_b(0, 100 * MS, 0);
    b[1] = s_b(1, 106 * MS, 5 * MS);
    assert_int_equal(correlate_find(b, 2, 2 * MS, 2, &inc), 1);
    assert_true(inc[0].uncertain);
    assert_int_equal(inc[0].start_ns, 100 * MS);
    assert_int_equal(inc[0].end_ns, 107 * MS);
    free(inc);
    /* One host twice is not an incident; nor is an empty input. */
    b[0] = s_b(3, 100 * MS, 0);
    b[1] = s_b(3, 100 * MS + 10, 0);
    assert_int_equal(correlate_find(b, 2, 2 * MS, 2, &inc), 0);
    free(inc);
    assert_int_equal(correlate_find(b, 0, 2 * MS, 2, &inc), 0);
    free(inc);
}

static void test_recurrence(void **state)
{
    (void)state;
    correlate_incident_t inc[8] = {0};
    /* Two lone incidents, then a run of five 300 ms apart. */
    int64_t starts[8] = {0, 1000, 5000, 5300, 5600, 5900, 6200, 9999};
    for (int i = 0; i < 8; i++)
        inc[i].start_ns = starts[i] * MS;
    correlate_recurrence(inc, 8);
    int64_t want[8] = {0, 0, 300, 300, 300, 300, 300, 0};
    for (int i = 0; i < 8; i++)
        assert_true(inc[i].period_ns == want[i] * MS);
    /* Fewer than three: no period. */
    correlate_incident_t two[2] = {{.start_ns = 0}, {.start_ns = 500 * MS}};
    correlate_recurrence(two, 2);
    assert_int_equal(two[0].period_ns, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fleet_scenario),
        cmocka_unit_test(test_window_and_uncertainty),
        cmocka_unit_test(test_recurrence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
