/* Tests collector/snapshot on a copy of a real /proc (kernel 6.18, the
 * namespace with drops) that the test then breaks: a missing column, an
 * extra column, a non-numeric field, a truncated file, a missing file. The
 * collector must keep every value it can trust, log each problem once, and
 * never turn a bad read into a reset or a phantom delta. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"
#include "snapshot.h"
#include "testlib.h"

#define FIX FIXTURES_DIR "/linux-6.18-netns-drops"

typedef struct {
    char dir[64], procfs[128], logpath[128];
    snapshot_t *snap;
    series_t *series;
} fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ds-snap-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->procfs, sizeof f->procfs, "%s/proc", f->dir);
    snprintf(f->logpath, sizeof f->logpath, "%s/stderr.log", f->dir);
    testlib_sh("cp -r %s/proc %s/", FIX, f->dir);
    testlib_capture_stderr(f->logpath);
    snapshot_opts_t opts = {f->procfs, "/nonexistent-sys", FIX "/ethtool", NULL};
    assert_non_null(f->snap = snapshot_new(&opts));
    assert_non_null(f->series = series_new(10000));
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    snapshot_destroy(&f->snap);
    series_destroy(&f->series);
    testlib_restore_stderr();
    testlib_sh("rm -rf %s", f->dir);
    free(f);
    return 0;
}

typedef struct {
    const char *source, *device, *name;
    series_entry_t *found;
} find_t;

static void s_match(void *ctx, series_entry_t *e)
{
    find_t *q = ctx;
    if (strcmp(e->source, q->source) == 0 && strcmp(e->device, q->device) == 0 &&
        strcmp(e->name, q->name) == 0)
        q->found = e;
}

/* The series source/device/name if it is present, else NULL. */
static series_entry_t *s_get(fixture_t *f, const char *source, const char *device,
                             const char *name)
{
    find_t q = {source, device, name, NULL};
    series_each(f->series, s_match, &q);
    return q.found && q.found->present ? q.found : NULL;
}

static uint64_t s_value(fixture_t *f, const char *source, const char *device, const char *name)
{
    series_entry_t *e = s_get(f, source, device, name);
    if (!e)
        fail_msg("series %s/%s/%s missing", source, device, name);
    return e->value;
}

static int s_log_lines(fixture_t *f, const char *needle)
{
    return testlib_count_lines(f->logpath, needle);
}

static void test_clean_fixture(void **state)
{
    fixture_t *f = *state;
    assert_true(snapshot_collect(f->snap, f->series, NULL, 0) > 0);
    assert_string_equal(snapshot_boot_id(f->snap), "1a49c9d9-2ac1-48a7-8b80-153458fd76e7");
    assert_int_equal(s_value(f, "snmp", "", "Udp.RcvbufErrors"), 2997);
    assert_int_equal(s_value(f, "snmp", "", "Udp.NoPorts"), 25);
    assert_int_equal(s_value(f, "netstat", "", "TcpExt.ListenOverflows"), 90);
    assert_int_equal(s_value(f, "snmp6", "", "Udp6.RcvbufErrors"), 1997);
    assert_int_equal(s_value(f, "netdev", "veth1", "rx_packets"), 5133);
    assert_int_equal(s_value(f, "netdev", "veth1", "rx_bytes"), 1259372);
    assert_int_equal(s_value(f, "softnet", "cpu1", "dropped"), 0xa1ac3);
    assert_int_equal(s_value(f, "softnet", "cpu0", "time_squeeze"), 0x10);
    assert_int_equal(s_value(f, "sock", "udp:10.99.0.2:5000", "drops"), 2997);
    assert_int_equal(s_value(f, "sock", "udp6:[fd99::2]:5000", "drops"), 1997);
    assert_int_equal(s_value(f, "sysctl", "", "net.core.somaxconn"), 4096);
    assert_int_equal(s_value(f, "ethtool", "veth1", "peer_ifindex"), 2);
    /* Missing in a child namespace: not reported, no warning. */
    assert_null(s_get(f, "sysctl", "", "net.core.netdev_budget"));
    assert_int_equal(s_log_lines(f, "warn"), 0);
    /* First snapshot: baselines, no deltas. */
    series_entry_t *e = s_get(f, "snmp", "", "Udp.RcvbufErrors");
    assert_int_equal(e->flags, SAMPLE_FIRST);
    assert_int_equal(e->delta, 0);
}

