/* test_snmp: snmp_parse on /proc/net/snmp and /proc/net/netstat of kernels
 * 2.6.16 to 6.18 and on the seed lines, snmp6_parse on snmp6 of 2.6.18 to
 * 6.18, hand-broken groups, truncated files and every prefix of a real file
 * (buffers are malloc'd to the byte so ASan sees any read past len). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snmp.h"
#include "testlib.h"

/* Counts readings whose "device/name" key starts with prefix. */
static size_t s_count_prefix(const testlib_collect_t *c, const char *prefix)
{
    size_t k = 0, pl = strlen(prefix);
    for (size_t i = 0; i < c->n; i++)
        k += strncmp(c->e[i].key, prefix, pl) == 0;
    return k;
}

typedef int(parse_fn)(const char *buf, size_t len, const char *source, reading_fn *emit, void *ctx,
                      char *err, size_t errsz);

/* snmp6_parse with snmp_parse's shape, so one loop can drive both. */
static int s_snmp6(const char *buf, size_t len, const char *source, reading_fn *emit, void *ctx,
                   char *err, size_t errsz)
{
    (void)source;
    return snmp6_parse(buf, len, emit, ctx, err, errsz);
}

static int s_parse_fixture(parse_fn *parse, const char *rel, const char *source,
                           testlib_collect_t *c, char *err, size_t errsz)
{
    size_t len;
    char *buf = testlib_load(rel, &len);
    int problems = parse(buf, len, source, testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

static int s_parse_text(parse_fn *parse, const char *text, testlib_collect_t *c, char *err,
                        size_t errsz)
{
    size_t len;
    char *buf = testlib_exact(text, &len);
    int problems = parse(buf, len, "snmp", testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

/* --- netstat ------------------------------------------------------------ */

static void test_netstat_618_three_groups(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_fixture(snmp_parse, "linux-6.18-vm-rootns/proc/net/netstat", "netstat",
                                     &c, err, sizeof err),
                     0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 135 + 18 + 76);
    assert_int_equal(s_count_prefix(&c, "/TcpExt."), 135);
    assert_int_equal(s_count_prefix(&c, "/IpExt."), 18);
    assert_int_equal(s_count_prefix(&c, "/MPTcpExt."), 76);
    assert_int_equal(testlib_value(&c, "", "TcpExt.PruneCalled"), 80);
    assert_int_equal(testlib_value(&c, "", "TcpExt.TCPAODroppedIcmps"), 0); /* last TcpExt field */
    assert_true(testlib_value(&c, "", "IpExt.InOctets") == 37880273511ULL); /* > 2^32 */
    assert_true(testlib_value(&c, "", "IpExt.OutOctets") == 37814035415ULL);
    assert_int_equal(testlib_value(&c, "", "MPTcpExt.MPCapableSYNRX"), 0);
    assert_string_equal(c.e[0].source, "netstat");
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_fixture(snmp_parse, "linux-6.18-netns-drops/proc/net/netstat",
                                     "netstat", &c, NULL, 0),
                     0);
    assert_int_equal(testlib_value(&c, "", "TcpExt.ListenOverflows"), 90);
    assert_int_equal(testlib_value(&c, "", "TcpExt.ListenDrops"), 90);
    assert_int_equal(testlib_value(&c, "", "IpExt.InOctets"), 690678);
    testlib_collect_reset(&c);
}

static void test_netstat_old_kernels(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    assert_int_equal(
        s_parse_fixture(snmp_parse, "linux-2.6.18-rhel5/proc/net/netstat", "netstat", &c, NULL, 0),
        0);
    assert_int_equal(c.n, 65 + 6);
    assert_int_equal(testlib_value(&c, "", "TcpExt.ListenOverflows"), 176);
    assert_int_equal(testlib_value(&c, "", "TcpExt.ListenDrops"), 176);
    assert_int_equal(testlib_value(&c, "", "TcpExt.PruneCalled"), 3);
    assert_int_equal(testlib_value(&c, "", "TcpExt.SyncookiesFailed"), 690);
    assert_int_equal(testlib_value(&c, "", "TcpExt.TCPRcvCollapsed"), 293);
    assert_int_equal(testlib_value(&c, "", "IpExt.InMcastPkts"), 4110170);
    assert_int_equal(testlib_value(&c, "", "IpExt.OutBcastPkts"), 0);
    testlib_collect_reset(&c);

    assert_int_equal(
        s_parse_fixture(snmp_parse, "linux-4.15-pcp/proc/net/netstat", "netstat", &c, NULL, 0), 0);
    assert_int_equal(c.n, 111 + 17);
    assert_int_equal(testlib_value(&c, "", "TcpExt.ListenOverflows"), 90);
    assert_int_equal(testlib_value(&c, "", "TcpExt.TCPDeferAcceptDrop"), 149);
    assert_true(testlib_value(&c, "", "IpExt.InOctets") == 22188625234ULL);
    testlib_collect_reset(&c);

    /* 2.6.16: TcpExt only, no IpExt line */
    assert_int_equal(s_parse_fixture(snmp_parse, "linux-2.6.16-arm-d2000/proc/net/netstat",
                                     "netstat", &c, NULL, 0),
                     0);
    assert_int_equal(c.n, 65);
    assert_int_equal(s_count_prefix(&c, "/IpExt."), 0);
    assert_int_equal(testlib_value(&c, "", "TcpExt.PruneCalled"), 0);
    testlib_collect_reset(&c);
}

/* --- snmp --------------------------------------------------------------- */

static void test_snmp_618(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    assert_int_equal(
        s_parse_fixture(snmp_parse, "linux-6.18-netns-drops/proc/net/snmp", "snmp", &c, NULL, 0),
        0);
    assert_int_equal(c.n, 20 + 29 + 1 + 15 + 9 + 9);
    assert_int_equal(testlib_value(&c, "", "Udp.InErrors"), 2997);
    assert_int_equal(testlib_value(&c, "", "Udp.RcvbufErrors"), 2997);
    assert_int_equal(testlib_value(&c, "", "Udp.NoPorts"), 25);
    assert_int_equal(testlib_value(&c, "", "Udp.MemErrors"), 0);
    assert_int_equal(testlib_value(&c, "", "Udp.InDatagrams"), 0);
    assert_int_equal(testlib_value(&c, "", "UdpLite.RcvbufErrors"), 0);
    assert_int_equal(testlib_value(&c, "", "Tcp.EstabResets"), 2);
    assert_int_equal(testlib_value(&c, "", "IcmpMsg.OutType3"), 6);
    assert_true(testlib_value(&c, "", "Tcp.MaxConn") == UINT64_MAX); /* printed -1 */
    assert_string_equal(c.e[0].source, "snmp");
    testlib_collect_reset(&c);

    assert_int_equal(
        s_parse_fixture(snmp_parse, "linux-6.18-vm-rootns/proc/net/snmp", "snmp", &c, NULL, 0), 0);
    assert_int_equal(c.n, 20 + 29 + 2 + 15 + 9 + 9);
    assert_int_equal(testlib_value(&c, "", "Udp.NoPorts"), 404);
    assert_int_equal(testlib_value(&c, "", "Tcp.RetransSegs"), 642);
    assert_int_equal(testlib_value(&c, "", "IcmpMsg.InType3"), 405);
    assert_int_equal(testlib_value(&c, "", "IcmpMsg.OutType3"), 404);
    assert_int_equal(testlib_value(&c, "", "Ip.OutTransmits"), 2696924);
    testlib_collect_reset(&c);
}

static void test_snmp_old_udp_layouts(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    /* 2.6.16: Udp has 4 columns, no RcvbufErrors */
    assert_int_equal(
        s_parse_fixture(snmp_parse, "linux-2.6.16-arm-d2000/proc/net/snmp", "snmp", &c, NULL, 0),
        0);
    assert_int_equal(c.n, 19 + 26 + 14 + 4);
    assert_int_equal(s_count_prefix(&c, "/Udp."), 4);
    assert_int_equal(testlib_value(&c, "", "Udp.InDatagrams"), 11438);
    assert_int_equal(testlib_value(&c, "", "Udp.OutDatagrams"), 13602);
    assert_null(testlib_find(&c, "", "Udp.RcvbufErrors"));
    assert_int_equal(testlib_value(&c, "", "Ip.FragOKs"), 117);
    testlib_collect_reset(&c);

    assert_int_equal(
        s_parse_fixture(snmp_parse, "linux-2.6.18-rhel5/proc/net/snmp", "snmp", &c, NULL, 0), 0);
    assert_true(testlib_value(&c, "", "Ip.InReceives") == 10027332782ULL);
    assert_int_equal(testlib_value(&c, "", "Udp.NoPorts"), 1198);
    assert_int_equal(testlib_value(&c, "", "IcmpMsg.OutType3"), 1206);
    testlib_collect_reset(&c);

    /* 2.6.32: 6 Udp columns; 3.19: 8 */
    assert_int_equal(
        s_parse_fixture(snmp_parse, "linux-2.6.32-pcp/proc/net/snmp", "snmp", &c, NULL, 0), 0);
    assert_int_equal(s_count_prefix(&c, "/Udp."), 6);
    assert_int_equal(testlib_value(&c, "", "Ip.ForwDatagrams"), 133866);
    assert_int_equal(testlib_value(&c, "", "Udp.RcvbufErrors"), 0);
    testlib_collect_reset(&c);
    assert_int_equal(
        s_parse_fixture(snmp_parse, "linux-3.19-pcp/proc/net/snmp", "snmp", &c, NULL, 0), 0);
    assert_int_equal(s_count_prefix(&c, "/Udp."), 8);
    assert_int_equal(testlib_value(&c, "", "Tcp.InErrs"), 6442);
    assert_int_equal(testlib_value(&c, "", "Tcp.RetransSegs"), 513784);
    assert_int_equal(testlib_value(&c, "", "Ip.OutDiscards"), 160);
    assert_int_equal(testlib_value(&c, "", "IcmpMsg.InType142"), 21);
    testlib_collect_reset(&c);
}

static void test_snmp_seed_lines(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    assert_int_equal(s_parse_fixture(snmp_parse, "seed-lines/proc-net-snmp-udp-inerrors.txt",
                                     "snmp", &c, NULL, 0),
                     0);
    assert_int_equal(c.n, 6);
    assert_int_equal(testlib_value(&c, "", "Udp.InErrors"), 9);
    assert_int_equal(testlib_value(&c, "", "Udp.NoPorts"), 25);
    assert_int_equal(testlib_value(&c, "", "Udp.RcvbufErrors"), 0);
    testlib_collect_reset(&c);
    assert_int_equal(s_parse_fixture(snmp_parse, "seed-lines/proc-net-snmp-udp-rcvbuferrors.txt",
                                     "snmp", &c, NULL, 0),
                     0);
    assert_int_equal(c.n, 6);
    assert_int_equal(testlib_value(&c, "", "Udp.RcvbufErrors"), 15);
    assert_int_equal(testlib_value(&c, "", "Udp.InErrors"), 0);
    assert_int_equal(testlib_value(&c, "", "Udp.InDatagrams"), 8273);
    testlib_collect_reset(&c);
}

/* --- snmp6 -------------------------------------------------------------- */

static void test_snmp6(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_fixture(s_snmp6, "linux-6.18-netns-drops/proc/net/snmp6", NULL, &c,
                                     err, sizeof err),
                     0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 92);
    assert_int_equal(testlib_value(&c, "", "Udp6.RcvbufErrors"), 1997);
    assert_int_equal(testlib_value(&c, "", "Udp6.InErrors"), 1997);
    assert_int_equal(testlib_value(&c, "", "Ip6.InReceives"), 2010);
    assert_int_equal(testlib_value(&c, "", "Ip6.InNoRoutes"), 3);
    assert_int_equal(testlib_value(&c, "", "Icmp6.OutType133"), 2);
    assert_int_equal(testlib_value(&c, "", "UdpLite6.InErrors"), 0);
    assert_string_equal(c.e[0].source, "snmp6");
    testlib_collect_reset(&c);

    assert_int_equal(
        s_parse_fixture(s_snmp6, "linux-2.6.18-rhel5/proc/net/snmp6", NULL, &c, NULL, 0), 0);
    assert_int_equal(c.n, 70);
    assert_int_equal(testlib_value(&c, "", "Udp6.InErrors"), 1);
    assert_int_equal(testlib_value(&c, "", "Ip6.InReceives"), 574060);
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_fixture(s_snmp6, "linux-3.19-pcp/proc/net/snmp6", NULL, &c, NULL, 0),
                     0);
    assert_int_equal(testlib_value(&c, "", "Icmp6.InType1"), 1192);
    assert_int_equal(testlib_value(&c, "", "Icmp6.OutType133"), 499671);
    assert_int_equal(testlib_value(&c, "", "Icmp6.OutMLDv2Reports"), 306);
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_fixture(s_snmp6, "linux-2.6.32-pcp/proc/net/snmp6", NULL, &c, NULL, 0),
                     0);
    assert_int_equal(testlib_value(&c, "", "Ip6.InDiscards"), 2314);
    testlib_collect_reset(&c);
}

