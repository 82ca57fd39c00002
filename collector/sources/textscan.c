/* textscan: see textscan.h. Every loop is bounded by the length it was given,
 * never by a terminator: the parsers' tests feed every prefix of real files in
 * buffers malloc'd to the byte, so ASan catches any read past the end. */
#include "textscan.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void textscan_problems_init(textscan_problems_t *self, char *err, size_t errsz)
{
    self->count = 0;
    self->err = err;
    self->errsz = errsz;
    if (err && errsz)
        err[0] = '\0';
}

void textscan_problem(textscan_problems_t *self, const char *fmt, ...)
{
    if (self->count++ == 0 && self->err && self->errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(self->err, self->errsz, fmt, ap);
        va_end(ap);
    }
}

int textscan_shown(size_t n, size_t limit)
{
    return n > limit ? (int)limit : (int)n;
}

bool textscan_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool textscan_next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *n)
{
    if (*pos >= len)
        return false;
    const char *start = buf + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    *n = nl ? (size_t)(nl - start) : len - *pos;
    *line = start;
    *pos += *n + (nl != NULL);
    return true;
}

size_t textscan_next_token(const char *s, size_t n, size_t *i, const char **tok)
{
    size_t k = *i; /* a local, not *i: a store through i each byte cost 2x on wide tables */
    while (k < n && textscan_is_space(s[k]))
        k++;
    size_t start = k;
    while (k < n && !textscan_is_space(s[k]))
        k++;
    *i = k;
    *tok = s + start;
    return k - start;
}

size_t textscan_count_tokens(const char *s, size_t n)
{
    size_t i = 0, count = 0;
    const char *tok;
    while (textscan_next_token(s, n, &i, &tok) > 0)
        count++;
    return count;
}

void textscan_trim(const char **s, size_t *n)
{
    while (*n > 0 && textscan_is_space((*s)[*n - 1]))
        (*n)--;
    while (*n > 0 && textscan_is_space(**s)) {
        (*s)++;
        (*n)--;
    }
}

int textscan_parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int textscan_parse_hex32(const char *s, size_t n, size_t maxdigits, uint32_t *out)
{
    assert(maxdigits <= 8);
    uint32_t v = 0;
    if (n == 0 || n > maxdigits)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16;
        if (d == 16)
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}
