/* codec: protobuf-c behind plain structs. Encoding builds the generated
 * structs around the caller's arrays without copying them; decoding keeps
 * protobuf-c's unpacked tree alive inside the msg_t and points into it.
 * Assumes messages are at most a few MB (ZMQ_MAXMSGSIZE caps them before
 * they get here). */
#include "codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropscope.pb-c.h"

typedef struct {
    Dropscope__Envelope *env; /* protobuf-c's decoded tree */
    series_def_t *defs;       /* converted definitions */
} owned_t;

static void s_err(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_err(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

const char *codec_type_name(msg_type_t type)
{
    switch (type) {
    case MSG_TYPE_HELLO: return "hello";
    case MSG_TYPE_BATCH: return "batch";
    case MSG_TYPE_HEARTBEAT: return "heartbeat";
    case MSG_TYPE_ACK: return "ack";
    default: return "none";
    }
}

/* A string is acceptable if it is short and free of control characters, so
 * it can go into logs, SQL parameters and JSON without surprises. */
static bool s_string_ok(const char *s, bool may_be_empty)
{
    if (!s)
        return may_be_empty;
    size_t n = strnlen(s, CODEC_MAX_STRING + 1);
    if (n > CODEC_MAX_STRING || (n == 0 && !may_be_empty))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static char *s_str(const char *s)
{
    return (char *)(s ? s : "");
}

/* --- encode ---------------------------------------------------------------- */

static int s_encode_batch(const batch_t *b, Dropscope__Batch *pb, Dropscope__SeriesDef *defs,
                          Dropscope__SeriesDef **def_ptrs)
{
    pb->ts_ns = b->ts_ns;
    pb->prev_ts_ns = b->prev_ts_ns;
    pb->full = b->full;
    for (size_t i = 0; i < b->ndefs; i++) {
        const series_def_t *d = &b->defs[i];
        dropscope__series_def__init(&defs[i]);
        defs[i].id = d->id;
        defs[i].source = s_str(d->source);
        defs[i].device = s_str(d->device);
        defs[i].name = s_str(d->name);
        defs[i].kind = (Dropscope__Kind)d->kind;
        defs[i].layer = (Dropscope__Layer)d->layer;
        defs[i].overlap = d->overlap;
        defs[i].owner = s_str(d->owner);
        def_ptrs[i] = &defs[i];
    }
    pb->n_defs = b->ndefs;
    pb->defs = def_ptrs;
    pb->n_series = pb->n_values = pb->n_deltas = pb->n_flags = b->nsamples;
    pb->series = (uint32_t *)b->series;
    pb->values = (uint64_t *)b->values;
    pb->deltas = (int64_t *)b->deltas;
    pb->flags = (uint32_t *)b->flags;
    return 0;
}

int codec_encode(const msg_t *msg, uint8_t **buf_p, size_t *len_p, char *err, size_t errsz)
{
    Dropscope__Envelope env = DROPSCOPE__ENVELOPE__INIT;
    Dropscope__Hello hello = DROPSCOPE__HELLO__INIT;
    Dropscope__Batch batch = DROPSCOPE__BATCH__INIT;
    Dropscope__Heartbeat heartbeat = DROPSCOPE__HEARTBEAT__INIT;
    Dropscope__Ack ack = DROPSCOPE__ACK__INIT;
    Dropscope__SeriesDef *defs = NULL;
    Dropscope__SeriesDef **def_ptrs = NULL;
    int rc = -1;

    env.host = s_str(msg->host);
    env.boot_id = s_str(msg->boot_id);
    env.incarnation = msg->incarnation;
    env.seq = msg->seq;
    env.sent_ns = msg->sent_ns;
    switch (msg->type) {
    case MSG_TYPE_HELLO:
        hello.collector_version = s_str(msg->hello.collector_version);
        hello.kernel = s_str(msg->hello.kernel);
        hello.backend = s_str(msg->hello.backend);
        hello.ncpus = msg->hello.ncpus;
        hello.interval_ns = msg->hello.interval_ns;
        hello.started_ns = msg->hello.started_ns;
        env.body_case = DROPSCOPE__ENVELOPE__BODY_HELLO;
        env.hello = &hello;
        break;
    case MSG_TYPE_BATCH:
        if (msg->batch.ndefs > CODEC_MAX_DEFS || msg->batch.nsamples > CODEC_MAX_SAMPLES) {
            s_err(err, errsz, "batch too large: %zu definitions, %zu samples (limits %d, %d)",
                  msg->batch.ndefs, msg->batch.nsamples, CODEC_MAX_DEFS, CODEC_MAX_SAMPLES);
            return -1;
        }
        defs = calloc(msg->batch.ndefs + 1, sizeof *defs);
        def_ptrs = calloc(msg->batch.ndefs + 1, sizeof *def_ptrs);
        if (!defs || !def_ptrs) {
            s_err(err, errsz, "out of memory encoding a batch");
            goto out;
        }
        s_encode_batch(&msg->batch, &batch, defs, def_ptrs);
        env.body_case = DROPSCOPE__ENVELOPE__BODY_BATCH;
        env.batch = &batch;
        break;
    case MSG_TYPE_HEARTBEAT:
        env.body_case = DROPSCOPE__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &heartbeat;
        break;
    case MSG_TYPE_ACK:
        ack.seq = msg->ack.seq;
        ack.t1_ns = msg->ack.t1_ns;
        ack.t2_ns = msg->ack.t2_ns;
        ack.t3_ns = msg->ack.t3_ns;
        ack.status = (Dropscope__AckStatus)msg->ack.status;
        ack.error = s_str(msg->ack.error);
        env.body_case = DROPSCOPE__ENVELOPE__BODY_ACK;
        env.ack = &ack;
        break;
    default:
        s_err(err, errsz, "cannot encode a message without a body");
        return -1;
    }
    size_t len = dropscope__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        s_err(err, errsz, "out of memory encoding %zu bytes", len);
        goto out;
    }
    dropscope__envelope__pack(&env, buf);
    *buf_p = buf;
    *len_p = len;
    rc = 0;
out:
    free(defs);
    free(def_ptrs);
    return rc;
}

/* --- decode ---------------------------------------------------------------- */

static int s_decode_batch(const Dropscope__Batch *pb, msg_t *msg, owned_t *own, char *err,
                          size_t errsz)
{
    size_t n = pb->n_series;
    if (pb->n_values != n || pb->n_deltas != n || pb->n_flags != n) {
        s_err(err, errsz, "batch columns differ in length: series %zu, values %zu, deltas %zu, flags %zu",
              pb->n_series, pb->n_values, pb->n_deltas, pb->n_flags);
        return -1;
    }
    if (n > CODEC_MAX_SAMPLES || pb->n_defs > CODEC_MAX_DEFS) {
        s_err(err, errsz, "batch too large: %zu definitions, %zu samples", pb->n_defs, n);
        return -1;
    }
    own->defs = calloc(pb->n_defs + 1, sizeof *own->defs);
    if (!own->defs) {
        s_err(err, errsz, "out of memory decoding %zu definitions", pb->n_defs);
        return -1;
    }
    for (size_t i = 0; i < pb->n_defs; i++) {
        const Dropscope__SeriesDef *d = pb->defs[i];
        if (!s_string_ok(d->source, false) || !s_string_ok(d->device, true) ||
            !s_string_ok(d->name, false) || !s_string_ok(d->owner, true)) {
            s_err(err, errsz, "series definition %zu (id %u) has an empty, overlong or binary string",
                  i, d->id);
            return -1;
        }
        if ((int)d->kind <= 0 || (int)d->kind >= KIND_COUNT || (int)d->layer <= 0 ||
            (int)d->layer >= LAYER_COUNT) {
            s_err(err, errsz, "series definition %u has unknown kind %d or layer %d", d->id,
                  (int)d->kind, (int)d->layer);
            return -1;
        }
        own->defs[i] = (series_def_t){d->id,         d->source,        d->device,
                                      d->name,       (kind_t)d->kind,  (layer_t)d->layer,
                                      d->overlap,    d->owner ? d->owner : ""};
    }
    msg->batch = (batch_t){pb->ts_ns, pb->prev_ts_ns, pb->full,   pb->n_defs, own->defs,
                           n,         pb->series,     pb->values, pb->deltas, pb->flags};
    return 0;
}

static int s_decode_body(const Dropscope__Envelope *env, msg_t *msg, owned_t *own, char *err,
                         size_t errsz)
{
    switch (env->body_case) {
    case DROPSCOPE__ENVELOPE__BODY_HELLO: {
        const Dropscope__Hello *h = env->hello;
        if (!s_string_ok(h->collector_version, true) || !s_string_ok(h->kernel, true) ||
            !s_string_ok(h->backend, true)) {
            s_err(err, errsz, "hello has an overlong or binary string");
            return -1;
        }
        msg->type = MSG_TYPE_HELLO;
        msg->hello = (hello_t){h->collector_version, h->kernel, h->backend,
                               h->ncpus, h->interval_ns, h->started_ns};
        return 0;
    }
    case DROPSCOPE__ENVELOPE__BODY_BATCH:
        msg->type = MSG_TYPE_BATCH;
        return s_decode_batch(env->batch, msg, own, err, errsz);
    case DROPSCOPE__ENVELOPE__BODY_HEARTBEAT:
        msg->type = MSG_TYPE_HEARTBEAT;
        return 0;
    case DROPSCOPE__ENVELOPE__BODY_ACK: {
        const Dropscope__Ack *a = env->ack;
        if (!s_string_ok(a->error, true) || a->status < 0 || a->status > 2) {
            s_err(err, errsz, "ack has an unknown status or a bad error string");
            return -1;
        }
        msg->type = MSG_TYPE_ACK;
        msg->ack = (ack_t){a->seq,    a->t1_ns, a->t2_ns, a->t3_ns, (ack_status_t)a->status,
                           a->error ? a->error : ""};
        return 0;
    }
    default:
        s_err(err, errsz, "message has no body or an unknown message type (field %d)",
              (int)env->body_case);
        return -1;
    }
}

msg_t *codec_decode(const uint8_t *buf, size_t len, char *err, size_t errsz)
{
    msg_t *msg = calloc(1, sizeof *msg);
    owned_t *own = calloc(1, sizeof *own);
    if (!msg || !own) {
        free(msg);
        free(own);
        s_err(err, errsz, "out of memory decoding %zu bytes", len);
        return NULL;
    }
    msg->owned_ = own;
    own->env = dropscope__envelope__unpack(NULL, len, buf);
    if (!own->env) {
        s_err(err, errsz, "truncated or malformed protobuf (%zu bytes)", len);
        goto fail;
    }
    const Dropscope__Envelope *env = own->env;
    if (!s_string_ok(env->host, false) || !s_string_ok(env->boot_id, true)) {
        s_err(err, errsz, "envelope host is empty, longer than %d bytes or not text",
              CODEC_MAX_STRING);
        goto fail;
    }
    msg->host = env->host;
    msg->boot_id = env->boot_id;
    msg->incarnation = env->incarnation;
    msg->seq = env->seq;
    msg->sent_ns = env->sent_ns;
    if (s_decode_body(env, msg, own, err, errsz) != 0)
        goto fail;
    return msg;
fail:
    codec_msg_destroy(&msg);
    return NULL;
}

void codec_msg_destroy(msg_t **msg_p)
{
    if (!msg_p || !*msg_p)
        return;
    owned_t *own = (*msg_p)->owned_;
    if (own) {
        if (own->env)
            dropscope__envelope__free_unpacked(own->env, NULL);
        free(own->defs);
        free(own);
    }
    free(*msg_p);
    *msg_p = NULL;
}
