/* test_netdev: netdev_parse on real /proc/net/dev files from 2.6.16 to 6.18,
 * on hand-broken lines, and on every prefix of a real file (under ASan the
 * prefix loop catches any read past len: buffers are malloc'd to the byte,
 * with no NUL after them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netdev.h"
#include "testlib.h"

static int s_parse_fixture(const char *rel, testlib_collect_t *c, char *err, size_t errsz)
{
    size_t len;
    char *buf = testlib_load(rel, &len);
    int problems = netdev_parse(buf, len, testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

#define HEADER                                                                                     \
    "Inter-|   Receive                                                |  Transmit\n"               \
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "     \
    "drop fifo colls carrier compressed\n"

/* --- real files --------------------------------------------------------- */

static void test_rhel5_no_space_after_colon(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_fixture("linux-2.6.18-rhel5/proc/net/dev", &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 4 * 16);
    /* `eth0:8144002186412 ...`: no space after the colon, values above 2^32 */
    assert_true(testlib_value(&c, "eth0", "rx_bytes") == 8144002186412ULL);
    assert_true(testlib_value(&c, "eth0", "rx_packets") == 10129721832ULL);
    assert_int_equal(testlib_value(&c, "eth0", "multicast"), 4632261);
    assert_true(testlib_value(&c, "eth0", "tx_bytes") == 14148537267133ULL);
    assert_true(testlib_value(&c, "eth0", "tx_packets") == 11634529610ULL);
    assert_int_equal(testlib_value(&c, "eth0", "tx_compressed"), 0);
    assert_int_equal(testlib_value(&c, "lo", "rx_bytes"), 38547981);
    assert_int_equal(testlib_value(&c, "lo", "tx_packets"), 5779);
    assert_int_equal(testlib_count_device(&c, "sit0"), 16);
    assert_string_equal(c.e[0].source, "netdev");
    assert_int_equal(c.e[0].instance, 0);
    testlib_collect_reset(&c);
}

static void test_415_wide_names(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_fixture("linux-4.15-pcp/proc/net/dev", &c, err, sizeof err), 0);
    assert_int_equal(c.n, 9 * 16);
    assert_int_equal(testlib_value(&c, "tun0", "tx_dropped"), 46);
    assert_int_equal(testlib_value(&c, "tun0", "rx_bytes"), 110717658);
    assert_int_equal(testlib_value(&c, "tun0", "tx_packets"), 290405);
    assert_int_equal(testlib_count_device(&c, "virbr0-nic"), 16);
    assert_int_equal(testlib_count_device(&c, "virbr1-nic"), 16);
    assert_int_equal(testlib_value(&c, "virbr0-nic", "rx_bytes"), 0);
    assert_true(testlib_value(&c, "lo", "rx_bytes") == 4493605264ULL);
    assert_true(testlib_value(&c, "enp0s25", "rx_bytes") == 18690974820ULL);
    assert_int_equal(testlib_value(&c, "enp0s25", "multicast"), 236404);
    assert_int_equal(testlib_value(&c, "wlp3s0", "tx_bytes"), 5647080);
    testlib_collect_reset(&c);
}

static void test_618_and_2616(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    assert_int_equal(s_parse_fixture("linux-6.18-vm-rootns/proc/net/dev", &c, NULL, 0), 0);
    assert_int_equal(c.n, 4 * 16);
    assert_int_equal(testlib_value(&c, "eth0", "rx_bytes"), 54966867);
    assert_int_equal(testlib_value(&c, "eth0", "tx_packets"), 865);
    assert_true(testlib_value(&c, "lo", "rx_bytes") == 37825331958ULL);
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_fixture("linux-2.6.16-arm-d2000/proc/net/dev", &c, NULL, 0), 0);
    assert_int_equal(c.n, 2 * 16);
    assert_int_equal(testlib_value(&c, "eth0", "rx_bytes"), 2384650);
    assert_int_equal(testlib_value(&c, "eth0", "rx_packets"), 11882);
    assert_int_equal(testlib_value(&c, "eth0", "tx_packets"), 13901);
    testlib_collect_reset(&c);
}

static void test_no_final_newline(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    size_t len;
    char *buf = testlib_load("linux-6.18-vm-rootns/proc/net/dev", &len);
    assert_int_equal(buf[len - 1], '\n');
    assert_int_equal(netdev_parse(buf, len - 1, testlib_collect, &c, NULL, 0), 0);
    assert_int_equal(testlib_value(&c, "eth0", "tx_compressed"), 0);
    assert_int_equal(testlib_value(&c, "eth0", "tx_bytes"), 72011);
    free(buf);
    testlib_collect_reset(&c);
}

