/* live: a buffer of recent bursts and host names; each scan re-runs the
 * sort-and-sweep over the buffer (a few thousand bursts at most for a
 * large fleet's 30 s) and reports the settled incidents that start after
 * the last one reported. */
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "strmap.h"

struct live {
    int64_t window_ns;
    unsigned min_hosts;
    correlate_burst_t *b;  /* recent bursts, in arrival order */
    size_t n, cap;
    strmap_t *ids;         /* host name -> id + 1 */
    char **names;          /* by id */
    size_t nnames, capnames;
    int64_t reported;      /* start of the last incident reported */
};

live_t *live_new(int64_t window_ns, unsigned min_hosts)
{
    live_t *self = calloc(1, sizeof *self);
    if (!self || !(self->ids = strmap_new())) {
        free(self);
        return NULL;
    }
    self->window_ns = window_ns;
    self->min_hosts = min_hosts;
    return self;
}

void live_destroy(live_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    live_t *self = *self_p;
    for (size_t i = 0; i < self->nnames; i++)
        free(self->names[i]);
    free(self->names);
    free(self->b);
    strmap_destroy(&self->ids);
    free(self);
    *self_p = NULL;
}

static uint32_t s_host_id(live_t *self, const char *host)
{
    uintptr_t id = (uintptr_t)strmap_get(self->ids, host);
    if (id)
        return (uint32_t)(id - 1);
    char **grown = grow(self->names, self->nnames + 1, &self->capnames, sizeof *grown, 64);
    if (!grown)
        return UINT32_MAX;
    self->names = grown;
    char *copy = strdup(host);
    if (!copy || strmap_put(self->ids, host, (void *)(uintptr_t)(self->nnames + 1)) != 0) {
        free(copy);
        return UINT32_MAX;
    }
    self->names[self->nnames] = copy;
    return (uint32_t)self->nnames++;
}

void live_add(live_t *self, const char *host, const burst_msg_t *b, const clock_msg_t *clock)
{
    if (b->tx)
        return; /* incidents are about what hosts received */
    uint32_t id = s_host_id(self, host);
    if (id == UINT32_MAX)
        return;
    correlate_burst_t *grown = grow(self->b, self->n + 1, &self->cap, sizeof *grown, 256);
    if (!grown)
        return;
    self->b = grown;
    self->b[self->n++] = correlate_burst(b, clock, id, 0);
}

/* "a, b, c": the distinct hosts of an incident. */
static void s_names(const live_t *self, const correlate_burst_t *b, size_t n, char *out,
                    size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *name = self->names[b[i].host];
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = b[k].host == b[i].host;
        size_t len = strlen(out);
        if (!seen && len + strlen(name) + 3 < size)
            snprintf(out + len, size - len, "%s%s", len ? ", " : "", name);
    }
}

void live_scan(live_t *self, int64_t now_ns, void (*fn)(void *ctx, const live_incident_t *inc),
               void *ctx)
{
    /* Forget what is too old to matter, then group the rest. */
    size_t keep = 0;
    for (size_t i = 0; i < self->n; i++)
        if (self->b[i].start_ns > now_ns - LIVE_KEEP_NS)
            self->b[keep++] = self->b[i];
    self->n = keep;
    correlate_incident_t *inc;
    long ni = correlate_find(self->b, self->n, self->window_ns, self->min_hosts, &inc);
    for (long i = 0; i < ni; i++) {
        const correlate_incident_t *c = &inc[i];
        int64_t widest = 0;
        for (size_t k = c->first; k < c->first + c->count; k++)
            widest = self->b[k].uncertainty_ns > widest ? self->b[k].uncertainty_ns : widest;
        bool settled = c->start_ns + self->window_ns + widest + LIVE_SETTLE_NS < now_ns;
        if (!settled || c->start_ns <= self->reported)
            continue;
        char hosts[1024];
        s_names(self, &self->b[c->first], c->count, hosts, sizeof hosts);
        live_incident_t out = {c->start_ns, c->end_ns,  c->nhosts,    c->count,
                               c->packets,  c->drops,   c->uncertain, hosts};
        fn(ctx, &out);
        self->reported = c->start_ns;
    }
    free(inc);
}
