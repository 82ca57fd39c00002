/* fuzz_state: state_parse on arbitrary bytes into a fresh registry. It
 * answers 0 or -1 (with a reason), whatever the error buffer; what it
 * accepts must survive the collector's own round trip: state_write of the
 * restored registry into a file (in a mkdtemp directory under /tmp, one per
 * process, removed at exit) and state_read of that file give the same head
 * and the same series, in the same order. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "series.h"
#include "state.h"

#define MAX_SERIES 100000 /* the collector's cap */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_dir[64];  /* the mkdtemp directory; "" until made */
static char s_path[96]; /* the state file in it */
static char s_tmp[112]; /* and what state_write may leave beside it */

static void s_cleanup(void)
{
    unlink(s_path);
    unlink(s_tmp);
    rmdir(s_dir);
}

static const char *s_get_path(void)
{
    if (s_dir[0])
        return s_path;
    snprintf(s_dir, sizeof s_dir, "/tmp/fuzz_state-XXXXXX");
    if (!mkdtemp(s_dir)) {
        perror("fuzz_state: mkdtemp /tmp/fuzz_state-XXXXXX");
        abort();
    }
    snprintf(s_path, sizeof s_path, "%s/state.json", s_dir);
    snprintf(s_tmp, sizeof s_tmp, "%s.tmp", s_path);
    atexit(s_cleanup);
    return s_path;
}

static uint64_t s_mix(uint64_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3u;
    return h;
}

/* A series_each callback: folds every series' identity and restored
 * value, in id order, into the digest at ctx. */
static void s_digest(void *ctx, series_entry_t *e)
{
    uint64_t *h = ctx;
    *h = s_mix(*h, &e->id, sizeof e->id);
    *h = s_mix(*h, e->source, strlen(e->source) + 1);
    *h = s_mix(*h, e->device, strlen(e->device) + 1);
    *h = s_mix(*h, e->name, strlen(e->name) + 1);
    *h = s_mix(*h, &e->value, sizeof e->value);
    *h = s_mix(*h, &e->instance, sizeof e->instance);
    *h = s_mix(*h, &e->present, sizeof e->present);
}

static uint64_t s_series_digest(series_t *series)
{
    uint64_t h = 0xcbf29ce484222325u;
    series_each(series, s_digest, &h);
    return h;
}

static bool s_same_head(const state_head_t *a, const state_head_t *b)
{
    return strcmp(a->boot_id, b->boot_id) == 0 && a->incarnation == b->incarnation &&
           a->seq == b->seq && a->ts_ns == b->ts_ns;
}

/* Parses buf into a fresh registry with an error buffer of errsz bytes
 * (malloc'd to the byte; NULL when 0). Traps on an answer other than 0 or
 * -1, an unterminated head or error, or a refusal without a reason. */
static int s_parse(const char *buf, size_t len, size_t errsz, state_head_t *head,
                   series_t **series_p)
{
    char *err = errsz ? malloc(errsz) : NULL;
    *series_p = series_new(MAX_SERIES);
    if ((errsz && !err) || !*series_p)
        abort();
    if (err)
        memset(err, 'x', errsz);
    memset(head, 'x', sizeof *head);
    int rc = state_parse(buf, len, head, *series_p, err, errsz);
    if (rc != 0 && rc != -1)
        __builtin_trap();
    if (rc == 0 && strnlen(head->boot_id, sizeof head->boot_id) == sizeof head->boot_id)
        __builtin_trap();
    if (rc == -1 && err && (strnlen(err, errsz) == errsz || (errsz > 1 && !err[0])))
        __builtin_trap();
    free(err);
    return rc;
}

/* Traps unless writing what was parsed and reading it back gives the same. */
static void s_round_trip(const state_head_t *head, series_t *series)
{
    char err[512];
    const char *path = s_get_path();
    if (state_write(path, head, series, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_state: a state it read cannot be written: %s\n", err);
        __builtin_trap();
    }
    state_head_t again;
    series_t *reread = series_new(MAX_SERIES);
    if (!reread)
        abort();
    if (state_read(path, &again, reread, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_state: a state it wrote cannot be read: %s\n", err);
        __builtin_trap();
    }
    if (!s_same_head(head, &again) || series_count(reread) != series_count(series) ||
        s_series_digest(reread) != s_series_digest(series))
        __builtin_trap();
    series_destroy(&reread);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1); /* exact size: ASan sees a read past it */
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    state_head_t head, other;
    series_t *series, *small, *none;
    int rc = s_parse(buf, size, 256, &head, &series);
    /* the error buffer must not change the verdict, nor what was read */
    if (s_parse(buf, size, 1, &other, &small) != rc || s_parse(buf, size, 0, &other, &none) != rc ||
        (rc == 0 && (!s_same_head(&head, &other) || series_count(small) != series_count(series))))
        __builtin_trap();
    /* without a registry, the head alone: what has rows restored has a head */
    if (rc == 0 &&
        (state_parse(buf, size, &other, NULL, NULL, 0) != 0 || !s_same_head(&head, &other)))
        __builtin_trap();
    if (rc == 0)
        s_round_trip(&head, series);
    series_destroy(&series);
    series_destroy(&series); /* safe twice */
    series_destroy(&small);
    series_destroy(&none);
    free(buf);
    return 0;
}
