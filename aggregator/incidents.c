/* incidents: see incidents.h. The received bursts of the range are read
 * newest first up to a bound (INCIDENTS_MAX_BURSTS: a month of a fleet is
 * millions), grouped, and only then is the limit applied to the incidents,
 * keeping the newest: only those kept get their members copied out. */
#include "incidents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "grow.h"
#include "strmap.h"

typedef struct {
    const char *host; /* in gather_t.hosts */
    char iface[16];   /* an interface name (IFNAMSIZ) */
} burst_name_t;

typedef struct {
    correlate_burst_t *b;
    burst_name_t *names; /* of each burst's host and interface */
    size_t n, cap, capnames;
    strmap_t *hosts;     /* host name -> its one copy: a host has many bursts */
} gather_t;

static void s_hosts_free(strmap_t **hosts_p)
{
    if (*hosts_p)
        strmap_clear(*hosts_p, free);
    strmap_destroy(hosts_p);
}

static int s_gather(void *ctx, const burst_start_t *row)
{
    gather_t *g = ctx;
    correlate_burst_t *b = grow(g->b, g->n + 1, &g->cap, sizeof *b, 256);
    if (b)
        g->b = b;
    burst_name_t *names = grow(g->names, g->n + 1, &g->capnames, sizeof *names, 256);
    if (names)
        g->names = names;
    const char *host = b && names ? strmap_get(g->hosts, row->host) : NULL;
    if (b && names && !host) {
        char *copy = strdup(row->host);
        if (copy && strmap_put(g->hosts, row->host, copy) == 0)
            host = copy;
        else
            free(copy);
    }
    if (!host)
        return 1;
    g->b[g->n] = (correlate_burst_t){(uint32_t)row->host_id,   row->corrected_start_ns,
                                     row->end_ns,               row->uncertainty_ns,
                                     (uint64_t)row->packets,   (uint64_t)row->drops_total, g->n};
    g->names[g->n].host = host;
    snprintf(g->names[g->n].iface, sizeof g->names[0].iface, "%s", row->iface);
    g->n++;
    return 0;
}

/* Member pointers of one incident, by host name then position. */
static int s_by_host(const void *a, const void *b)
{
    const incident_member_t *x = *(incident_member_t *const *)a,
                            *y = *(incident_member_t *const *)b;
    int c = strcmp(x->host, y->host);
    return c ? c : (x > y) - (x < y);
}

/* Members by start, then host name and interface: the order of bursts
 * that start together must not depend on a store's numbering of hosts
 * (correlate's ties), so that every store gives the same answer. */
static int s_by_start_name(const void *a, const void *b)
{
    const incident_member_t *x = a, *y = b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    int c = strcmp(x->host, y->host);
    return c ? c : strcmp(x->iface, y->iface);
}

static int s_by_position(const void *a, const void *b)
{
    const incident_member_t *x = *(incident_member_t *const *)a,
                            *y = *(incident_member_t *const *)b;
    return (x > y) - (x < y);
}

/* inc's distinct host names, in the order of their first member, into
 * hosts; by sorting (scratch: room for nmembers pointers), so that an
 * incident of 10,000 bursts costs ~10^5 steps, not members x hosts. */
static void s_hosts(incident_t *inc, const char **hosts, incident_member_t **scratch)
{
    for (size_t k = 0; k < inc->nmembers; k++)
        scratch[k] = &inc->members[k];
    if (inc->nmembers > 1)
        qsort(scratch, inc->nmembers, sizeof *scratch, s_by_host);
    size_t n = 0;
    for (size_t k = 0; k < inc->nmembers; k++)
        if (k == 0 || strcmp(scratch[k]->host, scratch[n - 1]->host) != 0)
            scratch[n++] = scratch[k];
    if (n > 1)
        qsort(scratch, n, sizeof *scratch, s_by_position);
    for (size_t k = 0; k < n; k++)
        hosts[k] = scratch[k]->host;
    inc->hosts = hosts;
    inc->nhosts = n;
}

