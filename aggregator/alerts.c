/* alerts: the events, their JSON, and the watch that decides when a
 * (host, layer) pair fires and resolves. Everything here runs on the
 * ingest thread (or in tests) without I/O but the small state file, which
 * is rewritten only when a pair fires or resolves or an incident is sent:
 * a few times a minute in a bad hour, never per batch. */
#define _GNU_SOURCE
#include "alerts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "log.h"
#include "strmap.h"
#include "ts.h"

/* --- events ------------------------------------------------------------------- */

alert_t *alert_new(alert_kind_t kind, const char *hosts)
{
    alert_t *self = calloc(1, sizeof *self);
    if (!self || !(self->hosts = strdup(hosts ? hosts : ""))) {
        free(self);
        return NULL;
    }
    self->kind = kind;
    return self;
}

alert_t *alert_dup(const alert_t *ev)
{
    alert_t *self = malloc(sizeof *self);
    if (!self)
        return NULL;
    *self = *ev;
    if (!(self->hosts = strdup(ev->hosts))) {
        free(self);
        return NULL;
    }
    return self;
}

void alert_destroy(alert_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->hosts);
    free(*self_p);
    *self_p = NULL;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *alerts_sort_hosts(const char *hosts)
{
    char *copy = strdup(hosts), *out = calloc(1, strlen(hosts) + 1);
    size_t n = 0, cap = strlen(hosts) / 2 + 1;
    char **names = calloc(cap, sizeof *names);
    if (!copy || !out || !names) {
        free(copy), free(out), free(names);
        return NULL;
    }
    char *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t && n < cap; t = strtok_r(NULL, ", ", &save))
        names[n++] = t;
    qsort(names, n, sizeof *names, s_cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, names[i]);
    }
    free(names);
    free(copy);
    return out;
}

void alerts_incident_id(int64_t start_ns, const char *sorted_hosts, char *out, size_t size)
{
    uint64_t h = bytes_fnv1a(BYTES_FNV1A_INIT, sorted_hosts, strlen(sorted_hosts));
    snprintf(out, size, "%" PRId64 "-%016" PRIx64, start_ns / TS_NS_PER_MS, h);
}

/* --- JSON ---------------------------------------------------------------------- */

static void s_set_str(json_t *o, const char *key, const char *value)
{
    json_object_set_new(o, key, json_string(value));
}

static void s_set_u64(json_t *o, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    s_set_str(o, key, buf);
}

/* The web view's page for the event: the incidents over its span, or the
 * host over the drops' span. */
static void s_link(const alert_t *ev, const char *base, char *out, size_t size)
{
    if (ev->kind == ALERT_INCIDENT)
        snprintf(out, size, "%s/#/incidents?from=%" PRId64 "&to=%" PRId64, base,
                 ev->starts_ns - TS_NS_PER_S, ev->incident_end_ns + TS_NS_PER_S);
    else
        snprintf(out, size, "%s/#/host/%s?from=%" PRId64 "&to=%" PRId64, base, ev->hosts,
                 ev->starts_ns - 60 * TS_NS_PER_S, ev->ends_ns);
}

static json_t *s_labels(const alert_t *ev)
{
    json_t *l = json_object();
    if (ev->kind == ALERT_INCIDENT) {
        s_set_str(l, "alertname", "DropscopeIncident");
        s_set_str(l, "hosts", ev->hosts);
        s_set_str(l, "incident", ev->id);
    } else {
        s_set_str(l, "alertname", "DropscopeDrops");
        s_set_str(l, "host", ev->hosts);
        s_set_str(l, "layer", layer_name(ev->layer));
    }
    s_set_str(l, "severity", "warning");
    return l;
}

static json_t *s_annotations(const alert_t *ev, const char *link_base)
{
    json_t *a = json_object();
    char text[4096], when[40];
    if (ev->kind == ALERT_INCIDENT) {
        snprintf(text, sizeof text, "%u hosts burst together at %s", ev->nhosts,
                 ts_format(ev->starts_ns, when, sizeof when));
        s_set_str(a, "summary", text);
        /* live reports the packets of the bursts, not their finest peak:
         * the rate over the incident's span is what it can stand for. */
        int64_t span_ms = (ev->incident_end_ns - ev->starts_ns) / TS_NS_PER_MS;
        s_set_u64(a, "peak", ev->packets / (uint64_t)(span_ms > 1 ? span_ms : 1));
        s_set_u64(a, "drops", ev->drops);
    } else {
        snprintf(text, sizeof text, "host %s %s packets at layer %s since %s", ev->hosts,
                 ev->resolved ? "stopped dropping" : "drops", layer_name(ev->layer),
                 ts_format(ev->starts_ns, when, sizeof when));
        s_set_str(a, "summary", text);
        s_set_str(a, "limit", ev->limit);
        s_set_str(a, "remedy", ev->remedy);
        s_set_u64(a, "drops", ev->drops);
    }
    s_link(ev, link_base, text, sizeof text);
    s_set_str(a, "link", text);
    return a;
}

