/* test_series: the collector's series registry (collector/series): ids,
 * baselines, resets, disappearance, caps and acknowledgements. series_delta is
 * checked against a naive model of the true event count with wraps and resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"
#include "series.h"
#include "testlib.h"

static uint64_t s_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* An increment of mixed magnitude below `limit`: often 0 or small, sometimes large. */
static uint64_t s_step(uint64_t *x, uint64_t limit)
{
    switch (s_rand(x) % 4) {
    case 0: return 0;
    case 1: return s_rand(x) % 100;
    case 2: return s_rand(x) % (limit / 1024);
    default: return s_rand(x) % limit;
    }
}

/* --- (a) series_delta against a model of the true count ------------------- */

/* Runs `steps` reads of a counter kept in `width` bits, with random
 * increments below `maxstep` and random restarts; returns the wraps seen. */
static int s_delta_run(uint64_t seed, unsigned width, uint64_t start, uint64_t maxstep, int steps)
{
    const uint64_t mask = width == 32 ? 0xFFFFFFFFu : UINT64_MAX;
    /* both sums are modulo 2^64: a start above 2^63 makes them wrap */
    uint64_t x = seed, value = start & mask, events = 0, sum = 0;
    int wraps = 0, resets = 0;
    for (int i = 0; i < steps; i++) {
        uint64_t prev = value;
        bool reset = prev > 0 && s_rand(&x) % 50 == 0;
        if (reset) {
            /* the counter restarts at 0 and counts `value` events before the
             * next read; only a restart that ends below prev is observable */
            value = s_rand(&x) % prev;
            /* a 32-bit restart from the top quarter to the bottom quarter is
             * indistinguishable from a wrap (see test_delta_edges): not here */
            if (width == 32 && prev >= 0xC0000000u && value < 0x40000000u)
                value = 0x40000000u + s_rand(&x) % (prev - 0x40000000u);
            events += value;
            resets++;
        } else {
            uint64_t inc = s_step(&x, maxstep);
            value = (prev + inc) & mask;
            wraps += value < prev;
            events += inc;
        }
        uint32_t flags = 0;
        int64_t d = series_delta(prev, value, width, &flags);
        if (d < 0)
            fail_msg("step %d: delta %lld < 0 (prev %llu, cur %llu)", i, (long long)d,
                     (unsigned long long)prev, (unsigned long long)value);
        if (reset) {
            if (flags != SAMPLE_RESET || d != (int64_t)value)
                fail_msg("step %d: restart %llu -> %llu gave delta %lld flags %u", i,
                         (unsigned long long)prev, (unsigned long long)value, (long long)d, flags);
        } else if (flags != 0) {
            fail_msg("step %d: %llu -> %llu flagged %u", i, (unsigned long long)prev,
                     (unsigned long long)value, flags);
        }
        sum += (uint64_t)d;
        if (sum != events)
            fail_msg("step %d: sum of deltas %llu, true events %llu", i, (unsigned long long)sum,
                     (unsigned long long)events);
    }
    assert_true(resets > steps / 100);
    return wraps;
}

static void test_delta_reference_64(void **state)
{
    (void)state;
    static const uint64_t starts[] = {0, 1000, UINT64_C(1) << 40, (UINT64_C(1) << 63) + 5};
    for (uint64_t seed = 1; seed <= 8; seed++)
        s_delta_run(seed * 0x9E3779B97F4A7C15ULL, 64, starts[seed % 4], UINT64_C(1) << 40, 5000);
}

static void test_delta_reference_32(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        int wraps = s_delta_run(seed * 0xD1B54A32D192ED03ULL, 32, 0xFFFFFF00u - seed * 7,
                                UINT64_C(1) << 30, 5000);
        assert_true(wraps >= 20);
    }
}

