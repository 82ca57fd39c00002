/* Tests collector/gapseq, the probe's sequence-gap tracker: hand-made
 * streams for each rule (in order, a gap, a late fill that splits a hole,
 * duplicates, restarts far ahead and far behind, a 16-bit wrap), and random
 * streams with drops, reorders, duplicates, restarts and wraps against a
 * naive reference: per stream, the numbers between its first and last
 * arrival that never arrived. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gapseq.h"

#define US INT64_C(1000)

typedef struct {
    gapseq_gap_t g[4096];
    size_t n;
} gaps_t;

static void s_keep(void *ctx, const gapseq_gap_t *gap)
{
    gaps_t *gs = ctx;
    assert_true(gs->n < 4096);
    assert_true(gap->first_seq <= gap->last_seq);
    assert_int_equal(gap->missing, gap->last_seq - gap->first_seq + 1);
    gs->g[gs->n++] = *gap;
}

static void test_in_order_has_no_gap(void **state)
{
    (void)state;
    gapseq_t *t = gapseq_new(8);
    gaps_t gs = {.n = 0};
    for (uint64_t s = 100; s < 10100; s++)
        gapseq_feed(t, s, (int64_t)s * US, s_keep, &gs);
    gapseq_flush(t, INT64_MAX, s_keep, &gs);
    assert_int_equal(gs.n, 0);
    assert_int_equal(gapseq_counts(t).received, 10000);
    gapseq_destroy(&t);
    gapseq_destroy(&t);
    assert_null(gapseq_new(3));
}

static void test_gap_held_then_reported(void **state)
{
    (void)state;
    gapseq_t *t = gapseq_new(8);
    gaps_t gs = {.n = 0};
    gapseq_feed(t, 1, 1000 * US, s_keep, &gs);
    gapseq_feed(t, 5, 1010 * US, s_keep, &gs); /* 2, 3, 4 missing: held */
    assert_int_equal(gs.n, 0);
    gapseq_feed(t, 3, 1020 * US, s_keep, &gs); /* late: splits the hole in two */
    assert_int_equal(gapseq_counts(t).reordered, 1);
    gapseq_feed(t, 3, 1030 * US, s_keep, &gs); /* again: a duplicate */
    assert_int_equal(gapseq_counts(t).duplicates, 1);
    gapseq_flush(t, 1010 * US + GAPSEQ_WINDOW_NS - 1, s_keep, &gs);
    assert_int_equal(gs.n, 0);
    gapseq_flush(t, 1010 * US + GAPSEQ_WINDOW_NS, s_keep, &gs);
    assert_int_equal(gs.n, 2);
    assert_int_equal(gs.g[0].first_seq, 2);
    assert_int_equal(gs.g[0].last_seq, 2);
    assert_int_equal(gs.g[1].first_seq, 4);
    assert_int_equal(gs.g[1].start_ns, 1000 * US); /* the datagrams around the hole */
    assert_int_equal(gs.g[1].end_ns, 1010 * US);
    assert_int_equal(gapseq_counts(t).missing, 2);
    gapseq_destroy(&t);
}

static void test_restarts_are_not_gaps(void **state)
{
    (void)state;
    gapseq_t *t = gapseq_new(8);
    gaps_t gs = {.n = 0};
    gapseq_feed(t, 5000000, 1 * US, s_keep, &gs);
    gapseq_feed(t, 5000002, 2 * US, s_keep, &gs); /* 5000001 missing */
    gapseq_feed(t, 0, 3 * US, s_keep, &gs);       /* back to 0: a restart */
    assert_int_equal(gs.n, 1);                    /* the old stream's hole, at once */
    assert_int_equal(gs.g[0].first_seq, 5000001);
    gapseq_feed(t, 1, 4 * US, s_keep, &gs);
    gapseq_feed(t, 1000000000, 5 * US, s_keep, &gs); /* far ahead: a restart */
    gapseq_feed(t, 1000000001, 6 * US, s_keep, &gs);
    gapseq_flush(t, INT64_MAX, s_keep, &gs);
    assert_int_equal(gs.n, 1);
    gapseq_counts_t c = gapseq_counts(t);
    assert_int_equal(c.restarts, 2);
    assert_int_equal(c.missing, 1);
    gapseq_destroy(&t);
    /* Restarted from 0 within GAPSEQ_BEHIND_MAX of where it was: a new
     * stream, whose own gap is reported, not a run of duplicates. */
    t = gapseq_new(8);
    gs.n = 0;
    for (uint64_t s = 10000; s < 10010; s++)
        gapseq_feed(t, s, (int64_t)s * US, s_keep, &gs);
    gapseq_feed(t, 0, 20000 * US, s_keep, &gs);
    gapseq_feed(t, 1, 20001 * US, s_keep, &gs);
    gapseq_feed(t, 3, 20002 * US, s_keep, &gs); /* 2 missing */
    gapseq_feed(t, 1, 20003 * US, s_keep, &gs); /* a duplicate now */
    gapseq_flush(t, INT64_MAX, s_keep, &gs);
    c = gapseq_counts(t);
    assert_int_equal(c.restarts, 1);
    assert_int_equal(c.duplicates, 1);
    assert_int_equal(c.missing, 1);
    assert_int_equal(gs.n, 1);
    assert_int_equal(gs.g[0].first_seq, 2);
    gapseq_destroy(&t);
}

