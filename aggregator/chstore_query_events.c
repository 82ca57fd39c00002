/* chstore_query_events: the readers' queries over a range of events on
 * ClickHouse, store_query.c's drops, top droppers, totals and sums,
 * bursts and gaps with the same rows, order, ranges and limits. Each reads
 * every natural key once (GROUP BY it, any() of the rest) before it
 * filters, sums, orders or limits: a row may be stored twice (chstore.h).
 * Where SQLite leaves ties in any order, these break them by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chstore_internal.h"
#include "sat.h"

/* A number per host, for burst_row_t.host_id: the host name's CityHash64
 * cut to 53 bits, so that it stays exact as a JSON number. Stable across
 * aggregators and restarts (SQLite's is the hosts row id). */
#define CH_HOST_ID "toInt64(bitAnd(cityHash64(host), 9007199254740991))"

typedef enum { S_OLDEST_FIRST, S_NEWEST_FIRST } s_order_t;

static const char *s_desc(s_order_t order)
{
    return order == S_NEWEST_FIRST ? " DESC" : "";
}

/* Appends a sum of x (Int64) that saturates at the ends of int64 as
 * store_query.c's SQL_SUM does, instead of wrapping as ClickHouse's sum()
 * does: exact below 4e18 (SQLite's is exact below 2^53 and rounded above),
 * pinned to INT64_MAX or INT64_MIN beyond. */
static void s_sum(chstore_sql_t *sb, const char *x)
{
    chstore_sql_add(sb,
                    "if(abs(sum(toFloat64(%s))) < 4e18, sum(%s), if(sum(toFloat64(%s)) > 0, "
                    "toInt64(9223372036854775807), toInt64(-9223372036854775807) - 1))",
                    x, x, x);
}

/* The precursor layers' names as an SQL list, "'budget'": names from
 * layer.c's table, never from a client. */
static void s_precursor_list(chstore_sql_t *sb)
{
    bool any = false;
    for (int l = LAYER_NIC; l < LAYER_COUNT; l++)
        if (layer_is_precursor((layer_t)l)) {
            chstore_sql_add(sb, "%s'%s'", any ? ", " : "", layer_name((layer_t)l));
            any = true;
        }
    if (!any)
        chstore_sql_add(sb, "''"); /* IN () is not SQL */
}

/* --- drops ---------------------------------------------------------------------- */

/* Appends, as a subquery, the drop rows of q's range, host and layer (every
 * row when q is NULL), each natural key once: host, ts_ns, source, device,
 * name, d_layer, d_delta, d_reset. own_only: only the rows whose series
 * overlaps no more specific one (the row's own flag, as SQLite's drops). */
static void s_drops_once(chstore_sql_t *sb, const chstore_t *self, const drops_query_t *q,
                         bool own_only)
{
    chstore_sql_add(
        sb,
        "(SELECT host, ts_ns, source, device, name, any(layer) AS d_layer, any(delta) AS "
        "d_delta, any(reset) AS d_reset FROM %s.drops WHERE 1",
        self->db);
    if (q) {
        chstore_sql_add(sb, " AND ts_ns > %lld AND ts_ns <= %lld", (long long)q->from_ns,
                        (long long)q->to_ns);
        chstore_sql_eq(sb, "host", q->host);
        chstore_sql_eq(sb, "layer", q->layer != LAYER_UNKNOWN ? layer_name(q->layer) : NULL);
    }
    if (own_only)
        chstore_sql_add(sb, " AND overlap = 0");
    chstore_sql_add(sb, " GROUP BY host, ts_ns, source, device, name)");
}

/* Appends " ALL INNER JOIN (the latest definitions of host's series, every
 * host's when NULL) USING (host, source, device, name)". */
static void s_join_series(chstore_sql_t *sb, const chstore_t *self, const char *host)
{
    chstore_sql_add(sb, " ALL INNER JOIN (" CHSTORE_SERIES_INFO " WHERE 1", self->db);
    chstore_sql_eq(sb, "host", host);
    chstore_sql_add(sb, " GROUP BY host, source, device, name) USING (host, source, device, name)");
}

