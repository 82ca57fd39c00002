/* store_query: the read side of the store module: every query the HTTP
 * API asks, on any connection (readers run beside the writer thanks to
 * WAL). Each statement is prepared for the call and binds its parameters;
 * rows go to a callback, valid during the call only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sat.h"
#include "store_internal.h"
#include "ts.h"

/* How many SQLite VM steps between two looks at a deadline: a look costs a
 * clock read (~20 ns, vDSO), a thousand steps a few microseconds, so the
 * deadline is kept to well within a millisecond for under 1% of the time. */
#define DEADLINE_STEPS 1000

/* Row order of the queries that have both: oldest first (the API's order)
 * or newest first (what a capped answer keeps). */
typedef enum { S_OLDEST_FIRST, S_NEWEST_FIRST } s_order_t;

/* A sum of drop deltas, as SQL, that saturates at the ends of int64
 * instead of failing: sum() raises "integer overflow" once a sum leaves
 * int64 (rows stored before ingest bounded a delta to 2^48, or very many
 * rows), and with it every /healthz, /metrics, /api/top and diagnose that
 * reads them until they expire. total() adds in a double: exact while the
 * sum stays below 2^53 (9e15), which real drop counts are nowhere near, and
 * rounded beyond (by under 1 part in 2^53 per row); a CAST of a real beyond
 * int64 gives INT64_MAX (INT64_MIN). */
#define SQL_SUM(x) "CAST(total(" x ") AS INTEGER)"

static const char *s_col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

/* Ends a query whose last sqlite3_step returned rc (SQLITE_ROW when the
 * caller stopped early): finalizes it, 0, or -1 with err. */
static int s_query_end(store_t *self, sqlite3_stmt *st, int rc, char *err, size_t errsz)
{
    bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    if (!ok && rc == SQLITE_INTERRUPT)
        store_errf(err, errsz, "the query was stopped at its deadline");
    else if (!ok)
        store_errf(err, errsz, "database: %s", sqlite3_errmsg(store_db(self)));
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

int store_hosts(store_t *self, int (*fn)(void *ctx, const host_row_t *row), void *ctx, char *err,
                size_t errsz)
{
    if (self->ch)
        return chstore_hosts(self->ch, fn, ctx, err, errsz);
    static const char sql[] =
        "SELECT name, boot_id, backend, kernel, collector_version, first_seen_ns, last_seen_ns, "
        "interval_ns, incarnation, last_seq, ncpus, "
        "(SELECT count(*) FROM host_series s WHERE s.host_id = h.id), spool_dropped_messages, "
        "spool_dropped_samples, clock_ts_ns, clock_offset_valid, clock_offset_ns, clock_rtt_ns, "
        "clock_synced, clock_maxerror_ns, clock_esterror_ns, backend_note, spool_rejected_messages, "
        "spool_rejected_samples, degraded, aggregator FROM hosts h "
        "ORDER BY name";
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        host_row_t row = {s_col_text(st, 0),
                          s_col_text(st, 1),
                          s_col_text(st, 2),
                          s_col_text(st, 3),
                          s_col_text(st, 4),
                          sqlite3_column_int64(st, 5),
                          sqlite3_column_int64(st, 6),
                          sqlite3_column_int64(st, 7),
                          (uint64_t)sqlite3_column_int64(st, 8),
                          (uint64_t)sqlite3_column_int64(st, 9),
                          sqlite3_column_int64(st, 10),
                          sqlite3_column_int64(st, 11),
                          sqlite3_column_int64(st, 12),
                          sqlite3_column_int64(st, 13),
                          sqlite3_column_int64(st, 14),
                          {sqlite3_column_int(st, 15) != 0, sqlite3_column_int64(st, 16),
                           sqlite3_column_int64(st, 17), sqlite3_column_int(st, 18) != 0,
                           sqlite3_column_int64(st, 19), sqlite3_column_int64(st, 20)},
                          s_col_text(st, 21),
                          sqlite3_column_int64(st, 22),
                          sqlite3_column_int64(st, 23),
                          s_col_text(st, 24),
                          s_col_text(st, 25)};
        if (fn(ctx, &row) != 0)
            break;
    }
    return s_query_end(self, st, rc, err, errsz);
}

