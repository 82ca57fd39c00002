/* histogram: see histogram.h. */
#include "histogram.h"

#include <stdlib.h>

int histogram_add(histogram_t *self, uint32_t per_tick, uint32_t ticks, bool over)
{
    if (self->n + ticks > self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 1024;
        while (cap < self->n + ticks)
            cap *= 2;
        uint32_t *values = realloc(self->values, cap * sizeof *values);
        if (!values)
            return -1;
        self->values = values;
        self->cap = cap;
    }
    for (uint32_t i = 0; i < ticks; i++)
        self->values[self->n++] = per_tick;
    if (over)
        self->over += ticks;
    return 0;
}

static int s_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least q of the values <= it. */
static uint32_t s_rank(const histogram_t *self, unsigned percent)
{
    size_t rank = (self->n * percent + 99) / 100;
    return self->values[rank ? rank - 1 : 0];
}

histogram_summary_t histogram_take(histogram_t *self)
{
    histogram_summary_t s = {0};
    if (self->n > 0) {
        qsort(self->values, self->n, sizeof *self->values, s_cmp);
        s = (histogram_summary_t){(uint32_t)self->n, self->values[self->n - 1], s_rank(self, 99),
                                  s_rank(self, 50), self->over};
    }
    self->n = 0;
    self->over = 0;
    return s;
}

void histogram_free(histogram_t *self)
{
    free(self->values);
    *self = (histogram_t){0};
}
