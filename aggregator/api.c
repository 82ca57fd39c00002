/* api: one function per endpoint, under two prefixes. Parameters are
 * checked before any query runs; the first bad one is named in the error.
 * Result sets are built in memory with jansson and capped by `limit` (and
 * bursts' profiles by a tick budget): a capped list keeps its newest rows
 * and says what it left out in api_reply_t.truncated.
 *
 * /api/v1/ is the versioned API (docs/API.md, /api/v1/openapi.json): every
 * answer is an envelope {"data", "truncated", "truncated_reason", "next"},
 * lists come newest first (order=oldest turns a page round), "next" is the
 * request for the page after a capped one (drops, bursts and gaps continue
 * exactly from a cursor; incidents from the range before the oldest one
 * kept), every time point `X_ns` also comes as `X_time` (RFC 3339, to the
 * ns: the integers exceed 2^53, which JSON readers round), and times are
 * written as people write them (ts_parse_when: no bare numbers).
 * /api/ is the same answers bare, oldest first, for the clients of before
 * (a bare number there is still ns). */
#define _GNU_SOURCE
#include "api.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "counters.h"
#include "grow.h"
#include "incidents.h"
#include "metrics.h"
#include "rows.h"
#include "sat.h"
#include "source.h"
#include "timeline.h"
#include "diagnose.h"
#include "embed.h"
#include "ts.h"

#define DEFAULT_LIMIT 100000
#define MAX_LIMIT 1000000
#define DEFAULT_SINCE_NS (3600 * TS_NS_PER_S)

typedef struct {
    store_t *store;
    stats_board_t *stats;
    const char *const *names;
    api_param_fn *param;
    void *ctx;
    bool v1;          /* asked under /api/v1/ */
    const char *name; /* the endpoint: the path after the prefix */
} req_t;

/* The versioned API's description, compiled in (cmake/embed.cmake). */
extern const embed_file_t openapi_files[];

static api_reply_t s_json(int status, json_t *doc)
{
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!body)
        return (api_reply_t){.status = 500, .type = "application/json",
                             .body = strdup("{\"error\":\"out of memory\"}")};
    return (api_reply_t){.status = status, .type = "application/json", .body = body};
}

static api_reply_t s_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static api_reply_t s_error(int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *doc = json_pack("{s:s}", "error", msg);
    if (!doc) { /* msg quotes a parameter that is not UTF-8 (MHD decodes %ff): JSON must be */
        for (char *c = msg; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                *c = '?';
        doc = json_pack("{s:s}", "error", msg);
    }
    return s_json(status, doc);
}

const char *api_param(void *ctx, const char *name)
{
    const api_params_t *p = ctx;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->names[i], name) == 0)
            return p->values[i];
    return NULL;
}

api_reply_t api_error(int status, const char *msg)
{
    return s_error(status, "%s", msg);
}

api_reply_t api_too_slow(const char *path, int64_t timeout_ns)
{
    return s_error(503, "%s took longer than %g s (the limit, --query-timeout); narrow the range, "
                   "name fewer hosts or ask for fewer rows (limit)", path,
                   (double)timeout_ns / 1e9);
}

/* The time points of the answers: each gets an RFC 3339 twin on /api/v1/. */
static const char *const s_time_keys[] = {
    "ts_ns", "start_ns", "end_ns", "first_ns", "last_ns", "first_seen_ns", "last_seen_ns",
    "from_ns", "to_ns", "since_ns", "profile_start_ns", "corrected_start_ns", NULL};

/* Adds X_time (RFC 3339, exact) beside every time point X_ns in v, at any
 * depth; 0 means "never" and gets none. */
static void s_add_times(json_t *v)
{
    size_t i;
    json_t *x;
    const char *key;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) s_add_times(x);
        return;
    }
    if (!json_is_object(v))
        return;
    json_t *twins = json_object();
    json_object_foreach(v, key, x) {
        s_add_times(x);
        const char *const *k = s_time_keys;
        while (*k && strcmp(*k, key) != 0)
            k++;
        if (!*k || !json_is_integer(x) || json_integer_value(x) <= 0)
            continue;
        char name[64], when[TS_EXACT_SIZE];
        snprintf(name, sizeof name, "%.*s_time", (int)(strlen(key) - 3), key);
        json_object_set_new(twins, name,
                            json_string(ts_format_exact(json_integer_value(x), when, sizeof when)));
    }
    json_object_update(v, twins);
    json_decref(twins);
}

/* A 200 answer of data: bare on /api/, in the envelope on /api/v1/ with
 * what cut left out (NULL: nothing can be) and next, the request that
 * continues (NULL: none). The X-Dropscope-Truncated header says the same
 * under both prefixes. */
static api_reply_t s_answer(const req_t *r, json_t *data, const rows_cut_t *cut, int64_t limit,
                            const char *next)
{
    char why[sizeof ((api_reply_t *)0)->truncated] = "";
    if (cut)
        rows_cut_words(cut, limit, MAX_LIMIT, why, sizeof why);
    json_t *doc = data;
    if (r->v1) {
        s_add_times(data);
        doc = json_pack("{s:o, s:b, s:o, s:o}", "data", data, "truncated", why[0] != '\0',
                        "truncated_reason", why[0] ? json_string(why) : json_null(), "next",
                        next ? json_string(next) : json_null());
    }
    api_reply_t rep = s_json(200, doc);
    if (rep.status == 200)
        snprintf(rep.truncated, sizeof rep.truncated, "%s", why);
    return rep;
}

