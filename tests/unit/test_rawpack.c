/* Tests aggregator/rawpack, the raw history's block codec: random blocks
 * (gaps, resets, u64 wraps, bursts, flat runs, jittered and irregular
 * time, incarnation changes, seq jumps, empty batches, 1000+ series, ids
 * up to UINT32_MAX) packed at every mode and unpacked back to exactly the
 * input, the naive reference, field by field; the edges (no batch, one
 * batch, one sample); input the packer refuses; every truncation and
 * flipped byte of a block, random bytes and blocks that claim too much,
 * refused or read back consistently, never a crash. And a realistic
 * minute of a host, whose size a sample is asserted <= 2 bytes and
 * printed beside STORE_PACK_VARINT's, with the time at zstd levels 1, 3,
 * 9 and 19. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zstd.h>

#include "rawpack.h"
#include "sample.h"

#define SEC INT64_C(1000000000)

/* --- blocks and their reference comparison -------------------------------- */

/* A block's input: what the store would hand the packer. */
typedef struct {
    rawpack_batch_t *b; /* nb batches in capb slots */
    size_t nb, capb;
    store_sample_t *s; /* ns samples in caps slots */
    size_t ns, caps;
} block_t;

static uint64_t s_rng = 88172645463325252u;

static uint64_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/* A number in [0, n). */
static uint64_t s_below(uint64_t n)
{
    return n ? s_rand() % n : 0;
}

static bool s_chance(double p)
{
    return (double)(s_rand() >> 11) / 9007199254740992.0 < p;
}

static rawpack_batch_t *s_add_batch(block_t *k, int64_t ts, int64_t prev, int64_t recv, int64_t inc,
                                    int64_t seq)
{
    if (k->nb == k->capb) {
        k->capb = k->capb ? k->capb * 2 : 64;
        k->b = realloc(k->b, k->capb * sizeof *k->b);
        assert_non_null(k->b);
    }
    k->b[k->nb] = (rawpack_batch_t){ts, prev, recv, inc, seq, 0};
    return &k->b[k->nb++];
}

/* A sample into the last batch. */
static void s_add_sample(block_t *k, uint32_t id, uint32_t flags, uint64_t value, int64_t delta)
{
    if (k->ns == k->caps) {
        k->caps = k->caps ? k->caps * 2 : 256;
        k->s = realloc(k->s, k->caps * sizeof *k->s);
        assert_non_null(k->s);
    }
    k->s[k->ns++] = (store_sample_t){id, flags, value, delta};
    k->b[k->nb - 1].nsamples++;
}

static void s_block_free(block_t *k)
{
    free(k->b);
    free(k->s);
    *k = (block_t){0};
}

/* The reference: every field of every batch and sample the same, in order. */
static void s_assert_same(const block_t *k, const rawpack_batch_t *b, size_t nb,
                          const store_sample_t *s, size_t ns)
{
    assert_int_equal(nb, k->nb);
    assert_int_equal(ns, k->ns);
    for (size_t i = 0; i < nb; i++) {
        assert_int_equal(b[i].ts_ns, k->b[i].ts_ns);
        assert_int_equal(b[i].prev_ts_ns, k->b[i].prev_ts_ns);
        assert_int_equal(b[i].received_ns, k->b[i].received_ns);
        assert_int_equal(b[i].incarnation, k->b[i].incarnation);
        assert_int_equal(b[i].seq, k->b[i].seq);
        assert_int_equal(b[i].nsamples, k->b[i].nsamples);
    }
    for (size_t i = 0; i < ns; i++) {
        assert_int_equal(s[i].series_id, k->s[i].series_id);
        assert_int_equal(s[i].flags, k->s[i].flags);
        assert_int_equal(s[i].value, k->s[i].value);
        assert_int_equal(s[i].delta, k->s[i].delta);
    }
}

/* Packs k at level; returns the block (*len bytes, the caller frees). */
static unsigned char *s_pack(const block_t *k, int level, size_t *len)
{
    char err[256] = "";
    unsigned char *out = NULL;
    int rc = rawpack_pack(k->b, k->nb, k->s, k->ns, level, &out, len, err, sizeof err);
    if (rc != 0)
        fail_msg("rawpack_pack: %s", err);
    assert_string_equal(err, "");
    return out;
}

