/* rawpack: the block codec of rawpack.h. The workload it assumes: a host's
 * batches on a regular grid (1 s, jitter of µs to ms), each carrying the
 * series that changed (every series in the periodic full batch), counters
 * whose value is the previous one plus the delta, deltas small and often
 * the same from one batch to the next, flags mostly 0.
 *
 * A block is a version byte, a mode byte (0: columns as they are, 1: a
 * zstd frame of them, its content size given) and the columns: varints
 * nb, nseries, ns, zigzag(period), the byte length of each of the
 * S_NCOLUMNS streams below, then the streams. Grouping like with like is
 * what lets zstd find the runs: the batch columns are mostly one value
 * repeated, the series' mostly zeros.
 *   ts        ts[0], then zigzag(ts[i] - ts[i-1] - period), period being the
 *             median step: jitter costs its own size once, where a
 *             delta-of-delta would count it twice
 *   prev      zigzag(prev_ts[i] - ts[i-1]) (ts[-1] = ts[0]): mostly 0
 *   recv      zigzag(received[i] - ts[i])
 *   inc       incarnation[0], then zigzag of the change: mostly 0
 *   seq       seq[0], then zigzag(seq[i] - seq[i-1] - 1): mostly 0
 * and for each distinct series, in ascending id (a batch's samples come
 * out in ascending id as they went in):
 *   ids       the id's step from the previous one less 1 (the first: itself)
 *   presence  the number of (skip, take - 1) pairs, then the pairs: which
 *             batches hold a sample of it
 *   flags     runs: the flags (flags), each repeated run + 1 times (flags_run)
 *   base      its first value
 *   resid     runs of zigzag(value - previous value - delta) from its second
 *             sample on: 0 for a counter, but across a reset or a wrap
 *   delta_width  0: the deltas are runs of zigzag(delta) in delta and
 *             delta_run; 1..8: they change at nearly every sample (a busy
 *             counter's noise), and are zigzag(delta) less their least
 *             (in delta) in that many bytes, byte k of each in plane<k>.
 *             A varint's bytes mix a 7-bit payload with its continuation
 *             bits and lengths, which zstd's byte-wise entropy coder pays
 *             for; a plane holds one byte position alone and costs about
 *             its entropy (test_rawpack: 14-bit noise, 2.4 -> 1.9 bytes a
 *             sample)
 * Arithmetic is modulo 2^64 both ways, so that any values round-trip.
 *
 * zstd's level, measured by test_rawpack on a 2-core VM (with bench_queries
 * running beside it), bytes a sample at levels 1, 3, 9, 19, and packing's
 * ns a sample:
 *   a minute of the 725 samples of the series that changed (75 series, 60
 *   batches; STORE_PACK_VARINT 7.8 bytes): 1.55, 1.55, 1.54, 1.49; 41, 42,
 *   65, 441 (unpacking 21);
 *   a minute of 75 series changing every second by 10,000-29,999 (the
 *   planes; STORE_PACK_VARINT 10.0 bytes): 1.94, 1.94, 1.94, 1.92; 20, 20,
 *   29, 207 (unpacking 10).
 * Level 3 (zstd's own default) it is: what is left is mostly entropy of
 * the data (timestamps' jitter and delays, first values, the deltas'
 * noise), which no level takes away. */
#include "rawpack.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

enum { S_MODE_RAW = 0, S_MODE_ZSTD = 1 };

enum {
    S_TS,
    S_PREV,
    S_RECV,
    S_INC,
    S_SEQ,
    S_IDS,
    S_PRESENCE,
    S_FLAGS,
    S_FLAGS_RUN,
    S_BASE,
    S_RESID,
    S_RESID_RUN,
    S_DELTA,
    S_DELTA_RUN,
    S_DELTA_WIDTH,
    S_PLANE0, /* ... S_PLANE0 + 7 */
    S_NCOLUMNS = S_PLANE0 + 8
};
/* Where the columns are cut into zstd frames (s_seal): at each plane, and the end. */
enum { S_NCUTS = 9 };

/* The columns' names, for the errors. */
static const char *const s_names[S_NCOLUMNS] = {
    "ts",        "prev",   "recv",   "inc",       "seq",    "ids",       "presence",    "flags",
    "flags_run", "base",   "resid",  "resid_run", "delta",  "delta_run", "delta_width", "plane0",
    "plane1",    "plane2", "plane3", "plane4",    "plane5", "plane6",    "plane7"};

