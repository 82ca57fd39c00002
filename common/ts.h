/* ts: timestamps (int64 ns since the epoch, CLOCK_REALTIME) and the duration
 * and time syntax shared by every command line and the HTTP API:
 * durations "250us", "1ms", "2s", "5m", "1h", "7d"; times RFC 3339
 * ("2026-11-22T14:59:30.000Z", "...+01:00") or integer ns since the epoch. */
#ifndef DROPSCOPE_TS_H
#define DROPSCOPE_TS_H

#include <stddef.h>
#include <stdint.h>

#define TS_NS_PER_MS INT64_C(1000000)
#define TS_NS_PER_S INT64_C(1000000000)

/* Wall-clock now, ns since the epoch (plus the testing offset, if set). */
int64_t ts_now_ns(void);

/* TESTING ONLY: makes ts_now_ns() run `offset_ns` ahead (or behind) of the
 * real clock, to simulate a host whose clock is off. */
void ts_set_offset_for_testing(int64_t offset_ns);
/* TESTING ONLY: steps that clock by `by_ns` at once, as a wall clock set
 * by hand (or by an NTP step) would jump, while the process runs. */
void ts_step_for_testing(int64_t by_ns);
/* Monotonic now, ns. */
int64_t ts_mono_ns(void);

/* Wall clock minus monotonic clock now, from the tightest of a few paired
 * readings, so that a preemption between the two reads does not skew it. */
int64_t ts_real_minus_mono_ns(void);

/* Parses a positive duration with a unit suffix into *ns. 0 ok, -1 bad
 * (*ns untouched), and so is one longer than INT64_MAX ns (106752d).
 * ts_parse_signed_duration also takes a leading '-'. */
int ts_parse_signed_duration(const char *text, int64_t *ns);
int ts_parse_duration(const char *text, int64_t *ns);
/* The i-th unit ts_parse_duration takes, shortest first: its suffix
 * (borrowed, static) and its length in *ns; NULL past the last. For clients
 * that parse durations themselves (the web view, through /api/vocabulary). */
const char *ts_duration_unit(size_t i, int64_t *ns);

/* Parses RFC 3339 or integer ns since the epoch into *ns. 0 ok, -1 bad
 * (*ns untouched). Exact to the ns up to 2262-04-11T23:47:16.854775807Z
 * (INT64_MAX); anything later is bad. Nothing written before 1970 is
 * taken, though a zone offset can place a time up to a day before it. */
int ts_parse_time(const char *text, int64_t *ns);

/* The forms ts_parse_when takes, as its errors list them. */
#define TS_WHEN_FORMS                                                                              \
    "RFC 3339 (2026-12-03T17:00:00Z), now, a time relative to now (-1h30m, 1h30m ago, +5m), "  \
    "or an epoch count with its unit (@1700000000 or 1700000000s for seconds, ms, us, ns)"

/* Parses a time as people write it, now_ns being now: the forms of
 * TS_WHEN_FORMS. Relative durations may have several parts (1h30m, 1d12h;
 * units us ms s m h d). A bare number is refused, its unit unknown (date
 * +%s gives seconds, ns are what the API answers), and so is an epoch
 * count before 2001-09-09 (1e9 s): "90s" meant 90 s ago. 0, or -1 with
 * err saying why and listing the forms. */
int ts_parse_when(const char *text, int64_t now_ns, int64_t *ns, char *err, size_t errsz);

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into buf; returns buf. */
char *ts_format(int64_t ns, char *buf, size_t size);
/* The same to the ns ("...SS.nnnnnnnnnZ", 30 bytes and a NUL): exact, so
 * that ts_parse_time reads back ns itself. ns >= 0. */
#define TS_EXACT_SIZE 31
char *ts_format_exact(int64_t ns, char *buf, size_t size);

#endif