/* k packed at level unpacks to k. Returns the block's size. */
static size_t s_round_trip(const block_t *k, int level)
{
    size_t len, nb, ns;
    unsigned char *blob = s_pack(k, level, &len);
    rawpack_batch_t *b;
    store_sample_t *s;
    char err[256];
    if (rawpack_unpack(blob, len, &b, &nb, &s, &ns, err, sizeof err) != 0)
        fail_msg("rawpack_unpack at level %d: %s", level, err);
    assert_string_equal(err, "");
    s_assert_same(k, b, nb, s, ns);
    assert_true(nb ? b != NULL : b == NULL);
    assert_true(ns ? s != NULL : s == NULL);
    free(b);
    free(s);
    free(blob);
    return len;
}

static void s_round_trips(const block_t *k)
{
    static const int levels[] = {0, 1, 3};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        s_round_trip(k, levels[i]);
}

/* --- random blocks ------------------------------------------------------- */

/* The knobs of a random block. */
typedef struct {
    size_t nb, nseries;
    uint32_t id_step;  /* ids step by 1 + up to this */
    bool id_top;       /* the last id is UINT32_MAX */
    double p_change;   /* a series in a batch that is not full */
    size_t full_every; /* every series in batches i % full_every == 0 */
    double p_reset;    /* a sample is a counter reset (value falls) */
    double p_first;    /* a sample is a first (a new baseline) */
    double p_burst;    /* a series' delta jumps */
    bool wrap;         /* values near 2^64, deltas near +-2^63 */
    int64_t jitter_ns; /* of the timestamps */
    bool irregular;    /* steps of any size, even backwards */
    double p_inc;      /* the incarnation changes at a batch */
    double p_seq_jump; /* the seq jumps at a batch */
    double p_empty;    /* a batch holds nothing */
} gen_t;

/* A series' state in the generator. */
typedef struct {
    uint32_t id;
    uint64_t value;
    int64_t delta; /* its steady step */
} series_t;

static int64_t s_jitter(int64_t j)
{
    return j ? (int64_t)s_below((uint64_t)(2 * j + 1)) - j : 0;
}

static void s_gen_sample(block_t *k, const gen_t *g, series_t *se)
{
    uint32_t flags = 0;
    int64_t delta = se->delta;
    if (s_chance(g->p_burst))
        delta = g->wrap ? (int64_t)s_rand() : (int64_t)s_below(100000) - 1000;
    else if (s_chance(0.2))
        delta = 0;
    uint64_t value = se->value + (uint64_t)delta;
    if (s_chance(g->p_reset)) {
        flags = SAMPLE_RESET;
        value = s_below(1000);
        delta = (int64_t)value;
    } else if (s_chance(g->p_first)) {
        flags = SAMPLE_FIRST | (s_chance(0.1) ? 0x80000000u : 0);
        value = g->wrap ? UINT64_MAX - s_below(100) : s_below(1u << 30);
        delta = 0;
    }
    se->value = value;
    s_add_sample(k, se->id, flags, value, delta);
}

static void s_gen_batch(block_t *k, const gen_t *g, series_t *se, size_t i)
{
    const rawpack_batch_t *a = k->nb ? &k->b[k->nb - 1] : NULL;
    int64_t ts = a ? a->ts_ns + SEC + s_jitter(g->jitter_ns) : INT64_C(1795359570) * SEC;
    if (g->irregular && a)
        ts = a->ts_ns + (int64_t)s_below(UINT64_C(1) << 40) - (INT64_C(1) << 38);
    if (g->wrap && s_chance(0.1))
        ts = (int64_t)s_rand(); /* anywhere, INT64_MIN and MAX included */
    int64_t prev = a && !s_chance(0.1) ? a->ts_ns : ts - SEC + s_jitter(g->jitter_ns);
    int64_t inc = a && !s_chance(g->p_inc) ? a->incarnation : (int64_t)s_rand();
    int64_t seq = !a ? (int64_t)s_below(1000) : a->seq + 1;
    if (a && s_chance(g->p_seq_jump))
        seq = g->wrap ? (int64_t)s_rand() : a->seq + 1 + (int64_t)s_below(1000);
    if (a && inc != a->incarnation)
        seq = 1;
    s_add_batch(k, ts, prev, ts + (int64_t)s_below(5000000), inc, seq);
    if (s_chance(g->p_empty))
        return;
    bool full = g->full_every && i % g->full_every == 0;
    for (size_t j = 0; j < g->nseries; j++)
        if (full || s_chance(g->p_change))
            s_gen_sample(k, g, &se[j]);
}

