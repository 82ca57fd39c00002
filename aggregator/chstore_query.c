/* chstore_query: the read side of the ClickHouse store (with
 * chstore_query_events.c): store_query.c's queries on the tables of
 * chstore_schema.c with the same rows, order, ranges and limits; here the
 * hosts, series, settings and batches, the deadline, and the SQL builder
 * and row reader both files use. A row can be stored twice (chstore.h), so
 * every query first reads each natural key once (GROUP BY the key, any()
 * or argMax of the rest) and only then filters, orders and limits; merges
 * are never trusted. Answers come as RowBinary, copied before the
 * callbacks run (a callback may ask the store again); their strings are
 * copied out NUL-terminated, row by row. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chstore_internal.h"
#include "rowbinary.h"
#include "ts.h"

/* --- SQL text ----------------------------------------------------------------- */

void chstore_sql_add(chstore_sql_t *sb, const char *fmt, ...)
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
void chstore_sql_lit(chstore_sql_t *sb, const char *s)
{
    char *q = clickhouse_quote_dup(s);
    if (!q)
        sb->failed = true;
    else
        chstore_sql_add(sb, "%s", q);
    free(q);
}

/* Appends " AND column = 'value'" when value is not NULL. */
void chstore_sql_eq(chstore_sql_t *sb, const char *column, const char *value)
{
    if (!value)
        return;
    chstore_sql_add(sb, " AND %s = ", column);
    chstore_sql_lit(sb, value);
}

