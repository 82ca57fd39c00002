/* test_netdev: netdev_parse on real /proc/net/dev files from 2.6.16 to 6.18,
 * on hand-broken lines, and on every prefix of a real file (under ASan the
 * prefix loop catches any read past len: buffers are malloc'd to the byte,
 * with no NUL after them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netdev.h"

/* --- a collecting emit callback: "device/name" -> value ---------------- */

typedef struct {
    char key[160];
    char source[16];
    uint64_t value;
    uint64_t instance;
} entry_t;

typedef struct {
    entry_t *e;
    size_t n, cap;
} collect_t;

static void s_collect(void *ctx, const reading_t *r)
{
    collect_t *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->e = realloc(c->e, c->cap * sizeof *c->e);
        assert_non_null(c->e);
    }
    entry_t *e = &c->e[c->n++];
    snprintf(e->key, sizeof e->key, "%s/%s", r->device, r->name);
    snprintf(e->source, sizeof e->source, "%s", r->source);
    e->value = r->value;
    e->instance = r->instance;
}

static const entry_t *s_find(const collect_t *c, const char *device, const char *name)
{
    char key[160];
    snprintf(key, sizeof key, "%s/%s", device, name);
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0)
            return &c->e[i];
    return NULL;
}

static uint64_t s_value(const collect_t *c, const char *device, const char *name)
{
    const entry_t *e = s_find(c, device, name);
    if (!e)
        fail_msg("no reading %s/%s", device, name);
    return e->value;
}

static size_t s_count_device(const collect_t *c, const char *device)
{
    size_t k = 0, dl = strlen(device);
    for (size_t i = 0; i < c->n; i++)
        if (strncmp(c->e[i].key, device, dl) == 0 && c->e[i].key[dl] == '/')
            k++;
    return k;
}

static void s_reset(collect_t *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}

/* Loads a fixture into a buffer of exactly its size (no NUL after it). */
static char *s_load(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", FIXTURES_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(sz > 0 ? (size_t)sz : 1);
    assert_non_null(buf);
    *len = fread(buf, 1, (size_t)sz, f);
    fclose(f);
    assert_int_equal(*len, (size_t)sz);
    return buf;
}

/* Copies a C string into an exact-size heap buffer, without its NUL. */
static char *s_exact(const char *s, size_t *len)
{
    *len = strlen(s);
    char *buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    memcpy(buf, s, *len);
    return buf;
}

static int s_parse_fixture(const char *rel, collect_t *c, char *err, size_t errsz)
{
    size_t len;
    char *buf = s_load(rel, &len);
    int problems = netdev_parse(buf, len, s_collect, c, err, errsz);
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
    collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_fixture("linux-2.6.18-rhel5/proc/net/dev", &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 4 * 16);
    /* `eth0:8144002186412 ...`: no space after the colon, values above 2^32 */
    assert_true(s_value(&c, "eth0", "rx_bytes") == 8144002186412ULL);
    assert_true(s_value(&c, "eth0", "rx_packets") == 10129721832ULL);
    assert_int_equal(s_value(&c, "eth0", "multicast"), 4632261);
    assert_true(s_value(&c, "eth0", "tx_bytes") == 14148537267133ULL);
    assert_true(s_value(&c, "eth0", "tx_packets") == 11634529610ULL);
    assert_int_equal(s_value(&c, "eth0", "tx_compressed"), 0);
    assert_int_equal(s_value(&c, "lo", "rx_bytes"), 38547981);
    assert_int_equal(s_value(&c, "lo", "tx_packets"), 5779);
    assert_int_equal(s_count_device(&c, "sit0"), 16);
    assert_string_equal(c.e[0].source, "netdev");
    assert_int_equal(c.e[0].instance, 0);
    s_reset(&c);
}

static void test_415_wide_names(void **state)
{
    (void)state;
    collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_fixture("linux-4.15-pcp/proc/net/dev", &c, err, sizeof err), 0);
    assert_int_equal(c.n, 9 * 16);
    assert_int_equal(s_value(&c, "tun0", "tx_dropped"), 46);
    assert_int_equal(s_value(&c, "tun0", "rx_bytes"), 110717658);
    assert_int_equal(s_value(&c, "tun0", "tx_packets"), 290405);
    assert_int_equal(s_count_device(&c, "virbr0-nic"), 16);
    assert_int_equal(s_count_device(&c, "virbr1-nic"), 16);
    assert_int_equal(s_value(&c, "virbr0-nic", "rx_bytes"), 0);
    assert_true(s_value(&c, "lo", "rx_bytes") == 4493605264ULL);
    assert_true(s_value(&c, "enp0s25", "rx_bytes") == 18690974820ULL);
    assert_int_equal(s_value(&c, "enp0s25", "multicast"), 236404);
    assert_int_equal(s_value(&c, "wlp3s0", "tx_bytes"), 5647080);
    s_reset(&c);
}