/* Where a page of a list read newest first begins: before `ts_ns` (to,
 * inclusive), past the `skip` rows at ts_ns that the page before gave. */
typedef struct {
    int64_t ts_ns, skip; /* 0, 0 without a cursor */
    bool oldest;         /* order=oldest: the page oldest first */
} page_t;

/* /api/v1/'s cursor and order parameters into *p, the cursor within
 * (from_ns, *to_ns] moving *to_ns to it. */
static api_reply_t *s_page(const req_t *r, int64_t from_ns, int64_t *to_ns, page_t *p,
                           api_reply_t *fail)
{
    *p = (page_t){0};
    const char *order = r->param(r->ctx, "order"), *cursor = r->param(r->ctx, "cursor");
    if (order && strcmp(order, "newest") != 0 && strcmp(order, "oldest") != 0) {
        *fail = s_error(400, "order '%s' must be newest (the default) or oldest", order);
        return fail;
    }
    p->oldest = order && strcmp(order, "oldest") == 0;
    if (!cursor)
        return NULL;
    char *end;
    p->ts_ns = strtoll(cursor, &end, 10);
    if (*end == '.')
        p->skip = strtoll(end + 1, &end, 10);
    if (end == cursor || *end || p->ts_ns <= from_ns || p->ts_ns > *to_ns || p->skip < 0 ||
        p->skip > MAX_LIMIT) {
        *fail = s_error(400, "cursor '%s' is not one of this range's (copy the answer's next "
                        "whole: it is the request that continues)", cursor);
        return fail;
    }
    *to_ns = p->ts_ns;
    return NULL;
}

/* The request for the page after this one: this request's parameters
 * but the range's and the cursor, from pinned (since=1h would move), and
 * `tail` (printf), where the next page ends. NULL without memory. */
static char *s_next(const req_t *r, int64_t from_ns, const char *tail, ...)
    __attribute__((format(printf, 3, 4)));

static char *s_next(const req_t *r, int64_t from_ns, const char *tail, ...)
{
    char *url = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&url, &len);
    if (!f)
        return NULL;
    fprintf(f, "/api/v1/%s?", r->name);
    for (const char *const *n = r->names; n && *n; n++) {
        if (strcmp(*n, "since") == 0 || strcmp(*n, "from") == 0 || strcmp(*n, "to") == 0 ||
            strcmp(*n, "cursor") == 0)
            continue;
        const char *value = r->param(r->ctx, *n);
        char *escaped = curl_easy_escape(NULL, value ? value : "", 0);
        fprintf(f, "%s=%s&", *n, escaped ? escaped : "");
        curl_free(escaped);
    }
    fprintf(f, "from=%" PRId64 "ns&", from_ns);
    va_list ap;
    va_start(ap, tail);
    vfprintf(f, tail, ap);
    va_end(ap);
    fclose(f);
    return url;
}

/* A list the store read newest first into n (up to limit + 1 rows past
 * the page's skip; rc its result, err its reason): the page, ordered for
 * the prefix, and on /api/v1/ the request for the next one, whose rows
 * continue before the oldest row's time point (ts_key). */
static api_reply_t s_newest_json(const req_t *r, int rc, rows_newest_t *n, const char *err,
                                 const page_t *p, int64_t from_ns, const char *ts_key)
{
    if (rc != 0) {
        json_decref(n->rows);
        return s_error(500, "%s", err);
    }
    if (p->skip) { /* the newest rows: the page before gave them */
        json_t *page = json_array();
        for (size_t i = (size_t)p->skip; i < json_array_size(n->rows); i++)
            json_array_append(page, json_array_get(n->rows, i));
        json_decref(n->rows);
        n->rows = page;
    }
    int64_t limit = n->limit - p->skip;
    char *next = NULL;
    size_t kept = json_array_size(n->rows);
    if (r->v1 && n->cut->limit && kept) {
        int64_t last = json_integer_value(json_object_get(json_array_get(n->rows, kept - 1), ts_key));
        int64_t skip = last == p->ts_ns ? p->skip : 0;
        for (size_t i = kept; i-- > 0;) {
            if (json_integer_value(json_object_get(json_array_get(n->rows, i), ts_key)) != last)
                break;
            skip++;
        }
        next = s_next(r, from_ns, "cursor=%" PRId64 ".%" PRId64, last, skip);
    }
    if (!r->v1 || p->oldest)
        rows_reverse(n->rows);
    api_reply_t rep = s_answer(r, n->rows, n->cut, limit, next);
    free(next);
    return rep;
}

/* Refuses parameters the endpoint does not know, so a typo is not
 * silently ignored: *fail becomes a 400 naming the first parameter of r
 * that is not in `allowed` (NULL ended) and those that are. Returns fail,
 * or NULL when every parameter is allowed. */