static void s_errf(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_errf(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || !errsz)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

static uint64_t s_zz(uint64_t v)
{
    return store_zigzag((int64_t)v);
}

static uint64_t s_unzz(uint64_t v)
{
    return (uint64_t)store_unzigzag(v);
}

/* --- packing ------------------------------------------------------------- */

/* A column being written. */
typedef struct {
    unsigned char *p; /* len bytes written of cap; owned */
    size_t len, cap;
    bool oom; /* a write failed for memory: the block fails */
} column_t;

/* Room for `need` more bytes in c; false (and c->oom) without memory. */
static bool s_room(column_t *c, size_t need)
{
    if (c->cap - c->len >= need)
        return true;
    size_t cap = c->cap ? c->cap * 2 : 256;
    unsigned char *p = c->oom ? NULL : realloc(c->p, cap);
    if (!p) {
        c->oom = true;
        return false;
    }
    c->p = p;
    c->cap = cap;
    return true;
}

static void s_put(column_t *c, uint64_t v)
{
    if (s_room(c, 10))
        c->len = (size_t)(store_put_varint(c->p + c->len, v) - c->p);
}

static void s_put_byte(column_t *c, unsigned char v)
{
    if (s_room(c, 1))
        c->p[c->len++] = v;
}

/* The runs of equal values in v[0..n). */
static size_t s_runs(const uint64_t *v, size_t n)
{
    size_t runs = n > 0;
    for (size_t i = 1; i < n; i++)
        runs += v[i] != v[i - 1];
    return runs;
}

/* Writes v[0..n) as their least (to base) and each one less it, in
 * `width` bytes spread over the planes. */
static void s_put_planes(column_t *col, int base, const uint64_t *v, size_t n, int width)
{
    uint64_t lo = UINT64_MAX;
    for (size_t i = 0; i < n; i++)
        lo = v[i] < lo ? v[i] : lo;
    s_put(&col[base], lo);
    for (int k = 0; k < width; k++)
        for (size_t i = 0; i < n; i++)
            s_put_byte(&col[S_PLANE0 + k], (unsigned char)((v[i] - lo) >> (8 * k)));
}

/* The bytes v[i] - min(v) take, 1..8. */
static int s_width(const uint64_t *v, size_t n)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    int width = 1;
    for (uint64_t range = hi - lo; width < 8 && range >> (8 * width); width++)
        ;
    return width;
}

/* Writes v[0..n) as runs of equal values: each value to sym, its repeats
 * less one to run. */
static void s_put_runs(column_t *sym, column_t *run, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = i + 1;
        while (k < n && v[k] == v[i])
            k++;
        s_put(sym, v[i]);
        s_put(run, k - i - 1);
        i = k;
    }
}

/* What the packer works from. */
typedef struct {
    const rawpack_batch_t *b; /* the caller's batches, nb of them; borrowed */
    size_t nb;
    const store_sample_t *s; /* the caller's samples, ns of them; borrowed */
    size_t ns;
    uint32_t *batch_of;  /* per sample, its batch */
    uint32_t *ids;       /* the distinct series ids, ascending, nseries of them */
    uint32_t *tmp;       /* room to merge ids into */
    uint32_t *series_of; /* per sample, its series' index in ids */
    size_t nseries;
    size_t *start;     /* per series (and one past), where its samples begin in order */
    size_t *order;     /* the samples' indexes grouped by series, each group in batch order */
    uint64_t *scratch; /* nb values of one series */
    column_t col[S_NCOLUMNS];
} packer_t;

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Checks the nsamples and order of the caller's input, noting each
 * sample's batch. 0, or -1 + err. */
static int s_check_input(packer_t *p, char *err, size_t errsz)
{
    size_t k = 0;
    for (size_t i = 0; i < p->nb; i++) {
        if (p->b[i].nsamples > p->ns - k) {
            s_errf(err, errsz, "rawpack: batch %zu's %zu samples run past the %zu given", i,
                   p->b[i].nsamples, p->ns);
            return -1;
        }
        for (size_t j = 0; j < p->b[i].nsamples; j++, k++) {
            p->batch_of[k] = (uint32_t)i;
            if (j && p->s[k].series_id <= p->s[k - 1].series_id) {
                s_errf(err, errsz,
                       "rawpack: batch %zu: series %u after %u (a batch's samples "
                       "must be in strictly ascending series id)",
                       i, p->s[k].series_id, p->s[k - 1].series_id);
                return -1;
            }
        }
    }
    if (k != p->ns) {
        s_errf(err, errsz, "rawpack: the batches hold %zu samples, not the %zu given", k, p->ns);
        return -1;
    }
    return 0;
}

/* The first of ids[from..n) not below id. Galloping from `from`: a
 * batch's ids come in order, mostly a step or two apart in the block's. */
