/* store_raw: raw history packed per host and ten minutes (schema/019,
 * rawpack.h), and reading it back merged with the batches rows not packed
 * yet. A batch is stored and acknowledged as a batches row, as before; the
 * upkeep packs each host's block of ten minutes into one raw_blocks row
 * once its minutes are rolled up, in the transaction that deletes the
 * rows it packed, so a crash leaves either the rows or the block, and the
 * step is simply done again. A batch that comes for a block packed
 * already (a spool resent after an outage) waits in rollup_late like any
 * late batch, and once merged its block is packed again with it
 * (raw_late). What cannot be packed (past a block's bounds, a series
 * twice in one batch) stays as batches rows, read and expired as such.
 * Calls only store_db.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "log.h"
#include "rawpack.h"
#include "store_internal.h"
#include "ts.h"

/* A block and the batches rows to add to it, as rawpack's arrays. */
typedef struct {
    rawpack_batch_t *b;
    size_t nb, capb;
    store_sample_t *s;
    size_t ns, caps;
    int64_t *ids; /* the batches rows taken: nb - ids_from of them */
    size_t ids_from, capids;
} raw_set_t;

static void s_set_free(raw_set_t *r)
{
    free(r->b);
    free(r->s);
    free(r->ids);
    *r = (raw_set_t){0};
}

/* The block of host at bucket, unpacked into *r (empty when there is
 * none). 1 found, 0 none, -1 + err on a database error, -2 + err when the
 * block does not unpack (damaged: it is never overwritten, and reads of
 * its range say so). */
