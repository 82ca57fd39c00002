/* buckets: see buckets.h. The maps change under us (other CPUs keep
 * counting), so every field is read once, with atomic loads; a bucket of a
 * completed tick is no longer written until the ring comes round. */
#include "buckets.h"

uint32_t buckets_ring(int64_t tick_ns)
{
    uint32_t n = 64;
    while (n < EBPF_MAX_NBUCKETS && (int64_t)n * tick_ns < EBPF_RING_NS)
        n *= 2;
    return n;
}

size_t buckets_index(const buckets_t *b, uint32_t cpu, int dir, uint64_t epoch)
{
    return ((size_t)cpu * 2 + (size_t)dir) * b->nbuckets + (size_t)(epoch & (b->nbuckets - 1));
}

/* Packets and bytes of one direction and epoch, over all CPUs. */
static void s_read(const buckets_t *b, int dir, uint64_t epoch, uint64_t *packets,
                   uint64_t *bytes)
{
    *packets = *bytes = 0;
    for (uint32_t cpu = 0; cpu < b->ncpus; cpu++) {
        const struct ebpf_bucket *k = &b->base[buckets_index(b, cpu, dir, epoch)];
        if (__atomic_load_n(&k->epoch, __ATOMIC_ACQUIRE) != epoch)
            continue; /* nothing counted on this CPU in that tick */
        *packets += __atomic_load_n(&k->packets, __ATOMIC_RELAXED);
        *bytes += __atomic_load_n(&k->bytes, __ATOMIC_RELAXED);
    }
}

void buckets_fold(const buckets_t *b, uint32_t ifindex, uint64_t from, uint64_t upto,
                  int64_t real_minus_mono, ebpf_sample_fn *fn, void *ctx)
{
    const int64_t tick = b->tick_ns;
    uint64_t quiet_from = from; /* the quiet run is (quiet_from, e) */
    for (uint64_t e = from + 1; e <= upto; e++) {
        ebpf_sample_t s = {.ifindex = ifindex};
        s_read(b, 0, e, &s.rx, &s.rx_bytes);
        s_read(b, 1, e, &s.tx, &s.tx_bytes);
        if (!s.rx && !s.tx)
            continue;
        if (e - 1 > quiet_from)
            fn(ctx, &(ebpf_sample_t){.ifindex = ifindex,
                                     .t_ns = (int64_t)e * tick + real_minus_mono,
                                     .dt_ns = (int64_t)(e - 1 - quiet_from) * tick});
        s.t_ns = (int64_t)(e + 1) * tick + real_minus_mono;
        s.dt_ns = tick;
        fn(ctx, &s);
        quiet_from = e;
    }
    if (upto > quiet_from)
        fn(ctx, &(ebpf_sample_t){.ifindex = ifindex,
                                 .t_ns = (int64_t)(upto + 1) * tick + real_minus_mono,
                                 .dt_ns = (int64_t)(upto - quiet_from) * tick});
}

void buckets_drops(const struct ebpf_drop_bucket *ring, uint32_t nbuckets, uint64_t first,
                   uint64_t last, uint64_t out[LAYER_COUNT])
{
    for (uint64_t e = first; e <= last; e++) {
        const struct ebpf_drop_bucket *k = &ring[e & (nbuckets - 1)];
        if (__atomic_load_n(&k->epoch, __ATOMIC_ACQUIRE) != e)
            continue;
        for (int l = 0; l < LAYER_COUNT && l < EBPF_LAYERS; l++)
            out[l] += __atomic_load_n(&k->drops[l], __ATOMIC_RELAXED);
    }
}
