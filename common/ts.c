/* ts: strict parsers: any trailing garbage, sign or overflow is an error,
 * because these strings come from users and from HTTP query parameters. */
#define _GNU_SOURCE
#include "ts.h"

#include <ctype.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ts_set_offset_for_testing; atomic: the collector's threads all read it,
 * and a test steps it while they run. */
static _Atomic int64_t s_test_offset;

int64_t ts_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * TS_NS_PER_S + t.tv_nsec +
           atomic_load_explicit(&s_test_offset, memory_order_relaxed);
}

void ts_set_offset_for_testing(int64_t offset_ns)
{
    atomic_store(&s_test_offset, offset_ns);
}

void ts_step_for_testing(int64_t by_ns)
{
    atomic_fetch_add(&s_test_offset, by_ns);
}

int64_t ts_mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * TS_NS_PER_S + t.tv_nsec;
}

int64_t ts_real_minus_mono_ns(void)
{
    /* Of a few brackets mono, real, mono, the tightest: a bracket that a
     * preemption split is off by the time the thread was away (0.5 ms
     * seen under load, which moved eBPF bursts off their capture). */
    int64_t best = 0, width = INT64_MAX;
    for (int i = 0; i < 5; i++) {
        int64_t m1 = ts_mono_ns(), real = ts_now_ns(), m2 = ts_mono_ns();
        if (m2 - m1 < width) {
            width = m2 - m1;
            best = real - (m1 + (m2 - m1) / 2);
        }
    }
    return best;
}

static const struct {
    const char *suffix;
    int64_t ns;
} s_units[] = {
    {"us", 1000},
    {"ms", TS_NS_PER_MS},
    {"s", TS_NS_PER_S},
    {"m", 60 * TS_NS_PER_S},
    {"h", 3600 * TS_NS_PER_S},
    {"d", 86400 * TS_NS_PER_S},
};

int ts_parse_duration(const char *text, int64_t *ns)
{
    if (!text || !isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno || end == text)
        return -1;
    for (size_t i = 0; i < sizeof s_units / sizeof s_units[0]; i++) {
        if (strcmp(end, s_units[i].suffix) != 0)
            continue;
        if (n == 0 || n > (unsigned long long)(INT64_MAX / s_units[i].ns))
            return -1;
        *ns = (int64_t)n * s_units[i].ns;
        return 0;
    }
    return -1;
}

const char *ts_duration_unit(size_t i, int64_t *ns)
{
    if (i >= sizeof s_units / sizeof s_units[0])
        return NULL;
    *ns = s_units[i].ns;
    return s_units[i].suffix;
}

int ts_parse_signed_duration(const char *text, int64_t *ns)
{
    if (text && text[0] == '-') {
        if (ts_parse_duration(text + 1, ns) != 0)
            return -1;
        *ns = -*ns;
        return 0;
    }
    return ts_parse_duration(text, ns);
}

/* Reads exactly `digits` decimal digits at *p. */
static bool s_digits(const char **p, int digits, int *out)
{
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += digits;
    *out = v;
    return true;
}

static bool s_expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian, y >= 0 (H. Hinnant's
 * days_from_civil). Counted here rather than by timegm: no struct tm to
 * normalise, no time_t range to trust, and a year of four digits keeps
 * every term below 4e6. */
static int64_t s_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = y / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int s_month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    return m == 2 && leap ? 29 : days[m - 1];
}

/* An optional ".ddd" at *p as ns: digits past the ninth are dropped, not
 * rounded; a '.' without digits is an error. */
static bool s_fraction(const char **p, int64_t *frac)
{
    *frac = 0;
    if (**p != '.')
        return true;
    const char *first = ++*p;
    int n = 0;
    for (; isdigit((unsigned char)**p); (*p)++)
        if (n < 9) {
            *frac = *frac * 10 + (**p - '0');
            n++;
        }
    for (; n < 9; n++)
        *frac *= 10;
    return *p > first;
}

/* The zone at *p, "Z" or "+hh:mm" / "-hh:mm", as seconds east of UTC. */
static bool s_zone(const char **p, int64_t *east_s)
{
    *east_s = 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return true;
    }
    if (**p != '+' && **p != '-')
        return false;
    int sign = **p == '-' ? -1 : 1, oh, om;
    (*p)++;
    if (!s_digits(p, 2, &oh) || !s_expect(p, ':') || !s_digits(p, 2, &om) || oh > 23 || om > 59)
        return false;
    *east_s = sign * (oh * 3600 + om * 60);
    return true;
}

static int s_parse_rfc3339(const char *p, int64_t *ns)
{
    int year, mon, day, hour, min, sec;
    int64_t frac, east_s;
    if (!s_digits(&p, 4, &year) || !s_expect(&p, '-') || !s_digits(&p, 2, &mon) ||
        !s_expect(&p, '-') || !s_digits(&p, 2, &day))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (!s_digits(&p, 2, &hour) || !s_expect(&p, ':') || !s_digits(&p, 2, &min) ||
        !s_expect(&p, ':') || !s_digits(&p, 2, &sec) || !s_fraction(&p, &frac) ||
        !s_zone(&p, &east_s) || *p != '\0')
        return -1;
    /* No leap seconds (ns since the epoch have no place for them) and
     * nothing written before 1970; a zone may still put the instant up to
     * a day before it. */
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > s_month_days(year, mon) ||
        hour > 23 || min > 59 || sec > 59)
        return -1;
    /* With four digits of year the seconds stay below 2.6e11; their ns do
     * not fit int64 after 2262-04-11T23:47:16.854775807Z, and such a time
     * is refused rather than wrapped. */
    int64_t secs =
        s_days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - east_s;
    int64_t whole, out;
    if (__builtin_mul_overflow(secs, TS_NS_PER_S, &whole) ||
        __builtin_add_overflow(whole, frac, &out))
        return -1;
    *ns = out;
    return 0;
}

