/* delivery: see delivery.h. The state commit protocol, so that a crash at
 * any point leaves a state that matches the messages on disk:
 *   1. write state.next (the values the new batch was computed from)
 *   2. spool the batch
 *   3. rename state.next to state
 * At start, a state.next whose batch is in the spool is the truth (the
 * crash came between 2 and 3); one whose batch is not was never sent and
 * is discarded (between 1 and 2), so no interval is counted twice or lost. */
#define _GNU_SOURCE
#include "delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ts.h"

#define RESEND_FIRST_NS (5 * TS_NS_PER_S) /* no ack for this long: send again */
#define RESEND_MAX_NS (60 * TS_NS_PER_S)  /* backoff cap */

/* Without a spool: what was sent lately, so that a rejection can count
 * the samples it lost. */
#define RECENT 256

struct delivery {
    uplink_t *link;          /* borrowed */
    spool_t *spool;        /* NULL without --spool */
    struct {
        uint64_t incarnation, seq;
        uint32_t nsamples;
    } recent[RECENT];      /* without a spool: the last messages sent, by seq % RECENT */
    uint64_t rejected_messages, rejected_samples; /* without a spool */
    char state[4096];      /* the state file */
    char state_next[4096]; /* the state file being committed */
    int64_t resend_at;     /* monotonic; 0 = nothing in flight */
    int64_t backoff;       /* current resend timeout */
};

delivery_t *delivery_new(uplink_t *link, const char *spool_dir, uint64_t spool_size, char *err,
                         size_t errsz)
{
    delivery_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    self->link = link;
    self->backoff = RESEND_FIRST_NS;
    if (spool_dir) {
        if (!(self->spool = spool_open(spool_dir, spool_size, err, errsz))) {
            free(self);
            return NULL;
        }
        snprintf(self->state, sizeof self->state, "%s/state", spool_dir);
        snprintf(self->state_next, sizeof self->state_next, "%s/state.next", spool_dir);
    }
    return self;
}

void delivery_destroy(delivery_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    spool_destroy(&(*self_p)->spool);
    free(*self_p);
    *self_p = NULL;
}

int64_t delivery_restore(delivery_t *self, const char *boot_id, series_t *series)
{
    if (!self->spool)
        return 0;
    char err[512];
    state_head_t head;
    if (state_read(self->state_next, &head, NULL, err, sizeof err) == 0) {
        if (spool_holds(self->spool, head.incarnation, head.seq))
            rename(self->state_next, self->state);
        else
            remove(self->state_next);
    }
    int rc = state_read(self->state, &head, NULL, err, sizeof err);
    if (rc < 0)
        log_warn("collector: %s; starting from a new baseline", err);
    if (rc != 0)
        return 0;
    if (strcmp(head.boot_id, boot_id) != 0) {
        log_info("collector: %s is from another boot; starting from a new baseline", self->state);
        return 0;
    }
    if (state_read(self->state, &head, series, err, sizeof err) != 0) {
        log_warn("collector: %s; starting from a new baseline", err);
        return 0;
    }
    char when[40];
    log_info("collector: continuing from the %zu counters read at %s by the previous run; drops "
             "since then are counted", series_count(series), ts_format(head.ts_ns, when, sizeof when));
    return head.ts_ns;
}

/* Sends from the spool while the window has room. */
static void s_pump(delivery_t *self)
{
    const spool_msg_t *m;
    char err[256];
    while (spool_in_flight(self->spool) < DELIVERY_WINDOW && (m = spool_next(self->spool))) {
        if (uplink_send(self->link, m->data, m->len, err, sizeof err) != 0) {
            spool_rewind(self->spool); /* not connected: all again once it is */
            break;
        }
    }
    if (spool_in_flight(self->spool) > 0 && self->resend_at == 0)
        self->resend_at = ts_mono_ns() + self->backoff;
}

