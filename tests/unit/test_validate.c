/* Tests proto/validate: a collector's good batch, hello and heartbeat pass;
 * each rule refuses the message that breaks it and says which field and
 * value: the poison of issue 12 (a NaN peak, one setting sampled twice, a
 * 2^62 delta, a time in 2200, invalid UTF-8, a control byte in an owner, a
 * shell metacharacter in a device) and the edges of every bound. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "validate.h"

#define SEC INT64_C(1000000000)
#define NOW (INT64_C(1795359570) * SEC) /* 2026-11-22T14:59:30Z */
#define DAY (86400 * SEC)

static const validate_window_t s_window = {NOW, DAY, 14 * DAY};

static series_def_t s_defs[3];
static uint32_t s_ids[3];
static uint64_t s_values[3];
static int64_t s_deltas[3];
static uint32_t s_flags[3];
static uint32_t s_profile[30];
static burst_msg_t s_bursts[1];

/* A batch as a collector sends it: three series, one burst. */
static msg_t s_good(void)
{
    s_defs[0] = (series_def_t){1, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER, LAYER_SOCKET, false, ""};
    s_defs[1] = (series_def_t){2, "sock", "udp6:[::1]:9999#4411", "drops", KIND_COUNTER, LAYER_SOCKET,
                               true, "1234/feedh\xc3\xa9ndler"};
    s_defs[2] = (series_def_t){7, "ethtool", "eth0.100", "[0]: rx_bytes", KIND_COUNTER,
                               LAYER_TRAFFIC, false, ""};
    for (int i = 0; i < 3; i++) {
        s_ids[i] = s_defs[i].id;
        s_values[i] = 1000u * (uint64_t)i;
        s_deltas[i] = 10 * i;
        s_flags[i] = 0;
    }
    s_bursts[0] = (burst_msg_t){.iface = "eth0", .start_ns = NOW - SEC, .end_ns = NOW - SEC + 3000000,
                                .peak_per_ms = 700.5, .packets = 2100, .bytes = 210000,
                                .threshold_per_ms = 256, .drops = {[LAYER_NIC] = 40},
                                .profile_start_ns = NOW - SEC - 10000000, .tick_ns = 1000000,
                                .nprofile = 30, .profile = s_profile, .profile_complete = true};
    msg_t m = {.host = "web-1.example.com", .boot_id = "3f2a9c1e-7d4b-4e0a-9f55-0b1c2d3e4f50",
               .incarnation = 77, .seq = 5, .sent_ns = NOW, .type = MSG_TYPE_BATCH};
    m.batch = (batch_t){.ts_ns = NOW, .prev_ts_ns = NOW - SEC, .ndefs = 3, .defs = s_defs,
                        .nsamples = 3, .series = s_ids, .values = s_values, .deltas = s_deltas,
                        .flags = s_flags, .nbursts = 1, .bursts = s_bursts,
                        .clock = {true, -12345, 678, true, 16000000, 500000}};
    return m;
}

static void s_refused(const msg_t *m, const char *want)
{
    char err[256] = "";
    if (validate_message(m, &s_window, err, sizeof err) == 0)
        fail_msg("accepted, but expected a refusal containing \"%s\"", want);
    if (!strstr(err, want))
        fail_msg("refused with \"%s\", which does not contain \"%s\"", err, want);
}

static void s_accepted(const msg_t *m)
{
    char err[256] = "";
    if (validate_message(m, &s_window, err, sizeof err) != 0)
        fail_msg("refused: %s", err);
}

static void test_good_messages_pass(void **state)
{
    (void)state;
    msg_t m = s_good();
    s_accepted(&m);
    m.batch.prev_ts_ns = 0; /* no previous snapshot */
    m.batch.ts_ns = NOW + DAY; /* a day ahead: the edge */
    s_accepted(&m);
    m.batch.ts_ns = NOW - 14 * DAY; /* a spool resent after two weeks: the other edge */
    m.batch.bursts = NULL;
    m.batch.nbursts = 0;
    s_accepted(&m);
    s_deltas[0] = -(int64_t)VALIDATE_MAX_COUNT; /* a gauge's fall; counters are the store's */
    s_accepted(&m);
    msg_t hello = {.host = "h", .type = MSG_TYPE_HELLO,
                   .hello = {"0.3", "6.18.0-1-amd64", "ebpf", 8, SEC, NOW, "", 0, NULL}};
    s_accepted(&hello);
    msg_t beat = {.host = "h", .type = MSG_TYPE_HEARTBEAT};
    s_accepted(&beat);
}

