/* qdisc: per read, one RTM_GETQDISC dump decoded datagram by datagram into
 * a table of qdiscs kept until the end (a few qdiscs per device, so finding
 * parents is quadratic only per device), then one RTM_GETLINK dump for the
 * names, both from the socket's own namespace through rtnl; qdisc_decode
 * builds the same table from recorded bytes.
 * Kernel semantics (docs/COUNTERS.md, qdisc; sch_generic.h, gen_stats.c):
 * - drops: qdisc_drop, the qdisc at its limit; the skb is freed in
 *   __dev_queue_xmit (reason QDISC_DROP or a more specific one). Not in the
 *   device's tx_dropped; the sender's Udp SndbufErrors and Ip OutDiscards
 *   rise by as much, and sendto() still succeeds (no IP_RECVERR).
 * - A parent counts its children's drops again (tbf/htb_enqueue call
 *   qdisc_qstats_drop(sch) when the child refused; mq sums its children):
 *   tbf 1: and pfifo 10: both showed 17678. Its own direct drops (htb
 *   direct_qlen) are folded in beyond telling apart.
 * - drops, requeues, overlimits are __u32 (gnet_stats_queue); packets is
 *   __u32 in gnet_stats_basic, u64 in TCA_STATS_PKT64 once it overflows. */
#define _GNU_SOURCE
#include "qdisc.h"

#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "grow.h"
#include "rtnl.h"
#include "source.h"

/* One qdisc of the current dump. */
typedef struct {
    int ifindex;       /* tcm_ifindex */
    uint32_t handle;   /* tcm_handle: major:0, or 0 for a default qdisc */
    uint32_t parent;   /* tcm_parent: TC_H_ROOT, TC_H_INGRESS or a class */
    size_t order;      /* its place in the dump, so that sorting keeps it */
    bool has_queue;    /* drops and overlimits came */
    bool has_requeues; /* requeues came (TCA_STATS_QUEUE only; tc_stats lacks it) */
    bool has_basic;    /* packets and bytes came */
    uint32_t drops, overlimits, requeues;
    uint64_t packets, bytes;
} entry_t;

/* One interface of the RTM_GETLINK dump. */
typedef struct {
    int ifindex;
    char name[IF_NAMESIZE];
} link_t;

/* The qdiscs and interfaces of one read or one qdisc_decode. */
typedef struct {
    entry_t *q; /* the qdiscs: nq used of capq */
    size_t nq, capq;
    link_t *links; /* the interfaces: nlinks used of caplinks */
    size_t nlinks, caplinks;
    bool oom; /* q or links could not grow: the read fails */
} table_t;

struct qdisc {
    rtnl_t *rtnl; /* the NETLINK_ROUTE socket and its receive buffer */
    table_t t;    /* this read's; the arrays are reused from read to read */
};

qdisc_t *qdisc_new(char *err, size_t errsz)
{
    qdisc_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "qdisc: out of memory");
        return NULL;
    }
    if (!(self->rtnl = rtnl_new(err, errsz)))
        qdisc_destroy(&self);
    return self;
}

static void s_table_free(table_t *t)
{
    free(t->q);
    free(t->links);
    memset(t, 0, sizeof *t);
}

void qdisc_destroy(qdisc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qdisc_t *self = *self_p;
    rtnl_destroy(&self->rtnl);
    s_table_free(&self->t);
    free(self);
    *self_p = NULL;
}

/* Copies an attribute's payload into out (size bytes, zero-filled past a
 * short payload); false when the payload has fewer than need bytes. */
static bool s_copy(const struct nlattr *attr, void *out, size_t size, size_t need)
{
    if (!attr || mnl_attr_get_payload_len(attr) < need)
        return false;
    size_t len = mnl_attr_get_payload_len(attr);
    memset(out, 0, size);
    memcpy(out, mnl_attr_get_payload(attr), len < size ? len : size);
    return true;
}

/* Attribute tables indexed by type, large enough for the types we read;
 * the others, newer ones included, are ignored. */
#define S_TB 32
_Static_assert(TCA_STATS2 < S_TB && TCA_STATS_PKT64 < S_TB && IFLA_IFNAME < S_TB, "S_TB");

static int s_keep(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    uint16_t type = mnl_attr_get_type(attr);
    if (type < S_TB)
        tb[type] = attr;
    return MNL_CB_OK;
}

