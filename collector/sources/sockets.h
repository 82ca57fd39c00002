/* sockets: parser for the per-socket tables /proc/net/udp, udp6, raw and
 * raw6, whose last column counts every drop charged to one socket. It names
 * the socket that loses datagrams, which no protocol total can. Pure. */
#ifndef DROPSCOPE_SOCKETS_H
#define DROPSCOPE_SOCKETS_H

#include <stddef.h>
#include <stdint.h>

#include "reading.h"

/* Parses one table; `proto` ("udp", "udp6", "raw", "raw6"; borrowed) only
 * prefixes the device name. The first line is the header; it tells whether
 * there is a `drops` column (not on 2.6.x). For each socket whose drops >=
 * min_drops, emits source "sock", device "udp:10.99.0.2:5000" or
 * "udp6:[fd99::2]:5000", instance = socket inode, names "drops" and
 * "rx_queue" (bytes queued: a gauge). Without a drops column only rx_queue is
 * emitted, and only when min_drops == 0. Addresses are decoded in host byte
 * order, as the kernel printed them: replay a file on a machine of the same
 * endianness. A malformed line is a problem and skipped. Returns the number
 * of problems; err (may be NULL) gets the first one, or "". */
int sockets_parse(const char *buf, size_t len, const char *proto, uint64_t min_drops,
                  reading_fn *emit, void *ctx, char *err, size_t errsz);

#endif
