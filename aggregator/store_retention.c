/* store_retention: rollups and retention, the store's upkeep, and the
 * rollups' progress. Assumes it runs in the writer thread, a bounded step
 * at a time inside store_upkeep's transaction, so that ingest never waits
 * long:
 *  - a host's minute is rolled up as its batches are stored: every series'
 *    delta summed, its last value kept, in memory (store_minute_add), and
 *    written when the host's first batch of a later minute comes. Reading
 *    the batches back instead cost a random page per batch: at 10,000
 *    hosts the rollups fell minutes behind;
 *  - the upkeep rolls up from the batches the minutes that were not (the
 *    ones a restart cut in two, a host that stopped), once `lag` old; an
 *    hour from its minutes (step 3600). Progress is kept in rollup_state
 *    (the bucket being done, the next host), so a restart carries on where
 *    it was;
 *  - a batch that arrives for a minute already rolled up (a spool resent
 *    after an outage) is merged into the minute and the hour it belongs to
 *    (rollup_late), so their totals stay exact;
 *  - a host's ten minutes of batches rows, once rolled up, are packed into
 *    one raw block (store_raw.c): "step 0", with progress kept as the
 *    rollups' (its row in rollup_state); a late batch of a packed block is
 *    packed into it once merged (raw_late), with the block's other late
 *    ones;
 *  - batches and raw blocks older than the raw retention, and rollups,
 *    drops, bursts and gaps older than the rollup retention, are deleted a few thousand rows at a
 *    time; SQLite reuses the freed pages, so the file stops growing. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "grow.h"
#include "log.h"
#include "sat.h"
#include "store_internal.h"
#include "ts.h"

#define DELETE_CHUNK 5000

typedef struct {
    uint32_t series_id, flags;
    int64_t ts_ns;
    uint64_t value;
    int64_t delta;
} fold_rec_t;

typedef struct {
    fold_rec_t *recs;
    size_t n, cap;
} fold_t;

static void s_set_rolled(store_t *self, store_rolled_t rolled)
{
    self->rolled = rolled;
    self->rolled_known = true;
}

/* Whether a batch of host at ts lands behind the minute rollups. */
bool store_behind_rollups(store_t *self, int64_t host_id, int64_t ts_ns)
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

void store_rollups_forget(store_t *self)
{
    self->rolled_known = false;
}

/* Runs one statement with up to three integer parameters. 0, -1 + err. */
static int s_run(store_t *self, const char *sql, int64_t a, int64_t b, int64_t c, char *err,
                 size_t errsz)
{
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    int n = sqlite3_bind_parameter_count(st);
    int64_t v[3] = {a, b, c};
    for (int i = 0; i < n && i < 3; i++)
        sqlite3_bind_int64(st, i + 1, v[i]);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_errf(err, errsz, "database: %s", sqlite3_errmsg(store_db(self)));
        return -1;
    }
    return 0;
}

/* The first integer column of a one-row query, or `none`. */
static int64_t s_scalar(store_t *self, const char *sql, int64_t a, int64_t b, int64_t none)
{
    char err[256];
    sqlite3_stmt *st = store_prepare(self, sql, err, sizeof err);
    if (!st)
        return none;
    sqlite3_bind_int64(st, 1, a);
    if (sqlite3_bind_parameter_count(st) > 1)
        sqlite3_bind_int64(st, 2, b);
    int64_t v = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL
                    ? sqlite3_column_int64(st, 0)
                    : none;
    sqlite3_finalize(st);
    return v;
}

/* Makes room for one more record. 0, or -1 without memory. */
static int s_fold_room(fold_t *f)
{
    fold_rec_t *recs = grow(f->recs, f->n + 1, &f->cap, sizeof *recs, 64);
    if (!recs)
        return -1;
    f->recs = recs;
    return 0;
}

/* Adds the samples of one stored blob (batch or rollup) taken at ts. */
static int s_fold_add(fold_t *f, const void *blob, size_t len, int packing, int64_t ts)
{
    store_unpack_t u = store_unpack(blob, len, packing);
    store_sample_t s;
    while (store_unpack_next(&u, &s)) {
        if (s_fold_room(f) != 0)
            return -1;
        f->recs[f->n++] = (fold_rec_t){s.series_id, s.flags, ts, s.value, s.delta};
    }
    return 0;
}

