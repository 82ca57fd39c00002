/* snmp: parsers for the protocol MIB counters of a network namespace:
 * /proc/net/snmp and /proc/net/netstat (pairs of `Group: names` / `Group:
 * values` lines) and /proc/net/snmp6 (one `Name value` per line). Pure. */
#ifndef DROPSCOPE_SNMP_H
#define DROPSCOPE_SNMP_H

#include <stddef.h>

#include "reading.h"

/* Parses /proc/net/snmp (source "snmp") or /proc/net/netstat (source
 * "netstat"); `source` must be a static string, it is passed through as
 * reading_t.source. Emits name "Group.Field" (e.g. "Udp.RcvbufErrors"),
 * device "". Fields are matched by header name, never by position. A value
 * may be negative (Tcp MaxConn is -1): it is emitted as (uint64_t)(int64_t)v.
 * A group whose value line is missing, names another group, or has another
 * count than its header is a problem and is skipped whole; a single bad value
 * is a problem and only that field is skipped. Returns the number of
 * problems; err (may be NULL) gets the first one, or "". */
int snmp_parse(const char *buf, size_t len, const char *source, reading_fn *emit, void *ctx,
               char *err, size_t errsz);

/* Parses /proc/net/snmp6 (also /proc/net/dev_snmp6/<dev>). Emits source
 * "snmp6", device "", name "Group.Field" split after the longest group
 * prefix among Ip6, Icmp6, Udp6, UdpLite6 that is followed by an uppercase
 * letter (Ip6InReceives -> Ip6.InReceives); other names are kept raw. A line
 * without exactly two tokens or with a bad number is a problem and skipped.
 * Returns the number of problems; err (may be NULL) gets the first, or "". */
int snmp6_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err, size_t errsz);

#endif