static void s_gen(block_t *k, const gen_t *g)
{
    series_t *se = calloc(g->nseries + 1, sizeof *se);
    assert_non_null(se);
    uint32_t id = (uint32_t)s_below(g->id_step + 1);
    for (size_t j = 0; j < g->nseries; j++) {
        se[j].id = id;
        id += 1 + (uint32_t)s_below(g->id_step + 1);
        se[j].value = g->wrap ? UINT64_MAX - s_below(1u << 20) : s_below(1u << 30);
        se[j].delta =
            g->wrap && s_chance(0.5) ? INT64_MIN + (int64_t)s_below(10) : (int64_t)s_below(20);
    }
    if (g->id_top && g->nseries) /* the last series at the very top */
        se[g->nseries - 1].id = UINT32_MAX;
    for (size_t i = 0; i < g->nb; i++)
        s_gen_batch(k, g, se, i);
    free(se);
}

static void s_random_gen(gen_t *g)
{
    *g = (gen_t){
        .nb = 1 + s_below(80),
        .nseries = 1 + s_below(s_chance(0.1) ? 1500 : 100),
        .id_step = s_chance(0.5) ? 0 : (uint32_t)s_below(s_chance(0.3) ? 1u << 20 : 5),
        .id_top = s_chance(0.3),
        .p_change = s_chance(0.2) ? 1.0 : (double)s_below(100) / 100,
        .full_every = s_chance(0.7) ? 1 + s_below(60) : 0,
        .p_reset = s_chance(0.3) ? 0.05 : 0,
        .p_first = s_chance(0.3) ? 0.05 : 0,
        .p_burst = s_chance(0.5) ? 0.1 : 0.01,
        .wrap = s_chance(0.2),
        .jitter_ns = s_chance(0.5) ? (int64_t)s_below(5000000) : 0,
        .irregular = s_chance(0.1),
        .p_inc = s_chance(0.2) ? 0.05 : 0,
        .p_seq_jump = s_chance(0.2) ? 0.1 : 0,
        .p_empty = s_chance(0.3) ? 0.2 : 0,
    };
    if (g->id_step > UINT32_MAX / 2 / (g->nseries + 1))
        g->id_step = (uint32_t)(UINT32_MAX / 2 / (g->nseries + 1));
}

static void test_random_blocks(void **state)
{
    (void)state;
    for (int round = 0; round < 300; round++) {
        gen_t g;
        s_random_gen(&g);
        block_t k = {0};
        s_gen(&k, &g);
        s_round_trips(&k);
        if (round % 50 == 0)
            s_round_trip(&k, 19);
        s_block_free(&k);
    }
}

/* Each hard case alone, at its extreme. */
static void test_extremes(void **state)
{
    (void)state;
    static const gen_t cases[] = {
        {.nb = 60, .nseries = 1200, .p_change = 0.3, .full_every = 60},
        {.nb = 60, .nseries = 50, .p_change = 1, .wrap = true, .p_burst = 0.5},
        {.nb = 60, .nseries = 50, .p_change = 0.5, .p_reset = 0.3, .p_first = 0.1},
        {.nb = 60, .nseries = 20, .p_change = 0, .full_every = 0}, /* every batch empty */
        {.nb = 60, .nseries = 20, .p_change = 0.1, .id_step = 200000000, .id_top = true},
        {.nb = 100, .nseries = 10, .p_change = 1, .irregular = true, .p_seq_jump = 0.5},
        {.nb = 100, .nseries = 10, .p_change = 1, .p_inc = 0.3, .jitter_ns = 900000000},
        {.nb = 60, .nseries = 75, .p_change = 1, .p_empty = 0.5},
        {.nb = 1, .nseries = 3, .full_every = 1},
        {.nb = 600, .nseries = 2000, .p_change = 0.05, .full_every = 60},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        block_t k = {0};
        s_gen(&k, &cases[c]);
        s_round_trips(&k);
        s_block_free(&k);
    }
}

