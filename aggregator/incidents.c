/* incidents: see incidents.h. The received bursts of the range are read
 * newest first up to a bound (INCIDENTS_MAX_BURSTS: a month of a fleet is
 * millions), grouped, and only then is the limit applied to the incidents,
 * keeping the newest. */
#include "incidents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "grow.h"

typedef struct {
    char host[128];
    char iface[16];
} burst_name_t;

typedef struct {
    correlate_burst_t *b;
    burst_name_t *names; /* of each burst's host and interface */
    size_t n, cap, capnames;
} gather_t;

static int s_gather(void *ctx, const burst_start_t *row)
{
    gather_t *g = ctx;
    correlate_burst_t *b = grow(g->b, g->n + 1, &g->cap, sizeof *b, 256);
    if (b)
        g->b = b;
    burst_name_t *names = grow(g->names, g->n + 1, &g->capnames, sizeof *names, 256);
    if (names)
        g->names = names;
    if (!b || !names)
        return 1;
    g->b[g->n] = (correlate_burst_t){(uint32_t)row->host_id,   row->corrected_start_ns,
                                     row->end_ns,               row->uncertainty_ns,
                                     (uint64_t)row->packets,   (uint64_t)row->drops_total, g->n};
    snprintf(g->names[g->n].host, sizeof g->names[0].host, "%s", row->host);
    snprintf(g->names[g->n].iface, sizeof g->names[0].iface, "%s", row->iface);
    g->n++;
    return 0;
}

static void s_int(json_t *obj, const char *key, int64_t v)
{
    json_object_set_new_nocheck(obj, key, json_integer(v));
}

/* Built with json_object_set rather than json_pack: an hour of a large
 * fleet has hundreds of thousands of incidents, and parsing a format
 * string per object doubled the cost. */
static json_t *s_incident_json(const gather_t *g, const correlate_incident_t *c, long id)
{
    json_t *hosts = json_array(), *members = json_array(), *inc = json_object();
    for (size_t k = c->first; k < c->first + c->count; k++) {
        const correlate_burst_t *b = &g->b[k];
        const char *name = g->names[b->ref].host;
        bool listed = false;
        for (size_t i = 0; i < json_array_size(hosts) && !listed; i++)
            listed = strcmp(json_string_value(json_array_get(hosts, i)), name) == 0;
        if (!listed)
            json_array_append_new(hosts, json_string(name));
        json_t *m = json_object();
        json_object_set_new_nocheck(m, "host", json_string(name));
        json_object_set_new_nocheck(m, "iface", json_string(g->names[b->ref].iface));
        s_int(m, "start_ns", b->start_ns);
        s_int(m, "uncertainty_ns", b->uncertainty_ns);
        s_int(m, "packets", (int64_t)b->packets);
        s_int(m, "drops", (int64_t)b->drops);
        json_array_append_new(members, m);
    }
    s_int(inc, "id", id);
    s_int(inc, "start_ns", c->start_ns);
    s_int(inc, "end_ns", c->end_ns);
    json_object_set_new_nocheck(inc, "hosts", hosts);
    s_int(inc, "bursts", (int64_t)c->count);
    s_int(inc, "packets", (int64_t)c->packets);
    s_int(inc, "drops", (int64_t)c->drops);
    json_object_set_new_nocheck(inc, "period_ms", c->period_ns ? json_real((double)c->period_ns / 1e6)
                                                               : json_null());
    json_object_set_new_nocheck(inc, "uncertain", json_boolean(c->uncertain));
    json_object_set_new_nocheck(inc, "members", members);
    return inc;
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

json_t *incidents_find(store_t *store, const incidents_query_t *q, rows_cut_t *cut, char *err,
                       size_t errsz)
{
    gather_t g = {0};
    int64_t max = q->max_bursts > 0 ? q->max_bursts : INCIDENTS_MAX_BURSTS;
    if (store_burst_starts(store, q->from_ns, q->to_ns, max + 1, s_gather, &g, err, errsz) != 0) {
        free(g.b);
        free(g.names);
        return NULL;
    }
    s_order(&g, max, cut);
    correlate_incident_t *inc = NULL;
    long ni = correlate_find(g.b, g.n, q->window_ns, q->min_hosts, &inc);
    json_t *rows = ni >= 0 ? json_array() : NULL;
    if (rows) {
        correlate_recurrence(inc, (size_t)ni);
        long first = q->limit < ni ? ni - (long)q->limit : 0;
        if (first > 0 && cut)
            cut->limit = true;
        for (long i = first; i < ni; i++)
            json_array_append_new(rows, s_incident_json(&g, &inc[i], i + 1));
    } else {
        snprintf(err, errsz, "out of memory grouping %zu bursts", g.n);
    }
    free(inc);
    free(g.b);
    free(g.names);
    return rows;
}
