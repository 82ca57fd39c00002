/* rows: the JSON form of store rows, shared by the API endpoints and the
 * timeline so that a burst or a drop looks the same wherever it appears. */
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

/* {"host", "iface", "direction", "start_ns", "end_ns", "corrected_start_ns",
 *  "uncertainty_ns", "peak_per_ms", "packets", "bytes", "threshold_per_ms",
 *  "drops" {layer: n}, "drops_total", "profile" [...], "profile_start_ns",
 *  "tick_ns", "profile_complete"} */
json_t *rows_burst(const burst_row_t *b);

#endif
