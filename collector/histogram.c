/* histogram: log-linear buckets (see histogram.h). Bucket b >= EXACT holds
 * values in [lower(b), lower(b+1)): power of two p = 2^(7 + (b-EXACT)/SUB),
 * lower = p + (b-EXACT)%SUB * p/SUB. */
#include "histogram.h"

#include <string.h>

static unsigned s_bucket(uint32_t v)
{
    if (v < HISTOGRAM_EXACT)
        return v;
    unsigned log2 = 31u - (unsigned)__builtin_clz(v); /* >= 7 */
    unsigned sub = (v >> (log2 - 4)) & (HISTOGRAM_SUB - 1);
    return HISTOGRAM_EXACT + (log2 - 7) * HISTOGRAM_SUB + sub;
}

static uint32_t s_lower(unsigned b)
{
    if (b < HISTOGRAM_EXACT)
        return b;
    unsigned log2 = 7 + (b - HISTOGRAM_EXACT) / HISTOGRAM_SUB;
    unsigned sub = (b - HISTOGRAM_EXACT) % HISTOGRAM_SUB;
    return (1u << log2) + sub * ((1u << log2) / HISTOGRAM_SUB);
}

void histogram_add(histogram_t *self, uint32_t per_tick, uint32_t ticks, bool over)
{
    self->counts[s_bucket(per_tick)] += ticks;
    self->n += ticks;
    if (per_tick > self->max)
        self->max = per_tick;
    if (over)
        self->over += ticks;
}

/* Nearest rank: the smallest value with at least percent% of the ticks at
 * or below it. */
static uint32_t s_rank(const histogram_t *self, unsigned percent)
{
    uint64_t rank = ((uint64_t)self->n * percent + 99) / 100, seen = 0;
    rank = rank ? rank : 1;
    for (unsigned b = 0; b < HISTOGRAM_BUCKETS; b++) {
        seen += self->counts[b];
        if (seen >= rank)
            return s_lower(b) < self->max ? s_lower(b) : self->max;
    }
    return self->max;
}

histogram_summary_t histogram_take(histogram_t *self)
{
    histogram_summary_t s = {0};
    if (self->n > 0)
        s = (histogram_summary_t){self->n, self->max, s_rank(self, 99), s_rank(self, 50),
                                  self->over};
    memset(self, 0, sizeof *self);
    return s;
}
