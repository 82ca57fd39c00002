/* store_db: the store's connection to SQLite, below everything else of the
 * store: opening it (pragmas, the embedded migrations), the writer's
 * statements prepared once, one-off statements, and errors. Calls no other
 * file of the store. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "log.h"
#include "store_internal.h"
#include "ts.h"

extern const embed_file_t schema_files[];
extern const unsigned schema_files_count;

static const char *const s_sql[NSTMT] = {
    /* Each message in a savepoint of its own, prepared once: parsing them
     * for every message was 4% of the writer's time. */
    [ST_SAVEPOINT] = "SAVEPOINT msg",
    [ST_RELEASE] = "RELEASE msg",
    [ST_ROLLBACK_TO] = "ROLLBACK TO msg",
    [ST_HOST_UPSERT] =
        "INSERT INTO hosts (name, boot_id, first_seen_ns, last_seen_ns, incarnation, last_seq) "
        "VALUES (?1, ?2, ?3, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
        "boot_id = excluded.boot_id, last_seen_ns = max(last_seen_ns, excluded.last_seen_ns), "
        "incarnation = excluded.incarnation, last_seq = excluded.last_seq RETURNING id",
    [ST_HELLO] = "UPDATE hosts SET backend = ?2, kernel = ?3, collector_version = ?4, ncpus = ?5, "
                 "interval_ns = ?6, backend_note = ?7 WHERE id = ?1",
    [ST_NAME_FIND] = "SELECT id FROM series_names WHERE source = ?1 AND device = ?2 AND name = ?3",
    [ST_NAME_INSERT] = "INSERT INTO series_names (source, device, name) VALUES (?1, ?2, ?3)",
    [ST_SERIES_UPSERT] =
        "INSERT INTO host_series (host_id, name_id, kind, layer, overlap, owner) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (host_id, name_id) "
        "DO UPDATE SET kind = excluded.kind, layer = excluded.layer, overlap = excluded.overlap, "
        "owner = CASE WHEN excluded.owner != '' THEN excluded.owner ELSE owner END RETURNING id",
    [ST_SERIES_INSERT] =
        "INSERT OR IGNORE INTO host_series (host_id, name_id, kind, layer, overlap, owner) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SERIES_FIND] = "SELECT id FROM host_series WHERE host_id = ?1 AND name_id = ?2 AND "
                       "kind = ?3 AND layer = ?4 AND overlap = ?5 AND (?6 = '' OR owner = ?6)",
    [ST_SAVE_IDS] = "INSERT OR REPLACE INTO incarnation_ids (host_id, incarnation, ids, defs_hash) "
                    "VALUES (?1, ?2, ?3, ?4)",
    [ST_REUSE_IDS] = "SELECT ids FROM incarnation_ids WHERE host_id = ?1 AND defs_hash = ?2 "
                     "LIMIT 1",
    [ST_LOAD_IDS] = "SELECT ids FROM incarnation_ids WHERE host_id = ?1 AND incarnation = ?2",
    /* Databases from before 007 kept the map as a row per series. */
    [ST_LOAD_OLD_IDS] = "SELECT i.local_id, i.series_id, s.kind, s.layer, s.overlap FROM series_ids i "
                        "JOIN host_series s ON s.id = i.series_id WHERE i.host_id = ?1 AND "
                        "i.incarnation = ?2",
    [ST_COUNT_SERIES] = "SELECT count(*) FROM host_series WHERE host_id = ?1",
    [ST_BATCH] = "INSERT OR IGNORE INTO batches (host_id, incarnation, seq, ts_ns, prev_ts_ns, "
                 "received_ns, nsamples, samples, packing) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                 "1)",
    [ST_LATE] = "INSERT OR IGNORE INTO rollup_late (batch_id) VALUES (?1)",
    [ST_DROP] = "INSERT INTO drops (host_id, layer, ts_ns, series_id, prev_ts_ns, delta, "
                "reset, overlap) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_SETTING] = "INSERT INTO settings (host_id, series_id, ts_ns, value) SELECT ?1, ?2, ?3, ?4 "
                   "WHERE NOT EXISTS (SELECT 1 FROM settings WHERE series_id = ?2 AND ts_ns = "
                   "(SELECT max(ts_ns) FROM settings WHERE series_id = ?2) AND value = ?4)",
    [ST_HOST_DELIVERY] =
        "UPDATE hosts SET spool_dropped_messages = max(spool_dropped_messages, ?2), "
        "spool_dropped_samples = max(spool_dropped_samples, ?3), clock_ts_ns = ?4, "
        "clock_offset_valid = ?5, clock_offset_ns = ?6, clock_rtt_ns = ?7, clock_synced = ?8, "
        "clock_maxerror_ns = ?9, clock_esterror_ns = ?10, "
        "spool_rejected_messages = max(spool_rejected_messages, ?11), "
        "spool_rejected_samples = max(spool_rejected_samples, ?12) WHERE id = ?1 AND "
        "clock_ts_ns <= ?4",
    [ST_COUNT_HOSTS] = "SELECT count(*), coalesce(max(id), 0) FROM hosts",
    [ST_HOST_FIND] = "SELECT 1 FROM hosts WHERE name = ?1",
    [ST_HOST_SEEN] = "UPDATE hosts SET last_seen_ns = max(last_seen_ns, ?2), incarnation = ?3, "
                     "last_seq = ?4, aggregator = ?5 WHERE id = ?1",
    [ST_BURST] = "INSERT INTO bursts (host_id, start_ns, iface, direction, end_ns, "
                 "peak_per_ms, packets, bytes, threshold_per_ms, drops_total, drops, "
                 "profile_start_ns, tick_ns, profile, profile_complete, corrected_start_ns, "
                 "uncertainty_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                 "?14, ?15, ?16, ?17)",
    [ST_GAP] = "INSERT OR IGNORE INTO gaps (host_id, start_ns, grp, port, first_seq, end_ns, "
               "missing, last_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
};

