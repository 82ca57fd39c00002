/* fuzz_softnet: softnet_parse (/proc/net/softnet_stat, 9 to 15+ hex columns)
 * on arbitrary bytes; see fuzzlib.h for what every run checks. */
#include <stddef.h>
#include <stdint.h>

#include "fuzzlib.h"
#include "softnet.h"

static int s_parse(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                   size_t errsz)
{
    (void)arg;
    return softnet_parse(buf, len, fuzzlib_emit, seen, err, errsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzlib_run(data, size, s_parse, NULL, "softnet", NULL, NULL);
    return 0;
}