/* The poison of issue 12, each alone in an otherwise good batch. */
static void test_poison(void **state)
{
    (void)state;
    msg_t m = s_good();
    s_bursts[0].peak_per_ms = NAN;
    s_refused(&m, "burst 0 (eth0): peak_per_ms is nan");
    m = s_good();
    s_bursts[0].peak_per_ms = INFINITY;
    s_refused(&m, "peak_per_ms is inf");
    m = s_good();
    s_ids[2] = s_ids[1]; /* one series sampled twice */
    s_refused(&m, "sample 2: series id 2 is outside 1..1048575 or not above the one before (2)");
    m = s_good();
    s_deltas[1] = INT64_C(1) << 62;
    s_refused(&m, "sample 1 (series 2): delta 4611686018427387904 is beyond +-2^48");
    m = s_good();
    m.batch.ts_ns = INT64_C(7258118400) * SEC; /* 2200-01-01 */
    m.batch.prev_ts_ns = 0;
    s_refused(&m, "batch ts_ns 7258118400000000000 is 5462758830 s ahead of the aggregator's clock");
    m = s_good();
    s_defs[0].name = "Udp.Rcvbuf\xff\xfe";
    s_refused(&m, "series definition 1 name 'Udp.Rcvbuf\\xff\\xfe' is not UTF-8 text");
    m = s_good();
    s_defs[1].owner = "1234/\x1b]0;pwned\x07";
    s_refused(&m, "series definition 2 owner '1234/\\x1b]0;pwned\\x07' is not UTF-8 text");
    m = s_good();
    s_defs[2].device = "eth0;reboot";
    s_refused(&m, "series definition 7 device 'eth0;reboot' is not a name");
    m = s_good();
    m.host = "web\x1b[2J";
    s_refused(&m, "envelope host 'web\\x1b[2J' is not a name");
}

static void test_series_rules(void **state)
{
    (void)state;
    msg_t m = s_good();
    s_defs[1].id = 1;
    s_refused(&m, "series definition 1: id 1 is outside 1..1048575 or not above the one before (1)");
    m = s_good();
    s_defs[2].id = VALIDATE_MAX_ID;
    s_refused(&m, "id 1048576 is outside");
    m = s_good();
    s_ids[0] = 0;
    s_refused(&m, "sample 0: series id 0 is outside");
    m = s_good();
    s_flags[0] = 4;
    s_refused(&m, "sample 0 (series 1): unknown flags 0x4");
    m = s_good();
    s_values[2] = UINT64_MAX; /* a raw reading of -1 (Tcp.MaxConn): a value, not a count */
    s_accepted(&m);
    m = s_good();
    s_deltas[0] = INT64_MIN;
    s_refused(&m, "delta -9223372036854775808 is beyond");
    m = s_good();
    s_defs[0].source = "";
    s_refused(&m, "series definition 1 source '' is empty");
    m = s_good();
    m.batch.prev_ts_ns = NOW + 1;
    s_refused(&m, "prev_ts_ns 1795359570000000001 is negative or after its ts_ns");
    m = s_good();
    m.seq = 0;
    s_refused(&m, "seq 0");
    m = s_good();
    m.batch.ts_ns = NOW - 14 * DAY - 1;
    s_refused(&m, "more than 1209600 s behind the aggregator's clock");
    m = s_good();
    m.batch.spool_rejected_samples = UINT64_MAX;
    s_refused(&m, "spool_rejected_samples is 18446744073709551615");
    m = s_good();
    m.batch.clock.offset_ns = INT64_MIN;
    s_refused(&m, "clock offset_ns is -9223372036854775808");
    m = s_good();
    m.batch.clock.rtt_ns = -1;
    s_refused(&m, "clock rtt_ns is -1");
}

/* A probe's gaps: a name for the group, times as a burst's, a port, and a
 * count that is the numbers' span (at most 2^48), never an inverted span. */
static void test_gap_rules(void **state)
{
    (void)state;
    msg_t m = s_good();
    gap_msg_t g = {"239.1.1.1", 5000, NOW - SEC, NOW - SEC + 1000, 3, UINT64_MAX - 2, UINT64_MAX};
    m.batch.gaps = &g;
    m.batch.ngaps = 1;
    s_accepted(&m);
    g.group = "239.1.1.1; rm -rf /";
    s_refused(&m, "gap 0 group '239.1.1.1; rm -rf /' is not a name");
    g.group = "239.1.1.1";
    g.end_ns = g.start_ns - 1;
    s_refused(&m, "gap 0 (239.1.1.1:5000): ends at");
    g.end_ns = NOW;
    g.start_ns = INT64_MIN;
    s_refused(&m, "gap start_ns -9223372036854775808 is more than");
    g.start_ns = NOW - SEC;
    g.port = 0;
    s_refused(&m, "port 0 is not 1..65535");
    g.port = 5000;
    g.missing = 4;
    s_refused(&m, "4 missing is not the count of 18446744073709551613..18446744073709551615");
    g = (gap_msg_t){"239.1.1.1", 5000, NOW - SEC, NOW, VALIDATE_MAX_COUNT + 1, 0,
                    VALIDATE_MAX_COUNT};
    s_refused(&m, "missing of gap 0 is 281474976710657");
    g = (gap_msg_t){"239.1.1.1", 5000, NOW - SEC, NOW, 1, 10, 9};
    s_refused(&m, "1 missing is not the count of 10..9");
}

