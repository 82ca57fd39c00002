/* test_onload: onload_parse on `onload_stackdump lots` output built from the
 * Onload sources' format strings (tests/fixtures/onload-stackdump: a quiet
 * stack, sockets overflowing, a stack in memory pressure, a cut-short dump),
 * the documentation's lines of an older release, hand-made bad lines, and
 * prefixes of a fixture (buffers malloc'd to the byte for ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"
#include "onload.h"
#include "testlib.h"
#include "text.h"

static int s_parse_fixture(const char *rel, testlib_collect_t *c, char *err, size_t errsz)
{
    size_t len;
    char *buf = testlib_load(rel, &len);
    int problems = onload_parse(buf, len, testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

static int s_parse_text(const char *text, testlib_collect_t *c, char *err, size_t errsz)
{
    size_t len;
    char *buf = testlib_exact(text, &len);
    int problems = onload_parse(buf, len, testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

/* Readings whose device/name key starts with prefix. */
static size_t s_count_prefix(const testlib_collect_t *c, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += strncmp(c->e[i].key, prefix, strlen(prefix)) == 0;
    return n;
}

static void test_quiet_stack(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_fixture("onload-stackdump/quiet.txt", &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    /* No name: the stack's number is its device. Every stats_def.h field
     * (300 at ef17681d), the 16 numeric EF_* options (EF_RXQ_SIZE and
     * EF_TXQ_SIZE are -1, automatic: left out; EF_SCALABLE_FILTERS is a
     * string), and the ring of its one interface. */
    assert_int_equal(testlib_count_device(&c, "0"), 300 + 16);
    assert_int_equal(testlib_value(&c, "0", "rx_evs"), 48211033);
    assert_int_equal(testlib_value(&c, "0", "spin_udp_recv"), 77102911);
    assert_int_equal(testlib_value(&c, "0", "memory_pressure_drops"), 0);
    assert_int_equal(testlib_value(&c, "0", "EF_MAX_PACKETS"), 32768);
    assert_int_equal(testlib_value(&c, "0", "EF_UDP_RCVBUF"), 0);
    assert_null(testlib_find(&c, "0", "EF_RXQ_SIZE"));
    assert_null(testlib_find(&c, "0", "NDEBUG"));
    assert_null(testlib_find(&c, "0", "EF_SCALABLE_FILTERS"));
    assert_null(testlib_find(&c, "0", "TCP_ESTABLISHED")); /* more_stats: not read */
    assert_null(testlib_find(&c, "0", "in_recvs"));        /* ci_ip_stats: not read */
    assert_int_equal(testlib_value(&c, "0:enp1s0f0", "rxq_size"), 512);
    assert_int_equal(testlib_instance(&c, "0", "rx_evs"), 1);
    /* The UDP socket that lost nothing, and the TCP one, make no series. */
    assert_int_equal(s_count_prefix(&c, "0:udp"), 0);
    assert_int_equal(c.n, 300 + 16 + 1);
    testlib_collect_reset(&c);
}

static void test_oflow_sockets(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_fixture("onload-stackdump/oflow.txt", &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(testlib_value(&c, "md:udp:239.1.1.1:31001", "oflow_drop"), 48211);
    assert_int_equal(testlib_value(&c, "md:udp:239.1.1.1:31001", "mem_drop"), 0);
    assert_int_equal(testlib_value(&c, "md:udp:239.1.1.1:31001", "rcvbuf"), 212992);
    assert_int_equal(testlib_instance(&c, "md:udp:239.1.1.1:31001", "oflow_drop"),
                     (UINT64_C(2) << 32) | 4);
    /* Two sockets on 239.1.1.2:31002; only the one that dropped shows. */
    assert_int_equal(testlib_count_device(&c, "md:udp:239.1.1.2:31002"), 3);
    assert_int_equal(testlib_value(&c, "md:udp:239.1.1.2:31002", "oflow_drop"), 17);
    assert_int_equal(testlib_instance(&c, "md:udp:239.1.1.2:31002", "oflow_drop"),
                     (UINT64_C(2) << 32) | 6);
    assert_int_equal(testlib_value(&c, "md:udp6:[fd00::5]:31003", "oflow_drop"), 4096);
    assert_int_equal(testlib_value(&c, "md:udp6:[fd00::5]:31003", "rcvbuf"), 425984);
    assert_int_equal(testlib_value(&c, "md", "EF_RXQ_SIZE"), 1024); /* "(default: -1)" after */
    assert_int_equal(testlib_value(&c, "md", "EF_UDP_RCVBUF"), 212992);
    assert_int_equal(testlib_value(&c, "md:enp1s0f0", "rxq_size"), 1024);
    assert_int_equal(s_count_prefix(&c, "md:udp"), 3 * 3);
    /* The second stack, named by its number, lost nothing. */
    assert_int_equal(testlib_value(&c, "2", "rx_evs"), 0);
    assert_int_equal(testlib_instance(&c, "2", "rx_evs"), 3);
    assert_int_equal(s_count_prefix(&c, "2:udp"), 0);
    for (size_t i = 0; i < c.n; i++) {
        assert_string_equal(c.e[i].source, "onload");
        char device[160];
        snprintf(device, sizeof device, "%.*s", (int)strcspn(c.e[i].key, "/"), c.e[i].key);
        assert_true(text_is_name(device));
    }
    testlib_collect_reset(&c);
}

static void test_memory_pressure(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_fixture("onload-stackdump/memory-pressure.txt", &c, err, sizeof err),
                     0);
    assert_int_equal(testlib_value(&c, "feed", "memory_pressure_drops"), 91234);
    assert_int_equal(testlib_value(&c, "feed", "memory_pressure_enter"), 37);
    assert_int_equal(testlib_value(&c, "feed", "refill_rx_limited"), 5120);
    assert_int_equal(testlib_value(&c, "feed", "refill_buf_limited"), 2210);
    assert_int_equal(testlib_value(&c, "feed", "udp_rx_no_match_drops"), 12);
    assert_int_equal(testlib_value(&c, "feed", "EF_MAX_PACKETS"), 32768);
    assert_int_equal(testlib_value(&c, "feed", "EF_RXQ_SIZE"), 512);
    assert_int_equal(testlib_value(&c, "feed:enp1s0f0", "rxq_size"), 512);
    assert_int_equal(testlib_value(&c, "feed:enp1s0f1", "rxq_size"), 512);
    assert_int_equal(testlib_value(&c, "feed:udp:239.2.2.1:41001", "mem_drop"), 88001);
    assert_int_equal(testlib_value(&c, "feed:udp:239.2.2.2:41002", "mem_drop"), 3233);
    assert_int_equal(testlib_value(&c, "feed:udp:239.2.2.2:41002", "oflow_drop"), 0);
    /* The stack's total covers the sockets' mem_drop: counted once there. */
    counter_class_t total = counters_classify("onload", "memory_pressure_drops");
    counter_class_t sock = counters_classify("onload", "mem_drop");
    assert_int_equal(total.layer, LAYER_ONLOAD);
    assert_false(total.overlap);
    assert_int_equal(total.width, 32);
    assert_true(sock.overlap);
    testlib_collect_reset(&c);
}

static void test_truncated(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_fixture("onload-stackdump/truncated.txt", &c, err, sizeof err), 2);
    assert_non_null(strstr(err, "UDP socket cut:udp:239.1.1.9:31009 has no \"rcv: oflow_drop=\""));
    /* The complete first stack is all there. */
    assert_int_equal(testlib_value(&c, "md:udp:239.1.1.1:31001", "oflow_drop"), 500);
    assert_int_equal(testlib_value(&c, "md", "EF_MAX_PACKETS"), 32768);
    assert_int_equal(testlib_count_device(&c, "cut:udp:239.1.1.9:31009"), 0);
    assert_int_equal(testlib_value(&c, "cut:enp1s0f0", "rxq_size"), 1024);
    testlib_collect_reset(&c);
    /* the second problem: the stack that never reached its statistics */
    s_parse_text("ci_netif_dump_to_logger: stack=9 name=x\n", &c, err, sizeof err);
    assert_string_equal(err, "line 1: stack x: the output ends before its ci_netif_stats "
                             "(cut short?)");
    testlib_collect_reset(&c);
}

