/* sockdiag: three dumps per read (UDP IPv4, UDP IPv6, and TCP's one
 * compat dump of both families), each decoded datagram by datagram as it arrives, so a host with
 * 10,000 sockets costs no buffer of its own. Most sockets of a busy host are
 * quiet; the few that matter are kept in a sorted array of inodes that is
 * rebuilt on every read (a socket that is gone drops out). The decoder
 * trusts no length in the bytes: rtnl_walk checks the messages, mnl the
 * attributes, and every struct is copied at the length it came with. */
#define _GNU_SOURCE
#include "sockdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "rtnl.h"
#include "source.h"

/* TCP states not worth a look (include/net/tcp_states.h; no uapi header
 * names them): a listener's queue is the listen layer's
 * (TcpExt.ListenOverflows), and TIME_WAIT and request sockets have no
 * buffer or file. */
#define S_SYN_RECV 3
#define S_TIME_WAIT 6
#define S_LISTEN 10
#define S_NEW_SYN_RECV 12
#define TCP_STATES                                                                                 \
    (~((1u << S_SYN_RECV) | (1u << S_TIME_WAIT) | (1u << S_LISTEN) | (1u << S_NEW_SYN_RECV)))

struct sockdiag {
    rtnl_t *nl;     /* NETLINK_SOCK_DIAG */
    uint64_t *kept; /* inodes emitted by the last complete read, sorted */
    size_t nkept;
    size_t keptcap;
    uint64_t *next; /* inodes emitted by the read under way */
    size_t nnext;
    size_t nextcap;
    bool oom; /* next could not grow during this read */
};

/* --- the decoder ----------------------------------------------------------- */

typedef struct {
    const char *proto;
    sockdiag_sock_fn *fn;
    void *ctx;
} s_decode_t;

static int s_address(int family, const __be32 *addr, uint16_t port, char *out, size_t outsz)
{
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(family, addr, text, sizeof text))
        return -1;
    int w = family == AF_INET ? snprintf(out, outsz, "%s:%u", text, port)
                              : snprintf(out, outsz, "[%s]:%u", text, port);
    return w < 0 || (size_t)w >= outsz ? -1 : 0;
}

/* "udp:A:P" or "tcp:LA:LP-RA:RP" (6 after the protocol for IPv6). */
static int s_device(const struct inet_diag_msg *m, const char *proto, bool tcp, char *out,
                    size_t outsz)
{
    char local[64], remote[64];
    const char *six = m->idiag_family == AF_INET6 ? "6" : "";
    if (s_address(m->idiag_family, m->id.idiag_src, ntohs(m->id.idiag_sport), local,
                  sizeof local) != 0 ||
        s_address(m->idiag_family, m->id.idiag_dst, ntohs(m->id.idiag_dport), remote,
                  sizeof remote) != 0)
        return -1;
    int w = tcp ? snprintf(out, outsz, "%s%s:%s-%s", proto, six, local, remote)
                : snprintf(out, outsz, "%s%s:%s", proto, six, local);
    return w < 0 || (size_t)w >= outsz ? -1 : 0;
}

/* SK_MEMINFO_*: an array of u32 that grew over the years (DROPS is 3.x's). */
static void s_meminfo(const struct nlattr *a, sockdiag_sock_t *s)
{
    uint32_t mem[SK_MEMINFO_VARS] = {0};
    size_t n = mnl_attr_get_payload_len(a);
    memcpy(mem, mnl_attr_get_payload(a), n < sizeof mem ? n : sizeof mem);
    if (n < (SK_MEMINFO_RCVBUF + 1) * sizeof(uint32_t))
        return;
    s->has_mem = true;
    s->rmem_alloc = mem[SK_MEMINFO_RMEM_ALLOC];
    s->rcvbuf = mem[SK_MEMINFO_RCVBUF];
    s->drops = mem[SK_MEMINFO_DROPS];
}

/* struct tcp_info, as long as this kernel makes it: fields past its end
 * stay 0, and without tcpi_total_retrans (2.6.x) it is not used. */