static int s_emit_drop(chstore_call_t *call, const chstore_row_t *row)
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
                   int (*fn)(void *ctx, const drop_row_t *row), void *ctx, char *err, size_t errsz)
{
    /* With a step, SQLite's bucket is (ts / step) * step: truncated toward
     * zero, as intDiv is; a bucket's layer, a bare column there, is its
     * latest row's here. */
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(&sb,
                    "SELECT host, concat(source, '/', device, '/', name) AS x_series, x_layer, t, "
                    "x_delta, x_reset, s_overlap, s_owner FROM (");
    if (q->step_ns > 0) {
        chstore_sql_add(
            &sb,
            "SELECT host, source, device, name, toInt64(intDiv(ts_ns, %lld) * %lld) AS t, "
            "argMax(d_layer, ts_ns) AS x_layer, ",
            (long long)q->step_ns, (long long)q->step_ns);
        s_sum(&sb, "d_delta");
        chstore_sql_add(&sb, " AS x_delta, max(d_reset) AS x_reset FROM ");
    } else {
        chstore_sql_add(
            &sb, "SELECT host, source, device, name, ts_ns AS t, d_layer AS x_layer, d_delta AS "
                 "x_delta, d_reset AS x_reset FROM ");
    }
    s_drops_once(&sb, self, q, false);
    if (q->step_ns > 0)
        chstore_sql_add(&sb, " GROUP BY host, source, device, name, t");
    chstore_sql_add(&sb, ")");
    s_join_series(&sb, self, q->host);
    chstore_sql_add(&sb, " ORDER BY t%s, host%s, x_series%s", s_desc(order), s_desc(order),
                    s_desc(order));
    chstore_sql_limit(&sb, q->limit);
    chstore_call_t call = {.fn.drop = fn, .ctx = ctx};
    return chstore_run(self, &sb, "sssllbbs", s_emit_drop, &call, err, errsz);
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

static int s_emit_top(chstore_call_t *call, const chstore_row_t *row)
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
    chstore_sql_t pre = {.buf = NULL};
    s_precursor_list(&pre);
    if (pre.failed) {
        snprintf(err, errsz, "clickhouse: out of memory for a query");
        return -1;
    }
    char lost[256], squeezed[256];
    snprintf(lost, sizeof lost, "if(layer IN (%s), 0, n)", pre.buf);
    snprintf(squeezed, sizeof squeezed, "if(layer IN (%s), n, 0)", pre.buf);
    free(pre.buf);
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(
        &sb, "SELECT host, layer, n FROM (SELECT host, groupArray(layer) AS ls, groupArray(n) "
             "AS ns, ");
    s_sum(&sb, lost);
    chstore_sql_add(&sb, " AS lost, ");
    s_sum(&sb, squeezed);
    chstore_sql_add(&sb, " AS pre FROM (SELECT host, d_layer AS layer, ");
    s_sum(&sb, "d_delta");
    chstore_sql_add(&sb, " AS n FROM ");
    s_drops_once(&sb, self, &q, true);
    chstore_sql_add(&sb, " GROUP BY host, layer) GROUP BY host ORDER BY lost DESC, pre DESC, host");
    chstore_sql_limit(&sb, limit);
    chstore_sql_add(&sb,
                    ") ARRAY JOIN ls AS layer, ns AS n ORDER BY lost DESC, pre DESC, host, n DESC, "
                    "layer");
    chstore_call_t call = {.fn.top = fn, .ctx = ctx};
    return chstore_run(self, &sb, "ssl", s_emit_top, &call, err, errsz);
}

static int s_emit_total(chstore_call_t *call, const chstore_row_t *row)
{
    int64_t *t = &call->fn.totals[layer_from_name(row->s[0])]; /* unknown names share one */
    *t = sat_add(*t, row->n[0]);
    return 0;
}

int chstore_drop_totals(chstore_t *self, const drops_query_t *q, int64_t totals[LAYER_COUNT],
                        char *err, size_t errsz)
{
    memset(totals, 0, LAYER_COUNT * sizeof *totals);
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(&sb, "SELECT d_layer, ");
    s_sum(&sb, "d_delta");
    chstore_sql_add(&sb, " FROM ");
    s_drops_once(&sb, self, q, true);
    chstore_sql_add(&sb, " GROUP BY d_layer");
    chstore_call_t call = {.fn.totals = totals};
    return chstore_run(self, &sb, "sl", s_emit_total, &call, err, errsz);
}

static int s_emit_sum(chstore_call_t *call, const chstore_row_t *row)
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
     * latest row's; equal sums go by name, as in SQLite. */
    drops_query_t q = {.host = host, .from_ns = from_ns, .to_ns = to_ns, .layer = LAYER_UNKNOWN};
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(&sb,
                    "SELECT source, device, name, x_layer, s_overlap, n, x_first, x_last, x_count, "
                    "s_owner FROM (SELECT host, source, device, name, argMax(d_layer, ts_ns) AS "
                    "x_layer, ");
    s_sum(&sb, "d_delta");
    chstore_sql_add(
        &sb, " AS n, min(ts_ns) AS x_first, max(ts_ns) AS x_last, toInt64(count()) AS x_count "
             "FROM ");
    s_drops_once(&sb, self, &q, false);
    chstore_sql_add(&sb, " GROUP BY host, source, device, name)");
    s_join_series(&sb, self, host);
    chstore_sql_add(&sb, " ORDER BY x_layer, n DESC, source, device, name");
    chstore_call_t call = {.fn.sum = fn, .ctx = ctx};
    return chstore_run(self, &sb, "ssssblllls", s_emit_sum, &call, err, errsz);
}

/* --- bursts and gaps -------------------------------------------------------------- */

/* Appends, as a subquery, the bursts whose `column` (start_ns or
 * corrected_start_ns) is in (from_ns, to_ns], of host and iface when not
 * NULL, received only when rx_only, each (host, start_ns, iface,
 * direction) once, the other columns prefixed b_. */
