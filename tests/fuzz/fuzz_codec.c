/* fuzz_codec: codec_decode on arbitrary bytes; every message it accepts must
 * encode again and decode to the same envelope, body and batch columns. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes an exact-size copy (no byte after len for the decoder to read)
 * with a malloc'd error buffer of errsz bytes, or NULL when errsz is 0. A
 * refusal must say why, within the buffer. */
static msg_t *s_decode(const uint8_t *data, size_t size, size_t errsz)
{
    uint8_t *copy = malloc(size);
    char *err = errsz ? malloc(errsz) : NULL;
    if ((size && !copy) || (errsz && !err)) {
        free(copy);
        free(err);
        return NULL;
    }
    if (size)
        memcpy(copy, data, size);
    if (err)
        err[0] = '\0';
    msg_t *msg = codec_decode(copy, size, err, errsz);
    if (err && strnlen(err, errsz) == errsz)
        __builtin_trap(); /* not NUL-terminated within its buffer */
    if (!msg && errsz > 1 && err[0] == '\0')
        __builtin_trap();
    free(err);
    free(copy);
    return msg;
}

static int s_cmp_column(const void *a, const void *b, size_t n, size_t elsize)
{
    return n == 0 ? 0 : memcmp(a, b, n * elsize); /* columns may be NULL when empty */
}

/* Traps unless b is a's batch after a round trip. */
static void s_check_batch(const batch_t *a, const batch_t *b)
{
    size_t n = a->nsamples;
    if (b->nsamples != n || b->ndefs != a->ndefs || b->nbursts != a->nbursts ||
        s_cmp_column(a->series, b->series, n, sizeof *a->series) ||
        s_cmp_column(a->values, b->values, n, sizeof *a->values) ||
        s_cmp_column(a->deltas, b->deltas, n, sizeof *a->deltas) ||
        s_cmp_column(a->flags, b->flags, n, sizeof *a->flags))
        __builtin_trap();
    for (size_t i = 0; i < a->ndefs; i++)
        if (a->defs[i].id != b->defs[i].id || strcmp(a->defs[i].name, b->defs[i].name) != 0)
            __builtin_trap();
    for (size_t i = 0; i < a->nbursts; i++)
        if (a->bursts[i].nprofile != b->bursts[i].nprofile ||
            strcmp(a->bursts[i].iface, b->bursts[i].iface) != 0)
            __builtin_trap();
}

/* Encodes a decoded message, decodes the result and compares the two. */
static void s_round_trip(const msg_t *a)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[256];
    if (codec_encode(a, &buf, &len, err, sizeof err) != 0)
        __builtin_trap(); /* the decoder let through what the encoder refuses */
    msg_t *b = s_decode(buf, len, sizeof err);
    free(buf);
    if (!b)
        __builtin_trap(); /* our own encoding of an accepted message is refused */
    if (b->type != a->type || strcmp(b->host, a->host) != 0 || b->seq != a->seq ||
        b->incarnation != a->incarnation || b->sent_ns != a->sent_ns)
        __builtin_trap();
    if (a->type == MSG_TYPE_BATCH)
        s_check_batch(&a->batch, &b->batch);
    codec_msg_destroy(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the error buffer must not change the verdict */
    msg_t *msg = s_decode(data, size, 256);
    msg_t *small = s_decode(data, size, 1);
    msg_t *none = s_decode(data, size, 0);
    if (!msg != !small || !msg != !none)
        __builtin_trap();
    if (msg) {
        if (msg->type <= MSG_TYPE_NONE || msg->type > MSG_TYPE_ACK || !msg->host[0])
            __builtin_trap();
        s_round_trip(msg);
    }
    codec_msg_destroy(&msg);
    codec_msg_destroy(&msg); /* safe twice */
    codec_msg_destroy(&small);
    codec_msg_destroy(&none);
    return 0;
}
