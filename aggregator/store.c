/* store: SQLite behind the functions of store.h. Assumes one writer thread
 * storing batches of a few hundred samples, of which only drop deltas and
 * setting changes (rare) become rows of their own; readers run queries on
 * their own connections. The writer caches, per host, the map from the
 * collector's wire ids to series rows, so a batch costs no lookups; the
 * map is kept as one row per collector run (incarnation_ids), from which
 * the cache is rebuilt after a restart or a rollback. Definitions that a
 * known host sends again (every restart of its collector) cost a lookup,
 * not a write. */
#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "embed.h"
#include "grow.h"
#include "idmap.h"
#include "log.h"
#include "store_internal.h"
#include "strmap.h"
#include "ts.h"
#include "validate.h"

#define MAX_LOCAL_ID VALIDATE_MAX_ID /* a stored map's ids, as the validator bounds them */
#define NAMES_CACHED 65536 /* series names the writer keeps ids of (a fleet uses a few thousand) */

extern const embed_file_t schema_files[];
extern const unsigned schema_files_count;

typedef struct {
    int64_t host_id;
    uint64_t incarnation; /* whose wire ids `ids` maps */
    bool loaded;          /* ids reflect the database */
    idmap_t ids;          /* wire id -> series */
    int64_t nseries;      /* series rows of the host */
    bool fresh;           /* it had none when loaded: its definitions need no lookup */
    bool dirty;           /* ids changed since they were last saved */
    /* The latest of what every message updates in the hosts row, written
     * once a second by store_flush_hosts rather than once per message: a
     * commit of K batches from K hosts would otherwise rewrite K pages of
     * hosts (docs/ARCHITECTURE.md, Budgets). */
    bool listed;          /* in store_t.pending */
    bool seen;            /* last_seen_ns and last_seq wait */
    int64_t last_seen_ns;
    uint64_t last_seq;
    bool delivery;        /* the batch fields below wait */
    int64_t clock_ts_ns;
    uint64_t spool_messages, spool_samples;   /* lost to the spool's bound */
    uint64_t rejected_messages, rejected_samples; /* refused by us */
    clock_msg_t clock;
    store_minute_t *minute; /* the minute being rolled up (store_minute_add) */
    int64_t fresh_from;     /* its minutes from here on are folded whole */
    int64_t used_mono;      /* when a message of it was last stored (store_evict_idle) */
} host_cache_t;

enum {
    ST_HOST_UPSERT, ST_HELLO, ST_NAME_FIND, ST_NAME_INSERT, ST_SERIES_FIND, ST_SERIES_INSERT,
    ST_SERIES_UPSERT, ST_SAVE_IDS, ST_REUSE_IDS, ST_LOAD_IDS,
    ST_LOAD_OLD_IDS, ST_COUNT_SERIES, ST_BATCH, ST_LATE, ST_DROP, ST_SETTING, ST_BURST,
    ST_HOST_DELIVERY, ST_HOST_SEEN, ST_COUNT_HOSTS, ST_HOST_FIND, ST_SAVEPOINT, ST_RELEASE,
    ST_ROLLBACK_TO, NSTMT
};

/* A wire-id map record in incarnation_ids.ids: little-endian
 * {u32 local_id, u8 layer, u8 kind, u8 overlap, u8 zero, i64 series_id}. */
#define ID_RECORD 16

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
                     "last_seq = ?4 WHERE id = ?1",
    [ST_BURST] = "INSERT INTO bursts (host_id, start_ns, iface, direction, end_ns, "
                 "peak_per_ms, packets, bytes, threshold_per_ms, drops_total, drops, "
                 "profile_start_ns, tick_ns, profile, profile_complete, corrected_start_ns, "
                 "uncertainty_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                 "?14, ?15, ?16, ?17)",
};

struct store {
    sqlite3 *db;
    bool writer;
    sqlite3_stmt *stmt[NSTMT]; /* prepared lazily */
    strmap_t *hosts;           /* writer: host name -> host_cache_t */
    strmap_t *names;           /* writer: "source\x1fdevice\x1fname" -> series_names.id (int64_t *) */
    host_cache_t **pending;    /* writer: hosts whose row has updates waiting */
    size_t npending, cappending;
    unsigned char *blob;       /* writer: packed samples buffer */
    size_t blobcap, bloblen;
    uint32_t *profile;         /* writer: a burst's profile, little-endian */
    size_t capprofile;
    store_rolled_t rolled;     /* writer: the minute rollups' progress */
    int64_t fresh_from;        /* writer: every batch from this time on was stored by us */
    int64_t latest_ts;         /* writer: the latest batch time stored */
    int64_t evicted_until;     /* writer: minutes before this may have lost their fold */
    int64_t max_hosts;         /* writer: --max-hosts */
    int64_t nhosts, max_host_id; /* writer: rows of hosts, and the largest id (-1: not read) */
    store_limit_t last_limit;  /* writer: behind the last STORE_OVER_LIMIT */
    bool host_inserted;        /* writer: the message being stored added a host row */
    bool name_inserted;        /* writer: the transaction added a series_names row */
    bool rolled_known;         /* rolled has been read from rollup_state */
};

void store_set_rolled(store_t *self, store_rolled_t rolled)
{
    self->rolled = rolled;
    self->rolled_known = true;
}

