/* bytes: little-endian integers and FNV-1a, for the formats the project
 * writes itself (the spool's files, the store's packed samples and wire-id
 * maps) and for hashing keys. One copy, so that a file written by one part
 * reads the same in another. */
#ifndef DROPSCOPE_BYTES_H
#define DROPSCOPE_BYTES_H

#include <stddef.h>
#include <stdint.h>

#define BYTES_FNV1A_INIT UINT64_C(14695981039346656037) /* FNV-1a 64's offset basis */

/* FNV-1a 64 of len bytes at data, continuing from h (BYTES_FNV1A_INIT first). */
static inline uint64_t bytes_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h;
}

/* The unsigned little-endian integer of `bytes` bytes (1..8) at in. */
static inline uint64_t bytes_get_le(const unsigned char *in, int bytes)
{
    uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; k--)
        v = v << 8 | in[k];
    return v;
}

/* Writes the low `bytes` bytes (1..8) of v at out, little-endian. */
static inline void bytes_put_le(unsigned char *out, uint64_t v, int bytes)
{
    for (int k = 0; k < bytes; k++, v >>= 8)
        out[k] = (unsigned char)v;
}

#endif
