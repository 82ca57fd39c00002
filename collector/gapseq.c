/* gapseq: holes are kept as (first, count) modulo M, so a wrap needs no
 * unwrapped counter: a number s is in a hole when (s - first) mod M < count.
 * Holes are few (one per loss event still inside its window): a list in
 * opening order, searched only by datagrams that arrive behind. */
#include "gapseq.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t first, count; /* missing numbers first .. first + count - 1 (mod M) */
    int64_t start_ns, end_ns;
    int64_t opened_ns;  /* when the datagram that opened it arrived */
    uint64_t opened_at; /* received count then */
} hole_t;

struct gapseq {
    uint64_t mask; /* M - 1 */
    uint64_t ahead_max, behind_max;
    bool started;                   /* a datagram has been seen */
    uint64_t next;                  /* the number expected next */
    int64_t last_ns;                /* arrival of the newest datagram in order */
    hole_t holes[GAPSEQ_MAX_HOLES]; /* open, oldest first */
    size_t nholes;
    gapseq_counts_t counts;
};

gapseq_t *gapseq_new(int len)
{
    if (len != 2 && len != 4 && len != 8)
        return NULL;
    gapseq_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->mask = len == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * len)) - 1;
    uint64_t half = self->mask / 2 + 1;
    self->ahead_max = GAPSEQ_AHEAD_MAX < half ? GAPSEQ_AHEAD_MAX : half;
    self->behind_max = GAPSEQ_BEHIND_MAX < half / 2 ? GAPSEQ_BEHIND_MAX : half / 2;
    return self;
}

void gapseq_destroy(gapseq_t **self_p)
{
    if (self_p && *self_p) {
        free(*self_p);
        *self_p = NULL;
    }
}

/* Reports hole i and removes it; a hole across the wrap goes out as two gaps. */
static void s_report(gapseq_t *self, size_t i, gapseq_emit_fn *emit, void *ctx)
{
    hole_t h = self->holes[i];
    memmove(&self->holes[i], &self->holes[i + 1], (self->nholes - i - 1) * sizeof h);
    self->nholes--;
    self->counts.missing += h.count;
    uint64_t room = self->mask - h.first; /* numbers after first before the wrap */
    uint64_t head = h.count - 1 <= room ? h.count : room + 1;
    gapseq_gap_t g = {h.start_ns, h.end_ns, head, h.first, h.first + head - 1};
    emit(ctx, &g);
    if (head < h.count) {
        g = (gapseq_gap_t){h.start_ns, h.end_ns, h.count - head, 0, h.count - head - 1};
        emit(ctx, &g);
    }
}

static void s_open(gapseq_t *self, uint64_t first, uint64_t count, int64_t ts_ns,
                   gapseq_emit_fn *emit, void *ctx)
{
    if (self->nholes == GAPSEQ_MAX_HOLES)
        s_report(self, 0, emit, ctx);
    self->holes[self->nholes++] =
        (hole_t){first, count, self->last_ns, ts_ns, ts_ns, self->counts.received};
}

/* A late datagram s: fills (part of) the hole holding it. False if none does. */
static bool s_fill(gapseq_t *self, uint64_t s, gapseq_emit_fn *emit, void *ctx)
{
    for (size_t i = 0; i < self->nholes; i++) {
        hole_t *h = &self->holes[i];
        uint64_t at = (s - h->first) & self->mask;
        if (at >= h->count)
            continue;
        if (at == 0) {
            h->first = (h->first + 1) & self->mask;
            h->count--;
        } else if (at == h->count - 1) {
            h->count--;
        } else { /* split: the tail becomes a hole of its own, opened alike */
            hole_t tail = *h;
            tail.first = (s + 1) & self->mask;
            tail.count = h->count - at - 1;
            h->count = at;
            if (self->nholes == GAPSEQ_MAX_HOLES) { /* no room: the head goes out now */
                s_report(self, i, emit, ctx);
                memmove(&self->holes[i + 1], &self->holes[i], (self->nholes - i) * sizeof tail);
            } else {
                memmove(&self->holes[i + 2], &self->holes[i + 1],
                        (self->nholes - i - 1) * sizeof tail);
                i++;
            }
            self->holes[i] = tail;
            self->nholes++;
            return true;
        }
        if (self->holes[i].count == 0) {
            memmove(&self->holes[i], &self->holes[i + 1],
                    (self->nholes - i - 1) * sizeof self->holes[i]);
            self->nholes--;
        }
        return true;
    }
    return false;
}

void gapseq_flush(gapseq_t *self, int64_t now_ns, gapseq_emit_fn *emit, void *ctx)
{
    while (self->nholes > 0) {
        const hole_t *h = &self->holes[0];
        bool expired = now_ns == INT64_MAX || now_ns - h->opened_ns >= GAPSEQ_WINDOW_NS ||
                       self->counts.received - h->opened_at >= GAPSEQ_WINDOW_COUNT;
        if (!expired)
            return;
        s_report(self, 0, emit, ctx);
    }
}

void gapseq_feed(gapseq_t *self, uint64_t seq, int64_t ts_ns, gapseq_emit_fn *emit, void *ctx)
{
    uint64_t s = seq & self->mask;
    self->counts.received++;
    uint64_t ahead = (s - self->next) & self->mask;
    uint64_t behind = (self->next - 1 - s) & self->mask; /* 0: the newest again */
    if (!self->started) {
        self->started = true;
    } else if (ahead < self->ahead_max) {
        if (ahead > 0)
            s_open(self, self->next, ahead, ts_ns, emit, ctx);
    } else if (behind < self->behind_max && s_fill(self, s, emit, ctx)) {
        self->counts.reordered++;
        gapseq_flush(self, ts_ns, emit, ctx);
        return;
    } else if (behind < self->behind_max &&
               (behind < GAPSEQ_WINDOW_COUNT || s >= GAPSEQ_WINDOW_COUNT)) {
        self->counts.duplicates++;
        gapseq_flush(self, ts_ns, emit, ctx);
        return;
    } else { /* a new stream (far off, or back to a small number past the reorder
              * window): what the old one left open cannot be filled now */
        self->counts.restarts++;
        gapseq_flush(self, INT64_MAX, emit, ctx);
    }
    self->next = (s + 1) & self->mask;
    self->last_ns = ts_ns;
    gapseq_flush(self, ts_ns, emit, ctx);
}

gapseq_counts_t gapseq_counts(const gapseq_t *self)
{
    return self->counts;
}
