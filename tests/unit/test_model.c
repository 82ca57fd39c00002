/* Tests fleetsim/model: the rates it promises are the rates it produces.
 * Over 2,000 intervals, each traffic counter's mean increase per second is
 * its class's rate (packets 20,000/s, bytes 20 MB/s) within 3% (the
 * increases are uniform on [rate/2, 3 rate/2]: the mean of 2,000 is within
 * 1% at 3 sigma), at 1 s and at 100 ms intervals; socket drops come at
 * their odds (1 interval in 50, 1 to 500 each: 5/s on average); settings
 * never move; the first step reads every series; a seed replays exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "source.h"

#define STEPS 2000
#define S INT64_C(1000000000)

typedef struct {
    const char *source, *device, *name;
    uint64_t first, last; /* values at the first and the last step */
    size_t moves;         /* steps after the first that read it */
} watch_t;

/* Steps a model of seed STEPS times at interval_ns, following the series in w. */
static void s_run(uint64_t seed, int64_t interval_ns, watch_t *w, size_t nw)
{
    model_t *m = model_new(seed);
    assert_non_null(m);
    size_t n = model_series();
    reading_t *r = calloc(n, sizeof *r);
    assert_non_null(r);
    for (int step = 0; step < STEPS; step++) {
        const burst_msg_t *burst;
        size_t k = model_step(m, step * interval_ns, interval_ns, r, &burst);
        if (step == 0)
            assert_int_equal(k, n); /* every series, the first time */
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < nw; j++)
                if (strcmp(r[i].source, w[j].source) == 0 && strcmp(r[i].device, w[j].device) == 0 &&
                    strcmp(r[i].name, w[j].name) == 0) {
                    if (step == 0)
                        w[j].first = r[i].value;
                    else
                        w[j].moves++;
                    w[j].last = r[i].value;
                }
    }
    free(r);
    model_destroy(&m);
}

static void s_assert_rate(const watch_t *w, int64_t interval_ns, double want_per_s)
{
    double per_s = (double)(w->last - w->first) / ((double)(STEPS - 1) * interval_ns / S);
    if (per_s < want_per_s * 0.97 || per_s > want_per_s * 1.03)
        fail_msg("%s/%s/%s: %.0f/s, the model says %.0f/s", w->source, w->device, w->name, per_s,
                 want_per_s);
}

static void s_rates(int64_t interval_ns)
{
    watch_t w[] = {{source_name(SOURCE_NETDEV), "eth0", "rx_packets", 0, 0, 0},
                   {source_name(SOURCE_NETDEV), "eth1", "tx_bytes", 0, 0, 0},
                   {source_name(SOURCE_SNMP), "", "Ip.InReceives", 0, 0, 0},
                   {source_name(SOURCE_SOFTNET), "cpu3", "processed", 0, 0, 0},
                   {source_name(SOURCE_SNMP), "", "Udp.RcvbufErrors", 0, 0, 0},
                   {source_name(SOURCE_SYSCTL), "", SYSCTL_RMEM_MAX, 0, 0, 0},
                   {source_name(SOURCE_RING), "eth1", RING_RX, 0, 0, 0}};
    s_run(7, interval_ns, w, sizeof w / sizeof *w);
    s_assert_rate(&w[0], interval_ns, 20000);
    s_assert_rate(&w[1], interval_ns, 20000000);
    s_assert_rate(&w[2], interval_ns, 20000);
    s_assert_rate(&w[3], interval_ns, 20000);
    assert_int_equal(w[0].moves, STEPS - 1); /* traffic moves every interval */
    /* Socket drops: 1 interval in 50, 1 to 500 each. */
    assert_in_range(w[4].moves, STEPS / 50 / 2, STEPS / 50 * 2);
    assert_in_range(w[4].last - w[4].first, w[4].moves, w[4].moves * 500);
    /* Settings never move. */
    assert_int_equal(w[5].moves, 0);
    assert_int_equal(w[6].moves, 0);
    assert_in_range(w[6].first, 1024, 1024 + 999);
}

static void test_rates_1s(void **state)
{
    (void)state;
    s_rates(S);
}

static void test_rates_100ms(void **state)
{
    (void)state;
    s_rates(S / 10);
}

static void test_seed_replays(void **state)
{
    (void)state;
    watch_t a[] = {{source_name(SOURCE_NETDEV), "eth0", "rx_packets", 0, 0, 0},
                   {source_name(SOURCE_SNMP), "", "Udp.RcvbufErrors", 0, 0, 0}};
    watch_t b[2], c[2];
    memcpy(b, a, sizeof a);
    memcpy(c, a, sizeof a);
    s_run(42, S, a, 2);
    s_run(42, S, b, 2);
    s_run(43, S, c, 2);
    assert_memory_equal(a, b, sizeof a);
    assert_true(a[0].last != c[0].last);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates_1s),
        cmocka_unit_test(test_rates_100ms),
        cmocka_unit_test(test_seed_replays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