static void test_delta_edges(void **state)
{
    (void)state;
    uint32_t f = 0;
    assert_int_equal(series_delta(5, 5, 64, &f), 0);
    assert_int_equal(series_delta(0, 1ULL << 40, 64, &f), 1LL << 40);
    assert_int_equal(series_delta(0xFFFFFFFFu, 0, 32, &f), 1);
    assert_int_equal(series_delta(0xFFFFFFF0u, 0x10, 32, &f), 0x20);
    assert_int_equal(series_delta(0xC0000000u, 0x3FFFFFFFu, 32, &f), 0x7FFFFFFF);
    assert_int_equal(f, 0);
    /* outside the quarters, or at 64 bits, a decrease is a restart */
    assert_int_equal(series_delta(0xBFFFFFFFu, 0, 32, &f), 0);
    assert_int_equal(f, SAMPLE_RESET);
    f = 0;
    assert_int_equal(series_delta(0xFFFFFFFFu, 0x40000000u, 32, &f), 0x40000000);
    assert_int_equal(f, SAMPLE_RESET);
    f = 0;
    assert_int_equal(series_delta(0xFFFFFFFFu, 3, 64, &f), 3);
    assert_int_equal(f, SAMPLE_RESET);
    f = SAMPLE_FIRST; /* flags are or'ed in, never cleared */
    assert_int_equal(series_delta(UINT64_MAX, 7, 64, &f), 7);
    assert_int_equal(f, SAMPLE_FIRST | SAMPLE_RESET);
    /* the known blind spot: a 32-bit restart from the top quarter that ends
     * in the bottom quarter reads as a wrap */
    f = 0;
    assert_int_equal(series_delta(0xF0000000u, 5, 32, &f), 0x10000005);
    assert_int_equal(f, 0);
}

/* --- (b) the registry ------------------------------------------------------ */

typedef struct {
    const char *source, *device, *name;
    series_entry_t e;
    int hits;
} find_t;

static void s_find_cb(void *ctx, series_entry_t *e)
{
    find_t *f = ctx;
    if (strcmp(e->source, f->source) == 0 && strcmp(e->device, f->device) == 0 &&
        strcmp(e->name, f->name) == 0) {
        f->e = *e;
        f->hits++;
    }
}

static series_entry_t s_get(series_t *s, const char *source, const char *device, const char *name)
{
    find_t f = {source, device, name, {0}, 0};
    series_each(s, s_find_cb, &f);
    if (f.hits != 1)
        fail_msg("%s/%s/%s found %d times", source, device, name, f.hits);
    return f.e;
}

static void s_obs(series_t *s, const char *source, const char *device, const char *name,
                  uint64_t value, uint64_t instance)
{
    reading_t r = {source, device, name, value, instance};
    assert_int_equal(series_observe(s, &r), 0);
}

/* Each registry test gets a fresh registry, freed even when it fails. */
static int s_setup(void **state)
{
    *state = series_new(1000);
    return *state ? 0 : -1;
}

static int s_teardown(void **state)
{
    series_t *s = *state;
    series_destroy(&s);
    return 0;
}

/* Asserts the last snapshot's delta, flags, changed and present of a series. */
static void s_expect(series_t *s, const char *source, const char *device, const char *name,
                     uint64_t value, int64_t delta, uint32_t flags, bool changed, bool present)
{
    series_entry_t e = s_get(s, source, device, name);
    if (e.value != value || e.delta != delta || e.flags != flags || e.changed != changed ||
        e.present != present)
        fail_msg("%s/%s/%s: value %llu delta %lld flags %u changed %d present %d; want "
                 "%llu %lld %u %d %d",
                 source, device, name, (unsigned long long)e.value, (long long)e.delta, e.flags,
                 e.changed, e.present, (unsigned long long)value, (long long)delta, flags, changed,
                 present);
}

/* One snapshot of the standard host (boot `boot`), every value plus `k`. */
static void s_snapshot(series_t *s, const char *boot, uint64_t k)
{
    series_begin(s, boot);
    s_obs(s, "netdev", "eth0", "rx_bytes", 1000 + k, 0);
    s_obs(s, "netdev", "eth0", "rx_missed_errors", 5 + k, 0);
    s_obs(s, "snmp", "", "Udp.RcvbufErrors", 7 + k, 0);
    s_obs(s, "softnet", "cpu0", "dropped", 3 + k, 0);
    s_obs(s, "softnet", "cpu0", "backlog_len", 2 + k, 0);
    s_obs(s, "sysctl", "", "net.core.netdev_max_backlog", 1000 + k, 0);
    s_obs(s, "sock", "udp:0.0.0.0:53", "drops", 4 + k, 111);
    series_source_ok(s, SOURCE_NETDEV);
    series_source_ok(s, SOURCE_SNMP);
    series_source_ok(s, SOURCE_SOFTNET);
    series_source_ok(s, SOURCE_SYSCTL);
    series_source_ok(s, SOURCE_SOCK);
    series_end(s);
}

