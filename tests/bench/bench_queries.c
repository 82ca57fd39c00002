/* bench_queries: history queries on a seeded month of a fleet (docs/ARCHITECTURE.md, Budgets
 * budgets): HOSTS hosts (default 1000) over DAYS days (default 30), with
 * EVENTS (100) drop events per host and day (each a socket delta, the overlapping
 * Udp.InErrors, and now and then a backlog delta), a burst every 30 min per
 * host and an incident of 20 hosts every minute. The drops and bursts are
 * seeded with SQL into the aggregator's own schema (a month through the
 * writer would take hours); then, through the store's query functions:
 *   one host's drop history for the month      budget  50 ms
 *   the fleet's top droppers for a day          budget 500 ms
 *   the incidents of an hour                    budget   1 s
 *   one host's raw series of an hour (reported), packed and as rows
 * and the database's size per host and day: the seeded drops and bursts,
 * plus raw history and its rollups measured by storing an hour of 20
 * hosts (75 samples a second each) through the writer: bytes a sample as
 * batches rows (the layout before 019) and once the upkeep packed them
 * into raw blocks.
 * Usage: bench_queries [HOSTS [DAYS]] (default 1000 30; CI runs 20 hosts,
 * 2 days). A full run writes about 11 GB under /tmp, removed at the end. */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incidents.h"
#include "intake.h"
#include "rows.h"
#include "store.h"
#include "ts.h"

#define DAY (86400 * TS_NS_PER_S)
#define HOUR (3600 * TS_NS_PER_S)
#define EVENTS 100
#define T0 (INT64_C(1795305600) * TS_NS_PER_S) /* midnight */

/* The database's size once its WAL is checkpointed into it. */
static int64_t s_file(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) == SQLITE_OK)
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static void s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_queries: %s: %s\n", sql, msg);
        exit(1);
    }
}

static sqlite3_stmt *s_prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_queries: %s: %s\n", sql, sqlite3_errmsg(db));
        exit(1);
    }
    return st;
}

static void s_step(sqlite3_stmt *st, const int64_t *v, int n)
{
    for (int i = 0; i < n; i++)
        sqlite3_bind_int64(st, i + 1, v[i]);
    if (sqlite3_step(st) != SQLITE_DONE) {
        fprintf(stderr, "bench_queries: insert: %s\n", sqlite3_errmsg(sqlite3_db_handle(st)));
        exit(1);
    }
    sqlite3_reset(st);
}

