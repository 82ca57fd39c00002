/* Tests collector/sources/buckets, the eBPF backend's fold, on bucket
 * arrays written exactly as dropscope.bpf.c writes them (reset a bucket
 * whose epoch is not the packet's, then add), from random packets on
 * random CPUs: every tick's packets and bytes must come out as a naive
 * per-tick sum of the same packets says, quiet ticks merged into runs,
 * the samples contiguous and in order; and the drop ring likewise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buckets.h"

#define NCPUS 3
#define TICK INT64_C(100000) /* 100 us */
#define NB 1024              /* buckets_ring(TICK) */
#define STRIDE ((size_t)NCPUS * 2 * NB) /* a slot's region */
#define NBUCKETS_ALL (2 * STRIDE)       /* two slots' */

/* What the BPF program does for one packet (on slot 0 or 1). */
static void s_count(struct ebpf_bucket *base, uint32_t cpu, size_t slot, int dir, uint64_t epoch,
                    uint64_t bytes)
{
    const buckets_t region = {NULL, NCPUS, NB, TICK}; /* buckets_index's geometry */
    struct ebpf_bucket *b = &base[slot * STRIDE + buckets_index(&region, cpu, dir, epoch)];
    if (b->epoch != epoch) {
        b->packets = b->bytes = 0;
        b->epoch = epoch;
    }
    b->packets++;
    b->bytes += bytes;
}

typedef struct {
    ebpf_sample_t s[4 * NB];
    size_t n;
} got_t;

static void s_collect(void *ctx, const ebpf_sample_t *s)
{
    got_t *g = ctx;
    assert_true(g->n < sizeof g->s / sizeof g->s[0]);
    g->s[g->n++] = *s;
}

static void test_fold_against_naive_sums(void **state)
{
    (void)state;
    struct ebpf_bucket *base = calloc(NBUCKETS_ALL, sizeof *base);
    static uint64_t want_rx[NB], want_tx[NB], want_rxb[NB];
    static got_t got;
    assert_non_null(base);
    srand(7);
    const size_t slot = 0;
    /* A previous use of the ring left old epochs everywhere: they must not count. */
    for (uint64_t e = 1000; e < 1000 + NB; e++)
        for (uint32_t cpu = 0; cpu < NCPUS; cpu++)
            s_count(base, cpu, slot, e % 2, e, 1500);
    uint64_t from = 5000, upto = from + NB - 3; /* a fold of most of the ring */
    memset(want_rx, 0, sizeof want_rx);
    memset(want_tx, 0, sizeof want_tx);
    memset(want_rxb, 0, sizeof want_rxb);
    for (int i = 0; i < 20000; i++) {
        uint64_t e = from + 1 + (uint64_t)(rand() % 40 == 0 ? rand() % (int)(upto - from)
                                                            : rand() % 50); /* busy start */
        uint32_t cpu = (uint32_t)(rand() % NCPUS);
        int dir = rand() % 3 == 0;
        uint64_t bytes = 60 + (uint64_t)(rand() % 1400);
        s_count(base, cpu, slot, dir, e, bytes);
        s_count(base, cpu, slot + 1, dir, e, bytes); /* the next interface's region: not ours */
        (dir ? want_tx : want_rx)[e - from] += 1;
        if (!dir)
            want_rxb[e - from] += bytes;
    }
    buckets_t b = {base + slot * STRIDE, NCPUS, NB, TICK};
    got.n = 0;
    buckets_fold(&b, 42, from, upto, 1000, s_collect, &got);
    int64_t t = (int64_t)(from + 1) * TICK + 1000; /* where the next sample must start */
    bool prev_quiet = false;
    for (size_t i = 0; i < got.n; i++) {
        const ebpf_sample_t *s = &got.s[i];
        assert_int_equal(s->ifindex, 42);
        assert_int_equal(s->t_ns - s->dt_ns, t); /* contiguous, in order */
        uint64_t e = (uint64_t)((s->t_ns - 1000) / TICK) - 1;
        if (s->rx || s->tx) {
            assert_int_equal(s->dt_ns, TICK);
            assert_int_equal(s->rx, want_rx[e - from]);
            assert_int_equal(s->tx, want_tx[e - from]);
            assert_int_equal(s->rx_bytes, want_rxb[e - from]);
            prev_quiet = false;
        } else {
            assert_false(prev_quiet); /* quiet ticks come as one run */
            for (int64_t k = 0; k < s->dt_ns / TICK; k++)
                assert_int_equal(want_rx[e - from - (uint64_t)k] + want_tx[e - from - (uint64_t)k], 0);
            prev_quiet = true;
        }
        t = s->t_ns;
    }
    assert_int_equal(t, (int64_t)(upto + 1) * TICK + 1000); /* up to the end */
    free(base);
}

