/* test_codec: proto/codec round trips of every message type (every decoded
 * field asserted), and decoding of bad input: empty, garbage, mutated,
 * truncated, and hand-made protobuf (a tiny writer below) the encoder cannot make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

/* --- a tiny protobuf writer -------------------------------------------------- */

typedef struct {
    uint8_t *b;
    size_t n, cap;
} wr_t;

static void s_put_byte(wr_t *w, uint8_t c)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 256;
        w->b = realloc(w->b, w->cap);
        assert_non_null(w->b);
    }
    w->b[w->n++] = c;
}

static void s_put_varint(wr_t *w, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        s_put_byte(w, (uint8_t)(v | 0x80));
    s_put_byte(w, (uint8_t)v);
}

/* A field key; wire types: 0 varint, 2 length-delimited. */
static void s_put_tag(wr_t *w, unsigned field, unsigned wire)
{
    s_put_varint(w, (uint64_t)field << 3 | wire);
}

static void s_put_bytes(wr_t *w, unsigned field, const void *data, size_t len)
{
    s_put_tag(w, field, 2);
    s_put_varint(w, len);
    for (size_t i = 0; i < len; i++)
        s_put_byte(w, ((const uint8_t *)data)[i]);
}

static void s_put_str(wr_t *w, unsigned field, const char *s)
{
    s_put_bytes(w, field, s, strlen(s));
}

/* A packed repeated varint field of n values. */
static void s_put_packed(wr_t *w, unsigned field, const uint64_t *v, size_t n)
{
    wr_t inner = {0};
    for (size_t i = 0; i < n; i++)
        s_put_varint(&inner, v[i]);
    s_put_bytes(w, field, inner.b, inner.n);
    free(inner.b);
}

/* An envelope from host "db-17" whose batch body is `batch`; frees batch. */
static wr_t s_env_with_batch(wr_t *batch)
{
    wr_t env = {0};
    s_put_str(&env, 1, "db-17");
    s_put_bytes(&env, 11, batch->b, batch->n);
    free(batch->b);
    return env;
}

static uint64_t s_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* --- encode and decode helpers ---------------------------------------------- */

/* Decodes an exact-size copy of buf (so ASan sees any read past len). A
 * decoded message must be well formed; a refusal must say why. */
static msg_t *s_decode_copy(const uint8_t *buf, size_t len, char *err, size_t errsz)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, buf, len);
    err[0] = '\0';
    msg_t *msg = codec_decode(copy, len, err, errsz);
    free(copy);
    if (!msg) {
        assert_true(err[0] != '\0');
        return NULL;
    }
    assert_true(msg->type > MSG_TYPE_NONE && msg->type <= MSG_TYPE_ACK);
    assert_true(msg->host[0] != '\0' && strlen(msg->host) <= CODEC_MAX_STRING);
    for (size_t i = 0; msg->type == MSG_TYPE_BATCH && i < msg->batch.ndefs; i++) {
        const series_def_t *d = &msg->batch.defs[i];
        assert_true(d->kind > KIND_UNKNOWN && d->kind < KIND_COUNT);
        assert_true(d->layer > LAYER_UNKNOWN && d->layer < LAYER_COUNT);
        assert_true(d->name[0] != '\0' && strlen(d->name) <= CODEC_MAX_STRING);
    }
    return msg;
}