static int s_cmp_rec(const void *a, const void *b)
{
    const fold_rec_t *x = a, *y = b;
    if (x->series_id != y->series_id)
        return x->series_id < y->series_id ? -1 : 1;
    return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

/* Folds the records into one per series (deltas summed, the last value,
 * flags or-ed) packed into *blob (STORE_PACK_VARINT, *len bytes); returns
 * their count, -1 without memory. */
static long s_fold_pack(fold_t *f, unsigned char **blob, size_t *len)
{
    if (f->n) /* recs is NULL for a late batch that sampled nothing */
        qsort(f->recs, f->n, sizeof *f->recs, s_cmp_rec);
    if (!(*blob = malloc(f->n * STORE_SAMPLE_MAX + 1)))
        return -1;
    unsigned char *p = *blob;
    uint32_t prev = 0;
    long out = 0;
    for (size_t i = 0; i < f->n;) {
        store_sample_t s = {f->recs[i].series_id, 0, 0, 0};
        for (; i < f->n && f->recs[i].series_id == s.series_id; i++) {
            s.flags |= f->recs[i].flags;
            s.value = f->recs[i].value;
            s.delta = sat_add(s.delta, f->recs[i].delta);
        }
        p = store_pack(p, &prev, &s);
        out++;
    }
    *len = (size_t)(p - *blob);
    return out;
}

/* Reads a host's rows of `sql` (host, from, to -> ts, blob) into f. */
static int s_gather(store_t *self, const char *sql, int64_t host, int64_t from, int64_t to,
                    fold_t *f, char *err, size_t errsz)
{
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, host);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (s_fold_add(f, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                       sqlite3_column_int(st, 2), sqlite3_column_int64(st, 0)) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_errf(err, errsz, "database: %s", sqlite3_errstr(rc));
        return -1;
    }
    return 0;
}

/* Writes (replacing) the rollup of one host and bucket from f. */
static int s_write_rollup(store_t *self, int64_t host, int64_t step_s, int64_t bucket, fold_t *f,
                          char *err, size_t errsz)
{
    unsigned char *blob;
    size_t len;
    long n = s_fold_pack(f, &blob, &len);
    if (n < 0) {
        store_errf(err, errsz, "out of memory");
        return -1;
    }
    sqlite3_stmt *st = store_prepare(self,
                                 "INSERT OR REPLACE INTO rollups (host_id, step_s, ts_ns, "
                                 "nsamples, samples, packing) VALUES (?1, ?2, ?3, ?4, ?5, 1)",
                                 err, errsz);
    int rc = SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, host);
        sqlite3_bind_int64(st, 2, step_s);
        sqlite3_bind_int64(st, 3, bucket);
        sqlite3_bind_int64(st, 4, n);
        sqlite3_bind_blob(st, 5, blob, (int)len, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    free(blob);
    if (rc != SQLITE_DONE) {
        store_errf(err, errsz, "database: %s", sqlite3_errmsg(store_db(self)));
        return -1;
    }
    return 0;
}

/* The source of a rollup of `step_s`: batches for minutes, minutes for hours. */
static const char *s_source_sql(int64_t step_s)
{
    return step_s == 60
               ? STORE_SECONDS("?2", "?3 - 1") "SELECT ts_ns, samples, packing FROM batches WHERE "
                                               "second IN sec AND host_id = ?1 AND ts_ns >= ?2 AND "
                                               "ts_ns < ?3"
               : "SELECT ts_ns, samples, packing FROM rollups WHERE host_id = ?1 AND step_s = 60 "
                 "AND ts_ns >= ?2 AND ts_ns < ?3";
}

/* Whether host's minute at bucket has a rollup row. */
static bool s_has_minute(store_t *self, int64_t host, int64_t bucket)
{
    return s_scalar(self, "SELECT count(*) FROM rollups WHERE host_id = ?1 AND step_s = 60 AND "
                          "ts_ns = ?2", host, bucket, 0) > 0;
}

/* Rolls up one host's bucket (nothing when it has no data there). */
static int s_roll_host(store_t *self, int64_t step_s, int64_t host, int64_t bucket, char *err,
                       size_t errsz)
{
    if (step_s == 0) { /* a raw block, packed */
        long packed = store_raw_pack(self, host, bucket, err, errsz);
        if (packed > 0)
            self->packed_batches += packed;
        return packed < 0 ? -1 : 0;
    }
    if (step_s == 60 && s_has_minute(self, host, bucket))
        return 0; /* rolled up as it was stored */
    fold_t f = {0};
    int64_t step_ns = step_s * TS_NS_PER_S;
    int rc = s_gather(self, s_source_sql(step_s), host, bucket, bucket + step_ns, &f, err, errsz);
    if (rc == 0 && f.n)
        rc = s_write_rollup(self, host, step_s, bucket, &f, err, errsz);
    free(f.recs);
    return rc;
}