void chstore_sql_limit(chstore_sql_t *sb, int64_t limit)
{
    if (limit > 0)
        chstore_sql_add(sb, " LIMIT %lld", (long long)limit);
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

int chstore_select(chstore_t *self, const char *sql, const uint8_t **answer, size_t *len, char *err,
                   size_t errsz)
{
    int64_t secs = s_seconds_left(self->deadline);
    if (secs < 0) {
        self->deadline->passed = true;
        snprintf(err, errsz,
                 "clickhouse: the query was stopped at its deadline before it was "
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
    /* The wait for the answer is bounded too (a server that stopped
     * answering, a partition): the time left and a second for the server's
     * own stop, rather than the client's 30 s. */
    if (secs > 0)
        clickhouse_set_timeout_ms(self->ch, 0,
                                  (long)((self->deadline->mono_ns - ts_mono_ns()) / 1000000) + 1000);
    char why[4096] = "";
    int rc = clickhouse_query(self->ch, limited ? limited : sql, answer, len, why, sizeof why);
    if (secs > 0)
        clickhouse_set_timeout_ms(self->ch, 0, CLICKHOUSE_REQUEST_TIMEOUT_MS);
    free(limited);
    if (rc == 0)
        return 0;
    /* 159 is TIMEOUT_EXCEEDED: 18.16 says "Code: 159", current releases
     * add the name; or we stopped waiting (the server had not stopped) */
    if (secs > 0 && (strstr(why, "Code: 159") || strstr(why, "TIMEOUT_EXCEEDED") ||
                     ts_mono_ns() >= self->deadline->mono_ns)) {
        self->deadline->passed = true;
        snprintf(err, errsz,
                 "clickhouse: the query was stopped at its deadline (max_execution_time "
                 "= %lld s; ask for a narrower range)",
                 (long long)secs);
    } else {
        snprintf(err, errsz, "%s", why);
    }
    return -1;
}

/* --- rows ------------------------------------------------------------------------ */

/* Copies the row's strings (spans into the answer) out, each with a NUL. */
static int s_copy_strings(chstore_row_t *row, const char *const *at, const size_t *len, int ns)
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

static int s_read_profile(rbr_t *r, chstore_row_t *row)
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
static int s_read_row(rbr_t *r, const char *types, chstore_row_t *row)
{
    const char *at[CHSTORE_ROW_STR];
    size_t len[CHSTORE_ROW_STR];
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

/* Runs the statement sb built (and frees it) and calls emit with each row,
 * read as types says. 0, -1 + err. */
int chstore_run(chstore_t *self, chstore_sql_t *sb, const char *types, chstore_emit_fn *emit,
                chstore_call_t *call, char *err, size_t errsz)
{
    chstore_sql_add(sb, " FORMAT RowBinary");
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
    chstore_row_t row = {.f = 0};
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
static uint64_t s_count(chstore_t *self, chstore_sql_t *sb)
{
    chstore_sql_add(sb, " FORMAT RowBinary");
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

static int s_emit_host(chstore_call_t *call, const chstore_row_t *row)
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
                    .degraded = row->s[6],
                    .aggregator = row->s[7]};
    return call->fn.host(call->ctx, &h);
}

int chstore_hosts(chstore_t *self, int (*fn)(void *ctx, const host_row_t *row), void *ctx,
                  char *err, size_t errsz)
{
    /* Each host's latest row by updated_ns (several aggregators flush their
     * own), its first sighting the least; its series counted by name, as
     * SQLite's host_series has one row per host and name. */
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(
        &sb,
        "SELECT host, h_boot, h_backend, h_kernel, h_version, h_first, h_last, h_interval, "
        "h_incarnation, h_seq, h_ncpus, toInt64(nseries), h_sdm, h_sds, h_clock_ts, h_valid, "
        "h_offset, h_rtt, h_synced, h_maxerr, h_esterr, h_note, h_srm, h_srs, h_degraded, "
        "h_aggregator FROM "
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
        "argMax(degraded, updated_ns) AS h_degraded, "
        "argMax(aggregator, updated_ns) AS h_aggregator FROM %s.hosts GROUP BY name) "
        "ALL LEFT JOIN (SELECT host, uniqExact(source, device, name) AS nseries FROM %s.series "
        "GROUP BY host) USING host ORDER BY host",
        self->db, self->db);
    chstore_call_t call = {.fn.host = fn, .ctx = ctx};
    return chstore_run(self, &sb, "ssssslllqqlllllbllbllsllss", s_emit_host, &call, err,
                       errsz);
}

/* A host's row comes with its writer's next flush (a second later): its
 * messages, in `batches` from their commit on, say it has reported. */
bool chstore_host_known(chstore_t *self, const char *name)
{
    chstore_sql_t sb = {.buf = NULL};
    /* names, not constants, in the union: 18.16 refuses a constant column
     * of a Distributed table's query there */
    chstore_sql_add(&sb, "SELECT count() FROM (SELECT name FROM %s.hosts WHERE name = ", self->db);
    chstore_sql_lit(&sb, name);
    chstore_sql_add(&sb, " LIMIT 1 UNION ALL SELECT host FROM %s.batches WHERE host = ", self->db);
    chstore_sql_lit(&sb, name);
    chstore_sql_add(&sb, " LIMIT 1)");
    return s_count(self, &sb) > 0;
}

int64_t chstore_host_interval(chstore_t *self, const char *name)
{
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(
        &sb,
        "SELECT toUInt64(argMax(interval_ns, updated_ns)) FROM %s.hosts WHERE name = ", self->db);
    chstore_sql_lit(&sb, name);
    return (int64_t)s_count(self, &sb); /* no row: argMax's default, 0 */
}

/* --- series, settings, batches ----------------------------------------------------- */

static int s_emit_info(chstore_call_t *call, const chstore_row_t *row)
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
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(&sb,
                    "SELECT source, device, name, s_kind, s_layer, s_overlap, s_owner FROM "
                    "(" CHSTORE_SERIES_INFO " WHERE host = ",
                    self->db);
    chstore_sql_lit(&sb, host);
    chstore_sql_add(&sb, " GROUP BY host, source, device, name) ORDER BY source, device, name");
    chstore_call_t call = {.fn.info = fn, .ctx = ctx};
    return chstore_run(self, &sb, "sssssbs", s_emit_info, &call, err, errsz);
}

/* Appends " AND host = .. AND source = .. AND device = .. AND name = ..". */
static void s_and_series(chstore_sql_t *sb, const char *host, const char *source,
                         const char *device, const char *name)
{
    chstore_sql_eq(sb, "host", host);
    chstore_sql_eq(sb, "source", source);
    chstore_sql_eq(sb, "device", device);
    chstore_sql_eq(sb, "name", name);
}

bool chstore_series_known(chstore_t *self, const char *host, const char *source, const char *device,
                          const char *name)
{
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(&sb, "SELECT count() FROM %s.series WHERE 1", self->db);
    s_and_series(&sb, host, source, device, name);
    return s_count(self, &sb) > 0;
}

static int s_emit_sample(chstore_call_t *call, const chstore_row_t *row)
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
    chstore_sql_t sb = {.buf = NULL};
    if (q->step_s == 0)
        chstore_sql_add(
            &sb,
            "SELECT ts_ns, any(value), any(delta), any(flags) FROM %s.samples WHERE ts_ns > "
            "%lld AND ts_ns <= %lld",
            self->db, (long long)q->from_ns, (long long)q->to_ns);
    else
        chstore_sql_add(
            &sb,
            "SELECT bucket_ns AS ts_ns, argMaxMerge(value), sumMerge(delta), "
            "groupBitOrMerge(flags) FROM %s.samples_%s WHERE bucket_ns >= %lld AND bucket_ns < "
            "%lld",
            self->db, q->step_s == 60 ? "1m" : "1h", (long long)q->from_ns, (long long)q->to_ns);
    s_and_series(&sb, q->host, q->source, q->device, q->name);
    chstore_sql_add(&sb, " GROUP BY ts_ns ORDER BY ts_ns");
    chstore_sql_limit(&sb, q->limit);
    chstore_call_t call = {.fn.sample = fn, .ctx = ctx};
    return chstore_run(self, &sb, "lqlw", s_emit_sample, &call, err, errsz);
}

static int s_emit_setting(chstore_call_t *call, const chstore_row_t *row)
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
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(
        &sb, "SELECT source, device, name, ts_ns, any(value) FROM %s.settings WHERE ts_ns <= %lld",
        self->db, (long long)to_ns);
    chstore_sql_eq(&sb, "host", host);
    chstore_sql_add(&sb,
                    " GROUP BY source, device, name, ts_ns ORDER BY source, device, name, ts_ns");
    chstore_call_t call = {.fn.setting = fn, .ctx = ctx};
    return chstore_run(self, &sb, "sssll", s_emit_setting, &call, err, errsz);
}

static int s_emit_time(chstore_call_t *call, const chstore_row_t *row)
{
    return call->fn.time(call->ctx, row->n[0]);
}

int chstore_batch_times(chstore_t *self, const char *host, int64_t from_ns, int64_t to_ns,
                        int (*fn)(void *ctx, int64_t ts_ns), void *ctx, char *err, size_t errsz)
{
    /* `batches` also holds the hellos' identities (kind 'hello'): batches
     * only, each (incarnation, seq) once, as SQLite's batches rows. */
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(
        &sb,
        "SELECT b_ts FROM (SELECT incarnation, seq, any(ts_ns) AS b_ts FROM %s.batches WHERE "
        "kind = 'batch' AND ts_ns > %lld AND ts_ns <= %lld",
        self->db, (long long)from_ns, (long long)to_ns);
    chstore_sql_eq(&sb, "host", host);
    chstore_sql_add(&sb, " GROUP BY incarnation, seq) ORDER BY b_ts");
    chstore_call_t call = {.fn.time = fn, .ctx = ctx};
    return chstore_run(self, &sb, "l", s_emit_time, &call, err, errsz);
}
