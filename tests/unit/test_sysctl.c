/* test_sysctl: the settings table, and sysctl_parse on the seed `sysctl`
 * output, on the /proc/sys files of 6.18 (root and child namespace) and
 * 2.6.16, on bad content and on every prefix of a real file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sysctl.h"
#include "testlib.h"

/* Loads FIXTURES_DIR/<dir>/proc/<path> exactly, or returns NULL if absent. */
static char *s_try_load(const char *dir, const char *path, size_t *len)
{
    char rel[512];
    snprintf(rel, sizeof rel, "%s/%s/proc/%s", FIXTURES_DIR, dir, path);
    FILE *f = fopen(rel, "rb");
    if (!f)
        return NULL;
    fclose(f);
    snprintf(rel, sizeof rel, "%s/proc/%s", dir, path);
    return testlib_load(rel, len);
}

/* Parses every table entry present under <dir>/proc; returns how many were. */
static size_t s_parse_dir(const char *dir, testlib_collect_t *c)
{
    size_t found = 0;
    for (size_t i = 0; i < sysctl_defs_count; i++) {
        size_t len;
        char err[256];
        char *buf = s_try_load(dir, sysctl_defs[i].path, &len);
        if (!buf)
            continue;
        found++;
        assert_int_equal(
            sysctl_parse(buf, len, &sysctl_defs[i], testlib_collect, c, err, sizeof err), 0);
        assert_string_equal(err, "");
        free(buf);
    }
    return found;
}

static int s_parse_text(const char *name, const char *text, testlib_collect_t *c, char *err,
                        size_t errsz)
{
    size_t len;
    const sysctl_def_t *def = sysctl_def_find(name);
    assert_non_null(def);
    char *buf = testlib_exact(text, &len);
    int problems = sysctl_parse(buf, len, def, testlib_collect, c, err, errsz);
    free(buf);
    return problems;
}

/* --- the table ---------------------------------------------------------- */

static void test_table(void **state)
{
    (void)state;
    static const char *const want[] = {
        "net.core.netdev_max_backlog",
        "net.core.netdev_budget",
        "net.core.netdev_budget_usecs",
        "net.core.dev_weight",
        "net.core.rmem_default",
        "net.core.rmem_max",
        "net.core.wmem_default",
        "net.core.wmem_max",
        "net.core.somaxconn",
        "net.core.flow_limit_table_len",
        "net.ipv4.udp_mem",
        "net.ipv4.udp_rmem_min",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_mem",
        "net.ipv4.tcp_max_syn_backlog",
        "net.ipv4.tcp_syncookies",
    };
    assert_int_equal(sysctl_defs_count, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(sysctl_def_find(want[i]));
    assert_null(sysctl_def_find("net.core.nonexistent"));
    for (size_t i = 0; i < sysctl_defs_count; i++) {
        const sysctl_def_t *d = &sysctl_defs[i];
        char path[128];
        snprintf(path, sizeof path, "sys/%s", d->name); /* the path is the name, dots as '/' */
        for (char *p = path; *p; p++)
            *p = *p == '.' ? '/' : *p;
        assert_string_equal(d->path, path);
        assert_true(d->nvalues == 1 || d->nvalues == 3);
        for (size_t k = 0; k < d->nvalues && d->nvalues > 1; k++)
            assert_non_null(d->suffix[k]);
    }
    const sysctl_def_t *udp_mem = sysctl_def_find("net.ipv4.udp_mem");
    assert_int_equal(udp_mem->nvalues, 3);
    assert_string_equal(udp_mem->suffix[1], "pressure");
    assert_string_equal(sysctl_def_find("net.ipv4.tcp_rmem")->suffix[1], "default");
}

/* --- real values -------------------------------------------------------- */

static void test_seed_sysctl_output(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    size_t len, pos = 0;
    char *text = testlib_load("seed-lines/sysctl-net-buffers.txt", &len);
    /* `sysctl` prints "name = value"; hand each value to the file parser */
    while (pos < len) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        const char *eq = memchr(line, '=', n);
        assert_non_null(eq);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - line - 1), line);
        const sysctl_def_t *def = sysctl_def_find(name);
        assert_non_null(def);
        size_t off = (size_t)(eq + 2 - line);
        assert_int_equal(sysctl_parse(line + off, n - off, def, testlib_collect, &c, NULL, 0), 0);
    }
    free(text);
    assert_int_equal(c.n, 1 + 1 + 3);
    assert_int_equal(testlib_value(&c, "", "net.core.rmem_max"), 131071);
    assert_int_equal(testlib_value(&c, "", "net.core.netdev_max_backlog"), 1000);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.udp_mem.min"), 1501632);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.udp_mem.pressure"), 2002176);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.udp_mem.max"), 3003264);
    assert_null(testlib_find(&c, "", "net.ipv4.udp_mem"));
    assert_string_equal(c.e[0].source, "sysctl");
    testlib_collect_reset(&c);
}

