/* incidents: see incidents.h. Every received burst of the range is read
 * (their number is bounded by the range), grouped, and only then is the
 * limit applied to the incidents. */
#include "incidents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"

#define MAX_BURSTS 1000000 /* bursts considered per query */

typedef struct {
    correlate_burst_t *b;
    char (*host)[128]; /* name of each burst's host */
    char (*iface)[16];
    size_t n, cap;
} gather_t;

static int s_gather(void *ctx, const burst_row_t *row)
{
    gather_t *g = ctx;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 256;
        correlate_burst_t *b = realloc(g->b, cap * sizeof *b);
        char(*host)[128] = realloc(g->host, cap * sizeof *host);
        char(*iface)[16] = realloc(g->iface, cap * sizeof *iface);
        if (b)
            g->b = b;
        if (host)
            g->host = host;
        if (iface)
            g->iface = iface;
        if (!b || !host || !iface)
            return 1;
        g->cap = cap;
    }
    int64_t total = 0;
    for (int l = 0; l < LAYER_COUNT; l++)
        total += row->drops[l];
    int64_t shift = row->corrected_start_ns - row->start_ns;
    g->b[g->n] = (correlate_burst_t){(uint32_t)row->host_id, row->corrected_start_ns,
                                     row->end_ns + shift,    row->uncertainty_ns,
                                     (uint64_t)row->packets, (uint64_t)total, g->n};
    snprintf(g->host[g->n], sizeof g->host[0], "%s", row->host);
    snprintf(g->iface[g->n], sizeof g->iface[0], "%s", row->iface);
    g->n++;
    return 0;
}

static json_t *s_incident_json(const gather_t *g, const correlate_incident_t *c, long id)
{
    json_t *hosts = json_array(), *members = json_array();
    for (size_t k = c->first; k < c->first + c->count; k++) {
        const correlate_burst_t *b = &g->b[k];
        const char *name = g->host[b->ref];
        bool listed = false;
        for (size_t i = 0; i < json_array_size(hosts); i++)
            listed = listed || strcmp(json_string_value(json_array_get(hosts, i)), name) == 0;
        if (!listed)
            json_array_append_new(hosts, json_string(name));
        json_array_append_new(members,
                              json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "host", name, "iface",
                                        g->iface[b->ref], "start_ns", (json_int_t)b->start_ns,
                                        "uncertainty_ns", (json_int_t)b->uncertainty_ns,
                                        "packets", (json_int_t)b->packets, "drops",
                                        (json_int_t)b->drops));
    }
    json_t *period = c->period_ns ? json_real((double)c->period_ns / 1e6) : json_null();
    return json_pack("{s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:o, s:b, s:o}", "id", (json_int_t)id,
                     "start_ns", (json_int_t)c->start_ns, "end_ns", (json_int_t)c->end_ns,
                     "hosts", hosts, "bursts", (json_int_t)c->count, "packets",
                     (json_int_t)c->packets, "drops", (json_int_t)c->drops, "period_ms", period,
                     "uncertain", c->uncertain, "members", members);
}

json_t *incidents_find(store_t *store, const incidents_query_t *q, char *err, size_t errsz)
{
    gather_t g = {0};
    bursts_query_t bq = {.from_ns = q->from_ns, .to_ns = q->to_ns, .limit = MAX_BURSTS,
                         .rx_only = true};
    if (store_bursts(store, &bq, s_gather, &g, err, errsz) != 0) {
        free(g.b);
        free(g.host);
        free(g.iface);
        return NULL;
    }
    correlate_incident_t *inc = NULL;
    long ni = correlate_find(g.b, g.n, q->window_ns, q->min_hosts, &inc);
    json_t *rows = ni >= 0 ? json_array() : NULL;
    if (rows) {
        correlate_recurrence(inc, (size_t)ni);
        for (long i = 0; i < ni && i < q->limit; i++)
            json_array_append_new(rows, s_incident_json(&g, &inc[i], i + 1));
    } else {
        snprintf(err, errsz, "out of memory grouping %zu bursts", g.n);
    }
    free(inc);
    free(g.b);
    free(g.host);
    free(g.iface);
    return rows;
}
