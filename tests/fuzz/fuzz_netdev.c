/* fuzz_netdev: netdev_parse (/proc/net/dev) on arbitrary bytes, seeded with
 * the proc/net/dev fixtures; see fuzzlib.h for what every run checks. */
#include <stddef.h>
#include <stdint.h>

#include "fuzzlib.h"
#include "netdev.h"

static int s_parse(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                   size_t errsz)
{
    (void)arg;
    return netdev_parse(buf, len, fuzzlib_emit, seen, err, errsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzlib_seen_t seen;
    fuzzlib_run(data, size, s_parse, NULL, "netdev", NULL, &seen);
    if (seen.n % 16 != 0)
        __builtin_trap(); /* an interface is emitted whole or not at all */
    return 0;
}
