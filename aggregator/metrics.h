/* metrics: the aggregator's own health for /metrics, and every host's
 * counters for /metrics/fleet (Prometheus text exposition format 0.0.4). */
#ifndef DROPSCOPE_METRICS_H
#define DROPSCOPE_METRICS_H

#include "api.h"

/* /metrics from the ingest's latest published stats and the store
 * (borrowed): a few kilobytes whatever the fleet's size. Never fails: an
 * error becomes a 500 reply. */
api_reply_t metrics_get(store_t *store, stats_board_t *board);

/* /metrics/fleet: per host, its drops by layer, squeezes, bursts, last
 * message, clock offset and spool losses, from the board's counters
 * (never the database). A 500 reply out of memory. */
api_reply_t metrics_fleet_get(stats_board_t *board);

/* Writes value into out (size bytes, NUL-terminated, cut to fit) as a label
 * value without its quotes: the exposition format escapes a backslash, a
 * double quote and a newline, and nothing else. Returns the length the
 * whole escaped value needs (as snprintf does). */
size_t metrics_escape(const char *value, char *out, size_t size);

#endif