int store_exec(store_t *self, const char *sql, char *err, size_t errsz)
{
    char *msg = NULL;
    if (sqlite3_exec(self->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    store_errf(err, errsz, "%s", msg ? msg : sqlite3_errmsg(self->db));
    sqlite3_free(msg);
    return -1;
}

sqlite3_stmt *store_stmt(store_t *self, int which)
{
    if (!self->stmt[which] &&
        sqlite3_prepare_v3(self->db, s_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                           &self->stmt[which], NULL) != SQLITE_OK)
        return NULL;
    sqlite3_reset(self->stmt[which]);
    sqlite3_clear_bindings(self->stmt[which]);
    return self->stmt[which];
}

/* Runs statement `which`, which returns no rows. 0, or -1 with the reason in err. */
int store_run(store_t *self, int which, char *err, size_t errsz)
{
    sqlite3_stmt *st = store_stmt(self, which);
    if (st && sqlite3_step(st) == SQLITE_DONE)
        return 0;
    store_errf(err, errsz, "%s", sqlite3_errmsg(self->db));
    return -1;
}

/* The first second after every batch stored before this process: the
 * minutes rolled up as they are stored begin there (store_rollback moves
 * it past what a failed group may have left). */
static int s_first_fresh(store_t *self, int64_t *fresh_from)
{
    sqlite3_stmt *st;
    /* A block of raw_blocks (019) ends at most STORE_RAW_BLOCK_S on. */
    if (sqlite3_prepare_v2(self->db,
                           "SELECT max(coalesce((SELECT max(second) FROM batches), -1), "
                           "coalesce((SELECT max(ts_ns) / 1000000000 + ?1 - 1 FROM raw_blocks), "
                           "-1))",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, STORE_RAW_BLOCK_S);
    int rc = sqlite3_step(st);
    *fresh_from = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) >= 0
                      ? (sqlite3_column_int64(st, 0) + 1) * TS_NS_PER_S
                      : INT64_MIN;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* What sqlite3_progress_handler calls back into while a migration runs. */
typedef struct {
    store_progress_fn *fn;
    void *ctx;
    store_migration_t m;
    int64_t started_ns, next_ns; /* monotonic */
} progress_t;

/* Every few thousand virtual machine steps of a migration's statements:
 * reports (and logs) it once every STORE_PROGRESS_NS. Never interrupts. */
static int s_progress(void *arg)
{
    progress_t *p = arg;
    int64_t now = ts_mono_ns();
    if (now < p->next_ns)
        return 0;
    p->next_ns = now + STORE_PROGRESS_NS;
    p->m.elapsed_ns = now - p->started_ns;
    log_info("aggregator: migration %d of %d (%s) still running after %lld s", p->m.index,
             p->m.count, p->m.name, (long long)(p->m.elapsed_ns / TS_NS_PER_S));
    if (p->fn)
        p->fn(p->ctx, &p->m);
    return 0;
}

/* BEGIN IMMEDIATE for migration p, waiting as long as another process
 * holds the database's write lock (a backup, an sqlite3 shell): each
 * busy timeout (5 s) logs who waits for what and reports progress, so the
 * start is slowed, not failed. 0, or -1 + err on any other error. */
static int s_begin_migration(store_t *self, progress_t *p, char *err, size_t errsz)
{
    while (store_exec(self, "BEGIN IMMEDIATE", err, errsz) != 0) {
        if (sqlite3_errcode(self->db) != SQLITE_BUSY)
            return -1;
        p->m.elapsed_ns = ts_mono_ns() - p->started_ns;
        log_limited(LOGL_WARN, "migrate:busy", "aggregator: migration %d of %d (%s) waits for "
                    "the write lock on %s, which another process holds (%lld s so far)",
                    p->m.index, p->m.count, p->m.name, sqlite3_db_filename(self->db, "main"),
                    (long long)(p->m.elapsed_ns / TS_NS_PER_S));
        if (p->fn)
            p->fn(p->ctx, &p->m);
    }
    return 0;
}

static int s_version(store_t *self, int *version, char *err, size_t errsz)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
        store_errf(err, errsz, "%s", sqlite3_errmsg(self->db));
        return -1;
    }
    *version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

/* Applies the embedded migrations newer than PRAGMA user_version, each in
 * its own transaction together with the version bump, saying so before
 * each one starts and every few seconds of a long one. */
int store_migrate(store_t *self, store_progress_fn *progress, void *ctx, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_migrate(self->ch, progress, ctx, err, errsz);
    int version, count = 0;
    if (s_version(self, &version, err, errsz) != 0)
        return -1;
    for (unsigned i = 0; i < schema_files_count; i++)
        count += atoi(schema_files[i].name) > version;
    if (count > 0)
        log_info("aggregator: migrating the database from version %d: %d migration%s to apply",
                 version, count, count == 1 ? "" : "s");
    progress_t p = {progress, ctx, {.count = count, .from_version = version}, 0, 0};
    for (unsigned i = 0; i < schema_files_count; i++) {
        int v = atoi(schema_files[i].name);
        if (v <= version)
            continue;
        p.m.name = schema_files[i].name;
        p.m.index++;
        p.m.elapsed_ns = 0;
        p.started_ns = ts_mono_ns();
        p.next_ns = p.started_ns + STORE_PROGRESS_NS;
        log_info("aggregator: migration %d of %d (%s) starting", p.m.index, count, p.m.name);
        if (progress)
            progress(ctx, &p.m);
        char bump[64], sub[256];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v);
        sqlite3_progress_handler(self->db, 10000, s_progress, &p);
        int rc = s_begin_migration(self, &p, sub, sizeof sub) != 0 ||
                 store_exec(self, schema_files[i].data, sub, sizeof sub) != 0 ||
                 store_exec(self, bump, sub, sizeof sub) != 0 ||
                 store_exec(self, "COMMIT", sub, sizeof sub) != 0;
        sqlite3_progress_handler(self->db, 0, NULL, NULL);
        if (rc) {
            store_exec(self, "ROLLBACK", err, errsz);
            store_errf(err, errsz, "cannot prepare database %s: migration %s failed: %s",
                       sqlite3_db_filename(self->db, "main"), schema_files[i].name, sub);
            return -1;
        }
        log_info("aggregator: database migrated to version %d (%s, %d of %d, %.1f s)", v,
                 schema_files[i].name, p.m.index, count,
                 (double)(ts_mono_ns() - p.started_ns) / TS_NS_PER_S);
        version = v;
    }
    if (s_first_fresh(self, &self->fresh_from) != 0) {
        store_errf(err, errsz, "cannot read database %s: %s", sqlite3_db_filename(self->db, "main"),
                   sqlite3_errmsg(self->db));
        return -1;
    }
    return 0;
}

/* Process-wide: no allocation statistics, whose global mutex every
 * allocation of every connection took (13% of the writer's time). */
static void s_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

int store_db_connect(store_t *self, const char *path, char *err, size_t errsz)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, s_configure);
    int flags = self->writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(path, &self->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        store_errf(err, errsz, "cannot open database %s: %s (check the path and its directory's "
              "permissions)", path, self->db ? sqlite3_errmsg(self->db) : "out of memory");
        return -1;
    }
    sqlite3_busy_timeout(self->db, 5000);
    if (!self->writer)
        return 0;
    char sub[256];
    /* FULL: an acknowledged batch survives a power loss, not only a crash. */
    if (store_exec(self, "PRAGMA journal_mode = WAL", sub, sizeof sub) != 0 ||
        store_exec(self, "PRAGMA synchronous = FULL", sub, sizeof sub) != 0 ||
        /* Each message is stored in a savepoint: its journal in memory,
         * not in a temporary file (900 MB/s of writes). */
        store_exec(self, "PRAGMA temp_store = MEMORY", sub, sizeof sub) != 0 ||
        /* 16 MiB: the pages a writer touches again are few (the right
         * edges of the tables, the hosts rows); a larger cache only grows,
         * a page fault per new page, and 256 MiB made a fleet's cold start
         * 15% slower (bench_ingest.sh: 0.65x raw SQLite, 0.77x at 16 MiB). */
        store_exec(self, "PRAGMA cache_size = -16384", sub, sizeof sub) != 0) {
        store_errf(err, errsz, "cannot prepare database %s: %s", path, sub);
        return -1;
    }
    return 0;
}

