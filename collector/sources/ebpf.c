/* ebpf: see ebpf.h. The bucket array is [cpu][slot][direction][bucket]; a
 * fold reads, for each tracked interface, the buckets from the one after
 * the last folded up to two before the current tick (the current one is
 * still being written, and a packet stamped just before a tick boundary
 * may land just after it). Reading needs no system call: the maps are
 * mmapped. Reason names come from the kernel's BTF (enum
 * skb_drop_reason), since their numbers change between releases. */
#define _GNU_SOURCE
#include "ebpf.h"

#include <errno.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buckets.h"
#include "counters.h"
#include "log.h"
#include "source.h"
#include "ts.h"

#ifdef DROPSCOPE_HAVE_EBPF

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "dropscope.skel.h"

/* tcx (Linux 6.6): not in the uapi headers of every distribution yet. */
#define DS_BPF_TCX_INGRESS 46
#define DS_BPF_TCX_EGRESS 47
#define REASON_PREFIX "SKB_DROP_REASON_"

typedef struct {
    uint32_t ifindex;   /* 0 = free */
    int link_fd[2];     /* tcx ingress, egress */
    uint64_t folded;    /* last epoch handed out */
    bool seen;          /* listed by the current ebpf_track call */
    const struct ebpf_bucket *region; /* its part of the bucket array, mmapped */
} slot_t;

struct ebpf {
    struct dropscope_bpf *skel;
    struct bpf_link *kfree;           /* the tracepoint's link, NULL without reasons */
    int64_t tick_ns;
    uint32_t ncpus;
    uint32_t nbuckets;                /* the rings' ticks: buckets_ring(tick_ns) */
    size_t region_len;                /* bytes of a slot's region: whole pages */
    const uint64_t *reason_totals;    /* mmapped, EBPF_MAX_REASONS */
    const struct ebpf_drop_bucket *drops; /* mmapped, nbuckets */
    slot_t slots[EBPF_MAX_SLOTS];
    char *reason_name[EBPF_MAX_REASONS];
};

/* libbpf's own messages go to the debug log: the caller gets one clear
 * error instead. */
static int s_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static int s_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_debug("ebpf: libbpf: %s", line);
    return 0;
}

/* Maps len bytes of map from offset (whole pages): a BPF array's pages
 * are all resident once mapped, so each part is mapped only when used. */
static void *s_mmap(struct bpf_map *map, size_t len, size_t offset)
{
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, bpf_map__fd(map), (off_t)offset);
    return p == MAP_FAILED ? NULL : p;
}

static size_t s_page_round(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (n + page - 1) / page * page;
}

static size_t s_drops_len(const ebpf_t *self)
{
    return s_page_round(sizeof(struct ebpf_drop_bucket) * self->nbuckets);
}

/* Names the reasons from the kernel's BTF, which is then freed: libbpf
 * loads a copy of its own to load the programs, and the two at once took
 * the collector's peak from 19 to 25 MB (tests/bench/bench_ebpf.sh). False
 * when the kernel names none (no enum skb_drop_reason: before Linux 5.17). */
static bool s_name_reasons(ebpf_t *self)
{
    struct btf *vmlinux = btf__load_vmlinux_btf();
    int id = vmlinux ? btf__find_by_name_kind(vmlinux, "skb_drop_reason", BTF_KIND_ENUM) : -1;
    const struct btf_type *t = id > 0 ? btf__type_by_id(vmlinux, (__u32)id) : NULL;
    const struct btf_enum *e = t ? btf_enum(t) : NULL;
    for (int i = 0; t && i < btf_vlen(t); i++) {
        const char *name = btf__name_by_offset(vmlinux, e[i].name_off);
        if (!name || e[i].val < 0 || e[i].val >= EBPF_REASON_OTHER ||
            strncmp(name, REASON_PREFIX, strlen(REASON_PREFIX)) != 0)
            continue;
        self->reason_name[e[i].val] = strdup(name + strlen(REASON_PREFIX));
    }
    btf__free(vmlinux);
    if (!t)
        return false;
    self->reason_name[EBPF_REASON_OTHER] = strdup("OTHER_SUBSYSTEM");
    return true;
}

