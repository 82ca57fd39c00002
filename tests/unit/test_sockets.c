/* test_sockets: sockets_parse on /proc/net/udp and udp6 of 6.18 (drops
 * column, a receiver that never reads), 4.15 and 2.6.18 (no drops column),
 * hand-broken rows, and every prefix of a real file (buffers are malloc'd to
 * the byte so ASan sees any read past len). Address decoding assumes a
 * little-endian host, like the machines the fixtures came from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sockets.h"
#include "testlib.h"

/* The reading device/name of the socket with this inode. */
static const testlib_entry_t *s_find_inode(const testlib_collect_t *c, const char *device,
                                           const char *name, uint64_t inode)
{
    char key[160];
    snprintf(key, sizeof key, "%s/%s", device, name);
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0 && c->e[i].instance == inode)
            return &c->e[i];
    return NULL;
}

static uint64_t s_value_inode(const testlib_collect_t *c, const char *device, const char *name,
                              uint64_t inode)
{
    const testlib_entry_t *e = s_find_inode(c, device, name, inode);
    if (!e)
        fail_msg("no reading %s/%s for inode %llu", device, name, (unsigned long long)inode);
    return e->value;
}

static size_t s_count_name(const testlib_collect_t *c, const char *name)
{
    size_t k = 0, nl = strlen(name);
    for (size_t i = 0; i < c->n; i++) {
        size_t kl = strlen(c->e[i].key);
        k += kl > nl && c->e[i].key[kl - nl - 1] == '/' && strcmp(c->e[i].key + kl - nl, name) == 0;
    }
    return k;
}

