/* netdev: parser for /proc/net/dev. Two header lines, then one line per
 * interface, `name: 16 decimal numbers`. Assumes what every kernel from 2.6
 * to 6.18 prints: the name is padded to 6 columns but may be wider
 * (`virbr0-nic:`), and a wide first counter follows the colon with no space
 * (`eth0:8144002186412`, 2.6.18). Interface names never contain ':' here
 * (alias names like eth0:1 are not listed), so the first ':' ends the name. */
#include "netdev.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NETDEV_NVALUES 16
#define NETDEV_HEADER_LINES 2
#define NETDEV_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define TOKEN_SHOWN 40       /* longest token quoted in an error message */

/* Column order of dev_seq_printf_stats() in net/core/net-procfs.c. Three
 * columns are sums the kernel folds before printing, and the names say so:
 *   rx "drop"    = rx_dropped + rx_missed_errors
 *   rx "frame"   = rx_length_errors + rx_over_errors + rx_crc_errors
 *                  + rx_frame_errors
 *   tx "carrier" = tx_carrier_errors + tx_aborted_errors
 *                  + tx_window_errors + tx_heartbeat_errors
 * so a reader must not take rx_drop_total for the driver's rx_dropped. */
static const char *const s_names[NETDEV_NVALUES] = {
    "rx_bytes",       "rx_packets",     "rx_errors",        "rx_drop_total",
    "rx_fifo_errors", "rx_frame_total", "rx_compressed",    "multicast",
    "tx_bytes",       "tx_packets",     "tx_errors",        "tx_dropped",
    "tx_fifo_errors", "collisions",     "tx_carrier_total", "tx_compressed",
};

static int s_shown(size_t n)
{
    return n > TOKEN_SHOWN ? TOKEN_SHOWN : (int)n;
}

static bool s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

__attribute__((format(printf, 4, 5))) static void s_problem(int *problems, char *err, size_t errsz,
                                                            const char *fmt, ...)
{
    if ((*problems)++ == 0 && err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
}

/* Sets [*line, *line + *n) to the next line, without its '\n'. */
static bool s_next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *n)
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

/* Returns the length of the next whitespace-separated token from *i, 0 at the end. */
static size_t s_next_token(const char *s, size_t n, size_t *i, const char **tok)
{
    while (*i < n && s_is_space(s[*i]))
        (*i)++;
    size_t start = *i;
    while (*i < n && !s_is_space(s[*i]))
        (*i)++;
    *tok = s + start;
    return *i - start;
}

static int s_parse_u64(const char *s, size_t n, uint64_t *out)
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

/* Parses the 16 values after the colon into vals. Returns 0, or -1 after
 * recording the problem. */
static int s_parse_values(const char *s, size_t n, unsigned lineno, const char *ifname,
                          uint64_t *vals, int *problems, char *err, size_t errsz)
{
    size_t i = 0, count = 0, toklen;
    const char *tok;
    while ((toklen = s_next_token(s, n, &i, &tok)) > 0) {
        if (count < NETDEV_NVALUES && s_parse_u64(tok, toklen, &vals[count]) != 0) {
            s_problem(problems, err, errsz,
                      "line %u: \"%s\" value %zu \"%.*s\" is not a decimal u64", lineno, ifname,
                      count + 1, s_shown(toklen), tok);
            return -1;
        }
        count++;
    }
    if (count != NETDEV_NVALUES) {
        s_problem(problems, err, errsz, "line %u: \"%s\" has %zu values, expected %d", lineno,
                  ifname, count, NETDEV_NVALUES);
        return -1;
    }
    return 0;
}

/* Parses one interface line and emits its 16 readings, or records a problem. */
static void s_parse_line(const char *line, size_t n, unsigned lineno, reading_fn *emit, void *ctx,
                         int *problems, char *err, size_t errsz)
{
    size_t start = 0;
    while (start < n && s_is_space(line[start]))
        start++;
    if (start == n)
        return; /* a blank line carries nothing */
    const char *colon = memchr(line + start, ':', n - start);
    if (!colon) {
        s_problem(problems, err, errsz, "line %u: no ':' after the interface name in \"%.*s\"",
                  lineno, s_shown(n - start), line + start);
        return;
    }
    size_t namelen = (size_t)(colon - (line + start));
    if (namelen == 0 || namelen > NETDEV_IFNAME_MAX) {
        s_problem(problems, err, errsz, "line %u: interface name \"%.*s\" is empty or too long",
                  lineno, s_shown(namelen), line + start);
        return;
    }
    char ifname[NETDEV_IFNAME_MAX + 1];
    memcpy(ifname, line + start, namelen);
    ifname[namelen] = '\0';

    uint64_t vals[NETDEV_NVALUES];
    size_t rest = (size_t)(colon + 1 - line);
    if (s_parse_values(line + rest, n - rest, lineno, ifname, vals, problems, err, errsz) != 0)
        return;
    for (size_t k = 0; k < NETDEV_NVALUES; k++) {
        reading_t r = {.source = "netdev", .device = ifname, .name = s_names[k], .value = vals[k]};
        emit(ctx, &r);
    }
}

int netdev_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    int problems = 0;
    size_t pos = 0, n;
    unsigned lineno = 0;
    const char *line;
    if (err && errsz)
        err[0] = '\0';
    while (s_next_line(buf, len, &pos, &line, &n)) {
        if (++lineno <= NETDEV_HEADER_LINES)
            continue;
        s_parse_line(line, n, lineno, emit, ctx, &problems, err, errsz);
    }
    return problems;
}