/* Tells the loaded program each reason's layer. */
static void s_layer_reasons(ebpf_t *self)
{
    for (__u32 r = 0; r < EBPF_MAX_REASONS; r++) {
        const char *name = self->reason_name[r] ? self->reason_name[r] : "NOT_SPECIFIED";
        /* A vague reason (NOT_SPECIFIED, ...) is no loss of a burst's packets. */
        counter_class_t cls = counters_classify(source_name(SOURCE_REASON), name);
        __u32 layer = (__u32)(cls.vague ? LAYER_UNKNOWN : cls.layer);
        bpf_map__update_elem(self->skel->maps.reason_layer, &r, sizeof r, &layer, sizeof layer,
                             BPF_ANY);
    }
}

/* Why loading failed, in words a user can act on. */
static void s_load_error(int rc, char *err, size_t errsz)
{
    if (rc == -EPERM || rc == -EACCES)
        snprintf(err, errsz, "cannot load eBPF programs: %s (run as root, or with CAP_BPF, "
                 "CAP_PERFMON and CAP_NET_ADMIN)", strerror(-rc));
    else
        snprintf(err, errsz, "cannot load the eBPF programs: %s (a kernel with BTF and "
                 "skb:kfree_skb drop reasons, Linux 5.17 or later, is needed)", strerror(-rc));
}

/* Opens, sizes and loads the skeleton. */
static int s_load(ebpf_t *self, bool reasons, char *err, size_t errsz)
{
    struct stat ns;
    if (stat("/proc/self/ns/net", &ns) != 0) {
        snprintf(err, errsz, "cannot stat /proc/self/ns/net: %s", strerror(errno));
        return -1;
    }
    if (!(self->skel = dropscope_bpf__open())) {
        snprintf(err, errsz, "cannot open the eBPF object: %s", strerror(errno));
        return -1;
    }
    self->nbuckets = buckets_ring(self->tick_ns);
    self->region_len = s_page_round(sizeof(struct ebpf_bucket) * self->ncpus * 2 * self->nbuckets);
    __u32 stride = (__u32)(self->region_len / sizeof(struct ebpf_bucket));
    self->skel->rodata->tick_ns = (__u64)self->tick_ns;
    self->skel->rodata->ncpus = self->ncpus;
    self->skel->rodata->nbuckets = self->nbuckets;
    self->skel->rodata->slot_stride = stride;
    self->skel->rodata->netns_inum = (__u32)ns.st_ino;
    bpf_map__set_max_entries(self->skel->maps.buckets, EBPF_MAX_SLOTS * stride);
    bpf_map__set_max_entries(self->skel->maps.drop_buckets, self->nbuckets);
    bpf_map__set_max_entries(self->skel->maps.clocks, self->ncpus);
    bpf_program__set_autoload(self->skel->progs.ds_kfree_skb, reasons);
    int rc = dropscope_bpf__load(self->skel);
    if (rc) {
        s_load_error(rc, err, errsz);
        return -1;
    }
    self->reason_totals = s_mmap(self->skel->maps.reasons, s_page_round(8 * EBPF_MAX_REASONS), 0);
    self->drops = s_mmap(self->skel->maps.drop_buckets, s_drops_len(self), 0);
    if (!self->reason_totals || !self->drops) {
        snprintf(err, errsz, "cannot mmap the eBPF maps: %s", strerror(errno));
        return -1;
    }
    return 0;
}

ebpf_t *ebpf_new(int64_t tick_ns, char *err, size_t errsz)
{
    if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
        snprintf(err, errsz, "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s; the eBPF "
                 "backend needs CONFIG_DEBUG_INFO_BTF=y)", strerror(errno));
        return NULL;
    }
    if (tick_ns < 10000) {
        snprintf(err, errsz, "a tick of %lld ns is too short for the eBPF backend (10us at least)",
                 (long long)tick_ns);
        return NULL;
    }
    ebpf_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    libbpf_set_print(s_libbpf_print);
    self->tick_ns = tick_ns;
    int ncpus = libbpf_num_possible_cpus();
    self->ncpus = ncpus > 0 ? (uint32_t)ncpus : 1;
    for (size_t i = 0; i < EBPF_MAX_SLOTS; i++)
        self->slots[i].link_fd[0] = self->slots[i].link_fd[1] = -1;
    bool reasons = s_name_reasons(self);
    if (!reasons)
        log_warn("ebpf: the kernel does not name its drops (no enum skb_drop_reason: Linux 5.17 "
                 "or later); counting packets only");
    if (s_load(self, reasons, err, errsz) != 0)
        goto fail;
    if (reasons) {
        s_layer_reasons(self);
        if (!(self->kfree = bpf_program__attach(self->skel->progs.ds_kfree_skb))) {
            snprintf(err, errsz, "cannot attach to the skb:kfree_skb tracepoint: %s",
                     strerror(errno));
            goto fail;
        }
    }
    return self;