static void test_registry_first_snapshot(void **state)
{
    series_t *s = *state;
    s_snapshot(s, "boot-a", 0);
    assert_int_equal(series_count(s), 7);
    s_expect(s, "netdev", "eth0", "rx_bytes", 1000, 0, SAMPLE_FIRST, true, true);
    s_expect(s, "netdev", "eth0", "rx_missed_errors", 5, 0, SAMPLE_FIRST, true, true);
    s_expect(s, "snmp", "", "Udp.RcvbufErrors", 7, 0, SAMPLE_FIRST, true, true);
    s_expect(s, "softnet", "cpu0", "dropped", 3, 0, SAMPLE_FIRST, true, true);
    s_expect(s, "softnet", "cpu0", "backlog_len", 2, 0, SAMPLE_FIRST, true, true);
    s_expect(s, "sysctl", "", "net.core.netdev_max_backlog", 1000, 0, SAMPLE_FIRST, true, true);
    s_expect(s, "sock", "udp:0.0.0.0:53", "drops", 4, 0, SAMPLE_FIRST, true, true);
    series_entry_t e = s_get(s, "softnet", "cpu0", "dropped");
    assert_int_equal(e.id, 4);
    assert_int_equal(e.cls.layer, LAYER_BACKLOG);
    assert_int_equal(e.cls.width, 32);
    assert_false(e.def_acked);
    assert_int_equal(s_get(s, "sock", "udp:0.0.0.0:53", "drops").id, 7);

    /* every counter +10: plain deltas; the gauge and setting move too */
    s_snapshot(s, "boot-a", 10);
    s_expect(s, "netdev", "eth0", "rx_bytes", 1010, 10, 0, true, true);
    s_expect(s, "snmp", "", "Udp.RcvbufErrors", 17, 10, 0, true, true);
    s_expect(s, "softnet", "cpu0", "backlog_len", 12, 10, 0, true, true);
    s_expect(s, "sock", "udp:0.0.0.0:53", "drops", 14, 10, 0, true, true);
    /* unchanged: delta 0, not changed */
    s_snapshot(s, "boot-a", 10);
    s_expect(s, "netdev", "eth0", "rx_missed_errors", 15, 0, 0, false, true);
    s_expect(s, "sysctl", "", "net.core.netdev_max_backlog", 1010, 0, 0, false, true);
    assert_int_equal(series_count(s), 7);
}

static void test_registry_born_later(void **state)
{
    series_t *s = *state;
    s_snapshot(s, "boot-a", 0);
    series_begin(s, "boot-a");
    s_obs(s, "netdev", "eth1", "rx_bytes", 700, 0);
    s_obs(s, "ethtool", "eth1", "rx_discards_phy", 12, 0);
    s_obs(s, "sock", "udp:0.0.0.0:514", "drops", 9, 222);
    s_obs(s, "softnet", "cpu1", "dropped", 50, 0);
    s_obs(s, "snmp", "", "Udp.NoPorts", 40, 0);
    s_obs(s, "netstat", "", "TcpExt.ListenDrops", 8, 0);
    s_obs(s, "softnet", "cpu1", "backlog_len", 6, 0);
    series_end(s);
    /* a new device or socket counts from zero: its value is all new */
    s_expect(s, "netdev", "eth1", "rx_bytes", 700, 700, 0, true, true);
    s_expect(s, "ethtool", "eth1", "rx_discards_phy", 12, 12, 0, true, true);
    s_expect(s, "sock", "udp:0.0.0.0:514", "drops", 9, 9, 0, true, true);
    /* a CPU row or a MIB counter carries history: a baseline */
    s_expect(s, "softnet", "cpu1", "dropped", 50, 0, SAMPLE_FIRST, true, true);
    s_expect(s, "snmp", "", "Udp.NoPorts", 40, 0, SAMPLE_FIRST, true, true);
    s_expect(s, "netstat", "", "TcpExt.ListenDrops", 8, 0, SAMPLE_FIRST, true, true);
    s_expect(s, "softnet", "cpu1", "backlog_len", 6, 0, SAMPLE_FIRST, true, true);
    assert_int_equal(s_get(s, "netdev", "eth1", "rx_bytes").id, 8);
    assert_int_equal(s_get(s, "softnet", "cpu1", "backlog_len").id, 14);
}

