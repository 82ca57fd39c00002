/* gen_rawpack_seeds: writes the seed corpus of fuzz_rawpack into the
 * directory argv[1]: blocks as rawpack_pack writes them, each both as raw
 * columns (level 0, where mutations reach the column decoder) and zstd's
 * (level 3): no batch, one empty batch, one sample with every field at its
 * top, a host's minute (a full batch, then the series that changed), and
 * a block of resets, gaps, wraps, an incarnation change and a seq jump.
 * Usage: gen_rawpack_seeds DIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rawpack.h"
#include "sample.h"
#include "seedlib.h"

#define SEC INT64_C(1000000000)
#define MAXB 60
#define MAXS (MAXB * 40)

/* A block being made. */
typedef struct {
    rawpack_batch_t b[MAXB];
    size_t nb;
    store_sample_t s[MAXS];
    size_t ns;
} seed_t;

static void s_batch(seed_t *k, int64_t ts, int64_t inc, int64_t seq)
{
    int64_t prev = k->nb ? k->b[k->nb - 1].ts_ns : ts - SEC;
    k->b[k->nb++] = (rawpack_batch_t){ts, prev, ts + 2000000 + seq % 7 * 1000, inc, seq, 0};
}

static void s_sample(seed_t *k, uint32_t id, uint32_t flags, uint64_t value, int64_t delta)
{
    k->s[k->ns++] = (store_sample_t){id, flags, value, delta};
    k->b[k->nb - 1].nsamples++;
}

/* Writes k packed at levels 0 and 3 as name-0 and name-3. 0, or -1. */
static int s_write(const char *dir, const char *name, const seed_t *k)
{
    int rc = 0;
    for (int level = 0; level <= 3; level += 3) {
        unsigned char *blob;
        size_t len;
        char err[256], file[64];
        if (rawpack_pack(k->b, k->nb, k->s, k->ns, level, &blob, &len, err, sizeof err) != 0) {
            fprintf(stderr, "gen_rawpack_seeds: %s: %s\n", name, err);
            return -1;
        }
        snprintf(file, sizeof file, "%s-%d", name, level);
        rc |= seedlib_write("gen_rawpack_seeds", dir, file, blob, len);
        free(blob);
    }
    return rc;
}

/* 40 series: 10 step every second, the others only in the full batch. */
static void s_minute(seed_t *k)
{
    int64_t t0 = INT64_C(1795359570) * SEC;
    for (int i = 0; i < MAXB; i++) {
        s_batch(k, t0 + i * SEC + (i * 7919 % 401 - 200) * 1000, 0x5eed, 100 + i);
        for (uint32_t j = 0; j < 40; j++)
            if (i == 0 || j < 10)
                s_sample(k, 7000 + j, 0, UINT64_C(1) << 33 | j << 20 | (uint64_t)i * (j + 1),
                         i ? (int64_t)j + 1 : 0);
    }
}

/* Resets, gaps, wraps, firsts; an incarnation change and a seq jump. */
static void s_rough(seed_t *k)
{
    uint64_t v = UINT64_MAX - 5;
    for (int i = 0; i < 12; i++) {
        s_batch(k, INT64_C(1795359570) * SEC + i * SEC * (i % 3 + 1), i < 6 ? 1 : 2,
                i < 6 ? i : 1000 + i);
        if (i % 4 == 3)
            continue; /* empty */
        s_sample(k, 1, i == 0 ? SAMPLE_FIRST : 0, v += 3, i ? 3 : 0);
        if (i % 2)
            s_sample(k, 2, i == 5 ? SAMPLE_RESET : 0, (uint64_t)i, i == 5 ? 5 : 1);
        s_sample(k, UINT32_MAX, 0, (uint64_t)INT64_MIN, INT64_MIN);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_rawpack_seeds DIR\n");
        return 2;
    }
    static seed_t k;
    int rc = s_write(argv[1], "empty", &k);
    s_batch(&k, 0, 0, 0);
    rc |= s_write(argv[1], "one-batch", &k);
    s_sample(&k, UINT32_MAX, UINT32_MAX, UINT64_MAX, INT64_MIN);
    rc |= s_write(argv[1], "one-sample", &k);
    k = (seed_t){0};
    s_minute(&k);
    rc |= s_write(argv[1], "minute", &k);
    k = (seed_t){0};
    s_rough(&k);
    rc |= s_write(argv[1], "rough", &k);
    return rc == 0 ? 0 : 1;
}
