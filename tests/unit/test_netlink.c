/* Tests collector/sources/netlink and rtnl. Decoders: on the RTM_GETLINK and
 * RTM_GETSTATS dumps recorded in tests/fixtures/linux-6.18-netns-qdisc
 * (values as iproute2 printed them at the time, expected-*.txt), on the
 * getlink cut to older kernels' IFLA_STATS64, on every prefix of them and on
 * hand-built malformed messages. Live: in network namespaces of the test's
 * own (as root; otherwise inside a user namespace of its own, where it has
 * CAP_NET_ADMIN), never skipped where user namespaces work. Fixtures come
 * from $FIXTURES_DIR when set, else from the source tree. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "netlink.h"
#include "rtnl.h"
#include "testlib.h"

#define REC "linux-6.18-netns-qdisc"
#define SHORT "linux-6.18-derived-short-stats64"

static bool s_live; /* the test has CAP_NET_ADMIN over namespaces of its own */

/* The offsets at which a whole message ends, walked here on its own. */
static size_t s_boundaries(const char *buf, size_t len, size_t *ends, size_t max)
{
    size_t n = 0;
    for (size_t at = 0; at + sizeof(struct nlmsghdr) <= len && n < max;) {
        const struct nlmsghdr *nlh = (const void *)(buf + at);
        at += NLMSG_ALIGN(nlh->nlmsg_len);
        ends[n++] = at;
    }
    return n;
}

/* --- the recorded dumps ------------------------------------------------- */

static void test_links_recorded(void **state)
{
    (void)state;
    size_t len;
    char *buf = testlib_load(REC "/netlink/getlink.bin", &len);
    testlib_collect_t got = {0};
    char err[256] = "x";
    assert_int_equal(netlink_decode_links(buf, len, testlib_collect, &got, err, sizeof err), 0);
    assert_string_equal(err, "");
    testlib_assert_lines(&got, REC "/expected-links.txt", false);
    assert_int_equal(got.n, 3 * 25); /* lo, va, vc; every field of a 6.18 kernel */
    /* What the recording sent (README): 7 datagrams to a MAC va does not
     * have, 5 frames of an EtherType nobody handles; 10 datagrams over lo
     * and their 10 ICMP port unreachables. */
    assert_int_equal(testlib_value(&got, "va", "rx_otherhost_dropped"), 7);
    assert_int_equal(testlib_value(&got, "va", "rx_dropped"), 5);
    assert_int_equal(testlib_value(&got, "lo", "tx_packets"), 20);
    assert_int_equal(testlib_value(&got, "lo", "rx_packets"), 20);
    assert_int_equal(testlib_value(&got, "vc", "tx_packets"), 50);
    assert_int_equal(testlib_value(&got, "vc", "tx_bytes"), 50 * 142);
    assert_int_equal(testlib_instance(&got, "va", "rx_packets"), 0);
    testlib_collect_reset(&got);
    /* err may be NULL when errsz is 0: the same readings */
    assert_int_equal(netlink_decode_links(buf, len, testlib_collect, &got, NULL, 0), 0);
    assert_int_equal(got.n, 75);
    testlib_collect_reset(&got);
    free(buf);
}

/* The getlink recording with IFLA_STATS64 cut to what kernels before 4.6
 * (184 bytes, no rx_nohandler) and 5.19 (192, no rx_otherhost_dropped)
 * sent: those fields are left out, the others are as recorded. */
static void test_links_older_kernels(void **state)
{
    (void)state;
    static const struct {
        const char *bin, *expected;
        size_t per_link;
    } cases[] = {
        {SHORT "/netlink/getlink-stats64-184.bin", SHORT "/expected-links-stats64-184.txt", 23},
        {SHORT "/netlink/getlink-stats64-192.bin", SHORT "/expected-links-stats64-192.txt", 24},
    };
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *buf = testlib_load(cases[i].bin, &len);
        testlib_collect_t got = {0};
        char err[256];
        assert_int_equal(netlink_decode_links(buf, len, testlib_collect, &got, err, sizeof err), 0);
        testlib_assert_lines(&got, cases[i].expected, false);
        assert_int_equal(got.n, 3 * cases[i].per_link);
        assert_null(testlib_find(&got, "va", "rx_otherhost_dropped"));
        assert_true((testlib_find(&got, "va", "rx_nohandler") != NULL) ==
                    (cases[i].per_link == 24));
        assert_int_equal(testlib_value(&got, "va", "rx_dropped"), 5);
        assert_int_equal(testlib_value(&got, "va", "tx_compressed"), 0);
        testlib_collect_reset(&got);
        free(buf);
    }
}