static void test_snmp6_names_and_bad_lines(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_text(s_snmp6,
                                  "ifIndex\t2\n"          /* dev_snmp6: no group, kept raw */
                                  "Ip6lower 3\n"          /* prefix not followed by uppercase */
                                  "Ip6 4\n"               /* a bare group name */
                                  "UdpLite6InErrors  5\n" /* longest prefix wins */
                                  "Udp6NoPorts 1 2\n"     /* line 5: 3 tokens */
                                  "Udp6InErrors x\n"      /* line 6: bad number */
                                  "Udp6\n"                /* line 7: 1 token */
                                  "Icmp6InType133\t7",    /* no final newline */
                                  &c, err, sizeof err),
                     3);
    assert_string_equal(err, "line 5: 3 tokens in \"Udp6NoPorts 1 2\", expected 2");
    assert_int_equal(c.n, 5);
    assert_int_equal(testlib_value(&c, "", "ifIndex"), 2);
    assert_int_equal(testlib_value(&c, "", "Ip6lower"), 3);
    assert_int_equal(testlib_value(&c, "", "Ip6"), 4);
    assert_int_equal(testlib_value(&c, "", "UdpLite6.InErrors"), 5);
    assert_int_equal(testlib_value(&c, "", "Icmp6.InType133"), 7);
    testlib_collect_reset(&c);

    assert_int_equal(
        s_parse_text(s_snmp6, "Ip6InReceives 1\n\nUdp6InErrors 1x\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 3: \"Udp6InErrors\" value \"1x\" is not a decimal u64");
    assert_int_equal(c.n, 1);
    testlib_collect_reset(&c);
}