static void s_read_stats2(entry_t *e, const struct nlattr *nest)
{
    const struct nlattr *tb[S_TB] = {0};
    mnl_attr_parse_nested(nest, s_keep, tb);
    struct gnet_stats_queue q;
    if (s_copy(tb[TCA_STATS_QUEUE], &q, sizeof q, sizeof q)) {
        e->has_queue = e->has_requeues = true;
        e->drops = q.drops;
        e->overlimits = q.overlimits;
        e->requeues = q.requeues;
    }
    struct gnet_stats_basic b;
    if (s_copy(tb[TCA_STATS_BASIC], &b, sizeof b, offsetof(struct gnet_stats_basic, packets) + 4)) {
        e->has_basic = true;
        e->bytes = b.bytes;
        e->packets = b.packets;
        if (tb[TCA_STATS_PKT64] && mnl_attr_validate(tb[TCA_STATS_PKT64], MNL_TYPE_U64) == 0)
            e->packets = mnl_attr_get_u64(tb[TCA_STATS_PKT64]);
    }
}

/* The legacy struct tc_stats, for a kernel that sends no TCA_STATS2. */
static void s_read_stats(entry_t *e, const struct nlattr *attr)
{
    struct tc_stats st;
    if (!s_copy(attr, &st, sizeof st, offsetof(struct tc_stats, overlimits) + 4))
        return;
    e->has_queue = e->has_basic = true;
    e->drops = st.drops;
    e->overlimits = st.overlimits;
    e->bytes = st.bytes;
    e->packets = st.packets;
}

static int s_on_qdisc(void *ctx, const struct nlmsghdr *nlh, char *err, size_t errsz)
{
    table_t *t = ctx;
    const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tb[S_TB] = {0};
    mnl_attr_parse(nlh, sizeof *tcm, s_keep, tb);
    if (!tb[TCA_KIND] || mnl_attr_validate(tb[TCA_KIND], MNL_TYPE_NUL_STRING) < 0)
        return rtnl_problem(err, errsz, "qdisc: qdisc %x: of interface %d has no TCA_KIND string",
                            TC_H_MAJ(tcm->tcm_handle) >> 16, tcm->tcm_ifindex);
    entry_t e = {.ifindex = tcm->tcm_ifindex,
                 .handle = tcm->tcm_handle,
                 .parent = tcm->tcm_parent,
                 .order = t->nq};
    if (tb[TCA_STATS2])
        s_read_stats2(&e, tb[TCA_STATS2]);
    else if (tb[TCA_STATS])
        s_read_stats(&e, tb[TCA_STATS]);
    if (!e.has_queue && !e.has_basic)
        return 0;
    entry_t *q = grow(t->q, t->nq + 1, &t->capq, sizeof *q, 16);
    if (!q) {
        t->oom = true;
        return 0;
    }
    t->q = q;
    q[t->nq++] = e;
    return 0;
}