static json_t *s_time(int64_t ns)
{
    char buf[40];
    return json_string(ts_format(ns, buf, sizeof buf));
}

json_t *alerts_am_json(const alert_t *ev, const char *link_base)
{
    json_t *o = json_object();
    char link[4096];
    s_link(ev, link_base, link, sizeof link);
    json_object_set_new(o, "labels", s_labels(ev));
    json_object_set_new(o, "annotations", s_annotations(ev, link_base));
    json_object_set_new(o, "startsAt", s_time(ev->starts_ns));
    json_object_set_new(o, "endsAt", s_time(ev->ends_ns));
    s_set_str(o, "generatorURL", link);
    return o;
}

json_t *alerts_webhook_json(const alert_t *ev, const char *link_base)
{
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(1));
    s_set_str(o, "kind", ev->kind == ALERT_INCIDENT ? "incident" : "drops");
    s_set_str(o, "status", ev->resolved ? "resolved" : "firing");
    json_object_set_new(o, "labels", s_labels(ev));
    json_object_set_new(o, "annotations", s_annotations(ev, link_base));
    json_object_set_new(o, "starts_at", s_time(ev->starts_ns));
    json_object_set_new(o, "ends_at", s_time(ev->ends_ns));
    return o;
}

/* --- the watch -------------------------------------------------------------------- */

typedef struct {
    char host[256];
    layer_t layer;
    int64_t first_ns;     /* when it fired */
    int64_t last_ns;      /* the latest drops */
    int64_t last_post_ns; /* the latest post (firing or repost) */
    uint64_t drops;       /* since it fired */
} pair_t;

typedef struct {
    char id[48];
    int64_t seen_ns;
} sent_incident_t;

struct alerts_watch {
    char *path; /* the state file, or NULL */
    int64_t quiet_ns, repost_ns;
    strmap_t *pairs;            /* "layer/host" -> pair_t (owned): the pairs dropping now */
    sent_incident_t *incidents; /* a ring of the ids sent, ALERTS_MAX_INCIDENTS */
    size_t nincidents, next;
};

static void s_key(const char *host, layer_t layer, char *out, size_t size)
{
    snprintf(out, size, "%d/%s", (int)layer, host);
}

static bool s_write_pair(void *ctx, void *value)
{
    const pair_t *p = value;
    fprintf(ctx, "drops %s %" PRId64 " %" PRId64 " %" PRIu64 " %s\n", layer_name(p->layer),
            p->first_ns, p->last_ns, p->drops, p->host);
    return true;
}

/* Rewrites the state file whole (a temporary file renamed over it: a
 * crash leaves the old state or the new, never half). */
static void s_save(alerts_watch_t *self)
{
    if (!self->path)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", self->path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        log_limited(LOGL_ERROR, "alerts:state",
                    "aggregator: cannot write the alerts' state %s: "
                    "%s; a restart may post alerts again (check the directory's permissions)",
                    tmp, strerror(errno));
        return;
    }
    fputs("# dropscope-aggregator: alerts sent (incidents) and drops alerts active\n", f);
    for (size_t i = 0; i < self->nincidents; i++)
        fprintf(f, "incident %s %" PRId64 "\n", self->incidents[i].id, self->incidents[i].seen_ns);
    strmap_retain(self->pairs, s_write_pair, f);
    if (fclose(f) != 0 || rename(tmp, self->path) != 0)
        log_limited(LOGL_ERROR, "alerts:state",
                    "aggregator: cannot write the alerts' state %s: "
                    "%s; a restart may post alerts again",
                    self->path, strerror(errno));
}

static void s_remember(alerts_watch_t *self, const char *id, int64_t now_ns)
{
    sent_incident_t *s = &self->incidents[self->next];
    snprintf(s->id, sizeof s->id, "%s", id);
    s->seen_ns = now_ns;
    self->next = (self->next + 1) % ALERTS_MAX_INCIDENTS;
    if (self->nincidents < ALERTS_MAX_INCIDENTS)
        self->nincidents++;
}

