/* textscan: the line, token and number scanning shared by the pure text
 * parsers (/proc/net files, /proc/sys files, `ethtool` output), and the rule
 * they all report problems by: count every one, describe the first. Buffers
 * are not NUL-terminated: every function takes a pointer and a length and
 * reads nothing past it. No allocation, no I/O, no state of its own. */
#ifndef DROPSCOPE_TEXTSCAN_H
#define DROPSCOPE_TEXTSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A parser's problem count and the caller's buffer for the first message.
 * Lives on the parser's stack; owns nothing. */
typedef struct {
    int count;    /* problems recorded so far; what the parser returns */
    char *err;    /* the caller's buffer for the first message; may be NULL */
    size_t errsz; /* size of err; 0 = no message wanted */
} textscan_problems_t;

/* Starts a count at 0 and sets err to "" (when err && errsz), so that a
 * clean parse leaves "" behind. */
void textscan_problems_init(textscan_problems_t *self, char *err, size_t errsz);

/* Counts one problem. The first one is formatted into err (truncated to
 * errsz like snprintf); later ones are only counted. */
void textscan_problem(textscan_problems_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns n capped at limit, as the int a "%.*s" precision takes: how much of
 * an offending token an error message quotes. */
int textscan_shown(size_t n, size_t limit);

/* True for the blanks that separate tokens: ' ', '\t', '\n', '\r', '\v', '\f'
 * (isspace() of the C locale, without its locale dependence). */
bool textscan_is_space(char c);

/* Sets [*line, *line + *n) to the line starting at buf + *pos, without its
 * '\n', and moves *pos past it. The last line needs no '\n'. Returns false,
 * touching nothing, once *pos >= len. Start with *pos = 0; buf may be NULL
 * when len is 0. */
bool textscan_next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *n);

/* Skips blanks from s + *i, then sets *tok to the token there and returns its
 * length, moving *i past it. Returns 0 (with *i == n) when only blanks are
 * left. Start with *i = 0. */
size_t textscan_next_token(const char *s, size_t n, size_t *i, const char **tok);

/* Returns the number of blank-separated tokens in [s, s + n). */
size_t textscan_count_tokens(const char *s, size_t n);

/* Narrows [*s, *s + *n) to drop leading and trailing blanks. */
void textscan_trim(const char **s, size_t *n);

/* Parses exactly n decimal digits (no sign, no blanks) into *out. Returns 0,
 * or -1 with *out untouched if n is 0, a byte is not a digit, or the value
 * exceeds UINT64_MAX. */
int textscan_parse_u64(const char *s, size_t n, uint64_t *out);

/* Parses exactly n hex digits, either case, 1 <= n <= maxdigits, into *out.
 * maxdigits must be at most 8, so the value always fits. Returns 0, or -1
 * with *out untouched. */
int textscan_parse_hex32(const char *s, size_t n, size_t maxdigits, uint32_t *out);

#endif
