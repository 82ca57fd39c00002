/* test_ts: the duration and time syntax of common/ts (ts_parse_duration,
 * ts_parse_time, ts_parse_when, ts_format). Expected epoch values were computed with
 * `date -u -d ... +%s`, not with the code under test. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

/* The signed form: the same limits on either side of zero, never wrapped
 * (there is no ns unit, so INT64_MIN itself cannot be written). */
static void test_signed_duration_limits(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ns;
    } ok[] = {
        {"-106751d", -INT64_C(106751) * 86400 * S},
        {"106751d", INT64_C(106751) * 86400 * S},
        {"-2562047h", -INT64_C(2562047) * 3600 * S},
        {"-153722867m", -INT64_C(153722867) * 60 * S},
        {"-9223372036s", -INT64_C(9223372036) * S},
        {"-9223372036854ms", -INT64_C(9223372036854) * 1000000},
        {"-9223372036854775us", -INT64_C(9223372036854775) * 1000},
        {"-1us", -1000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ns = 12345;
        if (ts_parse_signed_duration(ok[i].text, &ns) != 0)
            fail_msg("\"%s\" was rejected", ok[i].text);
        if (ns != ok[i].ns)
            fail_msg("\"%s\" gave %lld ns, want %lld", ok[i].text, (long long)ns,
                     (long long)ok[i].ns);
    }
    static const char *const bad[] = {
        "106752d",
        "-106752d",
        "-2562048h",
        "2562048h",
        "-153722868m",
        "-9223372037s",
        "-9223372036855ms",
        "-9223372036854776us",
        "-99999999999999999999d",
        "-18446744073709551616s",
        "--1s",
        "-",
        "-0s",
        "- 1s",
        "-+1s",
        "+-1s",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ns = 12345;
        if (ts_parse_signed_duration(bad[i], &ns) == 0)
            fail_msg("\"%s\" was accepted as %lld ns", bad[i], (long long)ns);
    }
    int64_t ns = 5;
    assert_int_equal(ts_parse_signed_duration(NULL, &ns), -1);
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

/* int64 ns end at 2262-04-11T23:47:16.854775807Z: that instant is exact,
 * however it is written, and anything later is refused, not wrapped (the
 * UBSan build aborted on such years, and the plain build gave times in
 * 1677 or 1970). */
static void test_time_int64_edge(void **state)
{
    (void)state;
    /* date -u -d 2262-04-11T23:47:16Z +%s = 9223372036 */
    s_time_ok("2262-04-11T23:47:16.854775807Z", INT64_MAX);
    s_time_ok("2262-04-11T23:47:16.8547758079Z", INT64_MAX); /* past ns: dropped */
    s_time_ok("2262-04-11T23:47:16Z", INT64_C(9223372036) * S);
    s_time_bad("2262-04-11T23:47:16.854775808Z");
    s_time_bad("2262-04-11T23:47:16.9Z");
    s_time_bad("2262-04-11T23:47:17Z");
    s_time_bad("2262-04-12T00:00:00Z");
    /* the same edge written in other zones */
    s_time_ok("2262-04-12T00:47:16.854775807+01:00", INT64_MAX);
    s_time_ok("2262-04-12T23:46:16.854775807+23:59", INT64_MAX);
    s_time_ok("2262-04-11T00:00:16.854775807-23:47", INT64_MAX);
    s_time_bad("2262-04-12T00:47:16.854775808+01:00");
    s_time_bad("2262-04-11T23:47:16.854775807-00:01");
    s_time_bad("2262-04-11T23:47:16.854775807-23:59");
    s_time_bad("2262-04-12T23:59:59.999999999+23:59");
    /* date -u -d 2262-01-01T00:00:00Z +%s, 2262-04-11, 2100-03-01 */
    s_time_ok("2262-01-01T00:00:00Z", INT64_C(9214646400) * S);
    s_time_ok("2262-04-11T00:00:00.000000001Z", INT64_C(9223286400) * S + 1);
    s_time_ok("2100-03-01T00:00:00Z", INT64_C(4107542400) * S);
    s_time_bad("2100-02-29T00:00:00Z"); /* not a leap year: a century */
    static const char *const late[] = {
        "2263-01-01T00:00:00Z",
        "2300-01-01T00:00:00Z",
        "2262-12-31T23:59:59.999999999Z",
        "9999-12-31T23:59:59.999999999Z",
        "9999-12-31T23:59:59.999999999-23:59",
        "9999-12-31T23:59:59+23:59",
        "9999-01-01T00:00:00Z",
        "10000-01-01T00:00:00Z",
        "99999999999-01-01T00:00:00Z",
        "+2300-01-01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof late / sizeof late[0]; i++)
        s_time_bad(late[i]);
}

/* Before 1970 a time is refused as it is written, but a zone offset may
 * still place a 1970 time a few hours before the epoch: kept as it was,
 * and exact. */
static void test_time_before_epoch(void **state)
{
    (void)state;
    s_time_bad("1969-12-31T23:59:59Z");
    s_time_bad("0000-01-01T00:00:00Z");
    s_time_ok("1970-01-01T00:00:00+01:00", -3600 * S);
    s_time_ok("1970-01-01T00:00:00.5+23:59", -(23 * 3600 + 59 * 60) * S + S / 2);
    s_time_ok("1970-01-01T00:00:00-23:59", (23 * 3600 + 59 * 60) * S);
}

/* Every day from 1970 to the int64 edge against the C library's calendar
 * (gmtime_r), at the start and at the last ns of the day. */
static void test_time_every_day(void **state)
{
    (void)state;
    for (int64_t day = 0; day <= INT64_MAX / (86400 * S); day++) {
        time_t secs = (time_t)(day * 86400);
        struct tm tm;
        assert_non_null(gmtime_r(&secs, &tm));
        char text[64];
        snprintf(text, sizeof text, "%04d-%02d-%02dT00:00:00Z", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday);
        s_time_ok(text, day * 86400 * S);
        snprintf(text, sizeof text, "%04d-%02d-%02dT23:59:59.999999999Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday);
        if (day < INT64_MAX / (86400 * S))
            s_time_ok(text, (day + 1) * 86400 * S - 1);
        else
            s_time_bad(text); /* 2262-04-11: ends past the edge */
    }
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

/* What ts_format writes, ts_parse_time reads back (to the millisecond);
 * what ts_format_exact writes, to the ns. */
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
        ts_format_exact(ns, buf, sizeof buf); /* and to the ns */
        assert_int_equal(strlen(buf), TS_EXACT_SIZE - 1);
        if (ts_parse_time(buf, &back) != 0)
            fail_msg("ts_format_exact(%lld) = \"%s\" does not parse", (long long)ns, buf);
        assert_int_equal(back, ns);
    }
    char buf[TS_EXACT_SIZE];
    assert_string_equal(ts_format_exact(T0 + 1, buf, sizeof buf), "2026-11-22T14:59:30.000000001Z");
}

/* The times people write (ts_parse_when): every form of TS_WHEN_FORMS, to
 * the ns, and the refusals, each naming the forms. */
static void test_when(void **state)
{
    (void)state;
    const int64_t now = INT64_C(1796317200123456789); /* 2026-12-03T17:00:00.123456789Z */
    static const struct {
        const char *text;
        int64_t want; /* from now when rel */
        bool rel;
    } ok[] = {
        {"now", 0, true},
        {"-1h30m", -5400 * INT64_C(1000000000), true},
        {"1h30m ago", -5400 * INT64_C(1000000000), true},
        {"+5m", 300 * INT64_C(1000000000), true},
        {"-1d12h", -129600 * INT64_C(1000000000), true},
        {"-250ms", -250000000, true},
        {"-1m30s", -90 * INT64_C(1000000000), true},
        {"90s ago", -90 * INT64_C(1000000000), true},
        {"@1700000000", INT64_C(1700000000000000000), false},
        {"1700000000s", INT64_C(1700000000000000000), false},
        {"1700000000123ms", INT64_C(1700000000123000000), false},
        {"1700000000123456us", INT64_C(1700000000123456000), false},
        {"1700000000123456789ns", INT64_C(1700000000123456789), false},
        {"2026-12-03T17:00:00Z", INT64_C(1796317200000000000), false},
        {"2026-12-03T18:00:00.5+01:00", INT64_C(1796317200500000000), false},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int64_t got = 0;
        char err[512] = "";
        if (ts_parse_when(ok[i].text, now, &got, err, sizeof err) != 0)
            fail_msg("'%s' refused: %s", ok[i].text, err);
        int64_t want = ok[i].rel ? now + ok[i].want : ok[i].want;
        if (got != want)
            fail_msg("'%s': %lld, want %lld", ok[i].text, (long long)got, (long long)want);
    }
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"1700000000", "is a bare number, whose unit is not known"},
        {"1796317200123456789", "is a bare number"},
        {"90s", "is before 2001"},
        {"@12", "is before 2001"},
        {"", "is empty"},
        {"-1x", "is not a duration from now"},
        {"-", "is not a duration from now"},
        {"1h30 ago", "is not a duration ago"},
        {"ago", "is not a time"},
        {"yesterday", "is not a time"},
        {"-30000d", "is out of range"},
        {"+106000d", "is out of range"},
        {"99999999999999999999s", "is not a time"},
        {"@1700000000s", "is not a time"},
        {"1700000000h", "is not a time"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t got = 42;
        char err[512] = "";
        if (ts_parse_when(bad[i].text, now, &got, err, sizeof err) == 0)
            fail_msg("'%s' taken as %lld", bad[i].text, (long long)got);
        assert_int_equal(got, 42);
        if (!strstr(err, bad[i].why) || !strstr(err, TS_WHEN_FORMS))
            fail_msg("'%s': %s", bad[i].text, err);
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
        cmocka_unit_test(test_signed_duration_limits),
        cmocka_unit_test(test_time_rfc3339),
        cmocka_unit_test(test_time_integer_ns),
        cmocka_unit_test(test_time_rejects),
        cmocka_unit_test(test_time_int64_edge),
        cmocka_unit_test(test_time_before_epoch),
        cmocka_unit_test(test_time_every_day),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_when),
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_real_minus_mono),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
