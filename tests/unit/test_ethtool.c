/* test_ethtool: the `ethtool -S` / `ethtool -g` text parsers on dumps from
 * eight drivers and the seed lines, bad and truncated input, every prefix of
 * real dumps (buffers malloc'd to the byte for ASan); and the live ioctl path
 * on lo and on a veth pair inside a network namespace this test creates and
 * deletes (needs root, skipped otherwise; the host's interfaces are never
 * touched). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ethtool.h"
#include "testlib.h"

static int s_parse_stats_fixture(const char *rel, testlib_collect_t *c, char *err, size_t errsz)
{
    size_t len;
    char *buf = testlib_load(rel, &len);
    int problems = ethtool_stats_parse(buf, len, "eth0", testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

static int s_parse_ring_fixture(const char *rel, testlib_collect_t *c, char *err, size_t errsz)
{
    size_t len;
    char *buf = testlib_load(rel, &len);
    int problems = ethtool_ring_parse(buf, len, "eth0", testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

static int s_parse_text(bool ring, const char *text, testlib_collect_t *c, char *err, size_t errsz)
{
    size_t len;
    char *buf = testlib_exact(text, &len);
    int problems = ring ? ethtool_ring_parse(buf, len, "eth0", testlib_collect, c, err, errsz)
                        : ethtool_stats_parse(buf, len, "eth0", testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

/* --- ethtool -S text ---------------------------------------------------- */

static void test_stats_every_driver_clean(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        size_t count;
    } cases[] = {
        {"ixgbe-ethtool-exporter/ethtool/eth0/statistics", 729},
        {"i40e-ethq/ethtool/eth0/statistics", 418},
        {"ice-ethq/ethtool/eth0/statistics", 602},
        {"mlx5-ethq/ethtool/eth0/statistics", 751}, /* no header */
        {"mlx5-lkml-5.15/ethtool/eth0/statistics", 101},
        {"mlx5-lkml-6.5/ethtool/eth0/statistics", 108},
        {"sfc-ethq/ethtool/eth0/statistics", 152},
        {"ena-ethq/ethtool/eth0/statistics", 104}, /* no header */
        {"bnxt_en-ethq/ethtool/eth0/statistics", 499},
        {"virtio_net-ethq/ethtool/eth0/statistics", 8},
        {"linux-6.18-vm-rootns/ethtool/eth0/statistics", 20},
        {"linux-6.18-netns-drops/ethtool/veth1/statistics", 10},
        {"seed-lines/ethtool-S-sfc-rx_nodesc_drop_cnt.txt", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        testlib_collect_t c = {0};
        char err[256];
        assert_int_equal(s_parse_stats_fixture(cases[i].file, &c, err, sizeof err), 0);
        assert_string_equal(err, "");
        assert_int_equal(c.n, cases[i].count);
        assert_string_equal(c.e[0].source, "ethtool");
        testlib_collect_reset(&c);
    }
}

static void test_stats_values_intel(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    assert_int_equal(
        s_parse_stats_fixture("ixgbe-ethtool-exporter/ethtool/eth0/statistics", &c, NULL, 0), 0);
    assert_int_equal(testlib_value(&c, "eth0", "rx_no_dma_resources"), 590843871);
    assert_int_equal(testlib_value(&c, "eth0", "rx_dropped"), 10960);
    assert_true(testlib_value(&c, "eth0", "fdir_miss") == 120928795479ULL);
    assert_true(testlib_value(&c, "eth0", "rx_packets") == 207139908164ULL); /* the first line */
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_stats_fixture("i40e-ethq/ethtool/eth0/statistics", &c, NULL, 0), 0);
    assert_int_equal(testlib_value(&c, "eth0", "rx_dropped"), 179160);
    assert_true(testlib_value(&c, "eth0", "tx-0.packets") == 36459363750ULL); /* '-', '.' kept */
    assert_int_equal(testlib_value(&c, "eth0", "port.rx_dropped"), 0);
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_stats_fixture("ice-ethq/ethtool/eth0/statistics", &c, NULL, 0), 0);
    assert_int_equal(testlib_value(&c, "eth0", "rx_dropped.nic"), 0);
    testlib_collect_reset(&c);
}

