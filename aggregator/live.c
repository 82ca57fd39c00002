/* live: a buffer of recent bursts and host names; each scan re-runs the
 * sort-and-sweep over the buffer (a few thousand bursts at most for a
 * large fleet's 30 s) and reports the settled incidents that start after
 * the last one reported. */
#include "live.h"

#include <stdint.h>
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
    size_t committed;      /* b[0..committed) are stored; the rest wait for their commit */
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

live_rc_t live_add(live_t *self, const char *host, const burst_msg_t *b, const clock_msg_t *clock,
                   int64_t now_ns)
{
    if (b->tx)
        return LIVE_SKIPPED;
    correlate_burst_t c = correlate_burst(b, clock, 0, 0);
    if (c.start_ns <= now_ns - LIVE_KEEP_NS || c.start_ns > now_ns + LIVE_AHEAD_NS)
        return LIVE_OUTSIDE;
    if (self->n >= LIVE_MAX_BURSTS)
        return LIVE_FULL;
    if ((c.host = s_host_id(self, host)) == UINT32_MAX)
        return LIVE_FULL;
    correlate_burst_t *grown = grow(self->b, self->n + 1, &self->cap, sizeof *grown, 256);
    if (!grown)
        return LIVE_FULL;
    self->b = grown;
    self->b[self->n++] = c;
    return LIVE_ADDED;
}

/* Forgets the names no burst held refers to, once they outnumber the
 * bursts: a fleet sending bursts under ever new host names costs memory
 * for the last LIVE_KEEP_NS of them only. */
static void s_forget_names(live_t *self)
{
    if (self->nnames <= 2 * self->n + 1024)
        return;
    strmap_t *ids = strmap_new();
    size_t *renum = malloc(self->nnames * sizeof *renum);
    char **names = malloc((self->n + 1) * sizeof *names);
    if (!ids || !renum || !names) {
        strmap_destroy(&ids);
        free(renum);
        free(names);
        return;
    }
    for (size_t i = 0; i < self->nnames; i++)
        renum[i] = SIZE_MAX;
    size_t kept = 0;
    for (size_t i = 0; i < self->n; i++) {
        uint32_t old = self->b[i].host;
        if (renum[old] == SIZE_MAX) {
            names[kept] = self->names[old];
            self->names[old] = NULL;
            strmap_put(ids, names[kept], (void *)(uintptr_t)(kept + 1));
            renum[old] = kept++;
        }
        self->b[i].host = (uint32_t)renum[old];
    }
    for (size_t i = 0; i < self->nnames; i++)
        free(self->names[i]);
    free(self->names);
    self->names = names;
    self->nnames = kept;
    self->capnames = self->n + 1;
    strmap_destroy(&self->ids);
    self->ids = ids;
    free(renum);
}

/* "a, b, c": the distinct hosts of an incident, as many as fit out. The
 * search for a repeat stops with the room: the cost is bounded by the
 * names that fit, not members x hosts. */
static void s_names(const live_t *self, const correlate_burst_t *b, size_t n, char *out,
                    size_t size)
{
    out[0] = '\0';
    size_t len = 0, listed = 0;
    uint32_t shown[64];
    for (size_t i = 0; i < n && listed < sizeof shown / sizeof *shown; i++) {
        bool seen = false;
        for (size_t k = 0; k < listed && !seen; k++)
            seen = shown[k] == b[i].host;
        const char *name = self->names[b[i].host];
        if (seen || len + strlen(name) + 3 >= size)
            continue;
        len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", name);
        shown[listed++] = b[i].host;
    }
}

void live_commit(live_t *self)
{
    self->committed = self->n;
}

void live_abandon(live_t *self)
{
    self->n = self->committed;
}

void live_scan(live_t *self, int64_t now_ns, void (*fn)(void *ctx, const live_incident_t *inc),
               void *ctx)
{
    /* Forget what is too old to matter, then group the rest of what is
     * stored (bursts still waiting for their commit stay behind it). */
    size_t keep = 0, waiting = self->n - self->committed;
    for (size_t i = 0; i < self->committed; i++)
        if (self->b[i].start_ns > now_ns - LIVE_KEEP_NS)
            self->b[keep++] = self->b[i];
    if (waiting) /* (b is NULL before the first burst) */
        memmove(self->b + keep, self->b + self->committed, waiting * sizeof *self->b);
    self->committed = keep;
    self->n = keep + waiting;
    s_forget_names(self);
    correlate_incident_t *inc;
    long ni = correlate_find(self->b, self->committed, self->window_ns, self->min_hosts, &inc);
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

size_t live_bursts(const live_t *self)
{
    return self->n;
}

size_t live_hosts(const live_t *self)
{
    return self->nnames;
}