fail:
    ebpf_destroy(&self);
    return NULL;
}

/* Where the programs find ifindex's slot: plus1 = slot + 1, or 0 for none. */
static void s_set_slot(ebpf_t *self, __u32 ifindex, __u32 plus1)
{
    if (ifindex < EBPF_SLOT_INDEX) {
        bpf_map__update_elem(self->skel->maps.slot_index, &ifindex, sizeof ifindex, &plus1,
                             sizeof plus1, BPF_ANY);
    } else if (plus1) {
        __u32 slot = plus1 - 1;
        bpf_map__update_elem(self->skel->maps.slots, &ifindex, sizeof ifindex, &slot, sizeof slot,
                             BPF_ANY);
    } else {
        bpf_map__delete_elem(self->skel->maps.slots, &ifindex, sizeof ifindex, 0);
    }
}

static void s_detach(ebpf_t *self, slot_t *s)
{
    for (int d = 0; d < 2; d++) {
        if (s->link_fd[d] >= 0)
            close(s->link_fd[d]);
        s->link_fd[d] = -1;
    }
    s_set_slot(self, s->ifindex, 0);
    s->ifindex = 0;
    if (s->region)
        munmap((void *)s->region, self->region_len);
    s->region = NULL;
}

void ebpf_destroy(ebpf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ebpf_t *self = *self_p;
    for (size_t i = 0; i < EBPF_MAX_SLOTS; i++)
        if (self->slots[i].ifindex)
            s_detach(self, &self->slots[i]);
    bpf_link__destroy(self->kfree);
    if (self->reason_totals)
        munmap((void *)self->reason_totals, s_page_round(8 * EBPF_MAX_REASONS));
    if (self->drops)
        munmap((void *)self->drops, s_drops_len(self));
    dropscope_bpf__destroy(self->skel);
    for (size_t i = 0; i < EBPF_MAX_REASONS; i++)
        free(self->reason_name[i]);
    free(self);
    *self_p = NULL;
}

static uint64_t s_epoch_now(const ebpf_t *self)
{
    return (uint64_t)ts_mono_ns() / (uint64_t)self->tick_ns;
}

/* Attaches both directions of ifindex to a free slot. */
static int s_attach(ebpf_t *self, uint32_t ifindex, char *err, size_t errsz)
{
    slot_t *s = NULL;
    for (size_t i = 0; i < EBPF_MAX_SLOTS && !s; i++)
        if (!self->slots[i].ifindex)
            s = &self->slots[i];
    if (!s) {
        snprintf(err, errsz, "more than %d interfaces: interface %u is not counted",
                 EBPF_MAX_SLOTS, ifindex);
        return -1;
    }
    __u32 slot = (__u32)(s - self->slots);
    if (!(s->region = s_mmap(self->skel->maps.buckets, self->region_len, slot * self->region_len))) {
        snprintf(err, errsz, "cannot mmap the buckets of interface %u: %s", ifindex,
                 strerror(errno));
        return -1;
    }
    s->ifindex = ifindex;
    s->folded = s_epoch_now(self) - 1;
    s->seen = true;
    s_set_slot(self, ifindex, slot + 1);
    const struct bpf_program *prog[2] = {self->skel->progs.ds_ingress, self->skel->progs.ds_egress};
    const int type[2] = {DS_BPF_TCX_INGRESS, DS_BPF_TCX_EGRESS};
    for (int d = 0; d < 2; d++) {
        s->link_fd[d] = bpf_link_create(bpf_program__fd(prog[d]), (int)ifindex,
                                        (enum bpf_attach_type)type[d], NULL);
        if (s->link_fd[d] < 0) {
            int e = -s->link_fd[d];
            snprintf(err, errsz, "cannot attach tcx %s to interface %u: %s%s",
                     d ? "egress" : "ingress", ifindex, strerror(e),
                     e == EINVAL ? " (tcx needs Linux 6.6 or later)" : "");
            s_detach(self, s);
            return -1;
        }
    }
    return 0;
}

