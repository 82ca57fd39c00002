/* netlink: one RTM_GETLINK dump per call through libmnl; the kernel may be
 * older or newer than our headers, so a stats64 attribute shorter than our
 * struct yields only the fields it covers, and a longer one is truncated. */
#define _GNU_SOURCE
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct netlink {
    struct mnl_socket *nl; /* NETLINK_ROUTE, bound */
    unsigned portid;       /* our netlink port id */
    unsigned seq;          /* last request sequence number */
    char *buf;             /* receive buffer, MNL_SOCKET_BUFFER_SIZE */
};

#define F(field) {#field, offsetof(struct rtnl_link_stats64, field)}
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
    if (!self || !(self->buf = malloc(MNL_SOCKET_BUFFER_SIZE))) {
        snprintf(err, errsz, "netlink: out of memory");
        free(self);
        return NULL;
    }
    self->nl = mnl_socket_open(NETLINK_ROUTE);
    if (!self->nl || mnl_socket_bind(self->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        snprintf(err, errsz, "netlink: cannot open a NETLINK_ROUTE socket: %s", strerror(errno));
        netlink_destroy(&self);
        return NULL;
    }
    self->portid = mnl_socket_get_portid(self->nl);
    self->seq = (unsigned)time(NULL);
    return self;
}

void netlink_destroy(netlink_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    netlink_t *self = *self_p;
    if (self->nl)
        mnl_socket_close(self->nl);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

typedef struct {
    reading_fn *emit;
    void *ctx;
} walk_t;

static int s_link_attr(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(attr);
    if (type == IFLA_IFNAME || type == IFLA_STATS64)
        tb[type] = attr;
    return MNL_CB_OK;
}

static int s_on_link(const struct nlmsghdr *nlh, void *data)
{
    const walk_t *walk = data;
    const struct nlattr *tb[IFLA_MAX + 1] = {0};
    mnl_attr_parse(nlh, sizeof(struct ifinfomsg), s_link_attr, tb);
    if (!tb[IFLA_IFNAME] || !tb[IFLA_STATS64] ||
        mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0)
        return MNL_CB_OK;
    struct rtnl_link_stats64 stats = {0};
    size_t len = mnl_attr_get_payload_len(tb[IFLA_STATS64]);
    memcpy(&stats, mnl_attr_get_payload(tb[IFLA_STATS64]), len < sizeof stats ? len : sizeof stats);
    const char *ifname = mnl_attr_get_str(tb[IFLA_IFNAME]);
    for (size_t i = 0; i < sizeof s_fields / sizeof s_fields[0]; i++) {
        if (s_fields[i].offset + sizeof(uint64_t) > len)
            continue; /* an older kernel's shorter struct */
        uint64_t v;
        memcpy(&v, (const char *)&stats + s_fields[i].offset, sizeof v);
        reading_t r = {"netdev", ifname, s_fields[i].name, v, 0};
        walk->emit(walk->ctx, &r);
    }
    return MNL_CB_OK;
}

/* Sends the dump request in self->req and runs cb over every reply. */
static int s_dump(netlink_t *self, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, const char *what,
                  char *err, size_t errsz)
{
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++self->seq;
    if (mnl_socket_sendto(self->nl, nlh, nlh->nlmsg_len) < 0) {
        snprintf(err, errsz, "netlink %s: send: %s", what, strerror(errno));
        return -1;
    }
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(self->nl, self->buf, MNL_SOCKET_BUFFER_SIZE);
        if (n < 0) {
            snprintf(err, errsz, "netlink %s: receive: %s", what, strerror(errno));
            return -1;
        }
        int rc = mnl_cb_run(self->buf, (size_t)n, self->seq, self->portid, cb, data);
        if (rc == MNL_CB_STOP)
            return 0;
        if (rc < 0) {
            snprintf(err, errsz, "netlink %s: %s", what, strerror(errno));
            return -1;
        }
    }
}

int netlink_read_links(netlink_t *self, reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    char req[64];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
    nlh->nlmsg_type = RTM_GETLINK;
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
    ifm->ifi_family = AF_UNSPEC;
    walk_t walk = {emit, ctx};
    return s_dump(self, nlh, s_on_link, &walk, "RTM_GETLINK", err, errsz);
}

typedef struct {
    netlink_link_stats_t *out;
    size_t n, max;
} stats_walk_t;

static int s_on_stats(const struct nlmsghdr *nlh, void *data)
{
    stats_walk_t *walk = data;
    const struct if_stats_msg *ifsm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *attr;
    mnl_attr_for_each(attr, nlh, sizeof *ifsm) {
        if (mnl_attr_get_type(attr) != IFLA_STATS_LINK_64 || walk->n == walk->max)
            continue;
        struct rtnl_link_stats64 st = {0};
        size_t len = mnl_attr_get_payload_len(attr);
        memcpy(&st, mnl_attr_get_payload(attr), len < sizeof st ? len : sizeof st);
        walk->out[walk->n++] = (netlink_link_stats_t){ifsm->ifindex, st.rx_packets, st.tx_packets,
                                                      st.rx_bytes, st.tx_bytes};
    }
    return MNL_CB_OK;
}

int netlink_dump_stats(netlink_t *self, netlink_link_stats_t *out, size_t max, char *err,
                       size_t errsz)
{
    char req[64];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
    nlh->nlmsg_type = RTM_GETSTATS;
    struct if_stats_msg *ifsm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifsm);
    ifsm->family = AF_UNSPEC;
    ifsm->filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
    stats_walk_t walk = {out, 0, max};
    if (s_dump(self, nlh, s_on_stats, &walk, "RTM_GETSTATS", err, errsz) != 0)
        return -1;
    return (int)walk.n;
}
