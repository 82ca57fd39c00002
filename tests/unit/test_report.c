/* Tests collector/report (the registry as it leaves the collector): every Batch
 * and Hello is decoded back with the aggregator's own decoder (proto/codec)
 * and compared field by field with what the registry holds: the exact samples
 * of the series that changed (of every present one when full), the
 * definitions only of series the aggregator has not acknowledged (of every
 * one with all_defs), which batch carried a definition last, the bursts,
 * clock and loss counts carried; and the `--once --json` document of a
 * small registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "codec.h"
#include "report.h"
#include "series.h"
#include "testlib.h"

#define BOOT "4f1e2b3c-0000-4000-8000-000000000001"
#define NSERIES 4

static const report_id_t s_id = {"web1", BOOT, 77};

/* The registry's series, in id order (ids 1..4), with what the counter table says of them. */
static const struct {
    const char *source, *device, *name;
    kind_t kind;
    layer_t layer;
    bool overlap;
} s_series[NSERIES] = {
    {"netdev", "eth0", "rx_missed_errors", KIND_COUNTER, LAYER_NIC, false},
    {"netdev", "eth0", "rx_dropped", KIND_COUNTER, LAYER_NIC, true},
    {"softnet", "cpu0", "dropped", KIND_COUNTER, LAYER_BACKLOG, false},
    {"sysctl", "", "net.core.rmem_max", KIND_SETTING, LAYER_CONFIG, false},
};

/* One snapshot of the four series with these values (UINT64_MAX: not read;
 * its source read completely, so it is gone). */
static void s_snapshot(series_t *series, const uint64_t values[NSERIES])
{
    series_begin(series, BOOT);
    for (size_t i = 0; i < NSERIES; i++) {
        if (values[i] == UINT64_MAX)
            continue;
        reading_t r = {s_series[i].source, s_series[i].device, s_series[i].name, values[i], 0};
        assert_int_equal(series_observe(series, &r), 0);
    }
    series_source_ok(series, SOURCE_SOFTNET);
    series_end(series);
}

/* report_batch, decoded back; checks the envelope and the fields copied from rb. */
static msg_t *s_batch(series_t *series, const report_batch_t *rb, size_t *nsamples)
{
    uint8_t *buf;
    size_t len;
    char err[256];
    assert_int_equal(report_batch(series, &s_id, rb, &buf, &len, nsamples, err, sizeof err), 0);
    msg_t *msg = codec_decode(buf, len, err, sizeof err);
    free(buf);
    if (!msg)
        fail_msg("the batch does not decode: %s", err);
    assert_int_equal(msg->type, MSG_TYPE_BATCH);
    assert_string_equal(msg->host, "web1");
    assert_string_equal(msg->boot_id, BOOT);
    assert_int_equal(msg->incarnation, 77);
    assert_int_equal(msg->seq, rb->seq);
    assert_int_equal(msg->batch.ts_ns, rb->ts_ns);
    assert_int_equal(msg->batch.prev_ts_ns, rb->prev_ts_ns);
    assert_int_equal(msg->batch.full, rb->full);
    assert_int_equal(msg->batch.nsamples, *nsamples);
    return msg;
}

/* The batch holds exactly these samples, in this order. */
typedef struct {
    uint32_t id;
    uint64_t value;
    int64_t delta;
    uint32_t flags;
} want_sample_t;

static void s_expect_samples(const batch_t *b, const want_sample_t *want, size_t n)
{
    assert_int_equal(b->nsamples, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(b->series[i], want[i].id);
        assert_int_equal(b->values[i], want[i].value);
        assert_int_equal(b->deltas[i], want[i].delta);
        assert_int_equal(b->flags[i], want[i].flags);
    }
}

