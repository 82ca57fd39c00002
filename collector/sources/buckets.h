/* buckets: the eBPF backend's tick buckets (ebpf_shared.h) read back as
 * samples. Pure: no libbpf, no clock, no I/O; ebpf.c hands it the mmapped
 * maps, the tests hand it arrays written the way dropscope.bpf.c writes
 * them. A bucket counts for a tick only when its epoch is that tick's: the
 * ring reuses each bucket every EBPF_NBUCKETS ticks and a CPU that saw no
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

typedef struct {
    const struct ebpf_bucket *base; /* [cpu][slot][direction][bucket] */
    uint32_t ncpus;
    int64_t tick_ns;
} buckets_t;

/* Index of a bucket in the array, as the BPF program computes it. */
size_t buckets_index(uint32_t cpu, size_t slot, int dir, uint64_t epoch);

/* Calls fn for the ticks (from, upto] of `slot` in time order: each tick
 * with packets on its own, each run of quiet ticks as one sample. Epoch e
 * ends at (e + 1) * tick_ns + real_minus_mono. */
void buckets_fold(const buckets_t *b, size_t slot, uint32_t ifindex, uint64_t from, uint64_t upto,
                  int64_t real_minus_mono, ebpf_sample_fn *fn, void *ctx);

/* Adds the drops of epochs [first, last] found in the drop ring to out. */
void buckets_drops(const struct ebpf_drop_bucket *ring, uint64_t first, uint64_t last,
                   uint64_t out[LAYER_COUNT]);

#endif
