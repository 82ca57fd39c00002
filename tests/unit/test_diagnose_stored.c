/* test_diagnose_stored: the diagnosis inputs read from a real store. A
 * host's batches, stored through intake as the ingest thread stores them:
 * eth0 drops (rx_missed_errors) in the batches at T0+3 s and T0+4 s; its
 * line eth0:TxRx-0 is served by cpu3 (irq/eth0:TxRx-0/cpu); cpu3 spends
 * 5% of its time in softirq before the drops and 80-85% during them; cpu0
 * serves another NIC's line. The CPU time must be summed over the drops
 * only (a range-wide share would be far lower), for the dropping NIC's
 * CPUs only, and reach the finding's evidence, limit and remedy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diagnose.h"
#include "intake.h"
#include "store.h"
#include "testlib.h"
#include "ts.h"

#define S TS_NS_PER_S
#define T0 (INT64_C(1795305600) * S)

static const series_def_t s_defs[] = {
    {1, "netdev", "eth0", "rx_missed_errors", KIND_COUNTER, LAYER_NIC, false, ""},
    {2, "irq", "eth0:TxRx-0", "cpu", KIND_SETTING, LAYER_CONFIG, false, ""},
    {3, "irq", "eth1:TxRx-0", "cpu", KIND_SETTING, LAYER_CONFIG, false, ""},
    {4, "cpu", "cpu3", "softirq_ticks", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
    {5, "cpu", "cpu3", "irq_ticks", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
    {6, "cpu", "cpu3", "total_ticks", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
    {7, "cpu", "cpu0", "softirq_ticks", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
    {8, "cpu", "cpu0", "irq_ticks", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
    {9, "cpu", "cpu0", "total_ticks", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
};
#define NDEFS (sizeof s_defs / sizeof s_defs[0])

static store_t *s_st;
static char s_dir[64], s_path[128];

/* One batch at T0 + sec with deltas d (settings: their value). */
static void s_store(uint64_t seq, int sec, const int64_t *d)
{
    static const uint32_t ids[NDEFS] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static uint64_t values[NDEFS];
    int64_t deltas[NDEFS];
    uint32_t flags[NDEFS];
    for (size_t i = 0; i < NDEFS; i++) {
        bool setting = s_defs[i].kind == KIND_SETTING;
        values[i] = setting ? (uint64_t)d[i] : values[i] + (uint64_t)d[i];
        deltas[i] = setting ? 0 : d[i];
        flags[i] = seq == 1 ? SAMPLE_FIRST : 0;
    }
    int64_t ts = T0 + sec * S;
    msg_t m = {.host = "h",
               .boot_id = "boot-1",
               .incarnation = 1,
               .seq = seq,
               .sent_ns = ts,
               .type = MSG_TYPE_BATCH,
               .batch = {.ts_ns = ts,
                         .prev_ts_ns = ts - S,
                         .ndefs = seq == 1 ? NDEFS : 0,
                         .defs = s_defs,
                         .nsamples = NDEFS,
                         .series = ids,
                         .values = values,
                         .deltas = deltas,
                         .flags = flags}};
    char err[256] = "";
    size_t samples;
    assert_int_equal(store_begin(s_st, err, sizeof err), 0);
    if (intake_store(s_st, &m, ts, &samples, err, sizeof err) != STORE_OK)
        fail_msg("storing batch %llu: %s", (unsigned long long)seq, err);
    assert_int_equal(store_commit(s_st, err, sizeof err), 0);
}

static int s_setup(void **state)
{
    (void)state;
    s_st = testlib_store_new("diagnose_stored", s_dir, s_path);
    /* drops, eth0's line's CPU, eth1's, cpu3 soft irq total, cpu0 soft irq total */
    static const int64_t b1[NDEFS] = {0, 3, 0, 0, 0, 0, 0, 0, 0};
    static const int64_t b2[NDEFS] = {0, 3, 0, 5, 0, 100, 99, 0, 100};
    static const int64_t b3[NDEFS] = {300, 3, 0, 80, 0, 100, 99, 0, 100};
    static const int64_t b4[NDEFS] = {200, 3, 0, 80, 5, 100, 99, 0, 100};
    static const int64_t b5[NDEFS] = {0, 3, 0, 0, 0, 100, 99, 0, 100};
    s_store(1, 1, b1);
    s_store(2, 2, b2);
    s_store(3, 3, b3);
    s_store(4, 4, b4);
    s_store(5, 5, b5);
    for (int sec = 6; sec < 20; sec++) { /* quiet after: the range's share would be low */
        static const int64_t idle[NDEFS] = {0, 3, 0, 1, 0, 100, 99, 0, 100};
        s_store((uint64_t)sec, sec, idle);
    }
    char err[256];
    assert_int_equal(store_flush_hosts(s_st, err, sizeof err), 0);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    testlib_store_destroy(&s_st, s_dir);
    return 0;
}

static void test_cpu_over_the_drops(void **state)
{
    (void)state;
    char err[256];
    for (int timing = 0; timing < 2; timing++) { /* the alerts' limit and remedy too */
        diagnosis_t *d = diagnose_stored(s_st, "h", T0, T0 + 100 * S, timing, err, sizeof err);
        if (!d)
            fail_msg("diagnose_stored: %s", err);
        assert_int_equal(d->nfindings, 1);
        const diag_finding_t *f = &d->findings[0];
        assert_int_equal(f->layer, LAYER_NIC);
        assert_int_equal(f->drops, 500);
        /* (80 + 80 + 5) / 200 ticks over the batches of the drops: 83% */
        assert_string_equal(f->evidence.cpu, "cpu3");
        assert_int_equal(f->evidence.cpu_pct, 83);
        assert_non_null(strstr(f->limit, "cpu3, which serves eth0's interrupts (eth0:TxRx-0), "
                                         "spent 83% of its time in softirq and irq"));
        assert_true(strncmp(f->remedy, "cpu3 is saturated by eth0's interrupts", 38) == 0);
        diagnosis_destroy(&d);
    }
    /* A range before the drops: no finding, nothing read */
    diagnosis_t *d = diagnose_stored(s_st, "h", T0, T0 + 2 * S, true, err, sizeof err);
    assert_non_null(d);
    assert_int_equal(d->nfindings, 0);
    diagnosis_destroy(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_over_the_drops),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