/* Onload's stacks and sockets count from zero, but only once the source was
 * read whole: a first run that failed (a hung onload_stackdump) leaves the
 * stacks' history unknown, and the next run's values are a baseline. */
static void test_registry_onload_born(void **state)
{
    series_t *s = *state;
    s_snapshot(s, "boot-a", 0); /* gen 1: the onload tool hung, nothing of it */
    series_begin(s, "boot-a");  /* gen 2: the first whole read */
    s_obs(s, "onload", "md", "memory_pressure_drops", 91234, 2);
    s_obs(s, "onload", "md:udp:239.1.1.1:31001", "oflow_drop", 48211, (UINT64_C(2) << 32) | 4);
    series_source_ok(s, SOURCE_ONLOAD);
    series_end(s);
    s_expect(s, "onload", "md", "memory_pressure_drops", 91234, 0, SAMPLE_FIRST, true, true);
    s_expect(s, "onload", "md:udp:239.1.1.1:31001", "oflow_drop", 48211, 0, SAMPLE_FIRST, true,
             true);
    series_begin(s, "boot-a"); /* gen 3: a socket drops for the first time, a new stack */
    s_obs(s, "onload", "md", "memory_pressure_drops", 91240, 2);
    s_obs(s, "onload", "md:udp:239.1.1.1:31001", "oflow_drop", 48211, (UINT64_C(2) << 32) | 4);
    s_obs(s, "onload", "md:udp:239.1.1.2:31002", "oflow_drop", 17, (UINT64_C(2) << 32) | 6);
    s_obs(s, "onload", "feed", "memory_pressure_drops", 5, 4);
    series_source_ok(s, SOURCE_ONLOAD);
    series_end(s);
    s_expect(s, "onload", "md", "memory_pressure_drops", 91240, 6, 0, true, true);
    s_expect(s, "onload", "md:udp:239.1.1.2:31002", "oflow_drop", 17, 17, 0, true, true);
    s_expect(s, "onload", "feed", "memory_pressure_drops", 5, 5, 0, true, true);
    series_begin(s, "boot-a"); /* gen 4: between runs, nothing read: values kept */
    series_end(s);
    s_expect(s, "onload", "md", "memory_pressure_drops", 91240, 0, 0, false, true);
    series_begin(s, "boot-a"); /* gen 5: stack md re-created under its name */
    s_obs(s, "onload", "md", "memory_pressure_drops", 3, 9);
    series_source_ok(s, SOURCE_ONLOAD);
    series_end(s);
    s_expect(s, "onload", "md", "memory_pressure_drops", 3, 3, SAMPLE_RESET, true, true);
    s_expect(s, "onload", "feed", "memory_pressure_drops", 5, 0, 0, false, false);
}

static void test_registry_sock_instance(void **state)
{
    series_t *s = *state;
    static const struct {
        uint64_t value, inode;
        int64_t delta;
        uint32_t flags;
    } steps[] = {
        {10, 111, 0, SAMPLE_FIRST},
        {12, 111, 2, 0},
        {3, 222, 3, SAMPLE_RESET},   /* a new socket on the same address */
        {30, 333, 30, SAMPLE_RESET}, /* new socket, even though the value grew */
        {31, 0, 1, 0},               /* inode unknown: not a restart */
        {35, 333, 4, 0},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        series_begin(s, "boot-a");
        s_obs(s, "sock", "udp:0.0.0.0:53", "drops", steps[i].value, steps[i].inode);
        series_source_ok(s, SOURCE_SOCK);
        series_end(s);
        s_expect(s, "sock", "udp:0.0.0.0:53", "drops", steps[i].value, steps[i].delta,
                 steps[i].flags, true, true);
    }
}

