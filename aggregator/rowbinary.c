/* rowbinary: see rowbinary.h. Pure: no I/O, no globals, so the reader can
 * be tested on every prefix of a real answer and fuzzed. An INSERT batch is
 * thousands of small appends, so the writer grows by doubling (grow.h) and
 * its failures stick rather than being checked at each append. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "grow.h"
#include "rowbinary.h"

#define LEB128_MAX 10 /* bytes of a LEB128 uint64 at most (7 bits each) */

struct rbw {
    uint8_t *buf; /* len bytes written, cap allocated */
    size_t len, cap;
    bool failed; /* an append found no memory: every later one is refused */
};

rbw_t *rbw_new(void)
{
    return calloc(1, sizeof(rbw_t));
}

void rbw_destroy(rbw_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->buf);
    free(*self_p);
    *self_p = NULL;
}

void rbw_reset(rbw_t *self)
{
    self->len = 0;
    self->failed = false;
}

/* Room for n more bytes at the end: a pointer to them, or NULL (failed). */
static uint8_t *s_room(rbw_t *self, size_t n)
{
    if (self->failed)
        return NULL;
    if (n > SIZE_MAX - self->len) {
        self->failed = true;
        return NULL;
    }
    uint8_t *buf = grow(self->buf, self->len + n, &self->cap, 1, 4096);
    if (!buf) {
        self->failed = true;
        return NULL;
    }
    self->buf = buf;
    uint8_t *at = buf + self->len;
    self->len += n;
    return at;
}

static int s_put_le(rbw_t *self, uint64_t v, int bytes)
{
    uint8_t *at = s_room(self, (size_t)bytes);
    if (!at)
        return -1;
    bytes_put_le(at, v, bytes);
    return 0;
}

int rbw_u8(rbw_t *self, uint8_t v)
{
    return s_put_le(self, v, 1);
}

int rbw_u16(rbw_t *self, uint16_t v)
{
    return s_put_le(self, v, 2);
}

int rbw_u32(rbw_t *self, uint32_t v)
{
    return s_put_le(self, v, 4);
}

int rbw_u64(rbw_t *self, uint64_t v)
{
    return s_put_le(self, v, 8);
}

int rbw_i64(rbw_t *self, int64_t v)
{
    return s_put_le(self, (uint64_t)v, 8); /* two's complement, as ClickHouse keeps it */
}

int rbw_f64(rbw_t *self, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits); /* IEEE 754 binary64, bit for bit (NaNs too) */
    return s_put_le(self, bits, 8);
}

int rbw_array_len(rbw_t *self, uint64_t n)
{
    uint8_t tmp[LEB128_MAX];
    size_t k = 0;
    for (; n >= 0x80; n >>= 7)
        tmp[k++] = (uint8_t)(n | 0x80);
    tmp[k++] = (uint8_t)n;
    uint8_t *at = s_room(self, k);
    if (!at)
        return -1;
    memcpy(at, tmp, k);
    return 0;
}

int rbw_string(rbw_t *self, const void *s, size_t len)
{
    if (rbw_array_len(self, len) < 0) /* a String's length is the same LEB128 */
        return -1;
    uint8_t *at = s_room(self, len);
    if (!at)
        return -1;
    if (len)
        memcpy(at, s, len);
    return 0;
}

const uint8_t *rbw_data(const rbw_t *self)
{
    return self->buf;
}

size_t rbw_len(const rbw_t *self)
{
    return self->len;
}

bool rbw_failed(const rbw_t *self)
{
    return self->failed;
}

/* --- reader --------------------------------------------------------------- */

rbr_t rbr_init(const void *buf, size_t len)
{
    return (rbr_t){.buf = buf, .len = len};
}

/* Marks the reader failed on what; always -1. */
static int s_fail(rbr_t *r, const char *what)
{
    if (!r->failed) {
        r->failed = what;
        r->failed_at = r->pos;
    }
    return -1;
}

/* The next n bytes, consumed; NULL (failed on what) when fewer are left. */
static const uint8_t *s_take(rbr_t *r, size_t n, const char *what)
{
    if (r->failed || n > r->len - r->pos) {
        s_fail(r, what);
        return NULL;
    }
    const uint8_t *at = r->buf + r->pos;
    r->pos += n;
    return at;
}

