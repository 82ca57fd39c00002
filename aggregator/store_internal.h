/* store_internal: what the two halves of the store module share: the
 * writer (store.c: open, migrations, storing messages) and the queries
 * (store_query.c). Not for use outside the store. */
#ifndef DROPSCOPE_STORE_INTERNAL_H
#define DROPSCOPE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A stored sample (batches.samples, rollups.samples). In a rollup, value
 * is the last one of the bucket and delta the sum of its deltas. */
typedef struct {
    uint32_t series_id, flags;
    uint64_t value;
    int64_t delta;
} store_sample_t;

/* How a row's samples are packed (its `packing` column, 012):
 *  STORE_PACK_FIXED   24-byte little-endian records {u32 series_id,
 *                     u32 flags, u64 value, i64 delta} (rows from before 012);
 *  STORE_PACK_VARINT  per sample four LEB128 varints: the series id's
 *                     difference from the previous sample's (zigzag),
 *                     flags, value, delta (zigzag). ~10 bytes a sample
 *                     instead of 24: series ids are mostly consecutive,
 *                     flags and deltas small. */
enum { STORE_PACK_FIXED = 0, STORE_PACK_VARINT = 1 };
#define STORE_SAMPLE_MAX 30 /* bytes of one sample, packed either way, at most */

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

static inline unsigned char *store_put_varint(unsigned char *out, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        *out++ = (unsigned char)(v | 0x80);
    *out++ = (unsigned char)v;
    return out;
}

static inline bool store_get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

static inline uint64_t store_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t store_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Packs s after the sample of series *prev (0 first) as STORE_PACK_VARINT
 * at out; returns the end. */
static inline unsigned char *store_pack(unsigned char *out, uint32_t *prev, const store_sample_t *s)
{
    out = store_put_varint(out, store_zigzag((int64_t)s->series_id - (int64_t)*prev));
    out = store_put_varint(out, s->flags);
    out = store_put_varint(out, s->value);
    *prev = s->series_id;
    return store_put_varint(out, store_zigzag(s->delta));
}

/* Reads a row's packed samples in order. */
typedef struct {
    const unsigned char *p, *end;
    int packing;
    uint32_t prev; /* the series id of the sample before */
} store_unpack_t;

static inline store_unpack_t store_unpack(const void *blob, size_t len, int packing)
{
    const unsigned char *p = blob;
    return (store_unpack_t){p, p ? p + len : p, packing, 0};
}

/* The next sample into *s; false at the end (or at a record cut short). */
static inline bool store_unpack_next(store_unpack_t *u, store_sample_t *s)
{
    if (u->packing == STORE_PACK_FIXED) {
        if (u->end - u->p < 24)
            return false;
        const unsigned char *r = u->p;
        *s = (store_sample_t){(uint32_t)store_get_le(r, 4), (uint32_t)store_get_le(r + 4, 4),
                              store_get_le(r + 8, 8), (int64_t)store_get_le(r + 16, 8)};
        u->p += 24;
        return true;
    }
    uint64_t id, flags, value, delta;
    if (!store_get_varint(&u->p, u->end, &id) || !store_get_varint(&u->p, u->end, &flags) ||
        !store_get_varint(&u->p, u->end, &value) || !store_get_varint(&u->p, u->end, &delta)) {
        u->p = u->end;
        return false;
    }
    u->prev = (uint32_t)((int64_t)u->prev + store_unzigzag(id));
    *s = (store_sample_t){u->prev, (uint32_t)flags, value, store_unzigzag(delta)};
    return true;
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

/* Folds a batch just stored (its id, time and samples, STORE_PACK_VARINT) into its
 * host's minute *m, after writing the rollup of the minute before when a
 * later one begins; that rollup is written only when every batch of it
 * passed here: fresh_from is the time from which this process has stored
 * every batch (minutes before it, and after a failure, are left to the
 * upkeep). A batch for an older minute already written is merged late.
 * Call only for batches not behind the rollups' progress, inside the
 * transaction that stores them. 0, or -1 + err. */
int store_minute_add(store_t *self, store_minute_t **m, int64_t host, int64_t batch_id,
                     int64_t ts_ns, const unsigned char *blob, size_t len, int64_t fresh_from,
                     char *err, size_t errsz);
void store_minute_free(store_minute_t **m);
/* The minute m is folding (INT64_MIN before its first batch). */
int64_t store_minute_bucket(const store_minute_t *m);

/* vsnprintf into err. */
void store_errf(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