static void test_registry_boot_change(void **state)
{
    series_t *s = *state;
    s_snapshot(s, "boot-a", 100);
    s_snapshot(s, "boot-b", 200); /* all values higher, but a new boot */
    s_expect(s, "netdev", "eth0", "rx_bytes", 1200, 1200, SAMPLE_RESET, true, true);
    s_expect(s, "snmp", "", "Udp.RcvbufErrors", 207, 207, SAMPLE_RESET, true, true);
    s_expect(s, "softnet", "cpu0", "dropped", 203, 203, SAMPLE_RESET, true, true);
    s_expect(s, "sock", "udp:0.0.0.0:53", "drops", 204, 204, SAMPLE_RESET, true, true);
    /* a gauge or a setting is not reset, it moves */
    s_expect(s, "softnet", "cpu0", "backlog_len", 202, 100, 0, true, true);
    s_expect(s, "sysctl", "", "net.core.netdev_max_backlog", 1200, 100, 0, true, true);
    s_snapshot(s, "boot-b", 201);
    s_expect(s, "netdev", "eth0", "rx_bytes", 1201, 1, 0, true, true);
    s_expect(s, "sock", "udp:0.0.0.0:53", "drops", 205, 1, 0, true, true);
}

/* series_source_ok(netdev) without eth1: gone. When it comes back, it
 * counts from zero (netdev) or is a new baseline (softnet). */
static void test_registry_vanish_and_return(void **state)
{
    series_t *s = *state;
    static const uint64_t back[] = {40, 250};
    for (size_t i = 0; i < 2; i++) {
        series_begin(s, "boot-a");
        s_obs(s, "netdev", "eth1", "rx_bytes", 100, 0);
        s_obs(s, "softnet", "cpu3", "dropped", 100, 0);
        series_end(s);
        series_begin(s, "boot-a");
        for (int k = 0; k < 20; k++) /* declared once per device: must not crowd out softnet */
            series_source_ok(s, SOURCE_NETDEV);
        series_source_ok(s, SOURCE_SOFTNET);
        series_end(s);
        s_expect(s, "netdev", "eth1", "rx_bytes", 100, 0, 0, false, false);
        s_expect(s, "softnet", "cpu3", "dropped", 100, 0, 0, false, false);
        series_begin(s, "boot-a");
        s_obs(s, "netdev", "eth1", "rx_bytes", back[i], 0);
        s_obs(s, "softnet", "cpu3", "dropped", back[i], 0);
        series_end(s);
        s_expect(s, "netdev", "eth1", "rx_bytes", back[i], (int64_t)back[i], SAMPLE_RESET, true,
                 true);
        s_expect(s, "softnet", "cpu3", "dropped", back[i], 0, SAMPLE_FIRST, true, true);
    }
    assert_int_equal(series_count(s), 2);
}

/* A source that failed (no series_source_ok) hides nothing: its series stay
 * present and the next read gives the plain difference, not a reset. */
static void test_registry_transient_failure(void **state)
{
    series_t *s = *state;
    s_snapshot(s, "boot-a", 0);
    series_begin(s, "boot-a");
    series_source_ok(s, SOURCE_SNMP);
    s_obs(s, "snmp", "", "Udp.RcvbufErrors", 9, 0);
    series_end(s);
    s_expect(s, "netdev", "eth0", "rx_bytes", 1000, 0, 0, false, true);
    s_expect(s, "sock", "udp:0.0.0.0:53", "drops", 4, 0, 0, false, true);
    s_snapshot(s, "boot-a", 30);
    s_expect(s, "netdev", "eth0", "rx_bytes", 1030, 30, 0, true, true);
    s_expect(s, "softnet", "cpu0", "dropped", 33, 30, 0, true, true);
    s_expect(s, "sock", "udp:0.0.0.0:53", "drops", 34, 30, 0, true, true);
    s_expect(s, "snmp", "", "Udp.RcvbufErrors", 37, 28, 0, true, true);
}

/* eth1 is removed (netdev read cleanly), then a netdev read fails while it
 * is still gone, then eth1 is created again: it counts from zero. */
static void test_registry_return_after_failed_read(void **state)
{
    series_t *s = *state;
    static const uint64_t values[] = {100, 150};
    for (size_t i = 0; i < 2; i++) {
        series_begin(s, "boot-a");
        s_obs(s, "netdev", "eth1", "rx_bytes", values[i], 0);
        series_source_ok(s, SOURCE_NETDEV);
        series_end(s);
    }
    series_begin(s, "boot-a"); /* removed */
    series_source_ok(s, SOURCE_NETDEV);
    series_end(s);
    s_expect(s, "netdev", "eth1", "rx_bytes", 150, 0, 0, false, false);
    series_begin(s, "boot-a"); /* netdev read failed */
    series_end(s);
    s_expect(s, "netdev", "eth1", "rx_bytes", 150, 0, 0, false, false);
    series_begin(s, "boot-a"); /* created again, has received 200 bytes */
    s_obs(s, "netdev", "eth1", "rx_bytes", 200, 0);
    series_source_ok(s, SOURCE_NETDEV);
    series_end(s);
    s_expect(s, "netdev", "eth1", "rx_bytes", 200, 200, SAMPLE_RESET, true, true);
}