/* A bucket of step_s in ns; step 0 is the packing of raw blocks. */
static int64_t s_step_ns(int64_t step_s)
{
    return step_s ? step_s * TS_NS_PER_S : STORE_RAW_BLOCK_NS;
}

/* The first bucket of `step_s` with data at or after `from`, or -1. */
static int64_t s_next_bucket(store_t *self, int64_t step_s, int64_t from)
{
    int64_t step_ns = s_step_ns(step_s);
    int64_t ts = step_s <= 60
                     ? s_scalar(self, "SELECT min(second) * 1000000000 FROM batches WHERE second "
                                      ">= (?1 + 999999999) / 1000000000", from, 0, -1)
                     : s_scalar(self, "SELECT min(ts_ns) FROM rollups WHERE step_s = 60 AND "
                                      "ts_ns >= ?1", from, 0, -1);
    return ts < 0 ? -1 : ts - ts % step_ns;
}

/* The progress of the rollups of step_s (bucket INT64_MIN: none yet). */
static store_rolled_t s_progress(store_t *self, int64_t step_s)
{
    return (store_rolled_t){
        s_scalar(self, "SELECT bucket_ns FROM rollup_state WHERE step_s = ?1", step_s, 0, INT64_MIN),
        s_scalar(self, "SELECT next_host FROM rollup_state WHERE step_s = ?1", step_s, 0, 0)};
}

/* Whether host's bucket of step_s at ts has been rolled up already. */
static bool s_is_rolled(store_rolled_t p, int64_t step_s, int64_t host, int64_t ts)
{
    int64_t bucket = ts - ts % (step_s * TS_NS_PER_S);
    return bucket < p.bucket_ns || (bucket == p.bucket_ns && host < p.next_host);
}

/* One bounded step of the rollups of `step_s` (0: the packing of raw
 * blocks): the next hosts of the bucket in progress, once the bucket is
 * complete (`ready` ns or older). Returns the hosts done, -1 + err. */
static long s_roll_step(store_t *self, int64_t step_s, int64_t ready, int64_t deadline_mono,
                        char *err, size_t errsz)
{
    int64_t step_ns = s_step_ns(step_s);
    store_rolled_t p = s_progress(self, step_s);
    int64_t bucket = p.bucket_ns, next = p.next_host;
    if (bucket == INT64_MIN && (bucket = s_next_bucket(self, step_s, 0)) < 0)
        return 0; /* no data yet */
    if (bucket + step_ns > ready)
        return 0;
    long done = 0;
    while (ts_mono_ns() < deadline_mono) {
        int64_t host = s_scalar(self, "SELECT min(id) FROM hosts WHERE id >= ?1", next, 0, -1);
        if (host < 0) { /* the bucket is done: on to the next one with data */
            int64_t after = s_next_bucket(self, step_s, bucket + step_ns);
            /* None: every complete bucket until now is empty (data that
             * comes for them later is merged as late). */
            bucket = after >= 0 ? after : ready - ready % step_ns;
            next = 0;
            if (bucket + step_ns > ready)
                break;
            continue;
        }
        if (s_roll_host(self, step_s, host, bucket, err, errsz) != 0)
            return -1;
        next = host + 1;
        done++;
    }
    if (s_run(self, "INSERT OR REPLACE INTO rollup_state (step_s, bucket_ns, next_host) VALUES "
                    "(?1, ?2, ?3)", step_s, bucket, next, err, errsz) != 0)
        return -1;
    if (step_s == 60)
        s_set_rolled(self, (store_rolled_t){bucket, next});
    return done;
}

/* Merges one batch that came after its minute was rolled up into that
 * minute's rollup, and into its hour's when that is rolled up too. */