static void s_bursts_once(chstore_sql_t *sb, const chstore_t *self, const char *column,
                          const bursts_query_t *q)
{
    chstore_sql_add(
        sb,
        "(SELECT host, iface, direction, start_ns, any(end_ns) AS b_end, any(peak_per_ms) AS "
        "b_peak, any(packets) AS b_packets, any(bytes) AS b_bytes, any(threshold_per_ms) AS "
        "b_threshold, any(drops) AS b_drops, any(drops_total) AS b_total, "
        "any(profile_start_ns) AS b_pstart, any(tick_ns) AS b_tick, any(profile) AS b_profile, "
        "any(profile_complete) AS b_complete, any(corrected_start_ns) AS b_cstart, "
        "any(uncertainty_ns) AS b_uncertainty FROM %s.bursts WHERE %s > %lld AND %s <= %lld",
        self->db, column, (long long)q->from_ns, column, (long long)q->to_ns);
    chstore_sql_eq(sb, "host", q->host);
    chstore_sql_eq(sb, "iface", q->iface);
    if (q->rx_only)
        chstore_sql_add(sb, " AND direction = 'rx'");
    chstore_sql_add(sb, " GROUP BY host, start_ns, iface, direction)");
}

static int s_emit_burst(chstore_call_t *call, const chstore_row_t *row)
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
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(&sb,
                    "SELECT host, iface, direction, start_ns, b_end, b_peak, b_packets, b_bytes, "
                    "b_threshold, b_drops, b_pstart, b_tick, b_profile, b_complete, b_cstart, "
                    "b_uncertainty, " CH_HOST_ID " FROM ");
    s_bursts_once(&sb, self, "start_ns", q);
    chstore_sql_add(&sb, " ORDER BY start_ns%s, host%s, iface%s, direction%s", d, d, d, d);
    chstore_sql_limit(&sb, q->limit);
    chstore_call_t call = {.fn.burst = fn, .ctx = ctx};
    return chstore_run(self, &sb, "sssllflllAllPblll", s_emit_burst, &call, err, errsz);
}

int chstore_bursts(chstore_t *self, const bursts_query_t *q,
                   int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err, size_t errsz)
{
    return s_bursts(self, q, S_OLDEST_FIRST, fn, ctx, err, errsz);
}

int chstore_bursts_newest(chstore_t *self, const bursts_query_t *q,
                          int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err,
                          size_t errsz)
{
    return s_bursts(self, q, S_NEWEST_FIRST, fn, ctx, err, errsz);
}

static int s_emit_start(chstore_call_t *call, const chstore_row_t *row)
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
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(&sb,
                    "SELECT host, iface, " CH_HOST_ID ", b_cstart, b_end + b_cstart - start_ns, "
                    "b_uncertainty, b_packets, b_total FROM ");
    s_bursts_once(&sb, self, "corrected_start_ns", &q);
    chstore_sql_add(&sb, " ORDER BY b_cstart DESC, host DESC, iface DESC");
    chstore_sql_limit(&sb, limit);
    chstore_call_t call = {.fn.start = fn, .ctx = ctx};
    return chstore_run(self, &sb, "ssllllll", s_emit_start, &call, err, errsz);
}

static int s_emit_gap(chstore_call_t *call, const chstore_row_t *row)
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
    chstore_sql_t sb = {.buf = NULL};
    chstore_sql_add(
        &sb,
        "SELECT host, group_addr, toInt64(port), start_ns, g_end, g_missing, first_seq, g_last "
        "FROM (SELECT host, group_addr, port, start_ns, first_seq, any(end_ns) AS g_end, "
        "any(missing) AS g_missing, any(last_seq) AS g_last FROM %s.gaps WHERE start_ns > %lld "
        "AND start_ns <= %lld",
        self->db, (long long)q->from_ns, (long long)q->to_ns);
    chstore_sql_eq(&sb, "host", q->host);
    chstore_sql_add(&sb,
                    " GROUP BY host, start_ns, group_addr, port, first_seq) ORDER BY start_ns%s, "
                    "host%s, first_seq%s, group_addr%s, port%s",
                    d, d, d, d, d);
    chstore_sql_limit(&sb, q->limit);
    chstore_call_t call = {.fn.gap = fn, .ctx = ctx};
    return chstore_run(self, &sb, "sslllqqq", s_emit_gap, &call, err, errsz);
}

int chstore_gaps(chstore_t *self, const gaps_query_t *q, int (*fn)(void *ctx, const gap_row_t *row),
                 void *ctx, char *err, size_t errsz)
{
    return s_gaps(self, q, S_OLDEST_FIRST, fn, ctx, err, errsz);
}

int chstore_gaps_newest(chstore_t *self, const gaps_query_t *q,
                        int (*fn)(void *ctx, const gap_row_t *row), void *ctx, char *err,
                        size_t errsz)
{
    return s_gaps(self, q, S_NEWEST_FIRST, fn, ctx, err, errsz);
}