static void test_edges(void **state)
{
    (void)state;
    block_t k = {0};
    s_round_trips(&k); /* no batch at all */
    s_add_batch(&k, 0, 0, 0, 0, 0);
    s_round_trips(&k); /* one empty batch, all zero */
    s_add_sample(&k, UINT32_MAX, UINT32_MAX, UINT64_MAX, INT64_MIN);
    s_round_trips(&k); /* one sample, every field at its top */
    s_add_batch(&k, INT64_MIN, INT64_MAX, INT64_MAX, INT64_MIN, INT64_MAX);
    s_add_sample(&k, 0, 0, 0, INT64_MAX);
    s_add_sample(&k, UINT32_MAX, 0, 1, 1);
    s_add_batch(&k, INT64_MAX, INT64_MIN, INT64_MIN, INT64_MAX, INT64_MIN);
    s_round_trips(&k); /* every step wrapping */
    s_block_free(&k);
}

/* --- what the packer refuses --------------------------------------------- */

static void s_assert_refused(const block_t *k, int level, const char *needle)
{
    char err[256] = "";
    unsigned char *out = (unsigned char *)"x";
    size_t len = 7;
    assert_int_equal(rawpack_pack(k->b, k->nb, k->s, k->ns, level, &out, &len, err, sizeof err),
                     -1);
    assert_null(out);
    assert_int_equal(len, 0);
    if (!strstr(err, needle))
        fail_msg("\"%s\" does not say \"%s\"", err, needle);
}

static void test_pack_refuses(void **state)
{
    (void)state;
    block_t k = {0};
    s_add_batch(&k, 1, 0, 2, 3, 4);
    s_add_sample(&k, 5, 0, 1, 1);
    s_add_sample(&k, 5, 0, 1, 1);
    s_assert_refused(&k, 3, "strictly ascending");
    k.s[1].series_id = 4;
    s_assert_refused(&k, 3, "series 4 after 5");
    k.s[1].series_id = 6;
    s_assert_refused(&k, -1, "level -1");
    s_assert_refused(&k, 23, "level 23");
    k.b[0].nsamples = 3;
    s_assert_refused(&k, 3, "run past");
    k.b[0].nsamples = 1;
    s_assert_refused(&k, 3, "not the 2 given");
    k.b[0].nsamples = 2;
    s_round_trips(&k);
    block_t big = k;
    big.nb = RAWPACK_BATCHES_MAX + 1;
    s_assert_refused(&big, 3, "over the bounds");
    s_block_free(&k);
}

/* --- what the unpacker refuses ------------------------------------------- */

/* Unpacks len bytes (copied to a buffer of exactly that size): refused
 * with a message and nothing out, or read back as a block that packs and
 * unpacks the same. Returns the result. */
static int s_unpack_any(const unsigned char *data, size_t len)
{
    unsigned char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, data, len);
    rawpack_batch_t *b = (rawpack_batch_t *)copy;
    store_sample_t *s = (store_sample_t *)copy;
    size_t nb = 9, ns = 9;
    char err[256] = "x";
    int rc = rawpack_unpack(copy, len, &b, &nb, &s, &ns, err, sizeof err);
    if (rc != 0) {
        assert_int_equal(rc, -1);
        assert_true(strncmp(err, "rawpack: ", 9) == 0);
        assert_true(!b && !s && !nb && !ns);
    } else {
        assert_string_equal(err, "");
        block_t k = {b, nb, nb, s, ns, ns};
        s_round_trip(&k, 0);
        s_round_trip(&k, 1);
        s_block_free(&k);
    }
    free(copy);
    return rc;
}

/* A small block of every kind of sample. */
static void s_small_block(block_t *k)
{
    gen_t g = {.nb = 12,
               .nseries = 9,
               .p_change = 0.5,
               .full_every = 5,
               .p_reset = 0.1,
               .p_first = 0.1,
               .p_burst = 0.2,
               .jitter_ns = 300000,
               .p_inc = 0.1,
               .p_seq_jump = 0.1,
               .p_empty = 0.1};
    s_gen(k, &g);
}

