/* gapseq: an application's sequence numbers into gap events (pure: no I/O,
 * no clock but the times it is fed). Built for one receiver of one stream:
 * nearly every datagram is the next one, so a feed is O(1) unless it falls
 * behind the expected number, when it searches the few holes still open.
 *
 * The rules (docs/COUNTERS.md, probe series), with M = 2^(8 * LEN):
 * - ahead by 1..GAPSEQ_AHEAD_MAX (or M/2 when smaller) of the expected
 *   number: the numbers skipped are a hole, held open for a reorder window
 *   (GAPSEQ_WINDOW_NS after it opened, or GAPSEQ_WINDOW_COUNT datagrams)
 *   and then reported as a gap;
 * - behind by 1..GAPSEQ_BEHIND_MAX (or M/4): a late datagram that fills
 *   (part of) an open hole (`reordered`), or else a duplicate or a datagram
 *   later than the window (`duplicates`): never a gap, never negative;
 *   but a number below GAPSEQ_WINDOW_COUNT that fills no hole, behind by
 *   GAPSEQ_WINDOW_COUNT or more, is the sender begun again from 0 or 1;
 * - anything else (far ahead, far behind) is the sender restarting too: a new stream, no gap; the old stream's open holes
 *   are reported at once (they can no longer be filled);
 * - numbers wrap at M: ahead and behind are measured modulo M, and a hole
 *   across the wrap is reported as two gaps, so first_seq <= last_seq. */
#ifndef DROPSCOPE_GAPSEQ_H
#define DROPSCOPE_GAPSEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GAPSEQ_WINDOW_NS (100 * 1000 * 1000) /* a hole may be filled this long */
#define GAPSEQ_WINDOW_COUNT 4096             /* or while this many datagrams arrive */
#define GAPSEQ_AHEAD_MAX (1u << 20)          /* further ahead: a restart (~1M) */
#define GAPSEQ_BEHIND_MAX (1u << 16)         /* further behind: a restart */
#define GAPSEQ_MAX_HOLES 64                  /* open at once; the oldest goes out first */

/* A run of sequence numbers that never arrived. */
typedef struct {
    int64_t start_ns;   /* arrival of the datagram before the hole */
    int64_t end_ns;     /* arrival of the datagram after it */
    uint64_t missing;   /* last_seq - first_seq + 1 */
    uint64_t first_seq; /* the first and last missing numbers, as the sender numbered them */
    uint64_t last_seq;
} gapseq_gap_t;

/* What the tracker has seen since it was made. */
typedef struct {
    uint64_t received;   /* datagrams fed */
    uint64_t missing;    /* numbers reported in gaps */
    uint64_t reordered;  /* late datagrams that filled part of an open hole */
    uint64_t duplicates; /* datagrams behind that filled nothing (duplicates, or later than
                            the window) */
    uint64_t restarts;   /* new streams after the first */
} gapseq_counts_t;

typedef void gapseq_emit_fn(void *ctx, const gapseq_gap_t *gap);

typedef struct gapseq gapseq_t;
/* A tracker for numbers of len bytes (2, 4 or 8); NULL for another len or
 * when out of memory. */
gapseq_t *gapseq_new(int len);
/* Frees a tracker and nulls *self_p; safe on NULL and twice. */
void gapseq_destroy(gapseq_t **self_p);

/* One datagram numbered seq (taken modulo M) arrived at ts_ns; the gaps
 * whose window has passed go to emit. */
void gapseq_feed(gapseq_t *self, uint64_t seq, int64_t ts_ns, gapseq_emit_fn *emit, void *ctx);
/* Reports the holes whose window has passed at now_ns (all of them with
 * now_ns = INT64_MAX). */
void gapseq_flush(gapseq_t *self, int64_t now_ns, gapseq_emit_fn *emit, void *ctx);
gapseq_counts_t gapseq_counts(const gapseq_t *self);

#endif