static void test_wrap_16(void **state)
{
    (void)state;
    gapseq_t *t = gapseq_new(2);
    gaps_t gs = {.n = 0};
    gapseq_feed(t, 65533, 1 * US, s_keep, &gs);
    gapseq_feed(t, 2, 2 * US, s_keep, &gs); /* 65534, 65535, 0, 1 missing */
    gapseq_flush(t, INT64_MAX, s_keep, &gs);
    assert_int_equal(gs.n, 2);
    assert_int_equal(gs.g[0].first_seq, 65534);
    assert_int_equal(gs.g[0].last_seq, 65535);
    assert_int_equal(gs.g[1].first_seq, 0);
    assert_int_equal(gs.g[1].last_seq, 1);
    assert_int_equal(gapseq_counts(t).restarts, 0);
    gapseq_destroy(&t);
}

/* --- random streams against the reference ---------------------------------- */

#define NSTREAM 6000

typedef struct {
    uint64_t seq[NSTREAM * 2]; /* what the receiver gets, in arrival order */
    size_t n;
    uint64_t missing; /* the reference's count */
    uint8_t *lost;    /* by stream position: never arrived */
    uint64_t base[8]; /* each stream's first number */
    size_t nstreams, len[8];
} stream_t;

/* Streams of `len` numbers each, from random starts (near the wrap for
 * some), with ~1% dropped, neighbours swapped, ~0.5% duplicated. */
static void s_make(stream_t *st, uint64_t mask, unsigned seed)
{
    srand(seed);
    memset(st, 0, sizeof *st);
    st->nstreams = 1 + (size_t)(rand() % 3);
    st->lost = calloc(NSTREAM * 8, 1);
    for (size_t k = 0; k < st->nstreams; k++) {
        size_t len = NSTREAM / st->nstreams;
        /* far apart: a restart each time (2^24 on, or near the wrap, which
         * the stream crosses) */
        uint64_t base = k % 2 ? (UINT64_C(1) << 24) + (uint64_t)(rand() % 100)
                              : (mask - (uint64_t)(rand() % 3000));
        st->base[k] = base, st->len[k] = len;
        size_t from = st->n;
        for (size_t i = 0; i < len; i++) {
            bool drop = i > 0 && i + 1 < len && rand() % 100 == 0;
            st->lost[k * NSTREAM + i] = drop;
            if (drop)
                continue;
            st->seq[st->n++] = (base + i) & mask;
            if (rand() % 200 == 0)
                st->seq[st->n++] = (base + i) & mask;
        }
        for (size_t i = from + 1; i + 1 < st->n; i++) /* reorder neighbours, not the ends */
            if (rand() % 50 == 0) {
                uint64_t x = st->seq[i];
                st->seq[i] = st->seq[i + 1];
                st->seq[i + 1] = x;
                i++;
            }
        for (size_t i = 0; i < len; i++)
            st->missing += st->lost[k * NSTREAM + i];
    }
}

static void s_random(uint64_t mask, int len, unsigned seed)
{
    stream_t *st = malloc(sizeof *st);
    s_make(st, mask, seed);
    gapseq_t *t = gapseq_new(len);
    gaps_t *gs = calloc(1, sizeof *gs);
    for (size_t i = 0; i < st->n; i++)
        gapseq_feed(t, st->seq[i], (int64_t)i * US, s_keep, gs);
    gapseq_flush(t, INT64_MAX, s_keep, gs);
    uint64_t sum = 0;
    for (size_t i = 0; i < gs->n; i++) { /* every number reported is one the reference lost */
        sum += gs->g[i].missing;
        for (uint64_t s = gs->g[i].first_seq; s <= gs->g[i].last_seq; s++) {
            bool found = false;
            for (size_t k = 0; k < st->nstreams && !found; k++) {
                uint64_t at = (s - st->base[k]) & mask;
                found = at < st->len[k] && st->lost[k * NSTREAM + at];
            }
            assert_true(found);
        }
    }
    gapseq_counts_t c = gapseq_counts(t);
    assert_int_equal(sum, st->missing);
    assert_int_equal(c.missing, st->missing);
    assert_int_equal(c.restarts, st->nstreams - 1);
    assert_int_equal(c.received, st->n);
    gapseq_destroy(&t);
    free(gs);
    free(st->lost);
    free(st);
}

static void test_random_streams(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 40; seed++) {
        s_random(UINT64_MAX, 8, seed);
        s_random(UINT32_MAX, 4, seed);
    }
}

/* 16 bits: a restart cannot be told from a wrap by distance alone beyond a
 * quarter of the space, so one stream, across the wrap. */
static void test_random_wraps_16(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 40; seed++) {
        stream_t *st = malloc(sizeof *st);
        s_make(st, 0xffff, seed);
        gapseq_t *t = gapseq_new(2);
        gaps_t *gs = calloc(1, sizeof *gs);
        size_t n = st->nstreams == 1 ? st->n : 0;
        for (size_t i = 0; i < n; i++)
            gapseq_feed(t, st->seq[i], (int64_t)i * US, s_keep, gs);
        gapseq_flush(t, INT64_MAX, s_keep, gs);
        if (n)
            assert_int_equal(gapseq_counts(t).missing, st->missing);
        gapseq_destroy(&t);
        free(gs);
        free(st->lost);
        free(st);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_has_no_gap),   cmocka_unit_test(test_gap_held_then_reported),
        cmocka_unit_test(test_restarts_are_not_gaps), cmocka_unit_test(test_wrap_16),
        cmocka_unit_test(test_random_streams),        cmocka_unit_test(test_random_wraps_16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