/* Whether a batch of host at ts lands behind the minute rollups. */
static bool s_behind_rollups(store_t *self, int64_t host_id, int64_t ts_ns)
{
    if (!self->rolled_known) {
        sqlite3_stmt *st;
        self->rolled = (store_rolled_t){INT64_MIN, 0};
        if (sqlite3_prepare_v2(self->db, "SELECT bucket_ns, next_host FROM rollup_state WHERE "
                                         "step_s = 60", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                self->rolled = (store_rolled_t){sqlite3_column_int64(st, 0),
                                                sqlite3_column_int64(st, 1)};
            sqlite3_finalize(st);
        }
        self->rolled_known = true;
    }
    int64_t bucket = ts_ns - ts_ns % (60 * TS_NS_PER_S);
    return bucket < self->rolled.bucket_ns ||
           (bucket == self->rolled.bucket_ns && host_id < self->rolled.next_host);
}

static int s_exec(store_t *self, const char *sql, char *err, size_t errsz)
{
    char *msg = NULL;
    if (sqlite3_exec(self->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    store_errf(err, errsz, "%s", msg ? msg : sqlite3_errmsg(self->db));
    sqlite3_free(msg);
    return -1;
}

static sqlite3_stmt *s_stmt(store_t *self, int which)
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
static int s_run(store_t *self, int which, char *err, size_t errsz)
{
    sqlite3_stmt *st = s_stmt(self, which);
    if (st && sqlite3_step(st) == SQLITE_DONE)
        return 0;
    store_errf(err, errsz, "%s", sqlite3_errmsg(self->db));
    return -1;
}

/* Applies the embedded migrations newer than PRAGMA user_version, each in
 * its own transaction together with the version bump. */
static int s_migrate(store_t *self, char *err, size_t errsz)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
        store_errf(err, errsz, "%s", sqlite3_errmsg(self->db));
        return -1;
    }
    int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    for (unsigned i = 0; i < schema_files_count; i++) {
        int v = atoi(schema_files[i].name);
        if (v <= version)
            continue;
        char bump[64], sub[256];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v);
        if (s_exec(self, "BEGIN IMMEDIATE", sub, sizeof sub) != 0 ||
            s_exec(self, schema_files[i].data, sub, sizeof sub) != 0 ||
            s_exec(self, bump, sub, sizeof sub) != 0 || s_exec(self, "COMMIT", sub, sizeof sub) != 0) {
            s_exec(self, "ROLLBACK", err, errsz);
            store_errf(err, errsz, "migration %s failed: %s", schema_files[i].name, sub);
            return -1;
        }
        log_info("aggregator: database migrated to version %d (%s)", v, schema_files[i].name);
        version = v;
    }
    return 0;
}

/* The first second after every batch stored before this process: the
 * minutes rolled up as they are stored begin there (store_rollback moves
 * it past what a failed group may have left). */
static int s_first_fresh(store_t *self, int64_t *fresh_from)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db, "SELECT max(second) FROM batches", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    *fresh_from = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL
                      ? (sqlite3_column_int64(st, 0) + 1) * TS_NS_PER_S
                      : INT64_MIN;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Process-wide: no allocation statistics, whose global mutex every
 * allocation of every connection took (13% of the writer's time). */
static void s_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

store_t *store_open(const char *path, bool writer, char *err, size_t errsz)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, s_configure);
    store_t *self = calloc(1, sizeof *self);
    if (!self || (writer && (!(self->hosts = strmap_new()) || !(self->names = strmap_new())))) {
        store_errf(err, errsz, "out of memory");
        if (self)
            strmap_destroy(&self->hosts);
        free(self);
        return NULL;
    }
    self->writer = writer;
    self->max_hosts = STORE_MAX_HOSTS_DEFAULT;
    self->nhosts = -1;
    self->evicted_until = INT64_MIN;
    int flags = writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(path, &self->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        store_errf(err, errsz, "cannot open database %s: %s (check the path and its directory's "
              "permissions)", path, self->db ? sqlite3_errmsg(self->db) : "out of memory");
        store_close(&self);
        return NULL;
    }
    sqlite3_busy_timeout(self->db, 5000);
    char sub[256];
    /* FULL: an acknowledged batch survives a power loss, not only a crash. */
    if (writer && (s_exec(self, "PRAGMA journal_mode = WAL", sub, sizeof sub) != 0 ||
                   s_exec(self, "PRAGMA synchronous = FULL", sub, sizeof sub) != 0 ||
                   /* Each message is stored in a savepoint: its journal in
                    * memory, not in a temporary file (900 MB/s of writes). */
                   s_exec(self, "PRAGMA temp_store = MEMORY", sub, sizeof sub) != 0 ||
                   /* 16 MiB: the pages a writer touches again are few (the
                    * right edges of the tables, the hosts rows); a larger
                    * cache only grows, a page fault per new page, and 256
                    * MiB made a fleet's cold start 15% slower
                    * (bench_ingest.sh: 0.65x raw SQLite, 0.77x at 16 MiB). */
                   s_exec(self, "PRAGMA cache_size = -16384", sub, sizeof sub) != 0 ||
                   s_migrate(self, sub, sizeof sub) != 0)) {
        store_errf(err, errsz, "cannot prepare database %s: %s", path, sub);
        store_close(&self);
        return NULL;
    }
    if (writer && s_first_fresh(self, &self->fresh_from) != 0) {
        store_errf(err, errsz, "cannot read database %s: %s", path, sqlite3_errmsg(self->db));
        store_close(&self);
        return NULL;
    }
    return self;
}

static void s_free_cache(void *value)
{
    host_cache_t *c = value;
    idmap_free(&c->ids);
    store_minute_free(&c->minute);
    free(c);
}