static void test_stats_values_other_drivers(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    /* sfc: header, no indentation */
    assert_int_equal(s_parse_stats_fixture("sfc-ethq/ethtool/eth0/statistics", &c, NULL, 0), 0);
    assert_int_equal(testlib_value(&c, "eth0", "port_rx_dp_di_dropped_packets"), 27);
    assert_int_equal(testlib_value(&c, "eth0", "rx_noskb_drops"), 0);
    testlib_collect_reset(&c);

    /* ena: no header, no indentation */
    assert_int_equal(s_parse_stats_fixture("ena-ethq/ethtool/eth0/statistics", &c, NULL, 0), 0);
    assert_int_equal(testlib_value(&c, "eth0", "tx_timeout"), 0);
    assert_int_equal(testlib_value(&c, "eth0", "interface_up"), 1);
    assert_int_equal(testlib_value(&c, "eth0", "queue_0_rx_cnt"), 9300271);
    testlib_collect_reset(&c);

    /* bnxt: "[N]: name: value" */
    assert_int_equal(s_parse_stats_fixture("bnxt_en-ethq/ethtool/eth0/statistics", &c, NULL, 0), 0);
    assert_int_equal(testlib_value(&c, "eth0", "ring0.rx_discards"), 11763190);
    assert_int_equal(testlib_value(&c, "eth0", "ring1.rx_discards"), 10611365);
    assert_int_equal(testlib_value(&c, "eth0", "ring11.rx_discards"), 9244693);
    assert_true(testlib_value(&c, "eth0", "ring0.rx_ucast_packets") == 10198513532ULL);
    assert_int_equal(testlib_value(&c, "eth0", "rx_total_ring_discards"), 655430134);
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_stats_fixture("mlx5-lkml-5.15/ethtool/eth0/statistics", &c, NULL, 0),
                     0);
    assert_int_equal(testlib_value(&c, "eth0", "rx_out_of_buffer"), 990473555);
    assert_true(testlib_value(&c, "eth0", "rx_discards_phy") == 58591428329ULL);
    assert_int_equal(testlib_value(&c, "eth0", "rx_xdp_drop"), 3753342954);
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_stats_fixture("mlx5-lkml-6.5/ethtool/eth0/statistics", &c, NULL, 0),
                     0);
    assert_int_equal(testlib_value(&c, "eth0", "rx_out_of_buffer"), 534918379);
    testlib_collect_reset(&c);

    assert_int_equal(
        s_parse_stats_fixture("seed-lines/ethtool-S-sfc-rx_nodesc_drop_cnt.txt", &c, NULL, 0), 0);
    assert_int_equal(testlib_value(&c, "eth0", "rx_nodesc_drop_cnt"), 0);
    testlib_collect_reset(&c);

    assert_int_equal(
        s_parse_stats_fixture("linux-6.18-vm-rootns/ethtool/eth0/statistics", &c, NULL, 0), 0);
    assert_int_equal(testlib_value(&c, "eth0", "rx_kicks"), 256);
    assert_int_equal(testlib_value(&c, "eth0", "tx0_kicks"), 680);
    assert_int_equal(testlib_value(&c, "eth0", "rx_drops"), 0);
    testlib_collect_reset(&c);
}

