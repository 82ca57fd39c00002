/* histogram: the distribution of per-tick packet counts of one interface
 * and direction over one reporting interval (docs/ARCHITECTURE.md, Bursts "rate histogram"):
 * max, p99, p50 and the ticks at or over the burst threshold, so that
 * sub-second structure survives without shipping every tick. Adding a tick
 * is O(1) and allocation-free, because it runs for every interface on
 * every tick: counts below HISTOGRAM_EXACT are kept exactly, larger ones in
 * 16 buckets per power of two (a percentile is then the bucket's lower
 * bound, within 1/16 of the true value); the max is always exact. */
#ifndef DROPSCOPE_HISTOGRAM_H
#define DROPSCOPE_HISTOGRAM_H

#include <stdbool.h>
#include <stdint.h>

#define HISTOGRAM_EXACT 128
#define HISTOGRAM_SUB 16 /* buckets per power of two above HISTOGRAM_EXACT */
#define HISTOGRAM_BUCKETS (HISTOGRAM_EXACT + (32 - 7) * HISTOGRAM_SUB)

typedef struct {
    uint32_t counts[HISTOGRAM_BUCKETS];
    uint32_t n;    /* ticks added */
    uint32_t max;  /* exact */
    uint32_t over; /* ticks at or over the threshold */
} histogram_t;

typedef struct {
    uint32_t ticks, max, p99, p50, over;
} histogram_summary_t;

/* Adds `ticks` ticks (a late sample covers several) of `per_tick` packets. */
void histogram_add(histogram_t *self, uint32_t per_tick, uint32_t ticks, bool over);

/* Summarises (nearest-rank percentiles) and empties the histogram. */
histogram_summary_t histogram_take(histogram_t *self);

#endif
