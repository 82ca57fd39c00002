/* rows: the JSON forms the API answers with, built from store rows and
 * from the analyses' plain results (incidents, timeline, diagnosis), so
 * that a burst or a drop looks the same wherever it appears and the
 * analyses stay testable without JSON; and the words of an answer's
 * truncation header (the bounds themselves are in rows_cut.h). */
#ifndef DROPSCOPE_ROWS_H
#define DROPSCOPE_ROWS_H

#include <jansson.h>

#include "diagnose.h"
#include "incidents.h"
#include "rows_cut.h"
#include "store.h"
#include "timeline.h"

/* Each function below returns a new JSON value (the caller's reference),
 * NULL when out of memory. */

/* {"host", "series", "layer", "ts_ns", "delta", "reset", "overlap"}, and
 * "owner" when known */
json_t *rows_drop(const drop_row_t *d);

/* Sets row's "owner" (the process holding a socket, "pid/comm") unless it
 * is unknown (""). */
void rows_owner(json_t *row, const char *owner);

/* {"host", "iface", "direction", "start_ns", "end_ns", "corrected_start_ns",
 *  "uncertainty_ns", "peak_per_ms", "packets", "bytes", "threshold_per_ms",
 *  "drops" {layer: n} (drop layers only), "drops_total", "profile" [...], "profile_start_ns",
 *  "tick_ns", "profile_complete"}; when profile_omitted, "profile" is []
 * and "profile_omitted": true follows. */
json_t *rows_burst_json(const burst_row_t *b, bool profile_omitted);

/* rows_burst_json within cut's tick budget when cut is given: a profile
 * that does not fit in cut->ticks_left is left out (and cut->profiles
 * set); one that fits is spent from it (rows_cut_profile). */
json_t *rows_burst(const burst_row_t *b, rows_cut_t *cut);

/* {"host", "group", "port", "start_ns", "end_ns", "missing", "first_seq",
 *  "last_seq"}: a probe's sequence gap. A number above 2^63 - 1 (a 64-bit
 *  sequence near its end) is written as a JSON real, the nearest double. */
json_t *rows_gap(const gap_row_t *g);

/* {"id", "start_ns", "end_ns", "hosts": [name...], "bursts", "packets",
 *  "drops", "period_ms" (null when not recurring), "uncertain",
 *  "members": [{"host", "iface", "start_ns", "uncertainty_ns", "packets",
 *  "drops"}...]} */
json_t *rows_incident(const incident_t *inc);

/* The incidents as an array of rows_incident, oldest first. */
json_t *rows_incidents(const incidents_t *incidents);

/* The timeline as an array of events in its order: each the event's form
 * with "type" and "ts_ns" after it: a drop's or a burst's row (a precursor
 * layer's row, budget, has type "squeeze": no packet was lost); an
 * incident's with "host": ""; {"host", "series", "from", "to"} for a
 * setting change; {"host", "end_ns", "seconds"} for a gap. */
json_t *rows_timeline(const timeline_t *t);

/* {"host", "from_ns", "to_ns", "findings": [{"layer", "drops", "first_ns",
 *  "last_ns", "limit", "remedy", "evidence": {"counters": [{"series",
 *  "drops", "overlap", "owner" when known}...], "bursts_before",
 *  "setting_changes": [change...]}, "resolved" (null when none)}...],
 *  "precursors": [the same form, with "squeezes" for "drops" throughout:
 *  the precursor layers that moved, no packet lost], "changes": [change...]},
 *  each change {"series", "ts_ns", "from", "to", "drops_before", "drops_after"} */
json_t *rows_diagnosis(const diagnosis_t *d);

/* A JSON array being filled newest first up to limit rows: the callbacks
 * below append while there is room, and at the first row beyond it set
 * cut->limit and stop the query (ask the store for limit + 1 rows). */
typedef struct {
    json_t *rows;  /* borrowed */
    int64_t limit;
    rows_cut_t *cut;
} rows_newest_t;

int rows_newest_drop(void *ctx, const drop_row_t *d);
int rows_newest_burst(void *ctx, const burst_row_t *b);
int rows_newest_gap(void *ctx, const gap_row_t *g);

/* Words what cut says was left out of an answer of at most limit rows
 * (max_limit: the largest a request may ask) into buf, as the
 * X-Dropscope-Truncated header's value: "" when nothing was. */
void rows_cut_words(const rows_cut_t *cut, int64_t limit, int64_t max_limit, char *buf,
                    size_t size);

/* Reverses a JSON array in place (newest first -> the API's oldest first). */
void rows_reverse(json_t *rows);

#endif
