/* rtnl: per dump, one request and one recvmsg per datagram into a buffer
 * allocated once (the sampler dumps every tick). The buffer starts at 32
 * KiB, the largest skb the kernel fills for a dump reader with a buffer that
 * large (netlink_dump), and grows only when one message is larger still
 * (RTM_NEWLINK of a device with many VFs). Nothing here trusts a length
 * that came from the socket or a file: libmnl's own nlmsg_ok casts
 * nlmsg_len to int, so messages are walked by s_msg_ok below. */
#define _GNU_SOURCE
#include "rtnl.h"

#include <assert.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "grow.h"

#define RTNL_DUMP_SIZE 32768    /* MNL_SOCKET_DUMP_SIZE of libmnl >= 1.0.5 */
#define RTNL_MAX_SIZE (1 << 20) /* the most a receive buffer may grow to */
#define RTNL_MAX_HDR 64         /* the largest family header of a request */

struct rtnl {
    struct mnl_socket *nl; /* NETLINK_ROUTE or NETLINK_SOCK_DIAG, bound */
    unsigned portid;       /* our port id: the kernel's replies to us carry it */
    unsigned seq;          /* sequence number of the latest request */
    char *buf;             /* receive buffer of bufsize bytes (malloc'd: aligned) */
    size_t bufsize;        /* RTNL_DUMP_SIZE, more once a datagram did not fit */
    int error;             /* errno of the last RTNL_ERROR (the kernel's own when it refused) */
    int protocol;          /* NETLINK_ROUTE or NETLINK_SOCK_DIAG */
};

/* What s_check makes of a datagram (or RTNL_ERROR). */
enum { S_MORE = 1, S_DONE = 2, S_STALE = 3 };

rtnl_t *rtnl_new(char *err, size_t errsz)
{
    return rtnl_open(NETLINK_ROUTE, err, errsz);
}

