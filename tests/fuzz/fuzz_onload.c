/* fuzz_onload: onload_parse (`onload_stackdump lots`: stacks, sockets,
 * statistics, EF_* options) on arbitrary bytes; see fuzzlib.h for what every
 * run checks. */
#include <stddef.h>
#include <stdint.h>

#include "fuzzlib.h"
#include "onload.h"

static int s_parse(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                   size_t errsz)
{
    (void)arg;
    return onload_parse(buf, len, fuzzlib_emit, seen, err, errsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzlib_run(data, size, s_parse, NULL, "onload", NULL, NULL);
    return 0;
}
