/* chstore_query: the read side of the ClickHouse store, store_query.c's
 * queries on the tables of chstore_schema.c with the same rows, order,
 * ranges and limits. A row can be stored twice (chstore.h), so every query
 * first reads each natural key once (GROUP BY the key, any() of the rest)
 * and only then filters, sums, orders and limits; merges are never trusted.
 * Answers come as RowBinary and are copied before the callbacks run, so a
 * callback may ask the store again. Hosts and tallies are read through
 * s_run's row reader, strings copied out NUL-terminated per row. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chstore_internal.h"
#include "rowbinary.h"
#include "sat.h"
#include "ts.h"

/* A number per host, for burst_row_t.host_id: the host name's CityHash64
 * cut to 53 bits, so that it stays exact as a JSON number. Stable across
 * aggregators and restarts (SQLite's is the hosts row id). */
#define CH_HOST_ID "toInt64(bitAnd(cityHash64(host), 9007199254740991))"

/* The latest definition of each series of the hosts `where` selects (every
 * incarnation of it, each wire id read once by argMax): its kind, layer
 * and overlap, and its owner, which as in SQLite's host_series.owner is
 * the latest one that was not "" (a definition without an owner keeps the
 * one known). */
#define CH_SERIES_INFO                                                                             \
    "SELECT host, source, device, name, argMax(kind, defined_ns) AS s_kind, "                     \
    "argMax(layer, defined_ns) AS s_layer, argMax(overlap, defined_ns) AS s_overlap, "            \
    "argMaxIf(owner, defined_ns, owner != '') AS s_owner FROM %s.series"

typedef enum { S_OLDEST_FIRST, S_NEWEST_FIRST } s_order_t;

static const char *s_desc(s_order_t order)
{
    return order == S_NEWEST_FIRST ? " DESC" : "";
}

/* --- SQL text ----------------------------------------------------------------- */

/* A statement built piece by piece; a failure (memory) sticks. */
typedef struct {
    char *buf;
    size_t len, cap;
    bool failed;
} s_sql_t;

