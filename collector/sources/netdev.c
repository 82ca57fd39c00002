/* netdev: parser for /proc/net/dev. Two header lines, then one line per
 * interface, `name: 16 decimal numbers`. Assumes what every kernel from 2.6
 * to 6.18 prints: the name is padded to 6 columns but may be wider
 * (`virbr0-nic:`), and a wide first counter follows the colon with no space
 * (`eth0:8144002186412`, 2.6.18). Interface names never contain ':' here
 * (alias names like eth0:1 are not listed), so the first ':' ends the name. */
#include "netdev.h"

#include <stdint.h>
#include <string.h>

#include "source.h"
#include "textscan.h"

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
    return textscan_shown(n, TOKEN_SHOWN);
}

/* Parses the 16 values after the colon into vals. Returns 0, or -1 after
 * recording the problem. */
static int s_parse_values(const char *s, size_t n, unsigned lineno, const char *ifname,
                          uint64_t *vals, textscan_problems_t *probs)
{
    size_t i = 0, count = 0, toklen;
    const char *tok;
    while ((toklen = textscan_next_token(s, n, &i, &tok)) > 0) {
        if (count < NETDEV_NVALUES && textscan_parse_u64(tok, toklen, &vals[count]) != 0) {
            textscan_problem(probs, "line %u: \"%s\" value %zu \"%.*s\" is not a decimal u64",
                             lineno, ifname, count + 1, s_shown(toklen), tok);
            return -1;
        }
        count++;
    }
    if (count != NETDEV_NVALUES) {
        textscan_problem(probs, "line %u: \"%s\" has %zu values, expected %d", lineno, ifname,
                         count, NETDEV_NVALUES);
        return -1;
    }
    return 0;
}

/* Parses one interface line and emits its 16 readings, or records a problem. */
static void s_parse_line(const char *line, size_t n, unsigned lineno, reading_fn *emit, void *ctx,
                         textscan_problems_t *probs)
{
    size_t start = 0;
    while (start < n && textscan_is_space(line[start]))
        start++;
    if (start == n)
        return; /* a blank line carries nothing */
    const char *colon = memchr(line + start, ':', n - start);
    if (!colon) {
        textscan_problem(probs, "line %u: no ':' after the interface name in \"%.*s\"", lineno,
                         s_shown(n - start), line + start);
        return;
    }
    size_t namelen = (size_t)(colon - (line + start));
    if (namelen == 0 || namelen > NETDEV_IFNAME_MAX) {
        textscan_problem(probs, "line %u: interface name \"%.*s\" is empty or too long", lineno,
                         s_shown(namelen), line + start);
        return;
    }
    char ifname[NETDEV_IFNAME_MAX + 1];
    memcpy(ifname, line + start, namelen);
    ifname[namelen] = '\0';

    uint64_t vals[NETDEV_NVALUES];
    size_t rest = (size_t)(colon + 1 - line);
    if (s_parse_values(line + rest, n - rest, lineno, ifname, vals, probs) != 0)
        return;
    for (size_t k = 0; k < NETDEV_NVALUES; k++) {
        reading_t r = {.source = source_name(SOURCE_NETDEV),
                       .device = ifname,
                       .name = s_names[k],
                       .value = vals[k]};
        emit(ctx, &r);
    }
}

int netdev_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    textscan_problems_t probs;
    size_t pos = 0, n;
    unsigned lineno = 0;
    const char *line;
    textscan_problems_init(&probs, err, errsz);
    while (textscan_next_line(buf, len, &pos, &line, &n)) {
        if (++lineno <= NETDEV_HEADER_LINES)
            continue;
        s_parse_line(line, n, lineno, emit, ctx, &probs);
    }
    return probs.count;
}