static void test_broken_files(void **state)
{
    fixture_t *f = *state;
    const char *p = f->procfs;
    /* Udp: one value missing; veth1: one column too many; softnet cpu0:
     * a non-numeric field; netstat cut in the middle of its last line;
     * snmp6 gone. */
    testlib_sh("sed -i 's/^Udp: 0 25 2997 0 2997 0 0 0 0$/Udp: 0 25 2997 0 2997 0 0 0/' %s/net/snmp", p);
    testlib_sh("sed -i 's/^\\( veth1:.*\\)$/\\1 7/' %s/net/dev", p);
    testlib_sh("sed -i '1s/^001d7931/zzzzzzzz/' %s/net/softnet_stat", p);
    testlib_sh("truncate -s -40 %s/net/netstat", p);
    testlib_sh("rm %s/net/snmp6", p);
    for (int i = 0; i < 3; i++)
        snapshot_collect(f->snap, f->series, NULL, 0);
    /* What could be trusted is there... */
    assert_int_equal(s_value(f, "snmp", "", "Ip.InReceives"), 3121);
    assert_int_equal(s_value(f, "snmp", "", "Tcp.EstabResets"), 2);
    assert_int_equal(s_value(f, "netdev", "lo", "rx_packets"), 0);
    assert_int_equal(s_value(f, "softnet", "cpu1", "dropped"), 0xa1ac3);
    assert_int_equal(s_value(f, "netstat", "", "TcpExt.ListenOverflows"), 90);
    /* ...and what could not is not. */
    assert_null(s_get(f, "snmp", "", "Udp.RcvbufErrors"));
    assert_null(s_get(f, "netdev", "veth1", "rx_packets"));
    assert_null(s_get(f, "softnet", "cpu0", "dropped"));
    assert_null(s_get(f, "snmp6", "", "Ip6.InReceives"));
    /* Each problem is logged once over three snapshots, naming the file. */
    assert_int_equal(s_log_lines(f, "net/snmp:"), 1);
    assert_int_equal(s_log_lines(f, "net/dev:"), 1);
    assert_int_equal(s_log_lines(f, "net/softnet_stat:"), 1);
    assert_int_equal(s_log_lines(f, "net/netstat:"), 1);
    assert_int_equal(s_log_lines(f, "net/snmp6 does not exist"), 1);
}

static void test_bad_read_is_not_a_reset(void **state)
{
    fixture_t *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/net/snmp", f->procfs);
    snapshot_collect(f->snap, f->series, NULL, 0);
    /* The Udp line breaks for one interval: the series keeps its value. */
    testlib_sh("cp %s %s.good", path, path);
    testlib_sh("sed -i 's/^Udp: 0 25 2997 0 2997 0 0 0 0$/Udp: 0 25 2997 0 2997 0 0 x 0/' %s", path);
    snapshot_collect(f->snap, f->series, NULL, 0);
    series_entry_t *e = s_get(f, "snmp", "", "Udp.RcvbufErrors");
    assert_non_null(e);
    assert_int_equal(e->value, 2997);
    /* Then it is back with 3 more drops: a plain delta, not a reset. */
    testlib_sh("sed 's/^Udp: 0 25 2997 0 2997 0 0 0 0$/Udp: 0 25 3000 0 3000 0 0 0 0/' %s.good > %s",
         path, path);
    snapshot_collect(f->snap, f->series, NULL, 0);
    e = s_get(f, "snmp", "", "Udp.RcvbufErrors");
    assert_int_equal(e->value, 3000);
    assert_int_equal(e->delta, 3);
    assert_int_equal(e->flags, 0);
    /* A socket that closes is gone; one that appears with drops counts them all. */
    snprintf(path, sizeof path, "%s/net/udp", f->procfs);
    testlib_sh("sed -i 's/:1388 /:1389 /; s/75983/75990/; s/ 2997 *$/ 12/' %s", path);
    snapshot_collect(f->snap, f->series, NULL, 0);
    assert_null(s_get(f, "sock", "udp:10.99.0.2:5000", "drops"));
    e = s_get(f, "sock", "udp:10.99.0.2:5001", "drops");
    assert_non_null(e);
    assert_int_equal(e->delta, 12);
}

static void test_sockets_sharing_an_address(void **state)
{
    fixture_t *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/net/udp", f->procfs);
    /* A second socket on 10.99.0.2:5000 (SO_REUSEPORT), inode 75990, 40 drops. */
    testlib_sh("sed -n '2s/75983/75990/; 2s/ 2997 *$/ 40/p' %s >> %s", path, path);
    for (int i = 0; i < 3; i++)
        snapshot_collect(f->snap, f->series, NULL, 0);
    series_entry_t *a = s_get(f, "sock", "udp:10.99.0.2:5000", "drops");
    series_entry_t *b = s_get(f, "sock", "udp:10.99.0.2:5000#75990", "drops");
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->value, 2997);
    assert_int_equal(b->value, 40);
    /* Stable: no flip-flopping between the two, no phantom resets. */
    assert_int_equal(a->delta, 0);
    assert_int_equal(b->delta, 0);
    assert_int_equal(a->flags | b->flags, 0);
    testlib_sh("sed -i '3s/ 40 *$/ 45/' %s", path);
    snapshot_collect(f->snap, f->series, NULL, 0);
    assert_int_equal(a->delta, 0);
    assert_int_equal(b->delta, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_fixture, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_broken_files, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_read_is_not_a_reset, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sockets_sharing_an_address, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