static void s_add(s_sql_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_add(s_sql_t *sb, const char *fmt, ...)
{
    if (sb->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sb->buf ? sb->buf + sb->len : NULL, sb->buf ? sb->cap - sb->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (sb->buf && (size_t)n < sb->cap - sb->len)) {
        sb->failed = n < 0;
        sb->len += n < 0 ? 0 : (size_t)n;
        return;
    }
    size_t cap = (sb->len + (size_t)n + 1) * 2;
    char *grown = realloc(sb->buf, cap);
    if (!grown) {
        sb->failed = true;
        return;
    }
    sb->buf = grown;
    sb->cap = cap;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

/* Appends s as a string literal: every string from a caller goes so. */
static void s_lit(s_sql_t *sb, const char *s)
{
    char *q = clickhouse_quote_dup(s);
    if (!q)
        sb->failed = true;
    else
        s_add(sb, "%s", q);
    free(q);
}

/* Appends " AND column = 'value'" when value is not NULL. */
static void s_and_eq(s_sql_t *sb, const char *column, const char *value)
{
    if (!value)
        return;
    s_add(sb, " AND %s = ", column);
    s_lit(sb, value);
}

static void s_limit(s_sql_t *sb, int64_t limit)
{
    if (limit > 0)
        s_add(sb, " LIMIT %lld", (long long)limit);
}

/* Appends a sum of x (Int64) that saturates at the ends of int64 as
 * store_query.c's SQL_SUM does, instead of wrapping as ClickHouse's sum()
 * does: exact below 4e18 (SQLite's is exact below 2^53 and rounded above),
 * pinned to INT64_MAX or INT64_MIN beyond. */
static void s_sum(s_sql_t *sb, const char *x)
{
    s_add(sb,
          "if(abs(sum(toFloat64(%s))) < 4e18, sum(%s), if(sum(toFloat64(%s)) > 0, "
          "toInt64(9223372036854775807), toInt64(-9223372036854775807) - 1))",
          x, x, x);
}

/* The precursor layers' names as an SQL list, "'budget'": names from
 * layer.c's table, never from a client. */
static void s_precursor_list(s_sql_t *sb)
{
    bool any = false;
    for (int l = LAYER_NIC; l < LAYER_COUNT; l++)
        if (layer_is_precursor((layer_t)l)) {
            s_add(sb, "%s'%s'", any ? ", " : "", layer_name((layer_t)l));
            any = true;
        }
    if (!any)
        s_add(sb, "''"); /* IN () is not SQL */
}

/* --- the deadline -------------------------------------------------------------- */

/* Where sql's FORMAT clause starts (a SETTINGS clause goes before it), or
 * its end when it has none. */
static size_t s_format_at(const char *sql)
{
    size_t len = strlen(sql), at = len;
    for (const char *p = strstr(sql, "FORMAT "); p; p = strstr(p + 1, "FORMAT "))
        at = (size_t)(p - sql);
    if (at == len || (at > 0 && sql[at - 1] != ' '))
        return len;
    for (const char *p = sql + at + 7; *p; p++)
        if (!(*p == '_' || *p == ' ' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
            return len; /* "FORMAT " inside a literal: no clause after it */
    return at;
}

void chstore_set_deadline(chstore_t *self, store_deadline_t *deadline)
{
    self->deadline = deadline;
}

/* The seconds the deadline leaves, rounded up (18.16's max_execution_time
 * takes whole seconds only); 0 without a deadline, -1 once it passed. */
static int64_t s_seconds_left(const store_deadline_t *d)
{
    if (!d || d->mono_ns == 0)
        return 0;
    int64_t left = d->mono_ns - ts_mono_ns();
    return left <= 0 ? -1 : (left + 999999999) / 1000000000;
}

int chstore_select(chstore_t *self, const char *sql, const uint8_t **answer, size_t *len,
                   char *err, size_t errsz)
{
    int64_t secs = s_seconds_left(self->deadline);
    if (secs < 0) {
        self->deadline->passed = true;
        snprintf(err, errsz, "clickhouse: the query was stopped at its deadline before it was "
                             "sent (ask for a narrower range)");
        return -1;
    }
    char *limited = NULL;
    if (secs > 0) {
        /* A SETTINGS clause (18.16 takes it before FORMAT) rather than a URL
         * parameter: clickhouse_query's URL is the same for every query. */
        size_t at = s_format_at(sql), n = strlen(sql) + 64;
        if (!(limited = malloc(n))) {
            snprintf(err, errsz, "clickhouse: out of memory for a query");
            return -1;
        }
        snprintf(limited, n, "%.*s SETTINGS max_execution_time = %lld %s", (int)at, sql,
                 (long long)secs, sql + at);
    }
    char why[4096] = "";
    int rc = clickhouse_query(self->ch, limited ? limited : sql, answer, len, why, sizeof why);
    free(limited);
    if (rc == 0)
        return 0;
    /* 159 is TIMEOUT_EXCEEDED: 18.16 says "Code: 159", current releases
     * add the name */
    if (secs > 0 && (strstr(why, "Code: 159") || strstr(why, "TIMEOUT_EXCEEDED"))) {
        self->deadline->passed = true;
        snprintf(err, errsz, "clickhouse: the query was stopped at its deadline (max_execution_time "
                             "= %lld s; ask for a narrower range)", (long long)secs);
    } else {
        snprintf(err, errsz, "%s", why);
    }
    return -1;
}

/* --- rows ------------------------------------------------------------------------ */

#define S_MAX_STR 12
#define S_MAX_NUM 24

/* One row of an answer, read by the column types of s_read_row. */
typedef struct {
    const char *s[S_MAX_STR];   /* its strings, NUL-terminated copies in text */
    int64_t n[S_MAX_NUM];       /* its integers in order (UInt64 as their bits) */
    double f;                   /* its Float64 (one at most) */
    int64_t drops[LAYER_COUNT]; /* its Array(Int64), by layer (longer ones cut) */
    uint32_t *profile;          /* its Array(UInt32), nprofile of them */
    size_t nprofile, profile_cap;
    char *text; /* room for the strings */
    size_t text_cap;
} s_row_t;

/* Copies the row's strings (spans into the answer) out, each with a NUL. */
static int s_copy_strings(s_row_t *row, const char *const *at, const size_t *len, int ns)
{
    size_t need = 0;
    for (int i = 0; i < ns; i++)
        need += len[i] + 1;
    if (need > row->text_cap) {
        char *grown = realloc(row->text, need * 2);
        if (!grown)
            return -1;
        row->text = grown;
        row->text_cap = need * 2;
    }
    char *p = row->text;
    for (int i = 0; i < ns; i++) {
        memcpy(p, at[i], len[i]);
        p[len[i]] = '\0';
        row->s[i] = p;
        p += len[i] + 1;
    }
    return 0;
}

static int s_read_profile(rbr_t *r, s_row_t *row)
{
    uint64_t n = 0;
    if (rbr_array_len(r, &n) != 0)
        return 0; /* the reader's failure says it */
    if (n > row->profile_cap) {
        uint32_t *grown = realloc(row->profile, (size_t)n * sizeof *grown);
        if (!grown)
            return -1;
        row->profile = grown;
        row->profile_cap = (size_t)n;
    }
    for (uint64_t i = 0; i < n; i++)
        rbr_u32(r, &row->profile[i]);
    row->nprofile = (size_t)n;
    return 0;
}

/* Reads one row of columns typed by types: 's' String, 'l' Int64, 'q'
 * UInt64, 'w' UInt32, 'b' UInt8, 'f' Float64, 'A' Array(Int64) (layers),
 * 'P' Array(UInt32) (a profile). 0; -1 when the answer does not hold it
 * (rbr_failed says so) or without memory. */
static int s_read_row(rbr_t *r, const char *types, s_row_t *row)
{
    const char *at[S_MAX_STR];
    size_t len[S_MAX_STR];
    int ns = 0, nn = 0;
    for (const char *t = types; *t && !rbr_failed(r); t++) {
        uint64_t u = 0, count = 0;
        uint32_t w = 0;
        uint8_t b = 0;
        switch (*t) {
        case 's': rbr_string(r, &at[ns], &len[ns]), ns++; break;
        case 'l': rbr_i64(r, &row->n[nn++]); break;
        case 'q': rbr_u64(r, &u), row->n[nn++] = (int64_t)u; break;
        case 'w': rbr_u32(r, &w), row->n[nn++] = w; break;
        case 'b': rbr_u8(r, &b), row->n[nn++] = b; break;
        case 'f': rbr_f64(r, &row->f); break;
        case 'A':
            memset(row->drops, 0, sizeof row->drops);
            rbr_array_len(r, &count);
            for (uint64_t i = 0; i < count && !rbr_failed(r); i++) {
                int64_t v = 0;
                rbr_i64(r, &v);
                if (i < LAYER_COUNT)
                    row->drops[i] = v;
            }
            break;
        case 'P':
            if (s_read_profile(r, row) != 0)
                return -1;
            break;
        default: return -1; /* a programmer's error: the types are this file's */
        }
    }
    return rbr_failed(r) ? -1 : s_copy_strings(row, at, len, ns);
}

/* The caller's callback and context, whichever row type it takes. */
typedef struct {
    union {
        int (*host)(void *ctx, const host_row_t *row);
        int (*top)(void *ctx, const char *host, const char *layer, int64_t drops);
        int (*drop)(void *ctx, const drop_row_t *row);
        int (*burst)(void *ctx, const burst_row_t *row);
        int (*start)(void *ctx, const burst_start_t *row);
        int (*gap)(void *ctx, const gap_row_t *row);
        int (*info)(void *ctx, const series_info_t *row);
        int (*sample)(void *ctx, const series_row_t *row);
        int (*sum)(void *ctx, const drop_sum_t *row);
        int (*setting)(void *ctx, const setting_row_t *row);
        int (*time)(void *ctx, int64_t ts_ns);
        int64_t *totals;
    } fn;
    void *ctx;
    int64_t left; /* rows still wanted; < 0: no bound */
} s_call_t;

/* Hands one row read to the caller: 0 to go on. */
typedef int s_emit_fn(s_call_t *call, const s_row_t *row);

/* Runs the statement sb built (and frees it) and calls emit with each row,
 * read as types says. 0, -1 + err. */
static int s_run(chstore_t *self, s_sql_t *sb, const char *types, s_emit_fn *emit, s_call_t *call,
                 char *err, size_t errsz)
{
    s_add(sb, " FORMAT RowBinary");
    const uint8_t *answer = NULL;
    size_t len = 0;
    int rc = sb->failed ? -1 : chstore_select(self, sb->buf, &answer, &len, err, errsz);
    if (sb->failed)
        snprintf(err, errsz, "clickhouse: out of memory for a query");
    free(sb->buf);
    /* copied: a callback may query self again, which reuses the answer's buffer */
    uint8_t *copy = rc == 0 ? malloc(len + 1) : NULL;
    if (rc == 0 && !copy) {
        snprintf(err, errsz, "clickhouse: out of memory for an answer of %zu bytes", len);
        return -1;
    }
    if (rc != 0)
        return -1;
    memcpy(copy, answer, len);
    rbr_t r = rbr_init(copy, len);
    s_row_t row = {.f = 0};
    while (rbr_more(&r)) {
        if (s_read_row(&r, types, &row) != 0) {
            if (rbr_failed(&r))
                rbr_error(&r, err, errsz);
            else
                snprintf(err, errsz, "clickhouse: out of memory for a row of an answer");
            rc = -1;
            break;
        }
        if (emit(call, &row) != 0)
            break;
    }
    free(row.text);
    free(row.profile);
    free(copy);
    return rc;
}

/* Runs a query whose answer is one UInt64 (count()); 0 when it fails. */
static uint64_t s_count(chstore_t *self, s_sql_t *sb)
{
    s_add(sb, " FORMAT RowBinary");
    char err[256];
    const uint8_t *answer = NULL;
    size_t len = 0;
    uint64_t n = 0;
    if (!sb->failed && chstore_select(self, sb->buf, &answer, &len, err, sizeof err) == 0) {
        rbr_t r = rbr_init(answer, len);
        if (rbr_u64(&r, &n) != 0)
            n = 0;
    }
    free(sb->buf);
    return n;
}

int chstore_ping(chstore_t *self, char *err, size_t errsz)
{
    const uint8_t *answer = NULL;
    size_t len = 0;
    /* the URL names the database: a server without it refuses even this */
    return chstore_select(self, "SELECT 1 FORMAT RowBinary", &answer, &len, err, errsz);
}

/* --- hosts -------------------------------------------------------------------- */

static int s_emit_host(s_call_t *call, const s_row_t *row)
{
    const int64_t *n = row->n;
    host_row_t h = {.name = row->s[0],
                    .boot_id = row->s[1],
                    .backend = row->s[2],
                    .kernel = row->s[3],
                    .collector_version = row->s[4],
                    .first_seen_ns = n[0],
                    .last_seen_ns = n[1],
                    .interval_ns = n[2],
                    .incarnation = (uint64_t)n[3],
                    .last_seq = (uint64_t)n[4],
                    .ncpus = n[5],
                    .nseries = n[6],
                    .spool_dropped_messages = n[7],
                    .spool_dropped_samples = n[8],
                    .clock_ts_ns = n[9],
                    .clock = {.offset_valid = n[10] != 0,
                              .offset_ns = n[11],
                              .rtt_ns = n[12],
                              .synced = n[13] != 0,
                              .maxerror_ns = n[14],
                              .esterror_ns = n[15]},
                    .backend_note = row->s[5],
                    .spool_rejected_messages = n[16],
                    .spool_rejected_samples = n[17],
                    .degraded = row->s[6]};
    return call->fn.host(call->ctx, &h);
}

int chstore_hosts(chstore_t *self, int (*fn)(void *ctx, const host_row_t *row), void *ctx,
                  char *err, size_t errsz)
{
    /* Each host's latest row by updated_ns (several aggregators flush their
     * own), its first sighting the least; its series counted by name, as
     * SQLite's host_series has one row per host and name. */
    s_sql_t sb = {.buf = NULL};
    s_add(&sb,
          "SELECT host, h_boot, h_backend, h_kernel, h_version, h_first, h_last, h_interval, "
          "h_incarnation, h_seq, h_ncpus, toInt64(nseries), h_sdm, h_sds, h_clock_ts, h_valid, "
          "h_offset, h_rtt, h_synced, h_maxerr, h_esterr, h_note, h_srm, h_srs, h_degraded FROM "
          "(SELECT name AS host, argMax(boot_id, updated_ns) AS h_boot, "
          "argMax(backend, updated_ns) AS h_backend, argMax(kernel, updated_ns) AS h_kernel, "
          "argMax(collector_version, updated_ns) AS h_version, min(first_seen_ns) AS h_first, "
          "argMax(last_seen_ns, updated_ns) AS h_last, argMax(interval_ns, updated_ns) AS "
          "h_interval, argMax(incarnation, updated_ns) AS h_incarnation, "
          "argMax(last_seq, updated_ns) AS h_seq, argMax(ncpus, updated_ns) AS h_ncpus, "
          "argMax(spool_dropped_messages, updated_ns) AS h_sdm, "
          "argMax(spool_dropped_samples, updated_ns) AS h_sds, "
          "argMax(clock_ts_ns, updated_ns) AS h_clock_ts, "
          "argMax(clock_offset_valid, updated_ns) AS h_valid, "
          "argMax(clock_offset_ns, updated_ns) AS h_offset, "
          "argMax(clock_rtt_ns, updated_ns) AS h_rtt, argMax(clock_synced, updated_ns) AS "
          "h_synced, argMax(clock_maxerror_ns, updated_ns) AS h_maxerr, "
          "argMax(clock_esterror_ns, updated_ns) AS h_esterr, "
          "argMax(backend_note, updated_ns) AS h_note, "
          "argMax(spool_rejected_messages, updated_ns) AS h_srm, "
          "argMax(spool_rejected_samples, updated_ns) AS h_srs, "
          "argMax(degraded, updated_ns) AS h_degraded FROM %s.hosts GROUP BY name) "
          "ALL LEFT JOIN (SELECT host, uniqExact(source, device, name) AS nseries FROM %s.series "
          "GROUP BY host) USING host ORDER BY host",
          self->db, self->db);
    s_call_t call = {.fn.host = fn, .ctx = ctx};
    return s_run(self, &sb, "ssssslllqqlllllbllbllslls", s_emit_host, &call, err, errsz);
}

bool chstore_host_known(chstore_t *self, const char *name)
{
    s_sql_t sb = {.buf = NULL};
    s_add(&sb, "SELECT count() FROM %s.hosts WHERE name = ", self->db);
    s_lit(&sb, name);
    return s_count(self, &sb) > 0;
}

int64_t chstore_host_interval(chstore_t *self, const char *name)
{
    s_sql_t sb = {.buf = NULL};
    s_add(&sb, "SELECT toUInt64(argMax(interval_ns, updated_ns)) FROM %s.hosts WHERE name = ",
          self->db);
    s_lit(&sb, name);
    return (int64_t)s_count(self, &sb); /* no row: argMax's default, 0 */
}

/* --- drops ---------------------------------------------------------------------- */

/* Appends, as a subquery, the drop rows of q's range, host and layer (every
 * row when q is NULL), each natural key once: host, ts_ns, source, device,
 * name, d_layer, d_delta, d_reset. own_only: only the rows whose series
 * overlaps no more specific one (the row's own flag, as SQLite's drops). */
static void s_drops_once(s_sql_t *sb, const chstore_t *self, const drops_query_t *q,
                         bool own_only)
{
    s_add(sb,
          "(SELECT host, ts_ns, source, device, name, any(layer) AS d_layer, any(delta) AS "
          "d_delta, any(reset) AS d_reset FROM %s.drops WHERE 1",
          self->db);
    if (q) {
        s_add(sb, " AND ts_ns > %lld AND ts_ns <= %lld", (long long)q->from_ns,
              (long long)q->to_ns);
        s_and_eq(sb, "host", q->host);
        s_and_eq(sb, "layer", q->layer != LAYER_UNKNOWN ? layer_name(q->layer) : NULL);
    }
    if (own_only)
        s_add(sb, " AND overlap = 0");
    s_add(sb, " GROUP BY host, ts_ns, source, device, name)");
}

/* Appends " ALL INNER JOIN (the latest definitions of host's series, every
 * host's when NULL) USING (host, source, device, name)". */
static void s_join_series(s_sql_t *sb, const chstore_t *self, const char *host)
{
    s_add(sb, " ALL INNER JOIN (" CH_SERIES_INFO " WHERE 1", self->db);
    s_and_eq(sb, "host", host);
    s_add(sb, " GROUP BY host, source, device, name) USING (host, source, device, name)");
}

static int s_emit_drop(s_call_t *call, const s_row_t *row)
{
    drop_row_t d = {.host = row->s[0],
                    .series = row->s[1],
                    .layer = row->s[2],
                    .ts_ns = row->n[0],
                    .delta = row->n[1],
                    .reset = row->n[2] != 0,
                    .overlap = row->n[3] != 0,
                    .owner = row->s[3]};
    return call->fn.drop(call->ctx, &d);
}

static int s_drops(chstore_t *self, const drops_query_t *q, s_order_t order,
                   int (*fn)(void *ctx, const drop_row_t *row), void *ctx, char *err,
                   size_t errsz)
{
    /* With a step, SQLite's bucket is (ts / step) * step: truncated toward
     * zero, as intDiv is; a bucket's layer, a bare column there, is its
     * latest row's here. */
    s_sql_t sb = {.buf = NULL};
    s_add(&sb, "SELECT host, concat(source, '/', device, '/', name) AS x_series, x_layer, t, "
               "x_delta, x_reset, s_overlap, s_owner FROM (");
    if (q->step_ns > 0) {
        s_add(&sb,
              "SELECT host, source, device, name, toInt64(intDiv(ts_ns, %lld) * %lld) AS t, "
              "argMax(d_layer, ts_ns) AS x_layer, ",
              (long long)q->step_ns, (long long)q->step_ns);
        s_sum(&sb, "d_delta");
        s_add(&sb, " AS x_delta, max(d_reset) AS x_reset FROM ");
    } else {
        s_add(&sb, "SELECT host, source, device, name, ts_ns AS t, d_layer AS x_layer, d_delta AS "
                   "x_delta, d_reset AS x_reset FROM ");
    }
    s_drops_once(&sb, self, q, false);
    if (q->step_ns > 0)
        s_add(&sb, " GROUP BY host, source, device, name, t");
    s_add(&sb, ")");
    s_join_series(&sb, self, q->host);
    s_add(&sb, " ORDER BY t%s, host%s, x_series%s", s_desc(order), s_desc(order), s_desc(order));
    s_limit(&sb, q->limit);
    s_call_t call = {.fn.drop = fn, .ctx = ctx};
    return s_run(self, &sb, "sssllbbs", s_emit_drop, &call, err, errsz);
}

int chstore_drops(chstore_t *self, const drops_query_t *q,
                  int (*fn)(void *ctx, const drop_row_t *row), void *ctx, char *err, size_t errsz)
{
    return s_drops(self, q, S_OLDEST_FIRST, fn, ctx, err, errsz);
}

int chstore_drops_newest(chstore_t *self, const drops_query_t *q,
                         int (*fn)(void *ctx, const drop_row_t *row), void *ctx, char *err,
                         size_t errsz)
{
    return s_drops(self, q, S_NEWEST_FIRST, fn, ctx, err, errsz);
}

static int s_emit_top(s_call_t *call, const s_row_t *row)
{
    return call->fn.top(call->ctx, row->s[0], row->s[1], row->n[0]);
}

int chstore_top_droppers(chstore_t *self, int64_t from_ns, int64_t to_ns, int64_t limit,
                         int (*fn)(void *ctx, const char *host, const char *layer, int64_t drops),
                         void *ctx, char *err, size_t errsz)
{
    /* One pass over the range: per host and layer, then per host with its
     * layers as arrays, ranked by lost packets (squeezes only break ties, as
     * in SQLite; then the name, where SQLite's order is its row ids'), and
     * the top hosts' arrays unfolded again. */
    drops_query_t q = {.from_ns = from_ns, .to_ns = to_ns, .layer = LAYER_UNKNOWN};
    s_sql_t pre = {.buf = NULL};
    s_precursor_list(&pre);
    if (pre.failed) {
        snprintf(err, errsz, "clickhouse: out of memory for a query");
        return -1;
    }
    char lost[256], squeezed[256];
    snprintf(lost, sizeof lost, "if(layer IN (%s), 0, n)", pre.buf);
    snprintf(squeezed, sizeof squeezed, "if(layer IN (%s), n, 0)", pre.buf);
    free(pre.buf);
    s_sql_t sb = {.buf = NULL};
    s_add(&sb, "SELECT host, layer, n FROM (SELECT host, groupArray(layer) AS ls, groupArray(n) "
               "AS ns, ");
    s_sum(&sb, lost);
    s_add(&sb, " AS lost, ");
    s_sum(&sb, squeezed);
    s_add(&sb, " AS pre FROM (SELECT host, d_layer AS layer, ");
    s_sum(&sb, "d_delta");
    s_add(&sb, " AS n FROM ");
    s_drops_once(&sb, self, &q, true);
    s_add(&sb, " GROUP BY host, layer) GROUP BY host ORDER BY lost DESC, pre DESC, host");
    s_limit(&sb, limit);
    s_add(&sb, ") ARRAY JOIN ls AS layer, ns AS n ORDER BY lost DESC, pre DESC, host, n DESC, "
               "layer");
    s_call_t call = {.fn.top = fn, .ctx = ctx};
    return s_run(self, &sb, "ssl", s_emit_top, &call, err, errsz);
}

static int s_emit_total(s_call_t *call, const s_row_t *row)
{
    int64_t *t = &call->fn.totals[layer_from_name(row->s[0])]; /* unknown names share one */
    *t = sat_add(*t, row->n[0]);
    return 0;
}

int chstore_drop_totals(chstore_t *self, const drops_query_t *q, int64_t totals[LAYER_COUNT],
                        char *err, size_t errsz)
{
    memset(totals, 0, LAYER_COUNT * sizeof *totals);
    s_sql_t sb = {.buf = NULL};
    s_add(&sb, "SELECT d_layer, ");
    s_sum(&sb, "d_delta");
    s_add(&sb, " FROM ");
    s_drops_once(&sb, self, q, true);
    s_add(&sb, " GROUP BY d_layer");
    s_call_t call = {.fn.totals = totals};
    return s_run(self, &sb, "sl", s_emit_total, &call, err, errsz);
}

static int s_emit_sum(s_call_t *call, const s_row_t *row)
{
    drop_sum_t d = {.source = row->s[0],
                    .device = row->s[1],
                    .name = row->s[2],
                    .layer = row->s[3],
                    .overlap = row->n[0] != 0,
                    .drops = row->n[1],
                    .first_ns = row->n[2],
                    .last_ns = row->n[3],
                    .deltas = row->n[4],
                    .owner = row->s[4]};
    return call->fn.sum(call->ctx, &d);
}

int chstore_drop_sums(chstore_t *self, const char *host, int64_t from_ns, int64_t to_ns,
                      int (*fn)(void *ctx, const drop_sum_t *row), void *ctx, char *err,
                      size_t errsz)
{
    /* Per series of the host; its layer (a bare column in SQLite) is its
     * latest row's; equal sums go by name (SQLite leaves them in any order). */
    drops_query_t q = {.host = host, .from_ns = from_ns, .to_ns = to_ns, .layer = LAYER_UNKNOWN};
    s_sql_t sb = {.buf = NULL};
    s_add(&sb, "SELECT source, device, name, x_layer, s_overlap, n, x_first, x_last, x_count, "
               "s_owner FROM (SELECT host, source, device, name, argMax(d_layer, ts_ns) AS "
               "x_layer, ");
    s_sum(&sb, "d_delta");
    s_add(&sb, " AS n, min(ts_ns) AS x_first, max(ts_ns) AS x_last, toInt64(count()) AS x_count "
               "FROM ");
    s_drops_once(&sb, self, &q, false);
    s_add(&sb, " GROUP BY host, source, device, name)");
    s_join_series(&sb, self, host);
    s_add(&sb, " ORDER BY x_layer, n DESC, source, device, name");
    s_call_t call = {.fn.sum = fn, .ctx = ctx};
    return s_run(self, &sb, "ssssblllls", s_emit_sum, &call, err, errsz);
}

/* --- bursts and gaps -------------------------------------------------------------- */

/* Appends, as a subquery, the bursts whose `column` (start_ns or
 * corrected_start_ns) is in (from_ns, to_ns], of host and iface when not
 * NULL, received only when rx_only, each (host, start_ns, iface,
 * direction) once, the other columns prefixed b_. */
static void s_bursts_once(s_sql_t *sb, const chstore_t *self, const char *column,
                          const bursts_query_t *q)
{
    s_add(sb,
          "(SELECT host, iface, direction, start_ns, any(end_ns) AS b_end, any(peak_per_ms) AS "
          "b_peak, any(packets) AS b_packets, any(bytes) AS b_bytes, any(threshold_per_ms) AS "
          "b_threshold, any(drops) AS b_drops, any(drops_total) AS b_total, "
          "any(profile_start_ns) AS b_pstart, any(tick_ns) AS b_tick, any(profile) AS b_profile, "
          "any(profile_complete) AS b_complete, any(corrected_start_ns) AS b_cstart, "
          "any(uncertainty_ns) AS b_uncertainty FROM %s.bursts WHERE %s > %lld AND %s <= %lld",
          self->db, column, (long long)q->from_ns, column, (long long)q->to_ns);
    s_and_eq(sb, "host", q->host);
    s_and_eq(sb, "iface", q->iface);
    if (q->rx_only)
        s_add(sb, " AND direction = 'rx'");
    s_add(sb, " GROUP BY host, start_ns, iface, direction)");
}

static int s_emit_burst(s_call_t *call, const s_row_t *row)
{
    const int64_t *n = row->n;
    burst_row_t b = {.host = row->s[0],
                     .iface = row->s[1],
                     .direction = row->s[2],
                     .start_ns = n[0],
                     .end_ns = n[1],
                     .peak_per_ms = row->f,
                     .packets = n[2],
                     .bytes = n[3],
                     .threshold_per_ms = n[4],
                     .profile_start_ns = n[5],
                     .tick_ns = n[6],
                     .nprofile = row->nprofile,
                     .profile = row->profile,
                     .profile_complete = n[7] != 0,
                     .corrected_start_ns = n[8],
                     .uncertainty_ns = n[9],
                     .host_id = n[10]};
    memcpy(b.drops, row->drops, sizeof b.drops);
    return call->fn.burst(call->ctx, &b);
}

static int s_bursts(chstore_t *self, const bursts_query_t *q, s_order_t order,
                    int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err,
                    size_t errsz)
{
    /* By start, then host as SQLite; then interface and direction, which
     * SQLite leaves in any order. */
    const char *d = s_desc(order);
    s_sql_t sb = {.buf = NULL};
    s_add(&sb,
          "SELECT host, iface, direction, start_ns, b_end, b_peak, b_packets, b_bytes, "
          "b_threshold, b_drops, b_pstart, b_tick, b_profile, b_complete, b_cstart, "
          "b_uncertainty, " CH_HOST_ID " FROM ");
    s_bursts_once(&sb, self, "start_ns", q);
    s_add(&sb, " ORDER BY start_ns%s, host%s, iface%s, direction%s", d, d, d, d);
    s_limit(&sb, q->limit);
    s_call_t call = {.fn.burst = fn, .ctx = ctx};
    return s_run(self, &sb, "sssllflllAllPblll", s_emit_burst, &call, err, errsz);
}

int chstore_bursts(chstore_t *self, const bursts_query_t *q,
                   int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err,
                   size_t errsz)
{
    return s_bursts(self, q, S_OLDEST_FIRST, fn, ctx, err, errsz);
}

int chstore_bursts_newest(chstore_t *self, const bursts_query_t *q,
                          int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err,
                          size_t errsz)
{
    return s_bursts(self, q, S_NEWEST_FIRST, fn, ctx, err, errsz);
}

static int s_emit_start(s_call_t *call, const s_row_t *row)
{
    burst_start_t b = {.host = row->s[0],
                       .iface = row->s[1],
                       .host_id = row->n[0],
                       .corrected_start_ns = row->n[1],
                       .end_ns = row->n[2],
                       .uncertainty_ns = row->n[3],
                       .packets = row->n[4],
                       .drops_total = row->n[5]};
    return call->fn.start(call->ctx, &b);
}

int chstore_burst_starts(chstore_t *self, int64_t from_ns, int64_t to_ns, int64_t limit,
                         int (*fn)(void *ctx, const burst_start_t *row), void *ctx, char *err,
                         size_t errsz)
{
    bursts_query_t q = {.from_ns = from_ns, .to_ns = to_ns, .rx_only = true};
    s_sql_t sb = {.buf = NULL};
    s_add(&sb, "SELECT host, iface, " CH_HOST_ID ", b_cstart, b_end + b_cstart - start_ns, "
               "b_uncertainty, b_packets, b_total FROM ");
    s_bursts_once(&sb, self, "corrected_start_ns", &q);
    s_add(&sb, " ORDER BY b_cstart DESC, host DESC, iface DESC");
    s_limit(&sb, limit);
    s_call_t call = {.fn.start = fn, .ctx = ctx};
    return s_run(self, &sb, "ssllllll", s_emit_start, &call, err, errsz);
}

static int s_emit_gap(s_call_t *call, const s_row_t *row)
{
    gap_row_t g = {.host = row->s[0],
                   .group = row->s[1],
                   .port = row->n[0],
                   .start_ns = row->n[1],
                   .end_ns = row->n[2],
                   .missing = (uint64_t)row->n[3],
                   .first_seq = (uint64_t)row->n[4],
                   .last_seq = (uint64_t)row->n[5]};
    return call->fn.gap(call->ctx, &g);
}

static int s_gaps(chstore_t *self, const gaps_query_t *q, s_order_t order,
                  int (*fn)(void *ctx, const gap_row_t *row), void *ctx, char *err, size_t errsz)
{
    /* By start, host and first sequence number as SQLite; then group and
     * port, which SQLite leaves in any order. */
    const char *d = s_desc(order);
    s_sql_t sb = {.buf = NULL};
    s_add(&sb,
          "SELECT host, group_addr, toInt64(port), start_ns, g_end, g_missing, first_seq, g_last "
          "FROM (SELECT host, group_addr, port, start_ns, first_seq, any(end_ns) AS g_end, "
          "any(missing) AS g_missing, any(last_seq) AS g_last FROM %s.gaps WHERE start_ns > %lld "
          "AND start_ns <= %lld",
          self->db, (long long)q->from_ns, (long long)q->to_ns);
    s_and_eq(&sb, "host", q->host);
    s_add(&sb, " GROUP BY host, start_ns, group_addr, port, first_seq) ORDER BY start_ns%s, "
               "host%s, first_seq%s, group_addr%s, port%s", d, d, d, d, d);
    s_limit(&sb, q->limit);
    s_call_t call = {.fn.gap = fn, .ctx = ctx};
    return s_run(self, &sb, "sslllqqq", s_emit_gap, &call, err, errsz);
}

int chstore_gaps(chstore_t *self, const gaps_query_t *q,
                 int (*fn)(void *ctx, const gap_row_t *row), void *ctx, char *err, size_t errsz)
{
    return s_gaps(self, q, S_OLDEST_FIRST, fn, ctx, err, errsz);
}

int chstore_gaps_newest(chstore_t *self, const gaps_query_t *q,
                        int (*fn)(void *ctx, const gap_row_t *row), void *ctx, char *err,
                        size_t errsz)
{
    return s_gaps(self, q, S_NEWEST_FIRST, fn, ctx, err, errsz);
}

/* --- series, settings, batches ----------------------------------------------------- */

static int s_emit_info(s_call_t *call, const s_row_t *row)
{
    series_info_t i = {.source = row->s[0],
                       .device = row->s[1],
                       .name = row->s[2],
                       .kind = row->s[3],
                       .layer = row->s[4],
                       .overlap = row->n[0] != 0,
                       .owner = row->s[5]};
    return call->fn.info(call->ctx, &i);
}

int chstore_series_list(chstore_t *self, const char *host,
                        int (*fn)(void *ctx, const series_info_t *row), void *ctx, char *err,
                        size_t errsz)
{
    s_sql_t sb = {.buf = NULL};
    s_add(&sb, "SELECT source, device, name, s_kind, s_layer, s_overlap, s_owner FROM (" CH_SERIES_INFO
               " WHERE host = ", self->db);
    s_lit(&sb, host);
    s_add(&sb, " GROUP BY host, source, device, name) ORDER BY source, device, name");
    s_call_t call = {.fn.info = fn, .ctx = ctx};
    return s_run(self, &sb, "sssssbs", s_emit_info, &call, err, errsz);
}

/* Appends " AND host = .. AND source = .. AND device = .. AND name = ..". */
static void s_and_series(s_sql_t *sb, const char *host, const char *source, const char *device,
                         const char *name)
{
    s_and_eq(sb, "host", host);
    s_and_eq(sb, "source", source);
    s_and_eq(sb, "device", device);
    s_and_eq(sb, "name", name);
}

bool chstore_series_known(chstore_t *self, const char *host, const char *source,
                          const char *device, const char *name)
{
    s_sql_t sb = {.buf = NULL};
    s_add(&sb, "SELECT count() FROM %s.series WHERE 1", self->db);
    s_and_series(&sb, host, source, device, name);
    return s_count(self, &sb) > 0;
}

static int s_emit_sample(s_call_t *call, const s_row_t *row)
{
    series_row_t s = {.ts_ns = row->n[0],
                      .value = (uint64_t)row->n[1],
                      .delta = row->n[2],
                      .flags = (uint32_t)row->n[3]};
    return call->fn.sample(call->ctx, &s);
}

int chstore_series(chstore_t *self, const series_query_t *q,
                   int (*fn)(void *ctx, const series_row_t *row), void *ctx, char *err,
                   size_t errsz)
{
    /* Raw samples in (from, to]; a step's buckets starting in [from, to),
     * each the sum of its deltas, its last value and its flags or-ed, as
     * SQLite's rollups. Another step has no rollup: no rows, as there. */
    if (q->step_s != 0 && q->step_s != 60 && q->step_s != 3600)
        return 0;
    s_sql_t sb = {.buf = NULL};
    if (q->step_s == 0)
        s_add(&sb,
              "SELECT ts_ns, any(value), any(delta), any(flags) FROM %s.samples WHERE ts_ns > "
              "%lld AND ts_ns <= %lld",
              self->db, (long long)q->from_ns, (long long)q->to_ns);
    else
        s_add(&sb,
              "SELECT bucket_ns AS ts_ns, argMaxMerge(value), sumMerge(delta), "
              "groupBitOrMerge(flags) FROM %s.samples_%s WHERE bucket_ns >= %lld AND bucket_ns < "
              "%lld",
              self->db, q->step_s == 60 ? "1m" : "1h", (long long)q->from_ns, (long long)q->to_ns);
    s_and_series(&sb, q->host, q->source, q->device, q->name);
    s_add(&sb, " GROUP BY ts_ns ORDER BY ts_ns");
    s_limit(&sb, q->limit);
    s_call_t call = {.fn.sample = fn, .ctx = ctx};
    return s_run(self, &sb, "lqlw", s_emit_sample, &call, err, errsz);
}

static int s_emit_setting(s_call_t *call, const s_row_t *row)
{
    setting_row_t s = {.source = row->s[0],
                       .device = row->s[1],
                       .name = row->s[2],
                       .ts_ns = row->n[0],
                       .value = row->n[1]};
    return call->fn.setting(call->ctx, &s);
}

int chstore_settings(chstore_t *self, const char *host, int64_t to_ns,
                     int (*fn)(void *ctx, const setting_row_t *row), void *ctx, char *err,
                     size_t errsz)
{
    s_sql_t sb = {.buf = NULL};
    s_add(&sb, "SELECT source, device, name, ts_ns, any(value) FROM %s.settings WHERE ts_ns <= %lld",
          self->db, (long long)to_ns);
    s_and_eq(&sb, "host", host);
    s_add(&sb, " GROUP BY source, device, name, ts_ns ORDER BY source, device, name, ts_ns");
    s_call_t call = {.fn.setting = fn, .ctx = ctx};
    return s_run(self, &sb, "sssll", s_emit_setting, &call, err, errsz);
}

static int s_emit_time(s_call_t *call, const s_row_t *row)
{
    return call->fn.time(call->ctx, row->n[0]);
}

int chstore_batch_times(chstore_t *self, const char *host, int64_t from_ns, int64_t to_ns,
                        int (*fn)(void *ctx, int64_t ts_ns), void *ctx, char *err, size_t errsz)
{
    /* `batches` also holds the hellos' identities (kind 'hello'): batches
     * only, each (incarnation, seq) once, as SQLite's batches rows. */
    s_sql_t sb = {.buf = NULL};
    s_add(&sb,
          "SELECT b_ts FROM (SELECT incarnation, seq, any(ts_ns) AS b_ts FROM %s.batches WHERE "
          "kind = 'batch' AND ts_ns > %lld AND ts_ns <= %lld",
          self->db, (long long)from_ns, (long long)to_ns);
    s_and_eq(&sb, "host", host);
    s_add(&sb, " GROUP BY incarnation, seq) ORDER BY b_ts");
    s_call_t call = {.fn.time = fn, .ctx = ctx};
    return s_run(self, &sb, "l", s_emit_time, &call, err, errsz);
}