void store_close(store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_t *self = *self_p;
    char err[256];
    if (self->npending && store_flush_hosts(self, err, sizeof err) != 0)
        log_error("aggregator: the hosts' latest state is not saved: %s", err);
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(self->stmt[i]);
    if (self->hosts)
        strmap_clear(self->hosts, s_free_cache);
    strmap_destroy(&self->hosts);
    if (self->names)
        strmap_clear(self->names, free);
    strmap_destroy(&self->names);
    free(self->pending);
    sqlite3_close(self->db);
    free(self->blob);
    free(self->profile);
    free(self);
    *self_p = NULL;
}

int store_begin(store_t *self, char *err, size_t errsz)
{
    return s_exec(self, "BEGIN IMMEDIATE", err, errsz);
}

/* Empties the names cache when it may hold a name whose row is being
 * rolled back. */
static void s_forget_names(store_t *self)
{
    if (!self->name_inserted)
        return;
    strmap_clear(self->names, free);
    self->name_inserted = false;
}

int store_commit(store_t *self, char *err, size_t errsz)
{
    if (s_exec(self, "COMMIT", err, errsz) == 0) {
        self->name_inserted = false;
        return 0;
    }
    store_rollback(self);
    return -1;
}

void store_rollback(store_t *self)
{
    char err[256];
    if (sqlite3_get_autocommit(self->db) == 0)
        s_exec(self, "ROLLBACK", err, sizeof err);
    /* The caches may hold definitions, or rollup progress, that were just
     * rolled back. */
    strmap_clear(self->hosts, s_free_cache);
    s_forget_names(self);
    self->npending = 0;
    self->rolled_known = false;
    self->nhosts = -1; /* a host inserted by the group is gone again */
    /* The minutes folded so far went with the caches; a batch of them may
     * be stored already. */
    if (self->latest_ts && self->latest_ts + 1 > self->fresh_from)
        self->fresh_from = self->latest_ts + 1;
}

/* --- writing ---------------------------------------------------------------- */

/* A failed statement: a message that breaks a constraint (a drop or burst
 * row another message already stored, say) is refused alone; anything else
 * is the database's own failure (I/O, a full disk, a lock), which abandons
 * the group. */
static store_rc_t s_db_fail(store_t *self, char *err, size_t errsz)
{
    int code = sqlite3_errcode(self->db);
    bool message = code == SQLITE_CONSTRAINT || code == SQLITE_MISMATCH || code == SQLITE_TOOBIG ||
                   code == SQLITE_RANGE;
    store_errf(err, errsz, "%s: %s", message ? "refused by the database" : "database",
               sqlite3_errmsg(self->db));
    return message ? STORE_INVALID : STORE_ERROR;
}

/* Whether a mapped wire id is defined as d defines it. */
static bool s_alike(const idmap_entry_t *e, const series_def_t *d)
{
    return e->layer == d->layer && e->kind == d->kind && e->overlap == d->overlap;
}

/* Maps wire id `local` of c to a series. 0, or -1 out of range or memory. */
static int s_map(host_cache_t *c, uint32_t local, int64_t series_id, layer_t layer, kind_t kind,
                 bool overlap)
{
    idmap_entry_t e = {series_id, 0, local, (uint8_t)layer, (uint8_t)kind, overlap, false};
    return local < MAX_LOCAL_ID && idmap_put(&c->ids, &e) ? 0 : -1;
}

/* Fills c->ids from a stored map (n records at p). 0, -1 without memory or
 * on a wire id out of range. */
static int s_decode_ids(host_cache_t *c, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++, p += ID_RECORD) {
        if (s_map(c, (uint32_t)store_get_le(p, 4), (int64_t)store_get_le(p + 8, 8), (layer_t)p[4],
                  (kind_t)p[5], p[6] != 0) != 0)
            return -1;
    }
    return 0;
}

/* Fills c->ids from the stored map of c's incarnation (or, for data from
 * before migration 007, its series_ids rows). 0, -1 on a database error. */