static void test_registry_gauges_and_settings(void **state)
{
    series_t *s = *state;
    static const struct {
        uint64_t qlen, ring;
        int64_t dq, dr;
    } steps[] = {{5, 4096, 0, 0},
                 {3, 4096, -2, 0},
                 {3, 1024, 0, -3072},
                 {10, 1024, 7, 0},
                 {0, 8192, -10, 7168}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        series_begin(s, "boot-a");
        s_obs(s, "softnet", "cpu0", "backlog_len", steps[i].qlen, 0);
        s_obs(s, "ring", "eth0", "rx", steps[i].ring, 0);
        series_end(s);
        uint32_t f = i == 0 ? SAMPLE_FIRST : 0;
        s_expect(s, "softnet", "cpu0", "backlog_len", steps[i].qlen, steps[i].dq, f,
                 i == 0 || steps[i].dq != 0, true);
        s_expect(s, "ring", "eth0", "rx", steps[i].ring, steps[i].dr, f, i == 0 || steps[i].dr != 0,
                 true);
    }
    assert_int_equal(s_get(s, "ring", "eth0", "rx").cls.kind, KIND_SETTING);
    assert_int_equal(s_get(s, "softnet", "cpu0", "backlog_len").cls.kind, KIND_GAUGE);
}

typedef struct {
    uint32_t ids[400];
    size_t n;
} ids_t;

static void s_ids_cb(void *ctx, series_entry_t *e)
{
    ids_t *c = ctx;
    assert_true(c->n < 400);
    c->ids[c->n++] = e->id;
}

/* ids are 1..n in order of first sight, whatever the order of later reads. */
static void test_registry_ids_dense(void **state)
{
    series_t *s = *state;
    uint64_t x = 7;
    char dev[32];
    for (int snap = 0; snap < 6; snap++) {
        series_begin(s, "boot-a");
        for (int k = 0; k < 60; k++) {
            int d = (int)(s_rand(&x) % (unsigned)(50 * (snap + 1)));
            snprintf(dev, sizeof dev, "veth%d", d);
            size_t before = series_count(s);
            s_obs(s, "netdev", dev, "rx_bytes", (uint64_t)snap, 0);
            series_entry_t e = s_get(s, "netdev", dev, "rx_bytes");
            if (series_count(s) > before)
                assert_int_equal(e.id, series_count(s)); /* new: the next id */
            else
                assert_true(e.id >= 1 && e.id <= before);
        }
        series_end(s);
    }
    ids_t c = {.n = 0};
    series_each(s, s_ids_cb, &c);
    assert_int_equal(c.n, series_count(s));
    for (size_t i = 0; i < c.n; i++)
        assert_int_equal(c.ids[i], i + 1);
    assert_true(series_count(s) > 100);
}

static void test_registry_cap(void **state)
{
    (void)state;
    char log[64];
    snprintf(log, sizeof log, "/tmp/test_series_cap.%d.log", (int)getpid());
    series_t *s = series_new(3);
    series_begin(s, "boot-a");
    testlib_capture_stderr(log);
    const char *devs[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) {
        reading_t r = {"netdev", devs[i], "rx_bytes", 1, 0};
        assert_int_equal(series_observe(s, &r), i < 3 ? 0 : -1);
    }
    reading_t again = {"netdev", "e", "rx_bytes", 2, 0};
    assert_int_equal(series_observe(s, &again), -1);
    testlib_restore_stderr();
    series_end(s);
    assert_int_equal(series_count(s), 3);
    assert_int_equal(series_overflowed(s), 3);
    assert_int_equal(testlib_count_lines(log, "more than 3 series"), 1);
    remove(log);
    /* known series still update */
    series_begin(s, "boot-a");
    s_obs(s, "netdev", "c", "rx_bytes", 9, 0);
    series_end(s);
    s_expect(s, "netdev", "c", "rx_bytes", 9, 8, 0, true, true);
    series_destroy(&s);
    assert_null(s);
    series_destroy(&s);
    series_destroy(NULL);
}

