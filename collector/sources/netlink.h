/* netlink: interface counters from rtnetlink (RTM_GETLINK dump, IFLA_STATS64),
 * the u64 rtnl_link_stats64 fields unfolded, which /proc/net/dev folds
 * together or leaves out (rx_missed_errors, rx_nohandler,
 * rx_otherhost_dropped). Reads the caller's own network namespace. */
#ifndef DROPSCOPE_NETLINK_H
#define DROPSCOPE_NETLINK_H

#include <stddef.h>

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

#endif
