/* test_source: the series vocabulary. Every source_t round-trips through its
 * name; every source the collector emits is a source_t, and its series carry
 * the one static name (read from two captured kernels, and from this
 * machine's live /proc, netlink, qdiscs and ethtool); and the series names
 * that code looks up (RING_*, SYSCTL_*) are the names the collector emits.
 * The sampler's sources (rate, sampler, reason) come from the agent, which
 * spells them with source_name() and no literal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "snapshot.h"
#include "source.h"
#include "sysctl.h"
#include "testlib.h"
#include "text.h"

static void test_round_trip(void **state)
{
    (void)state;
    for (int i = SOURCE_UNKNOWN + 1; i < SOURCE_COUNT; i++) {
        const char *name = source_name((source_t)i);
        assert_true(text_is_name(name) && name[0]); /* as the wire takes a source */
        assert_int_equal(source_from_name(name), i);
        char copy[32];
        snprintf(copy, sizeof copy, "%s", name);
        assert_int_equal(source_from_name(copy), i); /* by content, not by pointer */
        assert_true(source_is(copy, (source_t)i));
        for (int k = SOURCE_UNKNOWN + 1; k < SOURCE_COUNT; k++)
            assert_true((k == i) == source_is(name, (source_t)k));
        assert_ptr_equal(source_name((source_t)i), name); /* static: one pointer */
    }
    static const char *const strangers[] = {"", "unknown", "NETDEV", "netdev ", "snmp*", "stats"};
    for (size_t i = 0; i < sizeof strangers / sizeof strangers[0]; i++)
        assert_int_equal(source_from_name(strangers[i]), SOURCE_UNKNOWN);
    assert_int_equal(source_from_name(NULL), SOURCE_UNKNOWN);
    assert_false(source_is(NULL, SOURCE_NETDEV));
    assert_false(source_is("unknown", SOURCE_UNKNOWN));
    assert_string_equal(source_name(SOURCE_COUNT), "unknown");
    assert_string_equal(source_name((source_t)-1), "unknown");
}

typedef struct {
    bool seen[SOURCE_COUNT];
    size_t strangers; /* series whose source is not a source_t's static name */
    const char *stranger;
} sources_t;

static void s_note(void *ctx, series_entry_t *e)
{
    sources_t *s = ctx;
    source_t src = source_from_name(e->source);
    if (src == SOURCE_UNKNOWN || e->source != source_name(src)) {
        s->strangers++;
        s->stranger = e->source;
        return;
    }
    s->seen[src] = true;
}

/* One snapshot of procfs (and ethtool dumps, or NULL) into a new registry. */
static void s_collect(const char *procfs, const char *sysfs, const char *ethtool, sources_t *out)
{
    snapshot_opts_t opts = {procfs, sysfs, ethtool, NULL};
    snapshot_t *snap = snapshot_new(&opts);
    series_t *series = series_new(100000);
    assert_non_null(snap);
    assert_non_null(series);
    assert_true(snapshot_collect(snap, series, NULL, 0) > 0);
    series_each(series, s_note, out);
    series_destroy(&series);
    snapshot_destroy(&snap);
    if (out->strangers)
        fail_msg("%zu series of source '%s', not a source_t's name", out->strangers, out->stranger);
}

static void test_fixture_sources(void **state)
{
    (void)state;
    sources_t vm = {{0}, 0, NULL}, netns = {{0}, 0, NULL};
    s_collect(FIXTURES_DIR "/linux-6.18-vm-rootns/proc", "/nonexistent-sys",
              FIXTURES_DIR "/linux-6.18-vm-rootns/ethtool", &vm);
    s_collect(FIXTURES_DIR "/linux-6.18-netns-drops/proc", "/nonexistent-sys",
              FIXTURES_DIR "/linux-6.18-netns-drops/ethtool", &netns);
    static const source_t want[] = {SOURCE_NETDEV,  SOURCE_SNMP,   SOURCE_SNMP6,  SOURCE_NETSTAT,
                                    SOURCE_SOFTNET, SOURCE_SYSCTL, SOURCE_ETHTOOL};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!vm.seen[want[i]] || !netns.seen[want[i]])
            fail_msg("no %s series from a captured kernel", source_name(want[i]));
    assert_true(vm.seen[SOURCE_RING]);    /* the VM's NIC has a ring */
    assert_true(netns.seen[SOURCE_SOCK]); /* the namespace's receivers dropped */
}