static int s_parse_fixture(const char *rel, const char *proto, uint64_t min_drops,
                           testlib_collect_t *c, char *err, size_t errsz)
{
    size_t len;
    char *buf = testlib_load(rel, &len);
    int problems = sockets_parse(buf, len, proto, min_drops, testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

static int s_parse_text(const char *text, uint64_t min_drops, testlib_collect_t *c, char *err,
                        size_t errsz)
{
    size_t len;
    char *buf = testlib_exact(text, &len);
    int problems = sockets_parse(buf, len, "udp", min_drops, testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

#define HEADER_DROPS                                                                               \
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "         \
    "timeout inode ref pointer drops            \n"
#define ROW(addr, queues, inode, drops)                                                            \
    "13743: " addr " 00000000:0000 07 " queues " 00:00000000 00000000     0        0 " inode       \
    " 2 00000000bcfd086f " drops "\n"

/* --- 6.18: the drops column --------------------------------------------- */

static void test_618_udp_drops(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(
        s_parse_fixture("linux-6.18-netns-drops/proc/net/udp", "udp", 0, &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 2);
    const testlib_entry_t *e = testlib_find(&c, "udp:10.99.0.2:5000", "drops");
    assert_non_null(e);
    assert_int_equal(e->value, 2997);
    assert_int_equal(e->instance, 75983);
    assert_string_equal(e->source, "sock");
    e = testlib_find(&c, "udp:10.99.0.2:5000", "rx_queue");
    assert_non_null(e);
    assert_int_equal(e->value, 0xF00);
    assert_int_equal(e->value, 3840);
    assert_int_equal(e->instance, 75983);
    testlib_collect_reset(&c);

    /* min_drops filters whole sockets */
    assert_int_equal(
        s_parse_fixture("linux-6.18-netns-drops/proc/net/udp", "udp", 2997, &c, NULL, 0), 0);
    assert_int_equal(c.n, 2);
    testlib_collect_reset(&c);
    assert_int_equal(
        s_parse_fixture("linux-6.18-netns-drops/proc/net/udp", "udp", 2998, &c, NULL, 0), 0);
    assert_int_equal(c.n, 0);
    testlib_collect_reset(&c);

    /* the root namespace has a header and no socket */
    assert_int_equal(s_parse_fixture("linux-6.18-vm-rootns/proc/net/udp", "udp", 0, &c, NULL, 0),
                     0);
    assert_int_equal(c.n, 0);
    testlib_collect_reset(&c);
}

static void test_618_udp6_drops(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    assert_int_equal(
        s_parse_fixture("linux-6.18-netns-drops/proc/net/udp6", "udp6", 1, &c, NULL, 0), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(testlib_value(&c, "udp6:[fd99::2]:5000", "drops"), 1997);
    assert_int_equal(testlib_value(&c, "udp6:[fd99::2]:5000", "rx_queue"), 3840);
    assert_int_equal(testlib_instance(&c, "udp6:[fd99::2]:5000", "drops"), 75737);
    testlib_collect_reset(&c);
}

static void test_415_drops_column_zero(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    assert_int_equal(s_parse_fixture("linux-4.15-pcp/proc/net/udp", "udp", 0, &c, NULL, 0), 0);
    assert_int_equal(c.n, 12 * 2);
    assert_int_equal(testlib_value(&c, "udp:192.168.1.12:48070", "rx_queue"), 0xEF00);
    assert_int_equal(testlib_value(&c, "udp:0.0.0.0:57936", "rx_queue"), 0x8800);
    assert_int_equal(testlib_value(&c, "udp:127.0.0.1:323", "drops"), 0);
    /* three sockets on 0.0.0.0:5353 share a device; the inode tells them apart */
    assert_int_equal(s_value_inode(&c, "udp:0.0.0.0:5353", "rx_queue", 55377521), 0x6E40);
    assert_int_equal(s_value_inode(&c, "udp:0.0.0.0:5353", "rx_queue", 20892725), 0x30C0);
    testlib_collect_reset(&c);
    /* every drops value is 0 */
    assert_int_equal(s_parse_fixture("linux-4.15-pcp/proc/net/udp", "udp", 1, &c, NULL, 0), 0);
    assert_int_equal(c.n, 0);
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_fixture("linux-4.15-pcp/proc/net/udp6", "udp6", 0, &c, NULL, 0), 0);
    assert_int_equal(c.n, 6 * 2);
    assert_int_equal(testlib_value(&c, "udp6:[::1]:323", "drops"), 0);
    assert_int_equal(s_value_inode(&c, "udp6:[::]:5353", "rx_queue", 20892726), 0x1FC0);
    testlib_collect_reset(&c);
}

/* --- 2.6.x: no drops column --------------------------------------------- */

static void test_rhel5_no_drops_column(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(
        s_parse_fixture("linux-2.6.18-rhel5/proc/net/udp", "udp", 0, &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 14); /* rx_queue only, one per socket */
    assert_int_equal(s_count_name(&c, "drops"), 0);
    assert_int_equal(s_count_name(&c, "rx_queue"), 14);
    assert_int_equal(testlib_instance(&c, "udp:127.0.0.1:4500", "rx_queue"), 9299);
    assert_int_equal(testlib_instance(&c, "udp:172.31.1.148:4500", "rx_queue"), 9297);
    assert_int_equal(testlib_instance(&c, "udp:10.0.0.1:4500", "rx_queue"), 9295);
    assert_int_equal(testlib_value(&c, "udp:0.0.0.0:2049", "rx_queue"), 0);
    testlib_collect_reset(&c);
    /* with a drops threshold nothing can qualify */
    assert_int_equal(s_parse_fixture("linux-2.6.18-rhel5/proc/net/udp", "udp", 1, &c, NULL, 0), 0);
    assert_int_equal(c.n, 0);

    assert_int_equal(s_parse_fixture("linux-2.6.18-rhel5/proc/net/udp6", "udp6", 0, &c, NULL, 0),
                     0);
    assert_int_equal(c.n, 3);
    assert_int_equal(testlib_instance(&c, "udp6:[::1]:500", "rx_queue"), 9300);
    assert_int_equal(testlib_instance(&c, "udp6:[::]:36951", "rx_queue"), 10390);
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_fixture("linux-2.6.16-arm-d2000/proc/net/udp", "udp", 0, &c, NULL, 0),
                     0);
    assert_int_equal(c.n, 1);
    assert_int_equal(testlib_instance(&c, "udp:0.0.0.0:1023", "rx_queue"), 1141);
    testlib_collect_reset(&c);
}

/* --- bad input ---------------------------------------------------------- */

static void test_bad_rows(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    const char *text = HEADER_DROPS                                             /* line 1 */
        ROW("0200630A:1388", "00000000:00000F00", "75983", "2997")              /* line 2 */
        ROW("0200630X:1388", "00000000:00000F00", "1", "1")                     /* line 3 */
        ROW("0200630A:13881", "00000000:00000F00", "2", "1")                    /* line 4 */
        ROW("0200630A1:1388", "00000000:00000F00", "3", "1")                    /* line 5 */
        ROW("0200630A:1388", "00000000-00000F00", "4", "1")                     /* line 6 */
        ROW("0200630A:1388", "00000000:00000F00", "5x", "1")                    /* line 7 */
        ROW("0200630A:1388", "00000000:00000F00", "6", "-1")                    /* line 8 */
        "13743: 0200630A:1388 00000000:0000 07 00000000:00000F00 00:00000000\n" /* line 9 */
        "\n" ROW("0300630A:1389", "00000000:00000010", "7", "12");              /* line 11 */
    assert_int_equal(s_parse_text(text, 0, &c, err, sizeof err), 7);
    assert_string_equal(err, "line 3: bad local address \"0200630X:1388\"");
    assert_int_equal(c.n, 4);
    assert_int_equal(testlib_value(&c, "udp:10.99.0.2:5000", "drops"), 2997);
    assert_int_equal(testlib_value(&c, "udp:10.99.0.3:5001", "drops"), 12);
    assert_int_equal(testlib_value(&c, "udp:10.99.0.3:5001", "rx_queue"), 16);
    testlib_collect_reset(&c);

    assert_int_equal(s_parse_text(HEADER_DROPS ROW("0200630A:1388", "00000000-00000F00", "4", "1"),
                                  0, &c, err, sizeof err),
                     1);
    assert_string_equal(err, "line 2: bad tx_queue:rx_queue \"00000000-00000F00\"");
    assert_int_equal(s_parse_text(HEADER_DROPS ROW("0200630A:1388", "00000000:00000F00", "5x", "1"),
                                  0, &c, err, sizeof err),
                     1);
    assert_string_equal(err, "line 2: bad inode \"5x\"");
    assert_int_equal(s_parse_text(HEADER_DROPS ROW("0200630A:1388", "00000000:00000F00", "6", "-1"),
                                  0, &c, err, sizeof err),
                     1);
    assert_string_equal(err, "line 2: bad drops \"-1\"");
    assert_int_equal(s_parse_text(HEADER_DROPS
                                  "1: 0200630A:1388 00000000:0000 07 00000000:00000F00\n",
                                  0, &c, err, sizeof err),
                     1);
    assert_string_equal(err, "line 2: 5 columns, expected at least 13");
    assert_int_equal(c.n, 0);
    testlib_collect_reset(&c);
}

static void test_truncated(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    size_t len, off = 0;
    char *full = testlib_load("linux-4.15-pcp/proc/net/udp", &len);
    while (off + 13 <= len && memcmp(full + off, "00000000:E250", 13) != 0)
        off++;
    assert_true(off + 13 <= len);
    size_t cut = off + 40; /* inside the 0.0.0.0:57936 row, before its inode */
    char *buf = testlib_copy(full, cut);
    assert_int_equal(sockets_parse(buf, cut, "udp", 0, testlib_collect, &c, err, sizeof err), 1);
    assert_string_equal(err, "line 9: 5 columns, expected at least 13");
    assert_int_equal(c.n, 7 * 2);
    assert_int_equal(testlib_value(&c, "udp:192.168.1.12:48070", "rx_queue"), 0xEF00);
    assert_null(testlib_find(&c, "udp:0.0.0.0:57936", "rx_queue"));
    free(buf);
    free(full);
    testlib_collect_reset(&c);
}

/* One prefix; arg is the size_t count of readings from the whole file. */
static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    size_t full_n = *(const size_t *)arg, seen = 0;
    char err[64];
    int problems = sockets_parse(buf, k, "udp", 0, testlib_count_readings, &seen, err, sizeof err);
    assert_true(problems >= 0 && problems <= 1);
    assert_true(seen <= full_n);
}

static void test_every_prefix(void **state)
{
    (void)state;
    static const char *const files[] = {"linux-4.15-pcp/proc/net/udp",
                                        "linux-6.18-netns-drops/proc/net/udp6",
                                        "linux-2.6.18-rhel5/proc/net/udp"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len, full_n = 0;
        char *full = testlib_load(files[f], &len);
        assert_int_equal(
            sockets_parse(full, len, "udp", 0, testlib_count_readings, &full_n, NULL, 0), 0);
        testlib_every_prefix(full, len, s_check_prefix, &full_n);
        free(full);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_618_udp_drops),
        cmocka_unit_test(test_618_udp6_drops),
        cmocka_unit_test(test_415_drops_column_zero),
        cmocka_unit_test(test_rhel5_no_drops_column),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