static void test_stats_recorded(void **state)
{
    (void)state;
    size_t len;
    char *buf = testlib_load(REC "/netlink/getstats.bin", &len);
    netlink_link_stats_t st[8];
    size_t n = 0;
    char err[256];
    assert_int_equal(netlink_decode_stats(buf, len, st, 8, &n, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(n, 3);
    testlib_collect_t got = {0};
    for (size_t i = 0; i < n; i++) {
        char dev[16];
        snprintf(dev, sizeof dev, "%u", st[i].ifindex);
        reading_t r[] = {{"stats", dev, "rx_packets", st[i].rx_packets, 0},
                         {"stats", dev, "tx_packets", st[i].tx_packets, 0},
                         {"stats", dev, "rx_bytes", st[i].rx_bytes, 0},
                         {"stats", dev, "tx_bytes", st[i].tx_bytes, 0}};
        for (size_t k = 0; k < 4; k++)
            testlib_collect(&got, &r[k]);
    }
    testlib_assert_lines(&got, REC "/expected-stats.txt", false);
    testlib_collect_reset(&got);
    assert_int_equal(st[0].ifindex, 1); /* lo, then va, vc: in dump order */
    assert_int_equal(st[2].tx_packets, 50);
    /* appends at *n, and leaves out what does not fit */
    assert_int_equal(netlink_decode_stats(buf, len, st, 4, &n, err, sizeof err), 0);
    assert_int_equal(n, 4);
    assert_int_equal(st[3].ifindex, 1);
    n = 0;
    assert_int_equal(netlink_decode_stats(buf, len, st, 0, &n, NULL, 0), 0);
    assert_int_equal(n, 0);
    free(buf);
}

typedef struct {
    size_t ends[64], nends; /* where whole messages end */
    size_t per_msg;         /* readings (or entries) per whole data message */
    bool stats;             /* getstats rather than getlink */
} prefix_t;

/* A prefix is clean exactly when it ends where a message does, and yields
 * the readings of the whole messages in it and nothing else. */
static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    const prefix_t *p = arg;
    size_t whole = 0;
    bool boundary = k == 0;
    for (size_t i = 0; i < p->nends; i++) {
        whole += p->ends[i] <= k && i + 1 < p->nends; /* the last is NLMSG_DONE */
        boundary |= p->ends[i] == k;
    }
    char err[256];
    size_t n = 0;
    int rc;
    if (p->stats) {
        netlink_link_stats_t st[8];
        rc = netlink_decode_stats(buf, k, st, 8, &n, err, sizeof err);
    } else {
        rc = netlink_decode_links(buf, k, testlib_count_readings, &n, err, sizeof err);
    }
    if ((rc == 0) != boundary || n != whole * p->per_msg)
        fail_msg("prefix of %zu bytes: %d problems (%s), %zu readings for %zu whole messages", k,
                 rc, err, n, whole);
}

static void test_every_prefix(void **state)
{
    (void)state;
    static const char *files[] = {REC "/netlink/getlink.bin", REC "/netlink/getstats.bin"};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *buf = testlib_load(files[i], &len);
        prefix_t p = {.per_msg = i == 0 ? 25 : 1, .stats = i == 1};
        p.nends = s_boundaries(buf, len, p.ends, 64);
        assert_int_equal(p.nends, 4); /* three interfaces and NLMSG_DONE */
        assert_int_equal(p.ends[3], len);
        testlib_every_prefix(buf, len, s_check_prefix, &p);
        free(buf);
    }
}

/* --- hand-built messages ------------------------------------------------ */

/* A message buffer, aligned as a received one. */
typedef union {
    struct nlmsghdr nlh;
    char b[4096];
} msgbuf_t;

/* Appends to m at *at an RTM_NEWLINK for ifindex with name (none if NULL)
 * and an IFLA_STATS64 of statslen bytes (none if 0 and stats_type is 0)
 * in which field i holds i + 1; returns the message. */
