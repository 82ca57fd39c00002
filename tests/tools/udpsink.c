/* udpsink: receives UDP datagrams as fast as it can (recvmmsg) and, on
 * SIGINT/SIGTERM, prints how many it got. For benchmarks that need
 * packets consumed the normal way (consume_skb), not dropped: a reader in
 * Python cannot keep up with 200k packets/s.
 * Usage: udpsink ADDR PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: udpsink ADDR PORT\n");
        return 2;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int rcvbuf = 8 << 20;
    if (fd < 0 || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "udpsink: cannot listen on %s:%s: %s\n", argv[1], argv[2], strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = s_on_signal}; /* no SA_RESTART: recvmmsg returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    static char bufs[BATCH][2048];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    printf("ready\n");
    fflush(stdout);
    unsigned long long received = 0;
    while (!s_stop) {
        int n = recvmmsg(fd, msgs, BATCH, 0, NULL);
        if (n > 0)
            received += (unsigned long long)n;
        else if (n < 0 && errno != EINTR)
            break;
    }
    printf("received %llu\n", received);
    return 0;
}