static int s_load_block(store_t *self, int64_t host, int64_t bucket, raw_set_t *r, char *err,
                        size_t errsz)
{
    sqlite3_stmt *st = store_prepare(
        self, "SELECT block FROM raw_blocks WHERE host_id = ?1 AND ts_ns = ?2", err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, host);
    sqlite3_bind_int64(st, 2, bucket);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        char why[200];
        found = 1;
        if (rawpack_unpack(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), &r->b,
                           &r->nb, &r->s, &r->ns, why, sizeof why) != 0) {
            store_errf(err, errsz, "the raw block of host %lld at %lld does not unpack: %s",
                       (long long)host, (long long)bucket, why);
            found = -2;
        }
        r->capb = r->nb;
        r->caps = r->ns;
        r->ids_from = r->nb;
    } else if (rc != SQLITE_DONE) {
        store_errf(err, errsz, "database: %s", sqlite3_errmsg(store_db(self)));
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

int store_raw_has(store_t *self, int64_t host, int64_t ts_ns, int64_t incarnation, int64_t seq,
                  char *err, size_t errsz)
{
    raw_set_t r = {0};
    int found = s_load_block(self, host, ts_ns - ts_ns % STORE_RAW_BLOCK_NS, &r, err, errsz);
    int has = found == -1 ? -1 : 0; /* a damaged block holds nothing to find */
    for (size_t i = 0; found > 0 && i < r.nb && !has; i++)
        has = r.b[i].incarnation == incarnation && r.b[i].seq == seq;
    s_set_free(&r);
    return has;
}

/* Sorts a batch's n samples by series id (a block keeps them so; the wire
 * order maps to series ids in order but for a run that took an earlier
 * run's map). false when a series is there twice. */
static bool s_sort_ids(store_sample_t *s, size_t n)
{
    for (size_t i = 1; i < n; i++) { /* insertion: nearly always in order already */
        store_sample_t x = s[i];
        size_t j = i;
        for (; j > 0 && s[j - 1].series_id > x.series_id; j--)
            s[j] = s[j - 1];
        s[j] = x;
    }
    for (size_t i = 1; i < n; i++)
        if (s[i].series_id == s[i - 1].series_id)
            return false;
    return true;
}

/* Appends one batches row (id, incarnation, seq, ts, prev_ts, received,
 * samples, packing: the columns of st) to r. 0, 1 when it cannot be packed
 * (a series twice), -1 out of memory. */
static int s_add_row(raw_set_t *r, sqlite3_stmt *st)
{
    size_t len = (size_t)sqlite3_column_bytes(st, 6);
    rawpack_batch_t *b = grow(r->b, r->nb + 1, &r->capb, sizeof *b, 64);
    if (b)
        r->b = b;
    int64_t *ids = b ? grow(r->ids, r->nb - r->ids_from + 1, &r->capids, sizeof *ids, 64) : NULL;
    if (ids)
        r->ids = ids;
    /* A varint sample is 4 bytes at least, a fixed one 24: len / 4 bounds both. */
    store_sample_t *s = ids ? grow(r->s, r->ns + len / 4 + 1, &r->caps, sizeof *s, 256) : NULL;
    if (!s)
        return -1;
    r->s = s;
    store_unpack_t u = store_unpack(sqlite3_column_blob(st, 6), len, sqlite3_column_int(st, 7));
    size_t first = r->ns;
    while (store_unpack_next(&u, &r->s[r->ns]))
        r->ns++;
    r->ids[r->nb - r->ids_from] = sqlite3_column_int64(st, 0);
    r->b[r->nb++] = (rawpack_batch_t){sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
                                      sqlite3_column_int64(st, 5), sqlite3_column_int64(st, 1),
                                      sqlite3_column_int64(st, 2), r->ns - first};
    return s_sort_ids(r->s + first, r->ns - first) ? 0 : 1;
}

typedef struct {
    int64_t ts_ns;
    size_t at, first; /* its place in r, and its first sample there */
} raw_order_t;

static int s_cmp_order(const void *a, const void *b)
{
    const raw_order_t *x = a, *y = b;
    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at; /* stable: equal times keep their order */
}

/* Orders the batches of r by time: the block's come first, then the rows,
 * each in time order already. 0, -1 out of memory. */
static int s_sort(raw_set_t *r)
{
    bool sorted = true;
    for (size_t i = 1; i < r->nb && sorted; i++)
        sorted = r->b[i - 1].ts_ns <= r->b[i].ts_ns;
    if (sorted)
        return 0;
    raw_order_t *order = malloc(r->nb * sizeof *order);
    rawpack_batch_t *b = malloc(r->nb * sizeof *b);
    store_sample_t *s = malloc((r->ns ? r->ns : 1) * sizeof *s);
    if (!order || !b || !s) {
        free(order);
        free(b);
        free(s);
        return -1;
    }
    for (size_t i = 0, at = 0; i < r->nb; at += r->b[i].nsamples, i++)
        order[i] = (raw_order_t){r->b[i].ts_ns, i, at};
    qsort(order, r->nb, sizeof *order, s_cmp_order);
    for (size_t i = 0, at = 0; i < r->nb; i++) {
        b[i] = r->b[order[i].at];
        memcpy(s + at, r->s + order[i].first, b[i].nsamples * sizeof *s);
        at += b[i].nsamples;
    }
    free(order);
    free(r->b);
    free(r->s);
    r->b = b;
    r->s = s;
    r->capb = r->nb;
    r->caps = r->ns ? r->ns : 1;
    return 0;
}

/* Writes r as host's block at bucket and deletes the rows it took. 0,
 * 1 when it cannot be packed (why in err: the rows stay), -1 + err. */
static int s_write(store_t *self, int64_t host, int64_t bucket, raw_set_t *r, char *err,
                   size_t errsz)
{
    unsigned char *block;
    size_t len;
    if (s_sort(r) != 0) {
        store_errf(err, errsz, "out of memory");
        return 1;
    }
    if (rawpack_pack(r->b, r->nb, r->s, r->ns, RAWPACK_LEVEL_DEFAULT, &block, &len, err, errsz))
        return 1;
    sqlite3_stmt *st = store_prepare(self,
                                     "INSERT OR REPLACE INTO raw_blocks (host_id, ts_ns, nbatches, "
                                     "nsamples, block) VALUES (?1, ?2, ?3, ?4, ?5)",
                                     err, errsz);
    int rc = SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, host);
        sqlite3_bind_int64(st, 2, bucket);
        sqlite3_bind_int64(st, 3, (int64_t)r->nb);
        sqlite3_bind_int64(st, 4, (int64_t)r->ns);
        sqlite3_bind_blob(st, 5, block, (int)len, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    free(block);
    if (rc == SQLITE_DONE &&
        (st = store_prepare(self, "DELETE FROM batches WHERE id = ?1", err, errsz))) {
        for (size_t i = 0; rc == SQLITE_DONE && i < r->nb - r->ids_from; i++) {
            sqlite3_bind_int64(st, 1, r->ids[i]);
            rc = sqlite3_step(st);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
    } else if (rc == SQLITE_DONE) {
        return -1;
    }
    if (rc != SQLITE_DONE) {
        store_errf(err, errsz, "database: %s", sqlite3_errmsg(store_db(self)));
        return -1;
    }
    return 0;
}

long store_raw_pack(store_t *self, int64_t host, int64_t bucket, char *err, size_t errsz)
{
    /* Every row of the block but those waiting to be merged into the
     * rollups (they come back through raw_late once merged). */
    static const char sql[] =
        STORE_SECONDS("?2", "?3 - 1")
        "SELECT id, incarnation, seq, ts_ns, prev_ts_ns, received_ns, samples, packing FROM "
        "batches WHERE second IN sec AND host_id = ?1 AND ts_ns >= ?2 AND ts_ns < ?3 AND id NOT "
        "IN (SELECT batch_id FROM rollup_late) ORDER BY ts_ns";
    sqlite3_stmt *st = store_prepare(self, sql, err, errsz);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, host);
    sqlite3_bind_int64(st, 2, bucket);
    sqlite3_bind_int64(st, 3, bucket + STORE_RAW_BLOCK_NS);
    raw_set_t r = {0};
    bool loaded = false;
    int rc = SQLITE_DONE,
        fail = 0; /* -1: the database failed; 1: the block cannot be packed (why in err) */
    while (!fail && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!loaded) { /* the block there is (a late batch's), once there are rows to add */
            loaded = true;
            int found = s_load_block(self, host, bucket, &r, err, errsz);
            fail = found == -1 ? -1 : found == -2;
            if (fail)
                break;
        }
        int added = s_add_row(&r, st);
        if (added < 0)
            store_errf(err, errsz, "out of memory packing host %lld's raw history",
                       (long long)host);
        else if (added)
            store_errf(err, errsz, "a batch samples a series twice");
        else if (r.nb > RAWPACK_BATCHES_MAX || r.ns > RAWPACK_SAMPLES_MAX)
            store_errf(err, errsz, "more batches or samples than a raw block takes");
        else
            continue;
        fail = added < 0 ? -1 : 1;
    }
    sqlite3_finalize(st);
    if (!fail && rc != SQLITE_DONE) {
        store_errf(err, errsz, "database: %s", sqlite3_errstr(rc));
        fail = -1;
    }
    long packed = (long)(r.nb - r.ids_from);
    if (!fail && packed)
        fail = s_write(self, host, bucket, &r, err, errsz);
    s_set_free(&r);
    if (fail > 0) {
        /* Its rows stay as they are: read and expired as rows. Said once
         * a process: a host that does it does it every ten minutes. */
        static bool said;
        if (!said)
            log_warn("store: host %lld's raw history from %lld stays unpacked: %s", (long long)host,
                     (long long)bucket, err);
        said = true;
    }
    return fail < 0 ? -1 : fail ? 0 : packed;
}

