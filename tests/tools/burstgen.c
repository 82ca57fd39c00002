/* burstgen: sends synchronized UDP microbursts for tests, benchmarks and the
 * demo. It sleeps until an absolute wall-clock time, then sends a burst
 * with sendmmsg, so that senders on several hosts (or namespaces) started
 * with the same --start burst at the same instant; between bursts it can
 * keep a steady background rate, which never catches up after a stall (a
 * late sender skips the packets it missed rather than sending them as a
 * burst of its own). Prints one line per burst:
 *   burst K start_ns=T0 end_ns=T1 packets=N
 * With several --dest, each burst sends --packets to every destination,
 * interleaved in the same sendmmsg calls, so the destinations are hit at
 * the same instant (one sender standing for many synchronized clients;
 * all destinations must be of one address family).
 * Usage:
 *   burstgen --dest IP:PORT [--dest IP:PORT ...] [--start TIME] [--bursts N] [--every DURATION]
 *            [--packets N] [--payload BYTES] [--background-pps N]
 *            [--tail DURATION] [--lead DURATION] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ts.h"

#define MAX_BATCH 1024
#define MAX_DEST 64

typedef struct {
    struct sockaddr_storage dest[MAX_DEST];
    socklen_t destlen[MAX_DEST];
    int ndest;
    int64_t start_ns, every_ns, tail_ns, lead_ns;
    int bursts, packets, payload, background_pps;
} opts_t;

static void s_sleep_until(int64_t t_ns)
{
    struct timespec ts = {t_ns / TS_NS_PER_S, t_ns % TS_NS_PER_S};
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Sends n copies of buf to each destination, interleaved, with as few
 * sendmmsg calls as possible. Returns the datagrams sent. */
static int s_send(int fd, const opts_t *o, char *buf, int n)
{
    n *= o->ndest;
    static struct mmsghdr msgs[MAX_BATCH];
    static struct iovec iov;
    iov = (struct iovec){buf, (size_t)o->payload};
    int sent = 0;
    while (sent < n) {
        int batch = n - sent < MAX_BATCH ? n - sent : MAX_BATCH;
        for (int i = 0; i < batch; i++)
            msgs[i].msg_hdr = (struct msghdr){.msg_name = (void *)&o->dest[(sent + i) % o->ndest],
                                              .msg_namelen = o->destlen[(sent + i) % o->ndest],
                                              .msg_iov = &iov,
                                              .msg_iovlen = 1};
        int rc = sendmmsg(fd, msgs, (unsigned)batch, 0);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS || errno == EAGAIN) /* a full queue: the drop is the point */
                break;
            perror("burstgen: sendmmsg");
            return -1;
        }
        sent += rc;
    }
    return sent;
}

static int s_parse_dest(const char *text, opts_t *o)
{
    if (o->ndest == MAX_DEST)
        return -1;
    int d = o->ndest++;
    char host[128];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host)
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    int port = atoi(colon + 1);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&o->dest[d];
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&o->dest[d];
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        o->destlen[d] = sizeof *v6;
        return inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1 ? 0 : -1;
    }
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    o->destlen[d] = sizeof *v4;
    return inet_pton(AF_INET, host, &v4->sin_addr) == 1 ? 0 : -1;
}

static int s_usage(const char *why)
{
    fprintf(stderr, "burstgen: %s\nusage: burstgen --dest IP:PORT [--start TIME] [--bursts N] "
            "[--every DURATION] [--packets N] [--payload BYTES] [--background-pps N] "
            "[--tail DURATION] [--lead DURATION]\n", why);
    return 2;
}

static int s_parse(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {
        {"dest", required_argument, NULL, 'd'},    {"start", required_argument, NULL, 's'},
        {"bursts", required_argument, NULL, 'n'},  {"every", required_argument, NULL, 'e'},
        {"packets", required_argument, NULL, 'p'}, {"payload", required_argument, NULL, 'l'},
        {"background-pps", required_argument, NULL, 'b'},
        {"tail", required_argument, NULL, 't'},    {"lead", required_argument, NULL, 'L'},
        {NULL, 0, NULL, 0}};
    *o = (opts_t){.every_ns = 500 * TS_NS_PER_MS, .bursts = 1, .packets = 300, .payload = 64,
                  .lead_ns = 0};
    bool dest = false;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (s_parse_dest(optarg, o) != 0)
                return s_usage("--dest must be IPv4:PORT or [IPv6]:PORT (at most 64)");
            dest = true;
            break;
        case 's':
            if (ts_parse_time(optarg, &o->start_ns) != 0)
                return s_usage("--start must be RFC 3339 or ns since the epoch");
            break;
        case 'e':
            if (ts_parse_duration(optarg, &o->every_ns) != 0)
                return s_usage("--every must be a duration");
            break;
        case 't':
            if (ts_parse_duration(optarg, &o->tail_ns) != 0)
                return s_usage("--tail must be a duration");
            break;
        case 'L':
            if (ts_parse_duration(optarg, &o->lead_ns) != 0)
                return s_usage("--lead must be a duration");
            break;
        case 'n': o->bursts = atoi(optarg); break;
        case 'p': o->packets = atoi(optarg); break;
        case 'l': o->payload = atoi(optarg); break;
        case 'b': o->background_pps = atoi(optarg); break;
        default: return s_usage("unknown option");
        }
    }
    if (!dest)
        return s_usage("--dest is required");
    if (o->bursts < 0 || o->packets < 0 || o->payload < 1 || o->payload > 65000 ||
        o->background_pps < 0)
        return s_usage("counts must be positive, --payload 1..65000");
    if (o->start_ns == 0)
        o->start_ns = ts_now_ns() + TS_NS_PER_S;
    return 0;
}

int main(int argc, char **argv)
{
    opts_t o;
    int rc = s_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    int fd = socket(o.dest[0].ss_family, SOCK_DGRAM, 0);
    int sndbuf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    char *buf = calloc(1, (size_t)o.payload);
    if (fd < 0 || !buf) {
        perror("burstgen: socket");
        return 1;
    }
    /* Background traffic runs from start - lead to the last burst + tail. */
    int64_t bg_gap = o.background_pps ? TS_NS_PER_S / o.background_pps : 0;
    int64_t end = o.start_ns + (int64_t)(o.bursts > 0 ? o.bursts - 1 : 0) * o.every_ns + o.tail_ns;
    int64_t next_bg = o.start_ns - o.lead_ns;
    for (int k = 0; k <= o.bursts;) {
        int64_t next_burst = k < o.bursts ? o.start_ns + (int64_t)k * o.every_ns : INT64_MAX;
        if (bg_gap && next_bg < next_burst && next_bg <= end) {
            s_sleep_until(next_bg);
            s_send(fd, &o, buf, 1);
            next_bg += bg_gap;
            int64_t now = ts_now_ns();
            if (next_bg < now - bg_gap) /* stalled: skip, do not burst */
                next_bg = now;
            continue;
        }
        if (k == o.bursts)
            break;
        s_sleep_until(next_burst);
        int64_t t0 = ts_now_ns();
        int n = s_send(fd, &o, buf, o.packets);
        int64_t t1 = ts_now_ns();
        if (n < 0)
            return 1;
        printf("burst %d start_ns=%lld end_ns=%lld packets=%d\n", k, (long long)t0, (long long)t1,
               n);
        fflush(stdout);
        k++;
    }
    free(buf);
    close(fd);
    return 0;
}