int ts_parse_time(const char *text, int64_t *ns)
{
    if (!text || !*text)
        return -1;
    size_t n = strspn(text, "0123456789");
    if (text[n] == '\0') {
        if (n > 19)
            return -1;
        errno = 0;
        unsigned long long v = strtoull(text, NULL, 10);
        if (errno || v > INT64_MAX)
            return -1;
        *ns = (int64_t)v;
        return 0;
    }
    return s_parse_rfc3339(text, ns);
}

/* A duration of one or more parts, each digits and a unit (1h30m, 90s,
 * 1d12h), in the first len bytes of text: their sum. 0, -1. */
static int s_compound(const char *text, size_t len, int64_t *ns)
{
    const char *p = text, *stop = text + len;
    int64_t sum = 0;
    if (p == stop)
        return -1;
    while (p < stop) {
        if (!isdigit((unsigned char)*p))
            return -1;
        unsigned long long n = 0;
        for (; p < stop && isdigit((unsigned char)*p); p++) {
            if (n > (unsigned long long)INT64_MAX / 10)
                return -1;
            n = n * 10 + (unsigned long long)(*p - '0');
        }
        size_t best = SIZE_MAX, best_len = 0; /* the longest unit there: "ms", not "m" */
        for (size_t i = 0; i < sizeof s_units / sizeof s_units[0]; i++) {
            size_t ulen = strlen(s_units[i].suffix);
            if (ulen > best_len && ulen <= (size_t)(stop - p) &&
                memcmp(p, s_units[i].suffix, ulen) == 0)
                best = i, best_len = ulen;
        }
        if (best == SIZE_MAX || n > (unsigned long long)((INT64_MAX - sum) / s_units[best].ns))
            return -1;
        sum += (int64_t)n * s_units[best].ns;
        p += best_len;
    }
    *ns = sum;
    return 0;
}

/* "N<unit>" or "@N" (seconds): a count since the epoch, into *ns. 0, -1
 * when it is not one, 1 when it is one before 2001-09-09. */
static int s_epoch(const char *text, int64_t *ns)
{
    static const struct {
        const char *suffix;
        int64_t ns;
    } units[] = {{"s", TS_NS_PER_S}, {"ms", TS_NS_PER_MS}, {"us", 1000}, {"ns", 1}};
    bool at = text[0] == '@';
    const char *digits = text + at;
    size_t n = strspn(digits, "0123456789");
    if (n == 0 || n > 19)
        return -1;
    int64_t unit = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (at ? digits[n] == '\0' && i == 0 : strcmp(digits + n, units[i].suffix) == 0)
            unit = units[i].ns;
    errno = 0;
    unsigned long long v = strtoull(digits, NULL, 10);
    if (!unit || errno || v > (unsigned long long)(INT64_MAX / unit))
        return -1;
    *ns = (int64_t)v * unit;
    return *ns < 1000000000 * TS_NS_PER_S ? 1 : 0;
}

int ts_parse_when(const char *text, int64_t now_ns, int64_t *ns, char *err, size_t errsz)
{
    size_t len = text ? strlen(text) : 0;
    const char *why = "is not a time";
    int64_t d;
    int epoch;
    if (len == 0) {
        why = "is empty";
    } else if (strcmp(text, "now") == 0) {
        *ns = now_ns;
        return 0;
    } else if (text[0] == '-' || text[0] == '+') {
        if (s_compound(text + 1, len - 1, &d) != 0)
            why = "is not a duration from now (e.g. -1h30m)";
        else if (text[0] == '-' ? d > now_ns : d > INT64_MAX - now_ns)
            why = "is out of range";
        else {
            *ns = text[0] == '-' ? now_ns - d : now_ns + d;
            return 0;
        }
    } else if (len > 4 && strcmp(text + len - 4, " ago") == 0) {
        if (s_compound(text, len - 4, &d) != 0)
            why = "is not a duration ago (e.g. 1h30m ago)";
        else if (d > now_ns)
            why = "is out of range";
        else {
            *ns = now_ns - d;
            return 0;
        }
    } else if ((epoch = s_epoch(text, &d)) == 0) {
        *ns = d;
        return 0;
    } else if (epoch == 1) {
        why = "is before 2001 (a time ago is -DURATION or DURATION ago)";
    } else if (strspn(text, "0123456789") == len) {
        why = "is a bare number, whose unit is not known";
    } else if (s_parse_rfc3339(text, ns) == 0) {
        return 0;
    }
    snprintf(err, errsz, "'%s' %s; a time is %s", text ? text : "", why, TS_WHEN_FORMS);
    return -1;
}

/* Writes ns's second as "YYYY-MM-DDTHH:MM:SS" then its fraction, `digits`
 * long (3 or 9), and "Z". */
static char *s_format(int64_t ns, int digits, char *buf, size_t size)
{
    time_t secs = (time_t)(ns / TS_NS_PER_S);
    long frac = (long)(ns % TS_NS_PER_S);
    for (int d = digits; d < 9; d++)
        frac /= 10;
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%0*ldZ", base, digits, frac);
    return buf;
}

char *ts_format(int64_t ns, char *buf, size_t size)
{
    return s_format(ns, 3, buf, size);
}

char *ts_format_exact(int64_t ns, char *buf, size_t size)
{
    return s_format(ns, 9, buf, size);
}
