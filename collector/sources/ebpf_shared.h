/* ebpf_shared: the layout of the maps the eBPF programs (dropscope.bpf.c)
 * write and userspace (ebpf.c) reads through mmap. Both sides compile it:
 * the BPF side with vmlinux.h, userspace with <linux/types.h>. */
#ifndef DROPSCOPE_EBPF_SHARED_H
#define DROPSCOPE_EBPF_SHARED_H

#define EBPF_MAX_SLOTS 32     /* interfaces counted at once */
#define EBPF_SLOT_INDEX 16384 /* ifindexes below this find their slot in an array */
#define EBPF_MAX_NBUCKETS 1024 /* ticks in the ring at most (buckets_ring) */
#define EBPF_RING_NS 250000000 /* the rings hold this long, up to EBPF_MAX_NBUCKETS ticks */
#define EBPF_MAX_REASONS 256  /* enum skb_drop_reason values counted by name */
#define EBPF_REASON_OTHER 255 /* larger values (subsystem reasons) */
#define EBPF_REASON_CONSUMED 1 /* SKB_CONSUMED; 0 is SKB_NOT_DROPPED_YET */
#define EBPF_LAYERS 16        /* >= LAYER_COUNT */

/* 32 bytes: two to a cache line, none across two, and a slot's region of
 * the array a whole number of pages (userspace maps each slot's alone). */
struct ebpf_bucket {
    __u64 epoch; /* bpf_ktime_get_ns() / tick_ns of the tick counted here */
    __u64 packets;
    __u64 bytes;
    __u64 pad;
};

/* A CPU's current tick: the tc programs divide by tick_ns once a tick, not
 * once a packet. A cache line each, so that CPUs share none. */
struct ebpf_clock {
    __u64 epoch;  /* bpf_ktime_get_ns() / tick_ns */
    __u64 end_ns; /* (epoch + 1) * tick_ns: the next tick begins there */
    __u64 pad[6];
};

struct ebpf_drop_bucket {
    __u64 epoch;
    __u64 drops[EBPF_LAYERS]; /* by layer_t */
};

#endif