static int s_merge_late(store_t *self, int64_t batch_id, char *err, size_t errsz)
{
    sqlite3_stmt *st = store_prepare(
        self, "SELECT host_id, ts_ns, samples, packing FROM batches WHERE id = ?1", err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, batch_id);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        int64_t host = sqlite3_column_int64(st, 0), ts = sqlite3_column_int64(st, 1);
        for (int64_t step_s = 60; step_s <= 3600 && rc == 0; step_s *= 60) {
            int64_t bucket = ts - ts % (step_s * TS_NS_PER_S);
            if (!s_is_rolled(s_progress(self, step_s), step_s, host, ts) &&
                !(step_s == 60 && s_has_minute(self, host, bucket)))
                continue; /* not rolled up yet: it will be counted then */
            fold_t f = {0};
            rc = s_gather(self, "SELECT ts_ns, samples, packing FROM rollups WHERE host_id = ?1 AND "
                                "step_s = ?2 AND ts_ns = ?3", host, step_s, bucket, &f, err, errsz);
            if (rc == 0)
                rc = s_fold_add(&f, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2),
                                sqlite3_column_int(st, 3), ts);
            if (rc == 0)
                rc = s_write_rollup(self, host, step_s, bucket, &f, err, errsz);
            free(f.recs);
        }
        /* Its block is packed already: it is to be packed in (s_pack_lates). */
        if (rc == 0 && s_is_rolled(s_progress(self, 0), STORE_RAW_BLOCK_S, host, ts))
            rc = s_run(self, "INSERT OR IGNORE INTO raw_late (host_id, ts_ns) VALUES (?1, ?2)",
                       host, ts - ts % STORE_RAW_BLOCK_NS, 0, err, errsz);
    }
    sqlite3_finalize(st);
    return rc == 0 ? s_run(self, "DELETE FROM rollup_late WHERE batch_id = ?1", batch_id, 0, 0, err,
                           errsz)
                   : -1;
}

static long s_merge_lates(store_t *self, int64_t deadline_mono, char *err, size_t errsz)
{
    long done = 0;
    int64_t id;
    while (ts_mono_ns() < deadline_mono &&
           (id = s_scalar(self, "SELECT min(batch_id) FROM rollup_late WHERE batch_id >= ?1", 0, 0,
                          -1)) >= 0) {
        if (s_merge_late(self, id, err, errsz) != 0)
            return -1;
        done++;
    }
    return done;
}

/* Packs into their blocks the rows of blocks packed already (raw_late),
 * each block once for all its late rows. Returns the blocks done. */
static long s_pack_lates(store_t *self, int64_t deadline_mono, char *err, size_t errsz)
{
    long done = 0;
    int64_t host;
    while (ts_mono_ns() < deadline_mono &&
           (host = s_scalar(self, "SELECT host_id FROM raw_late ORDER BY host_id, ts_ns LIMIT 1",
                            0, 0, -1)) >= 0) {
        int64_t bucket = s_scalar(self, "SELECT min(ts_ns) FROM raw_late WHERE host_id = ?1", host,
                                  0, INT64_MIN);
        long packed = store_raw_pack(self, host, bucket, err, errsz);
        if (packed < 0 || s_run(self, "DELETE FROM raw_late WHERE host_id = ?1 AND ts_ns = ?2",
                                host, bucket, 0, err, errsz) != 0)
            return -1;
        self->packed_batches += (uint64_t)packed;
        done++;
    }
    return done;
}

/* Deletes the expired drops or bursts (`which` 0 or 1) of the chunk up to
 * DELETE_CHUNK rows from the oldest, first adding what they counted to
 * drops_expired or bursts_expired: the fleet's counters restart from
 * stored + expired, so an expiry never lowers them. Returns how many. */
static long s_expire_counted(store_t *self, int which, int64_t old, char *err, size_t errsz)
{
    /* They have no rowid: a chunk is what is older than its oldest time. */
    static const char *const cut_sql[] = {
        "SELECT min(?1, coalesce((SELECT ts_ns FROM drops ORDER BY ts_ns LIMIT 1 OFFSET ?2), ?1))",
        "SELECT min(?1, coalesce((SELECT start_ns FROM bursts ORDER BY start_ns LIMIT 1 OFFSET "
        "?2), ?1))"};
    static const char *const carry_sql[] = {
        "INSERT INTO drops_expired (host_id, layer, delta) SELECT host_id, layer, "
        "sum(max(delta, 0)) FROM drops WHERE ts_ns < ?1 AND overlap = 0 GROUP BY host_id, layer "
        "ON CONFLICT (host_id, layer) DO UPDATE SET delta = delta + excluded.delta",
        "INSERT INTO bursts_expired (host_id, iface, direction, n) SELECT host_id, iface, "
        "direction, count(*) FROM bursts WHERE start_ns < ?1 GROUP BY host_id, iface, direction "
        "ON CONFLICT (host_id, iface, direction) DO UPDATE SET n = n + excluded.n"};
    static const char *const delete_sql[] = {"DELETE FROM drops WHERE ts_ns < ?1",
                                             "DELETE FROM bursts WHERE start_ns < ?1"};
    int64_t cut = s_scalar(self, cut_sql[which], old, DELETE_CHUNK, INT64_MIN);
    if (cut == INT64_MIN || s_run(self, carry_sql[which], cut, 0, 0, err, errsz) != 0 ||
        s_run(self, delete_sql[which], cut, 0, 0, err, errsz) != 0)
        return cut == INT64_MIN ? 0 : -1;
    return sqlite3_changes(store_db(self));
}

