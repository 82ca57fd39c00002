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

/* The reading device/name of the socket with this inode. */
static const entry_t *s_find_inode(const collect_t *c, const char *device, const char *name,
                                   uint64_t inode)
{
    char key[160];
    snprintf(key, sizeof key, "%s/%s", device, name);
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0 && c->e[i].instance == inode)
            return &c->e[i];
    return NULL;
}

static uint64_t s_instance(const collect_t *c, const char *device, const char *name)
{
    const entry_t *e = s_find(c, device, name);
    if (!e)
        fail_msg("no reading %s/%s", device, name);
    return e->instance;
}

static uint64_t s_value_inode(const collect_t *c, const char *device, const char *name,
                              uint64_t inode)
{
    const entry_t *e = s_find_inode(c, device, name, inode);
    if (!e)
        fail_msg("no reading %s/%s for inode %llu", device, name, (unsigned long long)inode);
    return e->value;
}

static size_t s_count_name(const collect_t *c, const char *name)
{
    size_t k = 0, nl = strlen(name);
    for (size_t i = 0; i < c->n; i++) {
        size_t kl = strlen(c->e[i].key);
        k += kl > nl && c->e[i].key[kl - nl - 1] == '/' && strcmp(c->e[i].key + kl - nl, name) == 0;
    }
    return k;
}

static int s_parse_fixture(const char *rel, const char *proto, uint64_t min_drops, collect_t *c,
                           char *err, size_t errsz)
{
    size_t len;
    char *buf = s_load(rel, &len);
    int problems = sockets_parse(buf, len, proto, min_drops, s_collect, c, err, errsz);
    free(buf);
    return problems;
}

