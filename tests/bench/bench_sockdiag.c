/* bench_sockdiag: the cost of one read of the sockets, sock_diag against
 * the /proc/net/udp{,6} scan it replaces (the fallback), measured in the
 * same run, in a network namespace of its own holding 10,000 UDP sockets
 * (50 of them dropping) and 2,000 TCP connections over loopback (4,000
 * sockets). Per iteration, alternating:
 *   proc udp   read /proc/net/udp and udp6 and parse them (sockets_parse,
 *              dropping sockets only), what the collector did before;
 *   sockdiag   sockdiag_read: UDP and TCP, IPv4 and IPv6, every socket
 *              decoded, the ones that matter emitted;
 *   diag udp   the two UDP dumps alone, recorded and decoded (the same
 *              work as the scan: UDP only);
 *   proc tcp   (for scale) reading /proc/net/tcp and tcp6 without parsing:
 *              TCP costs a walk of the host's whole established hash
 *              either way.
 * The ratio sockdiag / proc udp (means) is what docs/ARCHITECTURE.md
 * quotes. Needs root (unshare, thousands of descriptors); prints a line and
 * exits 0 without it. Usage: bench_sockdiag [ITERATIONS] (default 200;
 * CI's smoke run passes 20, and then makes a tenth of the sockets). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchlib.h"
#include "sockdiag.h"
#include "sockets.h"
#include "ts.h"

static char s_buf[8 << 20];

static void s_count(void *ctx, const reading_t *r)
{
    (void)r;
    (*(size_t *)ctx)++;
}

static ssize_t s_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, s_buf + len, sizeof s_buf - len - 1)) > 0)
        len += (size_t)n;
    close(fd);
    return (ssize_t)len;
}

static size_t s_proc_udp(void)
{
    static const char *const files[2][2] = {{"/proc/net/udp", "udp"}, {"/proc/net/udp6", "udp6"}};
    size_t readings = 0;
    for (int i = 0; i < 2; i++) {
        ssize_t n = s_read(files[i][0]);
        if (n > 0)
            sockets_parse(s_buf, (size_t)n, files[i][1], 1, s_count, &readings, NULL, 0);
    }
    return readings;
}

static void s_socket(void *ctx, const sockdiag_sock_t *s)
{
    if (sockdiag_matters(s))
        sockdiag_emit(s, s_count, ctx);
}

static void s_diag_udp(sockdiag_t *sd)
{
    char err[256];
    size_t readings = 0;
    for (int f = 0; f < 2; f++) {
        rtnl_bytes_t b = {0};
        if (sockdiag_collect(sd, f ? AF_INET6 : AF_INET, IPPROTO_UDP, &b, err, sizeof err) == 0)
            sockdiag_decode(b.data, b.len, "udp", s_socket, &readings, NULL, 0);
        rtnl_bytes_reset(&b);
    }
}

static void s_proc_tcp(void)
{
    s_read("/proc/net/tcp");
    s_read("/proc/net/tcp6");
}

static int s_setup(int nudp, int ntcp)
{
    struct rlimit rl = {(rlim_t)(nudp + 3 * ntcp + 100), (rlim_t)(nudp + 3 * ntcp + 100)};
    if (unshare(CLONE_NEWNET) != 0 || setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
        return -1;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char d[1000] = {0};
    for (int i = 0; i < nudp; i++) { /* ports 20000 on; every 200th drops */
        int s = socket(AF_INET, SOCK_DGRAM, 0), small = 1024;
        a.sin_port = htons((uint16_t)(20000 + i));
        if (i % 200 == 0)
            setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0)
            return -1;
        for (int k = 0; i % 200 == 0 && k < 20; k++)
            sendto(fd, d, sizeof d, 0, (struct sockaddr *)&a, sizeof a);
    }
    int l = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = htons(9000);
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4096) != 0)
        return -1;
    for (int i = 0; i < ntcp; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0 || accept(l, NULL, NULL) < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    if (n < 1) {
        fprintf(stderr, "usage: bench_sockdiag [ITERATIONS]\n");
        return 2;
    }
    int nudp = n <= 20 ? 1000 : 10000, ntcp = n <= 20 ? 200 : 2000;
    if (getuid() != 0) {
        printf("bench_sockdiag: needs root (a network namespace with %d sockets); skipped\n",
               nudp + 2 * ntcp);
        return 0;
    }
    if (s_setup(nudp, ntcp) != 0) {
        perror("bench_sockdiag: setting up the sockets");
        return 1;
    }
    char err[256];
    sockdiag_t *sd = sockdiag_new(err, sizeof err);
    int64_t *proc = calloc((size_t)n, sizeof *proc), *diag = calloc((size_t)n, sizeof *diag),
            *tcp = calloc((size_t)n, sizeof *tcp), *udp = calloc((size_t)n, sizeof *udp);
    if (!sd || !proc || !diag || !tcp || !udp) {
        fprintf(stderr, "bench_sockdiag: %s\n", sd ? "out of memory" : err);
        return 1;
    }
    size_t listed = 0, emitted = 0, scanned = s_proc_udp();
    if (sockdiag_read(sd, s_count, &emitted, &listed, err, sizeof err) != SOCKDIAG_OK) {
        fprintf(stderr, "bench_sockdiag: %s\n", err);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        int64_t t0 = ts_mono_ns();
        s_proc_udp();
        int64_t t1 = ts_mono_ns();
        size_t e = 0;
        sockdiag_read(sd, s_count, &e, NULL, err, sizeof err);
        int64_t t2 = ts_mono_ns();
        s_proc_tcp();
        int64_t t3 = ts_mono_ns();
        s_diag_udp(sd);
        proc[i] = t1 - t0;
        diag[i] = t2 - t1;
        tcp[i] = t3 - t2;
        udp[i] = ts_mono_ns() - t3;
    }
    printf("%d UDP sockets (%d dropping), %d TCP connections; sock_diag lists %zu sockets and "
           "emits %zu readings, the /proc scan %zu; %d iterations\n",
           nudp, (nudp + 199) / 200, ntcp, listed, emitted, scanned, n);
    double p = benchlib_report("baseline: /proc/net/udp{,6} scan", proc, n);
    double d = benchlib_report("sock_diag: UDP and TCP, v4 and v6", diag, n);
    double u = benchlib_report("sock_diag: UDP only", udp, n);
    benchlib_report("(/proc/net/tcp{,6}, read only)", tcp, n);
    printf("ratio sock_diag (UDP and TCP)/proc udp scan (mean): %.2f; UDP only: %.2f\n", d / p,
           u / p);
    sockdiag_destroy(&sd);
    free(proc);
    free(diag);
    free(tcp);
    free(udp);
    return 0;
}