/* Column `col` (an integer) of the host named name's row; 0 without one. */
static int64_t s_host_int(store_t *self, const char *col, const char *name)
{
    char sql[96], err[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM hosts WHERE name = ?1", col);
    sqlite3_stmt *st = store_prepare(self, sql, err, sizeof err);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return v;
}

bool store_host_known(store_t *self, const char *name)
{
    if (self->ch)
        return chstore_host_known(self->ch, name);
    return s_host_int(self, "id", name) != 0; /* ids start at 1 */
}

int64_t store_host_interval(store_t *self, const char *name)
{
    if (self->ch)
        return chstore_host_interval(self->ch, name);
    return s_host_int(self, "interval_ns", name);
}

static const char *s_desc(s_order_t order)
{
    return order == S_NEWEST_FIRST ? " DESC" : "";
}

/* The drops query in four shapes (host and layer given or not), so that
 * SQLite can use the (host_id, layer, ts_ns) key or the ts_ns index rather
 * than an optional-parameter condition it cannot plan around. */
static int s_drops_sql(const drops_query_t *q, s_order_t order, char *sql, size_t size)
{
    const char *select = q->step_ns > 0
        ? "SELECT h.name, s.source || '/' || s.device || '/' || s.name, d.layer, "
          "(d.ts_ns / ?5) * ?5 AS t, " SQL_SUM("d.delta") ", max(d.reset), s.overlap, s.owner"
        : "SELECT h.name, s.source || '/' || s.device || '/' || s.name, d.layer, d.ts_ns AS t, "
          "d.delta, d.reset, s.overlap, s.owner";
    return snprintf(sql, size,
                    "%s FROM drops d JOIN hosts h ON h.id = d.host_id JOIN series s ON s.id = "
                    "d.series_id WHERE d.ts_ns > ?1 AND d.ts_ns <= ?2%s%s%s "
                    "ORDER BY t%s, h.name%s, 2%s LIMIT ?6",
                    select, q->host ? " AND d.host_id = (SELECT id FROM hosts WHERE name = ?3)" : "",
                    q->layer != LAYER_UNKNOWN ? " AND d.layer = ?4" : "",
                    q->step_ns > 0 ? " GROUP BY d.host_id, d.series_id, t" : "", s_desc(order),
                    s_desc(order), s_desc(order));
}

/* The precursor layers' names as an SQL list, "'budget'": names from
 * layer.c's table, never from a client, so they are written in whole. */
static void s_precursor_list(char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int l = LAYER_NIC; l < LAYER_COUNT && len < size; l++)
        if (layer_is_precursor((layer_t)l))
            len += (size_t)snprintf(buf + len, size - len, "%s'%s'", len ? ", " : "",
                                    layer_name((layer_t)l));
    if (!buf[0])
        snprintf(buf, size, "''"); /* IN () is not SQL */
}