/* Deletes up to DELETE_CHUNK expired rows of each kind; returns how many. */
static long s_expire(store_t *self, const store_retention_t *r, int64_t now_ns, char *err,
                     size_t errsz)
{
    /* Raw batches go only once their minute is rolled up and merged. */
    int64_t raw = now_ns - r->raw_ns, minutes = s_progress(self, 60).bucket_ns;
    int64_t raw_cut = raw < minutes ? raw : minutes;
    int64_t old = now_ns - r->rollup_ns;
    static const char *const sql[] = {
        "DELETE FROM batches WHERE id IN (SELECT id FROM batches WHERE second < ?1 / 1000000000 AND "
        "id NOT IN (SELECT batch_id FROM rollup_late) ORDER BY second LIMIT ?2)",
        /* a block once all of its ten minutes are older than the cut */
        "DELETE FROM raw_blocks WHERE id IN (SELECT id FROM raw_blocks WHERE ts_ns <= ?1 - "
        "?3 ORDER BY ts_ns LIMIT ?2)",
        "DELETE FROM rollups WHERE id IN (SELECT id FROM rollups WHERE ts_ns < ?1 ORDER BY ts_ns "
        "LIMIT ?2)",
        /* probe gaps, as long as bursts */
        "DELETE FROM gaps WHERE rowid IN (SELECT rowid FROM gaps WHERE start_ns < ?1 ORDER BY "
        "start_ns LIMIT ?2)"};
    long deleted = 0, n;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        if (s_run(self, sql[i], i < 2 ? raw_cut : old, DELETE_CHUNK, STORE_RAW_BLOCK_NS, err,
                  errsz) != 0)
            return -1;
        deleted += sqlite3_changes(store_db(self));
    }
    for (int which = 0; which < 2; which++) {
        if ((n = s_expire_counted(self, which, old, err, errsz)) < 0)
            return -1;
        deleted += n;
    }
    return deleted;
}

/* --- minutes rolled up as they are stored --------------------------------- */

struct store_minute {
    int64_t bucket; /* the minute being folded */
    bool complete;  /* it holds every batch of the host stored for that minute */
    fold_t f;       /* one record per series, by series id */
};

void store_minute_free(store_minute_t **m_p)
{
    if (!m_p || !*m_p)
        return;
    free((*m_p)->f.recs);
    free(*m_p);
    *m_p = NULL;
}

int64_t store_minute_bucket(const store_minute_t *m)
{
    return m->bucket;
}

/* Folds one stored sample into m: deltas summed, the latest value kept. */
static int s_minute_fold(store_minute_t *m, const store_sample_t *smp, int64_t ts)
{
    fold_t *f = &m->f;
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->recs[mid].series_id < smp->series_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    fold_rec_t *r = lo < f->n ? &f->recs[lo] : NULL;
    if (r && r->series_id == smp->series_id) {
        r->flags |= smp->flags;
        r->delta = sat_add(r->delta, smp->delta);
        if (ts >= r->ts_ns) {
            r->ts_ns = ts;
            r->value = smp->value;
        }
        return 0;
    }
    if (s_fold_room(f) != 0)
        return -1;
    memmove(f->recs + lo + 1, f->recs + lo, (f->n - lo) * sizeof *f->recs);
    f->recs[lo] = (fold_rec_t){smp->series_id, smp->flags, ts, smp->value, smp->delta};
    f->n++;
    return 0;
}