static void test_stats_names_and_bad_lines(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_text(false,
                                  "NIC statistics:\n"
                                  "     tx queue 0/packets: 5\n"   /* '/' and blanks -> '_' */
                                  "     [7]:   rx_discards: 6\r\n" /* CRLF too */
                                  "     rx_packets 7\n"            /* line 4: no colon */
                                  "     rx_bytes: 12x\n"           /* line 5: bad value */
                                  "     : 9\n"                     /* line 6: no name */
                                  "     [3]: : 9\n"                /* line 7: no name after ring */
                                  "     NIC statistics:\n"         /* line 8: not first */
                                  "     rx_missed: 18446744073709551615",
                                  &c, err, sizeof err),
                     5);
    assert_string_equal(err, "line 4: no \"name: value\" in \"rx_packets 7\"");
    assert_int_equal(c.n, 3);
    assert_int_equal(testlib_value(&c, "eth0", "tx_queue_0_packets"), 5);
    assert_int_equal(testlib_value(&c, "eth0", "ring7.rx_discards"), 6);
    assert_true(testlib_value(&c, "eth0", "rx_missed") == UINT64_MAX);
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_text(false, "rx_bytes: 12x\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 1: \"rx_bytes\" value \"12x\" is not a decimal u64");
    assert_int_equal(s_parse_text(false, "a: 1\n: 9\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 2: name \"\" is empty or too long");
    assert_int_equal(s_parse_text(false, "a_name_much_longer_than_forty_eight_characters_xx: 1\n",
                                  &c, err, sizeof err),
                     1);
    assert_int_equal(c.n, 1);
    testlib_collect_reset(&c);
}

static void test_stats_truncated(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    size_t len, off = 0;
    char *full = testlib_load("mlx5-lkml-5.15/ethtool/eth0/statistics", &len);
    while (off + 17 <= len && memcmp(full + off, "rx_out_of_buffer:", 17) != 0)
        off++;
    assert_true(off + 17 <= len);
    size_t cut = off + 10; /* "rx_out_of_" */
    char *buf = testlib_copy(full, cut);
    int problems = ethtool_stats_parse(buf, cut, "eth0", testlib_collect, &c, err, sizeof err);
    assert_int_equal(problems, 1);
    assert_non_null(strstr(err, "no \"name: value\" in \"rx_out_of_\""));
    assert_null(testlib_find(&c, "eth0", "rx_out_of_buffer"));
    assert_true(testlib_value(&c, "eth0", "rx_packets") == 333854100);
    assert_true(c.n > 10);
    free(buf);
    free(full);
    testlib_collect_reset(&c);
}

/* --- ethtool -g text ---------------------------------------------------- */

static void test_ring(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(
        s_parse_ring_fixture("seed-lines/ethtool-g-eth1-ring.txt", &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 4);
    assert_int_equal(testlib_value(&c, "eth0", "rx_max"), 4096);
    assert_int_equal(testlib_value(&c, "eth0", "tx_max"), 4096);
    assert_int_equal(testlib_value(&c, "eth0", "rx"), 4096);
    assert_int_equal(testlib_value(&c, "eth0", "tx"), 1024);
    assert_string_equal(c.e[0].source, "ring");
    testlib_collect_reset(&c);

    /* ethtool 6.1: n/a values, and RX Buf Len, CQE Size, TX Push lines */
    assert_int_equal(
        s_parse_ring_fixture("linux-6.18-vm-rootns/ethtool/eth0/ring", &c, err, sizeof err), 0);
    assert_int_equal(c.n, 4);
    assert_int_equal(testlib_value(&c, "eth0", "rx_max"), 256);
    assert_int_equal(testlib_value(&c, "eth0", "tx_max"), 256);
    assert_int_equal(testlib_value(&c, "eth0", "rx"), 256);
    assert_int_equal(testlib_value(&c, "eth0", "tx"), 256);
    testlib_collect_reset(&c);
}

static void test_ring_bad(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_text(true,
                                  "Ring parameters for eth1:\n"
                                  "RX:\t\t512\n" /* line 2: outside a section */
                                  "Pre-set maximums:\n"
                                  "RX:\t\t4096\n"
                                  "TX:\t\tlots\n" /* line 5 */
                                  "Current hardware settings:\n"
                                  "RX:\t\tn/a\n"
                                  "garbage\n" /* line 8 */
                                  "TX:\t\t1024",
                                  &c, err, sizeof err),
                     3);
    assert_string_equal(err, "line 2: \"RX:\t\t512\" outside a section");
    assert_int_equal(c.n, 2);
    assert_int_equal(testlib_value(&c, "eth0", "rx_max"), 4096);
    assert_int_equal(testlib_value(&c, "eth0", "tx"), 1024);
    testlib_collect_reset(&c);
    assert_int_equal(s_parse_text(true, "Pre-set maximums:\nTX:\t\tlots\n", &c, err, sizeof err),
                     1);
    assert_string_equal(err, "line 2: TX value \"lots\" is not a decimal u64");
    assert_int_equal(s_parse_text(true, "Pre-set maximums:\ngarbage\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 2: no ':' in \"garbage\"");
    testlib_collect_reset(&c);
}

/* One prefix; arg is a bool: true for `ethtool -g` text, false for -S. */
static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    size_t seen = 0;
    char err[64];
    int problems =
        *(const bool *)arg
            ? ethtool_ring_parse(buf, k, "eth0", testlib_count_readings, &seen, err, 64)
            : ethtool_stats_parse(buf, k, "eth0", testlib_count_readings, &seen, err, 64);
    assert_true(problems >= 0 && problems <= 1);
    assert_true(seen <= k / 4);
}