/* --- reading ------------------------------------------------------------- */

struct store_raw {
    store_t *store;
    sqlite3_stmt *blocks, *rows;
    int64_t from_ns, to_ns;
    raw_set_t block;     /* the block being read */
    size_t bi, si;       /* its next batch, and that batch's first sample */
    bool row_ready;      /* rows is on a row not yet given */
    store_sample_t *row; /* that row's samples */
    size_t nrow, caprow;
    int failed; /* SQLite's error code, or -1 for a block that does not unpack */
    char err[256];
};

store_raw_t *store_raw_open(store_t *self, int64_t host, int64_t from_ns, int64_t to_ns, char *err,
                            size_t errsz)
{
    static const char blocks[] = "SELECT block, ts_ns FROM raw_blocks WHERE host_id = ?1 AND ts_ns "
                                 "> ?2 - ?4 AND ts_ns <= ?3 ORDER BY ts_ns";
    static const char rows[] =
        STORE_SECONDS("?2", "?3")
        "SELECT ts_ns, samples, packing FROM batches WHERE second IN sec AND host_id = ?1 AND "
        "ts_ns > ?2 AND ts_ns <= ?3 ORDER BY ts_ns";
    store_raw_t *r = malloc(sizeof *r);
    if (!r) {
        store_errf(err, errsz, "out of memory");
        return NULL;
    }
    *r = (store_raw_t){.store = self, .from_ns = from_ns, .to_ns = to_ns};
    r->blocks = store_prepare(self, blocks, err, errsz);
    r->rows = r->blocks ? store_prepare(self, rows, err, errsz) : NULL;
    if (!r->rows) {
        store_raw_close(&r, NULL, 0);
        return NULL;
    }
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = i ? r->rows : r->blocks;
        sqlite3_bind_int64(st, 1, host);
        sqlite3_bind_int64(st, 2, from_ns);
        sqlite3_bind_int64(st, 3, to_ns);
    }
    sqlite3_bind_int64(r->blocks, 4, STORE_RAW_BLOCK_NS);
    return r;
}