static void test_618_files(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    assert_int_equal(s_parse_dir("linux-6.18-vm-rootns", &c), 8);
    assert_int_equal(c.n, 6 + 3 + 3);
    assert_int_equal(testlib_value(&c, "", "net.core.netdev_budget"), 300);
    assert_int_equal(testlib_value(&c, "", "net.core.netdev_budget_usecs"), 8000); /* HZ=250 */
    assert_int_equal(testlib_value(&c, "", "net.core.netdev_max_backlog"), 1000);
    assert_int_equal(testlib_value(&c, "", "net.core.rmem_default"), 212992);
    assert_int_equal(testlib_value(&c, "", "net.core.rmem_max"), 4194304);
    assert_int_equal(testlib_value(&c, "", "net.core.somaxconn"), 4096);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.tcp_rmem.min"), 4096);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.tcp_rmem.default"), 131072);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.tcp_rmem.max"), 33554432);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.udp_mem.min"), 575802);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.udp_mem.pressure"), 767736);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.udp_mem.max"), 1151604);
    testlib_collect_reset(&c);

    /* a child netns: no netdev_budget*, netdev_max_backlog or udp_mem files */
    assert_int_equal(s_parse_dir("linux-6.18-netns-drops", &c), 4);
    assert_int_equal(testlib_value(&c, "", "net.core.rmem_max"), 4194304);
    assert_int_equal(testlib_value(&c, "", "net.core.somaxconn"), 4096);
    assert_null(testlib_find(&c, "", "net.ipv4.udp_mem.min"));
    testlib_collect_reset(&c);
}

static void test_2616_files(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    assert_int_equal(s_parse_dir("linux-2.6.16-arm-d2000", &c), 6);
    assert_int_equal(testlib_value(&c, "", "net.core.netdev_budget"), 300);
    assert_int_equal(testlib_value(&c, "", "net.core.rmem_default"), 103424);
    assert_int_equal(testlib_value(&c, "", "net.core.rmem_max"), 103424);
    assert_int_equal(testlib_value(&c, "", "net.core.somaxconn"), 128);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.tcp_rmem.default"), 43689);
    assert_int_equal(testlib_value(&c, "", "net.ipv4.tcp_rmem.max"), 87378);
    testlib_collect_reset(&c);
}

/* --- bad content -------------------------------------------------------- */

static void test_bad_content(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_parse_text("net.ipv4.udp_mem", "1501632\t2002176\n", &c, err, sizeof err),
                     1);
    assert_string_equal(err, "net.ipv4.udp_mem has 2 values, expected 3");
    assert_int_equal(s_parse_text("net.ipv4.udp_mem", "1\t2\t3\t4\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "net.ipv4.udp_mem has 4 values, expected 3");
    assert_int_equal(s_parse_text("net.ipv4.udp_mem", "1\t2x\t3\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 1: net.ipv4.udp_mem value 2 \"2x\" is not a decimal u64");
    assert_int_equal(s_parse_text("net.core.rmem_max", "", &c, err, sizeof err), 1);
    assert_string_equal(err, "net.core.rmem_max has 0 values, expected 1");
    assert_int_equal(s_parse_text("net.core.rmem_max", "\n-1\n", &c, err, sizeof err), 1);
    assert_string_equal(err, "line 2: net.core.rmem_max value 1 \"-1\" is not a decimal u64");
    assert_int_equal(
        s_parse_text("net.core.rmem_max", "18446744073709551616\n", &c, err, sizeof err), 1);
    assert_int_equal(c.n, 0); /* nothing from a bad file */

    /* no final newline, and the largest u64 */
    assert_int_equal(s_parse_text("net.core.rmem_max", "18446744073709551615", &c, err, sizeof err),
                     0);
    assert_string_equal(err, "");
    assert_true(testlib_value(&c, "", "net.core.rmem_max") == UINT64_MAX);
    testlib_collect_reset(&c);
}

/* One prefix; arg points to the file's sysctl_def_t pointer. */
static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    const sysctl_def_t *def = *(const sysctl_def_t **)arg;
    size_t seen = 0;
    int problems = sysctl_parse(buf, k, def, testlib_count_readings, &seen, NULL, 0);
    assert_true((problems == 0 && seen == 3) || (problems == 1 && seen == 0));
}

static void test_every_prefix(void **state)
{
    (void)state;
    size_t len;
    const sysctl_def_t *def = sysctl_def_find("net.ipv4.udp_mem");
    char *full = testlib_load("linux-6.18-vm-rootns/proc/sys/net/ipv4/udp_mem", &len);
    testlib_every_prefix(full, len, s_check_prefix, &def);
    free(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),       cmocka_unit_test(test_seed_sysctl_output),
        cmocka_unit_test(test_618_files),   cmocka_unit_test(test_2616_files),
        cmocka_unit_test(test_bad_content), cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