static void s_set_def_seq(void *ctx, series_entry_t *e)
{
    (void)ctx;
    static const uint64_t seqs[] = {5, 5, 7, 0};
    e->def_seq = seqs[(e->id - 1) % 4];
}

static void s_acked(series_t *s, bool a, bool b, bool c, bool d)
{
    const bool want[] = {a, b, c, d};
    const char *names[] = {"rx_bytes", "rx_missed_errors", "rx_dropped", "rx_packets"};
    for (int i = 0; i < 4; i++) {
        series_entry_t e = s_get(s, "netdev", "eth0", names[i]);
        if (e.def_acked != want[i])
            fail_msg("%s (def_seq %llu): def_acked %d, want %d", names[i],
                     (unsigned long long)e.def_seq, e.def_acked, want[i]);
    }
}

static void test_registry_def_acks(void **state)
{
    series_t *s = *state;
    series_begin(s, "boot-a");
    s_obs(s, "netdev", "eth0", "rx_bytes", 1, 0);
    s_obs(s, "netdev", "eth0", "rx_missed_errors", 1, 0);
    s_obs(s, "netdev", "eth0", "rx_dropped", 1, 0);
    s_obs(s, "netdev", "eth0", "rx_packets", 1, 0);
    series_end(s);
    s_acked(s, false, false, false, false);
    series_each(s, s_set_def_seq, NULL); /* as the reporter does when it sends them */
    series_ack_defs(s, 4);
    s_acked(s, false, false, false, false);
    series_ack_defs(s, 5);
    s_acked(s, true, true, false, false);
    series_ack_defs(s, 6);
    s_acked(s, true, true, false, false);
    series_ack_defs(s, 7);
    s_acked(s, true, true, true, false);
    series_unack_defs(s);
    s_acked(s, false, false, false, false);
    assert_int_equal(s_get(s, "netdev", "eth0", "rx_dropped").def_seq, 7);
    /* Only the ack of the very batch that last carried a definition counts:
     * a later batch need not have carried it. */
    series_ack_defs(s, UINT64_MAX);
    s_acked(s, false, false, false, false);
    series_ack_defs(s, 7);
    s_acked(s, false, false, true, false);
    series_ack_defs(s, 5);
    s_acked(s, true, true, true, false);
    /* a later snapshot keeps the acknowledgements */
    series_begin(s, "boot-a");
    s_obs(s, "netdev", "eth0", "rx_bytes", 2, 0);
    series_end(s);
    s_acked(s, true, true, true, false);
}

typedef struct {
    series_t *s;
    const char *owner;
} own_t;

static void s_own_cb(void *ctx, series_entry_t *e)
{
    own_t *o = ctx;
    if (strcmp(e->source, "sock") == 0)
        assert_int_equal(series_set_owner(o->s, e, o->owner), 0);
}

static void s_sock(series_t *s, uint64_t value, uint64_t inode)
{
    series_begin(s, "boot-a");
    s_obs(s, "sock", "udp:0.0.0.0:53", "drops", value, inode);
    series_source_ok(s, SOURCE_SOCK);
    series_end(s);
}

/* An owner found is kept for its socket, and a new one (another socket on
 * the address) makes the definition go out again with the sample. */
static void test_registry_sock_owner(void **state)
{
    series_t *s = *state;
    s_sock(s, 10, 111);
    series_entry_t e = s_get(s, "sock", "udp:0.0.0.0:53", "drops");
    assert_null(e.owner);
    assert_int_equal(e.owner_of, 0); /* not looked for yet */
    series_each(s, s_own_cb, &(own_t){s, "42/app"});
    e = s_get(s, "sock", "udp:0.0.0.0:53", "drops");
    assert_string_equal(e.owner, "42/app");
    assert_int_equal(e.owner_of, 111);
    assert_true(e.changed);
    series_each(s, s_set_def_seq, NULL);
    series_ack_defs(s, 5); /* id 1: def_seq 5 */
    s_sock(s, 10, 111);    /* unchanged */
    series_each(s, s_own_cb, &(own_t){s, "42/app"});
    series_each(s, s_own_cb, &(own_t){s, NULL}); /* not found on a later look: kept */
    e = s_get(s, "sock", "udp:0.0.0.0:53", "drops");
    assert_string_equal(e.owner, "42/app");
    assert_false(e.changed);
    assert_true(e.def_acked);
    s_sock(s, 3, 222); /* a new socket on the address: look again */
    e = s_get(s, "sock", "udp:0.0.0.0:53", "drops");
    assert_int_equal(e.owner_of, 111);
    series_each(s, s_own_cb, &(own_t){s, "43/new"});
    e = s_get(s, "sock", "udp:0.0.0.0:53", "drops");
    assert_string_equal(e.owner, "43/new");
    assert_int_equal(e.owner_of, 222);
    assert_true(e.changed);
    assert_false(e.def_acked); /* the new owner goes out with the definition */
}

