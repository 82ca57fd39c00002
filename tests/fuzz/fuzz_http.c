/* fuzz_http: the HTTP API's parameter handling, api_get, on a real SQLite
 * database (a mkdtemp directory under /tmp, removed at exit) holding a
 * host with drops and bursts of the last hour. An input is a request as
 * MHD hands it over once decoded: "PATH?name=value&name&..." (at most 32
 * parameters, as http.c takes). Whatever the parameters (durations,
 * times, limits, host and series names, windows), the answer must be a
 * status the API documents (200, 400, 404, or 503 past the deadline: never
 * 500, which would mean a query the validation let through failed), a body
 * that is JSON (text for /metrics), and a truncation header without a line
 * break. Every input runs under a one-second deadline, as the server's
 * queries do. */
#define _GNU_SOURCE /* nftw */
#include <ftw.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "ingest_seeds.h"
#include "log.h"
#include "intake.h"
#include "store.h"
#include "ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_dir[64];
static store_t *s_reader;           /* what api_get reads, as an HTTP worker's */
static store_deadline_t s_deadline; /* of each input */
static stats_board_t *s_stats; /* all zero: nothing publishes */
static unsigned long s_status[6]; /* answers by status / 100 */

static int s_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void s_cleanup(void)
{
    fprintf(stderr, "fuzz_http: answers 2xx %lu, 4xx %lu, 5xx %lu\n", s_status[2], s_status[4],
            s_status[5]);
    store_close(&s_reader);
    nftw(s_dir, s_remove, 4, FTW_DEPTH | FTW_PHYS); /* the database, its WAL, the directory */
}

/* Host h1 (ingest_seeds.h's definitions) with a drop a minute and a burst
 * every five over the last hour, by SQL as bench_queries seeds them. */
static void s_seed(const char *path)
{
    sqlite3 *db;
    char sql[1024];
    int64_t now = ts_now_ns();
    if (sqlite3_open(path, &db) != SQLITE_OK)
        abort();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int m = 1; m <= 60; m++) {
        int64_t ts = now - m * 60 * TS_NS_PER_S;
        snprintf(sql, sizeof sql,
                 "INSERT INTO drops (host_id, layer, ts_ns, series_id, prev_ts_ns, delta, overlap) "
                 "SELECT s.host_id, 'nic', %lld, s.id, %lld, %d, 0 FROM series s WHERE "
                 "s.name = 'rx_dropped'",
                 (long long)ts, (long long)(ts - TS_NS_PER_S), m);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (m % 5)
            continue;
        snprintf(sql, sizeof sql,
                 "INSERT INTO bursts (host_id, start_ns, iface, direction, end_ns, peak_per_ms, "
                 "packets, bytes, threshold_per_ms, drops_total, drops, profile_start_ns, tick_ns, "
                 "profile, profile_complete, corrected_start_ns, uncertainty_ns) SELECT id, "
                 "%lld, 'eth0', 'rx', %lld, 700, 2100, 210000, 256, 3, zeroblob(88), %lld, "
                 "1000000, zeroblob(40), 1, %lld, 100000 FROM hosts",
                 (long long)ts, (long long)(ts + 3 * TS_NS_PER_MS),
                 (long long)(ts - 10 * TS_NS_PER_MS), (long long)ts);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
}

static void s_open(void)
{
    char err[256], path[sizeof s_dir + 16];
    snprintf(s_dir, sizeof s_dir, "/tmp/fuzz_http-XXXXXX");
    if (!mkdtemp(s_dir)) {
        perror("fuzz_http: mkdtemp /tmp/fuzz_http-XXXXXX");
        abort();
    }
    atexit(s_cleanup);
    log_init("fuzz_http", LOGL_WARN);
    snprintf(path, sizeof path, "%s/http.db", s_dir);
    store_t *writer = store_open(path, true, err, sizeof err);
    msg_t defs = ingest_defs_batch();
    size_t samples;
    if (!writer || store_begin(writer, err, sizeof err) != 0 ||
        intake_store(writer, &defs, INGEST_NOW_NS, &samples, err, sizeof err) != STORE_OK ||
        store_commit(writer, err, sizeof err) != 0 || store_flush_hosts(writer, err, sizeof err)) {
        fprintf(stderr, "fuzz_http: cannot make the database: %s\n", err);
        abort();
    }
    store_close(&writer);
    s_seed(path);
    if (!(s_reader = store_open(path, false, err, sizeof err)) || !(s_stats = stats_board_new())) {
        fprintf(stderr, "fuzz_http: %s\n", s_reader ? "out of memory" : err);
        abort();
    }
    store_set_deadline(s_reader, &s_deadline);
}

/* Splits "PATH?a=b&c" in place (a NUL in the input ends it, as in a C
 * string from MHD). */
static const char *s_split(char *text, api_params_t *p)
{
    char *query = strchr(text, '?');
    if (!query)
        return text;
    *query++ = '\0';
    for (char *save = NULL, *kv = strtok_r(query, "&", &save); kv && p->n < API_MAX_PARAMS;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq++ = '\0';
        p->names[p->n] = kv;
        p->values[p->n++] = eq;
    }
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_reader)
        s_open();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    api_params_t p = {0};
    const char *path = s_split(text, &p);
    s_deadline = (store_deadline_t){ts_mono_ns() + TS_NS_PER_S, false};
    api_reply_t r = api_get(s_reader, s_stats, path, (const char *const *)p.names, api_param, &p);
    s_deadline.mono_ns = 0;
    if (!r.body || !r.type)
        __builtin_trap();
    if (r.status != 200 && r.status != 400 && r.status != 404 &&
        !((r.status == 500 || r.status == 503) && s_deadline.passed)) {
        fprintf(stderr, "fuzz_http: %s answered %d: %s\n", path, r.status, r.body);
        __builtin_trap();
    }
    s_status[r.status / 100]++;
    if (strpbrk(r.truncated, "\r\n") || (r.truncated[0] && r.status != 200))
        __builtin_trap();
    /* The two exposition-format endpoints answer text; everything else JSON. */
    bool exposition = r.status == 200 && (strcmp(path, "/metrics") == 0 ||
                                          strcmp(path, "/metrics/fleet") == 0);
    if (!exposition) {
        json_error_t jerr;
        json_t *doc = json_loads(r.body, 0, &jerr);
        if (!doc) {
            fprintf(stderr, "fuzz_http: %s answered text that is not JSON: %s\n", path, jerr.text);
            __builtin_trap();
        }
        json_decref(doc);
    }
    free(r.body);
    free(text);
    return 0;
}