static int s_load_ids(store_t *self, host_cache_t *c)
{
    sqlite3_stmt *st = s_stmt(self, ST_LOAD_IDS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, (int64_t)c->incarnation);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = s_decode_ids(c, sqlite3_column_blob(st, 0),
                          (size_t)sqlite3_column_bytes(st, 0) / ID_RECORD);
        sqlite3_reset(st);
        return rc;
    }
    if (rc != SQLITE_DONE || !(st = s_stmt(self, ST_LOAD_OLD_IDS)))
        return -1;
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, (int64_t)c->incarnation);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (s_map(c, (uint32_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                  layer_from_name((const char *)sqlite3_column_text(st, 3)),
                  kind_from_name((const char *)sqlite3_column_text(st, 2)),
                  sqlite3_column_int(st, 4) != 0) != 0)
            return -1;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Puts c on the list of hosts whose row has updates waiting. */
static store_rc_t s_list_pending(store_t *self, host_cache_t *c, char *err, size_t errsz)
{
    if (c->listed)
        return STORE_OK;
    host_cache_t **grown =
        grow(self->pending, self->npending + 1, &self->cappending, sizeof *grown, 1024);
    if (!grown) {
        store_errf(err, errsz, "out of memory");
        return STORE_ERROR;
    }
    self->pending = grown;
    self->pending[self->npending++] = c;
    c->listed = true;
    return STORE_OK;
}

/* Whether a host not cached may be stored: when it is in the database
 * already, or there is room for one more (--max-hosts). */
static store_rc_t s_admit(store_t *self, const char *name, char *err, size_t errsz)
{
    sqlite3_stmt *st;
    if (self->nhosts < 0) {
        if (!(st = s_stmt(self, ST_COUNT_HOSTS)) || sqlite3_step(st) != SQLITE_ROW)
            return s_db_fail(self, err, errsz);
        self->nhosts = sqlite3_column_int64(st, 0);
        self->max_host_id = sqlite3_column_int64(st, 1);
        sqlite3_reset(st);
    }
    if (self->nhosts < self->max_hosts)
        return STORE_OK;
    if (!(st = s_stmt(self, ST_HOST_FIND)))
        return s_db_fail(self, err, errsz);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    if (rc != SQLITE_DONE)
        return s_db_fail(self, err, errsz);
    store_errf(err, errsz, "the database holds %lld hosts, the most --max-hosts allows; host %s "
               "is new and refused (raise --max-hosts)", (long long)self->nhosts, name);
    self->last_limit = STORE_LIMIT_HOSTS;
    return STORE_OVER_LIMIT;
}

/* The host's cache into *c_p. A message from another run than the cached
 * one (or the first since the cache was cleared) upserts the host row and
 * (re)loads the wire-id map. */
static store_rc_t s_host(store_t *self, const msg_t *msg, int64_t received_ns, host_cache_t **c_p,
                         char *err, size_t errsz)
{
    host_cache_t *c = *c_p = strmap_get(self->hosts, msg->host);
    /* A run already known: its row waits for the flush (s_seen). */
    if (c && c->loaded && c->incarnation == msg->incarnation)
        return STORE_OK;
    store_rc_t rc = c ? STORE_OK : s_admit(self, msg->host, err, errsz);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = s_stmt(self, ST_HOST_UPSERT);
    if (!st)
        return s_db_fail(self, err, errsz);
    sqlite3_bind_text(st, 1, msg->host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, msg->boot_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, received_ns);
    sqlite3_bind_int64(st, 4, (int64_t)msg->incarnation);
    sqlite3_bind_int64(st, 5, (int64_t)msg->seq);
    if (sqlite3_step(st) != SQLITE_ROW)
        return s_db_fail(self, err, errsz);
    int64_t host_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (host_id > self->max_host_id) { /* a new row (ids only grow) */
        self->max_host_id = host_id;
        self->nhosts++;
        self->host_inserted = true;
    }
    if (c)
        c->seen = false; /* the row has just been given this message's */
    else {
        if (!(c = calloc(1, sizeof *c)) || strmap_put(self->hosts, msg->host, c) != 0) {
            free(c);
            store_errf(err, errsz, "out of memory");
            return STORE_ERROR;
        }
        /* A cache evicted earlier may have taken a partly folded minute
         * with it: from the next minute on, folds are whole again. */
        c->fresh_from = self->fresh_from > self->evicted_until ? self->fresh_from
                                                               : self->evicted_until;
    }
    *c_p = c;
    c->host_id = host_id;
    c->incarnation = msg->incarnation;
    idmap_clear(&c->ids);
    if (!(st = s_stmt(self, ST_COUNT_SERIES)))
        return s_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, host_id);
    c->nseries = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    c->fresh = c->nseries == 0;
    /* A statement left on a row keeps a read snapshot open after COMMIT,
     * and no checkpoint can then get past it: the WAL would grow forever. */
    sqlite3_reset(st);
    c->loaded = s_load_ids(self, c) == 0;
    return c->loaded ? STORE_OK : s_db_fail(self, err, errsz);
}

/* The series_names id of d's name into *id, inserting the name when the
 * fleet has not used it before. The validator admits no control
 * characters, so the key's separators cannot occur inside a field. */
