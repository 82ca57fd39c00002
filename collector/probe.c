/* probe: one thread polls every probe's socket and a stop eventfd, and
 * wakes at least every 20 ms so a hole whose reorder window passed is
 * reported without waiting for the next datagram. Datagrams are read 64
 * at a time with their kernel receive time (SO_TIMESTAMPNS): the time a
 * packet reached the socket, even when we read it late. The gaps and
 * counters go to a mailbox under a mutex, taken once per report. */
#define _GNU_SOURCE
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ts.h"

#define BATCH 64   /* datagrams per recvmmsg */
#define WAKE_MS 20 /* the longest a passed reorder window waits to be reported */

typedef struct {
    probe_spec_t spec;
    int fd;
    gapseq_t *seq;
    probe_stat_t stat; /* the thread's; copied to the mailbox */
} one_t;

struct probe {
    one_t probes[PROBE_MAX];
    size_t n;
    int stopfd; /* eventfd: written to stop the thread */
    pthread_t thread;
    bool running;
    pthread_mutex_t lock; /* guards what follows */
    probe_gap_t *gaps;    /* waiting for probe_take */
    size_t ngaps, capgaps;
    probe_stat_t stats[PROBE_MAX];
};

/* --- parsing ----------------------------------------------------------------- */

static int s_bad(char *err, size_t errsz, const char *text, const char *why)
{
    snprintf(err, errsz,
             "--probe '%s': %s (the form is %s, e.g. 239.1.1.1:5000 or "
             "239.1.1.1:5000,seq=8:4:le)",
             text, why, PROBE_FORM);
    return -1;
}

/* A decimal number within [lo, hi], the whole of s. */
static bool s_number(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
    char *end;
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    *v = strtoul(s, &end, 10);
    return !errno && !*end && *v >= lo && *v <= hi;
}

static int s_seq(const char *text, char *val, probe_spec_t *spec, char *err, size_t errsz)
{
    char *len = strchr(val, ':'), *order = len ? strchr(len + 1, ':') : NULL;
    unsigned long off, n;
    if (!order)
        return s_bad(err, errsz, text, "seq= takes OFFSET:LEN:be or OFFSET:LEN:le");
    *len++ = '\0';
    *order++ = '\0';
    if (!s_number(len, 2, 8, &n) || (n != 2 && n != 4 && n != 8))
        return s_bad(err, errsz, text, "the sequence number's LEN is 2, 4 or 8 bytes");
    if (!s_number(val, 0, PROBE_DATAGRAM - n, &off))
        return s_bad(err, errsz, text,
                     "the sequence number's OFFSET must leave it within "
                     "the first 2048 bytes of the payload");
    if (strcmp(order, "be") != 0 && strcmp(order, "le") != 0)
        return s_bad(err, errsz, text, "the byte order is be (big-endian) or le");
    spec->offset = off;
    spec->len = (int)n;
    spec->little_endian = order[0] == 'l';
    return 0;
}

static int s_option(const char *text, char *opt, probe_spec_t *spec, char *err, size_t errsz)
{
    unsigned long v;
    if (strncmp(opt, "seq=", 4) == 0)
        return s_seq(text, opt + 4, spec, err, errsz);
    if (strncmp(opt, "rcvbuf=", 7) == 0) {
        if (!s_number(opt + 7, 2048, 1u << 30, &v))
            return s_bad(err, errsz, text, "rcvbuf= takes a number of bytes from 2048 to 2^30");
        spec->rcvbuf = (uint32_t)v;
        return 0;
    }
    return s_bad(err, errsz, text, "unknown option after the port (seq= or rcvbuf=)");
}

int probe_parse(const char *text, probe_spec_t *spec, char *err, size_t errsz)
{
    *spec = (probe_spec_t){.len = 8, .rcvbuf = PROBE_RCVBUF};
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", text) >= (int)sizeof buf)
        return s_bad(err, errsz, "(too long)", "longer than 255 bytes");
    char *rest = strchr(buf, ','), *colon = strchr(buf, ':');
    if (rest)
        *rest++ = '\0';
    if (!colon || (rest && colon > rest))
        return s_bad(err, errsz, text, "no :PORT after the group");
    *colon = '\0';
    struct in_addr a;
    unsigned long port;
    if (inet_pton(AF_INET, buf, &a) != 1)
        return s_bad(err, errsz, text,
                     "the group is not an IPv4 address (IPv6 is not "
                     "supported)");
    if (!s_number(colon + 1, 1, 65535, &port))
        return s_bad(err, errsz, text, "the port is not a number from 1 to 65535");
    inet_ntop(AF_INET, &a, spec->group, sizeof spec->group);
    spec->port = (uint16_t)port;
    spec->multicast = IN_MULTICAST(ntohl(a.s_addr));
    for (char *opt = rest; opt; opt = rest) {
        if ((rest = strchr(opt, ',')))
            *rest++ = '\0';
        if (s_option(text, opt, spec, err, errsz) != 0)
            return -1;
    }
    return 0;
}