static int s_parse_text(const char *text, uint64_t min_drops, collect_t *c, char *err, size_t errsz)
{
    size_t len;
    char *buf = s_exact(text, &len);
    int problems = sockets_parse(buf, len, "udp", min_drops, s_collect, c, err, errsz);
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
    collect_t c = {0};
    char err[256];
    assert_int_equal(
        s_parse_fixture("linux-6.18-netns-drops/proc/net/udp", "udp", 0, &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 2);
    const entry_t *e = s_find(&c, "udp:10.99.0.2:5000", "drops");
    assert_non_null(e);
    assert_int_equal(e->value, 2997);
    assert_int_equal(e->instance, 75983);
    assert_string_equal(e->source, "sock");
    e = s_find(&c, "udp:10.99.0.2:5000", "rx_queue");
    assert_non_null(e);
    assert_int_equal(e->value, 0xF00);
    assert_int_equal(e->value, 3840);
    assert_int_equal(e->instance, 75983);
    s_reset(&c);

    /* min_drops filters whole sockets */
    assert_int_equal(
        s_parse_fixture("linux-6.18-netns-drops/proc/net/udp", "udp", 2997, &c, NULL, 0), 0);
    assert_int_equal(c.n, 2);
    s_reset(&c);
    assert_int_equal(
        s_parse_fixture("linux-6.18-netns-drops/proc/net/udp", "udp", 2998, &c, NULL, 0), 0);
    assert_int_equal(c.n, 0);
    s_reset(&c);

    /* the root namespace has a header and no socket */
    assert_int_equal(s_parse_fixture("linux-6.18-vm-rootns/proc/net/udp", "udp", 0, &c, NULL, 0),
                     0);
    assert_int_equal(c.n, 0);
    s_reset(&c);
}

static void test_618_udp6_drops(void **state)
{
    (void)state;
    collect_t c = {0};
    assert_int_equal(
        s_parse_fixture("linux-6.18-netns-drops/proc/net/udp6", "udp6", 1, &c, NULL, 0), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(s_value(&c, "udp6:[fd99::2]:5000", "drops"), 1997);
    assert_int_equal(s_value(&c, "udp6:[fd99::2]:5000", "rx_queue"), 3840);
    assert_int_equal(s_instance(&c, "udp6:[fd99::2]:5000", "drops"), 75737);
    s_reset(&c);
}

static void test_415_drops_column_zero(void **state)
{
    (void)state;
    collect_t c = {0};
    assert_int_equal(s_parse_fixture("linux-4.15-pcp/proc/net/udp", "udp", 0, &c, NULL, 0), 0);
    assert_int_equal(c.n, 12 * 2);
    assert_int_equal(s_value(&c, "udp:192.168.1.12:48070", "rx_queue"), 0xEF00);
    assert_int_equal(s_value(&c, "udp:0.0.0.0:57936", "rx_queue"), 0x8800);
    assert_int_equal(s_value(&c, "udp:127.0.0.1:323", "drops"), 0);
    /* three sockets on 0.0.0.0:5353 share a device; the inode tells them apart */
    assert_int_equal(s_value_inode(&c, "udp:0.0.0.0:5353", "rx_queue", 55377521), 0x6E40);
    assert_int_equal(s_value_inode(&c, "udp:0.0.0.0:5353", "rx_queue", 20892725), 0x30C0);
    s_reset(&c);
    /* every drops value is 0 */
    assert_int_equal(s_parse_fixture("linux-4.15-pcp/proc/net/udp", "udp", 1, &c, NULL, 0), 0);
    assert_int_equal(c.n, 0);
    s_reset(&c);

    assert_int_equal(s_parse_fixture("linux-4.15-pcp/proc/net/udp6", "udp6", 0, &c, NULL, 0), 0);
    assert_int_equal(c.n, 6 * 2);
    assert_int_equal(s_value(&c, "udp6:[::1]:323", "drops"), 0);
    assert_int_equal(s_value_inode(&c, "udp6:[::]:5353", "rx_queue", 20892726), 0x1FC0);
    s_reset(&c);
}

/* --- 2.6.x: no drops column --------------------------------------------- */

static void test_rhel5_no_drops_column(void **state)
{
    (void)state;
    collect_t c = {0};
    char err[256];
    assert_int_equal(
        s_parse_fixture("linux-2.6.18-rhel5/proc/net/udp", "udp", 0, &c, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 14); /* rx_queue only, one per socket */
    assert_int_equal(s_count_name(&c, "drops"), 0);
    assert_int_equal(s_count_name(&c, "rx_queue"), 14);
    assert_int_equal(s_instance(&c, "udp:127.0.0.1:4500", "rx_queue"), 9299);
    assert_int_equal(s_instance(&c, "udp:172.31.1.148:4500", "rx_queue"), 9297);
    assert_int_equal(s_instance(&c, "udp:10.0.0.1:4500", "rx_queue"), 9295);
    assert_int_equal(s_value(&c, "udp:0.0.0.0:2049", "rx_queue"), 0);
    s_reset(&c);
    /* with a drops threshold nothing can qualify */
    assert_int_equal(s_parse_fixture("linux-2.6.18-rhel5/proc/net/udp", "udp", 1, &c, NULL, 0), 0);
    assert_int_equal(c.n, 0);

    assert_int_equal(s_parse_fixture("linux-2.6.18-rhel5/proc/net/udp6", "udp6", 0, &c, NULL, 0),
                     0);
    assert_int_equal(c.n, 3);
    assert_int_equal(s_instance(&c, "udp6:[::1]:500", "rx_queue"), 9300);
    assert_int_equal(s_instance(&c, "udp6:[::]:36951", "rx_queue"), 10390);
    s_reset(&c);

    assert_int_equal(s_parse_fixture("linux-2.6.16-arm-d2000/proc/net/udp", "udp", 0, &c, NULL, 0),
                     0);
    assert_int_equal(c.n, 1);
    assert_int_equal(s_instance(&c, "udp:0.0.0.0:1023", "rx_queue"), 1141);
    s_reset(&c);
}

/* --- bad input ---------------------------------------------------------- */

static void test_bad_rows(void **state)
{
    (void)state;
    collect_t c = {0};
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
    assert_int_equal(s_value(&c, "udp:10.99.0.2:5000", "drops"), 2997);
    assert_int_equal(s_value(&c, "udp:10.99.0.3:5001", "drops"), 12);
    assert_int_equal(s_value(&c, "udp:10.99.0.3:5001", "rx_queue"), 16);
    s_reset(&c);

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
    s_reset(&c);
}

static void test_truncated(void **state)
{
    (void)state;
    collect_t c = {0};
    char err[256];
    size_t len, off = 0;
    char *full = s_load("linux-4.15-pcp/proc/net/udp", &len);
    while (off + 13 <= len && memcmp(full + off, "00000000:E250", 13) != 0)
        off++;
    assert_true(off + 13 <= len);
    size_t cut = off + 40; /* inside the 0.0.0.0:57936 row, before its inode */
    char *buf = malloc(cut);
    memcpy(buf, full, cut);
    assert_int_equal(sockets_parse(buf, cut, "udp", 0, s_collect, &c, err, sizeof err), 1);
    assert_string_equal(err, "line 9: 5 columns, expected at least 13");
    assert_int_equal(c.n, 7 * 2);
    assert_int_equal(s_value(&c, "udp:192.168.1.12:48070", "rx_queue"), 0xEF00);
    assert_null(s_find(&c, "udp:0.0.0.0:57936", "rx_queue"));
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
    static const char *const files[] = {"linux-4.15-pcp/proc/net/udp",
                                        "linux-6.18-netns-drops/proc/net/udp6",
                                        "linux-2.6.18-rhel5/proc/net/udp"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len, full_n = 0;
        char *full = s_load(files[f], &len);
        assert_int_equal(sockets_parse(full, len, "udp", 0, s_count_only, &full_n, NULL, 0), 0);
        for (size_t k = 0; k <= len; k++) {
            char *buf = malloc(k ? k : 1);
            memcpy(buf, full, k);
            size_t seen = 0;
            char err[64];
            int problems = sockets_parse(buf, k, "udp", 0, s_count_only, &seen, err, sizeof err);
            assert_true(problems >= 0 && problems <= 1);
            assert_true(seen <= full_n);
            free(buf);
        }
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