static void s_incident(const gather_t *g, const correlate_incident_t *c, int64_t id,
                       incident_t *inc, incident_member_t *members)
{
    *inc = (incident_t){.id = id,
                        .start_ns = c->start_ns,
                        .end_ns = c->end_ns,
                        .packets = (int64_t)c->packets,
                        .drops = (int64_t)c->drops,
                        .period_ns = c->period_ns,
                        .uncertain = c->uncertain,
                        .members = members,
                        .nmembers = c->count};
    for (size_t k = 0; k < c->count; k++) {
        const correlate_burst_t *b = &g->b[c->first + k];
        incident_member_t *m = &members[k];
        *m = (incident_member_t){.start_ns = b->start_ns,
                                 .uncertainty_ns = b->uncertainty_ns,
                                 .packets = (int64_t)b->packets,
                                 .drops = (int64_t)b->drops};
        m->host = g->names[b->ref].host;
        snprintf(m->iface, sizeof m->iface, "%s", g->names[b->ref].iface);
    }
    if (c->count > 1)
        qsort(members, c->count, sizeof *members, s_by_start_name);
}

/* incidents[first .. n) as the result; NULL when out of memory. */
static incidents_t *s_result(const gather_t *g, const correlate_incident_t *c, size_t first,
                             size_t n)
{
    size_t nmembers = 0, widest = 0;
    for (size_t i = first; i < n; i++) {
        nmembers += c[i].count;
        widest = c[i].count > widest ? c[i].count : widest;
    }
    incidents_t *self = calloc(1, sizeof *self);
    incident_member_t **scratch = malloc((widest + 1) * sizeof *scratch);
    if (self) {
        self->incidents = calloc(n - first + 1, sizeof *self->incidents);
        self->members_ = calloc(nmembers + 1, sizeof *self->members_);
        self->hosts_ = calloc(nmembers + 1, sizeof *self->hosts_);
    }
    if (!self || !scratch || !self->incidents || !self->members_ || !self->hosts_) {
        incidents_destroy(&self);
        free(scratch);
        return NULL;
    }
    size_t at = 0;
    for (size_t i = first; i < n; i++) {
        incident_t *inc = &self->incidents[self->n++];
        s_incident(g, &c[i], (int64_t)i + 1, inc, self->members_ + at);
        s_hosts(inc, self->hosts_ + at, scratch);
        at += c[i].count;
    }
    free(scratch);
    return self;
}

/* Reverses the bursts gathered newest first into start order, and when
 * there were more than max, drops the oldest read and any starting with it
 * (its peers beyond the bound were not read): the range covered then
 * starts after it, in cut. */
static void s_order(gather_t *g, int64_t max, rows_cut_t *cut)
{
    for (size_t i = 0; i < g->n / 2; i++) {
        correlate_burst_t t = g->b[i];
        g->b[i] = g->b[g->n - 1 - i];
        g->b[g->n - 1 - i] = t;
    }
    if ((int64_t)g->n <= max)
        return;
    int64_t from = g->b[0].start_ns;
    size_t skip = 0;
    while (skip < g->n && g->b[skip].start_ns <= from)
        skip++;
    memmove(g->b, g->b + skip, (g->n - skip) * sizeof *g->b);
    g->n -= skip;
    if (cut) {
        cut->bursts_from_ns = from;
        cut->bursts_read = (int64_t)g->n;
    }
}

incidents_t *incidents_find(store_t *store, const incidents_query_t *q, rows_cut_t *cut, char *err,
                            size_t errsz)
{
    gather_t g = {.hosts = strmap_new()};
    int64_t max = q->max_bursts > 0 ? q->max_bursts : INCIDENTS_MAX_BURSTS;
    if (!g.hosts ||
        store_burst_starts(store, q->from_ns, q->to_ns, max + 1, s_gather, &g, err, errsz) != 0) {
        if (!g.hosts)
            snprintf(err, errsz, "out of memory");
        free(g.b);
        free(g.names);
        s_hosts_free(&g.hosts);
        return NULL;
    }
    s_order(&g, max, cut);
    correlate_incident_t *inc = NULL;
    long ni = correlate_find(g.b, g.n, q->window_ns, q->min_hosts, &inc);
    incidents_t *self = NULL;
    if (ni >= 0) {
        correlate_recurrence(inc, (size_t)ni);
        long first = q->limit < ni ? ni - (long)q->limit : 0;
        if (first > 0 && cut)
            cut->limit = true;
        self = s_result(&g, inc, (size_t)first, (size_t)ni);
    }
    if (self)
        self->hosts_names_ = g.hosts; /* the members' names */
    else {
        snprintf(err, errsz, "out of memory grouping %zu bursts", g.n);
        s_hosts_free(&g.hosts);
    }
    free(inc);
    free(g.b);
    free(g.names);
    return self;
}

void incidents_destroy(incidents_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    incidents_t *self = *self_p;
    free(self->incidents);
    free(self->members_);
    free(self->hosts_);
    s_hosts_free(&self->hosts_names_);
    free(self);
    *self_p = NULL;
}
