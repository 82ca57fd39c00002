/* store_sample: a stored sample and its two packings (STORE_PACK_FIXED,
 * STORE_PACK_VARINT), with the LEB128 and zigzag helpers they share. Pure
 * inline code with no dependency on SQLite, so that codecs of samples
 * (rawpack) and their tests and fuzz targets can use it alone;
 * store_internal.h includes it for the store's files. */
#ifndef DROPSCOPE_STORE_SAMPLE_H
#define DROPSCOPE_STORE_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

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
        *s = (store_sample_t){(uint32_t)bytes_get_le(r, 4), (uint32_t)bytes_get_le(r + 4, 4),
                              bytes_get_le(r + 8, 8), (int64_t)bytes_get_le(r + 16, 8)};
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

#endif