static void test_truncated_and_flipped(void **state)
{
    (void)state;
    block_t k = {0};
    s_small_block(&k);
    static const int levels[] = {0, 3};
    for (size_t l = 0; l < 2; l++) {
        size_t len;
        unsigned char *blob = s_pack(&k, levels[l], &len);
        for (size_t n = 0; n < len; n++)
            assert_int_equal(s_unpack_any(blob, n), -1); /* every prefix refused */
        int accepted = 0;
        for (size_t i = 0; i < len; i++)
            for (unsigned m = 1; m < 256; m <<= 1) {
                blob[i] ^= (unsigned char)m;
                accepted += s_unpack_any(blob, len) == 0;
                blob[i] ^= (unsigned char)m;
            }
        printf("rawpack: level %d: %zu bytes, %d of %zu one-bit flips still a block\n", levels[l],
               len, accepted, len * 8);
        free(blob);
    }
    s_block_free(&k);
}

static void test_garbage(void **state)
{
    (void)state;
    unsigned char buf[512];
    assert_int_equal(s_unpack_any(NULL, 0), -1);
    for (int round = 0; round < 20000; round++) {
        size_t len = s_below(sizeof buf + 1);
        for (size_t i = 0; i < len; i++)
            buf[i] = round % 3 ? (unsigned char)s_below(4) : (unsigned char)s_rand();
        if (len > 1 && round % 2) {
            buf[0] = RAWPACK_VERSION;
            buf[1] = (unsigned char)s_below(2);
        }
        s_unpack_any(buf, len);
    }
}