void delivery_send(delivery_t *self, uint64_t incarnation, uint64_t seq, uint32_t nsamples,
                   uint8_t *buf, size_t len, const state_head_t *head, series_t *series)
{
    char err[512];
    if (!self->spool) {
        self->recent[seq % RECENT].incarnation = incarnation;
        self->recent[seq % RECENT].seq = seq;
        self->recent[seq % RECENT].nsamples = nsamples;
        if (uplink_send(self->link, buf, len, err, sizeof err) != 0)
            log_limited(LOGL_WARN, "send", "collector: message %llu not sent: %s",
                        (unsigned long long)seq, err);
        free(buf);
        return;
    }
    bool with_state = head && series;
    if (with_state && state_write(self->state_next, head, series, err, sizeof err) != 0) {
        log_limited(LOGL_WARN, "state", "collector: %s; a restart will not continue from it", err);
        with_state = false;
    }
    if (spool_push(self->spool, incarnation, seq, nsamples, buf, len, err, sizeof err) != 0) {
        log_limited(LOGL_ERROR, "spool", "collector: message %llu lost: %s",
                    (unsigned long long)seq, err);
        if (with_state)
            remove(self->state_next);
    } else if (with_state) {
        rename(self->state_next, self->state);
    }
    free(buf);
    s_pump(self);
}

void delivery_acked(delivery_t *self, uint64_t incarnation, uint64_t seq)
{
    if (!self->spool)
        return;
    if (spool_ack(self->spool, incarnation, seq) == 1) {
        self->backoff = RESEND_FIRST_NS;
        self->resend_at = 0;
    }
    s_pump(self);
}

void delivery_rejected(delivery_t *self, uint64_t incarnation, uint64_t seq)
{
    if (self->spool) {
        spool_reject(self->spool, incarnation, seq);
        s_pump(self);
        return;
    }
    self->rejected_messages++;
    if (self->recent[seq % RECENT].incarnation == incarnation &&
        self->recent[seq % RECENT].seq == seq)
        self->rejected_samples += self->recent[seq % RECENT].nsamples;
}

void delivery_defer(delivery_t *self, uint64_t incarnation, uint64_t seq)
{
    if (!self->spool) {
        log_limited(LOGL_WARN, "defer", "collector: message %llu cannot be sent again without "
                    "--spool; counted as rejected", (unsigned long long)seq);
        delivery_rejected(self, incarnation, seq);
        return;
    }
    spool_defer(self->spool, incarnation, seq);
    s_pump(self);
}

void delivery_release(delivery_t *self)
{
    if (!self->spool)
        return;
    spool_release_deferred(self->spool);
    s_pump(self);
}

void delivery_sync(delivery_t *self)
{
    char err[512];
    if (self->spool && spool_sync(self->spool, err, sizeof err) != 0)
        log_limited(LOGL_ERROR, "spool:sync", "collector: %s", err);
}

int delivery_tick(delivery_t *self)
{
    if (!self->spool)
        return 1000;
    int64_t now = ts_mono_ns();
    if (self->resend_at == 0) {
        s_pump(self); /* e.g. the link was down at the last send */
        return 1000;
    }
    if (now < self->resend_at)
        return (int)((self->resend_at - now) / TS_NS_PER_MS) + 1;
    spool_stats_t st = spool_stats(self->spool);
    log_limited(LOGL_WARN, "resend", "collector: no acknowledgement for %lld s; sending the %llu "
                "spooled messages again from the oldest", (long long)(self->backoff / TS_NS_PER_S),
                (unsigned long long)st.messages);
    self->backoff = self->backoff * 2 > RESEND_MAX_NS ? RESEND_MAX_NS : self->backoff * 2;
    self->resend_at = 0;
    spool_rewind(self->spool);
    s_pump(self);
    return (int)(self->backoff / TS_NS_PER_MS);
}

spool_stats_t delivery_stats(const delivery_t *self)
{
    spool_stats_t memory = {.rejected_messages = self->rejected_messages,
                            .rejected_samples = self->rejected_samples};
    return self->spool ? spool_stats(self->spool) : memory;
}
