/* source: the name table of source_t. A lookup by name is a scan of 20
 * short strings: the collector looks a source up once per new series, the
 * aggregator once per query parameter, so no index is worth keeping. */
#include "source.h"

#include <string.h>

static const char *const s_names[SOURCE_COUNT] = {
    [SOURCE_UNKNOWN] = "unknown", [SOURCE_NETDEV] = "netdev",   [SOURCE_SNMP] = "snmp",
    [SOURCE_SNMP6] = "snmp6",     [SOURCE_NETSTAT] = "netstat", [SOURCE_SOFTNET] = "softnet",
    [SOURCE_ETHTOOL] = "ethtool", [SOURCE_RING] = "ring",       [SOURCE_SYSCTL] = "sysctl",
    [SOURCE_SOCK] = "sock",       [SOURCE_QDISC] = "qdisc",     [SOURCE_RATE] = "rate",
    [SOURCE_SAMPLER] = "sampler", [SOURCE_REASON] = "reason",   [SOURCE_ONLOAD] = "onload",
    [SOURCE_PROBE] = "probe",     [SOURCE_IRQ] = "irq",         [SOURCE_CPU] = "cpu",
    [SOURCE_RPS] = "rps",         [SOURCE_XPS] = "xps",         [SOURCE_CHANNELS] = "channels",
};

const char *source_name(source_t source)
{
    return source > SOURCE_UNKNOWN && source < SOURCE_COUNT ? s_names[source]
                                                            : s_names[SOURCE_UNKNOWN];
}

source_t source_from_name(const char *name)
{
    for (int i = 1; name && i < SOURCE_COUNT; i++)
        if (strcmp(name, s_names[i]) == 0)
            return (source_t)i;
    return SOURCE_UNKNOWN;
}

bool source_is(const char *name, source_t source)
{
    return source > SOURCE_UNKNOWN && source < SOURCE_COUNT && name &&
           strcmp(name, s_names[source]) == 0;
}