/* --- bad snmp input ----------------------------------------------------- */

static void test_snmp_bad_groups(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    const char *text = "Ip: A B C\n"
                       "Ip: 1 2 3\n"
                       "Udp: InDatagrams NoPorts InErrors\n"
                       "Udp: 1 2\n" /* line 4: a missing value */
                       "Tcp: X Y\n"
                       "Tcp: 1 2 3\n" /* line 6: an extra value */
                       "Icmp: InMsgs InErrors\n"
                       "Icmp: 7 x8\n" /* line 8: one bad value */
                       "UdpLite: A\n" /* line 9: no value line */
                       "Foo: B\n"
                       "Foo: 5\n"
                       "Ip: D\n" /* groups may repeat */
                       "Ip: 4\n"
                       "Bar: Z"; /* line 14: no value line at the end */
    assert_int_equal(s_parse_text(snmp_parse, text, &c, err, sizeof err), 5);
    assert_string_equal(err, "line 4: \"Udp\" has 3 names but 2 values");
    assert_int_equal(c.n, 3 + 1 + 1 + 1);
    assert_int_equal(testlib_value(&c, "", "Ip.A"), 1);
    assert_int_equal(testlib_value(&c, "", "Ip.C"), 3);
    assert_int_equal(testlib_value(&c, "", "Ip.D"), 4);
    assert_int_equal(testlib_value(&c, "", "Icmp.InMsgs"), 7);
    assert_int_equal(testlib_value(&c, "", "Foo.B"), 5);
    assert_int_equal(s_count_prefix(&c, "/Udp."), 0);
    assert_int_equal(s_count_prefix(&c, "/Tcp."), 0);
    assert_null(testlib_find(&c, "", "Icmp.InErrors"));
    testlib_collect_reset(&c);

    /* each message on its own */
    assert_int_equal(s_parse_text(snmp_parse, "Tcp: X Y\nTcp: 1 2 3\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 2: \"Tcp\" has 2 names but 3 values");
    assert_int_equal(
        s_parse_text(snmp_parse, "Icmp: InMsgs InErrors\nIcmp: 7 x8\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 2: \"Icmp.InErrors\" value \"x8\" is not a number");
    assert_int_equal(s_parse_text(snmp_parse, "UdpLite: A\nFoo: B\nFoo: 5\n", &c, err, sizeof err),
                     1);
    assert_string_equal(err,
                        "line 1: \"UdpLite\" header is followed by \"Foo\", not by its values");
    assert_int_equal(s_parse_text(snmp_parse, "Ip: A\nIp: 1\nBar: Z", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 3: \"Bar\" header has no value line");
    assert_int_equal(
        s_parse_text(snmp_parse, "Udp: 1 2\nUdp: 3 4\nIp: A\nIp: 1\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 2: \"Udp\" has no header line (\"1\" is not a name)");
    assert_int_equal(s_parse_text(snmp_parse, "garbage\nIp: A\nIp: 1\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 1: \"garbage\" does not start with \"Group:\"");
    testlib_collect_reset(&c);
}

static void test_snmp_number_limits(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_text(snmp_parse,
                                  "N: max min neg big low dash\n"
                                  "N: 18446744073709551615 -9223372036854775808 -2 "
                                  "18446744073709551616 -9223372036854775809 -\n",
                                  &c, err, sizeof err),
                     3);
    assert_string_equal(err, "line 2: \"N.big\" value \"18446744073709551616\" is not a number");
    assert_int_equal(c.n, 3);
    assert_true(testlib_value(&c, "", "N.max") == UINT64_MAX);
    assert_true(testlib_value(&c, "", "N.min") == (uint64_t)INT64_MIN);
    assert_true(testlib_value(&c, "", "N.neg") == (uint64_t)(int64_t)-2);
    testlib_collect_reset(&c);
}

static void test_snmp_truncated(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    size_t len, off = 0;
    char *full = testlib_load("linux-6.18-netns-drops/proc/net/snmp", &len);
    /* the second "Udp: " is the value line; cut it after "Udp: 0 25 29" */
    int seen = 0;
    for (; off + 5 <= len; off++)
        if (memcmp(full + off, "Udp: ", 5) == 0 && ++seen == 2)
            break;
    assert_int_equal(seen, 2);
    size_t cut = off + 12;
    char *buf = testlib_copy(full, cut);
    assert_int_equal(snmp_parse(buf, cut, "snmp", testlib_collect, &c, err, sizeof err), 1);
    assert_string_equal(err, "line 10: \"Udp\" has 9 names but 3 values");
    assert_int_equal(c.n, 20 + 29 + 1 + 15);
    assert_int_equal(testlib_value(&c, "", "Tcp.EstabResets"), 2);
    assert_int_equal(s_count_prefix(&c, "/Udp."), 0);
    free(buf);
    testlib_collect_reset(&c);

    /* cut inside the Udp header line */
    cut = off - 20;
    buf = testlib_copy(full, cut);
    assert_int_equal(snmp_parse(buf, cut, "snmp", testlib_collect, &c, err, sizeof err), 1);
    assert_string_equal(err, "line 9: \"Udp\" header has no value line");
    assert_int_equal(c.n, 20 + 29 + 1 + 15);
    free(buf);
    free(full);
    testlib_collect_reset(&c);
}

/* The parser of one every-prefix case, and its reading count on the whole file. */
typedef struct {
    parse_fn *parse;
    size_t full_n;
} prefix_case_t;

static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    const prefix_case_t *pc = arg;
    size_t seen = 0;
    char err[64];
    int problems = pc->parse(buf, k, "x", testlib_count_readings, &seen, err, sizeof err);
    /* a cut value line is one problem; a cut "Group:" token also
     * leaves its header without values: two */
    assert_true(problems >= 0 && problems <= 2);
    assert_true(seen <= pc->full_n);
    assert_true((problems == 0) == (err[0] == '\0'));
}

static void test_every_prefix(void **state)
{
    (void)state;
    static const struct {
        parse_fn *parse;
        const char *file;
    } cases[] = {
        {snmp_parse, "linux-6.18-vm-rootns/proc/net/netstat"},
        {snmp_parse, "linux-2.6.18-rhel5/proc/net/snmp"},
        {s_snmp6, "linux-6.18-netns-drops/proc/net/snmp6"},
    };
    for (size_t f = 0; f < sizeof cases / sizeof cases[0]; f++) {
        size_t len;
        prefix_case_t pc = {.parse = cases[f].parse};
        char *full = testlib_load(cases[f].file, &len);
        assert_int_equal(pc.parse(full, len, "x", testlib_count_readings, &pc.full_n, NULL, 0), 0);
        testlib_every_prefix(full, len, s_check_prefix, &pc);
        free(full);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netstat_618_three_groups),
        cmocka_unit_test(test_netstat_old_kernels),
        cmocka_unit_test(test_snmp_618),
        cmocka_unit_test(test_snmp_old_udp_layouts),
        cmocka_unit_test(test_snmp_seed_lines),
        cmocka_unit_test(test_snmp6),
        cmocka_unit_test(test_snmp6_names_and_bad_lines),
        cmocka_unit_test(test_snmp_bad_groups),
        cmocka_unit_test(test_snmp_number_limits),
        cmocka_unit_test(test_snmp_truncated),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
