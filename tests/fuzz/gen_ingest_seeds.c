/* gen_ingest_seeds: writes the seed corpus of fuzz_ingest into the directory
 * argv[1]: messages that pass validate_message in the fuzz runs' window
 * (ingest_seeds.h), so that the fuzzer starts at the store, not at the
 * validator: a hello, the definitions batch fuzz_ingest stores at open (a
 * resend), bare samples of those ids with a burst, probe gaps and a clock, new and
 * changed definitions, another host, an old and a future batch, a new run
 * without definitions (NEED_DEFS) and a heartbeat. Usage: gen_ingest_seeds DIR */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "ingest_seeds.h"
#include "seedlib.h"
#include "validate.h"

#define NOW INGEST_NOW_NS
#define SEC INGEST_SEC

static const uint32_t s_series[] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint64_t s_values[] = {20770, 123999999, 9, 12, 2000, 3000, 20, 3};
static const int64_t s_deltas[] = {17, 543210, 5, 8, 0, 3, 3, 0};
static const uint32_t s_flags[] = {0, 0, 0, 0, 0, SAMPLE_RESET, 0, 0};

static const series_def_t s_more_defs[] = {
    {7, "sock", "udp:10.99.0.2:5000", "drops", KIND_COUNTER, LAYER_SOCKET, true, "913/unbound"},
    {9, "qdisc", "eth0", "drops", KIND_COUNTER, LAYER_QDISC, false, ""},
    {10, "ethtool", "eth0", "rx_missed_errors", KIND_COUNTER, LAYER_NIC, true, ""},
};
static const uint32_t s_more_series[] = {1, 7, 9, 10};
static const uint64_t s_more_values[] = {20800, 25, 1, 40};
static const int64_t s_more_deltas[] = {30, 5, 1, 40};
static const uint32_t s_more_flags[] = {0, 0, SAMPLE_FIRST, 0};

static const uint32_t s_profile[] = {0, 12, 4000, 3, 0};
static const burst_msg_t s_bursts[] = {{
    .iface = "eth0",
    .start_ns = NOW - 61 * SEC,
    .end_ns = NOW - 61 * SEC + 5000000,
    .peak_per_ms = 4000.5,
    .packets = 123456,
    .bytes = 98765432,
    .threshold_per_ms = 1000,
    .drops = {[LAYER_NIC] = 17, [LAYER_BACKLOG] = 3},
    .profile_start_ns = NOW - 61 * SEC,
    .tick_ns = 1000000,
    .nprofile = sizeof s_profile / sizeof s_profile[0],
    .profile = s_profile,
    .profile_complete = true,
}};

static const gap_msg_t s_gaps[] = {
    {"239.1.1.1", 5000, NOW - 61 * SEC, NOW - 61 * SEC + 1000000, 20, 1000, 1019},
    {"239.1.1.1", 5000, NOW - 60 * SEC, NOW - 60 * SEC, 1, UINT64_MAX, UINT64_MAX},
};

static msg_t s_batch(uint64_t seq, int64_t ts_ns)
{
    return (msg_t){.host = INGEST_HOST,
                   .boot_id = INGEST_BOOT,
                   .incarnation = INGEST_INCARNATION,
                   .seq = seq,
                   .sent_ns = ts_ns,
                   .type = MSG_TYPE_BATCH,
                   .batch = {.ts_ns = ts_ns,
                             .prev_ts_ns = ts_ns - 10 * SEC,
                             .nsamples = sizeof s_series / sizeof s_series[0],
                             .series = s_series,
                             .values = s_values,
                             .deltas = s_deltas,
                             .flags = s_flags}};
}

/* Checks that msg passes validation (else the seed would stop short of the
 * store), encodes it into dir/name. 0, or -1 after saying why on stderr. */
static int s_write(const char *dir, const char *name, const msg_t *msg)
{
    char err[256];
    if (validate_message(msg, &ingest_window, err, sizeof err) != 0) {
        fprintf(stderr, "gen_ingest_seeds: %s is not valid: %s\n", name, err);
        return -1;
    }
    return seedlib_write_msg("gen_ingest_seeds", dir, name, msg);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_ingest_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    msg_t hello = s_batch(0, NOW);
    hello.type = MSG_TYPE_HELLO;
    hello.hello = (hello_t){
        "0.4.0", "6.18.44", "netlink", 2, SEC, NOW - 300 * SEC, "ebpf: the kernel has no BTF",
        0,       NULL};
    msg_t defs = ingest_defs_batch();
    msg_t samples = s_batch(2, NOW - 60 * SEC);
    samples.batch.nbursts = 1;
    samples.batch.bursts = s_bursts;
    samples.batch.ngaps = sizeof s_gaps / sizeof s_gaps[0];
    samples.batch.gaps = s_gaps;
    samples.batch.clock = (clock_msg_t){true, -2500000, 400000, true, 16000000, 1000};
    samples.batch.spool_dropped_messages = 3;
    samples.batch.spool_dropped_samples = 24;
    samples.batch.spool_rejected_messages = 1;
    samples.batch.spool_rejected_samples = 8;
    msg_t more = s_batch(3, NOW - 50 * SEC);
    more.batch.ndefs = sizeof s_more_defs / sizeof s_more_defs[0];
    more.batch.defs = s_more_defs;
    more.batch.nsamples = sizeof s_more_series / sizeof s_more_series[0];
    more.batch.series = s_more_series;
    more.batch.values = s_more_values;
    more.batch.deltas = s_more_deltas;
    more.batch.flags = s_more_flags;
    msg_t old = s_batch(4, NOW - 13 * 86400 * SEC);
    msg_t future = s_batch(5, NOW + 23 * 3600 * SEC);
    msg_t other = ingest_defs_batch();
    other.host = "h2.example.net";
    other.incarnation = 0x5eed;
    other.batch.nbursts = 1;
    other.batch.bursts = s_bursts;
    msg_t new_run = s_batch(1, NOW - 5 * SEC);
    new_run.incarnation = INGEST_INCARNATION + 1;
    msg_t heartbeat = s_batch(6, NOW);
    heartbeat.type = MSG_TYPE_HEARTBEAT;
    int rc = s_write(dir, "hello.pb", &hello) | s_write(dir, "defs.pb", &defs) |
             s_write(dir, "samples.pb", &samples) | s_write(dir, "more-defs.pb", &more) |
             s_write(dir, "old.pb", &old) | s_write(dir, "future.pb", &future) |
             s_write(dir, "other-host.pb", &other) | s_write(dir, "new-run.pb", &new_run) |
             s_write(dir, "heartbeat.pb", &heartbeat);
    return rc == 0 ? 0 : 1;
}
