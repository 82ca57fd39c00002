/* buckets: the eBPF backend's tick buckets (ebpf_shared.h) read back as
 * samples. Pure: no libbpf, no clock, no I/O; ebpf.c hands it the mmapped
 * maps, the tests hand it arrays written the way dropscope.bpf.c writes
 * them. A bucket counts for a tick only when its epoch is that tick's: the
 * ring reuses each bucket every nbuckets ticks and a CPU that saw no
 * packet leaves an old epoch behind. */
#ifndef DROPSCOPE_BUCKETS_H
#define DROPSCOPE_BUCKETS_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "ebpf_shared.h"
#include "layer.h"

/* One tick of one interface, or a run of quiet ticks folded into one. */
typedef struct {
    uint32_t ifindex;
    int64_t t_ns;   /* end, CLOCK_REALTIME */
    int64_t dt_ns;  /* a tick, or a multiple for a quiet run */
    uint64_t rx, tx, rx_bytes, tx_bytes;
} ebpf_sample_t;

typedef void(ebpf_sample_fn)(void *ctx, const ebpf_sample_t *s);

/* The ticks in the rings for tick_ns: the power of two that holds at least
 * EBPF_RING_NS, 64 to EBPF_MAX_NBUCKETS: 256 at 1 ms, 1024 (102 ms) at
 * 100 us. The sampler folds every 20 ms; a burst's drops are read from
 * the drop ring after its end and margin, so a burst longer than the ring
 * gets its drops from the counters instead (sampler_burst_t.exact_drops). */
uint32_t buckets_ring(int64_t tick_ns);

/* One slot's region of the bucket array ([slot][cpu][direction][bucket]):
 * the BPF program writes bucket (cpu * 2 + direction) * nbuckets +
 * (epoch & (nbuckets - 1)) of it, and userspace maps each slot's alone. */
typedef struct {
    const struct ebpf_bucket *base; /* [cpu][direction][bucket] */
    uint32_t ncpus;
    uint32_t nbuckets;              /* buckets_ring(tick_ns) */
    int64_t tick_ns;
} buckets_t;

/* Index of a bucket in the region, as the BPF program computes it. */
size_t buckets_index(const buckets_t *b, uint32_t cpu, int dir, uint64_t epoch);

/* Calls fn for the ticks (from, upto] in time order: each tick with
 * packets on its own, each run of quiet ticks as one sample. Epoch e ends
 * at (e + 1) * tick_ns + real_minus_mono. */
void buckets_fold(const buckets_t *b, uint32_t ifindex, uint64_t from, uint64_t upto,
                  int64_t real_minus_mono, ebpf_sample_fn *fn, void *ctx);

/* Adds the drops of epochs [first, last] found in the drop ring of
 * nbuckets ticks to out. */
void buckets_drops(const struct ebpf_drop_bucket *ring, uint32_t nbuckets, uint64_t first,
                   uint64_t last, uint64_t out[LAYER_COUNT]);

#endif