/* The batch defines exactly the series of these ids (ascending), as the table says. */
static void s_expect_defs(const batch_t *b, const uint32_t *ids, size_t n)
{
    assert_int_equal(b->ndefs, n);
    for (size_t i = 0; i < n; i++) {
        const series_def_t *d = &b->defs[i];
        size_t k = ids[i] - 1;
        assert_int_equal(d->id, ids[i]);
        assert_string_equal(d->source, s_series[k].source);
        assert_string_equal(d->device, s_series[k].device);
        assert_string_equal(d->name, s_series[k].name);
        assert_int_equal(d->kind, s_series[k].kind);
        assert_int_equal(d->layer, s_series[k].layer);
        assert_int_equal(d->overlap, s_series[k].overlap);
        assert_string_equal(d->owner, "");
    }
}

/* The first batch: every series a baseline (flag first, delta 0), each defined. */
static void test_first_batch(void **state)
{
    (void)state;
    series_t *series = series_new(100);
    s_snapshot(series, (uint64_t[]){100, 50, 7, 212992});
    report_batch_t rb = {.seq = 2, .ts_ns = 5000000000, .prev_ts_ns = 0};
    size_t n;
    msg_t *msg = s_batch(series, &rb, &n);
    s_expect_samples(&msg->batch,
                     (want_sample_t[]){{1, 100, 0, SAMPLE_FIRST},
                                       {2, 50, 0, SAMPLE_FIRST},
                                       {3, 7, 0, SAMPLE_FIRST},
                                       {4, 212992, 0, SAMPLE_FIRST}},
                     4);
    s_expect_defs(&msg->batch, (uint32_t[]){1, 2, 3, 4}, 4);
    assert_int_equal(msg->batch.nbursts, 0);
    codec_msg_destroy(&msg);
    series_destroy(&series);
}

/* Only what changed goes, with its exact delta; a definition goes again
 * with every batch that samples its series until a batch that carried it is
 * stored, and an acknowledgement counts only for the batch that carried a
 * definition last. */
static void test_changed_and_unacknowledged_defs(void **state)
{
    (void)state;
    series_t *series = series_new(100);
    size_t n;
    s_snapshot(series, (uint64_t[]){100, 50, 7, 212992});
    report_batch_t rb = {.seq = 2, .ts_ns = 1000, .prev_ts_ns = 0};
    msg_t *msg = s_batch(series, &rb, &n);
    codec_msg_destroy(&msg);

    /* Batch 2 is not answered yet: batch 3 defines what it samples, only that. */
    s_snapshot(series, (uint64_t[]){130, 50, 9, 212992});
    rb = (report_batch_t){.seq = 3, .ts_ns = 2000, .prev_ts_ns = 1000};
    msg = s_batch(series, &rb, &n);
    assert_int_equal(n, 2);
    s_expect_samples(&msg->batch, (want_sample_t[]){{1, 130, 30, 0}, {3, 9, 2, 0}}, 2);
    s_expect_defs(&msg->batch, (uint32_t[]){1, 3}, 2);
    codec_msg_destroy(&msg);

    /* Batch 2 stored: it was the last carrier of 2 and 4, not of 1 and 3. */
    series_ack_defs(series, 2);
    s_snapshot(series, (uint64_t[]){131, 51, 10, 425984});
    rb = (report_batch_t){.seq = 4, .ts_ns = 3000, .prev_ts_ns = 2000};
    msg = s_batch(series, &rb, &n);
    s_expect_samples(
        &msg->batch,
        (want_sample_t[]){{1, 131, 1, 0}, {2, 51, 1, 0}, {3, 10, 1, 0}, {4, 425984, 212992, 0}}, 4);
    s_expect_defs(&msg->batch, (uint32_t[]){1, 3}, 2);
    codec_msg_destroy(&msg);

    /* Batch 4 stored: everything is known, nothing is defined again. */
    series_ack_defs(series, 4);
    s_snapshot(series, (uint64_t[]){140, 51, 10, 425984});
    rb = (report_batch_t){.seq = 5, .ts_ns = 4000, .prev_ts_ns = 3000};
    msg = s_batch(series, &rb, &n);
    s_expect_samples(&msg->batch, (want_sample_t[]){{1, 140, 9, 0}}, 1);
    s_expect_defs(&msg->batch, NULL, 0);
    codec_msg_destroy(&msg);
    series_destroy(&series);
}

