// SPDX-License-Identifier: GPL-2.0
/* dropscope.bpf.c: the eBPF backend's kernel half (docs/ARCHITECTURE.md, Bursts). Two kinds of
 * program, both counting into maps that userspace maps into its memory and
 * reads without a system call:
 *  - ds_ingress / ds_egress (tcx, one link per interface and direction):
 *    packets and bytes per time bucket of tick_ns, in a region of the
 *    bucket array per CPU, so no two CPUs write the same line and plain
 *    increments suffice (tc runs with bottom halves off: programs on one
 *    CPU never nest).
 *  - ds_kfree_skb (raw tracepoint kfree_skb): drops by enum skb_drop_reason
 *    of the collector's own network namespace, as running totals (exact
 *    whatever userspace does) and per bucket by layer (for bursts). These
 *    use atomic adds: the tracepoint fires in any context.
 * Assumes tick_ns >= 10 us and rings of nbuckets ticks: userspace must
 * fold a bucket before the ring comes round to it again. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "ebpf_shared.h"

/* Set by userspace before the programs load. */
const volatile __u64 tick_ns = 1000000;
const volatile __u32 ncpus = 1;
const volatile __u32 nbuckets = EBPF_MAX_NBUCKETS; /* the rings' ticks, a power of two */
const volatile __u32 slot_stride = 0; /* buckets in a slot's region (a whole number of pages) */
const volatile __u32 netns_inum = 0;

/* ifindex -> slot + 1 in the bucket array (0: not counted), for ifindexes
 * below EBPF_SLOT_INDEX: an array, whose lookup the verifier inlines into
 * a bounds check and a load (a hash lookup was a third of the program's
 * time). Set by userspace when it attaches. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, EBPF_SLOT_INDEX);
    __type(key, __u32);
    __type(value, __u32);
} slot_index SEC(".maps");

/* ifindex -> slot, for the larger ifindexes (hosts that made and removed
 * many interfaces). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, EBPF_MAX_SLOTS);
    __type(key, __u32);
    __type(value, __u32);
} slots SEC(".maps");

/* [cpu] its current tick, max_entries set at load time. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct ebpf_clock);
} clocks SEC(".maps");

/* [slot][cpu][direction][bucket], a slot's region slot_stride buckets
 * long; max_entries set at load time. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct ebpf_bucket);
} buckets SEC(".maps");

/* reason -> running total of drops. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, EBPF_MAX_REASONS);
    __type(key, __u32);
    __type(value, __u64);
} reasons SEC(".maps");

/* reason -> layer (layer_t), set by userspace from the reasons' names. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, EBPF_MAX_REASONS);
    __type(key, __u32);
    __type(value, __u32);
} reason_layer SEC(".maps");

/* [bucket] drops by layer. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 1); /* nbuckets, set at load time */
    __type(key, __u32);
    __type(value, struct ebpf_drop_bucket);
} drop_buckets SEC(".maps");

/* The slot of the interface the packet is on, or -1. */
static __always_inline int slot_of(__u32 ifindex)
{
    if (ifindex < EBPF_SLOT_INDEX) {
        __u32 *plus1 = bpf_map_lookup_elem(&slot_index, &ifindex);
        return plus1 ? (int)*plus1 - 1 : -1;
    }
    __u32 *slot = bpf_map_lookup_elem(&slots, &ifindex);
    return slot ? (int)*slot : -1;
}

/* Every packet pays for this: two array lookups (inlined), a clock read,
 * and a division only when the CPU's tick has moved on. */
static __always_inline int count(struct __sk_buff *skb, __u32 dir)
{
    int slot = slot_of(skb->ifindex);
    __u32 cpu = bpf_get_smp_processor_id();
    if (slot < 0 || slot >= EBPF_MAX_SLOTS || cpu >= ncpus)
        return -1; /* TCX_NEXT: carry on as if we were not here */
    __u64 now = bpf_ktime_get_ns();
    struct ebpf_clock *clock = bpf_map_lookup_elem(&clocks, &cpu);
    if (!clock)
        return -1;
    __u64 epoch = clock->epoch;
    if (now >= clock->end_ns) { /* the clock never goes back: the tick is current before end */
        epoch = now / tick_ns;
        clock->epoch = epoch;
        clock->end_ns = (epoch + 1) * tick_ns;
    }
    __u32 idx = (__u32)slot * slot_stride + (cpu * 2 + dir) * nbuckets +
                ((__u32)epoch & (nbuckets - 1));
    struct ebpf_bucket *b = bpf_map_lookup_elem(&buckets, &idx);
    if (!b)
        return -1;
    if (b->epoch != epoch) { /* the ring came round: this bucket starts again */
        b->packets = 0;
        b->bytes = 0;
        b->epoch = epoch;
    }
    b->packets += skb->gso_segs > 1 ? skb->gso_segs : 1; /* wire packets, not GRO lumps */
    b->bytes += skb->len;
    return -1;
}

SEC("tc")
int ds_ingress(struct __sk_buff *skb)
{
    return count(skb, 0);
}

SEC("tc")
int ds_egress(struct __sk_buff *skb)
{
    return count(skb, 1);
}

/* The network namespace an skb belongs to: its device's, else its socket's. */
static __always_inline __u32 skb_netns(struct sk_buff *skb)
{
    struct net_device *dev = BPF_CORE_READ(skb, dev);
    if (dev)
        return BPF_CORE_READ(dev, nd_net.net, ns.inum);
    struct sock *sk = BPF_CORE_READ(skb, sk);
    if (sk)
        return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
    return 0;
}

/* A raw tracepoint: it attaches by name, without tracefs (which a
 * collector in `ip netns exec` or a container does not see). Its
 * arguments are trace_kfree_skb's: skb, location, reason (5.17+), and
 * rx_sk (6.12+, unused). */
SEC("raw_tp/kfree_skb")
int ds_kfree_skb(struct bpf_raw_tracepoint_args *ctx)
{
    __u32 reason = (__u32)ctx->args[2];
    if (reason <= EBPF_REASON_CONSUMED) /* not dropped: SKB_NOT_DROPPED_YET, SKB_CONSUMED */
        return 0;
    if (skb_netns((struct sk_buff *)ctx->args[0]) != netns_inum)
        return 0;
    __u32 key = reason < EBPF_MAX_REASONS ? reason : EBPF_REASON_OTHER;
    __u64 *total = bpf_map_lookup_elem(&reasons, &key);
    if (total)
        __sync_fetch_and_add(total, 1);
    __u32 *layer = bpf_map_lookup_elem(&reason_layer, &key);
    __u64 epoch = bpf_ktime_get_ns() / tick_ns;
    __u32 idx = (__u32)epoch & (nbuckets - 1);
    struct ebpf_drop_bucket *b = bpf_map_lookup_elem(&drop_buckets, &idx);
    if (!layer || !b || *layer >= EBPF_LAYERS)
        return 0;
    /* A bucket reused for a new epoch is cleared by the first drop that
     * sees it; a drop racing that on another CPU may be lost from the
     * bucket, never from the totals above. */
    if (b->epoch != epoch) {
        for (int l = 0; l < EBPF_LAYERS; l++)
            b->drops[l] = 0;
        b->epoch = epoch;
    }
    __sync_fetch_and_add(&b->drops[*layer], 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
