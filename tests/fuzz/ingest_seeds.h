/* ingest_seeds: what fuzz_ingest and gen_ingest_seeds agree on: the
 * aggregator's clock in the fuzz runs, the window that validate_message
 * judges times by, and the series definitions fuzz_ingest stores for host
 * h1, run 1, when it opens a database, so that batches of bare samples of
 * ids 1..INGEST_NDEFS (the seeds, and what the fuzzer makes of them) reach
 * the store's packing and folding instead of stopping at NEED_DEFS. */
#ifndef DROPSCOPE_INGEST_SEEDS_H
#define DROPSCOPE_INGEST_SEEDS_H

#include <stdint.h>

#include "codec.h"
#include "validate.h"

#define INGEST_SEC INT64_C(1000000000)
#define INGEST_NOW_NS (INT64_C(1795359570) * INGEST_SEC) /* a fixed clock: runs repeat */
#define INGEST_HOST "h1"
#define INGEST_BOOT "3c0b5c5e-4f7a-4b8e-9c2d-1a2b3c4d5e6f"
#define INGEST_INCARNATION 1

static const validate_window_t ingest_window = {
    .now_ns = INGEST_NOW_NS,
    .ahead_ns = 86400 * INGEST_SEC,       /* --max-skew's default */
    .behind_ns = 14 * 86400 * INGEST_SEC, /* the default raw retention */
};

/* One of each kind and of the layers the store treats apart (drops,
 * traffic, settings, an overlapping socket series with an owner). */
static const series_def_t ingest_defs[] = {
    {1, "netdev", "eth0", "rx_dropped", KIND_COUNTER, LAYER_NIC, false, ""},
    {2, "netdev", "eth0", "rx_packets", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
    {3, "softnet", "cpu1", "dropped", KIND_COUNTER, LAYER_BACKLOG, false, ""},
    {4, "softnet", "cpu1", "backlog_len", KIND_GAUGE, LAYER_BACKLOG, false, ""},
    {5, "sysctl", "", "net.core.netdev_max_backlog", KIND_SETTING, LAYER_CONFIG, false, ""},
    {6, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER, LAYER_SOCKET, false, ""},
    {7, "sock", "udp:10.99.0.2:5000", "drops", KIND_COUNTER, LAYER_SOCKET, true, "812/named"},
    {8, "snmp", "", "TcpExt.ListenDrops", KIND_COUNTER, LAYER_LISTEN, false, ""},
};
#define INGEST_NDEFS (sizeof ingest_defs / sizeof ingest_defs[0])

/* The first sample of each, as a collector's first batch sends them. */
static const uint32_t ingest_first_series[] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint64_t ingest_first_values[] = {20753, 123456789, 4, 0, 1000, 2997, 17, 3};
static const int64_t ingest_first_deltas[8] = {0};
static const uint32_t ingest_first_flags[] = {SAMPLE_FIRST, SAMPLE_FIRST, SAMPLE_FIRST,
                                              SAMPLE_FIRST, SAMPLE_FIRST, SAMPLE_FIRST,
                                              SAMPLE_FIRST, SAMPLE_FIRST};

/* Run 1's first batch (seq 1, two minutes ago): ingest_defs and a first
 * sample of each. */
static inline msg_t ingest_defs_batch(void)
{
    _Static_assert(sizeof ingest_first_series / sizeof ingest_first_series[0] == INGEST_NDEFS,
                   "a first sample per definition");
    return (msg_t){.host = INGEST_HOST,
                   .boot_id = INGEST_BOOT,
                   .incarnation = INGEST_INCARNATION,
                   .seq = 1,
                   .sent_ns = INGEST_NOW_NS - 120 * INGEST_SEC,
                   .type = MSG_TYPE_BATCH,
                   .batch = {.ts_ns = INGEST_NOW_NS - 120 * INGEST_SEC,
                             .full = true,
                             .ndefs = INGEST_NDEFS,
                             .defs = ingest_defs,
                             .nsamples = INGEST_NDEFS,
                             .series = ingest_first_series,
                             .values = ingest_first_values,
                             .deltas = ingest_first_deltas,
                             .flags = ingest_first_flags}};
}

#endif