/* A registry whose first batch (seq 2, at 1000) was sent and stored: every
 * definition acknowledged. */
static series_t *s_acked_registry(void)
{
    series_t *series = series_new(100);
    size_t n;
    s_snapshot(series, (uint64_t[]){100, 50, 7, 212992});
    report_batch_t rb = {.seq = 2, .ts_ns = 1000};
    msg_t *msg = s_batch(series, &rb, &n);
    codec_msg_destroy(&msg);
    series_ack_defs(series, 2);
    return series;
}

/* A full batch samples every present series, changed or not, and not one
 * that is gone; it defines only what is not acknowledged. */
static void test_full(void **state)
{
    (void)state;
    series_t *series = s_acked_registry();
    size_t n;
    report_batch_t rb;
    msg_t *msg;

    /* Nothing changed: a batch that is not full is empty, a full one is not. */
    s_snapshot(series, (uint64_t[]){100, 50, 7, 212992});
    rb = (report_batch_t){.seq = 3, .ts_ns = 2000, .prev_ts_ns = 1000};
    msg = s_batch(series, &rb, &n);
    assert_int_equal(n, 0);
    codec_msg_destroy(&msg);
    s_snapshot(series, (uint64_t[]){100, 50, 7, 212992});
    rb = (report_batch_t){.seq = 4, .ts_ns = 3000, .prev_ts_ns = 2000, .full = true};
    msg = s_batch(series, &rb, &n);
    s_expect_samples(
        &msg->batch,
        (want_sample_t[]){{1, 100, 0, 0}, {2, 50, 0, 0}, {3, 7, 0, 0}, {4, 212992, 0, 0}}, 4);
    s_expect_defs(&msg->batch, NULL, 0);
    codec_msg_destroy(&msg);

    /* cpu0 went offline (softnet read completely without it): not in a full batch. */
    s_snapshot(series, (uint64_t[]){100, 50, UINT64_MAX, 212992});
    rb = (report_batch_t){.seq = 5, .ts_ns = 4000, .prev_ts_ns = 3000, .full = true};
    msg = s_batch(series, &rb, &n);
    s_expect_samples(&msg->batch,
                     (want_sample_t[]){{1, 100, 0, 0}, {2, 50, 0, 0}, {4, 212992, 0, 0}}, 3);
    codec_msg_destroy(&msg);
    series_destroy(&series);
}

/* After ACK_NEED_DEFS the collector forgets every acknowledgement and asks
 * for all_defs: every definition goes, sampled or not, with only the samples
 * of what changed. */
static void test_all_defs(void **state)
{
    (void)state;
    series_t *series = s_acked_registry();
    size_t n;
    report_batch_t rb;
    msg_t *msg;

    series_unack_defs(series);
    s_snapshot(series, (uint64_t[]){100, 50, 8, 212992});
    rb = (report_batch_t){.seq = 3, .ts_ns = 2000, .prev_ts_ns = 1000, .all_defs = true};
    msg = s_batch(series, &rb, &n);
    s_expect_samples(&msg->batch, (want_sample_t[]){{3, 8, 1, 0}}, 1);
    s_expect_defs(&msg->batch, (uint32_t[]){1, 2, 3, 4}, 4);
    codec_msg_destroy(&msg);

    /* This batch carried them all: its acknowledgement acknowledges them all. */
    series_ack_defs(series, 3);
    s_snapshot(series, (uint64_t[]){101, 51, 9, 212992});
    rb = (report_batch_t){.seq = 4, .ts_ns = 3000, .prev_ts_ns = 2000};
    msg = s_batch(series, &rb, &n);
    assert_int_equal(n, 3);
    s_expect_defs(&msg->batch, NULL, 0);
    codec_msg_destroy(&msg);
    series_destroy(&series);
}

