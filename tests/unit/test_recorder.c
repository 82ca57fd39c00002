/* Tests collector/recorder (flight recorder profiles resampled onto a tick
 * grid) and collector/histogram (per-tick rate distribution): exact
 * profiles on aligned samples, late samples spread over their ticks,
 * conservation of packets, ring overwrite, and percentiles against a naive
 * reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "histogram.h"
#include "recorder.h"

#define MS INT64_C(1000000)

static void test_aligned_profile_is_exact(void **state)
{
    (void)state;
    recorder_t *r = recorder_new(100);
    for (int t = 1; t <= 50; t++)
        recorder_push(r, t * MS, MS, (uint32_t)t, (uint32_t)(2 * t));
    uint32_t out[10];
    assert_true(recorder_profile(r, 20 * MS, MS, 10, false, out));
    for (int k = 0; k < 10; k++)
        assert_int_equal(out[k], 21 + k); /* tick [20,21) holds the sample ending at 21 */
    assert_true(recorder_profile(r, 20 * MS, MS, 10, true, out));
    assert_int_equal(out[0], 42);
    recorder_destroy(&r);
    recorder_destroy(&r);
}

static void test_late_sample_is_spread(void **state)
{
    (void)state;
    recorder_t *r = recorder_new(16);
    recorder_push(r, 1 * MS, MS, 5, 0);
    recorder_push(r, 4 * MS, 3 * MS, 300, 0); /* a late tick: 3 ms, 300 packets */
    recorder_push(r, 5 * MS, MS, 7, 0);
    uint32_t out[5];
    assert_true(recorder_profile(r, 0, MS, 5, false, out));
    uint32_t want[] = {5, 100, 100, 100, 7};
    for (int k = 0; k < 5; k++)
        assert_int_equal(out[k], want[k]);
    /* Half a tick off the grid: packets split, none lost. */
    assert_true(recorder_profile(r, MS / 2, MS, 4, false, out));
    uint32_t sum = 0;
    for (int k = 0; k < 4; k++)
        sum += out[k];
    assert_int_equal(sum, 306); /* half of tick 1 (2.5) + 300 + half of tick 5 (3.5) */
    assert_int_equal(out[0], 53);       /* 2.5 + 50 */
    recorder_destroy(&r);
}

static void test_ring_overwrites_oldest(void **state)
{
    (void)state;
    recorder_t *r = recorder_new(8);
    for (int t = 1; t <= 20; t++)
        recorder_push(r, t * MS, MS, 10, 0);
    uint32_t out[20];
    /* Only the last 8 ms (12..20] are still held. */
    assert_false(recorder_profile(r, 0, MS, 20, false, out));
    for (int k = 0; k < 12; k++)
        assert_int_equal(out[k], 0);
    for (int k = 12; k < 20; k++)
        assert_int_equal(out[k], 10);
    assert_true(recorder_profile(r, 12 * MS, MS, 8, false, out));
    /* A window in the future is not covered either. */
    assert_false(recorder_profile(r, 18 * MS, MS, 5, false, out));
    recorder_destroy(&r);
}

static int s_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The histogram's answer for a true percentile value v: exact below 128,
 * else the lower bound of v's bucket (16 per power of two). */
static uint32_t s_bucketed(uint32_t v)
{
    if (v < 128)
        return v;
    uint64_t p = 128;
    while (v >= 2 * p)
        p *= 2;
    return (uint32_t)(p + (v - p) / (p / 16) * (p / 16));
}

static void test_histogram_against_reference(void **state)
{
    (void)state;
    static histogram_t h; /* zeroed: empty */
    histogram_summary_t s = histogram_take(&h);
    assert_int_equal(s.ticks, 0);
    srand(7);
    for (int round = 0; round < 50; round++) {
        size_t n = 1 + (size_t)(rand() % 3000);
        uint32_t *ref = malloc(n * sizeof *ref);
        uint32_t over = 0;
        for (size_t i = 0; i < n; i++) {
            ref[i] = rand() % 50 == 0 ? (uint32_t)(rand() % 100000) : (uint32_t)(rand() % 5);
            over += ref[i] >= 100;
            histogram_add(&h, ref[i], 1, ref[i] >= 100);
        }
        qsort(ref, n, sizeof *ref, s_cmp);
        s = histogram_take(&h);
        assert_int_equal(s.ticks, n);
        assert_int_equal(s.max, ref[n - 1]);
        /* Nearest rank, from the definition: the ceil(q*n)-th smallest. */
        size_t r99 = (size_t)((n * 99 + 99) / 100), r50 = (size_t)((n * 50 + 99) / 100);
        assert_int_equal(s.p99, s_bucketed(ref[r99 - 1]));
        assert_int_equal(s.p50, s_bucketed(ref[r50 - 1]));
        assert_true(ref[r99 - 1] - s.p99 <= ref[r99 - 1] / 16); /* within 1/16 */
        assert_int_equal(s.over, over);
        free(ref);
    }
    /* A late sample counts once per tick it covers. */
    histogram_add(&h, 100, 3, true);
    histogram_add(&h, 1, 1, false);
    s = histogram_take(&h);
    assert_int_equal(s.ticks, 4);
    assert_int_equal(s.over, 3);
    assert_int_equal(s.p50, 100);
    /* Extremes. */
    histogram_add(&h, UINT32_MAX, 1, true);
    s = histogram_take(&h);
    assert_int_equal(s.max, UINT32_MAX);
    assert_int_equal(s.p50, s_bucketed(UINT32_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aligned_profile_is_exact),
        cmocka_unit_test(test_late_sample_is_spread),
        cmocka_unit_test(test_ring_overwrites_oldest),
        cmocka_unit_test(test_histogram_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
