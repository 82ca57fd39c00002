/* netdev: parser for /proc/net/dev, the per-interface totals every kernel
 * since 2.2 prints. Pure: it reads a buffer and emits readings, nothing more.
 * Prefer netlink IFLA_STATS64 when it is there; this file is the fallback and
 * the replay path for fixtures of old kernels. */
#ifndef DROPSCOPE_NETDEV_H
#define DROPSCOPE_NETDEV_H

#include <stddef.h>

#include "reading.h"

/* Parses the content of /proc/net/dev (`len` bytes, not NUL-terminated, a
 * final newline optional). Emits source "netdev", device = interface name,
 * 16 names per interface: rx_bytes rx_packets rx_errors rx_drop_total
 * rx_fifo_errors rx_frame_total rx_compressed multicast tx_bytes tx_packets
 * tx_errors tx_dropped tx_fifo_errors collisions tx_carrier_total
 * tx_compressed. A line that does not hold exactly 16 decimal values is a
 * problem and nothing is emitted for it. Returns the number of problems;
 * err (may be NULL) gets the first one, or "". */
int netdev_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err, size_t errsz);

#endif
