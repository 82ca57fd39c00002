/* timeline: gathers each kind of event per host with the store's queries,
 * tags it, and sorts the lot by time. Gaps are found from the batch times:
 * a silence longer than three reporting intervals (and at least 2 s).
 * Drops and bursts are read newest first, limit + 1 per host and kind, so
 * that a month of a fleet costs at most that many rows per host (the
 * newest `limit` of the union are among them) and the cut is noticed. */
#include "timeline.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "incidents.h"
#include "rows.h"
#include "ts.h"

#define GAP_MIN_NS (2 * TS_NS_PER_S)

typedef struct {
    json_t **ev;
    size_t n, cap;
    const char *host;     /* the host being gathered */
    int64_t from_ns, to_ns;
    int64_t *batches;     /* the host's batch times, for gaps */
    size_t nbatches, capbatches;
    setting_row_t prev;   /* previous setting row, for changes */
    char prev_key[512];
    int64_t limit;        /* events of one kind read per host at most */
    rows_cut_t *cut;      /* the profile budget, and what was cut */
} gather_t;

static int s_add(gather_t *g, json_t *ev, const char *type, int64_t ts)
{
    if (!ev)
        return 1;
    json_t **grown = grow(g->ev, g->n + 1, &g->cap, sizeof *grown, 256);
    if (!grown) {
        json_decref(ev);
        return 1;
    }
    g->ev = grown;
    json_object_set_new(ev, "type", json_string(type));
    json_object_set_new(ev, "ts_ns", json_integer(ts));
    g->ev[g->n++] = ev;
    return 0;
}

static int s_drop(void *ctx, const drop_row_t *d)
{
    return s_add(ctx, rows_drop(d), "drop", d->ts_ns);
}

static int s_burst(void *ctx, const burst_row_t *b)
{
    gather_t *g = ctx;
    return s_add(g, rows_burst(b, g->cut), "burst", b->start_ns);
}

/* Setting rows come by series then time; a row that differs from the one
 * before it in the same series, inside the range, is a change. */
static int s_setting(void *ctx, const setting_row_t *r)
{
    gather_t *g = ctx;
    char key[512];
    snprintf(key, sizeof key, "%s/%s/%s", r->source, r->device, r->name);
    bool same = strcmp(key, g->prev_key) == 0;
    int rc = 0;
    if (same && r->value != g->prev.value && r->ts_ns > g->from_ns)
        rc = s_add(g, json_pack("{s:s, s:s, s:I, s:I}", "host", g->host, "series", key, "from",
                                (json_int_t)g->prev.value, "to", (json_int_t)r->value),
                   "setting", r->ts_ns);
    snprintf(g->prev_key, sizeof g->prev_key, "%s", key);
    g->prev = *r;
    return rc;
}