static void test_618_and_2616(void **state)
{
    (void)state;
    collect_t c = {0};
    assert_int_equal(s_parse_fixture("linux-6.18-vm-rootns/proc/net/dev", &c, NULL, 0), 0);
    assert_int_equal(c.n, 4 * 16);
    assert_int_equal(s_value(&c, "eth0", "rx_bytes"), 54966867);
    assert_int_equal(s_value(&c, "eth0", "tx_packets"), 865);
    assert_true(s_value(&c, "lo", "rx_bytes") == 37825331958ULL);
    s_reset(&c);

    assert_int_equal(s_parse_fixture("linux-2.6.16-arm-d2000/proc/net/dev", &c, NULL, 0), 0);
    assert_int_equal(c.n, 2 * 16);
    assert_int_equal(s_value(&c, "eth0", "rx_bytes"), 2384650);
    assert_int_equal(s_value(&c, "eth0", "rx_packets"), 11882);
    assert_int_equal(s_value(&c, "eth0", "tx_packets"), 13901);
    s_reset(&c);
}

static void test_no_final_newline(void **state)
{
    (void)state;
    collect_t c = {0};
    size_t len;
    char *buf = s_load("linux-6.18-vm-rootns/proc/net/dev", &len);
    assert_int_equal(buf[len - 1], '\n');
    assert_int_equal(netdev_parse(buf, len - 1, s_collect, &c, NULL, 0), 0);
    assert_int_equal(s_value(&c, "eth0", "tx_compressed"), 0);
    assert_int_equal(s_value(&c, "eth0", "tx_bytes"), 72011);
    free(buf);
    s_reset(&c);
}

/* --- bad input ---------------------------------------------------------- */

static void test_bad_lines(void **state)
{
    (void)state;
    collect_t c = {0};
    char err[256];
    size_t len;
    char *buf = s_exact(HEADER "    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
                               " short: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
                               "  long: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"
                               "   bad: 1 2 3 x4 5 6 7 8 9 10 11 12 13 14 15 16\n"
                               "   big: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 18446744073709551616\n"
                               "nocolon 1 2 3\n"
                               "  eth0: 100 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
                        &len);
    assert_int_equal(netdev_parse(buf, len, s_collect, &c, err, sizeof err), 5);
    assert_string_equal(err, "line 4: \"short\" has 15 values, expected 16");
    assert_int_equal(c.n, 2 * 16);
    assert_int_equal(s_value(&c, "lo", "rx_drop_total"), 4);
    assert_int_equal(s_value(&c, "lo", "rx_frame_total"), 6);
    assert_int_equal(s_value(&c, "lo", "tx_carrier_total"), 15);
    assert_int_equal(s_value(&c, "eth0", "rx_bytes"), 100);
    assert_int_equal(s_value(&c, "eth0", "tx_compressed"), 16);
    assert_int_equal(s_count_device(&c, "short"), 0);
    assert_int_equal(s_count_device(&c, "long"), 0);
    assert_int_equal(s_count_device(&c, "bad"), 0);
    assert_int_equal(s_count_device(&c, "big"), 0);
    free(buf);
    s_reset(&c);

    /* each kind alone, so each message is checked */
    buf = s_exact(HEADER "  long: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", &len);
    assert_int_equal(netdev_parse(buf, len, s_collect, &c, err, sizeof err), 1);
    assert_string_equal(err, "line 3: \"long\" has 17 values, expected 16");
    free(buf);
    buf = s_exact(HEADER "\n   bad: 1 2 3 x4 5 6 7 8 9 10 11 12 13 14 15 16\n", &len);
    assert_int_equal(netdev_parse(buf, len, s_collect, &c, err, sizeof err), 1);
    assert_string_equal(err, "line 4: \"bad\" value 4 \"x4\" is not a decimal u64");
    free(buf);
    assert_int_equal(c.n, 0);
    s_reset(&c);
}

static void test_truncated(void **state)
{
    (void)state;
    collect_t c = {0};
    char err[256];
    size_t len;
    char *full = s_load("linux-4.15-pcp/proc/net/dev", &len);
    /* find "enp0s25:" without relying on a NUL terminator */
    size_t off = 0;
    while (off + 8 <= len && memcmp(full + off, "enp0s25:", 8) != 0)
        off++;
    assert_true(off + 8 <= len);
    size_t cutlen = off + 30; /* in the middle of enp0s25's counters */
    char *buf = malloc(cutlen);
    memcpy(buf, full, cutlen);
    assert_int_equal(netdev_parse(buf, cutlen, s_collect, &c, err, sizeof err), 1);
    assert_non_null(strstr(err, "line 10: \"enp0s25\" has "));
    assert_int_equal(c.n, 7 * 16);
    assert_int_equal(s_value(&c, "tun0", "tx_dropped"), 46);
    assert_int_equal(s_count_device(&c, "enp0s25"), 0);
    free(buf);
    free(full);
    s_reset(&c);
}

static void s_count_only(void *ctx, const reading_t *r)
{
    (void)r;
    (*(size_t *)ctx)++;
}

static void test_every_prefix(void **state)
{
    (void)state;
    static const char *const files[] = {"linux-2.6.18-rhel5/proc/net/dev",
                                        "linux-4.15-pcp/proc/net/dev"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len, seen_max = 0;
        char *full = s_load(files[f], &len);
        for (size_t k = 0; k <= len; k++) {
            char *buf = malloc(k ? k : 1);
            memcpy(buf, full, k);
            size_t seen = 0;
            char err[64];
            int problems = netdev_parse(buf, k, s_count_only, &seen, err, sizeof err);
            assert_true(problems >= 0 && problems <= 1);
            assert_true(seen % 16 == 0);
            assert_true(seen >= seen_max); /* a longer prefix never loses a device */
            seen_max = seen;
            free(buf);
        }
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