/* Lines as the Onload documentation quotes them (an older release: q_max=,
 * no stack around them): nothing is a stack's, so nothing is read. */
static void test_seed_lines(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(
        s_parse_fixture("seed-lines/onload_stackdump-lots-oflow_drop.txt", &c, err, sizeof err), 0);
    assert_int_equal(c.n, 0);
    /* inside a stack, the older rcv: line reads */
    static const char text[] = "ci_netif_dump: stack=1 name=\n"
                               "--------------------- sockets ---------------------\n"
                               "UDP 1:2 lcl=0.0.0.0:5000 rmt=0.0.0.0:0 UDP\n"
                               "  rcv: oflow_drop=3(1%) mem_drop=1 eagain=0 pktinfo=0 q_max=9\n"
                               "-------------------- ci_netif_stats: 1 ---------------------\n"
                               "memory_pressure_drops: 1\n";
    assert_int_equal(s_parse_text(text, &c, err, sizeof err), 0);
    assert_int_equal(testlib_value(&c, "1:udp:0.0.0.0:5000", "oflow_drop"), 3);
    assert_int_equal(testlib_value(&c, "1:udp:0.0.0.0:5000", "mem_drop"), 1);
    assert_null(testlib_find(&c, "1:udp:0.0.0.0:5000", "rcvbuf"));
    assert_int_equal(testlib_value(&c, "1", "memory_pressure_drops"), 1);
    testlib_collect_reset(&c);
}

