/* store_internal: what the two halves of the store module share: the
 * writer (store.c: open, migrations, storing messages) and the queries
 * (store_query.c). Not for use outside the store. */
#ifndef DROPSCOPE_STORE_INTERNAL_H
#define DROPSCOPE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STORE_SAMPLE_RECORD 24 /* bytes per packed sample in batches.samples */

/* A packed sample (batches.samples, rollups.samples): little-endian
 * {u32 series_id, u32 flags, u64 value, i64 delta}. In a rollup, value is
 * the last one of the bucket and delta the sum of its deltas. */
typedef struct {
    uint32_t series_id, flags;
    uint64_t value;
    int64_t delta;
} store_sample_t;

static inline uint64_t store_get_le(const unsigned char *in, int bytes)
{
    uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; k--)
        v = v << 8 | in[k];
    return v;
}

static inline void store_put_le(unsigned char *out, uint64_t v, int bytes)
{
    for (int k = 0; k < bytes; k++, v >>= 8)
        out[k] = (unsigned char)v;
}

static inline store_sample_t store_sample_get(const unsigned char *rec)
{
    return (store_sample_t){(uint32_t)store_get_le(rec, 4), (uint32_t)store_get_le(rec + 4, 4),
                            store_get_le(rec + 8, 8), (int64_t)store_get_le(rec + 16, 8)};
}

static inline void store_sample_put(unsigned char *rec, const store_sample_t *s)
{
    store_put_le(rec, s->series_id, 4);
    store_put_le(rec + 4, s->flags, 4);
    store_put_le(rec + 8, s->value, 8);
    store_put_le(rec + 16, (uint64_t)s->delta, 8);
}

/* A host's batches in a time range, through batches_at (second, host_id,
 * ...): the seconds the range touches, each one seek, and none outside
 * the seconds stored. Prefix a SELECT on batches that says
 * `second IN sec AND host_id = ...` with it; lo and hi are SQL expressions
 * of the range's ends in ns. */
#define STORE_SECONDS(lo, hi)                                                                      \
    "WITH RECURSIVE sec(s) AS (SELECT max((" lo ") / 1000000000, (SELECT min(second) FROM "      \
    "batches)) UNION ALL SELECT s + 1 FROM sec WHERE s < min((" hi ") / 1000000000, (SELECT "    \
    "max(second) FROM batches))) "

/* The connection (borrowed). */
sqlite3 *store_db(store_t *self);

/* How far the minute rollups have got (rollup_state, cached by the
 * writer): every bucket before bucket_ns is rolled up, and in bucket_ns
 * every host below next_host. A batch stored behind that is merged late. */
typedef struct {
    int64_t bucket_ns; /* INT64_MIN: nothing rolled up yet */
    int64_t next_host;
} store_rolled_t;

void store_set_rolled(store_t *self, store_rolled_t rolled);

/* A host's minute being rolled up as its batches are stored (writer). */
typedef struct store_minute store_minute_t;

/* Folds a batch just stored (its id, time and packed samples) into its
 * host's minute *m, after writing the rollup of the minute before when a
 * later one begins; that rollup is written only when every batch of it
 * passed here: fresh_from is the time from which this process has stored
 * every batch (minutes before it, and after a failure, are left to the
 * upkeep). A batch for an older minute already written is merged late.
 * Call only for batches not behind the rollups' progress, inside the
 * transaction that stores them. 0, or -1 + err. */
int store_minute_add(store_t *self, store_minute_t **m, int64_t host, int64_t batch_id,
                     int64_t ts_ns, const unsigned char *blob, size_t nsamples, int64_t fresh_from,
                     char *err, size_t errsz);
void store_minute_free(store_minute_t **m);

/* vsnprintf into err. */
void store_errf(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