/* --- sockets ----------------------------------------------------------------- */

/* Joins on the interface the routing table picks for the group; without a
 * route to it, on every up multicast interface with an IPv4 address. */
static int s_join(int fd, struct in_addr group, char *why, size_t whysz)
{
    struct ip_mreqn m = {.imr_multiaddr = group};
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == 0)
        return 0;
    snprintf(why, whysz,
             "IP_ADD_MEMBERSHIP: %s (add a route for 224.0.0.0/4, or bring up an "
             "interface with an IPv4 address)",
             strerror(errno));
    struct ifaddrs *ifs, *i;
    int joined = 0;
    if (getifaddrs(&ifs) != 0)
        return -1;
    for (i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
            !(i->ifa_flags & IFF_MULTICAST))
            continue;
        m.imr_ifindex = (int)if_nametoindex(i->ifa_name);
        joined += setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == 0;
    }
    freeifaddrs(ifs);
    return joined ? 0 : -1;
}

/* The socket of probe p, bound (and joined): 0, or -1 with why (the
 * failing call and the fix). */
static int s_socket(one_t *p, char *why, size_t whysz)
{
    const probe_spec_t *s = &p->spec;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(s->port)};
    inet_pton(AF_INET, s->group, &sa.sin_addr);
    int one = 1, size = (int)s->rcvbuf;
    if ((p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(why, whysz, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* beside the application */
    setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    /* Past net.core.rmem_max as root (SO_RCVBUFFORCE), else up to it. */
    if (setsockopt(p->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (bind(p->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(why, whysz,
                 "bind: %s (is the port taken without SO_REUSEADDR, or the address "
                 "not this host's?)",
                 strerror(errno));
        return -1;
    }
    return s->multicast ? s_join(p->fd, sa.sin_addr, why, whysz) : 0;
}

static int s_open(one_t *p, char *err, size_t errsz)
{
    char why[256] = "";
    if (s_socket(p, why, sizeof why) == 0)
        return 0;
    snprintf(err, errsz, "--probe %s:%u: %s", p->spec.group, p->spec.port, why);
    return -1;
}

/* --- the thread ---------------------------------------------------------------- */

static uint64_t s_seq_of(const probe_spec_t *s, const uint8_t *d)
{
    uint64_t v = 0;
    for (int i = 0; i < s->len; i++)
        v |= (uint64_t)d[s->offset + (s->little_endian ? i : s->len - 1 - i)] << (8 * i);
    return v;
}

typedef struct {
    probe_t *self;
    const one_t *p;
} emit_ctx_t;

/* Called with the lock held. */
static void s_emit(void *ctx, const gapseq_gap_t *gap)
{
    emit_ctx_t *e = ctx;
    probe_t *self = e->self;
    size_t i = (size_t)(e->p - self->probes);
    if (self->ngaps == self->capgaps) {
        size_t cap = self->capgaps ? 2 * self->capgaps : 64;
        cap = cap < PROBE_MAX_GAPS ? cap : PROBE_MAX_GAPS;
        probe_gap_t *g = cap > self->capgaps ? realloc(self->gaps, cap * sizeof *g) : NULL;
        if (!g) {
            self->stats[i].gaps_lost++;
            return;
        }
        self->gaps = g;
        self->capgaps = cap;
    }
    probe_gap_t *out = &self->gaps[self->ngaps++];
    snprintf(out->group, sizeof out->group, "%s", e->p->spec.group);
    out->port = e->p->spec.port;
    out->gap = *gap;
}

/* The kernel's receive time of a datagram on our clock (ts_now_ns). */
static int64_t s_when(struct msghdr *h, int64_t offset)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
            struct timespec t;
            memcpy(&t, CMSG_DATA(c), sizeof t);
            return t.tv_sec * TS_NS_PER_S + t.tv_nsec + offset;
        }
    return ts_now_ns();
}

static void s_read(probe_t *self, one_t *p, uint8_t (*bufs)[PROBE_DATAGRAM], int64_t offset)
{
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    char ctl[BATCH][CMSG_SPACE(sizeof(struct timespec))];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){bufs[i], PROBE_DATAGRAM};
            msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i],
                                              .msg_iovlen = 1,
                                              .msg_control = ctl[i],
                                              .msg_controllen = sizeof ctl[i]};
        }
        int n = recvmmsg(p->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        emit_ctx_t e = {self, p};
        pthread_mutex_lock(&self->lock);
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_len < p->spec.offset + (size_t)p->spec.len) {
                p->stat.short_datagrams++;
                continue;
            }
            gapseq_feed(p->seq, s_seq_of(&p->spec, bufs[i]), s_when(&msgs[i].msg_hdr, offset),
                        s_emit, &e);
        }
        pthread_mutex_unlock(&self->lock);
        if (n < BATCH)
            return;
    }
}

