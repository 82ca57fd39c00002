/* pingpong: a UDP round trip, to measure the latency a packet path adds.
 *   pingpong server ADDR PORT         echo each datagram back, until SIGTERM
 *   pingpong client ADDR PORT COUNT   send COUNT 64-byte pings, one at a time,
 *                                     and print the round trips' percentiles
 * Both sides block in recvfrom (no busy polling): what a thread that
 * sleeps until its packet comes sees, wake-up included. The client prints
 * one line: "rtt_ns p50 N p99 N p999 N n N lost N" (a ping unanswered
 * within 100 ms is lost and not timed). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int64_t s_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int s_server(int fd)
{
    char buf[2048];
    struct sockaddr_in from;
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n < 0 && errno != EINTR)
            return 1;
        if (n > 0)
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
    }
}

static int s_client(int fd, const struct sockaddr_in *to, long count)
{
    struct timeval timeout = {0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    int64_t *rtt = calloc((size_t)count, sizeof *rtt);
    if (!rtt)
        return 1;
    long n = 0, lost = 0;
    char ping[64] = {0}, pong[2048];
    for (long i = 0; i < count; i++) {
        memcpy(ping, &i, sizeof i);
        int64_t t0 = s_now();
        if (sendto(fd, ping, sizeof ping, 0, (const struct sockaddr *)to, sizeof *to) < 0)
            return 1;
        for (;;) { /* a late pong of an earlier ping is not this one's */
            ssize_t got = recv(fd, pong, sizeof pong, 0);
            if (got < 0) {
                lost++;
                break;
            }
            if (got >= (ssize_t)sizeof i && memcmp(pong, &i, sizeof i) == 0) {
                rtt[n++] = s_now() - t0;
                break;
            }
        }
    }
    qsort(rtt, (size_t)n, sizeof *rtt, s_cmp);
#define PCT(p) (n ? rtt[(long)((double)(n - 1) * (p))] : 0)
    printf("rtt_ns p50 %lld p99 %lld p999 %lld n %ld lost %ld\n", (long long)PCT(0.50),
           (long long)PCT(0.99), (long long)PCT(0.999), n, lost);
    free(rtt);
    return 0;
}

int main(int argc, char **argv)
{
    bool server = argc == 4 && strcmp(argv[1], "server") == 0;
    bool client = argc == 5 && strcmp(argv[1], "client") == 0;
    if (!server && !client) {
        fprintf(stderr, "usage: pingpong server ADDR PORT | pingpong client ADDR PORT COUNT\n");
        return 2;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || inet_pton(AF_INET, argv[2], &addr.sin_addr) != 1 ||
        (server && bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0)) {
        fprintf(stderr, "pingpong: %s:%s: %s\n", argv[2], argv[3], strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    return server ? s_server(fd) : s_client(fd, &addr, atol(argv[4]));
}