int store_top_droppers(store_t *self, int64_t from_ns, int64_t to_ns, int64_t limit,
                       int (*fn)(void *ctx, const char *host, const char *layer, int64_t drops),
                       void *ctx, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_top_droppers(self->ch, from_ns, to_ns, limit, fn, ctx, err, errsz);
    /* The range's drops are read once through the time index, summed per
     * host and layer; the top hosts are then ranked by their lost packets,
     * their squeezes (a precursor: no loss) only breaking ties, so a busy
     * but lossless host never outranks one that lost packets; equals go by
     * name, as in ClickHouse. */
    char pre[128], sql[1024];
    s_precursor_list(pre, sizeof pre);
    snprintf(sql, sizeof sql,
             "WITH per AS (SELECT host_id, layer, " SQL_SUM("delta") " AS n FROM drops "
             "WHERE ts_ns > ?1 AND ts_ns <= ?2 AND overlap = 0 GROUP BY host_id, layer), "
             "top AS (SELECT host_id, " SQL_SUM("CASE WHEN layer IN (%s) THEN 0 ELSE n END")
             " AS lost, " SQL_SUM("CASE WHEN layer IN (%s) THEN n ELSE 0 END") " AS pre "
             "FROM per JOIN hosts h ON h.id = host_id GROUP BY host_id "
             "ORDER BY lost DESC, pre DESC, h.name LIMIT ?3) "
             "SELECT h.name, per.layer, per.n FROM top JOIN per USING (host_id) JOIN hosts h ON "
             "h.id = top.host_id ORDER BY top.lost DESC, top.pre DESC, h.name, per.n DESC, per.layer",
             pre, pre);
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, from_ns);
    sqlite3_bind_int64(st, 2, to_ns);
    sqlite3_bind_int64(st, 3, limit > 0 ? limit : INT64_MAX);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(ctx, s_col_text(st, 0), s_col_text(st, 1), sqlite3_column_int64(st, 2)) != 0)
            break;
    return s_query_end(self, st, rc, err, errsz);
}

/* Binds a drops query's range (?1, ?2), host (?3) and layer (?4). */
static void s_bind_drops(sqlite3_stmt *st, const drops_query_t *q)
{
    sqlite3_bind_int64(st, 1, q->from_ns);
    sqlite3_bind_int64(st, 2, q->to_ns);
    if (q->host)
        sqlite3_bind_text(st, 3, q->host, -1, SQLITE_STATIC);
    if (q->layer != LAYER_UNKNOWN)
        sqlite3_bind_text(st, 4, layer_name(q->layer), -1, SQLITE_STATIC);
}

static int s_drops(store_t *self, const drops_query_t *q, s_order_t order,
                   int (*fn)(void *ctx, const drop_row_t *row), void *ctx, char *err, size_t errsz)
{
    char sql[1024];
    s_drops_sql(q, order, sql, sizeof sql);
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    s_bind_drops(st, q);
    if (q->step_ns > 0)
        sqlite3_bind_int64(st, 5, q->step_ns);
    sqlite3_bind_int64(st, 6, q->limit > 0 ? q->limit : INT64_MAX);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        drop_row_t row = {s_col_text(st, 0),           s_col_text(st, 1),
                          s_col_text(st, 2),           sqlite3_column_int64(st, 3),
                          sqlite3_column_int64(st, 4), sqlite3_column_int(st, 5) != 0,
                          sqlite3_column_int(st, 6) != 0, s_col_text(st, 7)};
        if (fn(ctx, &row) != 0)
            break;
    }
    return s_query_end(self, st, rc, err, errsz);
}

int store_drops(store_t *self, const drops_query_t *q, int (*fn)(void *ctx, const drop_row_t *row),
                void *ctx, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_drops(self->ch, q, fn, ctx, err, errsz);
    return s_drops(self, q, S_OLDEST_FIRST, fn, ctx, err, errsz);
}

int store_drops_newest(store_t *self, const drops_query_t *q,
                       int (*fn)(void *ctx, const drop_row_t *row), void *ctx, char *err,
                       size_t errsz)
{
    if (self->ch)
        return chstore_drops_newest(self->ch, q, fn, ctx, err, errsz);
    return s_drops(self, q, S_NEWEST_FIRST, fn, ctx, err, errsz);
}

