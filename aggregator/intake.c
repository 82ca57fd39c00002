/* intake: see intake.h. */
#include "intake.h"

#include <stdio.h>
#include <stdlib.h>

#include "correlate.h"
#include "validate.h"

_Static_assert(VALIDATE_MAX_ID <= STORE_MAX_WIRE_ID, "the store maps every id the wire admits");

static store_clock_t s_clock(const clock_msg_t *c)
{
    return (store_clock_t){c->offset_valid, c->offset_ns,   c->rtt_ns,
                           c->synced,       c->maxerror_ns, c->esterror_ns};
}

static store_def_t s_def(const series_def_t *d)
{
    return (store_def_t){d->id, d->source, d->device, d->name, d->kind, d->layer, d->overlap,
                         d->owner};
}

static store_burst_t s_burst(const burst_msg_t *b, const clock_msg_t *clock)
{
    correlate_burst_t corrected = correlate_burst(b, clock, 0, 0);
    store_burst_t out = {
        .iface = b->iface, .tx = b->tx, .start_ns = b->start_ns, .end_ns = b->end_ns,
        .peak_per_ms = b->peak_per_ms, .packets = b->packets, .bytes = b->bytes,
        .threshold_per_ms = b->threshold_per_ms, .profile_start_ns = b->profile_start_ns,
        .tick_ns = b->tick_ns, .nprofile = b->nprofile, .profile = b->profile,
        .profile_complete = b->profile_complete, .corrected_start_ns = corrected.start_ns,
        .uncertainty_ns = corrected.uncertainty_ns};
    /* A burst's drops are lost packets only: a collector from before
     * layer_is_precursor attributed squeezes too, which its interval's
     * budget rows already hold. */
    for (int l = 0; l < LAYER_COUNT; l++)
        out.drops[l] = layer_is_drop((layer_t)l) ? b->drops[l] : 0;
    return out;
}

static store_rc_t s_batch(store_t *store, const store_origin_t *o, const batch_t *b,
                          size_t *samples, char *err, size_t errsz)
{
    /* Definitions come in a run's first batches, bursts now and then: most
     * batches allocate nothing. */
    store_def_t *defs = b->ndefs ? malloc(b->ndefs * sizeof *defs) : NULL;
    store_burst_t *bursts = b->nbursts ? malloc(b->nbursts * sizeof *bursts) : NULL;
    store_gap_t *gaps = b->ngaps ? malloc(b->ngaps * sizeof *gaps) : NULL;
    store_rc_t rc = STORE_ERROR;
    if ((b->ndefs && !defs) || (b->nbursts && !bursts) || (b->ngaps && !gaps)) {
        snprintf(err, errsz, "out of memory translating a batch of %zu definitions, %zu "
                 "bursts and %zu gaps", b->ndefs, b->nbursts, b->ngaps);
        goto done;
    }
    /* Gaps stay on the host's clock: they are weighed against the same
     * host's counters, never correlated across hosts as bursts are. */
    for (size_t i = 0; i < b->ngaps; i++) {
        const gap_msg_t *g = &b->gaps[i];
        gaps[i] = (store_gap_t){g->group,   g->port,    g->start_ns, g->end_ns,
                                g->missing, g->first_seq, g->last_seq};
    }
    for (size_t i = 0; i < b->ndefs; i++)
        defs[i] = s_def(&b->defs[i]);
    for (size_t i = 0; i < b->nbursts; i++)
        bursts[i] = s_burst(&b->bursts[i], &b->clock);
    store_batch_t sb = {
        .ts_ns = b->ts_ns, .prev_ts_ns = b->prev_ts_ns, .ndefs = b->ndefs, .defs = defs,
        .nsamples = b->nsamples, .series = b->series, .values = b->values, .deltas = b->deltas,
        .flags = b->flags, .nbursts = b->nbursts, .bursts = bursts,
        .spool_dropped_messages = b->spool_dropped_messages,
        .spool_dropped_samples = b->spool_dropped_samples,
        .spool_rejected_messages = b->spool_rejected_messages,
        .spool_rejected_samples = b->spool_rejected_samples, .clock = s_clock(&b->clock),
        .ngaps = b->ngaps, .gaps = gaps};
    rc = store_batch(store, o, &sb, samples, err, errsz);
done:
    free(defs);
    free(bursts);
    free(gaps);
    return rc;
}

store_rc_t intake_store(store_t *store, const msg_t *msg, int64_t received_ns, size_t *samples,
                        char *err, size_t errsz)
{
    *samples = 0;
    store_origin_t o = {msg->host, msg->boot_id, msg->incarnation, msg->seq, received_ns};
    switch (msg->type) {
    case MSG_TYPE_HELLO: {
        const hello_t *h = &msg->hello;
        store_hello_t sh = {h->collector_version, h->kernel,      h->backend,
                            h->ncpus,             h->interval_ns, h->backend_note,
                            h->ndegraded,         h->degraded};
        return store_hello(store, &o, &sh, err, errsz);
    }
    case MSG_TYPE_BATCH:
        return s_batch(store, &o, &msg->batch, samples, err, errsz);
    case MSG_TYPE_HEARTBEAT:
        return store_heartbeat(store, &o, err, errsz);
    default:
        snprintf(err, errsz, "a collector does not send %s messages; nothing is stored",
                 codec_type_name(msg->type));
        return STORE_INVALID;
    }
}