static struct nlmsghdr *s_link(msgbuf_t *m, size_t *at, int ifindex, const char *name,
                               uint16_t stats_type, size_t statslen)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->b + *at);
    nlh->nlmsg_type = RTM_NEWLINK;
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
    ifm->ifi_index = ifindex;
    if (name)
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    uint64_t v[32];
    for (size_t i = 0; i < 32; i++)
        v[i] = i + 1;
    if (stats_type)
        mnl_attr_put(nlh, stats_type, statslen, v);
    *at += nlh->nlmsg_len;
    return nlh;
}

/* Decodes an exact-size copy of m's first len bytes into got (emptied). */
static int s_decode(const msgbuf_t *m, size_t len, testlib_collect_t *got, char *err)
{
    testlib_collect_reset(got);
    char *copy = testlib_copy(m->b, len);
    int rc = netlink_decode_links(copy, len, testlib_collect, got, err, 256);
    free(copy);
    return rc;
}

static void test_links_malformed(void **state)
{
    (void)state;
    msgbuf_t m;
    testlib_collect_t got = {0};
    char err[256];
    size_t at;
    /* Shorter and longer structs than ours, and none at all. */
    static const struct {
        size_t statslen, readings;
    } sizes[] = {{200, 25}, {208, 25}, {192, 24}, {184, 23}, {12, 1}, {8, 1}, {7, 0}, {0, 0}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        at = 0;
        s_link(&m, &at, 7, "eth7", IFLA_STATS64, sizes[i].statslen);
        assert_int_equal(s_decode(&m, at, &got, err), 0);
        assert_int_equal(got.n, sizes[i].readings);
    }
    at = 0;
    s_link(&m, &at, 7, "eth7", IFLA_STATS64 | NLA_F_NESTED, 200);
    assert_int_equal(s_decode(&m, at, &got, err), 0);
    assert_int_equal(testlib_value(&got, "eth7", "rx_packets"), 1);
    assert_int_equal(testlib_value(&got, "eth7", "rx_nohandler"), 24);
    assert_int_equal(testlib_value(&got, "eth7", "rx_otherhost_dropped"), 25);

    /* Problems: each message skipped, counted and named. */
    at = 0;
    struct nlmsghdr *nlh = s_link(&m, &at, 7, NULL, 0, 0);
    mnl_attr_put(nlh, IFLA_IFNAME, 4, "eth7"); /* no NUL */
    mnl_attr_put(nlh, IFLA_STATS64, 8, "12345678");
    at = nlh->nlmsg_len;
    assert_int_equal(s_decode(&m, at, &got, err), 1);
    assert_non_null(strstr(err, "IFLA_IFNAME"));
    at = 0;
    s_link(&m, &at, 7, "eth7", 0, 0);
    assert_int_equal(s_decode(&m, at, &got, err), 1);
    assert_string_equal(err, "netlink: interface eth7 (7) has no IFLA_STATS64");
    at = 0;
    nlh = s_link(&m, &at, 7, "eth7", IFLA_STATS64, 200);
    nlh->nlmsg_type = RTM_NEWQDISC;
    s_link(&m, &at, 8, "eth8", IFLA_STATS64, 200);
    assert_int_equal(s_decode(&m, at, &got, err), 1);
    assert_non_null(strstr(err, "message 0 at byte 0 is RTM_NEWQDISC (type 36), not RTM_NEWLINK"));
    assert_int_equal(got.n, 25); /* eth8 */
    nlh->nlmsg_type = NLMSG_ERROR;
    assert_int_equal(s_decode(&m, at, &got, err), 1);
    assert_non_null(strstr(err, "NLMSG_ERROR"));
    nlh->nlmsg_type = NLMSG_DONE; /* ends the dump: eth8 is not part of it */
    assert_int_equal(s_decode(&m, at, &got, err), 0);
    assert_int_equal(got.n, 0);
    nlh->nlmsg_type = NLMSG_NOOP;
    assert_int_equal(s_decode(&m, at, &got, err), 0);
    assert_int_equal(got.n, 25);

    /* Lengths that lie. */
    at = 0;
    nlh = s_link(&m, &at, 7, "eth7", IFLA_STATS64, 200);
    nlh->nlmsg_len = (uint32_t)at + 4;
    assert_int_equal(s_decode(&m, at, &got, err), 1);
    assert_non_null(strstr(err, "no whole message"));
    assert_int_equal(got.n, 0);
    nlh->nlmsg_len = 0x80000010u; /* negative as the int libmnl makes of it */
    assert_int_equal(s_decode(&m, at, &got, err), 1);
    nlh->nlmsg_len = 0xfffffffeu; /* 0 once padded by NLMSG_ALIGN: found by fuzz_netlink */
    assert_int_equal(s_decode(&m, at, &got, err), 1);
    nlh->nlmsg_len = 3;
    assert_int_equal(s_decode(&m, at, &got, err), 1);
    nlh->nlmsg_len = sizeof *nlh + 8; /* shorter than struct ifinfomsg */
    assert_int_equal(s_decode(&m, NLMSG_ALIGN(nlh->nlmsg_len), &got, err), 1);
    assert_non_null(strstr(err, "fewer than its 16-byte header"));
    at = 0;
    nlh = s_link(&m, &at, 7, "eth7", IFLA_STATS64, 200);
    struct nlattr *stats = (void *)(m.b + at - MNL_ALIGN(MNL_ATTR_HDRLEN + 200));
    stats->nla_len = 300; /* past the end of the message */
    assert_int_equal(s_decode(&m, at, &got, err), 1);
    assert_int_equal(got.n, 0);
    testlib_collect_reset(&got);
}