static void *s_run(void *arg)
{
    probe_t *self = arg;
    struct pollfd fds[PROBE_MAX + 1];
    uint8_t(*bufs)[PROBE_DATAGRAM] = malloc(BATCH * sizeof *bufs);
    if (!bufs) {
        log_error("collector: out of memory; the probes stop");
        return NULL;
    }
    for (size_t i = 0; i < self->n; i++)
        fds[i] = (struct pollfd){self->probes[i].fd, POLLIN, 0};
    fds[self->n] = (struct pollfd){self->stopfd, POLLIN, 0};
    for (;;) {
        if (poll(fds, self->n + 1, WAKE_MS) < 0) {
            if (errno == EINTR)
                continue;
            log_error("collector: the probes cannot wait for datagrams (poll: %s); they count "
                      "nothing more until the collector restarts", strerror(errno));
            break;
        }
        if (fds[self->n].revents)
            break;
        struct timespec real;
        clock_gettime(CLOCK_REALTIME, &real);
        int64_t now = ts_now_ns(), offset = now - (real.tv_sec * TS_NS_PER_S + real.tv_nsec);
        for (size_t i = 0; i < self->n; i++)
            if (fds[i].revents & POLLIN)
                s_read(self, &self->probes[i], bufs, offset);
        pthread_mutex_lock(&self->lock);
        for (size_t i = 0; i < self->n; i++) {
            one_t *p = &self->probes[i];
            emit_ctx_t e = {self, p};
            gapseq_flush(p->seq, now, s_emit, &e);
            p->stat.counts = gapseq_counts(p->seq);
            p->stat.gaps_lost = self->stats[i].gaps_lost;
            self->stats[i] = p->stat;
        }
        pthread_mutex_unlock(&self->lock);
    }
    free(bufs);
    return NULL;
}

probe_t *probe_new(const probe_spec_t *specs, size_t n, char *err, size_t errsz)
{
    if (n > PROBE_MAX) {
        snprintf(err, errsz, "%zu --probe options (at most %d)", n, PROBE_MAX);
        return NULL;
    }
    probe_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    self->stopfd = eventfd(0, EFD_CLOEXEC);
    int stop_errno = errno;
    for (size_t i = 0; i < n; i++) {
        one_t *p = &self->probes[self->n++];
        p->spec = specs[i];
        p->fd = -1;
        p->seq = gapseq_new(specs[i].len);
        snprintf(p->stat.name, sizeof p->stat.name, "%s:%u", specs[i].group, specs[i].port);
        self->stats[i] = p->stat;
        if (!p->seq) {
            snprintf(err, errsz, "out of memory");
            probe_destroy(&self);
            return NULL;
        }
        if (s_open(p, err, errsz) != 0) {
            probe_destroy(&self);
            return NULL;
        }
    }
    int rc = self->stopfd < 0 ? stop_errno : pthread_create(&self->thread, NULL, s_run, self);
    if (rc != 0) {
        snprintf(err, errsz, "cannot start the probe thread: %s", strerror(rc));
        probe_destroy(&self);
        return NULL;
    }
    self->running = true;
    return self;
}

void probe_destroy(probe_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    probe_t *self = *self_p;
    if (self->running) {
        uint64_t one = 1;
        if (write(self->stopfd, &one, sizeof one) != sizeof one)
            log_error("collector: cannot stop the probe thread: %s", strerror(errno));
        pthread_join(self->thread, NULL);
    }
    for (size_t i = 0; i < self->n; i++) {
        if (self->probes[i].fd >= 0)
            close(self->probes[i].fd);
        gapseq_destroy(&self->probes[i].seq);
    }
    if (self->stopfd >= 0)
        close(self->stopfd);
    pthread_mutex_destroy(&self->lock);
    free(self->gaps);
    free(self);
    *self_p = NULL;
}

probe_report_t *probe_take(probe_t *self)
{
    probe_report_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_mutex_lock(&self->lock);
    r->gaps = self->gaps;
    r->ngaps = self->ngaps;
    self->gaps = NULL;
    self->ngaps = self->capgaps = 0;
    memcpy(r->stats, self->stats, self->n * sizeof *r->stats);
    r->nstats = self->n;
    pthread_mutex_unlock(&self->lock);
    return r;
}

void probe_report_destroy(probe_report_t **report_p)
{
    if (report_p && *report_p) {
        free((*report_p)->gaps);
        free(*report_p);
        *report_p = NULL;
    }
}