void store_db_disconnect(store_t *self)
{
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(self->stmt[i]);
    sqlite3_close(self->db);
    self->db = NULL;
}

/* Prepares a one-off statement; NULL with err. */
sqlite3_stmt *store_prepare(store_t *self, const char *sql, char *err, size_t errsz)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) == SQLITE_OK)
        return st;
    store_errf(err, errsz, "database: %s", sqlite3_errmsg(self->db));
    return NULL;
}

/* --- writing ---------------------------------------------------------------- */

/* A failed statement: a message that breaks a constraint (a drop or burst
 * row another message already stored, say) is refused alone; anything else
 * is the database's own failure (I/O, a full disk, a lock), which abandons
 * the group. */
store_rc_t store_db_fail(store_t *self, char *err, size_t errsz)
{
    int code = sqlite3_errcode(self->db);
    bool message = code == SQLITE_CONSTRAINT || code == SQLITE_MISMATCH || code == SQLITE_TOOBIG ||
                   code == SQLITE_RANGE;
    store_errf(err, errsz, "%s: %s", message ? "refused by the database" : "database",
               sqlite3_errmsg(self->db));
    return message ? STORE_INVALID : STORE_ERROR;
}

/* Grows self->blob to hold `need` bytes. 0, or -1 when out of memory. */
int store_blob(store_t *self, size_t need)
{
    if (need <= self->blobcap)
        return 0;
    unsigned char *blob = realloc(self->blob, need);
    if (!blob)
        return -1;
    self->blob = blob;
    self->blobcap = need;
    return 0;
}

sqlite3 *store_db(store_t *self)
{
    return self->db;
}

void store_errf(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}