static void test_stats_malformed(void **state)
{
    (void)state;
    msgbuf_t m;
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(m.b);
    nlh->nlmsg_type = RTM_NEWSTATS;
    struct if_stats_msg *ifsm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifsm);
    ifsm->ifindex = 9;
    uint64_t v[4] = {1, 2, 3, 4};
    struct nlattr *attr = mnl_attr_nest_start(nlh, IFLA_STATS_LINK_64);
    mnl_attr_nest_end(nlh, attr); /* zero-length */
    netlink_link_stats_t st[2];
    size_t n = 0;
    char err[256];
    char *copy = testlib_copy(m.b, nlh->nlmsg_len);
    assert_int_equal(netlink_decode_stats(copy, nlh->nlmsg_len, st, 2, &n, err, sizeof err), 1);
    assert_string_equal(err, "netlink: interface 9 has no IFLA_STATS_LINK_64 of 32 bytes or more");
    assert_int_equal(n, 0);
    free(copy);
    nlh->nlmsg_len -= MNL_ATTR_HDRLEN;
    mnl_attr_put(nlh, IFLA_STATS_LINK_64, sizeof v, v);
    copy = testlib_copy(m.b, nlh->nlmsg_len);
    assert_int_equal(netlink_decode_stats(copy, nlh->nlmsg_len, st, 2, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(st[0].ifindex, 9);
    assert_int_equal(st[0].rx_packets, 1);
    assert_int_equal(st[0].tx_packets, 2);
    assert_int_equal(st[0].rx_bytes, 3);
    assert_int_equal(st[0].tx_bytes, 4);
    free(copy);
}

/* --- the live kernel, in namespaces of our own -------------------------- */

/* A new network namespace of ours, as an fd (inherited by the commands we
 * run, for `ip ... netns /proc/self/fd/N`); the thread stays in it. */
static int s_netns_new(void)
{
    assert_int_equal(unshare(CLONE_NEWNET), 0);
    int fd = open("/proc/self/ns/net", O_RDONLY);
    assert_true(fd >= 0);
    return fd;
}

static void s_send_lo(int n)
{
    testlib_lo_up();
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; i++)
        assert_int_equal(sendto(fd, "0123456789", 10, 0, (struct sockaddr *)&to, sizeof to), 10);
    close(fd);
}

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
    if (!s_live)
        skip();
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), ns = s_netns_new();
    s_send_lo(10);
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
    assert_null(nl);
    assert_int_equal(setns(home, CLONE_NEWNET), 0);
    close(ns);
    close(home);
}

typedef struct {
    size_t datagrams; /* handed over so far */
    size_t fail_at;   /* the one to refuse (1-based), 0 for none */
} count_t;

static int s_count_datagrams(void *ctx, const void *buf, size_t len, char *err, size_t errsz)
{
    (void)buf;
    count_t *c = ctx;
    assert_true(len >= sizeof(struct nlmsghdr) && len % 4 == 0);
    if (++c->datagrams == c->fail_at) {
        snprintf(err, errsz, "test: refused datagram %zu", c->datagrams);
        return -1;
    }
    return 0;
}