static int s_bursts(store_t *self, const bursts_query_t *q, s_order_t order,
                    int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err,
                    size_t errsz)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT h.name, b.iface, b.direction, b.start_ns, b.end_ns, b.peak_per_ms, b.packets, "
             "b.bytes, b.threshold_per_ms, b.drops, b.profile_start_ns, b.tick_ns, b.profile, "
             "b.profile_complete, b.corrected_start_ns, b.uncertainty_ns, b.host_id "
             "FROM bursts b JOIN hosts h ON h.id = b.host_id "
             "WHERE b.start_ns > ?1 AND b.start_ns <= ?2%s%s%s ORDER BY b.start_ns%s, h.name%s "
             "LIMIT ?5",
             q->host ? " AND b.host_id = (SELECT id FROM hosts WHERE name = ?3)" : "",
             q->iface ? " AND b.iface = ?4" : "", q->rx_only ? " AND b.direction = 'rx'" : "",
             s_desc(order), s_desc(order));
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, q->from_ns);
    sqlite3_bind_int64(st, 2, q->to_ns);
    if (q->host)
        sqlite3_bind_text(st, 3, q->host, -1, SQLITE_STATIC);
    if (q->iface)
        sqlite3_bind_text(st, 4, q->iface, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, q->limit > 0 ? q->limit : INT64_MAX);
    uint32_t *profile = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        burst_row_t row = {.host = s_col_text(st, 0),
                           .iface = s_col_text(st, 1),
                           .direction = s_col_text(st, 2),
                           .start_ns = sqlite3_column_int64(st, 3),
                           .end_ns = sqlite3_column_int64(st, 4),
                           .peak_per_ms = sqlite3_column_double(st, 5),
                           .packets = sqlite3_column_int64(st, 6),
                           .bytes = sqlite3_column_int64(st, 7),
                           .threshold_per_ms = sqlite3_column_int64(st, 8)};
        const unsigned char *drops = sqlite3_column_blob(st, 9);
        int dlen = sqlite3_column_bytes(st, 9);
        for (int l = 0; l < LAYER_COUNT && (l + 1) * 8 <= dlen; l++)
            row.drops[l] = (int64_t)bytes_get_le(drops + 8 * l, 8);
        row.profile_start_ns = sqlite3_column_int64(st, 10);
        row.tick_ns = sqlite3_column_int64(st, 11);
        const unsigned char *p = sqlite3_column_blob(st, 12);
        row.nprofile = (size_t)sqlite3_column_bytes(st, 12) / 4;
        uint32_t *grown = realloc(profile, (row.nprofile + 1) * sizeof *profile);
        if (!grown)
            break;
        profile = grown;
        for (size_t i = 0; i < row.nprofile; i++)
            profile[i] = (uint32_t)bytes_get_le(p + 4 * i, 4);
        row.profile = profile;
        row.profile_complete = sqlite3_column_int(st, 13) != 0;
        row.corrected_start_ns = sqlite3_column_int64(st, 14);
        row.uncertainty_ns = sqlite3_column_int64(st, 15);
        row.host_id = sqlite3_column_int64(st, 16);
        if (fn(ctx, &row) != 0)
            break;
    }
    free(profile);
    return s_query_end(self, st, rc, err, errsz);
}

int store_bursts(store_t *self, const bursts_query_t *q,
                 int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_bursts(self->ch, q, fn, ctx, err, errsz);
    return s_bursts(self, q, S_OLDEST_FIRST, fn, ctx, err, errsz);
}

int store_bursts_newest(store_t *self, const bursts_query_t *q,
                        int (*fn)(void *ctx, const burst_row_t *row), void *ctx, char *err,
                        size_t errsz)
{
    if (self->ch)
        return chstore_bursts_newest(self->ch, q, fn, ctx, err, errsz);
    return s_bursts(self, q, S_NEWEST_FIRST, fn, ctx, err, errsz);
}

