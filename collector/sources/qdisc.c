/* qdisc: per read, one RTM_GETQDISC dump kept whole (a few qdiscs per
 * device, so finding parents is quadratic only per device), then one
 * RTM_GETLINK dump for the names, both from the socket's own namespace.
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

#include <errno.h>
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
#include <time.h>

#include "grow.h"

/* One qdisc of the current dump. */
typedef struct {
    int ifindex;       /* tcm_ifindex */
    uint32_t handle;   /* tcm_handle: major:0, or 0 for a default qdisc */
    uint32_t parent;   /* tcm_parent: TC_H_ROOT, TC_H_INGRESS or a class */
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

struct qdisc {
    struct mnl_socket *nl; /* NETLINK_ROUTE, bound */
    unsigned portid;       /* our netlink port id */
    unsigned seq;          /* last request sequence number */
    char *buf;             /* receive buffer, MNL_SOCKET_BUFFER_SIZE */
    entry_t *q;            /* this read's qdiscs: nq used of capq; reused */
    size_t nq, capq;
    link_t *links; /* this read's interfaces: nlinks used of caplinks; reused */
    size_t nlinks, caplinks;
    bool oom; /* a callback could not grow q or links: the read fails */
};

qdisc_t *qdisc_new(char *err, size_t errsz)
{
    qdisc_t *self = calloc(1, sizeof *self);
    if (!self || !(self->buf = malloc(MNL_SOCKET_BUFFER_SIZE))) {
        snprintf(err, errsz, "qdisc: out of memory");
        free(self);
        return NULL;
    }
    self->nl = mnl_socket_open(NETLINK_ROUTE);
    if (!self->nl || mnl_socket_bind(self->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        snprintf(err, errsz, "qdisc: cannot open a NETLINK_ROUTE socket: %s", strerror(errno));
        qdisc_destroy(&self);
        return NULL;
    }
    self->portid = mnl_socket_get_portid(self->nl);
    self->seq = (unsigned)time(NULL);
    return self;
}

void qdisc_destroy(qdisc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qdisc_t *self = *self_p;
    if (self->nl)
        mnl_socket_close(self->nl);
    free(self->buf);
    free(self->q);
    free(self->links);
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

static int s_on_qdisc(const struct nlmsghdr *nlh, void *data)
{
    qdisc_t *self = data;
    const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tb[S_TB] = {0};
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof *tcm ||
        mnl_attr_parse(nlh, sizeof *tcm, s_keep, tb) < 0 || !tb[TCA_KIND] ||
        mnl_attr_validate(tb[TCA_KIND], MNL_TYPE_NUL_STRING) < 0)
        return MNL_CB_OK; /* malformed: skip it, keep the rest of the dump */
    entry_t e = {.ifindex = tcm->tcm_ifindex, .handle = tcm->tcm_handle, .parent = tcm->tcm_parent};
    if (tb[TCA_STATS2])
        s_read_stats2(&e, tb[TCA_STATS2]);
    else if (tb[TCA_STATS])
        s_read_stats(&e, tb[TCA_STATS]);
    if (!e.has_queue && !e.has_basic)
        return MNL_CB_OK;
    entry_t *q = grow(self->q, self->nq + 1, &self->capq, sizeof *q, 16);
    if (!q) {
        self->oom = true;
        return MNL_CB_OK;
    }
    self->q = q;
    q[self->nq++] = e;
    return MNL_CB_OK;
}

static int s_on_link(const struct nlmsghdr *nlh, void *data)
{
    qdisc_t *self = data;
    const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tb[S_TB] = {0};
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof *ifm ||
        mnl_attr_parse(nlh, sizeof *ifm, s_keep, tb) < 0 || !tb[IFLA_IFNAME] ||
        mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0)
        return MNL_CB_OK;
    link_t *links = grow(self->links, self->nlinks + 1, &self->caplinks, sizeof *links, 16);
    if (!links) {
        self->oom = true;
        return MNL_CB_OK;
    }
    self->links = links;
    link_t *l = &links[self->nlinks++];
    l->ifindex = ifm->ifi_index;
    snprintf(l->name, sizeof l->name, "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
    return MNL_CB_OK;
}

/* Discards the rest of a dump that failed halfway, which the next request
 * would otherwise read as its answer (the kernel fills it in on each recv). */
static void s_drain(qdisc_t *self)
{
    int fd = mnl_socket_get_fd(self->nl);
    while (recv(fd, self->buf, MNL_SOCKET_BUFFER_SIZE, MSG_DONTWAIT) > 0)
        ;
}

/* Sends the dump request nlh and runs cb over every reply. */
static int s_dump(qdisc_t *self, struct nlmsghdr *nlh, mnl_cb_t cb, const char *what, char *err,
                  size_t errsz)
{
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++self->seq;
    if (mnl_socket_sendto(self->nl, nlh, nlh->nlmsg_len) < 0) {
        snprintf(err, errsz, "qdisc: netlink %s: send: %s", what, strerror(errno));
        return -1;
    }
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(self->nl, self->buf, MNL_SOCKET_BUFFER_SIZE);
        int rc = n < 0 ? -1 : mnl_cb_run(self->buf, (size_t)n, self->seq, self->portid, cb, self);
        if (rc == MNL_CB_STOP)
            return 0;
        if (rc < 0) {
            snprintf(err, errsz, "qdisc: netlink %s: %s", what, strerror(errno));
            s_drain(self);
            return -1;
        }
    }
}

static int s_by_ifindex(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b; /* ifindex leads both structs */
    return (x > y) - (x < y);
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
    reading_t r = {"qdisc", device, NULL, 0, (uint64_t)e->ifindex};
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

int qdisc_read(qdisc_t *self, reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    char req[64];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
    nlh->nlmsg_type = RTM_GETQDISC;
    struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof *tcm);
    tcm->tcm_family = AF_UNSPEC;
    self->nq = self->nlinks = 0;
    self->oom = false;
    /* Qdiscs first: a device that appears between the two dumps is then
     * never named, only one that vanished, and that is skipped. */
    if (s_dump(self, nlh, s_on_qdisc, "RTM_GETQDISC", err, errsz) != 0)
        return -1;
    nlh = mnl_nlmsg_put_header(req);
    nlh->nlmsg_type = RTM_GETLINK;
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    if (s_dump(self, nlh, s_on_link, "RTM_GETLINK", err, errsz) != 0)
        return -1;
    if (self->oom) {
        snprintf(err, errsz, "qdisc: out of memory for %zu qdiscs", self->nq);
        return -1;
    }
    if (self->nq == 0 || self->nlinks == 0)
        return 0; /* and keeps NULL arrays away from qsort and bsearch */
    qsort(self->q, self->nq, sizeof *self->q, s_by_ifindex);
    qsort(self->links, self->nlinks, sizeof *self->links, s_by_ifindex);
    for (size_t i = 0, end; i < self->nq; i = end) {
        for (end = i + 1; end < self->nq && self->q[end].ifindex == self->q[i].ifindex;)
            end++;
        const link_t *l = bsearch(&self->q[i].ifindex, self->links, self->nlinks,
                                  sizeof *self->links, s_by_ifindex);
        for (size_t j = i; l && j < end; j++) {
            char device[IF_NAMESIZE + 24];
            s_device(device, sizeof device, l->name, &self->q[j]);
            s_emit_entry(&self->q[j], device, s_has_children(&self->q[i], end - i, &self->q[j]),
                         emit, ctx);
        }
    }
    return 0;
}
