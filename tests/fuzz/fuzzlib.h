/* fuzzlib: what the text-parser fuzz targets share. The input is copied to a
 * buffer malloc'd to the byte (no NUL after it, so ASan sees any read past
 * len) and parsed three times, with error buffers of 256, 1 and 0 bytes. */
#ifndef DROPSCOPE_FUZZLIB_H
#define DROPSCOPE_FUZZLIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reading.h"

/* libFuzzer's entry point; declared here for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one parse emitted. */
typedef struct {
    const char *source; /* every reading must carry this source; borrowed */
    const char *device; /* and this device, unless NULL; borrowed */
    size_t n;           /* readings seen */
    uint64_t digest;    /* FNV-1a over every byte of every field seen */
} fuzzlib_seen_t;

/* One parse of [buf, buf + len) by the target, emitting through
 * fuzzlib_emit into seen; returns the parser's problem count. */
typedef int(fuzzlib_parse_fn)(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen,
                              char *err, size_t errsz);

static inline uint64_t fuzzlib_mix(uint64_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3u;
    return h;
}

/* A reading_fn: reads every byte of every string of r (so a dangling or
 * unterminated pointer trips ASan) and folds all of r into the digest. */
static inline void fuzzlib_emit(void *ctx, const reading_t *r)
{
    fuzzlib_seen_t *seen = ctx;
    if (!r->source || !r->device || !r->name || strcmp(r->source, seen->source) != 0 ||
        (seen->device && strcmp(r->device, seen->device) != 0))
        __builtin_trap();
    uint64_t h = seen->digest;
    h = fuzzlib_mix(h, r->device, strlen(r->device) + 1);
    h = fuzzlib_mix(h, r->name, strlen(r->name) + 1);
    h = fuzzlib_mix(h, &r->value, sizeof r->value);
    h = fuzzlib_mix(h, &r->instance, sizeof r->instance);
    seen->digest = h;
    seen->n++;
}

/* Runs parse on an exact-size copy of data with error buffers of 256, 1 and
 * 0 bytes (the first two malloc'd to the byte, the last NULL). Traps unless
 * the count is never negative, all three runs agree on it and on what they
 * emitted, the 256-byte message is "" exactly when the count is 0, and the
 * 1-byte one is "". *seen_p (may be NULL) gets what was emitted. Returns the
 * problem count. */
static inline int fuzzlib_run(const uint8_t *data, size_t size, fuzzlib_parse_fn *parse,
                              const void *arg, const char *source, const char *device,
                              fuzzlib_seen_t *seen_p)
{
    static const size_t errsizes[] = {256, 1, 0};
    char *buf = malloc(size); /* malloc(0) under ASan: a pointer to nothing */
    if (size && !buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    fuzzlib_seen_t first = {0};
    int first_rc = 0;
    for (size_t k = 0; k < sizeof errsizes / sizeof errsizes[0]; k++) {
        size_t errsz = errsizes[k];
        char *err = errsz ? malloc(errsz) : NULL;
        if (err)
            memset(err, 'x', errsz); /* a parser must overwrite it */
        fuzzlib_seen_t seen = {.source = source, .device = device, .digest = 0xcbf29ce484222325u};
        int rc = parse(buf, size, arg, &seen, err, errsz);
        if (rc < 0)
            __builtin_trap();
        if (err && strnlen(err, errsz) == errsz)
            __builtin_trap(); /* not NUL-terminated within its buffer */
        if (errsz == 256 && (rc == 0) != (err[0] == '\0'))
            __builtin_trap();
        if (k == 0) {
            first = seen;
            first_rc = rc;
        } else if (rc != first_rc || seen.n != first.n || seen.digest != first.digest) {
            __builtin_trap(); /* the error buffer changed what was parsed */
        }
        free(err);
    }
    free(buf);
    if (seen_p)
        *seen_p = first;
    return first_rc;
}

#endif