static int s_batch(void *ctx, int64_t ts)
{
    gather_t *g = ctx;
    int64_t *grown = grow(g->batches, g->nbatches + 1, &g->capbatches, sizeof *grown, 1024);
    if (!grown)
        return 1;
    g->batches = grown;
    g->batches[g->nbatches++] = ts;
    return 0;
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Silences longer than three times the host's usual interval. */
static int s_gaps(gather_t *g)
{
    if (g->nbatches < 3)
        return 0;
    int64_t *d = malloc((g->nbatches - 1) * sizeof *d);
    if (!d)
        return 1;
    for (size_t i = 1; i < g->nbatches; i++)
        d[i - 1] = g->batches[i] - g->batches[i - 1];
    qsort(d, g->nbatches - 1, sizeof *d, s_cmp_i64);
    int64_t usual = d[(g->nbatches - 1) / 2], limit = usual * 3 > GAP_MIN_NS ? usual * 3 : GAP_MIN_NS;
    free(d);
    for (size_t i = 1; i < g->nbatches; i++) {
        int64_t gap = g->batches[i] - g->batches[i - 1];
        if (gap > limit &&
            s_add(g, json_pack("{s:s, s:I, s:f}", "host", g->host, "end_ns",
                               (json_int_t)g->batches[i], "seconds", (double)gap / 1e9),
                  "gap", g->batches[i - 1]) != 0)
            return 1;
    }
    return 0;
}

static int s_host(store_t *store, gather_t *g, const char *host, char *err, size_t errsz)
{
    g->host = host;
    g->nbatches = 0;
    g->prev_key[0] = '\0';
    drops_query_t dq = {.host = host, .from_ns = g->from_ns, .to_ns = g->to_ns, .limit = g->limit};
    bursts_query_t bq = {.host = host, .from_ns = g->from_ns, .to_ns = g->to_ns, .limit = g->limit};
    int rc = store_drops_newest(store, &dq, s_drop, g, err, errsz);
    rc = rc ? rc : store_bursts_newest(store, &bq, s_burst, g, err, errsz);
    rc = rc ? rc : store_settings(store, host, g->to_ns, s_setting, g, err, errsz);
    rc = rc ? rc : store_batch_times(store, host, g->from_ns, g->to_ns, s_batch, g, err, errsz);
    return rc ? rc : s_gaps(g);
}

typedef struct {
    const char **names;
    size_t n, cap;
} names_t;

static int s_host_name(void *ctx, const host_row_t *row)
{
    names_t *h = ctx;
    const char **grown = grow(h->names, h->n + 1, &h->cap, sizeof *grown, 64);
    if (!grown)
        return 1;
    h->names = grown;
    h->names[h->n] = strdup(row->name);
    return h->names[h->n++] ? 0 : 1;
}

/* Incidents that involve at least one of the hosts (all when no filter). */
static int s_incidents(store_t *store, gather_t *g, const timeline_query_t *q, char *err,
                       size_t errsz)
{
    incidents_query_t iq = {q->from_ns, q->to_ns, q->window_ns, 2, g->limit, 0};
    json_t *all = incidents_find(store, &iq, g->cut, err, errsz);
    if (!all)
        return -1;
    size_t i;
    json_t *inc;
    json_array_foreach(all, i, inc) {
        bool wanted = q->nhosts == 0;
        size_t k;
        json_t *h;
        json_array_foreach(json_object_get(inc, "hosts"), k, h)
            for (size_t j = 0; j < q->nhosts && !wanted; j++)
                wanted = strcmp(json_string_value(h), q->hosts[j]) == 0;
        if (wanted) {
            json_object_set_new(inc, "host", json_string(""));
            s_add(g, json_incref(inc), "incident",
                  (int64_t)json_integer_value(json_object_get(inc, "start_ns")));
        }
    }
    json_decref(all);
    return 0;
}

static int s_by_time(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "ts_ns"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "ts_ns"));
    return x < y ? -1 : x > y;
}

json_t *timeline_build(store_t *store, const timeline_query_t *q, rows_cut_t *cut, char *err,
                       size_t errsz)
{
    int64_t limit = q->limit > 0 && q->limit < INT64_MAX ? q->limit : INT64_MAX - 1;
    gather_t g = {.from_ns = q->from_ns, .to_ns = q->to_ns, .limit = limit + 1, .cut = cut};
    names_t all = {0};
    int rc = 0;
    if (q->nhosts == 0)
        rc = store_hosts(store, s_host_name, &all, err, errsz);
    const char *const *hosts = q->nhosts ? q->hosts : all.names;
    size_t nhosts = q->nhosts ? q->nhosts : all.n;
    for (size_t i = 0; rc == 0 && i < nhosts; i++)
        rc = s_host(store, &g, hosts[i], err, errsz);
    if (rc == 0)
        rc = s_incidents(store, &g, q, err, errsz);
    json_t *out = rc == 0 ? json_array() : NULL;
    if (out)
        if (g.n > 1) /* qsort(NULL, 0) is undefined */
            qsort(g.ev, g.n, sizeof *g.ev, s_by_time);
    size_t first = (int64_t)g.n > limit ? g.n - (size_t)limit : 0;
    if (first > 0)
        cut->limit = true;
    for (size_t i = 0; i < g.n; i++) {
        if (out && i >= first)
            json_array_append(out, g.ev[i]);
        json_decref(g.ev[i]);
    }
    for (size_t i = 0; i < all.n; i++)
        free((char *)all.names[i]);
    free(all.names);
    free(g.ev);
    free(g.batches);
    if (!out && !err[0])
        snprintf(err, errsz, "out of memory");
    return out;
}