/* 60 veth ends (down, so their counters stand still) make an RTM_GETLINK
 * dump of several datagrams: recorded with rtnl_collect and decoded it
 * gives what netlink_read_links gives; a dump abandoned at its first
 * datagram leaves nothing behind for the next; a request the kernel
 * refuses is named with its errno and the kernel's reason. */
static void test_rtnl_live(void **state)
{
    (void)state;
    if (!s_live)
        skip();
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), ns = s_netns_new();
    testlib_sh("for i in $(seq 30); do echo \"link add v${i}a type veth peer name v${i}b\"; done "
               "| ip -batch -");
    char err[512];
    rtnl_t *rtnl = rtnl_new(err, sizeof err);
    assert_non_null(rtnl);
    struct ifinfomsg ifm = {.ifi_family = AF_UNSPEC};
    count_t c = {0};
    assert_int_equal(
        rtnl_dump(rtnl, RTM_GETLINK, &ifm, sizeof ifm, s_count_datagrams, &c, err, sizeof err),
        RTNL_OK);
    print_message("61 interfaces in %zu datagrams\n", c.datagrams);
    assert_true(c.datagrams >= 2);
    c = (count_t){.fail_at = 1};
    assert_int_equal(
        rtnl_dump(rtnl, RTM_GETLINK, &ifm, sizeof ifm, s_count_datagrams, &c, err, sizeof err),
        RTNL_ERROR);
    assert_string_equal(err, "test: refused datagram 1");

    rtnl_bytes_t rec = {0};
    assert_int_equal(
        rtnl_dump(rtnl, RTM_GETLINK, &ifm, sizeof ifm, rtnl_collect, &rec, err, sizeof err),
        RTNL_OK);
    testlib_collect_t decoded = {0}, read = {0};
    assert_int_equal(
        netlink_decode_links(rec.data, rec.len, testlib_collect, &decoded, err, sizeof err), 0);
    assert_int_equal(decoded.n, 61 * 25);
    netlink_t *nl = netlink_new(err, sizeof err);
    assert_non_null(nl);
    assert_int_equal(netlink_read_links(nl, testlib_collect, &read, err, sizeof err), 0);
    assert_int_equal(read.n, decoded.n);
    for (size_t i = 0; i < read.n; i++) {
        assert_string_equal(read.e[i].key, decoded.e[i].key);
        assert_int_equal(read.e[i].value, decoded.e[i].value);
    }
    netlink_link_stats_t st[64];
    assert_int_equal(netlink_dump_stats(nl, st, 64, err, sizeof err), 61);

    /* RTM_GETSTATS without a filter mask: EINVAL, with the kernel's words */
    struct if_stats_msg ifsm = {.family = AF_UNSPEC};
    assert_int_equal(
        rtnl_dump(rtnl, RTM_GETSTATS, &ifsm, sizeof ifsm, s_count_datagrams, &c, err, sizeof err),
        RTNL_ERROR);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "netlink RTM_GETSTATS dump: "));
    assert_non_null(strstr(err, "Invalid argument (errno 22)"));
    c = (count_t){0};
    assert_int_equal(
        rtnl_dump(rtnl, RTM_GETLINK, &ifm, sizeof ifm, s_count_datagrams, &c, err, sizeof err),
        RTNL_OK);
    assert_true(c.datagrams >= 2);

    rtnl_bytes_reset(&rec);
    rtnl_bytes_reset(&rec);
    testlib_collect_reset(&decoded);
    testlib_collect_reset(&read);
    netlink_destroy(&nl);
    rtnl_destroy(&rtnl);
    rtnl_destroy(&rtnl);
    assert_int_equal(setns(home, CLONE_NEWNET), 0);
    close(ns);
    close(home);
}

int main(void)
{
    s_live = testlib_userns("test_netlink");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_links_recorded),
        cmocka_unit_test(test_links_older_kernels),
        cmocka_unit_test(test_stats_recorded),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_links_malformed),
        cmocka_unit_test(test_stats_malformed),
        cmocka_unit_test(test_dumps_count_what_was_sent),
        cmocka_unit_test(test_rtnl_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