static api_reply_t *s_params(const req_t *r, const char *const *allowed, api_reply_t *fail)
{
    for (const char *const *n = r->names; n && *n; n++) {
        if (!r->v1 && (strcmp(*n, "cursor") == 0 || strcmp(*n, "order") == 0)) {
            *fail = s_error(400, "'%s' is a parameter of the versioned API: ask /api/v1/%s", *n,
                            r->name);
            return fail;
        }
        const char *const *a = allowed;
        while (*a && strcmp(*a, *n) != 0)
            a++;
        if (*a)
            continue;
        char list[256] = "";
        size_t len = 0;
        for (a = allowed; *a && len < sizeof list; a++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", a == allowed ? "" : ", ",
                                    *a);
        *fail = *allowed ? s_error(400, "unknown parameter '%s' (use %s)", *n, list)
                         : s_error(400, "unknown parameter '%s' (this endpoint takes none)", *n);
        return fail;
    }
    return NULL;
}

/* --- /api/hosts ----------------------------------------------------------- */

/* The store's one-a-line list as a JSON array of strings ([] for ""). */
static json_t *s_lines(const char *text)
{
    json_t *list = json_array();
    while (text && *text) {
        size_t n = strcspn(text, "\n");
        json_array_append_new(list, json_stringn(text, n));
        text += n + (text[n] == '\n');
    }
    return list;
}

static int s_host_row(void *ctx, const host_row_t *h)
{
    char incarnation[24];
    snprintf(incarnation, sizeof incarnation, "%016llx", (unsigned long long)h->incarnation);
    json_t *clock = json_null();
    if (h->clock_ts_ns)
        clock = json_pack("{s:I, s:b, s:I, s:I, s:I, s:b, s:I, s:I}", "ts_ns",
                          (json_int_t)h->clock_ts_ns, "offset_valid", h->clock.offset_valid,
                          "offset_ns", (json_int_t)h->clock.offset_ns, "rtt_ns",
                          (json_int_t)h->clock.rtt_ns, "uncertainty_ns",
                          (json_int_t)(h->clock.offset_valid ? h->clock.rtt_ns / 2
                                                             : h->clock.maxerror_ns),
                          "synced", h->clock.synced, "maxerror_ns",
                          (json_int_t)h->clock.maxerror_ns, "esterror_ns",
                          (json_int_t)h->clock.esterror_ns);
    json_t *row = json_pack(
        "{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:{s:I, s:I}, "
        "s:{s:I, s:I}, s:o}",
        "host", h->name, "boot_id", h->boot_id, "first_seen_ns", (json_int_t)h->first_seen_ns,
        "last_seen_ns", (json_int_t)h->last_seen_ns, "backend",
        h->backend[0] ? h->backend : "none", "backend_note", h->backend_note, "kernel", h->kernel, "collector_version",
        h->collector_version, "interval_ns", (json_int_t)h->interval_ns, "ncpus",
        (json_int_t)h->ncpus, "incarnation", incarnation, "last_seq", (json_int_t)h->last_seq,
        "series", (json_int_t)h->nseries, "spool_dropped", "messages",
        (json_int_t)h->spool_dropped_messages, "samples", (json_int_t)h->spool_dropped_samples,
        "spool_rejected", "messages", (json_int_t)h->spool_rejected_messages, "samples",
        (json_int_t)h->spool_rejected_samples, "clock", clock);
    json_object_set_new_nocheck(row, "degraded", s_lines(h->degraded));
    json_object_set_new_nocheck(row, "aggregator", json_string(h->aggregator));
    json_array_append_new(ctx, row);
    return 0;
}