static size_t s_find(const uint32_t *ids, size_t from, size_t n, uint32_t id)
{
    size_t lo = from, hi = from, step = 1;
    while (hi < n && ids[hi] < id) {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    hi = hi < n ? hi : n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whether every id of batch i (its samples from k0) is in ids[0..nd). */
static bool s_known(const packer_t *p, size_t i, size_t k0, const uint32_t *ids, size_t nd)
{
    for (size_t k = k0, at = 0; k < k0 + p->b[i].nsamples; k++) {
        at = s_find(ids, at, nd, p->s[k].series_id);
        if (at == nd || ids[at] != p->s[k].series_id)
            return false;
    }
    return true;
}

/* The distinct series and each one's samples in batch order. The ids are
 * the union of the batches' (each sorted): merged in when a batch brings
 * new ones, which after the first batch is rare; then a counting sort by
 * series, stable. (A sort of every sample's id cost more than the rest of
 * the packing together.) */
static void s_group(packer_t *p)
{
    size_t nd = 0;
    for (size_t i = 0, k0 = 0; i < p->nb; k0 += p->b[i++].nsamples) {
        if (s_known(p, i, k0, p->ids, nd))
            continue;
        size_t a = 0, m = 0, k = k0, end = k0 + p->b[i].nsamples;
        while (a < nd || k < end) {
            if (k == end || (a < nd && p->ids[a] < p->s[k].series_id))
                p->tmp[m++] = p->ids[a++];
            else if (a == nd || p->s[k].series_id < p->ids[a])
                p->tmp[m++] = p->s[k++].series_id;
            else
                p->tmp[m++] = p->ids[a++], k++;
        }
        uint32_t *t = p->ids;
        p->ids = p->tmp;
        p->tmp = t;
        nd = m;
    }
    p->nseries = nd;
    memset(p->start, 0, (nd + 2) * sizeof *p->start);
    for (size_t i = 0, k0 = 0; i < p->nb; k0 += p->b[i++].nsamples)
        for (size_t k = k0, at = 0; k < k0 + p->b[i].nsamples; k++) {
            at = s_find(p->ids, at, nd, p->s[k].series_id);
            p->series_of[k] = (uint32_t)at;
            p->start[at + 1]++;
        }
    for (size_t j = 0; j < nd; j++)
        p->start[j + 1] += p->start[j];
    /* order fills from each group's start; start ends shifted by one group */
    for (size_t k = 0; k < p->ns; k++)
        p->order[p->start[p->series_of[k]]++] = k;
    memmove(p->start + 1, p->start, nd * sizeof *p->start);
    p->start[0] = 0;
}

/* The median step between batches (0 for fewer than 2). */
static int64_t s_period(const packer_t *p)
{
    if (p->nb < 2)
        return 0;
    int64_t *d = (int64_t *)p->scratch;
    for (size_t i = 1; i < p->nb; i++)
        d[i - 1] = (int64_t)((uint64_t)p->b[i].ts_ns - (uint64_t)p->b[i - 1].ts_ns);
    qsort(d, p->nb - 1, sizeof *d, s_cmp_i64);
    return d[(p->nb - 1) / 2];
}

static void s_put_batches(packer_t *p, uint64_t period)
{
    column_t *c = p->col;
    for (size_t i = 0; i < p->nb; i++) {
        const rawpack_batch_t *b = &p->b[i], *a = i ? &p->b[i - 1] : b;
        uint64_t ts = (uint64_t)b->ts_ns, ats = (uint64_t)a->ts_ns;
        s_put(&c[S_TS], i ? s_zz(ts - ats - period) : ts);
        s_put(&c[S_PREV], s_zz((uint64_t)b->prev_ts_ns - ats));
        s_put(&c[S_RECV], s_zz((uint64_t)b->received_ns - ts));
        s_put(&c[S_INC], i ? s_zz((uint64_t)b->incarnation - (uint64_t)a->incarnation)
                           : (uint64_t)b->incarnation);
        s_put(&c[S_SEQ], i ? s_zz((uint64_t)b->seq - (uint64_t)a->seq - 1) : (uint64_t)b->seq);
    }
}

/* Series j's presence: (skip, take - 1) pairs over the batches. */
static void s_put_presence(packer_t *p, const size_t *k, size_t n)
{
    size_t npairs = 0;
    for (size_t i = 0; i < n; i++)
        npairs += !i || p->batch_of[k[i]] != p->batch_of[k[i - 1]] + 1;
    s_put(&p->col[S_PRESENCE], npairs);
    size_t next = 0; /* the batch after the last run */
    for (size_t i = 0; i < n;) {
        size_t e = i + 1;
        while (e < n && p->batch_of[k[e]] == p->batch_of[k[e - 1]] + 1)
            e++;
        s_put(&p->col[S_PRESENCE], p->batch_of[k[i]] - next);
        s_put(&p->col[S_PRESENCE], e - i - 1);
        next = p->batch_of[k[e - 1]] + 1;
        i = e;
    }
}

/* Series j's samples. */
static void s_put_series(packer_t *p, size_t j)
{
    const size_t *k = p->order + p->start[j];
    size_t n = p->start[j + 1] - p->start[j];
    column_t *c = p->col;
    uint64_t *v = p->scratch;
    s_put(&c[S_IDS], j ? p->ids[j] - p->ids[j - 1] - 1 : p->ids[j]);
    s_put_presence(p, k, n);
    for (size_t i = 0; i < n; i++)
        v[i] = p->s[k[i]].flags;
    s_put_runs(&c[S_FLAGS], &c[S_FLAGS_RUN], v, n);
    s_put(&c[S_BASE], p->s[k[0]].value);
    for (size_t i = 1; i < n; i++) {
        const store_sample_t *a = &p->s[k[i - 1]], *b = &p->s[k[i]];
        v[i - 1] = s_zz(b->value - a->value - (uint64_t)b->delta);
    }
    s_put_runs(&c[S_RESID], &c[S_RESID_RUN], v, n - 1);
    for (size_t i = 0; i < n; i++)
        v[i] = s_zz((uint64_t)p->s[k[i]].delta);
    /* Runs when they are runs; planes when nearly every delta differs. */
    int width = n >= 8 && s_runs(v, n) * 4 > n * 3 ? s_width(v, n) : 0;
    s_put(&c[S_DELTA_WIDTH], (uint64_t)width);
    if (width)
        s_put_planes(c, S_DELTA, v, n, width);
    else
        s_put_runs(&c[S_DELTA], &c[S_DELTA_RUN], v, n);
}

/* The header and the columns, in one malloc'd buffer *raw of *rawlen
 * bytes. 0, or -1 + err. */
static int s_join(packer_t *p, uint64_t period, unsigned char **raw, size_t *rawlen,
                  size_t cuts[S_NCUTS], char *err, size_t errsz)
{
    column_t head = {0};
    s_put(&head, p->nb);
    s_put(&head, p->nseries);
    s_put(&head, p->ns);
    s_put(&head, s_zz(period));
    size_t len = 0;
    bool oom = false;
    for (int c = 0; c < S_NCOLUMNS; c++) {
        s_put(&head, p->col[c].len);
        len += p->col[c].len;
        oom |= p->col[c].oom;
    }
    len += head.len;
    if (oom || head.oom || !(*raw = malloc(len ? len : 1))) {
        free(head.p);
        s_errf(err, errsz, "rawpack: out of memory for %zu samples", p->ns);
        return -1;
    }
    memcpy(*raw, head.p, head.len);
    *rawlen = head.len;
    free(head.p);
    for (int c = 0; c < S_NCOLUMNS; c++) {
        if (c >= S_PLANE0) /* each plane a frame of its own (s_seal) */
            cuts[c - S_PLANE0] = *rawlen;
        if (p->col[c].len)
            memcpy(*raw + *rawlen, p->col[c].p, p->col[c].len);
        *rawlen += p->col[c].len;
    }
    cuts[S_NCUTS - 1] = *rawlen;
    if (*rawlen > RAWPACK_RAW_MAX) {
        s_errf(err, errsz,
               "rawpack: %zu bytes of columns, over the bound of %u (pack fewer "
               "batches a block)",
               *rawlen, RAWPACK_RAW_MAX);
        free(*raw);
        return -1;
    }
    return 0;
}

/* The block: version, mode, then the columns as they are or zstd frames
 * of them: one up to the first plane, then one a plane. A frame's entropy
 * coder has one table for all its bytes, and the planes' bytes are
 * distributed each its own way (the low ones uniform, the high ones
 * mostly small): mixed, every byte would cost about 8 bits. */
static int s_seal(const unsigned char *raw, const size_t cuts[S_NCUTS], int level,
                  unsigned char **out, size_t *outlen, char *err, size_t errsz)
{
    size_t rawlen = cuts[S_NCUTS - 1];
    size_t cap = 2 + (level ? ZSTD_compressBound(rawlen) + S_NCUTS * 32 : rawlen);
    if (!(*out = malloc(cap))) {
        s_errf(err, errsz, "rawpack: out of memory for a block of %zu bytes", cap);
        return -1;
    }
    (*out)[0] = RAWPACK_VERSION;
    (*out)[1] = level ? S_MODE_ZSTD : S_MODE_RAW;
    if (!level) {
        memcpy(*out + 2, raw, rawlen);
        *outlen = cap;
        return 0;
    }
    *outlen = 2;
    for (size_t k = 0, from = 0; k < S_NCUTS; from = cuts[k++]) {
        if (k && cuts[k] == from)
            continue; /* an empty plane: no frame */
        size_t n = ZSTD_compress(*out + *outlen, cap - *outlen, raw + from, cuts[k] - from, level);
        if (ZSTD_isError(n)) {
            s_errf(err, errsz, "rawpack: ZSTD_compress(level %d): %s", level, ZSTD_getErrorName(n));
            free(*out);
            *out = NULL;
            return -1;
        }
        *outlen += n;
    }
    return 0;
}

static void s_packer_free(packer_t *p)
{
    free(p->batch_of);
    free(p->ids);
    free(p->tmp);
    free(p->series_of);
    free(p->start);
    free(p->order);
    free(p->scratch);
    for (int c = 0; c < S_NCOLUMNS; c++)
        free(p->col[c].p);
}

int rawpack_pack(const rawpack_batch_t *b, size_t nb, const store_sample_t *s, size_t ns, int level,
                 unsigned char **out, size_t *outlen, char *err, size_t errsz)
{
    *out = NULL;
    *outlen = 0;
    if (level < 0 || level > ZSTD_maxCLevel()) {
        s_errf(err, errsz, "rawpack: zstd level %d out of 0..%d", level, ZSTD_maxCLevel());
        return -1;
    }
    if (nb > RAWPACK_BATCHES_MAX || ns > RAWPACK_SAMPLES_MAX) {
        s_errf(err, errsz,
               "rawpack: %zu batches and %zu samples, over the bounds of %u and %u "
               "(pack fewer batches a block)",
               nb, ns, RAWPACK_BATCHES_MAX, RAWPACK_SAMPLES_MAX);
        return -1;
    }
    packer_t p = {.b = b, .nb = nb, .s = s, .ns = ns};
    /* the bounds keep these products far from overflowing */
    p.batch_of = malloc((ns + 1) * sizeof *p.batch_of);
    p.ids = malloc((ns + 1) * sizeof *p.ids);
    p.tmp = malloc((ns + 1) * sizeof *p.tmp);
    p.series_of = malloc((ns + 1) * sizeof *p.series_of);
    p.start = malloc((ns + 2) * sizeof *p.start);
    p.order = malloc((ns + 1) * sizeof *p.order);
    p.scratch = malloc((nb + 1) * sizeof *p.scratch);
    int rc = -1;
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    if (!p.batch_of || !p.ids || !p.tmp || !p.series_of || !p.start || !p.order || !p.scratch) {
        s_errf(err, errsz, "rawpack: out of memory for %zu samples", ns);
        goto done;
    }
    if (s_check_input(&p, err, errsz) != 0)
        goto done;
    s_group(&p);
    uint64_t period = (uint64_t)s_period(&p);
    s_put_batches(&p, period);
    for (size_t j = 0; j < p.nseries; j++)
        s_put_series(&p, j);
    size_t cuts[S_NCUTS];
    if (s_join(&p, period, &raw, &rawlen, cuts, err, errsz) == 0)
        rc = s_seal(raw, cuts, level, out, outlen, err, errsz);
done:
    free(raw);
    s_packer_free(&p);
    return rc;
}

/* --- unpacking ----------------------------------------------------------- */

/* A column being read. */
typedef struct {
    const unsigned char *p, *end;
} reader_t;

/* What the unpacker works on. */
typedef struct {
    reader_t col[S_NCOLUMNS];
    size_t nb, nseries, ns;
    uint64_t period;
    rawpack_batch_t *b; /* nb, the result */
    store_sample_t *s;  /* ns, the result */
    size_t *next;       /* per batch, its next sample's slot in s */
    size_t *at;         /* the batches of one series */
    uint64_t *v;        /* nb values of one series */
    char *err;
    size_t errsz;
} unpacker_t;

/* The next varint of column c into *v; false + err when it is cut short. */
static bool s_get(unpacker_t *u, int c, uint64_t *v)
{
    if (store_get_varint(&u->col[c].p, u->col[c].end, v))
        return true;
    s_errf(u->err, u->errsz,
           "rawpack: column %s is cut short or holds a bad varint (the block "
           "is damaged)",
           s_names[c]);
    return false;
}

/* n values of runs in columns sym and run into u->v; false + err. */
static bool s_get_runs(unpacker_t *u, int sym, int run, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint64_t x, r;
        if (!s_get(u, sym, &x) || !s_get(u, run, &r))
            return false;
        if (r >= n - i) {
            s_errf(u->err, u->errsz,
                   "rawpack: column %s: a run of %llu + 1 past the %zu values "
                   "of its series (the block is damaged)",
                   s_names[run], (unsigned long long)r, n - i);
            return false;
        }
        for (size_t e = i + (size_t)r + 1; i < e; i++)
            u->v[i] = x;
    }
    return true;
}

/* n values written by s_put_planes (width bytes each) into u->v; false + err. */
static bool s_get_planes(unpacker_t *u, int base, size_t n, uint64_t width)
{
    uint64_t lo;
    if (width > 8) {
        s_errf(u->err, u->errsz,
               "rawpack: column delta_width: %llu bytes, not 0..8 (the block is "
               "damaged)",
               (unsigned long long)width);
        return false;
    }
    if (!s_get(u, base, &lo))
        return false;
    for (size_t i = 0; i < n; i++)
        u->v[i] = lo;
    for (int k = 0; k < (int)width; k++) {
        reader_t *r = &u->col[S_PLANE0 + k];
        if ((size_t)(r->end - r->p) < n) {
            s_errf(u->err, u->errsz, "rawpack: column %s is cut short (the block is damaged)",
                   s_names[S_PLANE0 + k]);
            return false;
        }
        for (size_t i = 0; i < n; i++)
            u->v[i] += (uint64_t)*r->p++ << (8 * k);
    }
    return true;
}

/* One series' batches into u->at, *n of them; false + err. */
static bool s_get_presence(unpacker_t *u, size_t *n)
{
    uint64_t npairs, skip, take;
    size_t pos = 0;
    *n = 0;
    if (!s_get(u, S_PRESENCE, &npairs))
        return false;
    if (npairs == 0 || npairs > u->nb) {
        s_errf(u->err, u->errsz,
               "rawpack: column presence: %llu runs of a series in %zu batches "
               "(the block is damaged)",
               (unsigned long long)npairs, u->nb);
        return false;
    }
    for (uint64_t r = 0; r < npairs; r++) {
        if (!s_get(u, S_PRESENCE, &skip) || !s_get(u, S_PRESENCE, &take))
            return false;
        if (skip >= u->nb - pos || take >= u->nb - pos - skip) {
            s_errf(u->err, u->errsz,
                   "rawpack: column presence: a run past the %zu batches "
                   "(the block is damaged)",
                   u->nb);
            return false;
        }
        pos += (size_t)skip;
        for (size_t e = pos + (size_t)take + 1; pos < e; pos++)
            u->at[(*n)++] = pos;
    }
    return true;
}

/* The id of the series after prev (j of them read) into *id; false + err. */
static bool s_get_id(unpacker_t *u, size_t j, uint32_t prev, uint32_t *id)
{
    uint64_t d;
    if (!s_get(u, S_IDS, &d))
        return false;
    uint64_t base = j ? (uint64_t)prev + 1 : 0;
    if (d > UINT32_MAX - base) {
        s_errf(u->err, u->errsz,
               "rawpack: column ids: series %zu's id is past %u (the block is "
               "damaged)",
               j, UINT32_MAX);
        return false;
    }
    *id = (uint32_t)(base + d);
    return true;
}

/* Series j's samples into their batches' slots of u->s; false + err. */
static bool s_get_series(unpacker_t *u, size_t j, uint32_t *id)
{
    size_t n;
    uint64_t base;
    if (!s_get_id(u, j, *id, id) || !s_get_presence(u, &n) ||
        !s_get_runs(u, S_FLAGS, S_FLAGS_RUN, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (u->v[i] > UINT32_MAX) {
            s_errf(u->err, u->errsz,
                   "rawpack: column flags: %llu is not a u32 (the block is "
                   "damaged)",
                   (unsigned long long)u->v[i]);
            return false;
        }
        store_sample_t *s = &u->s[u->next[u->at[i]]];
        s->series_id = *id;
        s->flags = (uint32_t)u->v[i];
    }
    uint64_t width;
    if (!s_get(u, S_DELTA_WIDTH, &width) ||
        !(width ? s_get_planes(u, S_DELTA, n, width) : s_get_runs(u, S_DELTA, S_DELTA_RUN, n)))
        return false;
    for (size_t i = 0; i < n; i++)
        u->s[u->next[u->at[i]]].delta = (int64_t)s_unzz(u->v[i]);
    if (!s_get(u, S_BASE, &base) || !s_get_runs(u, S_RESID, S_RESID_RUN, n - 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        store_sample_t *s = &u->s[u->next[u->at[i]]++];
        s->value = i ? base + (uint64_t)s->delta + s_unzz(u->v[i - 1]) : base;
        base = s->value;
    }
    return true;
}

/* The batch columns into u->b; false + err. */
static bool s_get_batches(unpacker_t *u)
{
    for (size_t i = 0; i < u->nb; i++) {
        rawpack_batch_t *b = &u->b[i];
        const rawpack_batch_t *a = i ? &u->b[i - 1] : NULL;
        uint64_t ts, prev, recv, inc, seq;
        if (!s_get(u, S_TS, &ts) || !s_get(u, S_PREV, &prev) || !s_get(u, S_RECV, &recv) ||
            !s_get(u, S_INC, &inc) || !s_get(u, S_SEQ, &seq))
            return false;
        if (a) {
            ts = (uint64_t)a->ts_ns + u->period + s_unzz(ts);
            inc = (uint64_t)a->incarnation + s_unzz(inc);
            seq = (uint64_t)a->seq + 1 + s_unzz(seq);
        }
        b->ts_ns = (int64_t)ts;
        b->prev_ts_ns = (int64_t)((a ? (uint64_t)a->ts_ns : ts) + s_unzz(prev));
        b->received_ns = (int64_t)(ts + s_unzz(recv));
        b->incarnation = (int64_t)inc;
        b->seq = (int64_t)seq;
        b->nsamples = 0;
    }
    return true;
}

/* Counts each batch's samples from the presence column (read again after
 * it), so that the samples land in their slots in one pass; checks that
 * they are ns in all. false + err. */
static bool s_count(unpacker_t *u)
{
    reader_t saved = u->col[S_PRESENCE];
    size_t total = 0, n;
    for (size_t j = 0; j < u->nseries; j++) {
        if (!s_get_presence(u, &n))
            return false;
        for (size_t i = 0; i < n; i++)
            u->b[u->at[i]].nsamples++;
        total += n;
        if (total > u->ns) /* early: a few bytes can claim nb samples a series */
            break;
    }
    if (total != u->ns) {
        s_errf(u->err, u->errsz,
               "rawpack: column presence places %zu samples, the header says "
               "%zu (the block is damaged)",
               total, u->ns);
        return false;
    }
    u->col[S_PRESENCE] = saved;
    return true;
}

/* The header's counts and the columns' extents within raw; false + err. */
static bool s_header(unpacker_t *u, const unsigned char *raw, size_t len)
{
    reader_t h = {raw, raw + len};
    uint64_t nb, nseries, ns, period, clen[S_NCOLUMNS];
    bool ok = store_get_varint(&h.p, h.end, &nb) && store_get_varint(&h.p, h.end, &nseries) &&
              store_get_varint(&h.p, h.end, &ns) && store_get_varint(&h.p, h.end, &period);
    for (int c = 0; ok && c < S_NCOLUMNS; c++)
        ok = store_get_varint(&h.p, h.end, &clen[c]);
    if (!ok) {
        s_errf(u->err, u->errsz, "rawpack: the header is cut short (%zu bytes of columns)", len);
        return false;
    }
    if (nb > RAWPACK_BATCHES_MAX || ns > RAWPACK_SAMPLES_MAX || nseries > ns || (ns && !nseries)) {
        s_errf(u->err, u->errsz,
               "rawpack: the header says %llu batches, %llu series, %llu "
               "samples (bounds %u and %u, series at most samples, at least 1 if any)",
               (unsigned long long)nb, (unsigned long long)nseries, (unsigned long long)ns,
               RAWPACK_BATCHES_MAX, RAWPACK_SAMPLES_MAX);
        return false;
    }
    for (int c = 0; c < S_NCOLUMNS; c++) {
        if (clen[c] > (size_t)(h.end - h.p)) {
            s_errf(u->err, u->errsz, "rawpack: column %s's %llu bytes run past the block's %zu",
                   s_names[c], (unsigned long long)clen[c], len);
            return false;
        }
        u->col[c] = (reader_t){h.p, h.p + clen[c]};
        h.p += clen[c];
    }
    if (h.p != h.end) {
        s_errf(u->err, u->errsz, "rawpack: %zu bytes after the last column", (size_t)(h.end - h.p));
        return false;
    }
    u->nb = (size_t)nb, u->nseries = (size_t)nseries, u->ns = (size_t)ns;
    u->period = s_unzz(period);
    return true;
}

/* Every column read to its end; false + err. */
static bool s_all_read(unpacker_t *u)
{
    for (int c = 0; c < S_NCOLUMNS; c++)
        if (u->col[c].p != u->col[c].end) {
            s_errf(u->err, u->errsz,
                   "rawpack: column %s has %zu bytes left over (the block is "
                   "damaged)",
                   s_names[c], (size_t)(u->col[c].end - u->col[c].p));
            return false;
        }
    return true;
}

/* The columns of raw into u->b and u->s; false + err. */
static bool s_decode(unpacker_t *u, const unsigned char *raw, size_t len)
{
    if (!s_header(u, raw, len))
        return false;
    u->b = calloc(u->nb + 1, sizeof *u->b);
    u->next = malloc((u->nb + 1) * sizeof *u->next);
    u->at = malloc((u->nb + 1) * sizeof *u->at);
    u->v = malloc((u->nb + 1) * sizeof *u->v);
    if (!u->b || !u->next || !u->at || !u->v) {
        s_errf(u->err, u->errsz, "rawpack: out of memory for %zu batches", u->nb);
        return false;
    }
    if (!s_get_batches(u) || !s_count(u))
        return false;
    /* only now, the presence column having vouched for them */
    if (!(u->s = malloc((u->ns + 1) * sizeof *u->s))) {
        s_errf(u->err, u->errsz, "rawpack: out of memory for %zu samples", u->ns);
        return false;
    }
    for (size_t i = 0, k = 0; i < u->nb; k += u->b[i++].nsamples)
        u->next[i] = k;
    uint32_t id = 0;
    for (size_t j = 0; j < u->nseries; j++)
        if (!s_get_series(u, j, &id))
            return false;
    return s_all_read(u);
}

/* The columns of the block at p (len bytes, after its version): pointed
 * into, or in *raw (malloc'd) when it is zstd's. false + err. */
static bool s_open(const unsigned char *p, size_t len, const unsigned char **cols, size_t *colslen,
                   unsigned char **raw, char *err, size_t errsz)
{
    int mode = len ? p[0] : -1;
    if (mode != S_MODE_RAW && mode != S_MODE_ZSTD) {
        s_errf(err, errsz, "rawpack: mode %d, not 0 (raw) or 1 (zstd)", mode);
        return false;
    }
    p++, len--;
    if (mode == S_MODE_RAW) {
        if (len > RAWPACK_RAW_MAX) {
            s_errf(err, errsz, "rawpack: %zu bytes of columns, over the bound of %u", len,
                   RAWPACK_RAW_MAX);
            return false;
        }
        *cols = p, *colslen = len;
        return true;
    }
    /* One frame or more, each of a size said and bounded, tiling the block. */
    unsigned long long size = 0;
    for (size_t at = 0; at < len || !at;) {
        unsigned long long part = ZSTD_getFrameContentSize(p + at, len - at);
        size_t framelen = ZSTD_findFrameCompressedSize(p + at, len - at);
        if (part == ZSTD_CONTENTSIZE_UNKNOWN || part == ZSTD_CONTENTSIZE_ERROR ||
            part > RAWPACK_RAW_MAX - size) {
            s_errf(err, errsz, "rawpack: zstd frame of %s size (bound %u bytes)",
                   part == ZSTD_CONTENTSIZE_ERROR     ? "no readable"
                   : part == ZSTD_CONTENTSIZE_UNKNOWN ? "unknown"
                                                      : "too large a",
                   RAWPACK_RAW_MAX);
            return false;
        }
        if (ZSTD_isError(framelen)) {
            s_errf(err, errsz, "rawpack: a zstd frame of the block of %zu bytes: %s", len + 2,
                   ZSTD_getErrorName(framelen));
            return false;
        }
        size += part;
        at += framelen;
    }
    if (!(*raw = malloc(size ? size : 1))) {
        s_errf(err, errsz, "rawpack: out of memory for %llu bytes of columns", size);
        return false;
    }
    size_t n = ZSTD_decompress(*raw, size, p, len); /* every frame, one after the other */
    if (ZSTD_isError(n) || n != size) {
        s_errf(err, errsz, "rawpack: ZSTD_decompress: %s",
               ZSTD_isError(n) ? ZSTD_getErrorName(n) : "fewer bytes than the frames say");
        return false;
    }
    *cols = *raw, *colslen = n;
    return true;
}

int rawpack_unpack(const void *blob, size_t len, rawpack_batch_t **b, size_t *nb,
                   store_sample_t **s, size_t *ns, char *err, size_t errsz)
{
    const unsigned char *p = blob, *cols = NULL;
    unsigned char *raw = NULL;
    size_t colslen = 0;
    unpacker_t u = {.err = err, .errsz = errsz};
    *b = NULL, *s = NULL, *nb = 0, *ns = 0;
    s_errf(err, errsz, "%s", "");
    bool ok = false;
    if (!p || len < 1 || p[0] != RAWPACK_VERSION)
        s_errf(err, errsz, "rawpack: version %d, not %d (not a rawpack block, or a newer one)",
               p && len ? p[0] : -1, RAWPACK_VERSION);
    else
        ok = s_open(p + 1, len - 1, &cols, &colslen, &raw, err, errsz) &&
             s_decode(&u, cols, colslen);
    free(raw);
    free(u.next);
    free(u.at);
    free(u.v);
    if (!ok) {
        free(u.b);
        free(u.s);
        return -1;
    }
    if (u.nb)
        *b = u.b, *nb = u.nb;
    else
        free(u.b);
    if (u.ns)
        *s = u.s, *ns = u.ns;
    else
        free(u.s);
    return 0;
}