static pair_t *s_add_pair(alerts_watch_t *self, const char *host, layer_t layer)
{
    char key[300];
    pair_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->host, sizeof p->host, "%s", host);
    p->layer = layer;
    s_key(host, layer, key, sizeof key);
    if (strmap_put(self->pairs, key, p) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

/* One line of the state file; a line that does not read is skipped. */
static void s_load_line(alerts_watch_t *self, char *line, int64_t now_ns)
{
    char id[48], layer[32];
    int64_t a, b;
    uint64_t n;
    int at = 0;
    if (sscanf(line, "incident %47s %" SCNd64, id, &a) == 2) {
        s_remember(self, id, a);
    } else if (sscanf(line, "drops %31s %" SCNd64 " %" SCNd64 " %" SCNu64 " %n", layer, &a, &b, &n,
                      &at) == 4 &&
               at > 0) {
        line[strcspn(line, "\n")] = '\0';
        pair_t *p = layer_is_drop(layer_from_name(layer))
                        ? s_add_pair(self, line + at, layer_from_name(layer))
                        : NULL;
        if (p) {
            p->first_ns = a;
            p->last_ns = b;
            p->last_post_ns = now_ns; /* Alertmanager has it: posted before the restart */
            p->drops = n;
        }
    }
}

alerts_watch_t *alerts_watch_new(const char *state_path, int64_t quiet_ns, int64_t repost_ns,
                                 int64_t now_ns, char *err, size_t errsz)
{
    alerts_watch_t *self = calloc(1, sizeof *self);
    if (!self || !(self->pairs = strmap_new()) ||
        !(self->incidents = calloc(ALERTS_MAX_INCIDENTS, sizeof *self->incidents)) ||
        (state_path && !(self->path = strdup(state_path)))) {
        snprintf(err, errsz, "out of memory");
        alerts_watch_destroy(&self);
        return NULL;
    }
    self->quiet_ns = quiet_ns;
    self->repost_ns = repost_ns;
    FILE *f = state_path ? fopen(state_path, "r") : NULL;
    if (!f && state_path && errno != ENOENT) {
        snprintf(err, errsz,
                 "cannot read the alerts' state %s: %s (check its permissions, or "
                 "remove it to start afresh)",
                 state_path, strerror(errno));
        alerts_watch_destroy(&self);
        return NULL;
    }
    char line[512];
    while (f && fgets(line, sizeof line, f))
        s_load_line(self, line, now_ns);
    if (f)
        fclose(f);
    return self;
}

static void s_free(void *value)
{
    free(value);
}

void alerts_watch_destroy(alerts_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    alerts_watch_t *self = *self_p;
    if (self->pairs)
        strmap_clear(self->pairs, s_free);
    strmap_destroy(&self->pairs);
    free(self->incidents);
    free(self->path);
    free(self);
    *self_p = NULL;
}

/* The event of pair p (firing, a repost, or resolved at now_ns). */
static alert_t *s_pair_event(const alerts_watch_t *self, const pair_t *p, bool resolved,
                             bool repost, int64_t now_ns)
{
    alert_t *ev = alert_new(ALERT_DROPS, p->host);
    if (!ev)
        return NULL;
    ev->layer = p->layer;
    ev->starts_ns = p->first_ns;
    ev->resolved = resolved;
    ev->repost = repost;
    ev->drops = p->drops;
    /* Firing: Alertmanager keeps it up to three re-posts; missed three,
     * the aggregator is gone, and it resolves by itself. */
    ev->ends_ns = resolved ? now_ns : now_ns + 3 * self->repost_ns;
    return ev;
}

void alerts_watch_drops(alerts_watch_t *self, const char *host, layer_t layer, uint64_t n,
                        int64_t now_ns, alerts_emit_fn *emit, void *ctx)
{
    if (n == 0 || !layer_is_drop(layer))
        return;
    char key[300];
    s_key(host, layer, key, sizeof key);
    pair_t *p = strmap_get(self->pairs, key);
    if (p) {
        p->last_ns = now_ns;
        p->drops += n;
        return;
    }
    if (!(p = s_add_pair(self, host, layer))) {
        log_limited(LOGL_ERROR, "alerts:oom",
                    "aggregator: out of memory: no drops alert for "
                    "host %s at layer %s",
                    host, layer_name(layer));
        return;
    }
    p->first_ns = p->last_ns = p->last_post_ns = now_ns;
    p->drops = n;
    s_save(self);
    alert_t *ev = s_pair_event(self, p, false, false, now_ns);
    if (ev)
        emit(ctx, &ev);
}

typedef struct {
    alerts_watch_t *self;
    int64_t now_ns;
    alerts_emit_fn *emit;
    void *ctx;
    bool changed;
} tick_t;

static bool s_tick_pair(void *ctx, void *value)
{
    tick_t *t = ctx;
    pair_t *p = value;
    bool quiet = t->now_ns - p->last_ns >= t->self->quiet_ns;
    bool repost = !quiet && t->now_ns - p->last_post_ns >= t->self->repost_ns;
    if (quiet || repost) {
        alert_t *ev = s_pair_event(t->self, p, quiet, repost, t->now_ns);
        if (ev)
            t->emit(t->ctx, &ev);
        p->last_post_ns = t->now_ns;
    }
    if (quiet) {
        free(p);
        t->changed = true;
    }
    return !quiet;
}

void alerts_watch_tick(alerts_watch_t *self, int64_t now_ns, alerts_emit_fn *emit, void *ctx)
{
    tick_t t = {self, now_ns, emit, ctx, false};
    strmap_retain(self->pairs, s_tick_pair, &t);
    if (t.changed)
        s_save(self);
}

bool alerts_watch_incident(alerts_watch_t *self, const char *id, int64_t now_ns)
{
    for (size_t i = 0; i < self->nincidents; i++)
        if (strcmp(self->incidents[i].id, id) == 0)
            return false;
    s_remember(self, id, now_ns);
    s_save(self);
    return true;
}

size_t alerts_watch_active(const alerts_watch_t *self)
{
    return strmap_size(self->pairs);
}