/* The probes' sequence gaps of a range, oldest or newest first. */
static int s_gaps(store_t *self, const gaps_query_t *q, s_order_t order,
                  int (*fn)(void *ctx, const gap_row_t *row), void *ctx, char *err, size_t errsz)
{
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT h.name, g.grp, g.port, g.start_ns, g.end_ns, g.missing, g.first_seq, "
             "g.last_seq FROM gaps g JOIN hosts h ON h.id = g.host_id "
             "WHERE g.start_ns > ?1 AND g.start_ns <= ?2%s ORDER BY g.start_ns%s, h.name%s, "
             "g.first_seq%s LIMIT ?4",
             q->host ? " AND g.host_id = (SELECT id FROM hosts WHERE name = ?3)" : "",
             s_desc(order), s_desc(order), s_desc(order));
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, q->from_ns);
    sqlite3_bind_int64(st, 2, q->to_ns);
    if (q->host)
        sqlite3_bind_text(st, 3, q->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, q->limit > 0 ? q->limit : INT64_MAX);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        gap_row_t row = {s_col_text(st, 0),
                         s_col_text(st, 1),
                         sqlite3_column_int64(st, 2),
                         sqlite3_column_int64(st, 3),
                         sqlite3_column_int64(st, 4),
                         (uint64_t)sqlite3_column_int64(st, 5),
                         (uint64_t)sqlite3_column_int64(st, 6),
                         (uint64_t)sqlite3_column_int64(st, 7)};
        if (fn(ctx, &row) != 0)
            break;
    }
    return s_query_end(self, st, rc, err, errsz);
}

int store_gaps(store_t *self, const gaps_query_t *q, int (*fn)(void *ctx, const gap_row_t *row),
               void *ctx, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_gaps(self->ch, q, fn, ctx, err, errsz);
    return s_gaps(self, q, S_OLDEST_FIRST, fn, ctx, err, errsz);
}

int store_gaps_newest(store_t *self, const gaps_query_t *q,
                      int (*fn)(void *ctx, const gap_row_t *row), void *ctx, char *err,
                      size_t errsz)
{
    if (self->ch)
        return chstore_gaps_newest(self->ch, q, fn, ctx, err, errsz);
    return s_gaps(self, q, S_NEWEST_FIRST, fn, ctx, err, errsz);
}

/* The series row id (and its host id) of host's source/device/name; 0 if none. */
static int64_t s_series_id(store_t *self, const char *host, const char *source,
                           const char *device, const char *name, int64_t *host_id)
{
    char err[256];
    sqlite3_stmt *st = store_prepare(self,
                               "SELECT s.id, s.host_id FROM series s JOIN hosts h ON h.id = "
                               "s.host_id WHERE h.name = ?1 AND s.source = ?2 AND s.device = ?3 "
                               "AND s.name = ?4",
                               err, sizeof err);
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, device, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
    int64_t id = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        if (host_id)
            *host_id = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return id;
}

bool store_series_known(store_t *self, const char *host, const char *source, const char *device,
                        const char *name)
{
    if (self->ch)
        return chstore_series_known(self->ch, host, source, device, name);
    return s_series_id(self, host, source, device, name, NULL) != 0;
}

