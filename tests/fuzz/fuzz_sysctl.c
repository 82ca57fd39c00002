/* fuzz_sysctl: sysctl_parse (one /proc/sys file) on arbitrary bytes, for
 * every entry of sysctl_defs; see fuzzlib.h for what every run checks. */
#include <stddef.h>
#include <stdint.h>

#include "fuzzlib.h"
#include "sysctl.h"

static int s_parse(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                   size_t errsz)
{
    return sysctl_parse(buf, len, arg, fuzzlib_emit, seen, err, errsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sysctl_defs_count; i++) {
        const sysctl_def_t *def = &sysctl_defs[i];
        fuzzlib_seen_t seen;
        int rc = fuzzlib_run(data, size, s_parse, def, "sysctl", "", &seen);
        /* all of the file's values or none of them */
        if (rc > 1 || seen.n != (rc == 0 ? def->nvalues : 0))
            __builtin_trap();
    }
    return 0;
}