static void s_tcpinfo(const struct nlattr *a, sockdiag_sock_t *s)
{
    struct tcp_info ti;
    size_t n = mnl_attr_get_payload_len(a);
    memset(&ti, 0, sizeof ti);
    memcpy(&ti, mnl_attr_get_payload(a), n < sizeof ti ? n : sizeof ti);
    if (n < offsetof(struct tcp_info, tcpi_total_retrans) + sizeof ti.tcpi_total_retrans)
        return;
    s->has_info = true;
    s->retrans = ti.tcpi_total_retrans;
    s->retransmits = ti.tcpi_retransmits;
    s->backoff = ti.tcpi_backoff;
    s->rtt_us = ti.tcpi_rtt;
}

static int s_message(void *ctx, const struct nlmsghdr *nlh, char *err, size_t errsz)
{
    const s_decode_t *d = ctx;
    const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
    sockdiag_sock_t s;
    memset(&s, 0, sizeof s);
    s.tcp = strcmp(d->proto, "tcp") == 0;
    if ((m->idiag_family != AF_INET && m->idiag_family != AF_INET6) ||
        s_device(m, d->proto, s.tcp, s.device, sizeof s.device) != 0)
        return rtnl_problem(err, errsz, "sock_diag: a %s socket of family %u, not IPv4 or IPv6",
                            d->proto, m->idiag_family);
    s.state = m->idiag_state;
    s.inode = m->idiag_inode;
    s.rqueue = m->idiag_rqueue;
    const struct nlattr *a;
    mnl_attr_for_each(a, nlh, sizeof *m)
    {
        if (mnl_attr_get_type(a) == INET_DIAG_SKMEMINFO)
            s_meminfo(a, &s);
        else if (mnl_attr_get_type(a) == INET_DIAG_INFO && s.tcp)
            s_tcpinfo(a, &s);
    }
    /* the walk stops at the first attribute that is not whole */
    if ((const char *)a < (const char *)mnl_nlmsg_get_payload_tail(nlh))
        return rtnl_problem(err, errsz,
                            "sock_diag: %s (inode %llu): attribute %u is longer than its message",
                            s.device, (unsigned long long)s.inode, mnl_attr_get_type(a));
    d->fn(d->ctx, &s);
    return 0;
}

int sockdiag_decode(const void *buf, size_t len, const char *proto, sockdiag_sock_fn *fn, void *ctx,
                    char *err, size_t errsz)
{
    s_decode_t d = {proto, fn, ctx};
    if (err && errsz)
        err[0] = '\0';
    /* a dump answers in its request's type: TCPDIAG_GETSOCK for TCP's (see
     * s_dump_tcp), else SOCK_DIAG_BY_FAMILY */
    const struct nlmsghdr *first = buf;
    uint16_t type = len >= sizeof *first && first->nlmsg_type == TCPDIAG_GETSOCK
                        ? TCPDIAG_GETSOCK
                        : SOCK_DIAG_BY_FAMILY;
    return rtnl_walk(buf, len, type, sizeof(struct inet_diag_msg), s_message, &d, err, errsz);
}

/* Retransmitting means in timeout backoff now (tcpi_retransmits, or
 * tcpi_backoff, which zero-window probes raise too: a peer that stopped
 * reading), not "ever retransmitted": on a busy host most long-lived
 * connections have a few fast retransmits behind them, and each would
 * cost five series. Half its buffer: the kernel drops a UDP datagram once sk_rmem_alloc is
 * over sk_rcvbuf (__udp_enqueue_schedule_skb) and prunes a TCP queue there
 * (tcp_try_rmem_schedule), so at half the socket is one more burst of the
 * same size from losing it; a reader that keeps up holds a few packets, far
 * less. rmem_alloc and rcvbuf are both truesize, so they compare. */
bool sockdiag_matters(const sockdiag_sock_t *s)
{
    return s->drops > 0 || (s->tcp && (s->retransmits > 0 || s->backoff > 0)) ||
           (s->has_mem && s->rcvbuf > 0 && (uint64_t)s->rmem_alloc * 2 >= s->rcvbuf);
}