static void test_burst_rules(void **state)
{
    (void)state;
    msg_t m = s_good();
    s_bursts[0].end_ns = s_bursts[0].start_ns - 1;
    s_refused(&m, "burst 0 (eth0): ends at");
    m = s_good();
    s_bursts[0].start_ns = INT64_MIN;
    s_refused(&m, "burst start_ns -9223372036854775808 is more than");
    m = s_good();
    s_bursts[0].iface = "";
    s_refused(&m, "burst 0 interface '' is empty");
    m = s_good();
    s_bursts[0].iface = "eth0 `id`";
    s_refused(&m, "burst 0 interface 'eth0 `id`' is not a name");
    m = s_good();
    s_bursts[0].peak_per_ms = -1;
    s_refused(&m, "peak_per_ms is -1");
    m = s_good();
    s_bursts[0].drops[LAYER_SOCKET] = VALIDATE_MAX_COUNT + 1;
    s_refused(&m, "drops of burst 0 is 281474976710657");
    m = s_good();
    s_bursts[0].bytes = UINT64_MAX;
    s_refused(&m, "bytes of burst 0");
    m = s_good();
    s_bursts[0].tick_ns = 0;
    s_refused(&m, "a profile of 30 ticks of 0 ns");
    m = s_good();
    s_bursts[0].tick_ns = 2 * SEC;
    s_refused(&m, "ticks of at most 1 s");
    m = s_good();
    s_bursts[0].profile_start_ns = s_bursts[0].end_ns + 1;
    s_refused(&m, "its profile starts at");
    m = s_good();
    s_bursts[0].nprofile = 0; /* no profile: its start and tick do not matter */
    s_bursts[0].tick_ns = 0;
    s_bursts[0].profile_start_ns = 0;
    s_accepted(&m);
}

static void test_hello_and_acks(void **state)
{
    (void)state;
    msg_t m = {.host = "h",
               .type = MSG_TYPE_HELLO,
               .hello = {"0.3", "6.18", "ebpf", 8, SEC, NOW, "", 0, NULL}};
    m.hello.kernel = "6.18\x1b[31m";
    s_refused(&m, "hello kernel '6.18\\x1b[31m' is not UTF-8 text");
    m.hello.kernel = "6.18";
    m.hello.interval_ns = -1;
    s_refused(&m, "hello interval_ns -1");
    m.hello.interval_ns = SEC;
    /* degraded features: text, at most CODEC_MAX_DEGRADED of them */
    const char *degraded[CODEC_MAX_DEGRADED + 1] = {
        "socket owners: only this user's processes (uid 65534) are named (needs CAP_SYS_PTRACE)",
        "ebpf backend: not loaded (needs CAP_BPF), using netlink"};
    m.hello.ndegraded = 2;
    m.hello.degraded = degraded;
    s_accepted(&m);
    degraded[1] = "ebpf\nbackend";
    s_refused(&m, "hello degraded 'ebpf\\x0abackend' is not UTF-8 text");
    degraded[1] = "";
    s_refused(&m, "hello degraded '' is empty");
    for (size_t i = 0; i < CODEC_MAX_DEGRADED + 1; i++)
        degraded[i] = "x: y";
    m.hello.ndegraded = CODEC_MAX_DEGRADED;
    s_accepted(&m);
    m.hello.ndegraded = CODEC_MAX_DEGRADED + 1;
    s_refused(&m, "hello names 9 degraded features (at most 8)");
    msg_t ack = {.host = "h", .type = MSG_TYPE_ACK};
    s_refused(&ack, "collectors do not send acks");
    msg_t beat = {.host = "h", .boot_id = "b\xc0\xafot", .type = MSG_TYPE_HEARTBEAT};
    s_refused(&beat, "envelope boot_id");
    /* a refusal fits any buffer and says nothing when there is none */
    char small[8];
    assert_int_equal(validate_message(&ack, &s_window, small, sizeof small), -1);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(validate_message(&ack, &s_window, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_messages_pass), cmocka_unit_test(test_poison),
        cmocka_unit_test(test_series_rules),       cmocka_unit_test(test_burst_rules),
        cmocka_unit_test(test_gap_rules),
        cmocka_unit_test(test_hello_and_acks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