rtnl_t *rtnl_open(int protocol, char *err, size_t errsz)
{
    const char *pname = protocol == NETLINK_SOCK_DIAG ? "NETLINK_SOCK_DIAG" : "NETLINK_ROUTE";
    rtnl_t *self = calloc(1, sizeof *self);
    if (!self || !(self->buf = malloc(RTNL_DUMP_SIZE))) {
        snprintf(err, errsz, "netlink: out of memory for a %d-byte receive buffer", RTNL_DUMP_SIZE);
        free(self);
        return NULL;
    }
    self->bufsize = RTNL_DUMP_SIZE;
    self->nl = mnl_socket_open2(protocol, SOCK_CLOEXEC); /* not into onload_stackdump */
    if (!self->nl || mnl_socket_bind(self->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        self->error = errno;
        snprintf(err, errsz,
                 "netlink: cannot open a %s socket: %s (check that the seccomp or "
                 "LSM policy of this process allows netlink sockets)",
                 pname, strerror(errno));
        rtnl_destroy(&self);
        return NULL;
    }
    /* The kernel's own reason for an error (NLMSGERR_ATTR_MSG) in our
     * error text, without our request echoed back; older kernels ignore
     * both options, and then the errno has to do. */
    int on = 1, fd = mnl_socket_get_fd(self->nl);
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
    self->portid = mnl_socket_get_portid(self->nl);
    self->protocol = protocol;
    self->seq = (unsigned)time(NULL);
    return self;
}

void rtnl_destroy(rtnl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rtnl_t *self = *self_p;
    if (self->nl)
        mnl_socket_close(self->nl);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

const char *rtnl_type_name(uint16_t type)
{
    switch (type) {
    case NLMSG_NOOP: return "NLMSG_NOOP";
    case NLMSG_ERROR: return "NLMSG_ERROR";
    case NLMSG_DONE: return "NLMSG_DONE";
    case NLMSG_OVERRUN: return "NLMSG_OVERRUN";
    case RTM_NEWLINK: return "RTM_NEWLINK";
    case RTM_GETLINK: return "RTM_GETLINK";
    case RTM_NEWQDISC: return "RTM_NEWQDISC";
    case RTM_GETQDISC: return "RTM_GETQDISC";
    case RTM_NEWSTATS: return "RTM_NEWSTATS";
    case RTM_GETSTATS: return "RTM_GETSTATS";
    /* NETLINK_SOCK_DIAG's only type; RTM_NEWADDR shares its number, but no
     * rtnetlink source here asks for addresses */
    case SOCK_DIAG_BY_FAMILY: return "SOCK_DIAG_BY_FAMILY";
    default: return "an unknown type";
    }
}

int rtnl_problem(char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz && err[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return 1;
}

/* len padded to 4 bytes. Not NLMSG_ALIGN: its mask is an unsigned int, so
 * it makes 0 of an nlmsg_len above 0xfffffffc (and a walk never ends). */
static size_t s_align(size_t len)
{
    return (len + 3) & ~(size_t)3;
}

/* True when a whole message, padding included, starts at nlh within rem
 * bytes. The kernel pads every message to 4 bytes (nlmsg_put, nla_put), so
 * one that is not is cut short. */
static bool s_msg_ok(const struct nlmsghdr *nlh, size_t rem)
{
    return rem >= sizeof *nlh && nlh->nlmsg_len >= sizeof *nlh && s_align(nlh->nlmsg_len) <= rem;
}

static const struct nlmsghdr *s_next(const struct nlmsghdr *nlh, size_t *rem)
{
    size_t step = s_align(nlh->nlmsg_len);
    *rem -= step;
    return (const void *)((const char *)nlh + step);
}

/* The kernel's NLMSGERR_ATTR_MSG in the TLVs that start `off` bytes into
 * nlh's payload, or NULL; borrowed from nlh. */
static const char *s_extack(const struct nlmsghdr *nlh, size_t off)
{
    size_t len = mnl_nlmsg_get_payload_len(nlh);
    off = s_align(off);
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= len)
        return NULL;
    const void *tlvs = (const char *)mnl_nlmsg_get_payload(nlh) + off;
    const struct nlattr *attr;
    mnl_attr_for_each_payload(tlvs, len - off)
    {
        if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
            mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
            return mnl_attr_get_str(attr);
    }
    return NULL;
}

/* An NLMSG_ERROR in a dump: the kernel refused the request (or, error 0,
 * acknowledged it: nothing to do). */
static int s_error(const struct nlmsghdr *nlh, const char *what, int *errnum, char *err,
                   size_t errsz)
{
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
    size_t len = mnl_nlmsg_get_payload_len(nlh);
    *errnum = EPROTO;
    if (len < sizeof *e) {
        snprintf(err, errsz,
                 "netlink %s dump: the kernel's NLMSG_ERROR has %zu bytes, fewer than "
                 "the %zu of struct nlmsgerr (a truncated reply; retry)",
                 what, len, sizeof *e);
        return RTNL_ERROR;
    }
    if (e->error == 0)
        return S_MORE;
    *errnum = -e->error;
    size_t off = sizeof *e; /* and the request echoed back unless capped */
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof e->msg)
        off += e->msg.nlmsg_len - sizeof e->msg;
    const char *why = s_extack(nlh, off);
    snprintf(err, errsz, "netlink %s dump: the kernel refused it: %s (errno %d)%s%s", what,
             strerror(-e->error), -e->error, why ? ": " : "", why ? why : "");
    return RTNL_ERROR;
}

/* NLMSG_DONE ends the dump; a negative int in it says the dump failed. */
static int s_done(const struct nlmsghdr *nlh, const char *what, int *errnum, char *err,
                  size_t errsz)
{
    int32_t v;
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof v)
        return S_DONE;
    memcpy(&v, mnl_nlmsg_get_payload(nlh), sizeof v);
    if (v >= 0)
        return S_DONE;
    *errnum = -v;
    const char *why = s_extack(nlh, sizeof v);
    snprintf(err, errsz, "netlink %s dump: the kernel ended it with an error: %s (errno %d)%s%s",
             what, strerror(-v), -v, why ? ": " : "", why ? why : "");
    return RTNL_ERROR;
}

/* Checks the n-byte datagram in self->buf: S_MORE, S_DONE (it ends the
 * dump), S_STALE (it answers an earlier request), or RTNL_ERROR with the
 * reason in err. Sets *intr when the kernel flagged NLM_F_DUMP_INTR. */