static void s_reading(const sockdiag_sock_t *s, const char *name, uint64_t value, reading_fn *emit,
                      void *ctx)
{
    reading_t r = {.source = source_name(SOURCE_SOCK),
                   .device = s->device,
                   .name = name,
                   .value = value,
                   .instance = s->inode};
    emit(ctx, &r);
}

void sockdiag_emit(const sockdiag_sock_t *s, reading_fn *emit, void *ctx)
{
    if (s->has_mem)
        s_reading(s, "drops", s->drops, emit, ctx);
    s_reading(s, "rx_queue", s->rqueue, emit, ctx);
    if (s->has_mem)
        s_reading(s, "rcvbuf", s->rcvbuf, emit, ctx);
    if (s->has_info) {
        s_reading(s, "retrans", s->retrans, emit, ctx);
        s_reading(s, "rtt_us", s->rtt_us, emit, ctx);
    }
}

/* --- the live reader -------------------------------------------------------- */

sockdiag_t *sockdiag_new(char *err, size_t errsz)
{
    sockdiag_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "sock_diag: out of memory");
        return NULL;
    }
    if (!(self->nl = rtnl_open(NETLINK_SOCK_DIAG, err, errsz)))
        sockdiag_destroy(&self);
    return self;
}

void sockdiag_destroy(sockdiag_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sockdiag_t *self = *self_p;
    rtnl_destroy(&self->nl);
    free(self->kept);
    free(self->next);
    free(self);
    *self_p = NULL;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool s_was_kept(const sockdiag_t *self, uint64_t inode)
{
    return inode && self->nkept &&
           bsearch(&inode, self->kept, self->nkept, sizeof inode, s_cmp_u64) != NULL;
}

typedef struct {
    sockdiag_t *self;
    reading_fn *emit;
    void *ctx;
    const char *proto;
    size_t sockets;
    int problems;
    char *err;
    size_t errsz;
} s_read_t;

static void s_take(void *ctx, const sockdiag_sock_t *s)
{
    s_read_t *r = ctx;
    sockdiag_t *self = r->self;
    r->sockets++;
    if (!sockdiag_matters(s) && !s_was_kept(self, s->inode))
        return;
    sockdiag_emit(s, r->emit, r->ctx);
    uint64_t *next = grow(self->next, self->nnext + 1, &self->nextcap, sizeof *next, 64);
    if (!next) {
        self->oom = true;
        return;
    }
    self->next = next;
    self->next[self->nnext++] = s->inode;
}

static int s_datagram(void *ctx, const void *buf, size_t len, char *err, size_t errsz)
{
    s_read_t *r = ctx;
    (void)err;
    (void)errsz;
    char why[256];
    int problems = sockdiag_decode(buf, len, r->proto, s_take, r, why, sizeof why);
    if (problems && r->problems == 0)
        snprintf(r->err, r->errsz, "%s", why); /* the first of the whole read */
    r->problems += problems;
    return 0;
}

/* The kernel refuses for good: no permission, or no diag handler for the
 * protocol (its module missing: ENOENT), or netlink without sock_diag. */
static bool s_refused(int e)
{
    return e == EPERM || e == EACCES || e == ENOENT || e == EOPNOTSUPP || e == EPROTONOSUPPORT ||
           e == EINVAL;
}

static int s_result(sockdiag_t *self, int rc)
{
    if (rc == RTNL_ERROR && s_refused(rtnl_error(self->nl)))
        return SOCKDIAG_UNAVAILABLE;
    return rc == RTNL_OK ? SOCKDIAG_OK : SOCKDIAG_RETRY;
}

/* TCP, IPv4 and IPv6 in one dump: the compat request (struct inet_diag_req,
 * type TCPDIAG_GETSOCK) asks with sdiag_family AF_UNSPEC
 * (inet_diag_dump_compat), so the kernel walks its established hash once,
 * where a SOCK_DIAG_BY_FAMILY dump per family walks it twice: 262,144
 * buckets, ~1.2 ms a walk on the VM of bench_sockdiag, whatever the socket
 * count. Its replies carry the same inet_diag_msg and attributes. */
static int s_dump_tcp(sockdiag_t *self, rtnl_datagram_fn *fn, void *ctx, char *err, size_t errsz)
{
    struct inet_diag_req req;
    memset(&req, 0, sizeof req);
    req.idiag_family = AF_INET; /* not read by the compat dump */
    req.idiag_states = TCP_STATES;
    req.idiag_ext = (1u << (INET_DIAG_SKMEMINFO - 1)) | (1u << (INET_DIAG_INFO - 1));
    req.id.idiag_cookie[0] = req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    return s_result(self,
                    rtnl_dump(self->nl, TCPDIAG_GETSOCK, &req, sizeof req, fn, ctx, err, errsz));
}

/* One dump of family/protocol (TCP: both families), its datagrams handed to
 * fn: OK, RETRY, or UNAVAILABLE when the kernel refuses it for good. */
static int s_dump(sockdiag_t *self, uint8_t family, uint8_t protocol, rtnl_datagram_fn *fn,
                  void *ctx, char *err, size_t errsz)
{
    if (protocol == IPPROTO_TCP)
        return s_dump_tcp(self, fn, ctx, err, errsz);
    struct inet_diag_req_v2 req;
    memset(&req, 0, sizeof req);
    req.sdiag_family = family;
    req.sdiag_protocol = protocol;
    req.idiag_states = ~0u;
    req.idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1);
    req.id.idiag_cookie[0] = req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    return s_result(
        self, rtnl_dump(self->nl, SOCK_DIAG_BY_FAMILY, &req, sizeof req, fn, ctx, err, errsz));
}

