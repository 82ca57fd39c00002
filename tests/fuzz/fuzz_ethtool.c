/* fuzz_ethtool: ethtool_stats_parse (`ethtool -S` text) and
 * ethtool_ring_parse (`ethtool -g` text) on arbitrary bytes; see fuzzlib.h. */
#include <stddef.h>
#include <stdint.h>

#include "ethtool.h"
#include "fuzzlib.h"

static int s_stats(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                   size_t errsz)
{
    return ethtool_stats_parse(buf, len, arg, fuzzlib_emit, seen, err, errsz);
}

static int s_ring(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                  size_t errsz)
{
    return ethtool_ring_parse(buf, len, arg, fuzzlib_emit, seen, err, errsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzlib_run(data, size, s_stats, "eth0", "ethtool", "eth0", NULL);
    fuzzlib_run(data, size, s_ring, "eth0", "ring", "eth0", NULL);
    return 0;
}