static int s_on_link(void *ctx, const struct nlmsghdr *nlh, char *err, size_t errsz)
{
    table_t *t = ctx;
    const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tb[S_TB] = {0};
    mnl_attr_parse(nlh, sizeof *ifm, s_keep, tb);
    if (!tb[IFLA_IFNAME] || mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0)
        return rtnl_problem(err, errsz, "qdisc: interface %d has no NUL-terminated IFLA_IFNAME",
                            ifm->ifi_index);
    link_t *links = grow(t->links, t->nlinks + 1, &t->caplinks, sizeof *links, 16);
    if (!links) {
        t->oom = true;
        return 0;
    }
    t->links = links;
    link_t *l = &links[t->nlinks++];
    l->ifindex = ifm->ifi_index;
    snprintf(l->name, sizeof l->name, "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
    return 0;
}

static int s_add_qdiscs(table_t *t, const void *buf, size_t len, char *err, size_t errsz)
{
    return rtnl_walk(buf, len, RTM_NEWQDISC, sizeof(struct tcmsg), s_on_qdisc, t, err, errsz);
}

static int s_add_links(table_t *t, const void *buf, size_t len, char *err, size_t errsz)
{
    return rtnl_walk(buf, len, RTM_NEWLINK, sizeof(struct ifinfomsg), s_on_link, t, err, errsz);
}

static int s_by_ifindex(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b; /* ifindex leads both structs */
    return (x > y) - (x < y);
}

/* By device, then in dump order: qsort is not stable. */
static int s_by_place(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    int c = s_by_ifindex(a, b);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* True when another qdisc of the device (q[0..n), e among them) hangs below
 * e: its parent class has e's major. A root's parent (ffff:ffff) and that
 * of ingress/clsact (ffff:fff1) name no qdisc. A default qdisc under a class
 * (handle 0, e.g. each mq child) is classless; the others with handle 0 have
 * it because their parent is 0:N, under the default mq root 0:. */
static bool s_has_children(const entry_t *q, size_t n, const entry_t *e)
{
    if (e->handle == 0 && e->parent != TC_H_ROOT)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint32_t p = q[i].parent;
        if (&q[i] != e && p != TC_H_ROOT && p != TC_H_INGRESS && p != TC_H_UNSPEC &&
            TC_H_MAJ(p) == TC_H_MAJ(e->handle))
            return true;
    }
    return false;
}

/* "<ifname>:<handle>" as tc prints a qdisc handle, or for a default qdisc
 * under a class, the class: qdisc handles have no minor, so no clash. */
static void s_device(char *out, size_t size, const char *ifname, const entry_t *e)
{
    uint32_t p = e->parent;
    if (e->handle != 0 || p == TC_H_ROOT || p == TC_H_UNSPEC)
        snprintf(out, size, "%s:%x:", ifname, TC_H_MAJ(e->handle) >> 16);
    else if (TC_H_MAJ(p) == 0)
        snprintf(out, size, "%s::%x", ifname, TC_H_MIN(p));
    else
        snprintf(out, size, "%s:%x:%x", ifname, TC_H_MAJ(p) >> 16, TC_H_MIN(p));
}

static void s_emit_entry(const entry_t *e, const char *device, bool has_children, reading_fn *emit,
                         void *ctx)
{
    reading_t r = {source_name(SOURCE_QDISC), device, NULL, 0, (uint64_t)e->ifindex};
#define S_PUT(nm, v) (r.name = (nm), r.value = (v), emit(ctx, &r))
    if (e->has_queue) {
        S_PUT(has_children ? "drops_incl_children" : "drops", e->drops);
        S_PUT("overlimits", e->overlimits);
    }
    if (e->has_requeues)
        S_PUT("requeues", e->requeues);
    if (e->has_basic) {
        S_PUT("packets", e->packets);
        S_PUT("bytes", e->bytes);
    }
#undef S_PUT
}

/* Emits every qdisc of t whose device is named, device by device. */
static void s_emit(table_t *t, reading_fn *emit, void *ctx)
{
    if (t->nq == 0 || t->nlinks == 0)
        return; /* and keeps NULL arrays away from qsort and bsearch */
    qsort(t->q, t->nq, sizeof *t->q, s_by_place);
    qsort(t->links, t->nlinks, sizeof *t->links, s_by_ifindex);
    for (size_t i = 0, end; i < t->nq; i = end) {
        for (end = i + 1; end < t->nq && t->q[end].ifindex == t->q[i].ifindex;)
            end++;
        const link_t *l =
            bsearch(&t->q[i].ifindex, t->links, t->nlinks, sizeof *t->links, s_by_ifindex);
        for (size_t j = i; l && j < end; j++) {
            char device[IF_NAMESIZE + 24];
            s_device(device, sizeof device, l->name, &t->q[j]);
            s_emit_entry(&t->q[j], device, s_has_children(&t->q[i], end - i, &t->q[j]), emit, ctx);
        }
    }
}

int qdisc_decode(const void *qdiscs, size_t qlen, const void *links, size_t llen, reading_fn *emit,
                 void *ctx, char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    table_t t = {0};
    int problems = s_add_qdiscs(&t, qdiscs, qlen, err, errsz);
    problems += s_add_links(&t, links, llen, err, errsz);
    if (t.oom) {
        snprintf(err, errsz, "qdisc: out of memory for %zu qdiscs and %zu interfaces", t.nq,
                 t.nlinks);
        problems = -1;
    } else {
        s_emit(&t, emit, ctx);
    }
    s_table_free(&t);
    return problems;
}

static int s_qdisc_datagram(void *ctx, const void *buf, size_t len, char *err, size_t errsz)
{
    table_t *t = ctx;
    s_add_qdiscs(t, buf, len, NULL, 0); /* malformed qdiscs are skipped */
    if (t->oom)
        snprintf(err, errsz, "qdisc: out of memory for %zu qdiscs", t->nq);
    return t->oom ? -1 : 0;
}

static int s_link_datagram(void *ctx, const void *buf, size_t len, char *err, size_t errsz)
{
    table_t *t = ctx;
    s_add_links(t, buf, len, NULL, 0);
    if (t->oom)
        snprintf(err, errsz, "qdisc: out of memory for %zu interfaces", t->nlinks);
    return t->oom ? -1 : 0;
}

int qdisc_read(qdisc_t *self, reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    struct tcmsg tcm = {.tcm_family = AF_UNSPEC};
    struct ifinfomsg ifm = {.ifi_family = AF_UNSPEC};
    self->t.nq = self->t.nlinks = 0;
    self->t.oom = false;
    /* Qdiscs first: a device that appears between the two dumps is then
     * never named, only one that vanished, and that is skipped. */
    if (rtnl_dump(self->rtnl, RTM_GETQDISC, &tcm, sizeof tcm, s_qdisc_datagram, &self->t, err,
                  errsz) != RTNL_OK ||
        rtnl_dump(self->rtnl, RTM_GETLINK, &ifm, sizeof ifm, s_link_datagram, &self->t, err,
                  errsz) != RTNL_OK)
        return -1;
    s_emit(&self->t, emit, ctx);
    return 0;
}