int store_minute_add(store_t *self, store_minute_t **m_p, int64_t host, int64_t batch_id,
                     int64_t ts_ns, const unsigned char *blob, size_t len, int64_t fresh_from,
                     char *err, size_t errsz)
{
    int64_t bucket = ts_ns - ts_ns % (60 * TS_NS_PER_S);
    store_minute_t *m = *m_p;
    if (m && bucket < m->bucket) {
        /* An older minute: already written, it takes the batch late;
         * else the upkeep rolls it up from the batches. */
        if (!s_has_minute(self, host, bucket))
            return 0;
        return s_run(self, "INSERT OR IGNORE INTO rollup_late (batch_id) VALUES (?1)", batch_id, 0,
                     0, err, errsz);
    }
    if (!m) {
        if (!(m = calloc(1, sizeof *m))) {
            store_errf(err, errsz, "out of memory");
            return -1;
        }
        m->bucket = INT64_MIN; /* begins below */
        *m_p = m;
    }
    if (bucket > m->bucket) { /* a later minute begins: the one before is done */
        if (m->complete && m->f.n && !s_is_rolled(s_progress(self, 60), 60, host, m->bucket) &&
            s_write_rollup(self, host, 60, m->bucket, &m->f, err, errsz) != 0)
            return -1;
        m->bucket = bucket;
        m->complete = bucket >= fresh_from;
        m->f.n = 0; /* its records' room is kept */
    }
    store_unpack_t u = store_unpack(blob, len, STORE_PACK_VARINT);
    store_sample_t smp;
    while (store_unpack_next(&u, &smp))
        if (s_minute_fold(m, &smp, ts_ns) != 0) {
            m->complete = false;
            store_errf(err, errsz, "out of memory");
            return -1;
        }
    return 0;
}

int64_t store_rolled_until(store_t *self, int64_t step_s)
{
    if (self->ch) /* ClickHouse packs its own columns: no step 0 */
        return step_s ? chstore_rolled_until(self->ch, step_s) : INT64_MIN;
    return s_progress(self, step_s).bucket_ns;
}

int64_t store_file_bytes(store_t *self)
{
    if (self->ch)
        return chstore_file_bytes(self->ch);
    const char *path = sqlite3_db_filename(store_db(self), "main");
    char wal[4096];
    struct stat st;
    int64_t bytes = path && stat(path, &st) == 0 ? st.st_size : 0;
    snprintf(wal, sizeof wal, "%s-wal", path ? path : "");
    return bytes + (path && stat(wal, &st) == 0 ? st.st_size : 0);
}

/* Says, every 10 s at most, how far the packing of raw blocks is while
 * it is well behind the rollups (a database from before 019 being packed,
 * or a long outage's spools). */
static void s_log_packing(store_t *self, int64_t minutes, long hosts)
{
    static int64_t said_mono;
    int64_t packed = s_progress(self, 0).bucket_ns, now = ts_mono_ns();
    if (!hosts || packed == INT64_MIN || minutes - packed < 10 * 60 * TS_NS_PER_S ||
        now - said_mono < 10 * TS_NS_PER_S)
        return;
    said_mono = now;
    char at[64];
    log_info("store: packing raw history: minutes up to %s packed, %lld min behind the "
             "rollups (%llu batches packed by this process)",
             ts_format(packed, at, sizeof at), (long long)((minutes - packed) / (60 * TS_NS_PER_S)),
             (unsigned long long)self->packed_batches);
}

long store_retention_step(store_t *self, const store_retention_t *r, int64_t now_ns,
                          int64_t deadline, char *err, size_t errsz)
{
    long done = s_merge_lates(self, deadline, err, errsz), n;
    int64_t ready = now_ns - r->lag_ns;
    if (done < 0 || (n = s_pack_lates(self, deadline, err, errsz)) < 0)
        return -1;
    done += n;
    if ((n = s_roll_step(self, 60, ready, deadline, err, errsz)) < 0)
        return -1;
    done += n;
    /* An hour is complete once its last minute is rolled up. */
    int64_t minutes = s_progress(self, 60).bucket_ns;
    if ((n = s_roll_step(self, 3600, minutes, deadline, err, errsz)) < 0)
        return -1;
    done += n;
    /* A minute's raw batches are packed once it is rolled up. */
    if ((n = s_roll_step(self, 0, minutes, deadline, err, errsz)) < 0)
        return -1;
    done += n;
    s_log_packing(self, minutes, n);
    if ((n = s_expire(self, r, now_ns, err, errsz)) < 0)
        return -1;
    return done + n;
}
