/* bench_sqlite_raw: the baseline of the ingest benchmark (docs/ARCHITECTURE.md, Budgets):
 * raw SQLite inserting narrow rows (host, series, ts, value) into a plain
 * table, WAL and synchronous=FULL as the aggregator runs, 10,000 rows per
 * transaction, from one prepared statement. Prints rows per second.
 * Usage: bench_sqlite_raw [ROWS [DB_PATH]] (default 5,000,000 rows into a
 * file under /tmp that is removed afterwards; CI runs 20). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ts.h"

#define TX_ROWS 10000

static int s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_sqlite_raw: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 5000000;
    char path[64] = "/tmp/bench_sqlite_raw.XXXXXX";
    int fd = argc > 2 ? -1 : mkstemp(path);
    if (argc > 2)
        snprintf(path, sizeof path, "%s", argv[2]);
    else if (fd < 0 || close(fd) != 0) {
        perror("bench_sqlite_raw: mkstemp");
        return 1;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *st;
    if (rows < 1 || sqlite3_open(path, &db) != SQLITE_OK ||
        s_exec(db, "PRAGMA journal_mode = WAL") ||
        s_exec(db, "PRAGMA synchronous = FULL") ||
        s_exec(db, "CREATE TABLE samples (host_id INTEGER, series_id INTEGER, ts_ns INTEGER, "
                   "value INTEGER)") ||
        sqlite3_prepare_v2(db, "INSERT INTO samples VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL)) {
        fprintf(stderr, "bench_sqlite_raw: cannot set up %s (ROWS must be positive): %s\n", path,
                sqlite3_errmsg(db));
        return 1;
    }
    int64_t t0 = ts_mono_ns();
    for (long i = 0; i < rows; i++) {
        if (i % TX_ROWS == 0 && s_exec(db, "BEGIN"))
            return 1;
        sqlite3_bind_int64(st, 1, i % 10000);
        sqlite3_bind_int64(st, 2, i % 270);
        sqlite3_bind_int64(st, 3, INT64_C(1795359570000000000) + i / 10000 * 1000000000);
        sqlite3_bind_int64(st, 4, i * 7919);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "bench_sqlite_raw: insert: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(st);
        if ((i + 1) % TX_ROWS == 0 || i + 1 == rows)
            if (s_exec(db, "COMMIT"))
                return 1;
    }
    double secs = (double)(ts_mono_ns() - t0) / 1e9;
    printf("raw_rows %ld\nraw_seconds %.3f\nraw_rows_per_s %.0f\n", rows, secs, (double)rows / secs);
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (argc <= 2) {
        char side[80];
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
    }
    return 0;
}
