/* rawpack: one host's raw batches of a stretch of time (typically a minute)
 * packed into one compact block, column-wise then zstd, and unpacked back
 * exactly (issue 21: raw history at <= 2 bytes a sample instead of ~11 as
 * STORE_PACK_VARINT rows). Pure: no I/O, no globals; the store decides
 * which batches go together. The unpacker takes any bytes: it refuses what
 * is not a block it could have written, naming what is wrong. */
#ifndef DROPSCOPE_RAWPACK_H
#define DROPSCOPE_RAWPACK_H

#include <stddef.h>
#include <stdint.h>

#include "store_sample.h"

/* The block format's version, its first byte. */
#define RAWPACK_VERSION 1
/* The bounds of one block, both ways: larger ones are for the caller to
 * split. A minute of a host at 1 s with 10,000 series is 600,000 samples. */
#define RAWPACK_BATCHES_MAX (1u << 16)
#define RAWPACK_SAMPLES_MAX (1u << 22)
#define RAWPACK_RAW_MAX (64u << 20) /* bytes of the columns before zstd */
/* The zstd level the store should use (see rawpack.c's header for why). */
#define RAWPACK_LEVEL_DEFAULT 3

/* A batch, less its host (the block's) and its samples (in the array beside). */
typedef struct {
    int64_t ts_ns;       /* when the collector took it */
    int64_t prev_ts_ns;  /* when its interval began (the previous batch's ts_ns, mostly) */
    int64_t received_ns; /* when the aggregator got it */
    int64_t incarnation; /* the collector's run */
    int64_t seq;         /* its number in the run */
    size_t nsamples;     /* its samples, next in the samples array */
} rawpack_batch_t;

/* Packs nb batches b (in time order, for compactness, not correctness)
 * with their samples s, the ns samples of all batches concatenated in
 * batch order, each batch's in strictly ascending series id. level is
 * zstd's (1..22), or 0 for the columns uncompressed. On success *out is a
 * malloc'd block of *outlen bytes, the caller's to free, and 0 is returned;
 * on bad input (counts over the bounds, ids out of order, nsamples not
 * adding up to ns) or no memory, -1 with err. */
int rawpack_pack(const rawpack_batch_t *b, size_t nb, const store_sample_t *s, size_t ns, int level,
                 unsigned char **out, size_t *outlen, char *err, size_t errsz);

/* Unpacks the len bytes of blob, any bytes at all, into *b (*nb batches)
 * and *s (*ns samples), malloc'd arrays the caller frees (NULL when
 * empty): exactly what rawpack_pack was given. 0, or -1 with err naming
 * what is wrong (the outputs then NULL and 0). */
int rawpack_unpack(const void *blob, size_t len, rawpack_batch_t **b, size_t *nb,
                   store_sample_t **s, size_t *ns, char *err, size_t errsz);

#endif
