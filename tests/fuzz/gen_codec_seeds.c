/* gen_codec_seeds: writes a few valid encoded messages (hello, a full batch
 * with a burst profile and probe gaps, an empty batch, heartbeat, ack) into the directory
 * argv[1], as the seed corpus of fuzz_codec. Usage: gen_codec_seeds DIR */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "seedlib.h"

static const series_def_t s_defs[] = {
    {1, "netdev", "eth0", "rx_drop_total", KIND_COUNTER, LAYER_NIC, false, ""},
    {2, "sock", "udp:10.99.0.2:5000", "drops", KIND_COUNTER, LAYER_SOCKET, false, "812/named"},
    {3, "softnet", "cpu1", "backlog_len", KIND_GAUGE, LAYER_BACKLOG, false, ""},
    {4, "sysctl", "", "net.core.netdev_max_backlog", KIND_SETTING, LAYER_CONFIG, false, ""},
    {5, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER, LAYER_SOCKET, true, ""},
};
static const uint32_t s_series[] = {1, 2, 3, 4, 5, 2};
static const uint64_t s_values[] = {20753, 2997, 4, 1000, 2997, UINT64_MAX};
static const int64_t s_deltas[] = {0, 17, 0, 0, -3, INT64_MIN};
static const uint32_t s_flags[] = {SAMPLE_FIRST, 0, SAMPLE_FIRST, SAMPLE_FIRST, SAMPLE_RESET, 0};
static const uint32_t s_profile[] = {0, 12, 4000, 3, 0};
static const burst_msg_t s_bursts[] = {{
    .iface = "eth0",
    .start_ns = INT64_C(1795359570000000000),
    .end_ns = INT64_C(1795359570005000000),
    .peak_per_ms = 4000.5,
    .packets = 123456,
    .bytes = 98765432,
    .threshold_per_ms = 1000,
    .drops = {[LAYER_NIC] = 17, [LAYER_BACKLOG] = 3},
    .profile_start_ns = INT64_C(1795359570000000000),
    .tick_ns = 1000000,
    .nprofile = sizeof s_profile / sizeof s_profile[0],
    .profile = s_profile,
    .profile_complete = true,
}};

/* A probe's gaps: one at the 64-bit end, one of a single number. */
static const gap_msg_t s_gaps[] = {
    {"239.1.1.1", 5000, INT64_C(1795359570000000000), INT64_C(1795359570001000000), 3,
     UINT64_MAX - 2, UINT64_MAX},
    {"10.0.0.7", 65535, INT64_C(1795359570100000000), INT64_C(1795359570100000000), 1, 42, 42},
};

static msg_t s_envelope(msg_type_t type, uint64_t seq)
{
    return (msg_t){.host = "db-17.example.net",
                   .boot_id = "3c0b5c5e-4f7a-4b8e-9c2d-1a2b3c4d5e6f",
                   .incarnation = 7,
                   .seq = seq,
                   .sent_ns = INT64_C(1795359570123456789),
                   .type = type};
}

static int s_write(const char *dir, const char *name, const msg_t *msg)
{
    return seedlib_write_msg("gen_codec_seeds", dir, name, msg);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_codec_seeds DIR\n");
        return 2;
    }
    msg_t hello = s_envelope(MSG_TYPE_HELLO, 0);
    hello.hello = (hello_t){"0.4.0", "6.18.44", "netlink", 2, 1000000000, INT64_C(1795359500),
                            "ebpf: the kernel has no BTF", 0, NULL};
    msg_t batch = s_envelope(MSG_TYPE_BATCH, 1);
    batch.batch = (batch_t){.ts_ns = INT64_C(1795359570123456789),
                            .prev_ts_ns = INT64_C(1795359569123456789),
                            .full = true,
                            .ndefs = sizeof s_defs / sizeof s_defs[0],
                            .defs = s_defs,
                            .nsamples = sizeof s_series / sizeof s_series[0],
                            .series = s_series,
                            .values = s_values,
                            .deltas = s_deltas,
                            .flags = s_flags,
                            .nbursts = 1,
                            .bursts = s_bursts,
                            .ngaps = sizeof s_gaps / sizeof s_gaps[0],
                            .gaps = s_gaps};
    msg_t empty = s_envelope(MSG_TYPE_BATCH, 2);
    msg_t heartbeat = s_envelope(MSG_TYPE_HEARTBEAT, 3);
    msg_t ack = s_envelope(MSG_TYPE_ACK, 4);
    ack.ack = (ack_t){1, 10, 20, 30, ACK_NEED_DEFS, "unknown series 9"};
    int rc = s_write(argv[1], "hello.pb", &hello) | s_write(argv[1], "batch.pb", &batch) |
             s_write(argv[1], "batch-empty.pb", &empty) |
             s_write(argv[1], "heartbeat.pb", &heartbeat) | s_write(argv[1], "ack.pb", &ack);
    return rc == 0 ? 0 : 1;
}