static void test_bad_lines(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    static const char text[] =
        "ci_netif_dump_to_logger: stack=1 name=a b:c\n" /* ':' in a name: the number */
        "--------------------- sockets ---------------------\n"
        "UDP x:2 lcl=0.0.0.0:5000 rmt=0.0.0.0:0 UDP\n"
        "UDP 1:2 lcl=0.0.0.0:70000 rmt=0.0.0.0:0 UDP\n"
        "UDP 1:3 lcl=0.0.0.0:5001 rmt=0.0.0.0:0 UDP\n"
        "  rcv: oflow_drop=(1%) mem_drop=1\n"
        "-------------------- ci_netif_stats: 1 ---------------------\n"
        "rx_evs: 12\n"
        "tx_evs 13\n"
        "k_polls: -1\n"
        "u_polls: 5 6\n"
        "spin_tcp_recv: 18446744073709551615\n"
        "--------------------- config opts ---------------------\n"
        "   EF_MAX_PACKETS: lots\n"
        "   EF_RXQ_SIZE: 99999999999999999999\n"
        "   EF_SPIN_USEC: 100 (default: 0)\n";
    assert_int_equal(s_parse_text(text, &c, err, sizeof err), 8);
    assert_string_equal(err, "line 3: \"UDP x:2 lcl=0.0.0.0:5000 rmt=0.0.0.0:0 UDP\" is not "
                             "\"UDP STACK:SOCKET lcl=ADDR:PORT ...\"");
    assert_int_equal(testlib_value(&c, "1", "rx_evs"), 12);
    assert_int_equal(testlib_value(&c, "1", "spin_tcp_recv"), UINT64_MAX);
    assert_int_equal(testlib_value(&c, "1", "EF_SPIN_USEC"), 100);
    assert_int_equal(c.n, 3);
    testlib_collect_reset(&c);
    /* a line too long for an error message, and CRLF line ends */
    char long_text[2048] = "ci_netif_dump_to_logger: stack=2 name=n\r\n"
                           "-------------------- ci_netif_stats: 2 ----------------\r\n"
                           "rx_evs: 7\r\nx: ";
    memset(long_text + strlen(long_text), '9', 1000);
    assert_int_equal(s_parse_text(long_text, &c, err, sizeof err), 1);
    assert_true(strlen(err) < 200);
    assert_int_equal(testlib_value(&c, "n", "rx_evs"), 7);
    testlib_collect_reset(&c);
}

/* Every prefix of the first 6000 bytes (a stack's header, its interface,
 * its first sockets), then every 13th: the whole fixture's every prefix is
 * 30,000 parses of up to 30 KB, half a minute under ASan. */
static void test_every_prefix(void **state)
{
    (void)state;
    size_t len, full_n = 0;
    char *full = testlib_load("onload-stackdump/oflow.txt", &len);
    onload_parse(full, len, testlib_count_readings, &full_n, NULL, 0);
    for (size_t k = 0; k <= len; k += k < 6000 ? 1 : 13) {
        char *buf = testlib_copy(full, k), err[128];
        size_t n = 0;
        onload_parse(buf, k, testlib_count_readings, &n, err, sizeof err);
        assert_true(n <= full_n);
        free(buf);
    }
    free(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiet_stack),     cmocka_unit_test(test_oflow_sockets),
        cmocka_unit_test(test_memory_pressure), cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_seed_lines),      cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