static store_rc_t s_name_id(store_t *self, const series_def_t *d, int64_t *id, char *err,
                            size_t errsz)
{
    char key[3 * 256 + 3], *k = key;
    for (const char *const *field = (const char *const[]){d->source, d->device, d->name, NULL};
         *field; field++) {
        size_t n = strnlen(*field, 255); /* the validator's bound */
        memcpy(k, *field, n);
        k += n;
        *k++ = '\x1f'; /* snprintf here was 2% of a fleet's first definitions */
    }
    k[-1] = '\0';
    const int64_t *cached = strmap_get(self->names, key);
    if (cached) {
        *id = *cached;
        return STORE_OK;
    }
    *id = 0;
    for (int which = ST_NAME_FIND; which <= ST_NAME_INSERT && !*id; which++) {
        sqlite3_stmt *st = s_stmt(self, which);
        if (!st)
            return s_db_fail(self, err, errsz);
        sqlite3_bind_text(st, 1, d->source, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d->device, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, d->name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        else if (rc == SQLITE_DONE && which == ST_NAME_INSERT) {
            *id = sqlite3_last_insert_rowid(self->db);
            self->name_inserted = true;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return s_db_fail(self, err, errsz);
    }
    /* Only a cache: a fleet of hostile names empties it rather than growing it. */
    if (strmap_size(self->names) >= NAMES_CACHED)
        strmap_clear(self->names, free);
    int64_t *value = malloc(sizeof *value);
    if (!value || strmap_put(self->names, key, value) != 0) {
        free(value);
        store_errf(err, errsz, "out of memory");
        return STORE_ERROR;
    }
    *value = *id;
    return STORE_OK;
}

static store_rc_t s_define(store_t *self, host_cache_t *c, const series_def_t *d, char *err,
                           size_t errsz)
{
    if (c->nseries >= STORE_MAX_SERIES_PER_HOST) {
        store_errf(err, errsz, "host has %d series, the most one host may define; refusing "
                   "%s/%s/%s (a collector defines a few hundred)", STORE_MAX_SERIES_PER_HOST,
                   d->source, d->device, d->name);
        self->last_limit = STORE_LIMIT_SERIES;
        return STORE_OVER_LIMIT;
    }
    /* Definitions ride along until a batch carrying them is acknowledged:
     * one this run has already given, alike, changes nothing. */
    const idmap_entry_t *known = idmap_find(&c->ids, d->id);
    if (known && s_alike(known, d) && !d->owner[0])
        return STORE_OK;
    int64_t name_id, series_id = 0;
    store_rc_t named = s_name_id(self, d, &name_id, err, errsz);
    if (named != STORE_OK)
        return named;
    /* A series the host has already defined alike needs no write. A host
     * without series when it was loaded (its first run) needs no lookup,
     * and a plain insert: an upsert's RETURNING costs a temporary table
     * per row, which made a fleet's first definitions 3x slower. */
    const int steps[2][2] = {{ST_SERIES_FIND, ST_SERIES_UPSERT}, {ST_SERIES_INSERT, ST_SERIES_UPSERT}};
    for (int step = 0; step < 2 && !series_id; step++) {
        int which = steps[c->fresh][step];
        sqlite3_stmt *st = s_stmt(self, which);
        if (!st)
            return s_db_fail(self, err, errsz);
        sqlite3_bind_int64(st, 1, c->host_id);
        sqlite3_bind_int64(st, 2, name_id);
        sqlite3_bind_text(st, 3, kind_name(d->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, layer_name(d->layer), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, d->overlap);
        sqlite3_bind_text(st, 6, d->owner, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            series_id = sqlite3_column_int64(st, 0);
        else if (rc == SQLITE_DONE && which == ST_SERIES_INSERT && sqlite3_changes(self->db))
            series_id = sqlite3_last_insert_rowid(self->db);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && (which == ST_SERIES_UPSERT || rc != SQLITE_DONE))
            return s_db_fail(self, err, errsz);
    }
    if (!known)
        c->nseries++; /* an upper bound: a redefinition may reuse a row */
    if (s_map(c, d->id, series_id, d->layer, d->kind, d->overlap) != 0) {
        store_errf(err, errsz, "out of memory");
        return STORE_ERROR;
    }
    c->dirty = true;
    return STORE_OK;
}


/* Grows self->blob to hold `need` bytes. 0, or -1 when out of memory. */
static int s_blob(store_t *self, size_t need)
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

/* Checks every sample against the definitions and packs them into
 * self->blob (STORE_PACK_VARINT, self->bloblen bytes). */
static store_rc_t s_pack(store_t *self, host_cache_t *c, const batch_t *b, char *err,
                         size_t errsz)
{
    if (s_blob(self, b->nsamples * STORE_SAMPLE_MAX + 1) != 0) {
        store_errf(err, errsz, "out of memory packing %zu samples", b->nsamples);
        return STORE_ERROR;
    }
    unsigned char *out = self->blob;
    uint32_t prev = 0;
    for (size_t i = 0; i < b->nsamples; i++) {
        uint32_t local = b->series[i];
        const idmap_entry_t *info = idmap_find(&c->ids, local);
        if (!info) {
            store_errf(err, errsz, "sample %zu refers to undefined series id %u", i, local);
            return STORE_NEED_DEFS;
        }
        if (info->kind == KIND_COUNTER && b->deltas[i] < 0) {
            store_errf(err, errsz, "counter series %u has a negative delta %lld", local,
                  (long long)b->deltas[i]);
            return STORE_INVALID;
        }
        store_sample_t smp = {(uint32_t)info->series_id, b->flags[i], b->values[i], b->deltas[i]};
        out = store_pack(out, &prev, &smp);
    }
    self->bloblen = (size_t)(out - self->blob);
    return STORE_OK;
}

/* Inserts the batch row (self->blob holds its samples); STORE_DUPLICATE
 * when it is a resend. *id receives its rowid. */
static store_rc_t s_insert_batch(store_t *self, host_cache_t *c, const msg_t *msg,
                                 int64_t received_ns, int64_t *id, char *err, size_t errsz)
{
    const batch_t *b = &msg->batch;
    sqlite3_stmt *st = s_stmt(self, ST_BATCH);
    if (!st)
        return s_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, (int64_t)msg->incarnation);
    sqlite3_bind_int64(st, 3, (int64_t)msg->seq);
    sqlite3_bind_int64(st, 4, b->ts_ns);
    sqlite3_bind_int64(st, 5, b->prev_ts_ns);
    sqlite3_bind_int64(st, 6, received_ns);
    sqlite3_bind_int64(st, 7, (int64_t)b->nsamples);
    sqlite3_bind_blob(st, 8, self->blob, (int)self->bloblen, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return s_db_fail(self, err, errsz);
    if (sqlite3_changes(self->db) == 0)
        return STORE_DUPLICATE;
    *id = sqlite3_last_insert_rowid(self->db);
    return STORE_OK;
}

/* Folds a stored batch (self->blob, still) into its host's minute, or
 * marks it late when its minute is rolled up already. Last of a batch's
 * steps: the fold lives in memory, and only the whole group's rollback
 * (which drops it with the caches) can undo it now. */
static store_rc_t s_fold_batch(store_t *self, host_cache_t *c, const batch_t *b, int64_t id,
                               char *err, size_t errsz)
{
    if (b->ts_ns > self->latest_ts)
        self->latest_ts = b->ts_ns;
    if (!s_behind_rollups(self, c->host_id, b->ts_ns))
        return store_minute_add(self, &c->minute, c->host_id, id, b->ts_ns, self->blob,
                                self->bloblen, c->fresh_from, err, errsz) == 0 ? STORE_OK
                                                                                  : STORE_ERROR;
    /* Its minute is rolled up already: the upkeep merges it in. */
    sqlite3_stmt *st = s_stmt(self, ST_LATE);
    if (!st)
        return s_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, id);
    return sqlite3_step(st) == SQLITE_DONE ? STORE_OK : s_db_fail(self, err, errsz);
}

/* Gives drop deltas and setting changes their own rows. */
static store_rc_t s_insert_events(store_t *self, host_cache_t *c, const batch_t *b, char *err,
                                  size_t errsz)
{
    for (size_t i = 0; i < b->nsamples; i++) {
        idmap_entry_t *info = idmap_find(&c->ids, b->series[i]); /* s_pack checked it */
        bool reset = (b->flags[i] & SAMPLE_RESET) != 0;
        sqlite3_stmt *st;
        if (info->kind == KIND_COUNTER && layer_is_drop(info->layer) && (b->deltas[i] || reset)) {
            if (!(st = s_stmt(self, ST_DROP)))
                return s_db_fail(self, err, errsz);
            sqlite3_bind_int64(st, 1, c->host_id);
            sqlite3_bind_text(st, 2, layer_name(info->layer), -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, b->ts_ns);
            sqlite3_bind_int64(st, 4, info->series_id);
            sqlite3_bind_int64(st, 5, b->prev_ts_ns);
            sqlite3_bind_int64(st, 6, b->deltas[i]);
            sqlite3_bind_int(st, 7, reset);
            sqlite3_bind_int(st, 8, info->overlap);
        } else if (info->kind == KIND_SETTING) {
            /* Settings are sent in every full batch and rarely change. */
            if (info->setting_known && info->setting == (int64_t)b->values[i])
                continue;
            info->setting_known = true;
            info->setting = (int64_t)b->values[i];
            if (!(st = s_stmt(self, ST_SETTING)))
                return s_db_fail(self, err, errsz);
            sqlite3_bind_int64(st, 1, c->host_id);
            sqlite3_bind_int64(st, 2, info->series_id);
            sqlite3_bind_int64(st, 3, b->ts_ns);
            sqlite3_bind_int64(st, 4, (int64_t)b->values[i]);
        } else {
            continue;
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            return s_db_fail(self, err, errsz);
    }
    return STORE_OK;
}

static store_rc_t s_insert_burst(store_t *self, const host_cache_t *c, const burst_msg_t *b,
                                 const clock_msg_t *clock, char *err, size_t errsz)
{
    unsigned char drops[LAYER_COUNT * 8];
    uint64_t total = 0;
    for (int l = 0; l < LAYER_COUNT; l++) {
        store_put_le(drops + 8 * l, b->drops[l], 8);
        total += b->drops[l];
    }
    /* Not in self->blob, which holds the batch's samples until its fold. */
    uint32_t *grown = grow(self->profile, b->nprofile, &self->capprofile, sizeof *grown, 256);
    if (!grown) {
        store_errf(err, errsz, "out of memory packing a %zu-tick profile", b->nprofile);
        return STORE_ERROR;
    }
    self->profile = grown;
    for (size_t i = 0; i < b->nprofile; i++)
        store_put_le((unsigned char *)(self->profile + i), b->profile[i], 4);
    sqlite3_stmt *st = s_stmt(self, ST_BURST);
    if (!st)
        return s_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, b->start_ns);
    sqlite3_bind_text(st, 3, b->iface, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, b->tx ? "tx" : "rx", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, b->end_ns);
    sqlite3_bind_double(st, 6, b->peak_per_ms);
    sqlite3_bind_int64(st, 7, (int64_t)b->packets);
    sqlite3_bind_int64(st, 8, (int64_t)b->bytes);
    sqlite3_bind_int64(st, 9, (int64_t)b->threshold_per_ms);
    sqlite3_bind_int64(st, 10, (int64_t)total);
    sqlite3_bind_blob(st, 11, drops, sizeof drops, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, b->profile_start_ns);
    sqlite3_bind_int64(st, 13, b->tick_ns);
    sqlite3_bind_blob(st, 14, self->profile, (int)(b->nprofile * 4), SQLITE_STATIC);
    sqlite3_bind_int(st, 15, b->profile_complete);
    correlate_burst_t corrected = correlate_burst(b, clock, 0, 0);
    sqlite3_bind_int64(st, 16, corrected.start_ns);
    sqlite3_bind_int64(st, 17, corrected.uncertainty_ns);
    return sqlite3_step(st) == SQLITE_DONE ? STORE_OK : s_db_fail(self, err, errsz);
}

/* Keeps the host's spool losses and clock as of this batch for the next
 * flush (a replayed older batch does not overwrite a newer clock). */
static store_rc_t s_update_delivery(store_t *self, host_cache_t *c, const batch_t *b, char *err,
                                    size_t errsz)
{
    if (c->delivery && b->ts_ns < c->clock_ts_ns)
        return STORE_OK;
    if (!c->delivery || b->spool_dropped_messages > c->spool_messages)
        c->spool_messages = b->spool_dropped_messages;
    if (!c->delivery || b->spool_dropped_samples > c->spool_samples)
        c->spool_samples = b->spool_dropped_samples;
    if (!c->delivery || b->spool_rejected_messages > c->rejected_messages)
        c->rejected_messages = b->spool_rejected_messages;
    if (!c->delivery || b->spool_rejected_samples > c->rejected_samples)
        c->rejected_samples = b->spool_rejected_samples;
    c->clock_ts_ns = b->ts_ns;
    c->clock = b->clock;
    c->delivery = true;
    return s_list_pending(self, c, err, errsz);
}

static int s_flush_host(store_t *self, host_cache_t *c)
{
    sqlite3_stmt *st;
    if (c->seen) {
        if (!(st = s_stmt(self, ST_HOST_SEEN)))
            return -1;
        sqlite3_bind_int64(st, 1, c->host_id);
        sqlite3_bind_int64(st, 2, c->last_seen_ns);
        sqlite3_bind_int64(st, 3, (int64_t)c->incarnation);
        sqlite3_bind_int64(st, 4, (int64_t)c->last_seq);
        if (sqlite3_step(st) != SQLITE_DONE)
            return -1;
        c->seen = false;
    }
    if (c->delivery) {
        if (!(st = s_stmt(self, ST_HOST_DELIVERY)))
            return -1;
        sqlite3_bind_int64(st, 1, c->host_id);
        sqlite3_bind_int64(st, 2, (int64_t)c->spool_messages);
        sqlite3_bind_int64(st, 3, (int64_t)c->spool_samples);
        sqlite3_bind_int64(st, 4, c->clock_ts_ns);
        sqlite3_bind_int(st, 5, c->clock.offset_valid);
        sqlite3_bind_int64(st, 6, c->clock.offset_ns);
        sqlite3_bind_int64(st, 7, c->clock.rtt_ns);
        sqlite3_bind_int(st, 8, c->clock.synced);
        sqlite3_bind_int64(st, 9, c->clock.maxerror_ns);
        sqlite3_bind_int64(st, 10, c->clock.esterror_ns);
        sqlite3_bind_int64(st, 11, (int64_t)c->rejected_messages);
        sqlite3_bind_int64(st, 12, (int64_t)c->rejected_samples);
        if (sqlite3_step(st) != SQLITE_DONE)
            return -1;
        c->delivery = false;
    }
    c->listed = false;
    return 0;
}

int store_flush_hosts(store_t *self, char *err, size_t errsz)
{
    if (!self->npending)
        return 0;
    if (store_begin(self, err, errsz) != 0)
        return -1;
    for (size_t i = 0; i < self->npending; i++)
        if (s_flush_host(self, self->pending[i]) != 0) {
            store_errf(err, errsz, "database: %s", sqlite3_errmsg(self->db));
            store_rollback(self);
            return -1;
        }
    if (store_commit(self, err, errsz) != 0)
        return -1;
    self->npending = 0;
    return 0;
}

static uint64_t s_fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h;
}

/* FNV-1a over a batch's definitions (strings with their terminators, so
 * that fields cannot run into each other), never 0. */
static int64_t s_defs_hash(const batch_t *b)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < b->ndefs; i++) {
        const series_def_t *d = &b->defs[i];
        int32_t ints[4] = {(int32_t)d->id, d->kind, d->layer, d->overlap};
        h = s_fnv(h, ints, sizeof ints);
        for (const char *const *str = (const char *const[]){d->source, d->device, d->name, d->owner, NULL};
             *str; str++)
            h = s_fnv(h, *str, strlen(*str) + 1);
    }
    return (int64_t)(h ? h : 1);
}