int store_series(store_t *self, const series_query_t *q,
                 int (*fn)(void *ctx, const series_row_t *row), void *ctx, char *err,
                 size_t errsz)
{
    if (self->ch)
        return chstore_series(self->ch, q, fn, ctx, err, errsz);
    int64_t host_id = 0;
    int64_t id = s_series_id(self, q->host, q->source, q->device, q->name, &host_id);
    int64_t left = q->limit > 0 ? q->limit : INT64_MAX;
    if (!q->step_s) { /* raw: blocks and rows (store_raw.c) */
        store_raw_t *r = id ? store_raw_open(self, host_id, q->from_ns, q->to_ns, err, errsz) : NULL;
        if (id && !r)
            return -1;
        int64_t ts;
        const store_sample_t *smp;
        size_t n;
        while (r && left > 0 && store_raw_next(r, &ts, &smp, &n) > 0)
            for (size_t i = 0; i < n && left > 0; i++) {
                if ((int64_t)smp[i].series_id != id)
                    continue;
                series_row_t row = {ts, smp[i].value, smp[i].delta, smp[i].flags};
                left--;
                if (fn(ctx, &row) != 0)
                    left = 0;
            }
        return store_raw_close(&r, err, errsz);
    }
    static const char rolled[] = "SELECT ts_ns, samples, packing FROM rollups WHERE host_id = ?1 AND "
                                 "step_s = ?4 AND ts_ns >= ?2 AND ts_ns < ?3 ORDER BY ts_ns";
    sqlite3_stmt *st = store_prepare(self, rolled, err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, host_id);
    sqlite3_bind_int64(st, 2, q->from_ns);
    sqlite3_bind_int64(st, 3, q->to_ns);
    sqlite3_bind_int64(st, 4, q->step_s);
    int rc = SQLITE_DONE;
    while (id && left > 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_unpack_t u = store_unpack(sqlite3_column_blob(st, 1),
                                        (size_t)sqlite3_column_bytes(st, 1),
                                        sqlite3_column_int(st, 2));
        store_sample_t smp;
        while (left > 0 && store_unpack_next(&u, &smp)) {
            if ((int64_t)smp.series_id != id)
                continue;
            series_row_t row = {sqlite3_column_int64(st, 0), smp.value, smp.delta, smp.flags};
            left--;
            if (fn(ctx, &row) != 0)
                left = 0;
        }
    }
    return s_query_end(self, st, rc, err, errsz);
}

int store_drop_totals(store_t *self, const drops_query_t *q, int64_t totals[LAYER_COUNT],
                      char *err, size_t errsz)
{
    if (self->ch)
        return chstore_drop_totals(self->ch, q, totals, err, errsz);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT layer, " SQL_SUM("delta") " FROM drops WHERE overlap = 0%s%s%s "
             "GROUP BY layer",
             q ? " AND ts_ns > ?1 AND ts_ns <= ?2" : "",
             q && q->host ? " AND host_id = (SELECT id FROM hosts WHERE name = ?3)" : "",
             q && q->layer != LAYER_UNKNOWN ? " AND layer = ?4" : "");
    memset(totals, 0, LAYER_COUNT * sizeof *totals);
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    if (q)
        s_bind_drops(st, q);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t *t = &totals[layer_from_name(s_col_text(st, 0))]; /* unknown names share one */
        *t = sat_add(*t, sqlite3_column_int64(st, 1));
    }
    return s_query_end(self, st, rc, err, errsz);
}

int store_drop_sums(store_t *self, const char *host, int64_t from_ns, int64_t to_ns,
                    int (*fn)(void *ctx, const drop_sum_t *row), void *ctx, char *err,
                    size_t errsz)
{
    if (self->ch)
        return chstore_drop_sums(self->ch, host, from_ns, to_ns, fn, ctx, err, errsz);
    static const char sql[] =
        "SELECT s.source, s.device, s.name, d.layer, s.overlap, " SQL_SUM("d.delta") " AS n, "
        "min(d.ts_ns), max(d.ts_ns), count(*), s.owner FROM drops d JOIN series s ON s.id = "
        "d.series_id WHERE d.host_id = (SELECT id FROM hosts WHERE name = ?1) AND d.ts_ns > ?2 "
        "AND d.ts_ns <= ?3 GROUP BY d.series_id ORDER BY d.layer, n DESC, s.source, s.device, s.name";
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from_ns);
    sqlite3_bind_int64(st, 3, to_ns);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        drop_sum_t row = {s_col_text(st, 0),           s_col_text(st, 1),
                          s_col_text(st, 2),           s_col_text(st, 3),
                          sqlite3_column_int(st, 4) != 0, sqlite3_column_int64(st, 5),
                          sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7),
                          sqlite3_column_int64(st, 8), s_col_text(st, 9)};
        if (fn(ctx, &row) != 0)
            break;
    }
    return s_query_end(self, st, rc, err, errsz);
}