/* What the aggregator would refuse never leaves the registry: a device
 * that is not a name and a name that is not text are escaped (and the raw
 * reading still finds its series), and a jump beyond 2^48 is sent as a
 * restart, not as a delta; a raw -1 stays a value. */
static void test_registry_wire_rules(void **state)
{
    series_t *s = *state;
    for (uint64_t k = 0; k < 2; k++) {
        series_begin(s, "boot-a");
        s_obs(s, "netdev", "e;x", "rx_\x1b[2J", 10 + k, 0);
        s_obs(s, "snmp", "", "Tcp.MaxConn", UINT64_MAX, 0);
        s_obs(s, "snmp", "", "Udp.RcvbufErrors", k ? 100 + (UINT64_C(1) << 50) : 100, 0);
        s_obs(s, "softnet", "cpu0", "backlog_len", k ? UINT64_C(1) << 60 : 0, 0);
        series_end(s);
    }
    assert_int_equal(series_count(s), 4);
    s_expect(s, "snmp", "", "Tcp.MaxConn", UINT64_MAX, 0, 0, false, true);
    s_expect(s, "netdev", "e%3Bx", "rx_\\x1b[2J", 11, 1, 0, true, true);
    s_expect(s, "snmp", "", "Udp.RcvbufErrors", 100 + (UINT64_C(1) << 50), 0, SAMPLE_RESET, true,
             true);
    s_expect(s, "softnet", "cpu0", "backlog_len", UINT64_C(1) << 60, 0, 0, true, true);
}

typedef struct {
    const char *source[SOURCE_COUNT]; /* by id - 1: the registry's source pointers */
    size_t n;
} sources_seen_t;

static void s_source_cb(void *ctx, series_entry_t *e)
{
    sources_seen_t *seen = ctx;
    seen->source[seen->n++] = e->source;
}

/* A state file's series come back under every source the collector has,
 * each named by the registry's static string (the file's buffer is gone by
 * the first snapshot); a source the collector does not have is refused. */
static void test_registry_restore_sources(void **state)
{
    series_t *s = *state;
    for (int src = SOURCE_UNKNOWN + 1; src < SOURCE_COUNT; src++) {
        char name[16]; /* a copy, as a parsed file gives it */
        snprintf(name, sizeof name, "%s", source_name((source_t)src));
        reading_t r = {name, "dev", "x", 5, 0};
        assert_int_equal(series_restore(s, &r), 0);
        memset(name, 0, sizeof name);
    }
    reading_t stranger = {"stats", "dev", "x", 5, 0};
    assert_int_equal(series_restore(s, &stranger), -1);
    sources_seen_t seen = {{0}, 0};
    series_each(s, s_source_cb, &seen);
    assert_int_equal(seen.n, SOURCE_COUNT - 1);
    for (size_t i = 0; i < seen.n; i++)
        assert_ptr_equal(seen.source[i], source_name((source_t)(i + 1)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delta_reference_64),
        cmocka_unit_test(test_delta_reference_32),
        cmocka_unit_test(test_delta_edges),
        cmocka_unit_test_setup_teardown(test_registry_first_snapshot, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_born_later, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_onload_born, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_sock_instance, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_sock_owner, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_boot_change, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_vanish_and_return, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_transient_failure, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_return_after_failed_read, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_gauges_and_settings, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_ids_dense, s_setup, s_teardown),
        cmocka_unit_test(test_registry_cap),
        cmocka_unit_test_setup_teardown(test_registry_def_acks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_wire_rules, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registry_restore_sources, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
