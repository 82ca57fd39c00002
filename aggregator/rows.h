/* rows: the JSON form of store rows, shared by the API endpoints and the
 * timeline so that a burst or a drop looks the same wherever it appears;
 * and the bounds of an answer (rows, profile ticks) with what they cut,
 * so that a capped answer can say so. */
#ifndef DROPSCOPE_ROWS_H
#define DROPSCOPE_ROWS_H

#include <jansson.h>

#include "store.h"

/* {"host", "series", "layer", "ts_ns", "delta", "reset", "overlap"}, and
 * "owner" when known */
json_t *rows_drop(const drop_row_t *d);

/* Sets row's "owner" (the process holding a socket, "pid/comm") unless it
 * is unknown (""). */
void rows_owner(json_t *row, const char *owner);

/* Profile ticks one answer carries at most: a burst's profile is a tick a
 * millisecond (or 100 us) over seconds, and a month of bursts as JSON
 * integers would take gigabytes. */
#define ROWS_PROFILE_TICKS 250000

/* What an answer's bounds left out (api.c words it in the
 * X-Dropscope-Truncated header). Start it as ROWS_CUT_INIT. */
typedef struct {
    bool limit;             /* more rows than the limit: the newest were kept */
    size_t ticks_left;      /* profile ticks the answer may still carry */
    bool profiles;          /* some bursts' profiles were left out for that */
    int64_t bursts_from_ns; /* incidents: only the bursts after this were read; 0: all */
    int64_t bursts_read;    /* how many were read then */
} rows_cut_t;

#define ROWS_CUT_INIT ((rows_cut_t){false, ROWS_PROFILE_TICKS, false, 0, 0})

/* {"host", "iface", "direction", "start_ns", "end_ns", "corrected_start_ns",
 *  "uncertainty_ns", "peak_per_ms", "packets", "bytes", "threshold_per_ms",
 *  "drops" {layer: n}, "drops_total", "profile" [...], "profile_start_ns",
 *  "tick_ns", "profile_complete"}, within cut's tick budget when cut is
 * given: a profile that does not fit in cut->ticks_left is left out
 * ("profile": [], "profile_omitted": true, and cut->profiles set); one that
 * fits is spent from it. Rows read newest first so give the newest bursts
 * their profiles. */
json_t *rows_burst(const burst_row_t *b, rows_cut_t *cut);

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

/* Words what cut says was left out of an answer of at most limit rows
 * (max_limit: the largest a request may ask) into buf, as the
 * X-Dropscope-Truncated header's value: "" when nothing was. */
void rows_cut_words(const rows_cut_t *cut, int64_t limit, int64_t max_limit, char *buf,
                    size_t size);

/* Reverses a JSON array in place (newest first -> the API's oldest first). */
void rows_reverse(json_t *rows);

#endif