/* A run of this host with the same first definitions: its map, when it
 * holds exactly this batch's ids, becomes c's. True when it did. */
static bool s_reuse_ids(store_t *self, host_cache_t *c, const batch_t *b, int64_t hash)
{
    sqlite3_stmt *st = s_stmt(self, ST_REUSE_IDS);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, hash);
    bool ok = sqlite3_step(st) == SQLITE_ROW &&
              (size_t)sqlite3_column_bytes(st, 0) == b->ndefs * ID_RECORD &&
              s_decode_ids(c, sqlite3_column_blob(st, 0), b->ndefs) == 0;
    sqlite3_reset(st);
    for (size_t i = 0; ok && i < b->ndefs; i++) {
        const idmap_entry_t *e = idmap_find(&c->ids, b->defs[i].id);
        ok = e && s_alike(e, &b->defs[i]);
    }
    if (!ok) /* not a match: start from nothing again */
        idmap_clear(&c->ids);
    return ok;
}

/* Saves c's wire-id map as its incarnation's one row. */
static store_rc_t s_save_ids(store_t *self, const host_cache_t *c, int64_t defs_hash, char *err,
                             size_t errsz)
{
    size_t n = c->ids.n;
    if (s_blob(self, n * ID_RECORD) != 0) {
        store_errf(err, errsz, "out of memory");
        return STORE_ERROR;
    }
    unsigned char *p = self->blob;
    for (size_t i = 0; i < n; i++) {
        const idmap_entry_t *e = &c->ids.e[i];
        store_put_le(p, e->wire, 4);
        p[4] = e->layer;
        p[5] = e->kind;
        p[6] = e->overlap;
        p[7] = 0;
        store_put_le(p + 8, (uint64_t)e->series_id, 8);
        p += ID_RECORD;
    }
    sqlite3_stmt *st = s_stmt(self, ST_SAVE_IDS);
    if (!st)
        return s_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, (int64_t)c->incarnation);
    sqlite3_bind_blob(st, 3, self->blob, (int)(n * ID_RECORD), SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, defs_hash);
    return sqlite3_step(st) == SQLITE_DONE ? STORE_OK : s_db_fail(self, err, errsz);
}