/* Reads a little-endian value of `bytes` bytes (1, 2, 4 or 8) into the
 * object of that size at v: an unsigned or signed integer, or for 8 bytes
 * a double's bits. */
static int s_get_le(rbr_t *r, void *v, int bytes, const char *what)
{
    const uint8_t *at = s_take(r, (size_t)bytes, what);
    if (!at)
        return -1;
    uint64_t x = bytes_get_le(at, bytes);
    uint8_t u8 = (uint8_t)x;
    uint16_t u16 = (uint16_t)x;
    uint32_t u32 = (uint32_t)x;
    const void *from = bytes == 1   ? (const void *)&u8
                       : bytes == 2 ? (const void *)&u16
                       : bytes == 4 ? (const void *)&u32
                                    : (const void *)&x;
    memcpy(v, from, (size_t)bytes); /* host order: v's own type reads it */
    return 0;
}

int rbr_u8(rbr_t *r, uint8_t *v)
{
    return s_get_le(r, v, 1, "a UInt8 (1 byte)");
}

int rbr_u16(rbr_t *r, uint16_t *v)
{
    return s_get_le(r, v, 2, "a UInt16 (2 bytes)");
}

int rbr_u32(rbr_t *r, uint32_t *v)
{
    return s_get_le(r, v, 4, "a UInt32 (4 bytes)");
}

int rbr_u64(rbr_t *r, uint64_t *v)
{
    return s_get_le(r, v, 8, "a UInt64 (8 bytes)");
}

int rbr_i64(rbr_t *r, int64_t *v)
{
    return s_get_le(r, v, 8, "an Int64 (8 bytes)"); /* two's complement, as ClickHouse's */
}

int rbr_f64(rbr_t *r, double *v)
{
    return s_get_le(r, v, 8, "a Float64 (8 bytes)"); /* IEEE 754 binary64, bit for bit */
}

/* A LEB128 length, with at most LEB128_MAX bytes and no bits beyond 64. */
static int s_leb128(rbr_t *r, uint64_t *v, const char *what)
{
    uint64_t x = 0;
    for (int i = 0; i < LEB128_MAX; i++) {
        const uint8_t *b = s_take(r, 1, what);
        if (!b)
            return -1;
        if (i == LEB128_MAX - 1 && *b > 1) /* the 10th byte holds bit 63 alone */
            return s_fail(r, what);
        x |= (uint64_t)(*b & 0x7f) << (7 * i);
        if (!(*b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return s_fail(r, what);
}

/* A LEB128 length no larger than the bytes left (a String's bytes follow
 * it; an Array's elements take one byte at least). */
static int s_length(rbr_t *r, uint64_t *n, const char *what)
{
    uint64_t x;
    if (s_leb128(r, &x, what) < 0)
        return -1;
    if (x > r->len - r->pos)
        return s_fail(r, what);
    *n = x;
    return 0;
}

int rbr_string(rbr_t *r, const char **s, size_t *len)
{
    const char *what = "a String (its length, then its bytes)";
    uint64_t n;
    if (s_length(r, &n, what) < 0)
        return -1;
    *s = (const char *)s_take(r, (size_t)n, what); /* cannot fail: n bytes are left */
    *len = (size_t)n;
    return 0;
}

int rbr_array_len(rbr_t *r, uint64_t *n)
{
    return s_length(r, n, "an Array's length (no more elements than bytes left)");
}

bool rbr_more(const rbr_t *r)
{
    return !r->failed && r->pos < r->len;
}

bool rbr_failed(const rbr_t *r)
{
    return r->failed != NULL;
}

void rbr_error(const rbr_t *r, char *err, size_t errsz)
{
    if (!r->failed) {
        snprintf(err, errsz, "RowBinary answer read without error (%zu of %zu bytes)", r->pos,
                 r->len);
        return;
    }
    snprintf(err, errsz,
             "RowBinary answer cut short or not as expected: cannot read %s at byte %zu of %zu "
             "(the answer was truncated, or the SELECT's column types differ from those read)",
             r->failed, r->failed_at, r->len);
}
