/* netlink: the dumps go through rtnl, which hands each datagram to the
 * decoders below in its own receive buffer: the fast path (one RTM_GETSTATS
 * per sampler tick) neither allocates nor copies. The kernel may be older or
 * newer than our headers, so a stats64 attribute shorter than our struct
 * yields only the fields it covers, and a longer one is truncated. */
#define _GNU_SOURCE
#include "netlink.h"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rtnl.h"
#include "source.h"

struct netlink {
    rtnl_t *rtnl; /* the NETLINK_ROUTE socket and its receive buffer */
};

#define F(field)                                                                                   \
    {                                                                                              \
#field, offsetof(struct rtnl_link_stats64, field)                                          \
    }
static const struct {
    const char *name;
    size_t offset;
} s_fields[] = {
    F(rx_packets),          F(tx_packets),         F(rx_bytes),          F(tx_bytes),
    F(rx_errors),           F(tx_errors),          F(rx_dropped),        F(tx_dropped),
    F(multicast),           F(collisions),         F(rx_length_errors),  F(rx_over_errors),
    F(rx_crc_errors),       F(rx_frame_errors),    F(rx_fifo_errors),    F(rx_missed_errors),
    F(tx_aborted_errors),   F(tx_carrier_errors),  F(tx_fifo_errors),    F(tx_heartbeat_errors),
    F(tx_window_errors),    F(rx_compressed),      F(tx_compressed),     F(rx_nohandler),
    F(rx_otherhost_dropped),
};
#undef F

netlink_t *netlink_new(char *err, size_t errsz)
{
    netlink_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "netlink: out of memory");
        return NULL;
    }
    if (!(self->rtnl = rtnl_new(err, errsz)))
        netlink_destroy(&self);
    return self;
}

void netlink_destroy(netlink_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rtnl_destroy(&(*self_p)->rtnl);
    free(*self_p);
    *self_p = NULL;
}

/* --- RTM_NEWLINK -> readings ------------------------------------------- */

typedef struct {
    reading_fn *emit;
    void *ctx;
} links_t;

static void s_emit_stats64(const links_t *links, const char *ifname, const struct nlattr *attr)
{
    struct rtnl_link_stats64 stats = {0};
    size_t len = mnl_attr_get_payload_len(attr);
    memcpy(&stats, mnl_attr_get_payload(attr), len < sizeof stats ? len : sizeof stats);
    for (size_t i = 0; i < sizeof s_fields / sizeof s_fields[0]; i++) {
        if (s_fields[i].offset + sizeof(uint64_t) > len)
            continue; /* an older kernel's shorter struct */
        uint64_t v;
        memcpy(&v, (const char *)&stats + s_fields[i].offset, sizeof v);
        reading_t r = {source_name(SOURCE_NETDEV), ifname, s_fields[i].name, v, 0};
        links->emit(links->ctx, &r);
    }
}

static int s_on_link(void *ctx, const struct nlmsghdr *nlh, char *err, size_t errsz)
{
    const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *attr, *name = NULL, *stats = NULL;
    mnl_attr_for_each(attr, nlh, sizeof *ifm)
    {
        if (mnl_attr_get_type(attr) == IFLA_IFNAME)
            name = attr;
        else if (mnl_attr_get_type(attr) == IFLA_STATS64)
            stats = attr;
    }
    if (!name || mnl_attr_validate(name, MNL_TYPE_NUL_STRING) < 0)
        return rtnl_problem(err, errsz, "netlink: interface %d has no NUL-terminated IFLA_IFNAME",
                            ifm->ifi_index);
    if (!stats)
        return rtnl_problem(err, errsz, "netlink: interface %s (%d) has no IFLA_STATS64",
                            mnl_attr_get_str(name), ifm->ifi_index);
    s_emit_stats64(ctx, mnl_attr_get_str(name), stats);
    return 0;
}

int netlink_decode_links(const void *buf, size_t len, reading_fn *emit, void *ctx, char *err,
                         size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    links_t links = {emit, ctx};
    return rtnl_walk(buf, len, RTM_NEWLINK, sizeof(struct ifinfomsg), s_on_link, &links, err,
                     errsz);
}

static int s_links_datagram(void *ctx, const void *buf, size_t len, char *err, size_t errsz)
{
    (void)err, (void)errsz;
    const links_t *links = ctx;
    netlink_decode_links(buf, len, links->emit, links->ctx, NULL, 0);
    return 0;
}

int netlink_read_links(netlink_t *self, reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    struct ifinfomsg ifm = {.ifi_family = AF_UNSPEC};
    links_t links = {emit, ctx};
    return rtnl_dump(self->rtnl, RTM_GETLINK, &ifm, sizeof ifm, s_links_datagram, &links, err,
                     errsz) == RTNL_OK
               ? 0
               : -1;
}

/* --- RTM_NEWSTATS -> netlink_link_stats_t ------------------------------ */

typedef struct {
    netlink_link_stats_t *out;
    size_t max, *n;
} stats_t;

static int s_on_stats(void *ctx, const struct nlmsghdr *nlh, char *err, size_t errsz)
{
    const stats_t *st = ctx;
    const struct if_stats_msg *ifsm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *attr, *link64 = NULL;
    mnl_attr_for_each(attr, nlh, sizeof *ifsm)
    {
        if (mnl_attr_get_type(attr) == IFLA_STATS_LINK_64 && !link64)
            link64 = attr;
    }
    /* rx_packets, tx_packets, rx_bytes, tx_bytes: the first 32 bytes */
    struct rtnl_link_stats64 s;
    size_t need = offsetof(struct rtnl_link_stats64, tx_bytes) + sizeof s.tx_bytes;
    if (!link64 || mnl_attr_get_payload_len(link64) < need)
        return rtnl_problem(err, errsz,
                            "netlink: interface %u has no IFLA_STATS_LINK_64 of %zu "
                            "bytes or more",
                            ifsm->ifindex, need);
    if (*st->n == st->max)
        return 0;
    memcpy(&s, mnl_attr_get_payload(link64), need);
    st->out[(*st->n)++] =
        (netlink_link_stats_t){ifsm->ifindex, s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes};
    return 0;
}

int netlink_decode_stats(const void *buf, size_t len, netlink_link_stats_t *out, size_t max,
                         size_t *n, char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    stats_t st = {out, max, n};
    return rtnl_walk(buf, len, RTM_NEWSTATS, sizeof(struct if_stats_msg), s_on_stats, &st, err,
                     errsz);
}

static int s_stats_datagram(void *ctx, const void *buf, size_t len, char *err, size_t errsz)
{
    (void)err, (void)errsz;
    const stats_t *st = ctx;
    netlink_decode_stats(buf, len, st->out, st->max, st->n, NULL, 0);
    return 0;
}

int netlink_dump_stats(netlink_t *self, netlink_link_stats_t *out, size_t max, char *err,
                       size_t errsz)
{
    struct if_stats_msg ifsm = {.family = AF_UNSPEC,
                                .filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64)};
    size_t n = 0;
    stats_t st = {out, max, &n};
    if (rtnl_dump(self->rtnl, RTM_GETSTATS, &ifsm, sizeof ifsm, s_stats_datagram, &st, err,
                  errsz) != RTNL_OK)
        return -1;
    return (int)n;
}