/* This machine, read live: netlink for netdev, the qdisc dump, the ethtool
 * ioctl. Which sources show depends on the machine; that each is a
 * source_t does not. */
static void test_live_sources(void **state)
{
    (void)state;
    sources_t live = {{0}, 0, NULL};
    s_collect("/proc", "/sys", NULL, &live);
    assert_true(live.seen[SOURCE_NETDEV] && live.seen[SOURCE_SNMP]);
    printf("live sources:");
    for (int i = SOURCE_UNKNOWN + 1; i < SOURCE_COUNT; i++)
        if (live.seen[i])
            printf(" %s", source_name((source_t)i));
    printf("\n");
}

typedef struct {
    const char *source, *device, *name;
    bool found;
} find_t;

static void s_find(void *ctx, series_entry_t *e)
{
    find_t *f = ctx;
    f->found = f->found || (strcmp(e->source, f->source) == 0 &&
                            strcmp(e->device, f->device) == 0 && strcmp(e->name, f->name) == 0);
}

/* The names code looks series up by are the names the collector emits: a
 * captured VM (its own namespace: every setting there) read as the
 * collector reads it. */
static void test_looked_up_names(void **state)
{
    (void)state;
    snapshot_opts_t opts = {FIXTURES_DIR "/linux-6.18-vm-rootns/proc", "/nonexistent-sys",
                            FIXTURES_DIR "/linux-6.18-vm-rootns/ethtool", NULL};
    snapshot_t *snap = snapshot_new(&opts);
    series_t *series = series_new(100000);
    assert_true(snapshot_collect(snap, series, NULL, 0) > 0);
    static const struct {
        source_t source;
        const char *device, *name;
    } names[] = {
        {SOURCE_RING, "eth0", RING_RX},
        {SOURCE_RING, "eth0", RING_RX_MAX},
        {SOURCE_RING, "eth0", RING_TX},
        {SOURCE_RING, "eth0", RING_TX_MAX},
        {SOURCE_SYSCTL, "", SYSCTL_NETDEV_MAX_BACKLOG},
        {SOURCE_SYSCTL, "", SYSCTL_NETDEV_BUDGET},
        {SOURCE_SYSCTL, "", SYSCTL_NETDEV_BUDGET_USECS},
        {SOURCE_SYSCTL, "", SYSCTL_RMEM_DEFAULT},
        {SOURCE_SYSCTL, "", SYSCTL_RMEM_MAX},
        {SOURCE_SYSCTL, "", SYSCTL_SOMAXCONN},
        {SOURCE_SYSCTL, "", SYSCTL_TCP_RMEM_MAX},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        find_t f = {source_name(names[i].source), names[i].device, names[i].name, false};
        series_each(series, s_find, &f);
        if (!f.found)
            fail_msg("no series %s/%s/%s", f.source, f.device, f.name);
    }
    /* A missing file is not a missing name: the table has each setting. */
    const sysctl_def_t *rmem = sysctl_def_find(SYSCTL_TCP_RMEM);
    assert_non_null(rmem);
    assert_int_equal(rmem->nvalues, 3);
    const char *tcp_rmem_max = SYSCTL_TCP_RMEM_MAX; /* "net.ipv4.tcp_rmem" "." suffix */
    assert_string_equal(tcp_rmem_max + strlen(SYSCTL_TCP_RMEM) + 1, rmem->suffix[2]);
    assert_non_null(sysctl_def_find(SYSCTL_NETDEV_BUDGET_USECS));
    series_destroy(&series);
    snapshot_destroy(&snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_fixture_sources),
        cmocka_unit_test(test_live_sources),
        cmocka_unit_test(test_looked_up_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