static void test_every_prefix(void **state)
{
    (void)state;
    static const struct {
        bool ring;
        const char *file;
        size_t maxlen;
    } cases[] = {
        {false, "mlx5-lkml-5.15/ethtool/eth0/statistics", SIZE_MAX},
        {false, "bnxt_en-ethq/ethtool/eth0/statistics", 3000},
        {true, "seed-lines/ethtool-g-eth1-ring.txt", SIZE_MAX},
        {true, "linux-6.18-vm-rootns/ethtool/eth0/ring", SIZE_MAX},
    };
    for (size_t f = 0; f < sizeof cases / sizeof cases[0]; f++) {
        size_t len;
        char *full = testlib_load(cases[f].file, &len);
        len = len < cases[f].maxlen ? len : cases[f].maxlen;
        bool ring = cases[f].ring;
        testlib_every_prefix(full, len, s_check_prefix, &ring);
        free(full);
    }
}

/* --- the live path: a namespace of our own ------------------------------- */

typedef struct {
    char name[32]; /* the namespace, "dsut<pid>" */
    bool created;  /* whether teardown must delete it */
    ethtool_t *et; /* opened inside the namespace */
} netns_fixture_t;

static netns_fixture_t s_ns;

__attribute__((format(printf, 1, 2))) static int s_run(const char *fmt, ...)
{
    char cmd[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

/* Runs fn inside the namespace and comes back; never asserts in between. */
static int s_in_netns(void (*fn)(void *), void *arg)
{
    char path[128];
    snprintf(path, sizeof path, "/var/run/netns/%s", s_ns.name);
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int there = open(path, O_RDONLY | O_CLOEXEC);
    int rc = home >= 0 && there >= 0 && setns(there, CLONE_NEWNET) == 0 ? 0 : -1;
    if (rc == 0) {
        fn(arg);
        if (setns(home, CLONE_NEWNET) != 0)
            abort(); /* stuck in the test namespace: nothing below can be trusted */
    }
    if (home >= 0)
        close(home);
    if (there >= 0)
        close(there);
    return rc;
}

typedef struct {
    unsigned ifindex_a, ifindex_b;
} ifindexes_t;

static void s_open_here(void *arg)
{
    ifindexes_t *ix = arg;
    if (!s_ns.et)
        s_ns.et = ethtool_new();
    ix->ifindex_a = if_nametoindex("dsa");
    ix->ifindex_b = if_nametoindex("dsb");
}

/* Creates the namespace with a veth pair dsa/dsb and opens s_ns.et in it;
 * skips the test when not root or when namespaces are not available. */
static void s_netns_setup(ifindexes_t *ix)
{
    if (geteuid() != 0) {
        print_message("not root: live ethtool test skipped\n");
        skip();
    }
    snprintf(s_ns.name, sizeof s_ns.name, "dsut%d", (int)getpid());
    if (s_run("ip netns add %s 2>/dev/null", s_ns.name) != 0) {
        print_message("ip netns add failed: live ethtool test skipped\n");
        skip();
    }
    s_ns.created = true;
    assert_int_equal(s_run("ip -n %s link add dsa type veth peer name dsb", s_ns.name), 0);
    assert_int_equal(s_in_netns(s_open_here, ix), 0);
    assert_non_null(s_ns.et);
    assert_true(ix->ifindex_a > 0 && ix->ifindex_b > 0);
}

static int s_netns_teardown(void **state)
{
    (void)state;
    ethtool_destroy(&s_ns.et);
    if (s_ns.created && s_run("ip netns del %s", s_ns.name) != 0)
        return -1;
    s_ns.created = false;
    return 0;
}

static void test_live_lo_has_nothing(void **state)
{
    (void)state;
    ifindexes_t ix;
    testlib_collect_t c = {0};
    char err[256];
    s_netns_setup(&ix);
    assert_int_equal(ethtool_read_stats(s_ns.et, "lo", testlib_collect, &c, err, sizeof err), -2);
    assert_string_equal(err, "ethtool ETHTOOL_GSSET_INFO lo: the driver has no statistics");
    assert_int_equal(ethtool_read_ring(s_ns.et, "lo", testlib_collect, &c, err, sizeof err), -2);
    assert_string_equal(err, "ethtool ETHTOOL_GRINGPARAM lo: Operation not supported");
    assert_int_equal(c.n, 0);

    assert_int_equal(ethtool_read_stats(s_ns.et, "nosuch0", testlib_collect, &c, err, sizeof err),
                     -1);
    assert_string_equal(err, "ethtool ETHTOOL_GSSET_INFO nosuch0: No such device");
    assert_int_equal(ethtool_read_ring(s_ns.et, "nosuch0", testlib_collect, &c, err, sizeof err),
                     -1);
    assert_int_equal(
        ethtool_read_stats(s_ns.et, "a_name_too_long_0", testlib_collect, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "interface name longer than 15"));
    assert_int_equal(c.n, 0);
}

/* The names of a replayed veth dump, to compare with the live ones. */
static testlib_collect_t s_fixture_names(void)
{
    testlib_collect_t c = {0};
    size_t len;
    char *buf = testlib_load("linux-6.18-netns-drops/ethtool/veth1/statistics", &len);
    assert_int_equal(ethtool_stats_parse(buf, len, "dsb", testlib_collect, &c, NULL, 0), 0);
    free(buf);
    return c;
}

static void test_live_veth(void **state)
{
    (void)state;
    ifindexes_t ix;
    testlib_collect_t c = {0};
    char err[256];
    s_netns_setup(&ix);
    assert_int_equal(ethtool_read_stats(s_ns.et, "dsb", testlib_collect, &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(testlib_value(&c, "dsb", "peer_ifindex"), ix.ifindex_a);
    assert_int_equal(testlib_value(&c, "dsb", "rx_queue_0_drops"), 0);
    assert_string_equal(c.e[0].source, "ethtool");
    /* live and replayed names agree */
    testlib_collect_t want = s_fixture_names();
    for (size_t i = 0; i < want.n; i++) {
        const char *name = strchr(want.e[i].key, '/') + 1;
        assert_non_null(testlib_find(&c, "dsb", name));
    }
    size_t first = c.n;
    testlib_collect_reset(&want);
    testlib_collect_reset(&c);

    /* a second read comes from the name cache, and reads both ends */
    assert_int_equal(ethtool_read_stats(s_ns.et, "dsb", testlib_collect, &c, NULL, 0), 0);
    assert_int_equal(ethtool_read_stats(s_ns.et, "dsa", testlib_collect, &c, NULL, 0), 0);
    assert_int_equal(c.n, 2 * first);
    assert_int_equal(testlib_value(&c, "dsa", "peer_ifindex"), ix.ifindex_b);
    testlib_collect_reset(&c);

    /* veth has no ring parameters: what `ethtool -g veth1` said in the fixture */
    assert_int_equal(ethtool_read_ring(s_ns.et, "dsb", testlib_collect, &c, err, sizeof err), -2);
    assert_string_equal(err, "ethtool ETHTOOL_GRINGPARAM dsb: Operation not supported");
    assert_int_equal(c.n, 0);
}

/* Replaces dsb (and its peer) by `spec`, inside the namespace. */
static void s_replace_dsb(const char *spec)
{
    s_run("ip -n %s link del dsb 2>/dev/null", s_ns.name);
    if (s_run("ip -n %s link add dsb %s", s_ns.name, spec) != 0) {
        print_message("cannot create \"%s\": test skipped\n", spec);
        skip();
    }
}

static void test_live_name_cache(void **state)
{
    (void)state;
    ifindexes_t ix;
    testlib_collect_t c = {0};
    s_netns_setup(&ix);
    assert_int_equal(ethtool_read_stats(s_ns.et, "dsb", testlib_collect, &c, NULL, 0), 0);
    assert_int_equal(c.n, 10); /* veth, one queue each way */
    testlib_collect_reset(&c);

    /* the count changes: the names are fetched again */
    s_replace_dsb("type ifb");
    assert_int_equal(ethtool_read_stats(s_ns.et, "dsb", testlib_collect, &c, NULL, 0), 0);
    assert_int_equal(c.n, 4);
    assert_int_equal(testlib_value(&c, "dsb", "rx_queue_0_packets"), 0);
    assert_null(testlib_find(&c, "dsb", "peer_ifindex"));
    testlib_collect_reset(&c);

    /* same name, same count (12), another driver: the ifindex tells them apart */
    s_replace_dsb("numtxqueues 2 numrxqueues 1 type veth peer name dsa numtxqueues 2 "
                  "numrxqueues 1");
    assert_int_equal(ethtool_read_stats(s_ns.et, "dsb", testlib_collect, &c, NULL, 0), 0);
    assert_int_equal(c.n, 12);
    assert_non_null(testlib_find(&c, "dsb", "peer_ifindex"));
    assert_non_null(testlib_find(&c, "dsb", "tx_queue_1_xdp_xmit"));
    testlib_collect_reset(&c);
    s_replace_dsb("numtxqueues 3 numrxqueues 3 type ifb");
    assert_int_equal(ethtool_read_stats(s_ns.et, "dsb", testlib_collect, &c, NULL, 0), 0);
    assert_int_equal(c.n, 12);
    assert_null(testlib_find(&c, "dsb", "peer_ifindex"));
    assert_int_equal(testlib_value(&c, "dsb", "tx_queue_2_bytes"), 0);
    testlib_collect_reset(&c);
}

static void test_destroy_is_idempotent(void **state)
{
    (void)state;
    ethtool_t *et = ethtool_new();
    assert_non_null(et);
    ethtool_destroy(&et);
    assert_null(et);
    ethtool_destroy(&et);
    ethtool_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_every_driver_clean),
        cmocka_unit_test(test_stats_values_intel),
        cmocka_unit_test(test_stats_values_other_drivers),
        cmocka_unit_test(test_stats_names_and_bad_lines),
        cmocka_unit_test(test_stats_truncated),
        cmocka_unit_test(test_ring),
        cmocka_unit_test(test_ring_bad),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test_teardown(test_live_lo_has_nothing, s_netns_teardown),
        cmocka_unit_test_teardown(test_live_veth, s_netns_teardown),
        cmocka_unit_test_teardown(test_live_name_cache, s_netns_teardown),
        cmocka_unit_test(test_destroy_is_idempotent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