/* The decode must fail with `want` in its error text. */
static void s_decode_fails(const uint8_t *buf, size_t len, const char *want)
{
    char err[256];
    msg_t *msg = s_decode_copy(buf, len, err, sizeof err);
    if (msg) {
        codec_msg_destroy(&msg);
        fail_msg("decoded, but expected an error containing \"%s\"", want);
    }
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

/* Encodes `in`, which must succeed; the caller frees the buffer. */
static uint8_t *s_encode(const msg_t *in, size_t *len)
{
    char err[256] = "";
    uint8_t *buf = NULL;
    if (codec_encode(in, &buf, len, err, sizeof err) != 0)
        fail_msg("encode failed: %s", err);
    return buf;
}

/* `in` encodes (the encoder trusts its caller) but must not decode. */
static void s_encoded_fails(const msg_t *in, const char *want)
{
    size_t len;
    uint8_t *buf = s_encode(in, &len);
    s_decode_fails(buf, len, want);
    free(buf);
}

static msg_t s_envelope(msg_type_t type)
{
    return (msg_t){.host = "db-17.example.net",
                   .boot_id = "3c0b5c5e-4f7a-4b8e-9c2d-1a2b3c4d5e6f",
                   .incarnation = UINT64_MAX - 1,
                   .seq = 42,
                   .sent_ns = INT64_C(1795359570123456789),
                   .type = type};
}

/* Encodes, decodes and checks the envelope fields; returns the decoded msg. */
static msg_t *s_round_trip(const msg_t *in)
{
    char err[256];
    size_t len;
    uint8_t *buf = s_encode(in, &len);
    msg_t *out = s_decode_copy(buf, len, err, sizeof err);
    free(buf);
    if (!out)
        fail_msg("decode failed: %s", err);
    assert_int_equal(out->type, in->type);
    assert_string_equal(out->host, in->host);
    assert_string_equal(out->boot_id, in->boot_id ? in->boot_id : "");
    assert_true(out->incarnation == in->incarnation);
    assert_true(out->seq == in->seq);
    assert_true(out->sent_ns == in->sent_ns);
    return out;
}

/* A batch with every kind of field, shared by the round trip and the
 * mutation and truncation tests. */
static const series_def_t s_defs[] = {
    {1, "netdev", "eth0", "rx_missed_errors", KIND_COUNTER, LAYER_NIC, false, ""},
    {2, "sock", "udp:0.0.0.0:53", "drops", KIND_COUNTER, LAYER_SOCKET, true, "812/named"},
    {3, "softnet", "cpu7", "backlog_len", KIND_GAUGE, LAYER_BACKLOG, false, NULL},
    {4294967295u, "sysctl", "", "net.core.netdev_max_backlog", KIND_SETTING, LAYER_CONFIG, false,
     ""},
};
static const uint32_t s_series[] = {1, 2, 3, 4, 1, 2, 2};
static const uint64_t s_values[] = {
    0, UINT64_MAX, (UINT64_C(1) << 63) + 1, 1000, UINT64_C(1) << 63, 77, 4294967295u};
static const int64_t s_deltas[] = {0, INT64_MIN, -5, INT64_MAX, 123456789012345, -1, 3};
static const uint32_t s_flags[] = {SAMPLE_FIRST, SAMPLE_RESET, 0, SAMPLE_FIRST | SAMPLE_RESET, 0,
                                   SAMPLE_RESET, 0xffffffffu};
static const uint32_t s_profile[] = {0, 4000, 4294967295u, 17};
static const burst_msg_t s_bursts[] = {
    {.iface = "eth0",
     .start_ns = 1000,
     .end_ns = 5000,
     .peak_per_ms = 12.5,
     .packets = UINT64_MAX,
     .bytes = 1ULL << 40,
     .threshold_per_ms = 3,
     .drops = {[LAYER_NIC] = 5, [LAYER_BACKLOG] = 6, [LAYER_CONFIG] = 9},
     .profile_start_ns = 900,
     .tick_ns = 1000,
     .nprofile = 4,
     .profile = s_profile,
     .profile_complete = true},
    {.iface = "veth1@if2", .tx = true, .start_ns = -3, .end_ns = -3},
};

static const gap_msg_t s_gaps[] = {
    {"239.1.1.1", 5000, 1000, 2000, 3, UINT64_MAX - 2, UINT64_MAX},
    {"10.0.0.1", 65535, 7, 7, 1, 0, 0},
};

static msg_t s_batch(void)
{
    msg_t m = s_envelope(MSG_TYPE_BATCH);
    const int64_t ts = INT64_C(1795359570000000000);
    m.batch = (batch_t){ts,       ts - 1000000000, true,     4,       s_defs, 7,
                        s_series, s_values,        s_deltas, s_flags, 2,      s_bursts,
                        3,        77,              {true, -12345, 678, true, 16000000, 500000},
                        5,        1234,            2,        s_gaps};
    return m;
}

/* --- round trips -------------------------------------------------------------- */

static void test_hello_round_trip(void **state)
{
    (void)state;
    msg_t in = s_envelope(MSG_TYPE_HELLO);
    in.hello = (hello_t){"0.3.1-g6a355e3",    "6.18.0-1-amd64",
                         "netlink",           192,
                         INT64_C(1000000000), INT64_C(1795359500000000000),
                         "ebpf: the kernel has no BTF", 0,
                         NULL};
    msg_t *out = s_round_trip(&in);
    assert_string_equal(out->hello.collector_version, "0.3.1-g6a355e3");
    assert_string_equal(out->hello.kernel, "6.18.0-1-amd64");
    assert_string_equal(out->hello.backend, "netlink");
    assert_int_equal(out->hello.ncpus, 192);
    assert_true(out->hello.interval_ns == INT64_C(1000000000));
    assert_true(out->hello.started_ns == INT64_C(1795359500000000000));
    assert_string_equal(out->hello.backend_note, "ebpf: the kernel has no BTF");
    codec_msg_destroy(&out);
    /* empty strings and no boot id are allowed in a hello */
    in.boot_id = NULL;
    in.hello = (hello_t){NULL, "", NULL, 0, 0, -1, NULL, 0, NULL};
    out = s_round_trip(&in);
    assert_string_equal(out->hello.collector_version, "");
    assert_string_equal(out->hello.kernel, "");
    assert_string_equal(out->hello.backend, "");
    assert_string_equal(out->hello.backend_note, "");
    assert_int_equal(out->hello.ncpus, 0);
    assert_true(out->hello.interval_ns == 0 && out->hello.started_ns == -1);
    codec_msg_destroy(&out);
}

static void s_check_burst(const burst_msg_t *got, const burst_msg_t *want)
{
    assert_string_equal(got->iface, want->iface);
    assert_int_equal(got->tx, want->tx);
    assert_true(got->start_ns == want->start_ns && got->end_ns == want->end_ns);
    assert_true(got->peak_per_ms == want->peak_per_ms);
    assert_true(got->packets == want->packets && got->bytes == want->bytes);
    assert_true(got->threshold_per_ms == want->threshold_per_ms);
    assert_memory_equal(got->drops, want->drops, sizeof want->drops);
    assert_true(got->profile_start_ns == want->profile_start_ns);
    assert_true(got->tick_ns == want->tick_ns);
    assert_int_equal(got->nprofile, want->nprofile);
    if (want->nprofile)
        assert_memory_equal(got->profile, want->profile, want->nprofile * sizeof *want->profile);
    assert_int_equal(got->profile_complete, want->profile_complete);
}

static void test_batch_round_trip(void **state)
{
    (void)state;
    msg_t in = s_batch();
    msg_t *out = s_round_trip(&in);
    const batch_t *b = &out->batch;
    assert_true(b->ts_ns == INT64_C(1795359570000000000));
    assert_true(b->prev_ts_ns == INT64_C(1795359569000000000));
    assert_true(b->full);
    assert_int_equal(b->spool_dropped_messages, 3);
    assert_int_equal(b->spool_dropped_samples, 77);
    assert_int_equal(b->spool_rejected_messages, 5);
    assert_int_equal(b->spool_rejected_samples, 1234);
    assert_true(b->clock.offset_valid && b->clock.synced);
    assert_true(b->clock.offset_ns == -12345 && b->clock.rtt_ns == 678);
    assert_true(b->clock.maxerror_ns == 16000000 && b->clock.esterror_ns == 500000);
    assert_int_equal(b->ndefs, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(b->defs[i].id, s_defs[i].id);
        assert_string_equal(b->defs[i].source, s_defs[i].source);
        assert_string_equal(b->defs[i].device, s_defs[i].device);
        assert_string_equal(b->defs[i].name, s_defs[i].name);
        assert_int_equal(b->defs[i].kind, s_defs[i].kind);
        assert_int_equal(b->defs[i].layer, s_defs[i].layer);
        assert_int_equal(b->defs[i].overlap, s_defs[i].overlap);
        assert_string_equal(b->defs[i].owner, s_defs[i].owner ? s_defs[i].owner : "");
    }
    assert_int_equal(b->nsamples, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(b->series[i], s_series[i]);
        assert_true(b->values[i] == s_values[i]);
        assert_true(b->deltas[i] == s_deltas[i]);
        assert_int_equal(b->flags[i], s_flags[i]);
    }
    assert_int_equal(b->nbursts, 2);
    s_check_burst(&b->bursts[0], &s_bursts[0]);
    s_check_burst(&b->bursts[1], &s_bursts[1]);
    assert_int_equal(b->ngaps, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(b->gaps[i].group, s_gaps[i].group);
        assert_int_equal(b->gaps[i].port, s_gaps[i].port);
        assert_true(b->gaps[i].start_ns == s_gaps[i].start_ns);
        assert_true(b->gaps[i].end_ns == s_gaps[i].end_ns);
        assert_true(b->gaps[i].missing == s_gaps[i].missing);
        assert_true(b->gaps[i].first_seq == s_gaps[i].first_seq);
        assert_true(b->gaps[i].last_seq == s_gaps[i].last_seq);
    }
    codec_msg_destroy(&out);

    /* an empty batch */
    in.sent_ns = -7;
    in.batch = (batch_t){.ts_ns = 5};
    out = s_round_trip(&in);
    assert_true(out->batch.ts_ns == 5 && out->batch.prev_ts_ns == 0);
    assert_false(out->batch.full);
    assert_int_equal(out->batch.ndefs + out->batch.nsamples + out->batch.nbursts, 0);
    codec_msg_destroy(&out);
}

static void test_ack_round_trip(void **state)
{
    (void)state;
    static const struct {
        ack_status_t status;
        const char *error;
    } cases[] = {
        {ACK_STORED, ""},
        {ACK_REJECTED, "batch refers to series 7 twice"},
        {ACK_NEED_DEFS, "unknown series 12"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msg_t in = s_envelope(MSG_TYPE_ACK);
        in.host = "aggregator";
        const int64_t t1 = INT64_C(1795359570000000000) + (int64_t)i;
        in.ack = (ack_t){UINT64_MAX - i, t1, -1, INT64_MAX, cases[i].status, cases[i].error};
        msg_t *out = s_round_trip(&in);
        assert_true(out->ack.seq == UINT64_MAX - i);
        assert_true(out->ack.t1_ns == t1);
        assert_true(out->ack.t2_ns == -1 && out->ack.t3_ns == INT64_MAX);
        assert_int_equal(out->ack.status, cases[i].status);
        assert_string_equal(out->ack.error, cases[i].error);
        codec_msg_destroy(&out);
    }
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(codec_type_name(MSG_TYPE_HELLO), "hello");
    assert_string_equal(codec_type_name(MSG_TYPE_BATCH), "batch");
    assert_string_equal(codec_type_name(MSG_TYPE_HEARTBEAT), "heartbeat");
    assert_string_equal(codec_type_name(MSG_TYPE_ACK), "ack");
    assert_string_equal(codec_type_name(MSG_TYPE_NONE), "none");
    assert_string_equal(codec_type_name((msg_type_t)99), "none");
}

/* --- the encoder's limits ------------------------------------------------------ */

static void s_encode_refused(const msg_t *in, const char *want)
{
    char err[256] = "";
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(codec_encode(in, &buf, &len, err, sizeof err), -1);
    assert_null(buf);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

static void test_encode_refuses(void **state)
{
    (void)state;
    msg_t in = s_envelope(MSG_TYPE_NONE);
    s_encode_refused(&in, "cannot encode a message without a body");
    series_def_t *defs = calloc(CODEC_MAX_DEFS + 1, sizeof *defs);
    assert_non_null(defs);
    for (size_t i = 0; i <= CODEC_MAX_DEFS; i++)
        defs[i] = (series_def_t){(uint32_t)i + 1, "netdev",      "eth0", "rx_bytes",
                                 KIND_COUNTER,    LAYER_TRAFFIC, false,  ""};
    in = s_envelope(MSG_TYPE_BATCH);
    in.batch = (batch_t){.ndefs = CODEC_MAX_DEFS + 1, .defs = defs};
    s_encode_refused(&in, "batch too large: 65537 definitions, 0 samples, 0 bursts");
    /* exactly the limit is fine, and decodes */
    in.batch.ndefs = CODEC_MAX_DEFS;
    msg_t *out = s_round_trip(&in);
    assert_int_equal(out->batch.ndefs, CODEC_MAX_DEFS);
    assert_int_equal(out->batch.defs[CODEC_MAX_DEFS - 1].id, CODEC_MAX_DEFS);
    codec_msg_destroy(&out);
    free(defs);
    in.batch = (batch_t){.nsamples = CODEC_MAX_SAMPLES + 1};
    s_encode_refused(&in, "1000001 samples");
    in.batch = (batch_t){.nbursts = CODEC_MAX_BURSTS + 1};
    s_encode_refused(&in, "10001 bursts");
    in.batch = (batch_t){.ngaps = CODEC_MAX_GAPS + 1};
    s_encode_refused(&in, "100001 gaps");
}

/* --- bad input ------------------------------------------------------------------ */

/* An empty frame unpacks as an Envelope with every field at its default,
 * which has no body. */
static void test_decode_empty(void **state)
{
    (void)state;
    s_decode_fails((const uint8_t *)"", 0, "no body");
}

static void test_decode_no_body(void **state)
{
    (void)state;
    wr_t w = {0};
    s_put_str(&w, 1, "db-17");
    s_put_str(&w, 2, "boot");
    s_put_tag(&w, 4, 0);
    s_put_varint(&w, 9);
    s_decode_fails(w.b, w.n, "no body");
    /* a body from a newer sender (field 20) that this decoder does not know */
    s_put_str(&w, 20, "\x08\x01");
    s_decode_fails(w.b, w.n, "no body");
    free(w.b);
}

static void test_decode_garbage(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    uint8_t buf[128];
    int decoded = 0;
    for (int iter = 0; iter < 200000; iter++) {
        size_t len = s_rand(&x) % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)(s_rand(&x) >> 32);
        if (iter % 2) /* half start like an envelope: a host, then a batch tag */
            memcpy(buf, "\x0a\x01h\x5a", len < 4 ? len : 4);
        char err[256];
        msg_t *msg = s_decode_copy(buf, len, err, sizeof err);
        decoded += msg != NULL;
        codec_msg_destroy(&msg);
    }
    print_message("%d of 200000 random inputs decoded\n", decoded);
}

/* The shared batch with one to four random bytes overwritten: gets past
 * the protobuf layer to the batch checks far more often than garbage. */
static void test_decode_mutated(void **state)
{
    (void)state;
    msg_t in = s_batch();
    size_t len;
    uint8_t *buf = s_encode(&in, &len), *copy = malloc(len);
    uint64_t x = 0x2545F4914F6CDD1DULL;
    int decoded = 0;
    for (int iter = 0; iter < 100000; iter++) {
        memcpy(copy, buf, len);
        for (int k = 0; k <= iter % 4; k++) {
            s_rand(&x);
            copy[(x >> 8) % len] = (uint8_t)x;
        }
        char err[256];
        msg_t *msg = s_decode_copy(copy, len, err, sizeof err);
        decoded += msg != NULL;
        codec_msg_destroy(&msg);
    }
    print_message("%d of 100000 mutated batches decoded\n", decoded);
    free(copy);
    free(buf);
}

/* The body is the last field on the wire, so every proper prefix lacks it
 * or cuts it: none may decode. */
static void test_decode_truncated(void **state)
{
    (void)state;
    msg_t in = s_batch();
    size_t len;
    char err[256];
    uint8_t *buf = s_encode(&in, &len);
    for (size_t cut = 0; cut < len; cut++) {
        msg_t *msg = s_decode_copy(buf, cut, err, sizeof err);
        if (msg) {
            codec_msg_destroy(&msg);
            fail_msg("a prefix of %zu of %zu bytes decoded", cut, len);
        }
    }
    msg_t *whole = s_decode_copy(buf, len, err, sizeof err);
    assert_non_null(whole);
    codec_msg_destroy(&whole);
    free(buf);
}

/* series has 2 entries, values 1, deltas and flags 2 each. */
static void test_decode_columns_differ(void **state)
{
    (void)state;
    static const uint64_t two[] = {1, 2}, one[] = {7};
    wr_t batch = {0};
    s_put_tag(&batch, 1, 0);
    s_put_varint(&batch, 100);
    s_put_packed(&batch, 5, two, 2);
    s_put_packed(&batch, 6, one, 1);
    s_put_packed(&batch, 7, two, 2);
    s_put_packed(&batch, 8, two, 2);
    wr_t env = s_env_with_batch(&batch);
    s_decode_fails(env.b, env.n, "columns differ in length: series 2, values 1, deltas 2, flags 2");
    free(env.b);
}

/* A batch holding one definition, which the decoder must refuse. */
static void s_bad_def(series_def_t def, const char *want)
{
    msg_t in = s_envelope(MSG_TYPE_BATCH);
    in.batch = (batch_t){.ndefs = 1, .defs = &def};
    s_encoded_fails(&in, want);
}

static void test_decode_bad_def(void **state)
{
    (void)state;
    char longname[CODEC_MAX_STRING + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const series_def_t ok = {9, "netdev", "eth0", "rx_dropped", KIND_COUNTER, LAYER_NIC, true, ""};
    const char *bad_string = "(id 9) has an empty or overlong string";
#define BAD_DEF(field, value, want)                                                                \
    do {                                                                                           \
        series_def_t d_ = ok;                                                                      \
        d_.field = value;                                                                          \
        s_bad_def(d_, want);                                                                       \
    } while (0)
    BAD_DEF(kind, KIND_UNKNOWN, "series definition 9 has unknown kind 0 or layer 1");
    BAD_DEF(layer, (layer_t)99, "series definition 9 has unknown kind 1 or layer 99");
    BAD_DEF(layer, LAYER_UNKNOWN, "unknown kind 1 or layer 0");
    BAD_DEF(kind, KIND_COUNT, "unknown kind 4");
    BAD_DEF(name, "", "definition 0 (id 9) has an empty or overlong string");
    BAD_DEF(source, "", bad_string);
    BAD_DEF(device, longname, bad_string);
    BAD_DEF(owner, longname, bad_string); /* what the characters mean is validate.c's */
#undef BAD_DEF
    /* 255 bytes is still allowed */
    longname[CODEC_MAX_STRING] = '\0';
    series_def_t d = ok;
    d.name = longname;
    msg_t in = s_envelope(MSG_TYPE_BATCH);
    in.batch = (batch_t){.ndefs = 1, .defs = &d};
    msg_t *out = s_round_trip(&in);
    assert_int_equal(strlen(out->batch.defs[0].name), CODEC_MAX_STRING);
    codec_msg_destroy(&out);
}

static void s_bad_burst(burst_msg_t burst)
{
    msg_t in = s_envelope(MSG_TYPE_BATCH);
    in.batch = (batch_t){.nbursts = 1, .bursts = &burst};
    s_encoded_fails(&in, "burst 0 is malformed");
}

/* A gap without a group, or with a port beyond 16 bits (the wire's field
 * is 32 bits), is malformed; more gaps than CODEC_MAX_GAPS are refused. */
static void test_decode_bad_gap(void **state)
{
    (void)state;
    gap_msg_t g = s_gaps[0];
    g.group = "";
    msg_t in = s_envelope(MSG_TYPE_BATCH);
    in.batch = (batch_t){.ngaps = 1, .gaps = &g};
    s_encoded_fails(&in, "gap 0 is malformed (an empty or overlong group, or port 5000)");
    g = s_gaps[0];
    g.port = 65536;
    s_encoded_fails(&in, "gap 0 is malformed");
    wr_t batch = {0}, gap = {0};
    s_put_str(&gap, 6, "239.1.1.1");
    for (size_t i = 0; i <= CODEC_MAX_GAPS; i++)
        s_put_bytes(&batch, 15, gap.b, gap.n);
    free(gap.b);
    wr_t env = s_env_with_batch(&batch);
    s_decode_fails(env.b, env.n, "batch has 100001 gaps (limit 100000)");
    free(env.b);
}

static void test_decode_bad_burst(void **state)
{
    (void)state;
#define BAD_BURST(base, field, value)                                                              \
    do {                                                                                           \
        burst_msg_t b_ = s_bursts[base];                                                           \
        b_.field = value;                                                                          \
        s_bad_burst(b_);                                                                           \
    } while (0)
    BAD_BURST(0, iface, ""); /* times and ticks are validate.c's */
#undef BAD_BURST
    burst_msg_t b = s_bursts[0];
    uint32_t *ticks = calloc(CODEC_MAX_PROFILE + 1, sizeof *ticks);
    b.profile = ticks;
    b.nprofile = CODEC_MAX_PROFILE + 1;
    s_bad_burst(b);
    free(ticks);
    /* more drop layers than there are layers, and more bursts than allowed */
    uint64_t drops[LAYER_COUNT + 1] = {0};
    wr_t burst = {0}, batch = {0};
    s_put_str(&burst, 1, "eth0");
    s_put_packed(&burst, 9, drops, LAYER_COUNT + 1);
    s_put_bytes(&batch, 9, burst.b, burst.n);
    free(burst.b);
    wr_t env = s_env_with_batch(&batch);
    s_decode_fails(env.b, env.n, "burst 0 is malformed");
    free(env.b);
    batch = (wr_t){0};
    for (size_t i = 0; i <= CODEC_MAX_BURSTS; i++)
        s_put_bytes(&batch, 9, "", 0);
    env = s_env_with_batch(&batch);
    s_decode_fails(env.b, env.n, "batch has 10001 bursts (limit 10000)");
    free(env.b);
}

static void s_bad_host(const char *host, const char *boot_id)
{
    msg_t in = s_envelope(MSG_TYPE_HEARTBEAT);
    in.host = host;
    in.boot_id = boot_id;
    s_encoded_fails(&in, "envelope host is empty, or host or boot_id is longer than 255 bytes");
}

static void test_decode_bad_host(void **state)
{
    (void)state;
    char host[CODEC_MAX_STRING + 2];
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    s_bad_host(host, "b");
    s_bad_host("", "b");
    s_bad_host("db-17", host);
    /* 255 bytes and UTF-8 are fine */
    host[CODEC_MAX_STRING] = '\0';
    msg_t in = s_envelope(MSG_TYPE_HEARTBEAT);
    in.host = host;
    msg_t *out = s_round_trip(&in);
    codec_msg_destroy(&out);
    in.host = "h\xc3\xb4te-\xc3\xa9t\xc3\xa9";
    out = s_round_trip(&in);
    codec_msg_destroy(&out);
}

static void test_decode_bad_ack_and_hello(void **state)
{
    (void)state;
    msg_t in = s_envelope(MSG_TYPE_ACK);
    in.ack = (ack_t){.seq = 1, .status = (ack_status_t)3, .error = ""};
    s_encoded_fails(&in, "ack has an unknown status or an overlong error string");
    char longtext[CODEC_MAX_STRING + 2];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    in.ack = (ack_t){.seq = 1, .status = ACK_REJECTED, .error = longtext};
    s_encoded_fails(&in, "ack has an unknown status or an overlong error string");
    in = s_envelope(MSG_TYPE_HELLO);
    in.hello = (hello_t){"0.3", longtext, "none", 4, 1, 1, "", 0, NULL};
    s_encoded_fails(&in, "hello has an overlong string");
    in.hello = (hello_t){"0.3", "6.18", "netlink", 4, 1, 1, longtext, 0, NULL};
    s_encoded_fails(&in, "hello has an overlong string");
}

/* The degraded features: carried in order, none when none, and bounded
 * in count (both ways: the encoder refuses, and a hand-made frame is
 * refused) and in each entry's length. */
static void test_hello_degraded(void **state)
{
    (void)state;
    static const char *const two[] = {
        "socket owners: only this user's processes (uid 65534) are named (needs CAP_SYS_PTRACE)",
        "ebpf backend: not loaded (needs CAP_BPF and CAP_PERFMON), using netlink"};
    msg_t in = s_envelope(MSG_TYPE_HELLO);
    in.hello = (hello_t){"0.3", "6.18", "netlink", 4, 1, 1, "ebpf: EPERM", 2, two};
    msg_t *out = s_round_trip(&in);
    assert_int_equal(out->hello.ndegraded, 2);
    assert_string_equal(out->hello.degraded[0], two[0]);
    assert_string_equal(out->hello.degraded[1], two[1]);
    codec_msg_destroy(&out);
    in.hello.ndegraded = 0;
    out = s_round_trip(&in);
    assert_int_equal(out->hello.ndegraded, 0);
    codec_msg_destroy(&out);

    const char *nine[CODEC_MAX_DEGRADED + 1];
    for (size_t i = 0; i < CODEC_MAX_DEGRADED + 1; i++)
        nine[i] = "x: y";
    in.hello.ndegraded = CODEC_MAX_DEGRADED + 1;
    in.hello.degraded = nine;
    char err[256] = "";
    uint8_t *buf = NULL;
    size_t len;
    assert_int_equal(codec_encode(&in, &buf, &len, err, sizeof err), -1);
    assert_string_equal(err, "hello names 9 degraded features (at most 8)");
    wr_t hello = {0}, env = {0};
    for (size_t i = 0; i < CODEC_MAX_DEGRADED + 1; i++)
        s_put_str(&hello, 8, "x: y");
    s_put_str(&env, 1, "db-17");
    s_put_bytes(&env, 10, hello.b, hello.n);
    free(hello.b);
    s_decode_fails(env.b, env.n, "hello names 9 degraded features (at most 8)");
    free(env.b);

    char longtext[CODEC_MAX_STRING + 2];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    const char *bad[2] = {"x: y", longtext};
    in.hello.ndegraded = 2;
    in.hello.degraded = bad;
    s_encoded_fails(&in, "hello degraded[1] is empty or overlong (at most 255 bytes)");
    bad[1] = "";
    s_encoded_fails(&in, "hello degraded[1] is empty or overlong");
}

/* More definitions than CODEC_MAX_DEFS, which only a hand-made frame holds. */
static void test_decode_too_many_defs(void **state)
{
    (void)state;
    wr_t batch = {0};
    for (size_t i = 0; i <= CODEC_MAX_DEFS; i++)
        s_put_bytes(&batch, 4, "", 0);
    wr_t env = s_env_with_batch(&batch);
    s_decode_fails(env.b, env.n, "batch too large: 65537 definitions, 0 samples");
    free(env.b);
}

static void test_heartbeat_destroy_null_and_twice(void **state)
{
    (void)state;
    codec_msg_destroy(NULL);
    msg_t *msg = NULL;
    codec_msg_destroy(&msg);
    assert_null(msg);
    msg_t in = s_envelope(MSG_TYPE_HEARTBEAT); /* and a heartbeat round trip */
    in.seq = in.incarnation = 0;
    msg = s_round_trip(&in);
    codec_msg_destroy(&msg);
    assert_null(msg);
    codec_msg_destroy(&msg);
    assert_null(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_round_trip),
        cmocka_unit_test(test_hello_degraded),
        cmocka_unit_test(test_batch_round_trip),
        cmocka_unit_test(test_ack_round_trip),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_decode_empty),
        cmocka_unit_test(test_decode_no_body),
        cmocka_unit_test(test_decode_garbage),
        cmocka_unit_test(test_decode_mutated),
        cmocka_unit_test(test_decode_truncated),
        cmocka_unit_test(test_decode_columns_differ),
        cmocka_unit_test(test_decode_bad_def),
        cmocka_unit_test(test_decode_bad_burst),
        cmocka_unit_test(test_decode_bad_gap),
        cmocka_unit_test(test_decode_bad_host),
        cmocka_unit_test(test_decode_bad_ack_and_hello),
        cmocka_unit_test(test_decode_too_many_defs),
        cmocka_unit_test(test_heartbeat_destroy_null_and_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
