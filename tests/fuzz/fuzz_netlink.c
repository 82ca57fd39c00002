/* fuzz_netlink: netlink_decode_links and netlink_decode_stats on arbitrary
 * bytes, seeded with the recorded dumps (the .bin files of tests/fixtures/<dir>/netlink);
 * see fuzzlib.h for what every run checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzzlib.h"
#include "netlink.h"

#define MAX_LINKS 16

static int s_links(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                   size_t errsz)
{
    (void)arg;
    return netlink_decode_links(buf, len, fuzzlib_emit, seen, err, errsz);
}

/* The stats as readings, so that fuzzlib compares them across runs. */
static int s_stats(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                   size_t errsz)
{
    (void)arg;
    netlink_link_stats_t st[MAX_LINKS];
    size_t n = 0;
    int rc = netlink_decode_stats(buf, len, st, MAX_LINKS, &n, err, errsz);
    if (n > MAX_LINKS)
        __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        char dev[16];
        snprintf(dev, sizeof dev, "%u", st[i].ifindex);
        reading_t r[] = {{"stats", dev, "rx_packets", st[i].rx_packets, 0},
                         {"stats", dev, "tx_packets", st[i].tx_packets, 0},
                         {"stats", dev, "rx_bytes", st[i].rx_bytes, 0},
                         {"stats", dev, "tx_bytes", st[i].tx_bytes, 0}};
        for (size_t k = 0; k < 4; k++)
            fuzzlib_emit(seen, &r[k]);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzlib_seen_t seen;
    fuzzlib_run(data, size, s_links, NULL, "netdev", NULL, &seen);
    if (seen.n * 8 > size)
        __builtin_trap(); /* every reading is 8 bytes of some IFLA_STATS64 */
    fuzzlib_run(data, size, s_stats, NULL, "stats", NULL, &seen);
    if (seen.n * 8 > size)
        __builtin_trap();
    return 0;
}