/* Bursts, the clock and the loss counts go as they were given. */
static void test_bursts_clock_losses(void **state)
{
    (void)state;
    series_t *series = series_new(100);
    s_snapshot(series, (uint64_t[]){100, 50, 7, 212992});
    static const uint32_t profile[2][5] = {{1, 400, 650, 300, 2}, {0, 0, 900, 0, 0}};
    burst_msg_t bursts[2] = {{.iface = "eth0",
                              .tx = false,
                              .start_ns = 1000000,
                              .end_ns = 4000000,
                              .peak_per_ms = 650.5,
                              .packets = 1350,
                              .bytes = 135000,
                              .threshold_per_ms = 256,
                              .drops = {[LAYER_NIC] = 12, [LAYER_SOCKET] = 100},
                              .profile_start_ns = 0,
                              .tick_ns = 1000000,
                              .nprofile = 5,
                              .profile = profile[0],
                              .profile_complete = true},
                             {.iface = "eth1",
                              .tx = true,
                              .start_ns = 2000000,
                              .end_ns = 3000000,
                              .peak_per_ms = 900,
                              .packets = 900,
                              .bytes = 1300000,
                              .threshold_per_ms = 100,
                              .profile_start_ns = 0,
                              .tick_ns = 1000000,
                              .nprofile = 5,
                              .profile = profile[1],
                              .profile_complete = false}};
    report_batch_t rb = {.seq = 9,
                         .ts_ns = 5000000,
                         .bursts = bursts,
                         .nbursts = 2,
                         .spool_dropped_messages = 3,
                         .spool_dropped_samples = 140,
                         .spool_rejected_messages = 1,
                         .spool_rejected_samples = 60,
                         .clock = {true, -1500, 200000, true, 16000000, 500}};
    size_t n;
    msg_t *msg = s_batch(series, &rb, &n);
    const batch_t *b = &msg->batch;
    assert_int_equal(b->nbursts, 2);
    for (size_t i = 0; i < 2; i++) {
        const burst_msg_t *got = &b->bursts[i], *want = &bursts[i];
        assert_string_equal(got->iface, want->iface);
        assert_int_equal(got->tx, want->tx);
        assert_int_equal(got->start_ns, want->start_ns);
        assert_int_equal(got->end_ns, want->end_ns);
        assert_true(got->peak_per_ms == want->peak_per_ms);
        assert_int_equal(got->packets, want->packets);
        assert_int_equal(got->bytes, want->bytes);
        assert_int_equal(got->threshold_per_ms, want->threshold_per_ms);
        assert_memory_equal(got->drops, want->drops, sizeof got->drops);
        assert_int_equal(got->profile_start_ns, want->profile_start_ns);
        assert_int_equal(got->tick_ns, want->tick_ns);
        assert_int_equal(got->nprofile, 5);
        assert_memory_equal(got->profile, want->profile, 5 * sizeof *got->profile);
        assert_int_equal(got->profile_complete, want->profile_complete);
    }
    assert_int_equal(b->spool_dropped_messages, 3);
    assert_int_equal(b->spool_dropped_samples, 140);
    assert_int_equal(b->spool_rejected_messages, 1);
    assert_int_equal(b->spool_rejected_samples, 60);
    assert_true(b->clock.offset_valid);
    assert_int_equal(b->clock.offset_ns, -1500);
    assert_int_equal(b->clock.rtt_ns, 200000);
    assert_true(b->clock.synced);
    assert_int_equal(b->clock.maxerror_ns, 16000000);
    assert_int_equal(b->clock.esterror_ns, 500);
    codec_msg_destroy(&msg);
    series_destroy(&series);
}