/* Hosts with three drop series each; returns the first series id. */
static void s_seed_hosts(sqlite3 *db, int hosts)
{
    sqlite3_stmt *h = s_prep(db, "INSERT INTO hosts (id, name, first_seen_ns, last_seen_ns) VALUES "
                                 "(?1, printf('host%05d', ?1), ?2, ?2)");
    s_exec(db, "INSERT INTO series_names (id, source, device, name) VALUES (1, 'snmp', '', "
               "'Udp.RcvbufErrors'), (2, 'snmp', '', 'Udp.InErrors'), (3, 'softnet', 'cpu0', "
               "'dropped')");
    sqlite3_stmt *s = s_prep(db, "INSERT INTO host_series (id, host_id, name_id, kind, layer, "
                                 "overlap) VALUES (?1 * 3 + ?2, ?1, ?2 + 1, 'counter', CASE ?2 "
                                 "WHEN 0 THEN 'socket' WHEN 1 THEN 'proto' ELSE 'backlog' END, "
                                 "?2 = 1)");
    for (int64_t i = 0; i < hosts; i++) {
        s_step(h, (int64_t[]){i, T0}, 2);
        for (int64_t k = 0; k < 3; k++)
            s_step(s, (int64_t[]){i, k}, 2);
    }
    sqlite3_finalize(h);
    sqlite3_finalize(s);
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Drops and bursts, host by host (as each host's rows cluster in the keys). */
static long s_seed_events(sqlite3 *db, int hosts, int days)
{
    sqlite3_stmt *d = s_prep(db, "INSERT OR IGNORE INTO drops (host_id, layer, ts_ns, series_id, "
                                 "prev_ts_ns, delta, overlap) VALUES (?1, CASE ?2 % 3 WHEN 0 THEN "
                                 "'socket' WHEN 1 THEN 'proto' ELSE 'backlog' END, ?3, ?2, ?3 - "
                                 "1000000000, ?4, ?2 % 3 = 1)");
    sqlite3_stmt *b = s_prep(db, "INSERT OR IGNORE INTO bursts (host_id, start_ns, iface, direction, "
                                 "end_ns, peak_per_ms, packets, bytes, threshold_per_ms, drops_total, "
                                 "drops, profile_start_ns, tick_ns, profile, profile_complete, "
                                 "corrected_start_ns, uncertainty_ns) VALUES (?1, ?2, 'eth0', 'rx', "
                                 "?2 + 3000000, 700, 2100, 210000, 256, ?3, zeroblob(88), ?2 - "
                                 "10000000, 1000000, zeroblob(160), 1, ?2, 100000)");
    int64_t *ts = malloc(sizeof *ts * EVENTS);
    long rows = 0;
    srand(11);
    for (int64_t h = 0; h < hosts; h++) {
        for (int day = 0; day < days; day++) {
            for (int e = 0; e < EVENTS; e++)
                ts[e] = T0 + day * DAY + (int64_t)(rand() % 86400) * TS_NS_PER_S;
            qsort(ts, EVENTS, sizeof *ts, s_cmp_i64);
            for (int e = 0; e < EVENTS; e++) {
                int64_t delta = 1 + rand() % 500;
                s_step(d, (int64_t[]){h, h * 3, ts[e], delta}, 4);
                s_step(d, (int64_t[]){h, h * 3 + 1, ts[e], delta}, 4);
                rows += 2;
                if (e % 5 == 0) {
                    s_step(d, (int64_t[]){h, h * 3 + 2, ts[e], delta / 2}, 4);
                    rows++;
                }
            }
            for (int k = 0; k < 48; k++, rows++) /* a burst every 30 min */
                s_step(b, (int64_t[]){h, T0 + day * DAY + k * HOUR / 2 + (rand() % 1000000) *
                                                                          1000, 0}, 3);
            for (int m = 0; m < 1440; m++) /* 20 hosts together every minute */
                if ((m * 20 / hosts + h) % (hosts / 20 > 0 ? hosts / 20 : 1) == 0) {
                    s_step(b, (int64_t[]){h, T0 + day * DAY + m * 60 * TS_NS_PER_S + rand() % 500000,
                                          100}, 3);
                    rows++;
                }
        }
        if (h % 50 == 49) {
            s_exec(db, "COMMIT");
            s_exec(db, "BEGIN");
        }
    }
    free(ts);
    sqlite3_finalize(d);
    sqlite3_finalize(b);
    return rows;
}

typedef struct {
    long rows;
} count_t;

static int s_count_drop(void *ctx, const drop_row_t *r)
{
    (void)r;
    ((count_t *)ctx)->rows++;
    return 0;
}

static int s_count_top(void *ctx, const char *host, const char *layer, int64_t drops)
{
    (void)host, (void)layer, (void)drops;
    ((count_t *)ctx)->rows++;
    return 0;
}

/* Median of 5 timings of one query, in ms; *rows: what the last one found. */
static double s_median5(double ms[5])
{
    for (int i = 1; i < 5; i++) /* insertion sort */
        for (int j = i; j > 0 && ms[j] < ms[j - 1]; j--) {
            double t = ms[j];
            ms[j] = ms[j - 1];
            ms[j - 1] = t;
        }
    return ms[2];
}

static double s_time(store_t *st, int which, int hosts, int days, long *rows)
{
    double ms[5];
    char err[256];
    for (int k = 0; k < 5; k++) {
        count_t c = {0};
        int64_t t0 = ts_mono_ns();
        if (which == 0) {
            char host[32];
            snprintf(host, sizeof host, "host%05d", (k * 7919) % hosts);
            drops_query_t q = {.host = host, .from_ns = T0, .to_ns = T0 + days * DAY};
            store_drops(st, &q, s_count_drop, &c, err, sizeof err);
        } else if (which == 1) {
            int64_t day = T0 + (days - 1 - k % days) * DAY;
            store_top_droppers(st, day, day + DAY, 20, s_count_top, &c, err, sizeof err);
        } else {
            int64_t hour = T0 + (days - 1) * DAY + (k + 7) * HOUR;
            incidents_query_t q = {hour, hour + HOUR, 2 * TS_NS_PER_MS, 2, 1000000, 0};
            incidents_t *found = incidents_find(st, &q, NULL, err, sizeof err);
            json_t *doc = found ? rows_incidents(found) : NULL; /* the endpoint's whole cost */
            c.rows = doc ? (long)json_array_size(doc) : -1;
            json_decref(doc);
            incidents_destroy(&found);
        }
        ms[k] = (double)(ts_mono_ns() - t0) / 1e6;
        *rows = c.rows;
    }
    return s_median5(ms);
}

/* Bytes of the pages of the named tables and indexes (SQLite's dbstat). */
static int64_t s_table_bytes(const char *path, const char *names)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    char sql[256];
    int64_t bytes = -1;
    snprintf(sql, sizeof sql, "SELECT sum(pgsize) FROM dbstat WHERE name IN (%s)", names);
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            bytes = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    } else {
        fprintf(stderr, "bench_queries: cannot size %s: %s\n", names, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return bytes;
}

static int s_count_sample(void *ctx, const series_row_t *row)
{
    (void)row;
    ((count_t *)ctx)->rows++;
    return 0;
}

/* One host's raw samples of one series over the hour (median of 5). */
static double s_time_raw_series(const char *path, long *rows)
{
    char err[256];
    store_t *st = store_open(path, false, err, sizeof err);
    double ms[5];
    for (int k = 0; k < 5 && st; k++) {
        char host[16];
        snprintf(host, sizeof host, "raw%02d", k * 3);
        series_query_t q = {.host = host, .source = "netdev", .device = "eth0", .name = "c10",
                            .from_ns = T0 - 1, .to_ns = T0 + HOUR};
        count_t c = {0};
        int64_t t0 = ts_mono_ns();
        store_series(st, &q, s_count_sample, &c, err, sizeof err);
        ms[k] = (double)(ts_mono_ns() - t0) / 1e6;
        *rows = c.rows;
    }
    store_close(&st);
    return s_median5(ms);
}

/* What an hour of raw history costs: bytes per host and day and bytes a
 * sample, and how long one host's raw series of the hour takes to read. */
typedef struct {
    double bytes_per_day, bytes_per_sample, series_ms;
    long series_rows;
} raw_cost_t;

static raw_cost_t s_raw_cost(const char *path, const char *tables)
{
    raw_cost_t c;
    int64_t bytes = s_table_bytes(path, tables);
    c.bytes_per_day = (double)bytes / 20 * 24;
    c.bytes_per_sample = (double)bytes / (20.0 * 3600 * 75);
    c.series_ms = s_time_raw_series(path, &c.series_rows);
    return c;
}

/* Raw history as stored (batches rows: the previous layout) and once the
 * upkeep has packed it into raw blocks per host and minute, from the same
 * hour of 20 hosts at 1 s, 75 changing samples each; and the bytes per
 * host and day of the minute and hour rollups. */
static void s_raw_size(const char *dir, raw_cost_t *rows, raw_cost_t *packed, double *rolled,
                       double *store_s, double *pack_s)
{
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/raw.sqlite", dir);
    store_t *st = store_open(path, true, err, sizeof err);
    static series_def_t defs[75];
    static char names[75][16];
    uint32_t ids[75];
    uint64_t values[75];
    int64_t deltas[75];
    uint32_t flags[75] = {0};
    for (int i = 0; i < 75; i++) {
        snprintf(names[i], sizeof names[i], "c%d", i);
        defs[i] = (series_def_t){(uint32_t)i + 1, "netdev", "eth0", names[i], KIND_COUNTER,
                                 LAYER_TRAFFIC, false, ""};
        ids[i] = (uint32_t)i + 1;
        values[i] = 1000000000u + (uint64_t)i * 1000;
    }
    int64_t t0 = ts_mono_ns();
    for (int h = 0; h < 20; h++) {
        char host[16];
        snprintf(host, sizeof host, "raw%02d", h);
        store_begin(st, err, sizeof err);
        for (int s = 0; s < 3600; s++) {
            for (int i = 0; i < 75; i++) {
                deltas[i] = 10000 + rand() % 20000;
                values[i] += (uint64_t)deltas[i];
            }
            msg_t m = {.host = host, .boot_id = "b", .incarnation = 1, .seq = (uint64_t)s + 1,
                       .sent_ns = 1, .type = MSG_TYPE_BATCH};
            m.batch = (batch_t){.ts_ns = T0 + s * TS_NS_PER_S,
                                .prev_ts_ns = T0 + (s - 1) * TS_NS_PER_S,
                                .ndefs = s ? 0 : 75,
                                .defs = defs,
                                .nsamples = 75,
                                .series = ids,
                                .values = values,
                                .deltas = deltas,
                                .flags = flags};
            size_t n;
            intake_store(st, &m, T0 + s * TS_NS_PER_S, &n, err, sizeof err);
        }
        store_commit(st, err, sizeof err);
    }
    *store_s = (double)(ts_mono_ns() - t0) / 1e9;
    *rows = s_raw_cost(path, "'batches', 'batches_at'");
    store_retention_t r = {DAY, 400 * DAY, 0};
    t0 = ts_mono_ns();
    while (store_upkeep(st, &r, T0 + HOUR + 60 * TS_NS_PER_S, 100000000, err, sizeof err) > 0)
        ;
    *pack_s = (double)(ts_mono_ns() - t0) / 1e9;
    store_close(&st);
    *packed = s_raw_cost(path, "'raw_blocks', 'raw_blocks_key', 'raw_blocks_ts', 'batches', "
                               "'batches_at'");
    *rolled = (double)s_table_bytes(path, "'rollups', 'rollups_key', 'rollups_ts'") / 20 * 24;
}

int main(int argc, char **argv)
{
    int hosts = argc > 1 ? atoi(argv[1]) : 1000;
    int days = argc > 2 ? atoi(argv[2]) : hosts < 100 ? 2 : 30; /* CI's smoke run passes 20 */
    hosts = hosts < 20 ? 20 : hosts;
    days = days < 2 ? 2 : days;
    char dir[] = "/tmp/bench_queries.XXXXXX", path[256], err[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/db.sqlite", dir);
    store_t *st = store_open(path, true, err, sizeof err);
    store_close(&st);
    sqlite3 *db;
    sqlite3_open(path, &db);
    s_exec(db, "PRAGMA synchronous = OFF");
    s_exec(db, "BEGIN");
    int64_t t0 = ts_mono_ns();
    s_seed_hosts(db, hosts);
    long rows = s_seed_events(db, hosts, days);
    s_exec(db, "COMMIT");
    s_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
    printf("seeded %d hosts x %d days: %ld drop and burst rows in %.1f s, %.1f MB\n", hosts, days,
           rows, (double)(ts_mono_ns() - t0) / 1e9, (double)s_file(path) / 1e6);
    double seeded = (double)s_file(path) / hosts / days;
    if (!(st = store_open(path, false, err, sizeof err)))
        return 1;
    static const char *const what[] = {"one host's drop history, the whole month",
                                        "the fleet's top 20 droppers of a day",
                                        "the incidents of an hour"};
    static const double budget[] = {50, 500, 1000};
    int missed = 0;
    for (int q = 0; q < 3; q++) {
        long found;
        double ms = s_time(st, q, hosts, days, &found);
        printf("%-42s %8.1f ms (%ld rows)  budget %4.0f ms: %s\n", what[q], ms, found, budget[q],
               ms <= budget[q] ? "met" : "MISSED");
        missed += ms > budget[q];
    }
    store_close(&st);
    raw_cost_t rows_cost, packed_cost;
    double rolled, store_s, pack_s;
    s_raw_size(dir, &rows_cost, &packed_cost, &rolled, &store_s, &pack_s);
    printf("%-42s %8.1f ms (%ld rows, of 3600); as batches rows before packing %.1f ms\n",
           "one host's raw series of an hour", packed_cost.series_ms, packed_cost.series_rows,
           rows_cost.series_ms);
    printf("raw history (1 s, 75 samples): %.2f bytes a sample packed, %.2f as batches rows "
           "(%.1fx smaller); per host and day %.2f MB packed, %.1f MB as rows\n",
           packed_cost.bytes_per_sample, rows_cost.bytes_per_sample,
           rows_cost.bytes_per_sample / packed_cost.bytes_per_sample,
           packed_cost.bytes_per_day / 1e6, rows_cost.bytes_per_day / 1e6);
    printf("the writer: the hour stored in %.2f s, packed by the upkeep (the hours' rollups "
           "too) in %.2f s: packing costs %.0f%% of storing\n", store_s, pack_s,
           100 * pack_s / store_s);
    printf("size per host and day: drops and bursts %.2f MB, raw history %.2f MB, "
           "its minute and hour rollups %.2f MB\n", seeded / 1e6, packed_cost.bytes_per_day / 1e6,
           rolled / 1e6);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_queries: cannot remove %s\n", dir);
    (void)missed; /* budgets are reported, not enforced: a benchmark, not a timed test */
    if (rows_cost.series_rows != 3600 || packed_cost.series_rows != 3600) {
        fprintf(stderr, "bench_queries: the raw series read %ld samples as rows and %ld packed, "
                "3600 were stored\n", rows_cost.series_rows, packed_cost.series_rows);
        return 1;
    }
    return 0;
}