int store_settings(store_t *self, const char *host, int64_t to_ns,
                   int (*fn)(void *ctx, const setting_row_t *row), void *ctx, char *err,
                   size_t errsz)
{
    if (self->ch)
        return chstore_settings(self->ch, host, to_ns, fn, ctx, err, errsz);
    static const char sql[] =
        "SELECT s.source, s.device, s.name, t.ts_ns, t.value FROM settings t JOIN series s ON "
        "s.id = t.series_id WHERE t.host_id = (SELECT id FROM hosts WHERE name = ?1) AND "
        "t.ts_ns <= ?2 ORDER BY s.source, s.device, s.name, t.ts_ns";
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, to_ns);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        setting_row_t row = {s_col_text(st, 0), s_col_text(st, 1), s_col_text(st, 2),
                             sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4)};
        if (fn(ctx, &row) != 0)
            break;
    }
    return s_query_end(self, st, rc, err, errsz);
}

int store_batch_times(store_t *self, const char *host, int64_t from_ns, int64_t to_ns,
                      int (*fn)(void *ctx, int64_t ts_ns), void *ctx, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_batch_times(self->ch, host, from_ns, to_ns, fn, ctx, err, errsz);
    int64_t host_id = s_host_int(self, "id", host);
    store_raw_t *r = host_id ? store_raw_open(self, host_id, from_ns, to_ns, err, errsz) : NULL;
    if (host_id && !r)
        return -1;
    int64_t ts;
    const store_sample_t *smp;
    size_t n;
    while (r && store_raw_next(r, &ts, &smp, &n) > 0)
        if (fn(ctx, ts) != 0)
            break;
    return store_raw_close(&r, err, errsz);
}

int store_burst_starts(store_t *self, int64_t from_ns, int64_t to_ns, int64_t limit,
                       int (*fn)(void *ctx, const burst_start_t *row), void *ctx, char *err,
                       size_t errsz)
{
    if (self->ch)
        return chstore_burst_starts(self->ch, from_ns, to_ns, limit, fn, ctx, err, errsz);
    static const char sql[] =
        "SELECT h.name, b.iface, b.host_id, b.corrected_start_ns, "
        "b.end_ns + b.corrected_start_ns - b.start_ns, b.uncertainty_ns, b.packets, "
        "b.drops_total FROM bursts b JOIN hosts h ON h.id = b.host_id WHERE "
        "b.corrected_start_ns > ?1 AND b.corrected_start_ns <= ?2 AND b.direction = 'rx' "
        "ORDER BY b.corrected_start_ns DESC LIMIT ?3";
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, from_ns);
    sqlite3_bind_int64(st, 2, to_ns);
    sqlite3_bind_int64(st, 3, limit > 0 ? limit : INT64_MAX);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        burst_start_t row = {s_col_text(st, 0),           s_col_text(st, 1),
                             sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                             sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
                             sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7)};
        if (fn(ctx, &row) != 0)
            break;
    }
    return s_query_end(self, st, rc, err, errsz);
}

int store_series_list(store_t *self, const char *host,
                      int (*fn)(void *ctx, const series_info_t *row), void *ctx, char *err,
                      size_t errsz)
{
    if (self->ch)
        return chstore_series_list(self->ch, host, fn, ctx, err, errsz);
    static const char sql[] = "SELECT source, device, name, kind, layer, overlap, owner FROM series WHERE "
                              "host_id = (SELECT id FROM hosts WHERE name = ?1) ORDER BY source, "
                              "device, name";
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        series_info_t row = {s_col_text(st, 0), s_col_text(st, 1), s_col_text(st, 2),
                             s_col_text(st, 3), s_col_text(st, 4), sqlite3_column_int(st, 5) != 0,
                             s_col_text(st, 6)};
        if (fn(ctx, &row) != 0)
            break;
    }
    return s_query_end(self, st, rc, err, errsz);
}

