/* ethtool: NIC driver counters (`ethtool -S`) and RX/TX ring sizes
 * (`ethtool -g`), read live through ioctl(SIOCETHTOOL) or replayed from the
 * text those commands print. Both paths give the same series names, so a
 * replayed fixture and a live host line up. */
#ifndef DROPSCOPE_ETHTOOL_H
#define DROPSCOPE_ETHTOOL_H

#include <stddef.h>

#include "reading.h"

typedef struct ethtool ethtool_t;

/* Series names of driver counters: the driver's name, except that bnxt's
 * per-ring form "[3]: rx_discards" becomes "ring3.rx_discards" and '/' and
 * whitespace become '_'. */

/* Parses `ethtool -S <device>` stdout (optional "NIC statistics:" first
 * line, optional indentation, `name: value` lines). Emits source "ethtool",
 * device = `device` (borrowed). A line that is not `name: decimal u64` is a
 * problem and skipped. Returns the number of problems; err (may be NULL)
 * gets the first one, with its line number, or "". */
int ethtool_stats_parse(const char *buf, size_t len, const char *device, reading_fn *emit,
                        void *ctx, char *err, size_t errsz);

/* Parses `ethtool -g <device>` stdout. Emits source "ring", names rx_max and
 * tx_max (from "Pre-set maximums:") and rx, tx (from "Current hardware
 * settings:"); other lines (RX Mini, RX Jumbo, RX Buf Len, CQE Size, TX
 * Push, ...) are ignored, and so is the value "n/a". An RX/TX line with a
 * bad number or outside a section, or a line without ':', is a problem.
 * Returns the number of problems; err (may be NULL) gets the first, or "". */
int ethtool_ring_parse(const char *buf, size_t len, const char *device, reading_fn *emit, void *ctx,
                       char *err, size_t errsz);

/* Opens the ioctl socket. It belongs to the network namespace current at
 * this call, and every read goes to that namespace's devices. Returns NULL
 * with errno set on failure. Not thread-safe: one thread per ethtool_t. */
ethtool_t *ethtool_new(void);

/* Closes the socket and frees the cache; safe on NULL and on *self_p == NULL;
 * sets *self_p to NULL. */
void ethtool_destroy(ethtool_t **self_p);

/* Emits every ETH_SS_STATS counter of `ifname` (source "ethtool", device
 * ifname). Names are cached per interface and fetched again when the
 * driver's count changes. Returns 0; -2 when the device has no driver
 * counters (EOPNOTSUPP or EINVAL, or a count of 0), which will not change;
 * -1 on any other error (no such device, ...), which may be transient. err
 * gets "ethtool <IOCTL> <ifname>: <strerror>" on failure, "" on success. */
int ethtool_read_stats(ethtool_t *self, const char *ifname, reading_fn *emit, void *ctx, char *err,
                       size_t errsz);

/* Emits the ring sizes of `ifname` (source "ring", names rx_max, tx_max, rx,
 * tx) from ETHTOOL_GRINGPARAM. Returns 0, -2 when unsupported, -1 on other
 * errors; err as for ethtool_read_stats. */
int ethtool_read_ring(ethtool_t *self, const char *ifname, reading_fn *emit, void *ctx, char *err,
                      size_t errsz);

/* Emits the queue counts of `ifname` (source "channels", names rx, tx,
 * other, combined and each with _max) from ETHTOOL_GCHANNELS (`ethtool
 * -l`). Returns 0, -2 when unsupported (a device without channels, such as
 * veth before 5.x), -1 on other errors; err as for ethtool_read_stats. */
int ethtool_read_channels(ethtool_t *self, const char *ifname, reading_fn *emit, void *ctx,
                          char *err, size_t errsz);

#endif