static int s_check(rtnl_t *self, size_t n, const char *what, bool *intr, char *err, size_t errsz)
{
    const struct nlmsghdr *nlh = (const void *)self->buf;
    size_t rem = n;
    for (unsigned i = 0; s_msg_ok(nlh, rem); i++, nlh = s_next(nlh, &rem)) {
        if (nlh->nlmsg_pid != self->portid || nlh->nlmsg_seq != self->seq) {
            if (i == 0)
                return S_STALE; /* the rest of a dump abandoned halfway */
            snprintf(err, errsz,
                     "netlink %s dump: message %u of a datagram has port %u sequence "
                     "%u, not ours (port %u sequence %u); retry",
                     what, i, nlh->nlmsg_pid, nlh->nlmsg_seq, self->portid, self->seq);
            return RTNL_ERROR;
        }
        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
            *intr = true;
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            int rc = s_error(nlh, what, &self->error, err, errsz);
            if (rc != S_MORE)
                return rc;
        } else if (nlh->nlmsg_type == NLMSG_DONE) {
            return s_done(nlh, what, &self->error, err, errsz);
        }
    }
    if (rem != 0) {
        snprintf(err, errsz,
                 "netlink %s dump: a %zu-byte datagram ends in %zu bytes that are no "
                 "whole message (a truncated reply; retry)",
                 what, n, rem);
        return RTNL_ERROR;
    }
    return S_MORE;
}

/* A datagram of `need` bytes did not fit: grows the buffer for the next
 * dump (this one lost that datagram). RTNL_RETRY, or RTNL_ERROR when the
 * buffer may not or cannot grow that far. */
static int s_grow(rtnl_t *self, size_t need, const char *what, char *err, size_t errsz)
{
    size_t size = (need + 4095) & ~(size_t)4095;
    char *buf = size <= RTNL_MAX_SIZE ? realloc(self->buf, size) : NULL;
    if (!buf) {
        snprintf(err, errsz,
                 "netlink %s dump: a %zu-byte datagram does not fit the %zu-byte "
                 "receive buffer, which cannot grow to %zu bytes (at most %d, memory permitting)",
                 what, need, self->bufsize, size, RTNL_MAX_SIZE);
        return RTNL_ERROR;
    }
    snprintf(err, errsz,
             "netlink %s dump: a %zu-byte datagram did not fit the %zu-byte receive "
             "buffer, now grown to %zu bytes; the dump was incomplete, retry",
             what, need, self->bufsize, size);
    self->buf = buf;
    self->bufsize = size;
    return RTNL_RETRY;
}

/* One datagram into self->buf: its length, 0 for one that did not come
 * from the kernel (not ours to read), or RTNL_ERROR / RTNL_RETRY. */
static ssize_t s_recv(rtnl_t *self, const char *what, char *err, size_t errsz)
{
    struct sockaddr_nl from;
    struct iovec iov = {self->buf, self->bufsize};
    struct msghdr msg = {
        .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;
    do /* MSG_TRUNC: the datagram's real length, to tell a truncated one */
        n = recvmsg(mnl_socket_get_fd(self->nl), &msg, MSG_TRUNC);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        self->error = errno;
        snprintf(err, errsz, "netlink %s dump: recvmsg: %s (errno %d)", what, strerror(errno),
                 errno);
        return RTNL_ERROR;
    }
    if (msg.msg_namelen != sizeof from || from.nl_pid != 0)
        return 0;
    if ((size_t)n > self->bufsize || (msg.msg_flags & MSG_TRUNC))
        return s_grow(self, (size_t)n, what, err, errsz);
    return n;
}

/* Reads and drops what is left of a dump abandoned halfway. The kernel
 * fills the next datagram of a dump during each recvmsg, so this reaches
 * the end without waiting; the sequence check would skip leftovers anyway. */
static void s_drain(rtnl_t *self)
{
    int fd = mnl_socket_get_fd(self->nl);
    while (recv(fd, self->buf, self->bufsize, MSG_DONTWAIT) > 0)
        ;
}

static int s_send(rtnl_t *self, uint16_t type, const void *hdr, size_t hdrlen, const char *what,
                  char *err, size_t errsz)
{
    uint32_t req[(NLMSG_HDRLEN + RTNL_MAX_HDR) / 4]; /* aligned for the header */
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++self->seq;
    void *extra = mnl_nlmsg_put_extra_header(nlh, hdrlen);
    if (hdrlen)
        memcpy(extra, hdr, hdrlen);
    if (mnl_socket_sendto(self->nl, nlh, nlh->nlmsg_len) < 0) {
        self->error = errno;
        snprintf(err, errsz, "netlink %s dump: send: %s (errno %d)", what, strerror(errno), errno);
        return RTNL_ERROR;
    }
    return RTNL_OK;
}