/* --- bad input ---------------------------------------------------------- */

static void test_bad_lines(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    size_t len;
    char *buf =
        testlib_exact(HEADER "    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
                             " short: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
                             "  long: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"
                             "   bad: 1 2 3 x4 5 6 7 8 9 10 11 12 13 14 15 16\n"
                             "   big: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 18446744073709551616\n"
                             "nocolon 1 2 3\n"
                             "  eth0: 100 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
                      &len);
    assert_int_equal(netdev_parse(buf, len, testlib_collect, &c, err, sizeof err), 5);
    assert_string_equal(err, "line 4: \"short\" has 15 values, expected 16");
    assert_int_equal(c.n, 2 * 16);
    assert_int_equal(testlib_value(&c, "lo", "rx_drop_total"), 4);
    assert_int_equal(testlib_value(&c, "lo", "rx_frame_total"), 6);
    assert_int_equal(testlib_value(&c, "lo", "tx_carrier_total"), 15);
    assert_int_equal(testlib_value(&c, "eth0", "rx_bytes"), 100);
    assert_int_equal(testlib_value(&c, "eth0", "tx_compressed"), 16);
    assert_int_equal(testlib_count_device(&c, "short"), 0);
    assert_int_equal(testlib_count_device(&c, "long"), 0);
    assert_int_equal(testlib_count_device(&c, "bad"), 0);
    assert_int_equal(testlib_count_device(&c, "big"), 0);
    free(buf);
    testlib_collect_reset(&c);

    /* each kind alone, so each message is checked */
    buf = testlib_exact(HEADER "  long: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", &len);
    assert_int_equal(netdev_parse(buf, len, testlib_collect, &c, err, sizeof err), 1);
    assert_string_equal(err, "line 3: \"long\" has 17 values, expected 16");
    free(buf);
    buf = testlib_exact(HEADER "\n   bad: 1 2 3 x4 5 6 7 8 9 10 11 12 13 14 15 16\n", &len);
    assert_int_equal(netdev_parse(buf, len, testlib_collect, &c, err, sizeof err), 1);
    assert_string_equal(err, "line 4: \"bad\" value 4 \"x4\" is not a decimal u64");
    free(buf);
    assert_int_equal(c.n, 0);
    testlib_collect_reset(&c);
}

static void test_truncated(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    size_t len;
    char *full = testlib_load("linux-4.15-pcp/proc/net/dev", &len);
    /* find "enp0s25:" without relying on a NUL terminator */
    size_t off = 0;
    while (off + 8 <= len && memcmp(full + off, "enp0s25:", 8) != 0)
        off++;
    assert_true(off + 8 <= len);
    size_t cutlen = off + 30; /* in the middle of enp0s25's counters */
    char *buf = testlib_copy(full, cutlen);
    assert_int_equal(netdev_parse(buf, cutlen, testlib_collect, &c, err, sizeof err), 1);
    assert_non_null(strstr(err, "line 10: \"enp0s25\" has "));
    assert_int_equal(c.n, 7 * 16);
    assert_int_equal(testlib_value(&c, "tun0", "tx_dropped"), 46);
    assert_int_equal(testlib_count_device(&c, "enp0s25"), 0);
    free(buf);
    free(full);
    testlib_collect_reset(&c);
}

/* One prefix; arg is the size_t count of readings from the previous one. */
static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    size_t *seen_max = arg, seen = 0;
    char err[64];
    int problems = netdev_parse(buf, k, testlib_count_readings, &seen, err, sizeof err);
    assert_true(problems >= 0 && problems <= 1);
    assert_true(seen % 16 == 0);
    assert_true(seen >= *seen_max); /* a longer prefix never loses a device */
    *seen_max = seen;
}

static void test_every_prefix(void **state)
{
    (void)state;
    static const char *const files[] = {"linux-2.6.18-rhel5/proc/net/dev",
                                        "linux-4.15-pcp/proc/net/dev"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len, seen_max = 0;
        char *full = testlib_load(files[f], &len);
        testlib_every_prefix(full, len, s_check_prefix, &seen_max);
        free(full);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rhel5_no_space_after_colon),
        cmocka_unit_test(test_415_wide_names),
        cmocka_unit_test(test_618_and_2616),
        cmocka_unit_test(test_no_final_newline),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