size_t ebpf_track(ebpf_t *self, const uint32_t *ifindex, size_t n, char *err, size_t errsz)
{
    size_t failed = 0;
    for (size_t i = 0; i < EBPF_MAX_SLOTS; i++)
        self->slots[i].seen = false;
    for (size_t k = 0; k < n; k++) {
        slot_t *s = NULL;
        for (size_t i = 0; i < EBPF_MAX_SLOTS && !s; i++)
            if (self->slots[i].ifindex == ifindex[k])
                s = &self->slots[i];
        char why[256];
        if (s)
            s->seen = true;
        else if (s_attach(self, ifindex[k], why, sizeof why) != 0 && failed++ == 0)
            snprintf(err, errsz, "%s", why);
    }
    for (size_t i = 0; i < EBPF_MAX_SLOTS; i++)
        if (self->slots[i].ifindex && !self->slots[i].seen)
            s_detach(self, &self->slots[i]);
    return failed;
}

uint64_t ebpf_fold(ebpf_t *self, ebpf_sample_fn *fn, void *ctx)
{
    int64_t real_minus_mono = ts_real_minus_mono_ns();
    uint64_t upto = s_epoch_now(self) - 2, lost = 0;
    for (size_t i = 0; i < EBPF_MAX_SLOTS; i++) {
        slot_t *s = &self->slots[i];
        if (!s->ifindex || upto <= s->folded)
            continue;
        /* Buckets older than the ring now holds were overwritten. */
        uint64_t oldest = upto - (self->nbuckets - 3);
        if (upto >= self->nbuckets - 3 && s->folded + 1 < oldest) {
            lost += oldest - (s->folded + 1);
            s->folded = oldest - 1;
        }
        buckets_t b = {s->region, self->ncpus, self->nbuckets, self->tick_ns};
        buckets_fold(&b, s->ifindex, s->folded, upto, real_minus_mono, fn, ctx);
        s->folded = upto;
    }
    return lost;
}

bool ebpf_drops_between(const ebpf_t *self, int64_t from_ns, int64_t to_ns,
                        uint64_t out[LAYER_COUNT])
{
    int64_t mono_minus_real = -ts_real_minus_mono_ns();
    if (to_ns <= from_ns)
        return true;
    uint64_t first = (uint64_t)(from_ns + mono_minus_real) / (uint64_t)self->tick_ns;
    uint64_t last = (uint64_t)(to_ns + mono_minus_real - 1) / (uint64_t)self->tick_ns;
    uint64_t now = s_epoch_now(self);
    bool covered = now - first < self->nbuckets - 2;
    buckets_drops(self->drops, self->nbuckets, first, last < now ? last : now, out);
    return covered;
}

size_t ebpf_reasons(const ebpf_t *self, ebpf_reason_t *out, size_t max)
{
    size_t n = 0;
    for (size_t r = 0; r < EBPF_MAX_REASONS && n < max; r++) {
        uint64_t v = __atomic_load_n(&self->reason_totals[r], __ATOMIC_RELAXED);
        if (v)
            out[n++] = (ebpf_reason_t){self->reason_name[r] ? self->reason_name[r] : "UNKNOWN", v};
    }
    return n;
}

#else /* built without libbpf, clang's BPF target or bpftool */

ebpf_t *ebpf_new(int64_t tick_ns, char *err, size_t errsz)
{
    (void)tick_ns;
    snprintf(err, errsz, "this collector was built without the eBPF backend (install clang, "
             "libbpf-dev and bpftool, and build on a kernel with /sys/kernel/btf/vmlinux)");
    return NULL;
}

void ebpf_destroy(ebpf_t **self_p)
{
    if (self_p)
        *self_p = NULL;
}

size_t ebpf_track(ebpf_t *self, const uint32_t *ifindex, size_t n, char *err, size_t errsz)
{
    (void)self, (void)ifindex, (void)err, (void)errsz;
    return n;
}

uint64_t ebpf_fold(ebpf_t *self, ebpf_sample_fn *fn, void *ctx)
{
    (void)self, (void)fn, (void)ctx;
    return 0;
}

bool ebpf_drops_between(const ebpf_t *self, int64_t from_ns, int64_t to_ns,
                        uint64_t out[LAYER_COUNT])
{
    (void)self, (void)from_ns, (void)to_ns, (void)out;
    return false;
}

size_t ebpf_reasons(const ebpf_t *self, ebpf_reason_t *out, size_t max)
{
    (void)self, (void)out, (void)max;
    return 0;
}

#endif
