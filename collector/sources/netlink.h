/* netlink: interface counters from rtnetlink, in the caller's own network
 * namespace. The slow path dumps RTM_GETLINK for every rtnl_link_stats64
 * field unfolded (which /proc/net/dev folds together or leaves out:
 * rx_missed_errors, rx_nohandler, rx_otherhost_dropped); the fast path
 * dumps RTM_GETSTATS with only IFLA_STATS_LINK_64, the cheapest request
 * that returns every interface's packet counts. */
#ifndef DROPSCOPE_NETLINK_H
#define DROPSCOPE_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include "reading.h"

typedef struct netlink netlink_t;

/* Opens a NETLINK_ROUTE socket (rtnl.h). NULL with the reason in err. */
netlink_t *netlink_new(char *err, size_t errsz);

/* Closes the socket; safe on NULL and twice, nulls *self_p. */
void netlink_destroy(netlink_t **self_p);

/* Dumps every interface and emits source "netdev", device = ifname, one
 * reading per rtnl_link_stats64 field the kernel filled (names as in
 * struct rtnl_link_stats64: rx_packets, ..., rx_otherhost_dropped), as
 * netlink_decode_links does, datagram by datagram as they arrive; malformed
 * messages are skipped. 0 ok, -1 with the reason in err (the readings of
 * the datagrams before the failure have been emitted). */
int netlink_read_links(netlink_t *self, reading_fn *emit, void *ctx, char *err, size_t errsz);

/* Per-interface packet counters of the fast path. */
typedef struct {
    uint32_t ifindex;
    uint64_t rx_packets, tx_packets;
    uint64_t rx_bytes, tx_bytes;
} netlink_link_stats_t;

/* One RTM_GETSTATS dump (IFLA_STATS_LINK_64 only) of every interface into
 * out[0..max): the single request per tick of the sampler, decoded in the
 * receive buffer (no allocation, no copy). Returns the number of
 * interfaces, or -1 with the reason in err. Interfaces past `max` are left
 * out, malformed messages skipped. */
int netlink_dump_stats(netlink_t *self, netlink_link_stats_t *out, size_t max, char *err,
                       size_t errsz);

/* The decoders, pure (no I/O, no allocation) over the bytes of one or more
 * datagrams of a dump, as received or recorded (rtnl_collect): buf must be
 * 4-byte aligned, as malloc'd buffers are; any bytes are safe. They stop at
 * NLMSG_DONE. Every message, attribute and struct length is checked; a
 * message that cannot be trusted is skipped and counted. They return the
 * number of problems (0 = clean), the first described in err ("" when
 * none; err may be NULL when errsz is 0).
 *
 * netlink_decode_links: the RTM_NEWLINK messages of an RTM_GETLINK dump, to
 * readings as netlink_read_links emits them. An IFLA_STATS64 shorter than
 * our struct rtnl_link_stats64 (an older kernel: 184 bytes before 4.6, no
 * rx_nohandler; 192 before 5.19, no rx_otherhost_dropped) yields only the
 * fields it covers; a longer one (a newer kernel) is read as far as we
 * know it. An interface without a NUL-terminated IFLA_IFNAME or without
 * IFLA_STATS64 is a problem and emits nothing. */
int netlink_decode_links(const void *buf, size_t len, reading_fn *emit, void *ctx, char *err,
                         size_t errsz);

/* netlink_decode_stats: the RTM_NEWSTATS messages of an RTM_GETSTATS dump
 * with IFLA_STATS_LINK_64, appended to out[*n..max) (*n is advanced; start
 * it at 0), one per interface in dump order; interfaces past max are left
 * out (not a problem). A message without an IFLA_STATS_LINK_64 of at least
 * the 32 bytes of the four counters kept is a problem. */
int netlink_decode_stats(const void *buf, size_t len, netlink_link_stats_t *out, size_t max,
                         size_t *n, char *err, size_t errsz);

#endif
