/* fuzz_sockets: sockets_parse (/proc/net/udp and udp6) on arbitrary bytes,
 * as "udp" and "udp6", with min_drops 0 and 1; see fuzzlib.h for the checks. */
#include <stddef.h>
#include <stdint.h>

#include "fuzzlib.h"
#include "sockets.h"

typedef struct {
    const char *proto;  /* prefix of the device names */
    uint64_t min_drops; /* sockets with fewer drops are not emitted */
} s_args_t;

static int s_parse(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                   size_t errsz)
{
    const s_args_t *a = arg;
    return sockets_parse(buf, len, a->proto, a->min_drops, fuzzlib_emit, seen, err, errsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const protos[] = {"udp", "udp6"};
    for (size_t p = 0; p < sizeof protos / sizeof protos[0]; p++) {
        fuzzlib_seen_t all, dropping;
        s_args_t a0 = {protos[p], 0}, a1 = {protos[p], 1};
        int rc0 = fuzzlib_run(data, size, s_parse, &a0, "sock", NULL, &all);
        int rc1 = fuzzlib_run(data, size, s_parse, &a1, "sock", NULL, &dropping);
        if (rc0 != rc1 || dropping.n > all.n)
            __builtin_trap(); /* min_drops filters readings, never problems */
    }
    return 0;
}
