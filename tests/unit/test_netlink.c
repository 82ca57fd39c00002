/* Tests collector/sources/netlink against the live kernel, inside a network
 * namespace of the test's own (unshare, so nothing outside is touched): the
 * RTM_GETLINK and RTM_GETSTATS dumps must both count exactly the datagrams
 * the test sent over lo. Needs root; skips without it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "netlink.h"

typedef struct {
    uint64_t rx_packets, tx_packets, rx_bytes;
} lo_t;

static void s_lo_reading(void *ctx, const reading_t *r)
{
    lo_t *lo = ctx;
    if (strcmp(r->device, "lo") != 0)
        return;
    if (strcmp(r->name, "rx_packets") == 0)
        lo->rx_packets = r->value;
    else if (strcmp(r->name, "tx_packets") == 0)
        lo->tx_packets = r->value;
    else if (strcmp(r->name, "rx_bytes") == 0)
        lo->rx_bytes = r->value;
}

static void test_dumps_count_what_was_sent(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    assert_int_equal(unshare(CLONE_NEWNET), 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags |= IFF_UP;
    assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(sendto(fd, "0123456789", 10, 0, (struct sockaddr *)&to, sizeof to), 10);
    close(fd);

    char err[256];
    netlink_t *nl = netlink_new(err, sizeof err);
    assert_non_null(nl);
    lo_t lo = {0};
    assert_int_equal(netlink_read_links(nl, s_lo_reading, &lo, err, sizeof err), 0);
    /* Each datagram goes out and comes back in on lo (ICMP port unreachable
     * replies add more, so compare the two dumps, and bound them below). */
    assert_true(lo.tx_packets >= 10);
    assert_int_equal(lo.rx_packets, lo.tx_packets);

    netlink_link_stats_t st[8];
    int n = netlink_dump_stats(nl, st, 8, err, sizeof err);
    assert_int_equal(n, 1); /* a fresh namespace has only lo */
    assert_int_equal(st[0].ifindex, if_nametoindex("lo"));
    assert_int_equal(st[0].rx_packets, lo.rx_packets);
    assert_int_equal(st[0].tx_packets, lo.tx_packets);
    assert_int_equal(st[0].rx_bytes, lo.rx_bytes);
    assert_int_equal(netlink_dump_stats(nl, st, 0, err, sizeof err), 0); /* max respected */
    netlink_destroy(&nl);
    netlink_destroy(&nl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dumps_count_what_was_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
