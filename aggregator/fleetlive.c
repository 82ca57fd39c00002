/* fleetlive: the leader's loop over the shared store. */
#include "fleetlive.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "incidents.h"
#include "log.h"
#include "store.h"
#include "ts.h"

struct fleetlive {
    char *target, *name;
    int64_t window_ns;
    unsigned min_hosts;
    void (*report)(void *ctx, const live_incident_t *inc);
    void *ctx;
    store_t *store;     /* the thread's */
    bool leading;       /* at the last beat */
    int64_t lead_since; /* monotonic: since when, for the handover */
    pthread_t thread;
    pthread_mutex_t lock; /* guards stopping */
    pthread_cond_t wake;
    bool stopping;
};

/* "a, b, c": the incident's hosts, as many as fit in a line as live.c's
 * (an incident of the whole fleet would make log lines and alert labels
 * of megabytes); NULL without memory. */
static char *s_join(const incident_t *inc)
{
    enum { MAX = 1024 };
    char *out = malloc(MAX);
    size_t len = 0;
    for (size_t i = 0; out && i < inc->nhosts; i++)
        if (len + strlen(inc->hosts[i]) + 3 < MAX)
            len += (size_t)snprintf(out + len, MAX - len, "%s%s", len ? ", " : "", inc->hosts[i]);
    if (out)
        out[len] = '\0';
    return out;
}

/* Records inc as reported by us, then reports it. -1 when the store did
 * not take the record (it is reported next time). */
static int s_report(fleetlive_t *self, const incident_t *inc, int64_t now)
{
    char *hosts = s_join(inc), *sorted = hosts ? alerts_sort_hosts(hosts) : NULL, err[512];
    char id[48];
    int rc = -1;
    if (!sorted) {
        log_limited(LOGL_ERROR, "fleetlive:mem", "aggregator: out of memory for a live incident");
    } else {
        alerts_incident_id(inc->start_ns, sorted, id, sizeof id);
        rc = store_live_report(self->store, id, inc->start_ns, sorted, self->name, now, err,
                               sizeof err);
        if (rc != 0)
            log_limited(LOGL_WARN, "fleetlive:report", "aggregator: cannot record live "
                        "incident %s in the store (it is reported once recorded; retried every "
                        "second): %s", id, err);
    }
    if (rc == 0) {
        live_incident_t out = {.start_ns = inc->start_ns, .end_ns = inc->end_ns,
                               .nhosts = (uint32_t)inc->nhosts, .nbursts = inc->nmembers,
                               .packets = (uint64_t)inc->packets,
                               .drops = (uint64_t)inc->drops, .uncertain = inc->uncertain,
                               .hosts = hosts};
        self->report(self->ctx, &out);
    }
    free(hosts);
    free(sorted);
    return rc;
}

/* The leader's turn: the settled incidents after the newest reported. */
static void s_lead(fleetlive_t *self, int64_t now)
{
    char err[512];
    int64_t reported;
    if (store_live_reported(self->store, &reported, err, sizeof err) != 0) {
        log_limited(LOGL_WARN, "fleetlive:read", "aggregator: cannot read the live incidents "
                    "reported (retried every second): %s", err);
        return;
    }
    incidents_query_t q = {.from_ns = now - LIVE_KEEP_NS, .to_ns = now + LIVE_AHEAD_NS,
                           .window_ns = self->window_ns, .min_hosts = self->min_hosts,
                           .limit = LIVE_MAX_BURSTS, .max_bursts = LIVE_MAX_BURSTS};
    incidents_t *found = incidents_find(self->store, &q, NULL, err, sizeof err);
    if (!found) {
        log_limited(LOGL_WARN, "fleetlive:read", "aggregator: cannot read the fleet's recent "
                    "bursts for live incidents (retried every second): %s", err);
        return;
    }
    for (size_t i = 0; i < found->n; i++) {
        const incident_t *inc = &found->incidents[i];
        int64_t widest = 0;
        for (size_t k = 0; k < inc->nmembers; k++)
            if (inc->members[k].uncertainty_ns > widest)
                widest = inc->members[k].uncertainty_ns;
        if (inc->start_ns <= reported)
            continue;
        /* in order: one not settled yet holds back the ones after it */
        if (inc->start_ns + self->window_ns + widest + FLEETLIVE_SETTLE_NS >= now ||
            s_report(self, inc, now) != 0)
            break;
    }
    incidents_destroy(&found);
}

static void s_tick(fleetlive_t *self)
{
    char err[512], leader[128] = "";
    if (!self->store && !(self->store = store_open(self->target, false, err, sizeof err))) {
        log_limited(LOGL_WARN, "fleetlive:open", "aggregator: cannot open the store for live "
                    "incidents (retried every second): %s", err);
        return;
    }
    int64_t now = ts_now_ns();
    bool leads = false;
    if (store_live_beat(self->store, self->name, now, FLEETLIVE_ALIVE_NS, leader, sizeof leader,
                        err, sizeof err) != 0)
        log_limited(LOGL_WARN, "fleetlive:beat", "aggregator: cannot tell the other aggregators "
                    "that this one is alive (no live incidents from it meanwhile; retried every "
                    "second): %s", err);
    else
        leads = strcmp(leader, self->name) == 0;
    bool was = self->leading;
    self->leading = leads;
    int64_t mono = ts_mono_ns();
    if (leads && !was) {
        self->lead_since = mono;
        log_info("aggregator: this aggregator reports the live incidents of every aggregator "
                 "on the store now (the least name alive), after %lld s of handover",
                 (long long)(FLEETLIVE_HANDOVER_NS / TS_NS_PER_S));
    } else if (!leads && was)
        log_info("aggregator: this aggregator no longer reports the live incidents (%s does)",
                 leader[0] ? leader : "none that can reach the store");
    if (leads && mono - self->lead_since >= FLEETLIVE_HANDOVER_NS)
        s_lead(self, now);
}

static void *s_run(void *arg)
{
    fleetlive_t *self = arg;
    pthread_mutex_lock(&self->lock);
    while (!self->stopping) {
        pthread_mutex_unlock(&self->lock);
        s_tick(self);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_mutex_lock(&self->lock);
        if (!self->stopping)
            pthread_cond_timedwait(&self->wake, &self->lock, &until);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

fleetlive_t *fleetlive_new(const char *target, const char *name, int64_t window_ns,
                           unsigned min_hosts, void (*report)(void *ctx, const live_incident_t *inc),
                           void *ctx, char *err, size_t errsz)
{
    fleetlive_t *self = calloc(1, sizeof *self);
    if (!self || !(self->target = strdup(target)) || !(self->name = strdup(name))) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    self->window_ns = window_ns;
    self->min_hosts = min_hosts;
    self->report = report;
    self->ctx = ctx;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    int rc = pthread_create(&self->thread, NULL, s_run, self);
    if (rc == 0)
        return self;
    snprintf(err, errsz, "cannot start the live incidents' thread: %s", strerror(rc));
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
fail:
    if (self) {
        free(self->target);
        free(self->name);
    }
    free(self);
    return NULL;
}

void fleetlive_destroy(fleetlive_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    fleetlive_t *self = *self_p;
    pthread_mutex_lock(&self->lock);
    self->stopping = true;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    store_close(&self->store);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    free(self->target);
    free(self->name);
    free(self);
    *self_p = NULL;
}