static store_rc_t s_store_batch(store_t *self, host_cache_t *c, const msg_t *msg,
                                int64_t received_ns, size_t *samples, char *err, size_t errsz)
{
    const batch_t *b = &msg->batch;
    store_rc_t rc = STORE_OK;
    /* The first definitions of a run: a restarted collector's are usually
     * those of its previous run, whose map then serves as it is. */
    int64_t hash = b->ndefs && c->ids.n == 0 ? s_defs_hash(b) : 0;
    bool reused = hash && !c->fresh && s_reuse_ids(self, c, b, hash);
    for (size_t i = 0; i < b->ndefs && rc == STORE_OK && !reused; i++)
        rc = s_define(self, c, &b->defs[i], err, errsz);
    /* Saved with the hash when it is exactly the first definitions; a map
     * that grew later is saved without (it no longer matches them). */
    if (rc == STORE_OK && (hash || c->dirty))
        rc = s_save_ids(self, c, hash, err, errsz);
    c->dirty = false;
    if (rc == STORE_OK)
        rc = s_pack(self, c, b, err, errsz);
    int64_t id = 0;
    if (rc == STORE_OK)
        rc = s_insert_batch(self, c, msg, received_ns, &id, err, errsz);
    if (rc == STORE_OK)
        rc = s_insert_events(self, c, b, err, errsz);
    for (size_t i = 0; i < b->nbursts && rc == STORE_OK; i++)
        rc = s_insert_burst(self, c, &b->bursts[i], &b->clock, err, errsz);
    if (rc == STORE_OK)
        rc = s_fold_batch(self, c, b, id, err, errsz);
    if (rc == STORE_OK)
        rc = s_update_delivery(self, c, b, err, errsz);
    if (rc == STORE_OK)
        *samples = b->nsamples;
    return rc;
}

