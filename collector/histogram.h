/* histogram: the distribution of per-tick packet counts of one interface
 * and direction over one reporting interval (DESIGN §5 "rate histogram"):
 * max, p99, p50 and the ticks at or over the burst threshold, so that
 * sub-second structure survives without shipping every tick. Values are
 * kept exactly (at most interval/tick of them) and summarised by sorting. */
#ifndef DROPSCOPE_HISTOGRAM_H
#define DROPSCOPE_HISTOGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t *values; /* per-tick packet counts */
    size_t n, cap;
    uint32_t over;    /* ticks at or over the threshold */
} histogram_t;

typedef struct {
    uint32_t ticks, max, p99, p50, over;
} histogram_summary_t;

/* Adds `ticks` ticks (a late sample covers several) of `per_tick` packets
 * each. -1 when out of memory (the values are not added). */
int histogram_add(histogram_t *self, uint32_t per_tick, uint32_t ticks, bool over);

/* Summarises (nearest-rank percentiles) and empties the histogram. */
histogram_summary_t histogram_take(histogram_t *self);

void histogram_free(histogram_t *self);

#endif