int rtnl_dump(rtnl_t *self, uint16_t type, const void *hdr, size_t hdrlen, rtnl_datagram_fn *fn,
              void *ctx, char *err, size_t errsz)
{
    assert(self && fn && hdrlen <= RTNL_MAX_HDR);
    /* sock_diag's compat request shares its number with RTM_GETLINK */
    const char *what = self->protocol == NETLINK_SOCK_DIAG && type == TCPDIAG_GETSOCK
                           ? "TCPDIAG_GETSOCK"
                           : rtnl_type_name(type);
    self->error = 0;
    if (s_send(self, type, hdr, hdrlen, what, err, errsz) != RTNL_OK)
        return RTNL_ERROR;
    bool intr = false;
    for (;;) {
        ssize_t n = s_recv(self, what, err, errsz);
        if (n < 0) {
            s_drain(self);
            return (int)n;
        }
        int rc = n == 0 ? S_STALE : s_check(self, (size_t)n, what, &intr, err, errsz);
        if (rc == RTNL_ERROR ||
            (!intr && rc != S_STALE && fn(ctx, self->buf, (size_t)n, err, errsz) != 0)) {
            s_drain(self);
            return RTNL_ERROR;
        }
        if (rc == S_DONE)
            break;
    }
    if (intr) {
        snprintf(err, errsz,
                 "netlink %s dump: interrupted by a concurrent change (NLM_F_DUMP_INTR), "
                 "so it may be inconsistent; retry",
                 what);
        return RTNL_RETRY;
    }
    return RTNL_OK;
}

int rtnl_error(const rtnl_t *self)
{
    return self->error;
}

int rtnl_collect(void *ctx, const void *buf, size_t len, char *err, size_t errsz)
{
    rtnl_bytes_t *b = ctx;
    char *data = grow(b->data, b->len + len, &b->cap, 1, 4096);
    if (!data) {
        snprintf(err, errsz, "netlink: out of memory for %zu bytes of dump", b->len + len);
        return -1;
    }
    b->data = data;
    memcpy(b->data + b->len, buf, len);
    b->len += len;
    return 0;
}

void rtnl_bytes_reset(rtnl_bytes_t *b)
{
    if (!b)
        return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

int rtnl_walk(const void *buf, size_t len, uint16_t type, size_t hdrlen, rtnl_msg_fn *fn, void *ctx,
              char *err, size_t errsz)
{
    assert(len == 0 || ((uintptr_t)buf & 3) == 0);
    const struct nlmsghdr *nlh = buf;
    size_t rem = len;
    int problems = 0;
    for (unsigned i = 0; s_msg_ok(nlh, rem); i++, nlh = s_next(nlh, &rem)) {
        size_t at = len - rem;
        uint16_t t = nlh->nlmsg_type;
        if (t == NLMSG_DONE)
            return problems; /* what follows belongs to no dump */
        if (t == NLMSG_NOOP)
            continue;
        if (t != type)
            problems += rtnl_problem(err, errsz,
                                     "netlink: message %u at byte %zu is %s (type %u), "
                                     "not %s (a failed dump, or not a %s dump)",
                                     i, at, rtnl_type_name(t), t, rtnl_type_name(type),
                                     rtnl_type_name(type));
        else if (mnl_nlmsg_get_payload_len(nlh) < hdrlen)
            problems +=
                rtnl_problem(err, errsz,
                             "netlink: message %u at byte %zu (%s) has %zu "
                             "bytes of payload, fewer than its %zu-byte header",
                             i, at, rtnl_type_name(t), mnl_nlmsg_get_payload_len(nlh), hdrlen);
        else
            problems += fn(ctx, nlh, err, errsz);
    }
    if (rem != 0)
        problems += rtnl_problem(err, errsz,
                                 "netlink: the last %zu bytes (from byte %zu) are no "
                                 "whole message (a truncated dump?)",
                                 rem, len - rem);
    return problems;
}
