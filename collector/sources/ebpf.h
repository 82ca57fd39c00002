/* ebpf: the eBPF backend of the fast path (docs/ARCHITECTURE.md, Bursts), the only code that
 * touches libbpf. It loads dropscope.bpf.c (CO-RE, bpftool skeleton),
 * attaches a tcx program to each interface it is asked to track and the
 * skb:kfree_skb tracepoint, and reads what they count through mmap: per
 * tick packets and bytes of each interface, and drops by reason of the
 * collector's own network namespace. The cost grows with packets, not with
 * resolution; userspace folds the buckets every 20 ms. Links belong to
 * the process's file descriptors, so nothing stays attached after it
 * exits, even by SIGKILL. Not thread-safe: one thread uses an ebpf_t. */
#ifndef DROPSCOPE_EBPF_H
#define DROPSCOPE_EBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buckets.h"
#include "layer.h"

typedef struct ebpf ebpf_t;

/* Loads and attaches the tracepoint, with buckets of tick_ns (>= 10 us).
 * NULL with a reason that names what is missing and what to do (not root,
 * no BTF, a kernel too old for tcx, built without eBPF support). */
ebpf_t *ebpf_new(int64_t tick_ns, char *err, size_t errsz);
/* Detaches everything; safe on NULL and twice. */
void ebpf_destroy(ebpf_t **self_p);

/* Counts exactly the interfaces in ifindex[0..n): attaches to new ones,
 * detaches from those no longer listed. Returns how many could not be
 * attached (err: the first reason); they are retried at the next call. */
size_t ebpf_track(ebpf_t *self, const uint32_t *ifindex, size_t n, char *err, size_t errsz);

/* Calls fn, in time order per interface, for every tick completed since
 * the last fold. Returns the ticks lost because the ring came round before
 * they were folded (userspace stalled for ~NBUCKETS ticks). */
uint64_t ebpf_fold(ebpf_t *self, ebpf_sample_fn *fn, void *ctx);

/* Adds the drops per layer counted in [from_ns, to_ns) (CLOCK_REALTIME)
 * to out; false when the ring no longer covers all of it. */
bool ebpf_drops_between(const ebpf_t *self, int64_t from_ns, int64_t to_ns,
                        uint64_t out[LAYER_COUNT]);

typedef struct {
    const char *name; /* "SOCKET_RCVBUFF", borrowed from the ebpf_t */
    uint64_t drops;   /* since the programs were loaded */
} ebpf_reason_t;

/* The reasons with drops so far, at most max. */
size_t ebpf_reasons(const ebpf_t *self, ebpf_reason_t *out, size_t max);

#endif