static store_rc_t s_store_hello(store_t *self, const host_cache_t *c, const hello_t *h, char *err,
                                size_t errsz)
{
    sqlite3_stmt *st = s_stmt(self, ST_HELLO);
    if (!st)
        return s_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_text(st, 2, h->backend, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, h->kernel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, h->collector_version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, h->ncpus);
    sqlite3_bind_int64(st, 6, h->interval_ns);
    sqlite3_bind_text(st, 7, h->backend_note ? h->backend_note : "", -1, SQLITE_STATIC);
    return sqlite3_step(st) == SQLITE_DONE ? STORE_OK : s_db_fail(self, err, errsz);
}

/* A message stored: the host was seen (written by the next flush). */
static store_rc_t s_seen(store_t *self, host_cache_t *c, const msg_t *msg, int64_t received_ns,
                         char *err, size_t errsz)
{
    if (!c->seen || received_ns > c->last_seen_ns)
        c->last_seen_ns = received_ns;
    c->used_mono = ts_mono_ns();
    c->last_seq = msg->seq;
    c->seen = true;
    return s_list_pending(self, c, err, errsz);
}

store_rc_t store_message(store_t *self, const msg_t *msg, int64_t received_ns, size_t *samples,
                         char *err, size_t errsz)
{
    *samples = 0;
    err[0] = '\0';
    self->host_inserted = false;
    if (s_run(self, ST_SAVEPOINT, err, errsz) != 0)
        return STORE_ERROR;
    host_cache_t *c;
    store_rc_t rc = s_host(self, msg, received_ns, &c, err, errsz);
    if (rc == STORE_OK && msg->type == MSG_TYPE_HELLO)
        rc = s_store_hello(self, c, &msg->hello, err, errsz);
    else if (rc == STORE_OK && msg->type == MSG_TYPE_BATCH)
        rc = s_store_batch(self, c, msg, received_ns, samples, err, errsz);
    char sub[256];
    if (rc == STORE_OK) {
        if (s_run(self, ST_RELEASE, sub, sizeof sub) == 0)
            return s_seen(self, c, msg, received_ns, err, errsz);
        store_errf(err, errsz, "database: %s", sub);
        return STORE_ERROR;
    }
    /* Undo this message only; the rest of the transaction stands. */
    s_run(self, ST_ROLLBACK_TO, sub, sizeof sub);
    s_run(self, ST_RELEASE, sub, sizeof sub);
    s_forget_names(self);
    if (c)
        c->loaded = false;
    if (self->host_inserted)
        self->nhosts = -1; /* its row went with the rest: count again */
    *samples = 0;
    return rc;
}

store_limit_t store_last_limit(const store_t *self)
{
    return self->last_limit;
}

void store_set_max_hosts(store_t *self, int64_t max_hosts)
{
    self->max_hosts = max_hosts;
}

typedef struct {
    store_t *store;
    int64_t since; /* caches unused since before this go */
} evict_t;

static bool s_keep_cache(void *ctx, void *value)
{
    evict_t *e = ctx;
    host_cache_t *c = value;
    if (c->listed || c->used_mono >= e->since)
        return true;
    /* Its minute in progress goes with it: the upkeep rolls that one up. */
    if (c->minute) {
        int64_t next = store_minute_bucket(c->minute) + 60 * TS_NS_PER_S;
        e->store->evicted_until = next > e->store->evicted_until ? next : e->store->evicted_until;
    }
    s_free_cache(c);
    return false;
}

size_t store_evict_idle(store_t *self, int64_t now_mono_ns, int64_t idle_ns)
{
    evict_t e = {self, now_mono_ns - idle_ns};
    strmap_retain(self->hosts, s_keep_cache, &e);
    return strmap_size(self->hosts);
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
