/* fuzz_sockdiag: sockdiag_decode on arbitrary bytes, as UDP and as TCP,
 * seeded with the recorded dumps (the .bin files of tests/fixtures/<dir>/sockdiag); each
 * socket goes through sockdiag_emit so fuzzlib checks its readings. See
 * fuzzlib.h for what every run checks. */
#include <stddef.h>
#include <stdint.h>

#include "fuzzlib.h"
#include "sockdiag.h"

static void s_socket(void *ctx, const sockdiag_sock_t *s)
{
    if (memchr(s->device, '\0', sizeof s->device) == NULL)
        __builtin_trap();
    (void)sockdiag_matters(s);
    sockdiag_emit(s, fuzzlib_emit, ctx);
}

static int s_decode(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                    size_t errsz)
{
    return sockdiag_decode(buf, len, arg, s_socket, seen, err, errsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzlib_seen_t seen;
    fuzzlib_run(data, size, s_decode, "udp", "sock", NULL, &seen);
    /* a socket is at least a 72-byte message; it emits at most 5 readings */
    if (seen.n > 5 * (size / 72))
        __builtin_trap();
    fuzzlib_run(data, size, s_decode, "tcp", "sock", NULL, &seen);
    if (seen.n > 5 * (size / 72))
        __builtin_trap();
    return 0;
}
