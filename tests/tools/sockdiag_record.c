/* sockdiag_record: the sock_diag recordings of tests/fixtures (see
 * tests/tools/sockdiag_record.sh, which runs it inside a network namespace
 * of its own with known sockets):
 *   sockdiag_record dump DIR    records, from the calling thread's network
 *       namespace, the raw datagrams of the three dumps sockdiag_read makes
 *       (UDP IPv4, UDP IPv6, TCP both) into DIR/{udp4,udp6,tcp}.bin
 *   sockdiag_record print DIR   decodes them as the collector does and
 *       prints one line per socket: "DEVICE inode=N rqueue=N rmem=N
 *       rcvbuf=N drops=N [retrans=N backoff=N] matters=0|1"
 * Exits 0, or 1 with the reason on stderr. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rtnl.h"
#include "sockdiag.h"

static const struct {
    const char *file, *proto;
    int family, protocol;
} s_dumps[] = {{"udp4.bin", "udp", AF_INET, IPPROTO_UDP},
               {"udp6.bin", "udp", AF_INET6, IPPROTO_UDP},
               {"tcp.bin", "tcp", AF_UNSPEC, IPPROTO_TCP}};

static int s_dump(const char *dir)
{
    char err[512], path[4096];
    sockdiag_t *sd = sockdiag_new(err, sizeof err);
    if (!sd) {
        fprintf(stderr, "sockdiag_record: %s\n", err);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        rtnl_bytes_t b = {0};
        snprintf(path, sizeof path, "%s/%s", dir, s_dumps[i].file);
        FILE *f = NULL;
        if (sockdiag_collect(sd, s_dumps[i].family, s_dumps[i].protocol, &b, err, sizeof err)) {
            fprintf(stderr, "sockdiag_record: %s\n", err);
            rc = -1;
        } else if (!(f = fopen(path, "wb")) || fwrite(b.data, 1, b.len, f) != b.len) {
            fprintf(stderr, "sockdiag_record: cannot write %s\n", path);
            rc = -1;
        }
        if (f && fclose(f) != 0)
            rc = -1;
        rtnl_bytes_reset(&b);
    }
    sockdiag_destroy(&sd);
    return rc;
}

static void s_print_sock(void *ctx, const sockdiag_sock_t *s)
{
    (void)ctx;
    printf("%s inode=%llu rqueue=%u rmem=%u rcvbuf=%u drops=%u", s->device,
           (unsigned long long)s->inode, s->rqueue, s->rmem_alloc, s->rcvbuf, s->drops);
    if (s->has_info)
        printf(" retrans=%u backoff=%u", s->retrans, s->backoff);
    printf(" matters=%d\n", sockdiag_matters(s));
}

static int s_print(const char *dir)
{
    char path[4096], err[512] = "", chunk[4096];
    for (size_t i = 0; i < 3; i++) {
        rtnl_bytes_t b = {0};
        snprintf(path, sizeof path, "%s/%s", dir, s_dumps[i].file);
        FILE *f = fopen(path, "rb");
        size_t n;
        if (!f) {
            fprintf(stderr, "sockdiag_record: cannot open %s\n", path);
            return -1;
        }
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            rtnl_collect(&b, chunk, n, err, sizeof err);
        fclose(f);
        int problems =
            sockdiag_decode(b.data, b.len, s_dumps[i].proto, s_print_sock, NULL, err, sizeof err);
        rtnl_bytes_reset(&b);
        if (problems) {
            fprintf(stderr, "sockdiag_record: %s: %d problem(s): %s\n", path, problems, err);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return s_dump(argv[2]) == 0 ? 0 : 1;
    if (argc == 3 && strcmp(argv[1], "print") == 0)
        return s_print(argv[2]) == 0 ? 0 : 1;
    fprintf(stderr, "usage: sockdiag_record dump DIR | print DIR\n");
    return 1;
}
