/* timeline: gathers each kind of event per host with the store's queries,
 * tags it, and sorts the lot by time. Gaps are found from the batch times:
 * a silence longer than three reporting intervals (and at least 2 s).
 * Drops and bursts are read newest first, limit + 1 per host and kind, so
 * that a month of a fleet costs at most that many rows per host (the
 * newest `limit` of the union are among them) and the cut is noticed.
 * The rows' strings and profiles, valid only during the store's callback,
 * are copied into an arena of large chunks: one allocation per ~64 KB
 * rather than three or four per event. */
#include "timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "grow.h"
#include "ts.h"

#define GAP_MIN_NS (2 * TS_NS_PER_S)
#define CHUNK_BYTES (64 * 1024)

/* --- the arena ----------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, size; /* bytes of data used and held */
    _Alignas(8) unsigned char data[];
} chunk_t;

struct timeline_arena {
    chunk_t *head; /* the chunk being filled; older ones after it */
};

/* len bytes of the arena, 8-byte aligned; NULL when out of memory. */
static void *s_alloc(timeline_arena_t *a, size_t len)
{
    size_t need = (len + 7) & ~(size_t)7;
    if (!a->head || a->head->size - a->head->used < need) {
        size_t size = need > CHUNK_BYTES ? need : CHUNK_BYTES;
        chunk_t *c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        *c = (chunk_t){a->head, 0, size};
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += need;
    return p;
}

/* A copy of s in the arena; NULL when out of memory. */
static const char *s_keep(timeline_arena_t *a, const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = s_alloc(a, len);
    return copy ? memcpy(copy, s, len) : NULL;
}

static void s_arena_destroy(timeline_arena_t **a_p)
{
    if (!*a_p)
        return;
    for (chunk_t *c = (*a_p)->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(*a_p);
    *a_p = NULL;
}

/* --- gathering ----------------------------------------------------------- */

typedef struct {
    timeline_t *t;        /* its arena holds the strings */
    timeline_event_t *ev; /* in the order gathered */
    size_t n, cap;
    const char *host;     /* the host being gathered (in the arena) */
    int64_t from_ns, to_ns;
    int64_t *batches;     /* the host's batch times, for gaps */
    size_t nbatches, capbatches;
    setting_row_t prev;   /* previous setting row, for changes */
    char prev_key[512];
    int64_t limit;        /* events of one kind read per host at most */
    rows_cut_t *cut;      /* the profile budget, and what was cut */
    bool oom;             /* a callback ran out of memory: the store stops quietly */
} gather_t;

/* What a store callback returns when out of memory: stop, and remember why. */
static int s_oom(gather_t *g)
{
    g->oom = true;
    return 1;
}

/* Room for one more event, of type at ts on the host being gathered;
 * NULL when out of memory. */
static timeline_event_t *s_add(gather_t *g, timeline_type_t type, int64_t ts)
{
    timeline_event_t *grown = grow(g->ev, g->n + 1, &g->cap, sizeof *grown, 256);
    if (!grown)
        return NULL;
    g->ev = grown;
    timeline_event_t *ev = &g->ev[g->n++];
    *ev = (timeline_event_t){.type = type, .ts_ns = ts, .host = g->host};
    return ev;
}

static int s_drop(void *ctx, const drop_row_t *d)
{
    gather_t *g = ctx;
    timeline_arena_t *a = g->t->arena_;
    timeline_type_t type = counters_is_retrans(d->series) ? TIMELINE_RETRANS : TIMELINE_DROP;
    timeline_event_t *ev = s_add(g, type, d->ts_ns);
    if (!ev)
        return s_oom(g);
    ev->drop = *d;
    ev->drop.host = s_keep(a, d->host);
    ev->drop.series = s_keep(a, d->series);
    ev->drop.layer = s_keep(a, d->layer);
    ev->drop.owner = s_keep(a, d->owner ? d->owner : "");
    bool kept = ev->drop.host && ev->drop.series && ev->drop.layer && ev->drop.owner;
    return kept ? 0 : s_oom(g);
}

static int s_burst(void *ctx, const burst_row_t *b)
{
    gather_t *g = ctx;
    timeline_arena_t *a = g->t->arena_;
    timeline_event_t *ev = s_add(g, TIMELINE_BURST, b->start_ns);
    if (!ev)
        return s_oom(g);
    burst_row_t *row = &ev->burst.row;
    *row = *b;
    row->host = s_keep(a, b->host);
    row->iface = s_keep(a, b->iface);
    row->direction = s_keep(a, b->direction);
    ev->burst.profile_omitted = !rows_cut_profile(g->cut, b->nprofile);
    row->nprofile = ev->burst.profile_omitted ? 0 : b->nprofile;
    uint32_t *profile = s_alloc(a, row->nprofile * sizeof *profile);
    if (profile && row->nprofile)
        memcpy(profile, b->profile, row->nprofile * sizeof *profile);
    row->profile = profile;
    return row->host && row->iface && row->direction && profile ? 0 : s_oom(g);
}

static int s_seq_gap(void *ctx, const gap_row_t *r)
{
    gather_t *g = ctx;
    timeline_event_t *ev = s_add(g, TIMELINE_SEQ_GAP, r->start_ns);
    if (!ev)
        return s_oom(g);
    ev->seq_gap = *r;
    ev->seq_gap.host = g->host;
    ev->seq_gap.group = s_keep(g->t->arena_, r->group);
    return ev->seq_gap.group ? 0 : s_oom(g);
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
    if (same && r->value != g->prev.value && r->ts_ns > g->from_ns) {
        timeline_event_t *ev = s_add(g, TIMELINE_SETTING, r->ts_ns);
        if (ev) {
            ev->setting.series = s_keep(g->t->arena_, key);
            ev->setting.from = g->prev.value;
            ev->setting.to = r->value;
        }
        rc = ev && ev->setting.series ? 0 : s_oom(g);
    }
    snprintf(g->prev_key, sizeof g->prev_key, "%s", key);
    g->prev = *r;
    return rc;
}

static int s_batch(void *ctx, int64_t ts)
{
    gather_t *g = ctx;
    int64_t *grown = grow(g->batches, g->nbatches + 1, &g->capbatches, sizeof *grown, 1024);
    if (!grown)
        return s_oom(g);
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
        if (g->batches[i] - g->batches[i - 1] <= limit)
            continue;
        timeline_event_t *ev = s_add(g, TIMELINE_GAP, g->batches[i - 1]);
        if (!ev)
            return 1;
        ev->gap.end_ns = g->batches[i];
    }
    return 0;
}

static int s_host(store_t *store, gather_t *g, const char *host, char *err, size_t errsz)
{
    if (!(g->host = s_keep(g->t->arena_, host)))
        return 1;
    g->nbatches = 0;
    g->prev_key[0] = '\0';
    drops_query_t dq = {.host = host, .from_ns = g->from_ns, .to_ns = g->to_ns, .limit = g->limit};
    bursts_query_t bq = {.host = host, .from_ns = g->from_ns, .to_ns = g->to_ns, .limit = g->limit};
    int rc = store_drops_newest(store, &dq, s_drop, g, err, errsz);
    gaps_query_t gq = {.host = host, .from_ns = g->from_ns, .to_ns = g->to_ns, .limit = g->limit};
    rc = rc ? rc : store_bursts_newest(store, &bq, s_burst, g, err, errsz);
    rc = rc ? rc : store_gaps_newest(store, &gq, s_seq_gap, g, err, errsz);
    rc = rc ? rc : store_settings(store, host, g->to_ns, s_setting, g, err, errsz);
    rc = rc ? rc : store_batch_times(store, host, g->from_ns, g->to_ns, s_batch, g, err, errsz);
    if (rc == 0 && g->oom)
        rc = -1;
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

/* Whether inc involves one of q's hosts (any when q names none). */
static bool s_wanted(const timeline_query_t *q, const incident_t *inc)
{
    bool wanted = q->nhosts == 0;
    for (size_t k = 0; k < inc->nhosts && !wanted; k++)
        for (size_t j = 0; j < q->nhosts && !wanted; j++)
            wanted = strcmp(inc->hosts[k], q->hosts[j]) == 0;
    return wanted;
}

/* Incidents that involve at least one of the hosts (all when no filter). */
static int s_incidents(store_t *store, gather_t *g, const timeline_query_t *q, char *err,
                       size_t errsz)
{
    incidents_query_t iq = {q->from_ns, q->to_ns, q->window_ns, 2, g->limit, 0};
    if (!(g->t->incidents_ = incidents_find(store, &iq, g->cut, err, errsz)))
        return -1;
    g->host = "";
    const incidents_t *all = g->t->incidents_;
    for (size_t i = 0; i < all->n; i++) {
        if (!s_wanted(q, &all->incidents[i]))
            continue;
        timeline_event_t *ev = s_add(g, TIMELINE_INCIDENT, all->incidents[i].start_ns);
        if (!ev)
            return 1;
        ev->incident = &all->incidents[i];
    }
    return 0;
}

/* By time; ties in the order gathered (the events are in one array). */
static int s_by_time(const void *a, const void *b)
{
    const timeline_event_t *x = *(timeline_event_t *const *)a, *y = *(timeline_event_t *const *)b;
    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    return (x > y) - (x < y);
}

/* The newest limit of the events gathered, in time order, as t's events;
 * -1 when out of memory. */
static int s_sort(gather_t *g, int64_t limit, rows_cut_t *cut)
{
    timeline_event_t **order = malloc((g->n + 1) * sizeof *order);
    size_t first = (int64_t)g->n > limit ? g->n - (size_t)limit : 0;
    timeline_event_t *events = malloc((g->n - first + 1) * sizeof *events);
    if (!order || !events) {
        free(order);
        free(events);
        return -1;
    }
    for (size_t i = 0; i < g->n; i++)
        order[i] = &g->ev[i];
    if (g->n > 1) /* qsort(NULL, 0) is undefined */
        qsort(order, g->n, sizeof *order, s_by_time);
    if (first > 0 && cut)
        cut->limit = true;
    for (size_t i = first; i < g->n; i++)
        events[i - first] = *order[i];
    free(order);
    g->t->events = events;
    g->t->n = g->n - first;
    return 0;
}

timeline_t *timeline_build(store_t *store, const timeline_query_t *q, rows_cut_t *cut, char *err,
                           size_t errsz)
{
    int64_t limit = q->limit > 0 && q->limit < INT64_MAX ? q->limit : INT64_MAX - 1;
    timeline_t *t = calloc(1, sizeof *t);
    if (t && !(t->arena_ = calloc(1, sizeof *t->arena_)))
        timeline_destroy(&t);
    gather_t g = {.t = t, .from_ns = q->from_ns, .to_ns = q->to_ns, .limit = limit + 1, .cut = cut};
    names_t all = {0};
    int rc = t ? 0 : -1;
    if (rc == 0 && q->nhosts == 0)
        rc = store_hosts(store, s_host_name, &all, err, errsz);
    const char *const *hosts = q->nhosts ? q->hosts : all.names;
    size_t nhosts = q->nhosts ? q->nhosts : all.n;
    for (size_t i = 0; rc == 0 && i < nhosts; i++)
        rc = s_host(store, &g, hosts[i], err, errsz);
    if (rc == 0)
        rc = s_incidents(store, &g, q, err, errsz);
    if (rc == 0)
        rc = s_sort(&g, limit, cut);
    for (size_t i = 0; i < all.n; i++)
        free((char *)all.names[i]);
    free(all.names);
    free(g.ev);
    free(g.batches);
    if (rc != 0) {
        timeline_destroy(&t);
        if (!err[0])
            snprintf(err, errsz, "out of memory");
    }
    return t;
}

void timeline_destroy(timeline_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    timeline_t *self = *self_p;
    free(self->events);
    s_arena_destroy(&self->arena_);
    incidents_destroy(&self->incidents_);
    free(self);
    *self_p = NULL;
}