/* Blocks whose header claims more than the bounds. */
static void test_claims_too_much(void **state)
{
    (void)state;
    char err[256];
    rawpack_batch_t *b;
    store_sample_t *s;
    size_t nb, ns;
    /* raw: 2^20 batches */
    unsigned char raw[32] = {RAWPACK_VERSION, 0, 0x80, 0x80, 0x40, 0, 0};
    assert_int_equal(rawpack_unpack(raw, sizeof raw, &b, &nb, &s, &ns, err, sizeof err), -1);
    assert_non_null(strstr(err, "1048576 batches"));
    /* raw: one series in both of 2 batches, but 5 samples said */
    unsigned char lie[] = {RAWPACK_VERSION, 0, 2, 1, 5, 0, /* the columns' lengths: */
                           2, 2, 2, 2, 2, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, /* delta_width, planes: */
                           0, 0, 0, 0, 0, 0, 0, 0,
                           /* ts .. seq, ids, presence */
                           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
    assert_int_equal(rawpack_unpack(lie, sizeof lie, &b, &nb, &s, &ns, err, sizeof err), -1);
    assert_non_null(strstr(err, "places 2 samples, the header says 5"));
    /* zstd: a frame of 64 MiB + 1 of zeros, over the bound before any allocation */
    size_t big = RAWPACK_RAW_MAX + 1;
    unsigned char *zeros = calloc(big, 1);
    unsigned char *frame = malloc(big);
    assert_true(zeros && frame);
    frame[0] = RAWPACK_VERSION, frame[1] = 1;
    size_t n = ZSTD_compress(frame + 2, big - 2, zeros, big, 1);
    assert_false(ZSTD_isError(n));
    assert_int_equal(rawpack_unpack(frame, n + 2, &b, &nb, &s, &ns, err, sizeof err), -1);
    assert_non_null(strstr(err, "too large"));
    free(zeros);
    free(frame);
}

/* --- a realistic minute -------------------------------------------------- */

/* A host's minute: 75 series, 60 batches at 1 s (jitter up to 300 µs,
 * received 1-5 ms after), the first batch full. Series 0-9 change every
 * second by a mostly steady small step, 10-19 now and then by a burst; the
 * others stay as they are, in the full batch only, or (every_batch) in
 * every batch as well with delta 0. */
static void s_realistic(block_t *k, bool every_batch)
{
    uint64_t value[75];
    int64_t rate[75];
    for (int j = 0; j < 75; j++) {
        value[j] = j < 20 ? s_below(UINT64_C(1) << 32) : s_chance(0.5) ? 0 : s_below(100000);
        rate[j] = 1 + (int64_t)s_below(40);
    }
    int64_t inc = (int64_t)(s_rand() >> 1), t0 = INT64_C(1795359570) * SEC + 123456789;
    for (int i = 0; i < 60; i++) {
        int64_t ts = t0 + i * SEC + s_jitter(300000);
        int64_t prev = i ? k->b[i - 1].ts_ns : ts - SEC + s_jitter(300000);
        s_add_batch(k, ts, prev, ts + 1000000 + (int64_t)s_below(4000000), inc, 4711 + i);
        for (int j = 0; j < 75; j++) {
            int64_t d = 0;
            if (i && j < 10)
                d = s_chance(0.8) ? rate[j] : rate[j] + (int64_t)s_below(3) - 1;
            else if (i && j < 20 && s_chance(0.1))
                d = 1 + (int64_t)s_below(50);
            if (i == 0 || d || every_batch) {
                value[j] += (uint64_t)d;
                s_add_sample(k, 4000 + (uint32_t)j, 0, value[j], d);
            }
        }
    }
}

/* bench_queries' minute: 75 busy counters, each changing every second by
 * a delta drawn uniformly from 10,000..29,999 (14.3 bits of noise a
 * sample, so 1.79 bytes a sample is the least any coding can take). */
static void s_noisy(block_t *k)
{
    uint64_t value[75];
    for (int j = 0; j < 75; j++)
        value[j] = 1000000000u + (uint64_t)j * 1000;
    int64_t t0 = INT64_C(1795359570) * SEC;
    for (int i = 0; i < 60; i++) {
        s_add_batch(k, t0 + i * SEC, t0 + (i - 1) * SEC, t0 + i * SEC, 1, i + 1);
        for (int j = 0; j < 75; j++) {
            int64_t d = 10000 + (int64_t)s_below(20000);
            value[j] += (uint64_t)d;
            s_add_sample(k, 1 + (uint32_t)j, 0, value[j], d);
        }
    }
}

static double s_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* STORE_PACK_VARINT's bytes for k's samples, one blob a batch. */
static size_t s_varint_bytes(const block_t *k)
{
    unsigned char buf[STORE_SAMPLE_MAX];
    size_t total = 0, at = 0;
    for (size_t i = 0; i < k->nb; i++) {
        uint32_t prev = 0;
        for (size_t j = 0; j < k->b[i].nsamples; j++)
            total += (size_t)(store_pack(buf, &prev, &k->s[at++]) - buf);
    }
    return total;
}

/* Packs and unpacks k at level reps times; prints the size and times. */
static double s_measure(const block_t *k, int level, int reps)
{
    size_t len = 0, nb, ns;
    unsigned char *blob = NULL;
    double t = s_now();
    for (int r = 0; r < reps; r++) {
        free(blob);
        blob = s_pack(k, level, &len);
    }
    double tp = s_now();
    for (int r = 0; r < reps; r++) {
        rawpack_batch_t *b;
        store_sample_t *s;
        char err[256];
        assert_int_equal(rawpack_unpack(blob, len, &b, &nb, &s, &ns, err, sizeof err), 0);
        if (r == 0)
            s_assert_same(k, b, nb, s, ns);
        free(b);
        free(s);
    }
    double tu = s_now();
    free(blob);
    double per = (double)len / (double)k->ns;
    printf("rawpack:   level %2d: %5zu bytes, %.3f bytes/sample; pack %6.1f ns/sample, unpack "
           "%5.1f ns/sample\n",
           level, len, per, (tp - t) * 1e9 / reps / (double)k->ns,
           (tu - tp) * 1e9 / reps / (double)k->ns);
    return per;
}

static void test_realistic_minute(void **state)
{
    (void)state;
    static const int levels[] = {0, 1, 3, 9, 19};
    static const char *const kinds[] = {"changed series only", "every series in every batch",
                                        "every series changing by 10,000-29,999 (bench_queries')"};
    for (int kind = 0; kind < 3; kind++) {
        block_t k = {0};
        if (kind < 2)
            s_realistic(&k, kind == 1);
        else
            s_noisy(&k);
        size_t varint = s_varint_bytes(&k);
        printf("rawpack: a minute of 75 series, %s: %zu samples in %zu batches; "
               "STORE_PACK_VARINT %zu bytes, %.3f bytes/sample (samples only)\n",
               kinds[kind], k.ns, k.nb, varint, (double)varint / (double)k.ns);
        for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
            double per = s_measure(&k, levels[l], levels[l] >= 19 ? 20 : 200);
            if (levels[l] == RAWPACK_LEVEL_DEFAULT)
                assert_true(per <= 2.0);
        }
        s_block_free(&k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_random_blocks),
        cmocka_unit_test(test_pack_refuses),
        cmocka_unit_test(test_truncated_and_flipped),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_claims_too_much),
        cmocka_unit_test(test_realistic_minute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
