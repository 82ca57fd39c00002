/* test_ts: the duration and time syntax of common/ts (ts_parse_duration,
 * ts_parse_time, ts_format). Expected epoch values were computed with
 * `date -u -d ... +%s`, not with the code under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ts.h"

#define S TS_NS_PER_S
/* date -u -d 2026-11-22T14:59:30Z +%s */
#define T0 (INT64_C(1795359570) * S)

/* --- durations ---------------------------------------------------------- */

static void s_duration_ok(const char *text, int64_t want)
{
    int64_t ns = -1;
    if (ts_parse_duration(text, &ns) != 0)
        fail_msg("\"%s\" was rejected", text);
    if (ns != want)
        fail_msg("\"%s\" gave %lld ns, want %lld", text, (long long)ns, (long long)want);
}

static void s_duration_bad(const char *text)
{
    int64_t ns = 12345;
    if (ts_parse_duration(text, &ns) == 0)
        fail_msg("\"%s\" was accepted as %lld ns", text, (long long)ns);
}

static void test_duration_units(void **state)
{
    (void)state;
    s_duration_ok("250us", 250000);
    s_duration_ok("1us", 1000);
    s_duration_ok("1ms", 1000000);
    s_duration_ok("2s", 2 * S);
    s_duration_ok("5m", 300 * S);
    s_duration_ok("1h", 3600 * S);
    s_duration_ok("7d", 7 * 86400 * S);
    s_duration_ok("90s", 90 * S);
    s_duration_ok("007s", 7 * S);
}

static void test_duration_limits(void **state)
{
    (void)state;
    /* INT64_MAX ns is 106751.99 days */
    s_duration_ok("106751d", INT64_C(106751) * 86400 * S);
    s_duration_bad("106752d");
    s_duration_ok("9223372036854775us", INT64_C(9223372036854775) * 1000);
    s_duration_bad("9223372036854776us");
    s_duration_bad("99999999999999999999d");
    s_duration_bad("18446744073709551616s");
}

static void test_duration_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",    "0s", "0us", "-1s", "+1s", "1",    "1x",   "1.5s", "s",    " 1s", "1s ",
        "1 s", "1S", "1ns", "1sm", "1ss", "0x1s", "1e3s", "ms",   "1s\n", "1s1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        s_duration_bad(bad[i]);
    int64_t ns = 5;
    assert_int_equal(ts_parse_duration(NULL, &ns), -1);
}

/* --- times -------------------------------------------------------------- */

static void s_time_ok(const char *text, int64_t want)
{
    int64_t ns = -1;
    if (ts_parse_time(text, &ns) != 0)
        fail_msg("\"%s\" was rejected", text);
    if (ns != want)
        fail_msg("\"%s\" gave %lld ns, want %lld", text, (long long)ns, (long long)want);
}

static void s_time_bad(const char *text)
{
    int64_t ns = 12345;
    if (ts_parse_time(text, &ns) == 0)
        fail_msg("\"%s\" was accepted as %lld ns", text, (long long)ns);
}

static void test_time_rfc3339(void **state)
{
    (void)state;
    s_time_ok("2026-11-22T14:59:30Z", T0);
    s_time_ok("2026-11-22T14:59:30.123456789Z", T0 + 123456789);
    s_time_ok("2026-11-22T14:59:30.000Z", T0);
    s_time_ok("2026-11-22T14:59:30.5Z", T0 + 500000000);
    s_time_ok("2026-11-22T14:59:30.001Z", T0 + 1000000);
    /* digits past ns are dropped, not rounded */
    s_time_ok("2026-11-22T14:59:30.1234567899Z", T0 + 123456789);
    s_time_ok("2026-11-22t14:59:30z", T0);
    s_time_ok("2026-11-22 14:59:30Z", T0);
    /* the same instant written in other zones */
    s_time_ok("2026-11-22T15:59:30+01:00", T0);
    s_time_ok("2026-11-22T09:29:30-05:30", T0);
    s_time_ok("2026-11-22T14:59:30+00:00", T0);
    s_time_ok("2026-11-22T14:59:30-00:00", T0);
    s_time_ok("2026-11-23T00:29:30.25+09:30", T0 + 250000000);
    /* date -u -d 2024-02-29T00:00:00Z +%s, 2000-01-01 */
    s_time_ok("2024-02-29T00:00:00Z", INT64_C(1709164800) * S);
    s_time_ok("2000-01-01T00:00:00Z", INT64_C(946684800) * S);
    s_time_ok("1970-01-01T00:00:00Z", 0);
}