/* SQLite's progress handler: non-zero interrupts the statement running. */
static int s_deadline_check(void *ctx)
{
    store_deadline_t *d = ctx;
    if (d->mono_ns == 0 || ts_mono_ns() < d->mono_ns)
        return 0;
    d->passed = true;
    return 1;
}

void store_set_deadline(store_t *self, store_deadline_t *deadline)
{
    if (self->ch) {
        chstore_set_deadline(self->ch, deadline);
        return;
    }
    sqlite3_progress_handler(store_db(self), deadline ? DEADLINE_STEPS : 0,
                             deadline ? s_deadline_check : NULL, deadline);
}

int store_ping(store_t *self, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_ping(self->ch, err, errsz);
    sqlite3_stmt *st = store_prepare(self, "SELECT count(*) FROM (SELECT 1 FROM hosts LIMIT 1)", err,
                               errsz);
    return st ? s_query_end(self, st, sqlite3_step(st), err, errsz) : -1;
}

/* --- the fleet's counters at start ------------------------------------------ */

/* One kind of restore row per query: (host, a layer | iface + direction, n),
 * or the hosts rows' gauges. Each scans its table once (drops through the
 * covering drops_ts index): run once, at start. */
int store_tally_restore(store_t *self, void (*fn)(void *ctx, const store_tally_t *t), void *ctx,
                        char *err, size_t errsz)
{
    if (self->ch)
        return chstore_tally_restore(self->ch, fn, ctx, err, errsz);
    static const char *const sql[] = {
        "SELECT h.name, t.layer, sum(t.n) FROM (SELECT host_id, layer, max(delta, 0) AS n FROM "
        "drops WHERE overlap = 0 UNION ALL SELECT host_id, layer, delta FROM drops_expired) t JOIN "
        "hosts h ON h.id = t.host_id GROUP BY t.host_id, t.layer",
        "SELECT h.name, t.iface, sum(t.n), t.direction FROM (SELECT host_id, iface, direction, 1 AS "
        "n FROM bursts UNION ALL SELECT host_id, iface, direction, n FROM bursts_expired) t JOIN "
        "hosts h ON h.id = t.host_id GROUP BY t.host_id, t.iface, t.direction",
        ("SELECT name, '', last_seen_ns, clock_offset_valid, clock_offset_ns, "
         "spool_dropped_messages + spool_rejected_messages FROM hosts")};
    for (int q = 0; q < 3; q++) {
        sqlite3_stmt *st = store_prepare(self, sql[q], err, errsz);
        if (!st)
            return -1;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            store_tally_t t = {0};
            snprintf(t.host, sizeof t.host, "%s", s_col_text(st, 0));
            int64_t n = sqlite3_column_int64(st, 2);
            if (q == 0) {
                t.path[layer_from_name(s_col_text(st, 1))] = n > 0 ? (uint64_t)n : 0;
            } else if (q == 1) {
                t.nbursts = 1;
                snprintf(t.bursts[0].iface, sizeof t.bursts[0].iface, "%s", s_col_text(st, 1));
                t.bursts[0].tx = strcmp(s_col_text(st, 3), "tx") == 0;
                t.bursts[0].n = n > 0 ? (uint64_t)n : 0;
            } else {
                t.seen = n > 0;
                t.last_seen_ns = n;
                t.delivery = true;
                t.clock_valid = sqlite3_column_int(st, 3) != 0;
                t.clock_offset_ns = sqlite3_column_int64(st, 4);
                int64_t lost = sqlite3_column_int64(st, 5);
                t.spool_lost = lost > 0 ? (uint64_t)lost : 0;
            }
            fn(ctx, &t);
        }
        if (s_query_end(self, st, rc, err, errsz) != 0)
            return -1;
    }
    return 0;
}