static void test_hello(void **state)
{
    (void)state;
    hello_t hello = {"0.2.0",    "6.12.0-amd64",      "netlink",     16,
                     1000000000, 1700000000000000000, "ebpf: no BTF", 0,
                     NULL};
    uint8_t *buf;
    size_t len;
    char err[256];
    assert_int_equal(report_hello(&s_id, 1, &hello, &buf, &len, err, sizeof err), 0);
    msg_t *msg = codec_decode(buf, len, err, sizeof err);
    free(buf);
    assert_non_null(msg);
    assert_int_equal(msg->type, MSG_TYPE_HELLO);
    assert_string_equal(msg->host, "web1");
    assert_string_equal(msg->boot_id, BOOT);
    assert_int_equal(msg->incarnation, 77);
    assert_int_equal(msg->seq, 1);
    assert_string_equal(msg->hello.collector_version, "0.2.0");
    assert_string_equal(msg->hello.kernel, "6.12.0-amd64");
    assert_string_equal(msg->hello.backend, "netlink");
    assert_int_equal(msg->hello.ncpus, 16);
    assert_int_equal(msg->hello.interval_ns, 1000000000);
    assert_int_equal(msg->hello.started_ns, 1700000000000000000);
    assert_string_equal(msg->hello.backend_note, "ebpf: no BTF");
    codec_msg_destroy(&msg);
}

static void s_set_owner(void *ctx, series_entry_t *e)
{
    if (e->id == 1)
        assert_int_equal(series_set_owner(ctx, e, "812/nginx"), 0);
}

/* The --once --json document: the host, its boot, the time, and every
 * present series with its class, value and owner (when known). */
static void test_json(void **state)
{
    (void)state;
    series_t *series = series_new(100);
    s_snapshot(series, (uint64_t[]){100, 50, 7, 212992});
    s_snapshot(series, (uint64_t[]){120, 50, UINT64_MAX, 212992}); /* cpu0 gone */
    series_each(series, s_set_owner, series);
    char *text = report_json(series, &s_id, 1700000000123456789);
    assert_non_null(text);
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    free(text);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "host")), "web1");
    assert_string_equal(json_string_value(json_object_get(doc, "boot_id")), BOOT);
    assert_int_equal(json_integer_value(json_object_get(doc, "ts_ns")), 1700000000123456789);
    json_t *rows = json_object_get(doc, "series");
    assert_int_equal(json_array_size(rows), 3);
    static const struct {
        size_t k;
        const char *kind, *layer;
        uint64_t value;
        const char *owner;
    } want[3] = {{0, "counter", "nic", 120, "812/nginx"},
                 {1, "counter", "nic", 50, NULL},
                 {3, "setting", "config", 212992, NULL}};
    for (size_t i = 0; i < 3; i++) {
        json_t *row = json_array_get(rows, i);
        size_t k = want[i].k;
        assert_string_equal(json_string_value(json_object_get(row, "source")), s_series[k].source);
        assert_string_equal(json_string_value(json_object_get(row, "device")), s_series[k].device);
        assert_string_equal(json_string_value(json_object_get(row, "name")), s_series[k].name);
        assert_string_equal(json_string_value(json_object_get(row, "kind")), want[i].kind);
        assert_string_equal(json_string_value(json_object_get(row, "layer")), want[i].layer);
        assert_int_equal(json_integer_value(json_object_get(row, "value")), want[i].value);
        assert_int_equal(json_is_true(json_object_get(row, "overlap")), s_series[k].overlap);
        json_t *owner = json_object_get(row, "owner");
        if (want[i].owner)
            assert_string_equal(json_string_value(owner), want[i].owner);
        else
            assert_null(owner);
        assert_int_equal(json_object_size(row), want[i].owner ? 8 : 7);
    }
    json_decref(doc);
    series_destroy(&series);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_batch),
        cmocka_unit_test(test_changed_and_unacknowledged_defs),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_all_defs),
        cmocka_unit_test(test_bursts_clock_losses),
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