static void test_time_integer_ns(void **state)
{
    (void)state;
    s_time_ok("1795359570000000000", T0);
    s_time_ok("1795359570123456789", T0 + 123456789);
    s_time_ok("0", 0);
    s_time_ok("9223372036854775807", INT64_MAX);
    s_time_bad("9223372036854775808");
    s_time_bad("9999999999999999999");
    s_time_bad("17953595700000000000");
    s_time_bad("00000000000000000001");
    s_time_bad("-1");
    s_time_bad("+1");
    s_time_bad("1795359570000000000 ");
    s_time_bad(" 1795359570000000000");
}

static void test_time_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-02-29T00:00:00Z", /* 2026 is not a leap year */
        "2026-04-31T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-32T00:00:00Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T14:60:00Z",
        "2026-11-22T14:59:61Z",
        "2026-11-22T14:59:30",      /* no zone */
        "2026-11-22T14:59:30Zjunk", /* trailing junk */
        "2026-11-22T14:59:30Z ",
        "2026-11-22T14:59:30+01:00x",
        "2026-11-22T14:59:30+0100",
        "2026-11-22T14:59:30+01",
        "2026-11-22T14:59:30+24:00",
        "2026-11-22T14:59:30+01:60",
        "2026-11-22T14:59:30.Z",
        "2026-11-22T14:59:30,5Z",
        "2026-11-22T14:59Z",
        "2026-11-22",
        "2026-11-22X14:59:30Z",
        "26-11-22T14:59:30Z",
        "2026-1-22T14:59:30Z",
        "2026/11/22T14:59:30Z",
        " 2026-11-22T14:59:30Z",
        "now",
        "1h",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        s_time_bad(bad[i]);
    int64_t ns = 5;
    assert_int_equal(ts_parse_time(NULL, &ns), -1);
}

/* --- formatting --------------------------------------------------------- */

static void test_format(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(ts_format(T0 + 123456789, buf, sizeof buf), "2026-11-22T14:59:30.123Z");
    assert_string_equal(ts_format(T0, buf, sizeof buf), "2026-11-22T14:59:30.000Z");
    assert_string_equal(ts_format(T0 + 999999999, buf, sizeof buf), "2026-11-22T14:59:30.999Z");
    assert_string_equal(ts_format(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
    assert_string_equal(ts_format(INT64_C(1709164800) * S + 7 * TS_NS_PER_MS, buf, sizeof buf),
                        "2024-02-29T00:00:00.007Z");
    /* a short buffer is truncated, never overrun */
    char small[11];
    memset(small, 'x', sizeof small);
    ts_format(T0, small, sizeof small);
    assert_string_equal(small, "2026-11-22");
}

/* What ts_format writes, ts_parse_time reads back (to the millisecond). */
static void test_format_parse_round_trip(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ns = (int64_t)(x % (uint64_t)(INT64_C(4102444800) * S)); /* < year 2100 */
        char buf[64];
        int64_t back = -1;
        ts_format(ns, buf, sizeof buf);
        if (ts_parse_time(buf, &back) != 0)
            fail_msg("ts_format(%lld) = \"%s\" does not parse", (long long)ns, buf);
        assert_int_equal(back, ns - ns % TS_NS_PER_MS);
    }
}

static void test_now(void **state)
{
    (void)state;
    int64_t a = ts_now_ns(), m1 = ts_mono_ns(), m2 = ts_mono_ns();
    assert_true(a > T0 - INT64_C(3650) * 86400 * S); /* after 2016 */
    assert_true(m2 >= m1);
}

/* The wall-minus-monotonic offset: steady from call to call (each takes
 * the tightest of its readings), and it follows the clock it measures. */
static void test_real_minus_mono(void **state)
{
    (void)state;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int i = 0; i < 1000; i++) {
        int64_t d = ts_real_minus_mono_ns();
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    assert_true(hi - lo < 100000); /* 100 us; a naive pair is off by a whole preemption */
    ts_set_offset_for_testing(5 * S);
    int64_t shifted = ts_real_minus_mono_ns();
    ts_set_offset_for_testing(0);
    assert_true(shifted - lo >= 5 * S - 100000 && shifted - hi <= 5 * S + 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_units),
        cmocka_unit_test(test_duration_limits),
        cmocka_unit_test(test_duration_rejects),
        cmocka_unit_test(test_time_rfc3339),
        cmocka_unit_test(test_time_integer_ns),
        cmocka_unit_test(test_time_rejects),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_real_minus_mono),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
