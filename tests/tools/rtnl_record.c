/* rtnl_record: the netlink recordings of tests/fixtures (see
 * tests/tools/rtnl_record.sh, which runs it inside network namespaces):
 *   rtnl_record dump DIR          records, from the calling thread's network
 *       namespace, the raw datagrams of an RTM_GETQDISC, an RTM_GETLINK and
 *       an RTM_GETSTATS (IFLA_STATS_LINK_64) dump, the requests qdisc_read
 *       and netlink_read_links/netlink_dump_stats send, into
 *       DIR/getqdisc.bin, getlink.bin and getstats.bin
 *   rtnl_record print DIR         decodes those three files as the collector
 *       does and prints one line per reading, in the form of the fixtures'
 *       expected-*.txt ("netdev DEV NAME VALUE", "qdisc DEV NAME VALUE
 *       INSTANCE", "stats IFINDEX NAME VALUE")
 *   rtnl_record shorten IN OUT N  rewrites a getlink recording as an older
 *       kernel would have sent it: every IFLA_STATS64 cut to N bytes, the
 *       attribute and message lengths adjusted.
 * Exits 0, or 1 with the reason on stderr. */
#define _GNU_SOURCE
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink.h"
#include "qdisc.h"
#include "rtnl.h"

static int s_write(const char *dir, const char *name, const rtnl_bytes_t *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "rtnl_record: cannot write %s (does the directory exist?)\n", path);
        return -1;
    }
    return 0;
}

static int s_read(const char *dir, const char *name, rtnl_bytes_t *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", dir, name ? "/" : "", name ? name : "");
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;
    char err[256];
    if (!f) {
        fprintf(stderr, "rtnl_record: cannot open %s\n", path);
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (rtnl_collect(b, chunk, n, err, sizeof err) != 0) {
            fprintf(stderr, "rtnl_record: %s: %s\n", path, err);
            fclose(f);
            return -1;
        }
    fclose(f);
    return 0;
}

static int s_dump(const char *dir)
{
    char err[512];
    rtnl_t *rtnl = rtnl_new(err, sizeof err);
    if (!rtnl) {
        fprintf(stderr, "rtnl_record: %s\n", err);
        return -1;
    }
    struct tcmsg tcm = {.tcm_family = AF_UNSPEC};
    struct ifinfomsg ifm = {.ifi_family = AF_UNSPEC};
    struct if_stats_msg ifsm = {.family = AF_UNSPEC,
                                .filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64)};
    static const char *files[] = {"getqdisc.bin", "getlink.bin", "getstats.bin"};
    const struct {
        uint16_t type;
        const void *hdr;
        size_t hdrlen;
    } req[] = {{RTM_GETQDISC, &tcm, sizeof tcm},
               {RTM_GETLINK, &ifm, sizeof ifm},
               {RTM_GETSTATS, &ifsm, sizeof ifsm}};
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        rtnl_bytes_t b = {0};
        if (rtnl_dump(rtnl, req[i].type, req[i].hdr, req[i].hdrlen, rtnl_collect, &b, err,
                      sizeof err) != RTNL_OK) {
            fprintf(stderr, "rtnl_record: %s\n", err);
            rc = -1;
        } else {
            rc = s_write(dir, files[i], &b);
        }
        rtnl_bytes_reset(&b);
    }
    rtnl_destroy(&rtnl);
    return rc;
}

static int s_with_instance; /* an address to tell s_print to add the instance */

static void s_print(void *ctx, const reading_t *r)
{
    if (ctx)
        printf("%s %s %s %llu %llu\n", r->source, r->device, r->name, (unsigned long long)r->value,
               (unsigned long long)r->instance);
    else
        printf("%s %s %s %llu\n", r->source, r->device, r->name, (unsigned long long)r->value);
}

