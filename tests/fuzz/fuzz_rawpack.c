/* fuzz_rawpack: rawpack_unpack on arbitrary bytes, with error buffers of
 * 256, 1 and 0 bytes, which must agree. A refusal leaves nothing out and
 * says "rawpack: ..."; a block that unpacks must pack again (raw columns
 * and zstd) and unpack to the very same batches and samples. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rawpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one unpack gave. */
typedef struct {
    int rc;
    rawpack_batch_t *b; /* nb; owned */
    size_t nb;
    store_sample_t *s; /* ns; owned */
    size_t ns;
} got_t;

static void s_unpack(const void *buf, size_t len, char *err, size_t errsz, got_t *g)
{
    g->b = (rawpack_batch_t *)buf; /* must be overwritten, even on failure */
    g->s = (store_sample_t *)buf;
    g->nb = g->ns = 7;
    g->rc = rawpack_unpack(buf, len, &g->b, &g->nb, &g->s, &g->ns, err, errsz);
    if (g->rc != 0 && (g->rc != -1 || g->b || g->s || g->nb || g->ns))
        __builtin_trap();
    if (g->rc == 0 && ((g->nb != 0) != (g->b != NULL) || (g->ns != 0) != (g->s != NULL)))
        __builtin_trap();
}

/* Whether a and b are the same batches and samples, field by field
 * (rawpack_batch_t has padding on no ABI we build for, but compare the
 * fields anyway: memcmp would read it). */
static bool s_same(const got_t *a, const got_t *b)
{
    if (a->rc != b->rc || a->nb != b->nb || a->ns != b->ns)
        return false;
    for (size_t i = 0; i < a->nb; i++) {
        const rawpack_batch_t *x = &a->b[i], *y = &b->b[i];
        if (x->ts_ns != y->ts_ns || x->prev_ts_ns != y->prev_ts_ns ||
            x->received_ns != y->received_ns || x->incarnation != y->incarnation ||
            x->seq != y->seq || x->nsamples != y->nsamples)
            return false;
    }
    for (size_t i = 0; i < a->ns; i++) {
        const store_sample_t *x = &a->s[i], *y = &b->s[i];
        if (x->series_id != y->series_id || x->flags != y->flags || x->value != y->value ||
            x->delta != y->delta)
            return false;
    }
    return true;
}

static void s_release(got_t *g)
{
    free(g->b);
    free(g->s);
}

/* What unpacked packs again at level and unpacks the same. */
static void s_repack(const got_t *g, int level)
{
    unsigned char *blob;
    size_t len;
    char err[256];
    if (rawpack_pack(g->b, g->nb, g->s, g->ns, level, &blob, &len, err, sizeof err) != 0)
        __builtin_trap(); /* the unpacker accepts what the packer refuses */
    got_t again;
    s_unpack(blob, len, err, sizeof err, &again);
    if (!s_same(g, &again))
        __builtin_trap();
    s_release(&again);
    free(blob);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan sees any read past size. */
    uint8_t *buf = malloc(size ? size : 1);
    char *err = malloc(256), *err1 = malloc(1);
    if (!buf || !err || !err1)
        abort();
    if (size)
        memcpy(buf, data, size);
    memset(err, 'x', 256);
    got_t g, g1, g0;
    s_unpack(buf, size, err, 256, &g);
    s_unpack(buf, size, err1, 1, &g1);
    s_unpack(buf, size, NULL, 0, &g0);
    if (strnlen(err, 256) == 256 || err1[0] != '\0' || !s_same(&g, &g1) || !s_same(&g, &g0))
        __builtin_trap();
    if ((g.rc == 0) != (err[0] == '\0') || (g.rc && strncmp(err, "rawpack: ", 9) != 0))
        __builtin_trap();
    if (g.rc == 0) {
        s_repack(&g, 0);
        s_repack(&g, 1);
    }
    s_release(&g);
    s_release(&g1);
    s_release(&g0);
    free(buf);
    free(err);
    free(err1);
    return 0;
}