static void test_fold_of_a_quiet_link(void **state)
{
    (void)state;
    struct ebpf_bucket *base = calloc(NBUCKETS_ALL, sizeof *base);
    static got_t got;
    buckets_t b = {base, NCPUS, NB, TICK};
    got.n = 0;
    buckets_fold(&b, 1, 100, 150, 0, s_collect, &got);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.s[0].dt_ns, 50 * TICK);
    assert_int_equal(got.s[0].t_ns, 151 * TICK);
    got.n = 0;
    buckets_fold(&b, 1, 150, 150, 0, s_collect, &got); /* nothing new */
    assert_int_equal(got.n, 0);
    free(base);
}

static void test_drop_ring(void **state)
{
    (void)state;
    static struct ebpf_drop_bucket ring[NB];
    memset(ring, 0, sizeof ring);
    ring[10] = (struct ebpf_drop_bucket){.epoch = 10, .drops = {[LAYER_SOCKET] = 7}};
    ring[11] = (struct ebpf_drop_bucket){.epoch = 11 + NB, .drops = {[LAYER_SOCKET] = 99}};
    ring[12] = (struct ebpf_drop_bucket){.epoch = 12, .drops = {[LAYER_BACKLOG] = 3, [LAYER_SOCKET] = 1}};
    uint64_t out[LAYER_COUNT] = {0};
    buckets_drops(ring, NB, 9, 12, out);
    assert_int_equal(out[LAYER_SOCKET], 8); /* epoch 11's bucket is a later tick's */
    assert_int_equal(out[LAYER_BACKLOG], 3);
    memset(out, 0, sizeof out);
    buckets_drops(ring, NB, 11 + NB, 11 + NB, out);
    assert_int_equal(out[LAYER_SOCKET], 99);
}

/* The rings hold EBPF_RING_NS (250 ms) in a power of two of ticks, 64 at
 * least and EBPF_MAX_NBUCKETS at most. */
static void test_ring_size(void **state)
{
    (void)state;
    assert_int_equal(buckets_ring(TICK), NB);
    assert_int_equal(buckets_ring(1000000), 256); /* 1 ms: 256 ms */
    assert_int_equal(buckets_ring(500000), 512);  /* 500 us: 256 ms */
    assert_int_equal(buckets_ring(10000), EBPF_MAX_NBUCKETS); /* 10 us: only 10 ms */
    assert_int_equal(buckets_ring(1000000000), 64); /* 1 s: 64 s */
    for (int64_t tick = 10000; tick <= 10000000; tick += 7919) {
        uint32_t n = buckets_ring(tick);
        assert_int_equal(n & (n - 1), 0);
        assert_true(n == EBPF_MAX_NBUCKETS || n == 64 || (int64_t)n * tick >= EBPF_RING_NS);
        assert_true(n == 64 || (int64_t)(n / 2) * tick < EBPF_RING_NS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_against_naive_sums),
        cmocka_unit_test(test_fold_of_a_quiet_link),
        cmocka_unit_test(test_drop_ring),
        cmocka_unit_test(test_ring_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
