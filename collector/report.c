/* report: builds the columns of a Batch in one pass over the registry. The
 * arrays are sized for every series, which is at most a few thousand. */
#include "report.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "ts.h"

typedef struct {
    bool full;
    bool all_defs;
    uint64_t seq;
    size_t nsamples, ndefs;
    uint32_t *series;
    uint64_t *values;
    int64_t *deltas;
    uint32_t *flags;
    series_def_t *defs;
} batch_build_t;

/* A batch carries the definition of every series it has a sample of and
 * whose definition the aggregator has not acknowledged, so each batch can
 * be stored on its own even if the spool dropped older ones. Ids go out
 * ascending (series_each's order), as the aggregator requires. */
static void s_add(void *ctx, series_entry_t *e)
{
    batch_build_t *b = ctx;
    bool sampled = e->changed || (b->full && e->present);
    if (!e->def_acked && (sampled || b->all_defs)) {
        b->defs[b->ndefs++] =
            (series_def_t){e->id,       e->source,    e->device,      e->name,
                           e->cls.kind, e->cls.layer, e->cls.overlap, e->owner ? e->owner : ""};
        e->def_seq = b->seq;
    }
    if (!sampled)
        return;
    size_t i = b->nsamples++;
    b->series[i] = e->id;
    b->values[i] = e->value;
    b->deltas[i] = e->delta;
    b->flags[i] = e->flags;
}

static msg_t s_envelope(const report_id_t *id, uint64_t seq, msg_type_t type)
{
    return (msg_t){.host = id->host,
                   .boot_id = id->boot_id,
                   .incarnation = id->incarnation,
                   .seq = seq,
                   .sent_ns = ts_now_ns(),
                   .type = type};
}

int report_batch(series_t *series, const report_id_t *id, const report_batch_t *rb,
                 uint8_t **buf_p, size_t *len_p, size_t *nsamples_p, char *err, size_t errsz)
{
    size_t n = series_count(series) + 1;
    batch_build_t b = {.full = rb->full, .all_defs = rb->all_defs, .seq = rb->seq};
    b.series = calloc(n, sizeof *b.series);
    b.values = calloc(n, sizeof *b.values);
    b.deltas = calloc(n, sizeof *b.deltas);
    b.flags = calloc(n, sizeof *b.flags);
    b.defs = calloc(n, sizeof *b.defs);
    int rc = -1;
    if (!b.series || !b.values || !b.deltas || !b.flags || !b.defs) {
        snprintf(err, errsz, "out of memory building a batch of %zu series", n);
        goto out;
    }
    series_each(series, s_add, &b);
    msg_t msg = s_envelope(id, rb->seq, MSG_TYPE_BATCH);
    msg.batch = (batch_t){.ts_ns = rb->ts_ns,
                          .prev_ts_ns = rb->prev_ts_ns,
                          .full = rb->full,
                          .ndefs = b.ndefs,
                          .defs = b.defs,
                          .nsamples = b.nsamples,
                          .series = b.series,
                          .values = b.values,
                          .deltas = b.deltas,
                          .flags = b.flags,
                          .nbursts = rb->nbursts,
                          .bursts = rb->bursts,
                          .spool_dropped_messages = rb->spool_dropped_messages,
                          .spool_dropped_samples = rb->spool_dropped_samples,
                          .clock = rb->clock,
                          .spool_rejected_messages = rb->spool_rejected_messages,
                          .spool_rejected_samples = rb->spool_rejected_samples,
                          .ngaps = rb->ngaps,
                          .gaps = rb->gaps};
    rc = codec_encode(&msg, buf_p, len_p, err, errsz);
    if (nsamples_p)
        *nsamples_p = b.nsamples;
out:
    free(b.series);
    free(b.values);
    free(b.deltas);
    free(b.flags);
    free(b.defs);
    return rc;
}

int report_hello(const report_id_t *id, uint64_t seq, const hello_t *hello, uint8_t **buf_p,
                 size_t *len_p, char *err, size_t errsz)
{
    msg_t msg = s_envelope(id, seq, MSG_TYPE_HELLO);
    msg.hello = *hello;
    return codec_encode(&msg, buf_p, len_p, err, errsz);
}

static void s_json_series(void *ctx, series_entry_t *e)
{
    json_t *array = ctx;
    if (!e->present)
        return;
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "source", e->source, "device",
                            e->device, "name", e->name, "kind", kind_name(e->cls.kind), "layer",
                            layer_name(e->cls.layer), "value", (json_int_t)e->value, "overlap",
                            e->cls.overlap);
    if (row && e->owner)
        json_object_set_new(row, "owner", json_string(e->owner));
    json_array_append_new(array, row);
}

char *report_json(series_t *series, const report_id_t *id, int64_t ts_ns)
{
    json_t *array = json_array();
    json_t *doc = json_pack("{s:s, s:s, s:I, s:o}", "host", id->host, "boot_id", id->boot_id,
                            "ts_ns", (json_int_t)ts_ns, "series", array);
    if (!doc)
        return NULL;
    series_each(series, s_json_series, array);
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    return text;
}
