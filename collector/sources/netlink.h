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

/* Opens a NETLINK_ROUTE socket. NULL with the reason in err. */
netlink_t *netlink_new(char *err, size_t errsz);
void netlink_destroy(netlink_t **self_p);

/* Dumps every interface and emits source "netdev", device = ifname, one
 * reading per rtnl_link_stats64 field the kernel filled (names as in
 * struct rtnl_link_stats64: rx_packets, ..., rx_otherhost_dropped).
 * 0 ok, -1 with the reason in err. */
int netlink_read_links(netlink_t *self, reading_fn *emit, void *ctx, char *err, size_t errsz);

/* Per-interface packet counters of the fast path. */
typedef struct {
    uint32_t ifindex;
    uint64_t rx_packets, tx_packets;
    uint64_t rx_bytes, tx_bytes;
} netlink_link_stats_t;

/* One RTM_GETSTATS dump (IFLA_STATS_LINK_64 only) of every interface into
 * out[0..max): the single request per tick of the sampler. Returns the
 * number of interfaces, or -1 with the reason in err. Interfaces past
 * `max` are left out. */
int netlink_dump_stats(netlink_t *self, netlink_link_stats_t *out, size_t max, char *err,
                       size_t errsz);

#endif
