/* codec: protobuf-c behind plain structs. Encoding builds the generated
 * structs around the caller's arrays without copying them; decoding keeps
 * protobuf-c's unpacked tree alive inside the msg_t and points into it.
 * Assumes messages are at most a few MB (ZMQ_MAXMSGSIZE caps them before
 * they get here). */
#include "codec.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropscope.pb-c.h"

/* Where protobuf-c puts a decoded tree: chunks carved from the front and
 * freed all at once with the message. A batch carrying a host's ~270
 * definitions is ~1,300 small allocations otherwise, each freed again,
 * and the heap that churn leaves behind made every page SQLite's cache
 * allocates next slower (malloc was a fifth of a fleet's registration). */
typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} chunk_t;

#define ARENA_CHUNK 65536

typedef struct {
    Dropscope__Envelope *env; /* protobuf-c's decoded tree, in chunks */
    chunk_t *chunks;          /* newest first */
    series_def_t *defs;       /* converted definitions */
    burst_msg_t *bursts;      /* converted bursts */
    gap_msg_t *gaps;          /* converted gaps */
} owned_t;

static void *s_arena_alloc(void *data, size_t size)
{
    owned_t *own = data;
    if (size > SIZE_MAX / 2)
        return NULL;
    size = (size + 15) & ~(size_t)15;
    chunk_t *c = own->chunks;
    if (!c || c->size - c->used < size) {
        size_t room = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        if (!(c = malloc(sizeof *c + room)))
            return NULL;
        *c = (chunk_t){own->chunks, 0, room};
        own->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

static void s_arena_free(void *data, void *p)
{
    (void)data;
    (void)p; /* freed with the message */
}

/* Encoding scratch: the generated structs around a batch's arrays. */
typedef struct {
    Dropscope__SeriesDef *defs;
    Dropscope__SeriesDef **def_ptrs;
    Dropscope__Burst *bursts;
    Dropscope__Burst **burst_ptrs;
    Dropscope__Gap *gaps;
    Dropscope__Gap **gap_ptrs;
} scratch_t;

/* The layers a burst's drops are sent for: all but upstream, which no
 * counter of the host has (it lost nothing there), so an aggregator that
 * predates it, and takes at most that many, still takes our bursts. */
#define BURST_LAYERS LAYER_UPSTREAM

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

/* A string of acceptable size (its content is validate.c's to judge). */
static bool s_string_ok(const char *s, bool may_be_empty)
{
    if (!s)
        return may_be_empty;
    size_t n = strnlen(s, CODEC_MAX_STRING + 1);
    return n <= CODEC_MAX_STRING && (n > 0 || may_be_empty);
}

static char *s_str(const char *s)
{
    return (char *)(s ? s : "");
}

/* --- encode ---------------------------------------------------------------- */

static void s_encode_burst(const burst_msg_t *b, Dropscope__Burst *pb)
{
    dropscope__burst__init(pb);
    pb->iface = s_str(b->iface);
    pb->tx = b->tx;
    pb->start_ns = b->start_ns;
    pb->end_ns = b->end_ns;
    pb->peak_per_ms = b->peak_per_ms;
    pb->packets = b->packets;
    pb->bytes = b->bytes;
    pb->threshold_per_ms = b->threshold_per_ms;
    pb->n_drops = BURST_LAYERS;
    pb->drops = (uint64_t *)b->drops;
    pb->profile_start_ns = b->profile_start_ns;
    pb->tick_ns = b->tick_ns;
    pb->n_profile = b->nprofile;
    pb->profile = (uint32_t *)b->profile;
    pb->profile_complete = b->profile_complete;
}

static int s_encode_batch(const batch_t *b, Dropscope__Batch *pb, Dropscope__Clock *clock,
                          scratch_t *sc)
{
    sc->defs = calloc(b->ndefs + 1, sizeof *sc->defs);
    sc->def_ptrs = calloc(b->ndefs + 1, sizeof *sc->def_ptrs);
    sc->bursts = calloc(b->nbursts + 1, sizeof *sc->bursts);
    sc->burst_ptrs = calloc(b->nbursts + 1, sizeof *sc->burst_ptrs);
    sc->gaps = calloc(b->ngaps + 1, sizeof *sc->gaps);
    sc->gap_ptrs = calloc(b->ngaps + 1, sizeof *sc->gap_ptrs);
    if (!sc->defs || !sc->def_ptrs || !sc->bursts || !sc->burst_ptrs || !sc->gaps ||
        !sc->gap_ptrs)
        return -1;
    pb->ts_ns = b->ts_ns;
    pb->prev_ts_ns = b->prev_ts_ns;
    pb->full = b->full;
    for (size_t i = 0; i < b->ndefs; i++) {
        const series_def_t *d = &b->defs[i];
        Dropscope__SeriesDef *out = &sc->defs[i];
        dropscope__series_def__init(out);
        out->id = d->id;
        out->source = s_str(d->source);
        out->device = s_str(d->device);
        out->name = s_str(d->name);
        out->kind = (Dropscope__Kind)d->kind;
        out->layer = (Dropscope__Layer)d->layer;
        out->overlap = d->overlap;
        out->owner = s_str(d->owner);
        sc->def_ptrs[i] = out;
    }
    pb->n_defs = b->ndefs;
    pb->defs = sc->def_ptrs;
    pb->n_series = pb->n_values = pb->n_deltas = pb->n_flags = b->nsamples;
    pb->series = (uint32_t *)b->series;
    pb->values = (uint64_t *)b->values;
    pb->deltas = (int64_t *)b->deltas;
    pb->flags = (uint32_t *)b->flags;
    for (size_t i = 0; i < b->nbursts; i++) {
        s_encode_burst(&b->bursts[i], &sc->bursts[i]);
        sc->burst_ptrs[i] = &sc->bursts[i];
    }
    pb->n_bursts = b->nbursts;
    pb->bursts = sc->burst_ptrs;
    for (size_t i = 0; i < b->ngaps; i++) {
        const gap_msg_t *g = &b->gaps[i];
        Dropscope__Gap *out = &sc->gaps[i];
        dropscope__gap__init(out);
        *out = (Dropscope__Gap){out->base,      g->start_ns,  g->end_ns,       g->missing,
                                g->first_seq,   g->last_seq,  s_str(g->group), g->port};
        sc->gap_ptrs[i] = out;
    }
    pb->n_gaps = b->ngaps;
    pb->gaps = sc->gap_ptrs;
    pb->spool_dropped_messages = b->spool_dropped_messages;
    pb->spool_dropped_samples = b->spool_dropped_samples;
    pb->spool_rejected_messages = b->spool_rejected_messages;
    pb->spool_rejected_samples = b->spool_rejected_samples;
    clock->offset_valid = b->clock.offset_valid;
    clock->offset_ns = b->clock.offset_ns;
    clock->rtt_ns = b->clock.rtt_ns;
    clock->synced = b->clock.synced;
    clock->maxerror_ns = b->clock.maxerror_ns;
    clock->esterror_ns = b->clock.esterror_ns;
    pb->clock = clock;
    return 0;
}

int codec_encode(const msg_t *msg, uint8_t **buf_p, size_t *len_p, char *err, size_t errsz)
{
    Dropscope__Envelope env = DROPSCOPE__ENVELOPE__INIT;
    Dropscope__Hello hello = DROPSCOPE__HELLO__INIT;
    Dropscope__Batch batch = DROPSCOPE__BATCH__INIT;
    Dropscope__Heartbeat heartbeat = DROPSCOPE__HEARTBEAT__INIT;
    Dropscope__Ack ack = DROPSCOPE__ACK__INIT;
    Dropscope__Clock clock = DROPSCOPE__CLOCK__INIT;
    scratch_t sc = {0};
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
        hello.backend_note = s_str(msg->hello.backend_note);
        hello.ncpus = msg->hello.ncpus;
        hello.interval_ns = msg->hello.interval_ns;
        hello.started_ns = msg->hello.started_ns;
        if (msg->hello.ndegraded > CODEC_MAX_DEGRADED) {
            s_err(err, errsz, "hello names %zu degraded features (at most %d)",
                  msg->hello.ndegraded, CODEC_MAX_DEGRADED);
            return -1;
        }
        /* protobuf-c's packer only reads the array it is handed. */
        hello.n_degraded = msg->hello.ndegraded;
        hello.degraded = (char **)(uintptr_t)msg->hello.degraded;
        env.body_case = DROPSCOPE__ENVELOPE__BODY_HELLO;
        env.hello = &hello;
        break;
    case MSG_TYPE_BATCH:
        if (msg->batch.ndefs > CODEC_MAX_DEFS || msg->batch.nsamples > CODEC_MAX_SAMPLES ||
            msg->batch.nbursts > CODEC_MAX_BURSTS || msg->batch.ngaps > CODEC_MAX_GAPS) {
            s_err(err, errsz, "batch too large: %zu definitions, %zu samples, %zu bursts, %zu "
                  "gaps (limits %d, %d, %d, %d)", msg->batch.ndefs, msg->batch.nsamples,
                  msg->batch.nbursts, msg->batch.ngaps, CODEC_MAX_DEFS, CODEC_MAX_SAMPLES,
                  CODEC_MAX_BURSTS, CODEC_MAX_GAPS);
            return -1;
        }
        if (s_encode_batch(&msg->batch, &batch, &clock, &sc) != 0) {
            s_err(err, errsz, "out of memory encoding a batch");
            goto out;
        }
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
    free(sc.defs);
    free(sc.def_ptrs);
    free(sc.bursts);
    free(sc.burst_ptrs);
    free(sc.gaps);
    free(sc.gap_ptrs);
    return rc;
}

/* --- decode ---------------------------------------------------------------- */

static int s_decode_bursts(const Dropscope__Batch *pb, owned_t *own, char *err, size_t errsz)
{
    if (pb->n_bursts > CODEC_MAX_BURSTS) {
        s_err(err, errsz, "batch has %zu bursts (limit %d)", pb->n_bursts, CODEC_MAX_BURSTS);
        return -1;
    }
    own->bursts = calloc(pb->n_bursts + 1, sizeof *own->bursts);
    if (!own->bursts) {
        s_err(err, errsz, "out of memory decoding %zu bursts", pb->n_bursts);
        return -1;
    }
    for (size_t i = 0; i < pb->n_bursts; i++) {
        const Dropscope__Burst *b = pb->bursts[i];
        if (!s_string_ok(b->iface, false) || b->n_profile > CODEC_MAX_PROFILE ||
            b->n_drops > LAYER_COUNT) {
            s_err(err, errsz, "burst %zu is malformed (interface, %zu profile ticks or %zu drop "
                  "layers)", i, b->n_profile, b->n_drops);
            return -1;
        }
        burst_msg_t *out = &own->bursts[i];
        *out = (burst_msg_t){.iface = b->iface, .tx = b->tx, .start_ns = b->start_ns,
                             .end_ns = b->end_ns, .peak_per_ms = b->peak_per_ms,
                             .packets = b->packets, .bytes = b->bytes,
                             .threshold_per_ms = b->threshold_per_ms,
                             .profile_start_ns = b->profile_start_ns, .tick_ns = b->tick_ns,
                             .nprofile = b->n_profile, .profile = b->profile,
                             .profile_complete = b->profile_complete};
        if (b->n_drops > 0)
            memcpy(out->drops, b->drops, b->n_drops * sizeof *b->drops);
    }
    return 0;
}

static int s_decode_gaps(const Dropscope__Batch *pb, owned_t *own, char *err, size_t errsz)
{
    if (pb->n_gaps > CODEC_MAX_GAPS) {
        s_err(err, errsz, "batch has %zu gaps (limit %d)", pb->n_gaps, CODEC_MAX_GAPS);
        return -1;
    }
    own->gaps = calloc(pb->n_gaps + 1, sizeof *own->gaps);
    if (!own->gaps) {
        s_err(err, errsz, "out of memory decoding %zu gaps", pb->n_gaps);
        return -1;
    }
    for (size_t i = 0; i < pb->n_gaps; i++) {
        const Dropscope__Gap *g = pb->gaps[i];
        if (!s_string_ok(g->group, false) || g->port > 65535) {
            s_err(err, errsz, "gap %zu is malformed (an empty or overlong group, or port %u)", i,
                  g->port);
            return -1;
        }
        own->gaps[i] = (gap_msg_t){g->group,   g->port,      g->start_ns, g->end_ns,
                                   g->missing, g->first_seq, g->last_seq};
    }
    return 0;
}

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
            s_err(err, errsz, "series definition %zu (id %u) has an empty or overlong string",
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
    if (s_decode_bursts(pb, own, err, errsz) != 0 || s_decode_gaps(pb, own, err, errsz) != 0)
        return -1;
    msg->batch = (batch_t){.ts_ns = pb->ts_ns,
                           .prev_ts_ns = pb->prev_ts_ns,
                           .full = pb->full,
                           .ndefs = pb->n_defs,
                           .defs = own->defs,
                           .nsamples = n,
                           .series = pb->series,
                           .values = pb->values,
                           .deltas = pb->deltas,
                           .flags = pb->flags,
                           .nbursts = pb->n_bursts,
                           .bursts = own->bursts,
                           .spool_dropped_messages = pb->spool_dropped_messages,
                           .spool_dropped_samples = pb->spool_dropped_samples,
                           .spool_rejected_messages = pb->spool_rejected_messages,
                           .spool_rejected_samples = pb->spool_rejected_samples,
                           .ngaps = pb->n_gaps,
                           .gaps = own->gaps};
    const Dropscope__Clock *c = pb->clock;
    if (c)
        msg->batch.clock = (clock_msg_t){c->offset_valid, c->offset_ns,   c->rtt_ns,
                                         c->synced,       c->maxerror_ns, c->esterror_ns};
    return 0;
}

int codec_peek(const uint8_t *buf, size_t len, uint64_t *incarnation, uint64_t *seq,
               int64_t *sent_ns)
{
    Dropscope__Envelope *env = dropscope__envelope__unpack(NULL, len, buf);
    if (!env)
        return -1;
    *incarnation = env->incarnation;
    *seq = env->seq;
    *sent_ns = env->sent_ns;
    dropscope__envelope__free_unpacked(env, NULL);
    return 0;
}

static int s_decode_body(const Dropscope__Envelope *env, msg_t *msg, owned_t *own, char *err,
                         size_t errsz)
{
    switch (env->body_case) {
    case DROPSCOPE__ENVELOPE__BODY_HELLO: {
        const Dropscope__Hello *h = env->hello;
        if (!s_string_ok(h->collector_version, true) || !s_string_ok(h->kernel, true) ||
            !s_string_ok(h->backend, true) || !s_string_ok(h->backend_note, true)) {
            s_err(err, errsz, "hello has an overlong string");
            return -1;
        }
        if (h->n_degraded > CODEC_MAX_DEGRADED) {
            s_err(err, errsz, "hello names %zu degraded features (at most %d)", h->n_degraded,
                  CODEC_MAX_DEGRADED);
            return -1;
        }
        for (size_t i = 0; i < h->n_degraded; i++)
            if (!s_string_ok(h->degraded[i], false)) {
                s_err(err, errsz, "hello degraded[%zu] is empty or overlong (at most %d bytes)", i,
                      CODEC_MAX_STRING);
                return -1;
            }
        msg->type = MSG_TYPE_HELLO;
        msg->hello = (hello_t){h->collector_version, h->kernel,      h->backend,     h->ncpus,
                               h->interval_ns,        h->started_ns, h->backend_note,
                               h->n_degraded,         (const char *const *)h->degraded};
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
            s_err(err, errsz, "ack has an unknown status or an overlong error string");
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
    ProtobufCAllocator arena = {s_arena_alloc, s_arena_free, own};
    own->env = dropscope__envelope__unpack(&arena, len, buf);
    if (!own->env) {
        s_err(err, errsz, "truncated or malformed protobuf (%zu bytes)", len);
        goto fail;
    }
    const Dropscope__Envelope *env = own->env;
    if (env->body_case == DROPSCOPE__ENVELOPE__BODY__NOT_SET) {
        s_err(err, errsz, "message has no body or an unknown message type (%zu bytes)", len);
        goto fail;
    }
    if (!s_string_ok(env->host, false) || !s_string_ok(env->boot_id, true)) {
        s_err(err, errsz, "envelope host is empty, or host or boot_id is longer than %d bytes",
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
        while (own->chunks) {
            chunk_t *next = own->chunks->next;
            free(own->chunks);
            own->chunks = next;
        }
        free(own->defs);
        free(own->bursts);
        free(own->gaps);
        free(own);
    }
    free(*msg_p);
    *msg_p = NULL;
}