static api_reply_t s_hosts(const req_t *r)
{
    static const char *const allowed[] = {NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    json_t *rows = json_array();
    char err[256];
    if (store_hosts(r->store, s_host_row, rows, err, sizeof err) != 0) {
        json_decref(rows);
        return s_error(500, "%s", err);
    }
    return s_answer(r, rows, NULL, 0, NULL);
}

/* --- /api/drops ----------------------------------------------------------- */

/* A time parameter, as people write it (ts_parse_when); on /api/, a bare
 * number is ns, as it was before the versioned API. */
static api_reply_t *s_when(const req_t *r, const char *name, const char *text, int64_t now,
                           int64_t *ns, api_reply_t *fail)
{
    char err[512];
    if ((!r->v1 && ts_parse_time(text, ns) == 0) || ts_parse_when(text, now, ns, err, sizeof err) == 0)
        return NULL;
    *fail = s_error(400, "%s: %s", name, err);
    return fail;
}

/* Reads the time range of since / from / to into *from_ns, *to_ns
 * (default: the last hour). */
static api_reply_t *s_range(const req_t *r, int64_t *from_ns, int64_t *to_ns, api_reply_t *fail)
{
    const char *since = r->param(r->ctx, "since");
    const char *from = r->param(r->ctx, "from");
    const char *to = r->param(r->ctx, "to");
    int64_t now = ts_now_ns(), span = DEFAULT_SINCE_NS;
    if (since && (from || to)) {
        *fail = s_error(400, "give either since or from/to, not both");
        return fail;
    }
    if (since && ts_parse_duration(since, &span) != 0) {
        *fail = s_error(400, "since '%s' is not a duration (e.g. 90s, 15m, 1h, 7d)", since);
        return fail;
    }
    *to_ns = now;
    if (to && s_when(r, "to", to, now, to_ns, fail))
        return fail;
    *from_ns = *to_ns - span;
    if (from && s_when(r, "from", from, now, from_ns, fail))
        return fail;
    if (*from_ns >= *to_ns) {
        *fail = s_error(400, "the range is empty or inverted: from must be before to");
        return fail;
    }
    return NULL;
}

/* The limit parameter (default DEFAULT_LIMIT). */
static api_reply_t *s_common_limit(const req_t *r, int64_t *limit, api_reply_t *fail)
{
    const char *text = r->param(r->ctx, "limit");
    *limit = DEFAULT_LIMIT;
    if (!text)
        return NULL;
    char *end;
    long long n = strtoll(text, &end, 10);
    if (*text == '\0' || *end != '\0' || n < 1 || n > MAX_LIMIT) {
        *fail = s_error(400, "limit '%s' must be an integer from 1 to %d", text, MAX_LIMIT);
        return fail;
    }
    *limit = n;
    return NULL;
}

/* The parameters every time-range endpoint shares: limit, the range and a
 * known host. */
static api_reply_t *s_common(const req_t *r, const char **host, int64_t *from_ns, int64_t *to_ns,
                             int64_t *limit, api_reply_t *fail)
{
    if (s_common_limit(r, limit, fail) || s_range(r, from_ns, to_ns, fail))
        return fail;
    *host = r->param(r->ctx, "host");
    if (*host && !store_host_known(r->store, *host)) {
        *fail = s_error(400, "unknown host '%s' (GET /api/hosts lists the hosts)", *host);
        return fail;
    }
    return NULL;
}

/* /api/drops' parameters, and /api/totals' (allowed: which of them). */
static api_reply_t *s_drops_params(const req_t *r, const char *const *allowed, drops_query_t *q,
                                   api_reply_t *fail)
{
    if (s_params(r, allowed, fail))
        return fail;
    *q = (drops_query_t){0};
    const char *layer = r->param(r->ctx, "layer");
    if (layer && !layer_on_path(q->layer = layer_from_name(layer))) {
        char names[128];
        *fail = s_error(400, "layer '%s' is not a drop or precursor layer (%s)", layer,
                        layer_path_names(names, sizeof names, ", "));
        return fail;
    }
    const char *step = r->param(r->ctx, "step");
    if (step && ts_parse_duration(step, &q->step_ns) != 0) {
        *fail = s_error(400, "step '%s' is not a duration (e.g. 1m)", step);
        return fail;
    }
    return s_common(r, &q->host, &q->from_ns, &q->to_ns, &q->limit, fail);
}

static api_reply_t s_drops(const req_t *r)
{
    static const char *const allowed[] = {"host", "layer", "since", "from", "to", "step", "limit",
                                          "cursor", "order", NULL};
    drops_query_t q;
    page_t p;
    api_reply_t fail;
    if (s_drops_params(r, allowed, &q, &fail) || s_page(r, q.from_ns, &q.to_ns, &p, &fail))
        return fail;
    rows_cut_t cut = ROWS_CUT_INIT;
    rows_newest_t n = {json_array(), q.limit + p.skip, &cut};
    char err[256];
    q.limit += p.skip + 1; /* one more: the sign that there were more */
    int rc = store_drops_newest(r->store, &q, rows_newest_drop, &n, err, sizeof err);
    return s_newest_json(r, rc, &n, err, &p, q.from_ns, "ts_ns");
}

/* The drops of a range by layer, every row of it (a list of drops is
 * capped by its limit, so summing one undercounts), overlapping series
 * left out: what the CLI's and the page's totals show. The precursor
 * layers' counts (budget: squeezes) are stored as drop rows but lose no
 * packet: they are "squeezes", beside the drops and never in them. */
static api_reply_t s_totals(const req_t *r)
{
    static const char *const allowed[] = {"host", "layer", "since", "from", "to", NULL};
    drops_query_t q;
    api_reply_t fail;
    if (s_drops_params(r, allowed, &q, &fail))
        return fail;
    int64_t totals[LAYER_COUNT], all = 0;
    char err[256];
    if (store_drop_totals(r->store, &q, totals, err, sizeof err) != 0)
        return s_error(500, "%s", err);
    int64_t squeezes = 0;
    json_t *layers = json_object(); /* in path order: the order clients show them in */
    for (size_t i = 0; i < LAYER_NPATH; i++) {
        layer_t l = layer_path[i];
        if (layer_is_precursor(l))
            squeezes = sat_add(squeezes, totals[l]);
        else if (totals[l]) {
            json_object_set_new(layers, layer_name(l), json_integer(totals[l]));
            all = sat_add(all, totals[l]);
        }
    }
    return s_answer(r, json_pack("{s:o, s:I, s:I}", "layers", layers, "total", (json_int_t)all,
                                 "squeezes", (json_int_t)squeezes), NULL, 0, NULL);
}

/* --- /api/top ------------------------------------------------------------- */

/* Adds n to the integer at obj's key. */
static void s_add(json_t *obj, const char *key, int64_t n)
{
    int64_t was = json_integer_value(json_object_get(obj, key));
    json_object_set_new(obj, key, json_integer(sat_add(was, n)));
}

/* Rows come grouped by host, top host first: one object per host, its
 * drops by layer and their sum, and its squeezes (a precursor) apart. */
static int s_top_row(void *ctx, const char *host, const char *layer, int64_t drops)
{
    json_t *rows = ctx, *last = json_array_get(rows, json_array_size(rows) - 1);
    if (!last || strcmp(json_string_value(json_object_get(last, "host")), host) != 0) {
        last = json_pack("{s:s, s:I, s:{}, s:I}", "host", host, "drops", (json_int_t)0, "layers",
                         "squeezes", (json_int_t)0);
        json_array_append_new(rows, last);
    }
    if (layer_is_precursor(layer_from_name(layer))) {
        s_add(last, "squeezes", drops);
        return 0;
    }
    json_object_set_new(json_object_get(last, "layers"), layer, json_integer(drops));
    s_add(last, "drops", drops);
    return 0;
}

static api_reply_t s_top(const req_t *r)
{
    static const char *const allowed[] = {"since", "from", "to", "limit", NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    int64_t from, to, limit = 20;
    if (s_range(r, &from, &to, &fail) ||
        (r->param(r->ctx, "limit") && s_common_limit(r, &limit, &fail)))
        return fail;
    json_t *rows = json_array();
    char err[256];
    if (store_top_droppers(r->store, from, to, limit, s_top_row, rows, err, sizeof err) != 0) {
        json_decref(rows);
        return s_error(500, "%s", err);
    }
    return s_answer(r, rows, NULL, 0, NULL);
}

/* --- /api/bursts ---------------------------------------------------------- */

static api_reply_t s_bursts(const req_t *r)
{
    static const char *const allowed[] = {"host", "iface", "since", "from", "to", "limit",
                                          "cursor", "order", NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    bursts_query_t q = {.iface = r->param(r->ctx, "iface")};
    page_t p;
    if (s_common(r, &q.host, &q.from_ns, &q.to_ns, &q.limit, &fail) ||
        s_page(r, q.from_ns, &q.to_ns, &p, &fail))
        return fail;
    rows_cut_t cut = ROWS_CUT_INIT;
    rows_newest_t n = {json_array(), q.limit + p.skip, &cut};
    char err[256];
    q.limit += p.skip + 1;
    int rc = store_bursts_newest(r->store, &q, rows_newest_burst, &n, err, sizeof err);
    return s_newest_json(r, rc, &n, err, &p, q.from_ns, "start_ns");
}

/* --- /api/gaps: the probes' sequence gaps -------------------------------------- */

static api_reply_t s_gaps(const req_t *r)
{
    static const char *const allowed[] = {"host", "since", "from", "to", "limit", "cursor",
                                          "order", NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    gaps_query_t q = {0};
    page_t p;
    if (s_common(r, &q.host, &q.from_ns, &q.to_ns, &q.limit, &fail) ||
        s_page(r, q.from_ns, &q.to_ns, &p, &fail))
        return fail;
    rows_cut_t cut = ROWS_CUT_INIT;
    rows_newest_t n = {json_array(), q.limit + p.skip, &cut};
    char err[256];
    q.limit += p.skip + 1;
    int rc = store_gaps_newest(r->store, &q, rows_newest_gap, &n, err, sizeof err);
    return s_newest_json(r, rc, &n, err, &p, q.from_ns, "start_ns");
}

/* --- /api/incidents --------------------------------------------------------- */

static api_reply_t s_incidents(const req_t *r)
{
    static const char *const allowed[] = {"since", "from", "to", "window", "min_hosts", "limit",
                                          "order", NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    bursts_query_t q = {.rx_only = true};
    page_t p;
    if (s_common(r, &q.host, &q.from_ns, &q.to_ns, &q.limit, &fail) ||
        s_page(r, q.from_ns, &q.to_ns, &p, &fail))
        return fail;
    int64_t window = 2 * TS_NS_PER_MS;
    const char *text = r->param(r->ctx, "window");
    if (text && (ts_parse_duration(text, &window) != 0 || window > 10 * TS_NS_PER_S))
        return s_error(400, "window '%s' is not a duration up to 10s (e.g. 2ms)", text);
    long min_hosts = 2;
    if ((text = r->param(r->ctx, "min_hosts"))) {
        char *end;
        min_hosts = strtol(text, &end, 10);
        if (*text == '\0' || *end || min_hosts < 2 || min_hosts > 100000)
            return s_error(400, "min_hosts '%s' must be an integer from 2 to 100000", text);
    }
    incidents_query_t iq = {q.from_ns, q.to_ns, window, (unsigned)min_hosts, q.limit, 0};
    char err[256] = "";
    rows_cut_t cut = ROWS_CUT_INIT;
    incidents_t *found = incidents_find(r->store, &iq, &cut, err, sizeof err);
    if (!found)
        return s_error(500, "%s", err);
    /* The next page: the range before the oldest incident kept (the
     * incidents are found from the bursts of a range, not stored rows). */
    char *next = r->v1 && cut.limit && found->n
                     ? s_next(r, q.from_ns, "to=%" PRId64 "ns", found->incidents[0].start_ns - 1)
                     : NULL;
    json_t *rows = rows_incidents(found);
    incidents_destroy(&found);
    if (r->v1 && !p.oldest)
        rows_reverse(rows);
    api_reply_t rep = s_answer(r, rows, &cut, q.limit, next);
    free(next);
    return rep;
}

/* --- /api/diagnose ---------------------------------------------------------- */

static api_reply_t s_diagnose(const req_t *r)
{
    static const char *const allowed[] = {"host", "since", "from", "to", NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    const char *host;
    int64_t from_ns, to_ns, limit;
    if (s_common(r, &host, &from_ns, &to_ns, &limit, &fail))
        return fail;
    if (!host)
        return s_error(400, "host is required (GET /api/hosts lists the hosts)");
    char err[256] = "";
    diagnosis_t *d = diagnose_stored(r->store, host, from_ns, to_ns, true, err, sizeof err);
    json_t *doc = d ? rows_diagnosis(d) : NULL;
    diagnosis_destroy(&d);
    if (!doc)
        return s_error(500, "%s", err[0] ? err : "out of memory");
    return s_answer(r, doc, NULL, 0, NULL);
}

/* --- /api/timeline ---------------------------------------------------------- */

#define TIMELINE_MAX_HOSTS 256

static api_reply_t s_timeline(const req_t *r)
{
    static const char *const allowed[] = {"host", "since", "from", "to", "window", "limit", NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    timeline_query_t q = {.window_ns = 2 * TS_NS_PER_MS};
    const char *hosts_text = r->param(r->ctx, "host");
    if (s_range(r, &q.from_ns, &q.to_ns, &fail) || s_common_limit(r, &q.limit, &fail))
        return fail;
    const char *text = r->param(r->ctx, "window");
    if (text && (ts_parse_duration(text, &q.window_ns) != 0 || q.window_ns > 10 * TS_NS_PER_S))
        return s_error(400, "window '%s' is not a duration up to 10s (e.g. 2ms)", text);
    char list[4096];
    const char *hosts[TIMELINE_MAX_HOSTS];
    if (hosts_text) {
        snprintf(list, sizeof list, "%s", hosts_text);
        for (char *save = NULL, *h = strtok_r(list, ",", &save); h;
             h = strtok_r(NULL, ",", &save)) {
            if (q.nhosts == TIMELINE_MAX_HOSTS)
                return s_error(400, "more than %d hosts", TIMELINE_MAX_HOSTS);
            if (!store_host_known(r->store, h))
                return s_error(400, "unknown host '%s' (GET /api/hosts lists the hosts)", h);
            hosts[q.nhosts++] = h;
        }
        q.hosts = hosts;
    }
    char err[256] = "";
    rows_cut_t cut = ROWS_CUT_INIT;
    timeline_t *t = timeline_build(r->store, &q, &cut, err, sizeof err);
    if (!t)
        return s_error(500, "%s", err);
    json_t *rows = rows_timeline(t);
    timeline_destroy(&t);
    return s_answer(r, rows, &cut, q.limit, NULL);
}

/* --- /api/settings ---------------------------------------------------------- */

typedef struct {
    int64_t from_ns;
    json_t *rows;
    json_t *cur;   /* the row of the series being read, borrowed from rows */
    char key[600]; /* its source/device/name */
} settings_gather_t;

/* Rows come by series, then time: the last one of each series is its value
 * at the end of the range; those inside the range are changes. */
static int s_setting_row(void *ctx, const setting_row_t *row)
{
    settings_gather_t *g = ctx;
    char key[600];
    snprintf(key, sizeof key, "%s/%s/%s", row->source, row->device, row->name);
    if (!g->cur || strcmp(key, g->key) != 0) {
        g->cur = json_pack("{s:s, s:I, s:I, s:[]}", "series", key, "value", (json_int_t)0,
                           "since_ns", (json_int_t)0, "changes");
        json_array_append_new(g->rows, g->cur);
        snprintf(g->key, sizeof g->key, "%s", key);
    } else if (row->ts_ns > g->from_ns) {
        json_array_append_new(json_object_get(g->cur, "changes"),
                              json_pack("{s:I, s:I, s:I}", "ts_ns", (json_int_t)row->ts_ns, "from",
                                        json_integer_value(json_object_get(g->cur, "value")),
                                        "to", (json_int_t)row->value));
    }
    json_object_set_new(g->cur, "value", json_integer(row->value));
    json_object_set_new(g->cur, "since_ns", json_integer(row->ts_ns));
    return 0;
}

static api_reply_t s_settings(const req_t *r)
{
    static const char *const allowed[] = {"host", "since", "from", "to", NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    const char *host;
    int64_t to_ns, limit;
    settings_gather_t g = {0};
    if (s_common(r, &host, &g.from_ns, &to_ns, &limit, &fail))
        return fail;
    if (!host)
        return s_error(400, "host is required (GET /api/hosts lists the hosts)");
    g.rows = json_array();
    char err[256];
    if (store_settings(r->store, host, to_ns, s_setting_row, &g, err, sizeof err) != 0) {
        json_decref(g.rows);
        return s_error(500, "%s", err);
    }
    return s_answer(r, g.rows, NULL, 0, NULL);
}

/* --- /api/series ------------------------------------------------------------ */

/* A series' samples come oldest first (they are packed in batches read in
 * time order), so the newest `limit` are kept in a ring as they pass. */
typedef struct {
    series_row_t *ring;
    size_t cap;
    int64_t limit, seen;
} series_ring_t;

static int s_series_row(void *ctx, const series_row_t *row)
{
    series_ring_t *g = ctx;
    if (g->seen < g->limit) {
        series_row_t *grown = grow(g->ring, (size_t)g->seen + 1, &g->cap, sizeof *grown, 1024);
        if (!grown)
            return 1;
        g->ring = grown;
    }
    g->ring[g->seen++ % g->limit] = *row;
    return 0;
}

static json_t *s_series_json(const series_row_t *row)
{
    return json_pack("{s:I, s:I, s:I, s:b, s:b}", "ts_ns", (json_int_t)row->ts_ns, "value",
                     (json_int_t)row->value, "delta", (json_int_t)row->delta, "first",
                     (row->flags & SAMPLE_FIRST) != 0, "reset", (row->flags & SAMPLE_RESET) != 0);
}

static int s_series_info(void *ctx, const series_info_t *s)
{
    char name[600];
    snprintf(name, sizeof name, "%s/%s/%s", s->source, s->device, s->name);
    json_t *row = json_pack("{s:s, s:s, s:s, s:b}", "series", name, "kind", s->kind, "layer",
                            s->layer, "overlap", s->overlap);
    rows_owner(row, s->owner);
    json_array_append_new(ctx, row);
    return 0;
}

/* Every series of a host: what /api/series can be asked for. */
static api_reply_t s_series_list(const req_t *r, const char *host)
{
    json_t *rows = json_array();
    char err[256];
    if (store_series_list(r->store, host, s_series_info, rows, err, sizeof err) != 0) {
        json_decref(rows);
        return s_error(500, "%s", err);
    }
    return s_answer(r, rows, NULL, 0, NULL);
}

/* Splits source/device/name (source and name never contain '/': split at
 * the first and the last) into source[64], device[256] and *name (into
 * series). False when it is not of that form. */
static bool s_split_series(const char *series, char source[64], char device[256],
                           const char **name)
{
    const char *first = strchr(series, '/'), *last = strrchr(series, '/');
    if (!first || first == last || first - series >= 64 || last - first - 1 >= 256)
        return false;
    snprintf(source, 64, "%.*s", (int)(first - series), series);
    snprintf(device, 256, "%.*s", (int)(last - first - 1), first + 1);
    *name = last + 1;
    return true;
}

static api_reply_t s_series(const req_t *r)
{
    static const char *const allowed[] = {"host", "series", "since", "from", "to", "limit", "step",
                                          NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    series_query_t q = {0};
    if (s_common(r, &q.host, &q.from_ns, &q.to_ns, &q.limit, &fail))
        return fail;
    /* step=1m or 1h: the rollups (kept longer than the raw samples). */
    const char *step = r->param(r->ctx, "step");
    if (step && strcmp(step, "1m") != 0 && strcmp(step, "1h") != 0)
        return s_error(400, "step '%s' must be 1m or 1h (the rollups); leave it out for every "
                       "sample", step);
    q.step_s = !step ? 0 : step[1] == 'm' ? 60 : 3600;
    const char *series = r->param(r->ctx, "series");
    if (!q.host)
        return s_error(400, "host is required (and series, as source/device/name, e.g. "
                       "sampler//lateness_p99_us; without it, the host's series are listed)");
    if (!series)
        return s_series_list(r, q.host);
    char source[64], device[256];
    if (!s_split_series(series, source, device, &q.name))
        return s_error(400, "series '%s' is not source/device/name", series);
    q.source = source;
    q.device = device;
    if (!store_series_known(r->store, q.host, q.source, q.device, q.name))
        return s_error(400, "host '%s' has no series '%s'", q.host, series);
    series_ring_t g = {NULL, 0, q.limit, 0};
    char err[256];
    q.limit = 0; /* all of the range, through the ring */
    if (store_series(r->store, &q, s_series_row, &g, err, sizeof err) != 0) {
        free(g.ring);
        return s_error(500, "%s", err);
    }
    json_t *rows = json_array();
    int64_t kept = g.seen < g.limit ? g.seen : g.limit;
    for (int64_t i = g.seen - kept; i < g.seen; i++)
        json_array_append_new(rows, s_series_json(&g.ring[i % g.limit]));
    free(g.ring);
    rows_cut_t cut = ROWS_CUT_INIT;
    cut.limit = g.seen > g.limit;
    return s_answer(r, rows, &cut, g.limit, NULL);
}

/* --- /api/explain ---------------------------------------------------------- */

/* What a series counts, what bounds it and what to do: the counter
 * reference (common/counters.c) that `dropscope explain` prints and the web
 * view links each finding's series to. */
static api_reply_t s_explain(const req_t *r)
{
    static const char *const allowed[] = {"series", NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    const char *series = r->param(r->ctx, "series"), *name;
    char source[64], device[256];
    if (!series)
        return s_error(400, "series is required, as source/device/name (e.g. "
                       "snmp//Udp.RcvbufErrors, softnet/cpu0/dropped)");
    if (!s_split_series(series, source, device, &name) || !name[0])
        return s_error(400, "series '%s' is not source/device/name (e.g. "
                       "snmp//Udp.RcvbufErrors)", series);
    counter_class_t c = counters_classify(source, name);
    counter_text_t t = counters_explain(source, name);
    bool counter = c.kind == KIND_COUNTER;
    return s_answer(r, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:s, s:s, s:s}",
                                 "series", series, "source", source, "device", device, "name",
                                 name, "layer", layer_name(c.layer), "drop",
                                 counter && layer_is_drop(c.layer), "precursor",
                                 counter && layer_is_precursor(c.layer), "overlap", c.overlap,
                                 "kind", kind_name(c.kind), "meaning", t.meaning, "setting",
                                 t.setting, "remedy", t.remedy), NULL, 0, NULL);
}

/* --- /api/vocabulary -------------------------------------------------------- */

/* The words the other answers use, so that a client keeps no copy of them:
 * the receive-path layers in path order with their text, each marked
 * "precursor" when its counts lose no packet (budget: shown as squeezes,
 * in the words of "squeezes", never summed into drops), the sources a
 * series name starts with, and the duration units the parameters take. */
static api_reply_t s_vocabulary(const req_t *r)
{
    static const char *const allowed[] = {NULL};
    api_reply_t fail;
    if (s_params(r, allowed, &fail))
        return fail;
    json_t *layers = json_array(), *sources = json_array(), *units = json_array();
    for (size_t i = 0; i < LAYER_NPATH; i++) {
        counter_text_t t = counters_layer_text(layer_path[i]);
        json_array_append_new(layers, json_pack("{s:s, s:b, s:s, s:s, s:s}", "name",
                                                layer_name(layer_path[i]), "precursor",
                                                layer_is_precursor(layer_path[i]), "meaning",
                                                t.meaning, "setting", t.setting, "remedy",
                                                t.remedy));
    }
    for (int src = SOURCE_UNKNOWN + 1; src < SOURCE_COUNT; src++)
        json_array_append_new(sources, json_string(source_name((source_t)src)));
    int64_t ns;
    const char *unit;
    for (size_t i = 0; (unit = ts_duration_unit(i, &ns)); i++)
        json_array_append_new(units, json_pack("{s:s, s:I}", "unit", unit, "ns", (json_int_t)ns));
    return s_answer(r, json_pack("{s:o, s:s, s:o, s:o}", "layers", layers, "squeezes",
                                 LAYER_PRECURSOR_WORDS, "sources", sources, "durations", units), NULL, 0, NULL);
}

/* --- /healthz, /metrics --------------------------------------------------- */

static api_reply_t s_healthz(const req_t *r)
{
    char err[256];
    if (store_ping(r->store, err, sizeof err) != 0)
        return s_error(503, "database unavailable: %s", err);
    return s_json(200, json_pack("{s:s}", "status", "ok"));
}

/* While the writer migrates the schema (before ingest starts), a query
 * could read half a schema: /healthz says "migrating" with which and for
 * how long, the API says to come back, /metrics answers as ever. */
static api_reply_t s_migrating(const char *path, const stats_migration_t *m)
{
    long long running_s = (long long)((ts_now_ns() - m->started_ns) / TS_NS_PER_S);
    if (strcmp(path, "/healthz") == 0)
        return s_json(503, json_pack("{s:s, s:s, s:i, s:i, s:I}", "status", "migrating",
                                     "migration", m->name, "index", m->index, "count", m->count,
                                     "running_s", (json_int_t)running_s));
    return s_error(503, "the database is being migrated (%d of %d: %s, running for %lld s); "
                   "try again once /healthz says ok", m->index, m->count, m->name, running_s);
}

/* The endpoints under /api/ and /api/v1/. */
static const struct {
    const char *name;
    api_reply_t (*fn)(const req_t *r);
} s_endpoints[] = {
    {"hosts", s_hosts},         {"drops", s_drops},       {"bursts", s_bursts},
    {"gaps", s_gaps},           {"incidents", s_incidents}, {"diagnose", s_diagnose},
    {"timeline", s_timeline},   {"series", s_series},     {"settings", s_settings},
    {"top", s_top},             {"totals", s_totals},     {"explain", s_explain},
    {"vocabulary", s_vocabulary},
};

/* /api/v1/openapi.json: the description of the versioned API. */
static api_reply_t s_openapi(void)
{
    const embed_file_t *f = &openapi_files[0];
    char *body = malloc(f->size + 1);
    if (!body)
        return api_error(500, "out of memory");
    memcpy(body, f->data, f->size + 1);
    return (api_reply_t){.status = 200, .type = "application/json", .body = body};
}

api_reply_t api_get(store_t *store, stats_board_t *stats, const char *path,
                    const char *const *names, api_param_fn *param, void *ctx)
{
    req_t r = {store, stats, names, param, ctx, false, NULL};
    stats_migration_t m;
    if (stats && strcmp(path, "/metrics") != 0 && stats_migration(stats, &m))
        return s_migrating(path, &m);
    if (strcmp(path, "/api/v1/openapi.json") == 0)
        return s_openapi();
    if (strncmp(path, "/api/v1/", 8) == 0) {
        r.v1 = true;
        r.name = path + 8;
    } else if (strncmp(path, "/api/", 5) == 0) {
        r.name = path + 5;
    }
    for (size_t i = 0; r.name && i < sizeof s_endpoints / sizeof *s_endpoints; i++)
        if (strcmp(r.name, s_endpoints[i].name) == 0)
            return s_endpoints[i].fn(&r);
    if (strcmp(path, "/healthz") == 0)
        return s_healthz(&r);
    if (strcmp(path, "/metrics") == 0)
        return metrics_get(store, stats);
    if (strcmp(path, "/metrics/fleet") == 0)
        return metrics_fleet_get(stats);
    return s_error(404, "no such endpoint '%s' (try /api/v1/hosts, drops, bursts, gaps, incidents, "
                   "diagnose, timeline, series, settings, top, totals, explain, vocabulary; "
                   "/api/v1/openapi.json describes them; /healthz, /metrics, /metrics/fleet)",
                   path);
}
