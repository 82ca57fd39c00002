/* fuzz_snmp: snmp_parse as /proc/net/snmp and as /proc/net/netstat, and
 * snmp6_parse, on the same arbitrary bytes; see fuzzlib.h for the checks. */
#include <stddef.h>
#include <stdint.h>

#include "fuzzlib.h"
#include "snmp.h"

static int s_parse(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                   size_t errsz)
{
    return snmp_parse(buf, len, arg, fuzzlib_emit, seen, err, errsz);
}

static int s_parse6(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                    size_t errsz)
{
    (void)arg;
    return snmp6_parse(buf, len, fuzzlib_emit, seen, err, errsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzlib_seen_t snmp, netstat;
    fuzzlib_run(data, size, s_parse, "snmp", "snmp", "", &snmp);
    fuzzlib_run(data, size, s_parse, "netstat", "netstat", "", &netstat);
    fuzzlib_run(data, size, s_parse6, NULL, "snmp6", "", NULL);
    if (snmp.n != netstat.n || snmp.digest != netstat.digest)
        __builtin_trap(); /* the source only labels the readings */
    return 0;
}