/* Steps *st (blocks or rows) to its next row; at the end or on an error
 * (noted in r->failed) it is finalized and NULL, and false returned. */
static bool s_step(store_raw_t *r, sqlite3_stmt **st)
{
    if (r->failed || !*st)
        return false;
    int rc = sqlite3_step(*st);
    if (rc == SQLITE_ROW)
        return true;
    if (rc != SQLITE_DONE)
        r->failed = rc;
    sqlite3_finalize(*st);
    *st = NULL;
    return false;
}

/* Moves to the next block batch in the range, loading blocks as needed;
 * false when there is none (or on an error, in r->failed). */
static bool s_block_ready(store_raw_t *r)
{
    for (;;) {
        for (; r->bi < r->block.nb; r->si += r->block.b[r->bi++].nsamples) {
            int64_t ts = r->block.b[r->bi].ts_ns;
            if (ts > r->from_ns && ts <= r->to_ns)
                return true;
        }
        if (!s_step(r, &r->blocks))
            return false;
        s_set_free(&r->block);
        r->bi = r->si = 0;
        char why[200], at[64];
        if (rawpack_unpack(sqlite3_column_blob(r->blocks, 0),
                           (size_t)sqlite3_column_bytes(r->blocks, 0), &r->block.b, &r->block.nb,
                           &r->block.s, &r->block.ns, why, sizeof why) != 0) {
            snprintf(r->err, sizeof r->err, "the raw block at %s does not unpack: %s",
                     ts_format(sqlite3_column_int64(r->blocks, 1), at, sizeof at), why);
            r->failed = -1;
            return false;
        }
    }
}

/* Reads the next batches row into r->row; false at the end or on an error. */
static bool s_row_ready(store_raw_t *r)
{
    if (r->row_ready)
        return true;
    if (!s_step(r, &r->rows))
        return false;
    size_t len = (size_t)sqlite3_column_bytes(r->rows, 1), need = len / 4 + 1;
    if (need > r->caprow) {
        store_sample_t *s = realloc(r->row, need * sizeof *s);
        if (!s) {
            r->failed = SQLITE_NOMEM;
            return false;
        }
        r->row = s;
        r->caprow = need;
    }
    store_unpack_t u =
        store_unpack(sqlite3_column_blob(r->rows, 1), len, sqlite3_column_int(r->rows, 2));
    for (r->nrow = 0; store_unpack_next(&u, &r->row[r->nrow]);)
        r->nrow++;
    r->row_ready = true;
    return true;
}

int store_raw_next(store_raw_t *r, int64_t *ts_ns, const store_sample_t **samples, size_t *n)
{
    bool block = s_block_ready(r), row = !r->failed && s_row_ready(r);
    if (r->failed)
        return -1;
    if (block && (!row || r->block.b[r->bi].ts_ns <= sqlite3_column_int64(r->rows, 0))) {
        const rawpack_batch_t *b = &r->block.b[r->bi];
        *ts_ns = b->ts_ns;
        *samples = r->block.s + r->si;
        *n = b->nsamples;
        r->si += b->nsamples;
        r->bi++;
        return 1;
    }
    if (!row)
        return 0;
    *ts_ns = sqlite3_column_int64(r->rows, 0);
    *samples = r->row;
    *n = r->nrow;
    r->row_ready = false;
    return 1;
}

int store_raw_close(store_raw_t **r_p, char *err, size_t errsz)
{
    store_raw_t *r = r_p ? *r_p : NULL;
    if (!r)
        return 0;
    int failed = r->failed;
    if (failed && err)
        store_errf(err, errsz, "%s",
                   failed < 0                   ? r->err
                   : failed == SQLITE_INTERRUPT ? "the query was stopped at its deadline"
                                                : sqlite3_errmsg(store_db(r->store)));
    sqlite3_finalize(r->blocks);
    sqlite3_finalize(r->rows);
    s_set_free(&r->block);
    free(r->row);
    free(r);
    *r_p = NULL;
    return failed ? -1 : 0;
}
