/* recorder: a plain ring; a profile walks the samples once, keeping the
 * cumulative packet count as a piecewise-linear function of time and
 * differencing it at tick boundaries. Assumes profiles are rare (one per
 * burst) and pushes are frequent (every tick of every interface). */
#include "recorder.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    int64_t t_ns;  /* end of the sample */
    int64_t dt_ns; /* its duration */
    uint32_t rx, tx;
} sample_t;

struct recorder {
    sample_t *ring;
    size_t cap;
    size_t head;  /* next slot to write */
    size_t count; /* samples held */
};

recorder_t *recorder_new(size_t capacity)
{
    recorder_t *self = calloc(1, sizeof *self);
    if (!self || !(self->ring = calloc(capacity, sizeof *self->ring))) {
        free(self);
        return NULL;
    }
    self->cap = capacity;
    return self;
}

void recorder_destroy(recorder_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->ring);
    free(*self_p);
    *self_p = NULL;
}

void recorder_push(recorder_t *self, int64_t t_ns, int64_t dt_ns, uint32_t rx, uint32_t tx)
{
    self->ring[self->head] = (sample_t){t_ns, dt_ns, rx, tx};
    if (++self->head == self->cap) /* no division: this runs per interface per tick */
        self->head = 0;
    if (self->count < self->cap)
        self->count++;
}

static const sample_t *s_at(const recorder_t *self, size_t i) /* 0 = oldest */
{
    return &self->ring[(self->head + self->cap - self->count + i) % self->cap];
}

/* Packets of sample s that fall before time x (linear within the sample). */
static double s_part(const sample_t *s, bool tx, int64_t x)
{
    double packets = tx ? s->tx : s->rx;
    int64_t start = s->t_ns - s->dt_ns;
    if (x <= start)
        return 0;
    if (x >= s->t_ns)
        return packets;
    return packets * (double)(x - start) / (double)s->dt_ns;
}

bool recorder_profile(const recorder_t *self, int64_t from_ns, int64_t tick_ns, size_t n, bool tx,
                      uint32_t *out)
{
    int64_t to_ns = from_ns + (int64_t)n * tick_ns;
    double before = 0; /* packets of whole samples before the current one */
    double prev_cum = 0;
    size_t i = 0;
    /* Skip the samples that end before the window. */
    while (i < self->count && s_at(self, i)->t_ns <= from_ns)
        i++;
    double start_part = i < self->count ? s_part(s_at(self, i), tx, from_ns) : 0;
    for (size_t k = 0; k < n; k++) {
        int64_t edge = from_ns + (int64_t)(k + 1) * tick_ns;
        while (i < self->count && s_at(self, i)->t_ns <= edge) {
            before += tx ? s_at(self, i)->tx : s_at(self, i)->rx;
            i++;
        }
        double cum = before - start_part + (i < self->count ? s_part(s_at(self, i), tx, edge) : 0);
        out[k] = (uint32_t)(llround(cum) - llround(prev_cum));
        prev_cum = cum;
    }
    if (self->count == 0)
        return false;
    const sample_t *oldest = s_at(self, 0), *newest = s_at(self, self->count - 1);
    return oldest->t_ns - oldest->dt_ns <= from_ns && newest->t_ns >= to_ns;
}