int sockdiag_collect(sockdiag_t *self, int family, int protocol, rtnl_bytes_t *out, char *err,
                     size_t errsz)
{
    return s_dump(self, (uint8_t)family, (uint8_t)protocol, rtnl_collect, out, err, errsz);
}

int sockdiag_read(sockdiag_t *self, reading_fn *emit, void *ctx, size_t *sockets, char *err,
                  size_t errsz)
{
    static const struct {
        uint8_t family, protocol;
    } dumps[] = {{AF_INET, IPPROTO_UDP}, {AF_INET6, IPPROTO_UDP}, {AF_UNSPEC, IPPROTO_TCP}};
    char problem[256] = "";
    s_read_t r = {self, emit, ctx, NULL, 0, 0, problem, sizeof problem};
    int rc = SOCKDIAG_OK;
    self->nnext = 0;
    self->oom = false;
    for (size_t i = 0; i < sizeof dumps / sizeof dumps[0] && rc == SOCKDIAG_OK; i++) {
        r.proto = dumps[i].protocol == IPPROTO_TCP ? "tcp" : "udp";
        rc = s_dump(self, dumps[i].family, dumps[i].protocol, s_datagram, &r, err, errsz);
    }
    if (sockets)
        *sockets = r.sockets;
    if (rc == SOCKDIAG_OK && r.problems > 0) {
        snprintf(err, errsz, "sock_diag: %d socket(s) not understood, first: %s", r.problems,
                 problem);
        rc = SOCKDIAG_RETRY;
    }
    if (rc == SOCKDIAG_OK && self->oom) {
        snprintf(err, errsz, "sock_diag: out of memory for the sockets kept");
        rc = SOCKDIAG_RETRY;
    }
    if (rc != SOCKDIAG_OK)
        return rc; /* the kept set stays as it was */
    if (self->nnext > 1) /* qsort's base may not be NULL, even for none */
        qsort(self->next, self->nnext, sizeof *self->next, s_cmp_u64);
    uint64_t *t = self->kept;
    size_t tcap = self->keptcap;
    self->kept = self->next;
    self->keptcap = self->nextcap;
    self->nkept = self->nnext;
    self->next = t;
    self->nextcap = tcap;
    self->nnext = 0;
    return SOCKDIAG_OK;
}
