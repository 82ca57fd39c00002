/* Tests collector/clocksync: the NTP-style offset from t1..t4 against the
 * known truth of simulated exchanges with random, asymmetric delays, the
 * choice of the smallest round trip, and the kernel's clock status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "clocksync.h"

#define US INT64_C(1000)

static void test_symmetric_exchange_is_exact(void **state)
{
    (void)state;
    clocksync_t c = {0};
    assert_false(clocksync_estimate(&c).valid);
    /* The aggregator is 5 ms ahead; 100 us each way, 20 us inside it. */
    int64_t t1 = 1000000 * US, off = 5000 * US;
    clocksync_add(&c, t1, t1 + 100 * US + off, t1 + 120 * US + off, t1 + 220 * US);
    clocksync_estimate_t e = clocksync_estimate(&c);
    assert_true(e.valid);
    assert_int_equal(e.offset_ns, off);
    assert_int_equal(e.rtt_ns, 200 * US);
}

static void test_smallest_rtt_wins(void **state)
{
    (void)state;
    clocksync_t c = {0};
    int64_t off = -3000 * US; /* the aggregator is behind */
    srand(3);
    int64_t best_rtt = INT64_MAX, best_err = 0;
    for (int i = 0; i < 200; i++) {
        int64_t t1 = (int64_t)i * 1000000 * US;
        int64_t up = 50 * US + rand() % (5000 * US), down = 50 * US + rand() % (5000 * US);
        int64_t t2 = t1 + up + off, t3 = t2 + 10 * US, t4 = t1 + up + 10 * US + down;
        clocksync_add(&c, t1, t2, t3, t4);
        if (i >= 200 - CLOCKSYNC_WINDOW && up + down < best_rtt) {
            best_rtt = up + down;
            best_err = (up - down) / 2; /* what asymmetry does to the estimate */
        }
    }
    clocksync_estimate_t e = clocksync_estimate(&c);
    assert_int_equal(e.rtt_ns, best_rtt);
    assert_true(llabs(e.offset_ns - (off + best_err)) <= 1);
    /* Never worse than half the round trip it reports. */
    assert_true(llabs(e.offset_ns - off) <= e.rtt_ns / 2 + 1);
}

static void test_impossible_exchanges_ignored(void **state)
{
    (void)state;
    clocksync_t c = {0};
    clocksync_add(&c, 100, 50, 40, 200);  /* t3 before t2 */
    clocksync_add(&c, 100, 150, 160, 90); /* t4 before t1 */
    clocksync_add(&c, 100, 110, 500, 200); /* aggregator took longer than the round trip */
    assert_false(clocksync_estimate(&c).valid);
}

static void test_kernel_status(void **state)
{
    (void)state;
    clocksync_status_t st;
    assert_int_equal(clocksync_status(&st), 0);
    assert_true(st.maxerror_ns >= 0 && st.esterror_ns >= 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symmetric_exchange_is_exact),
        cmocka_unit_test(test_smallest_rtt_wins),
        cmocka_unit_test(test_impossible_exchanges_ignored),
        cmocka_unit_test(test_kernel_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