static int s_decode(const char *dir)
{
    rtnl_bytes_t q = {0}, l = {0}, s = {0};
    char err[512];
    int rc = -1, problems = 0;
    if (s_read(dir, "getqdisc.bin", &q) || s_read(dir, "getlink.bin", &l) ||
        s_read(dir, "getstats.bin", &s))
        goto out;
    problems += netlink_decode_links(l.data, l.len, s_print, NULL, err, sizeof err) ? 1 : 0;
    problems +=
        qdisc_decode(q.data, q.len, l.data, l.len, s_print, &s_with_instance, err, sizeof err) ? 1
                                                                                               : 0;
    netlink_link_stats_t st[256];
    size_t n = 0;
    problems += netlink_decode_stats(s.data, s.len, st, 256, &n, err, sizeof err) ? 1 : 0;
    for (size_t i = 0; i < n; i++)
        printf("stats %u rx_packets %llu\nstats %u tx_packets %llu\nstats %u rx_bytes %llu\n"
               "stats %u tx_bytes %llu\n",
               st[i].ifindex, (unsigned long long)st[i].rx_packets, st[i].ifindex,
               (unsigned long long)st[i].tx_packets, st[i].ifindex,
               (unsigned long long)st[i].rx_bytes, st[i].ifindex,
               (unsigned long long)st[i].tx_bytes);
    if (problems)
        fprintf(stderr, "rtnl_record: %s: %s\n", dir, err);
    rc = problems ? -1 : 0;
out:
    rtnl_bytes_reset(&q);
    rtnl_bytes_reset(&l);
    rtnl_bytes_reset(&s);
    return rc;
}

/* Appends the message at nlh to out with every IFLA_STATS64 cut to n
 * bytes (n a multiple of 8, less than the attribute holds). */
static int s_shorten_msg(const struct nlmsghdr *nlh, size_t n, rtnl_bytes_t *out)
{
    char err[256];
    size_t start = out->len, head = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifinfomsg));
    if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < head)
        return rtnl_collect(out, nlh, NLMSG_ALIGN(nlh->nlmsg_len), err, sizeof err);
    if (rtnl_collect(out, nlh, head, err, sizeof err))
        return -1;
    const struct nlattr *attr;
    mnl_attr_for_each(attr, nlh, sizeof(struct ifinfomsg))
    {
        size_t len = MNL_ALIGN(attr->nla_len);
        if (mnl_attr_get_type(attr) == IFLA_STATS64 && mnl_attr_get_payload_len(attr) > n) {
            struct nlattr cut = {.nla_len = (uint16_t)(MNL_ATTR_HDRLEN + n),
                                 .nla_type = attr->nla_type};
            if (rtnl_collect(out, &cut, sizeof cut, err, sizeof err) ||
                rtnl_collect(out, mnl_attr_get_payload(attr), n, err, sizeof err))
                return -1;
        } else if (rtnl_collect(out, attr, len, err, sizeof err)) {
            return -1;
        }
    }
    struct nlmsghdr *copy = (void *)(out->data + start);
    copy->nlmsg_len = (uint32_t)(out->len - start);
    return 0;
}

static int s_shorten(const char *in, const char *out, size_t n)
{
    rtnl_bytes_t b = {0}, o = {0};
    int rc = -1;
    if (n % 8 != 0) {
        fprintf(stderr, "rtnl_record: %zu is not a multiple of 8 (184 or 192)\n", n);
        return -1;
    }
    if (s_read(in, NULL, &b) == 0) {
        const struct nlmsghdr *nlh = (const void *)b.data;
        int len = (int)b.len;
        for (rc = 0; rc == 0 && mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
            rc = s_shorten_msg(nlh, n, &o);
        FILE *f = rc == 0 ? fopen(out, "wb") : NULL;
        if (!f || fwrite(o.data, 1, o.len, f) != o.len || fclose(f) != 0) {
            fprintf(stderr, "rtnl_record: cannot write %s\n", out);
            rc = -1;
        }
    }
    rtnl_bytes_reset(&b);
    rtnl_bytes_reset(&o);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = -1;
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        rc = s_dump(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "print") == 0)
        rc = s_decode(argv[2]);
    else if (argc == 5 && strcmp(argv[1], "shorten") == 0)
        rc = s_shorten(argv[2], argv[3], strtoul(argv[4], NULL, 10));
    else
        fprintf(stderr, "usage: rtnl_record dump DIR | print DIR | shorten IN OUT BYTES\n");
    return rc == 0 ? 0 : 1;
}
