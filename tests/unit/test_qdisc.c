/* Tests collector/sources/qdisc. Decoder: on the RTM_GETQDISC and
 * RTM_GETLINK dumps recorded in tests/fixtures/linux-6.18-netns-qdisc (htb
 * with a 1 Mbit class over pfifo limit 3 that dropped, mq with a default
 * child and a tbf, clsact, ingress; the values as `tc -s -j qdisc show`
 * printed them then), on every prefix of both and on hand-built malformed
 * messages. Live, in network namespaces of the test's own (as root;
 * otherwise inside a user namespace of its own, where it has
 * CAP_NET_ADMIN; the machine's interfaces are never touched): the qdisc
 * recipe of docs/COUNTERS.md, a bottleneck (tbf 1: over pfifo 10: limit 5
 * on veth va) must show the drops, overlimits and traffic that tc shows,
 * with only the leaf's drops as "drops"; a namespace with just lo, down and
 * then up, must read cleanly; mq children (all handle 0) must get distinct
 * names. Fixtures come from $FIXTURES_DIR when set, else the source tree. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "counters.h"
#include "qdisc.h"
#include "testlib.h"

#define DATAGRAMS 5000
#define REC "linux-6.18-netns-qdisc"

static bool s_live; /* the test has CAP_NET_ADMIN over namespaces of its own */

/* --- the recorded dumps ------------------------------------------------- */

typedef struct {
    char *q, *l; /* getqdisc.bin and getlink.bin, exact size */
    size_t qlen, llen;
} rec_t;

static rec_t s_rec(void)
{
    rec_t r;
    r.q = testlib_load(REC "/netlink/getqdisc.bin", &r.qlen);
    r.l = testlib_load(REC "/netlink/getlink.bin", &r.llen);
    return r;
}

static void test_recorded(void **state)
{
    (void)state;
    rec_t r = s_rec();
    testlib_collect_t got = {0};
    char err[256] = "x";
    assert_int_equal(qdisc_decode(r.q, r.qlen, r.l, r.llen, testlib_collect, &got, err, sizeof err),
                     0);
    assert_string_equal(err, "");
    testlib_assert_lines(&got, REC "/expected-qdisc.txt", true);
    /* By ifindex (lo 1, va 2, vc 3), then in dump order, 5 readings each. */
    static const char *order[] = {
        "lo:0:", "va:1:", "va:10:", "va:20:", "va:ffff:", "vc:5:", "vc:52:", "vc:5:1", "vc:ffff:"};
    assert_int_equal(got.n, 9 * 5);
    for (size_t i = 0; i < 9; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s/", order[i]);
        assert_memory_equal(got.e[i * 5].key, prefix, strlen(prefix));
        assert_int_equal(testlib_count_device(&got, order[i]), 5);
    }
    /* What the recording sent (README): 2000 datagrams of 142 bytes on the
     * wire to class 1:10 (pfifo 10: limit 3 at 1 Mbit/s), 300 to 1:20, 50
     * over vc. A parent repeats its children's drops. */
    uint64_t drops = testlib_value(&got, "va:10:", "drops");
    assert_true(drops > 1000);
    assert_int_equal(drops + testlib_value(&got, "va:10:", "packets"), 2000);
    assert_int_equal(testlib_value(&got, "va:1:", "drops_incl_children"), drops);
    assert_null(testlib_find(&got, "va:1:", "drops"));
    assert_true(testlib_value(&got, "va:1:", "overlimits") > 0);
    assert_int_equal(testlib_value(&got, "va:20:", "packets"), 300);
    assert_int_equal(testlib_value(&got, "va:20:", "bytes"), 300 * 142);
    assert_int_equal(testlib_value(&got, "va:1:", "packets"),
                     testlib_value(&got, "va:10:", "packets") + 300);
    assert_int_equal(testlib_value(&got, "vc:5:", "drops_incl_children"), 0);
    assert_int_equal(
        testlib_value(&got, "vc:5:1", "packets") + testlib_value(&got, "vc:52:", "packets"), 50);
    assert_int_equal(testlib_value(&got, "vc:5:", "packets"), 50);
    assert_int_equal(testlib_value(&got, "vc:52:", "drops"), 0); /* tbf: its child is hidden */
    assert_int_equal(testlib_instance(&got, "va:10:", "drops"), 2);
    assert_int_equal(testlib_instance(&got, "vc:ffff:", "bytes"), 3);
    testlib_collect_reset(&got);
    free(r.q);
    free(r.l);
}

/* Without names nothing is emitted; names from a dump of another kind are
 * problems, one per message. */
static void test_recorded_without_links(void **state)
{
    (void)state;
    rec_t r = s_rec();
    size_t n = 0, slen;
    char err[256];
    assert_int_equal(
        qdisc_decode(r.q, r.qlen, NULL, 0, testlib_count_readings, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    char *stats = testlib_load(REC "/netlink/getstats.bin", &slen);
    assert_int_equal(
        qdisc_decode(r.q, r.qlen, stats, slen, testlib_count_readings, &n, err, sizeof err), 3);
    assert_string_equal(err, "netlink: message 0 at byte 0 is RTM_NEWSTATS (type 92), not "
                             "RTM_NEWLINK (a failed dump, or not a RTM_NEWLINK dump)");
    assert_int_equal(n, 0);
    /* and the two swapped: every message of each is of the wrong kind */
    assert_int_equal(
        qdisc_decode(r.l, r.llen, r.q, r.qlen, testlib_count_readings, &n, err, sizeof err), 12);
    assert_int_equal(n, 0);
    free(stats);
    free(r.q);
    free(r.l);
}

typedef struct {
    const rec_t *r;
    bool cut_links;         /* cut getlink.bin, else getqdisc.bin */
    size_t ends[16], nends; /* where the cut file's messages end */
    size_t per_whole[16];   /* readings once the first i + 1 messages are whole */
} prefix_t;

static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    const prefix_t *p = arg;
    size_t want = 0;
    bool boundary = k == 0;
    for (size_t i = 0; i < p->nends; i++) {
        if (p->ends[i] <= k)
            want = p->per_whole[i];
        boundary |= p->ends[i] == k;
    }
    size_t n = 0;
    char err[256];
    int rc = p->cut_links ? qdisc_decode(p->r->q, p->r->qlen, buf, k, testlib_count_readings, &n,
                                         err, sizeof err)
                          : qdisc_decode(buf, k, p->r->l, p->r->llen, testlib_count_readings, &n,
                                         err, sizeof err);
    if ((rc == 0) != boundary || n != want)
        fail_msg("prefix of %zu bytes: %d problems (%s), %zu readings, not %zu", k, rc, err, n,
                 want);
}

static void test_every_prefix(void **state)
{
    (void)state;
    rec_t r = s_rec();
    for (int links = 0; links < 2; links++) {
        prefix_t p = {.r = &r, .cut_links = links};
        const char *buf = links ? r.l : r.q;
        size_t len = links ? r.llen : r.qlen;
        for (size_t at = 0; at + sizeof(struct nlmsghdr) <= len && p.nends < 16;) {
            at += NLMSG_ALIGN(((const struct nlmsghdr *)(const void *)(buf + at))->nlmsg_len);
            p.ends[p.nends++] = at;
        }
        /* qdiscs: 9 and NLMSG_DONE; links: lo (1 qdisc), va (4), vc (4), DONE */
        assert_int_equal(p.nends, links ? 4 : 10);
        for (size_t i = 0; i < p.nends; i++)
            p.per_whole[i] = links ? (size_t[]){5, 25, 45, 45}[i] : 5 * (i < 9 ? i + 1 : 9);
        testlib_every_prefix(buf, len, s_check_prefix, &p);
    }
    free(r.q);
    free(r.l);
}

/* --- hand-built messages ------------------------------------------------ */

typedef union {
    struct nlmsghdr nlh;
    char b[4096];
} msgbuf_t;

/* What s_qdisc puts in a message. */
enum {
    Q_KIND = 1,      /* TCA_KIND "pfifo" */
    Q_BASIC = 2,     /* TCA_STATS2: TCA_STATS_BASIC bytes 1000 packets 10 */
    Q_QUEUE = 4,     /* TCA_STATS2: TCA_STATS_QUEUE drops 3 requeues 4 overlimits 5 */
    Q_PKT64 = 8,     /* TCA_STATS2: TCA_STATS_PKT64 1 << 40 */
    Q_LEGACY = 16,   /* TCA_STATS: struct tc_stats */
    Q_SHORT = 32,    /* every stats struct 4 bytes short */
    Q_RAW_KIND = 64, /* TCA_KIND without its NUL */
};

static struct nlmsghdr *s_qdisc(msgbuf_t *m, size_t *at, int ifindex, uint32_t handle,
                                uint32_t parent, unsigned what)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->b + *at);
    nlh->nlmsg_type = RTM_NEWQDISC;
    struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof *tcm);
    tcm->tcm_ifindex = ifindex;
    tcm->tcm_handle = handle;
    tcm->tcm_parent = parent;
    size_t cut = what & Q_SHORT ? 4 : 0;
    if (what & Q_KIND)
        mnl_attr_put_strz(nlh, TCA_KIND, "pfifo");
    if (what & Q_RAW_KIND)
        mnl_attr_put(nlh, TCA_KIND, 5, "pfifo");
    if (what & (Q_BASIC | Q_QUEUE | Q_PKT64)) {
        struct nlattr *nest = mnl_attr_nest_start(nlh, TCA_STATS2);
        struct gnet_stats_basic b = {.bytes = 1000, .packets = 10};
        struct gnet_stats_queue q = {.drops = 3, .requeues = 4, .overlimits = 5};
        if (what & Q_BASIC)
            mnl_attr_put(nlh, TCA_STATS_BASIC, sizeof b - cut, &b);
        if (what & Q_QUEUE)
            mnl_attr_put(nlh, TCA_STATS_QUEUE, sizeof q - cut, &q);
        if (what & Q_PKT64)
            mnl_attr_put_u64(nlh, TCA_STATS_PKT64, 1ull << 40);
        mnl_attr_nest_end(nlh, nest);
    }
    if (what & Q_LEGACY) {
        struct tc_stats st = {.bytes = 2000, .packets = 20, .drops = 6, .overlimits = 7};
        mnl_attr_put(nlh, TCA_STATS, cut ? offsetof(struct tc_stats, overlimits) : sizeof st, &st);
    }
    *at += nlh->nlmsg_len;
    return nlh;
}

static void s_link(msgbuf_t *m, size_t *at, int ifindex, const char *name)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->b + *at);
    nlh->nlmsg_type = RTM_NEWLINK;
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
    ifm->ifi_index = ifindex;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    *at += nlh->nlmsg_len;
}

/* Decodes exact-size copies of the qlen bytes of q and the llen of l into
 * got (emptied first). */
static int s_decode(const msgbuf_t *q, size_t qlen, const msgbuf_t *l, size_t llen,
                    testlib_collect_t *got, char *err)
{
    testlib_collect_reset(got);
    char *qc = testlib_copy(q->b, qlen), *lc = testlib_copy(l->b, llen);
    int rc = qdisc_decode(qc, qlen, lc, llen, testlib_collect, got, err, 256);
    free(qc);
    free(lc);
    return rc;
}

static void test_malformed(void **state)
{
    (void)state;
    msgbuf_t q, l;
    size_t qlen = 0, llen = 0;
    s_link(&l, &llen, 4, "eth0");
    testlib_collect_t got = {0};
    char err[256];
    static const struct {
        unsigned what;
        size_t readings;
        int problems;
    } cases[] = {
        {Q_KIND | Q_BASIC | Q_QUEUE, 5, 0},
        {Q_KIND | Q_BASIC, 2, 0},                     /* packets, bytes */
        {Q_KIND | Q_QUEUE, 3, 0},                     /* drops, overlimits, requeues */
        {Q_KIND | Q_BASIC | Q_QUEUE | Q_SHORT, 2, 0}, /* basic: 12 of 16 is enough */
        {Q_KIND | Q_LEGACY, 4, 0},                    /* tc_stats has no requeues */
        {Q_KIND | Q_LEGACY | Q_SHORT, 0, 0},          /* without overlimits: nothing */
        {Q_KIND, 0, 0},                               /* no statistics: left out */
        {Q_BASIC | Q_QUEUE, 0, 1},                    /* no kind */
        {Q_RAW_KIND | Q_BASIC | Q_QUEUE, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qlen = 0;
        s_qdisc(&q, &qlen, 4, 0x10000, TC_H_ROOT, cases[i].what);
        int rc = s_decode(&q, qlen, &l, llen, &got, err);
        if (rc != cases[i].problems || got.n != cases[i].readings)
            fail_msg("case %zu: %d problems (%s), %zu readings", i, rc, err, got.n);
    }
    assert_string_equal(err, "qdisc: qdisc 1: of interface 4 has no TCA_KIND string");

    qlen = 0;
    s_qdisc(&q, &qlen, 4, 0x10000, TC_H_ROOT, Q_KIND | Q_BASIC | Q_QUEUE | Q_PKT64);
    assert_int_equal(s_decode(&q, qlen, &l, llen, &got, err), 0);
    assert_int_equal(testlib_value(&got, "eth0:1:", "packets"), 1ull << 40);
    assert_int_equal(testlib_value(&got, "eth0:1:", "drops"), 3);
    assert_int_equal(testlib_value(&got, "eth0:1:", "requeues"), 4);
    assert_int_equal(testlib_value(&got, "eth0:1:", "overlimits"), 5);
    assert_int_equal(testlib_instance(&got, "eth0:1:", "drops"), 4);

    /* Names: a parent with a child, default qdiscs under classes of a
     * named or a default (0:) parent, an unknown device left out. */
    qlen = 0;
    unsigned all = Q_KIND | Q_BASIC | Q_QUEUE;
    s_qdisc(&q, &qlen, 4, 0x80010000, TC_H_ROOT, all);
    s_qdisc(&q, &qlen, 4, 0, TC_H_MAKE(0x80010000, 2), all);
    s_qdisc(&q, &qlen, 4, 0, TC_H_MAKE(0, 3), all);
    s_qdisc(&q, &qlen, 4, 0xffff0000, TC_H_INGRESS, all);
    s_qdisc(&q, &qlen, 5, 0, TC_H_ROOT, all);
    assert_int_equal(s_decode(&q, qlen, &l, llen, &got, err), 0);
    assert_int_equal(got.n, 4 * 5);
    assert_int_equal(testlib_value(&got, "eth0:8001:", "drops_incl_children"), 3);
    assert_int_equal(testlib_value(&got, "eth0:8001:2", "drops"), 3);
    assert_int_equal(testlib_value(&got, "eth0::3", "drops"), 3);
    assert_int_equal(testlib_value(&got, "eth0:ffff:", "drops"), 3);

    /* Lengths that lie: the message and those after it are not trusted. */
    qlen = 0;
    struct nlmsghdr *nlh = s_qdisc(&q, &qlen, 4, 0x10000, TC_H_ROOT, all);
    nlh->nlmsg_len = 0xfffffff0u;
    assert_int_equal(s_decode(&q, qlen, &l, llen, &got, err), 1);
    assert_non_null(strstr(err, "no whole message"));
    nlh->nlmsg_len = NLMSG_HDRLEN + 8; /* shorter than struct tcmsg */
    assert_int_equal(s_decode(&q, NLMSG_HDRLEN + 8, &l, llen, &got, err), 1);
    assert_non_null(strstr(err, "fewer than its 20-byte header"));
    assert_int_equal(got.n, 0);
    testlib_collect_reset(&got);
}

/* --- the live kernel, in namespaces of our own -------------------------- */

typedef struct {
    int home; /* the test's own network namespace, to come back to */
    int a, b; /* namespaces made by the test, or -1 */
} fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    f->a = f->b = -1;
    *state = f;
    return f->home < 0 ? -1 : 0;
}

/* Back home in case a failure left us elsewhere; closing the last fd of a
 * namespace deletes it, and its veth ends with it. */
static int s_teardown(void **state)
{
    fixture_t *f = *state;
    int rc = setns(f->home, CLONE_NEWNET);
    if (f->a >= 0)
        close(f->a);
    if (f->b >= 0)
        close(f->b);
    close(f->home);
    free(f);
    return rc;
}

/* A new network namespace, as an fd that the commands we run inherit (for
 * `ip ... netns /proc/self/fd/N`); the thread stays where it was. */
static int s_netns_new(const fixture_t *f)
{
    assert_int_equal(unshare(CLONE_NEWNET), 0);
    int fd = open("/proc/self/ns/net", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(setns(f->home, CLONE_NEWNET), 0);
    return fd;
}

static void s_enter(int ns)
{
    assert_int_equal(setns(ns, CLONE_NEWNET), 0);
}

/* va (in a, 10.99.0.1) -- vb (in b, 10.99.0.2), with static neighbours on
 * both sides and IPv6 off in a, so that only our datagrams cross va's
 * qdiscs: no ARP before them, no ARP reply for b's ICMP port unreachables,
 * nothing between our read and tc's. Leaves the thread in a. */
static void s_make_pair(fixture_t *f)
{
    f->a = s_netns_new(f);
    f->b = s_netns_new(f);
    s_enter(f->a);
    testlib_sh(
        "[ ! -d /proc/sys/net/ipv6 ] || echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6");
    testlib_sh("ip link add va address 02:00:00:00:00:01 type veth peer name vb "
               "address 02:00:00:00:00:02 netns /proc/self/fd/%d",
               f->b);
    s_enter(f->b);
    testlib_sh("ip addr add 10.99.0.2/24 dev vb && ip link set vb up && "
               "ip neigh replace 10.99.0.1 lladdr 02:00:00:00:00:01 dev vb nud permanent");
    s_enter(f->a);
    testlib_sh("ip addr add 10.99.0.1/24 dev va && ip link set va up && "
               "ip neigh replace 10.99.0.2 lladdr 02:00:00:00:00:02 dev va nud permanent");
}

/* Sends n datagrams of 100 bytes from the current namespace to vb. The
 * qdisc drops most of them and sendto() still succeeds (docs/COUNTERS.md, proto). */
static void s_send(int n)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    assert_int_equal(inet_pton(AF_INET, "10.99.0.2", &to.sin_addr), 1);
    char payload[100] = {0};
    for (int i = 0; i < n; i++)
        assert_int_equal(sendto(fd, payload, sizeof payload, 0, (struct sockaddr *)&to, sizeof to),
                         (ssize_t)sizeof payload);
    close(fd);
}

/* The object of `tc -s -j qdisc show dev <dev>` in ns whose handle is
 * handle ("10:"), as a new reference in *root's array; fails if absent. */
static json_t *s_tc(const fixture_t *f, int ns, const char *dev, const char *handle, json_t **root)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "tc -s -j qdisc show dev %s", dev);
    s_enter(ns);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    json_error_t jerr;
    *root = json_loadf(p, 0, &jerr);
    assert_int_equal(pclose(p), 0);
    s_enter(f->home);
    if (!*root)
        fail_msg("%s: %s", cmd, jerr.text);
    size_t i;
    json_t *q;
    json_array_foreach(*root, i, q)
    {
        if (strcmp(json_string_value(json_object_get(q, "handle")), handle) == 0)
            return q;
    }
    fail_msg("%s: no qdisc %s", cmd, handle);
    return NULL;
}

static uint64_t s_tc_value(json_t *q, const char *key)
{
    json_t *v = json_object_get(q, key);
    assert_true(json_is_integer(v));
    return (uint64_t)json_integer_value(v);
}

static void s_assert_class(const char *name, layer_t layer, unsigned width, bool overlap)
{
    counter_class_t c = counters_classify("qdisc", name);
    assert_int_equal(c.layer, layer);
    assert_int_equal(c.kind, KIND_COUNTER);
    assert_int_equal(c.width, width);
    assert_int_equal(c.overlap, overlap);
}

static void test_bottleneck_matches_tc(void **state)
{
    fixture_t *f = *state;
    if (!s_live)
        skip();
    s_make_pair(f);
    testlib_sh("tc qdisc replace dev va root handle 1: tbf rate 10mbit burst 10kb latency 1s && "
               "tc qdisc replace dev va parent 1:1 handle 10: pfifo limit 5");
    char err[256];
    s_send(DATAGRAMS);
    qdisc_t *qd = qdisc_new(err, sizeof err); /* its socket stays in a */
    s_enter(f->home);
    assert_non_null(qd);
    usleep(300 * 1000); /* the 5 queued datagrams leave at 10 Mbit/s in well under 1 ms */

    testlib_collect_t got = {0};
    assert_int_equal(qdisc_read(qd, testlib_collect, &got, err, sizeof err), 0);
    json_t *root_leaf, *root_tbf;
    json_t *leaf = s_tc(f, f->a, "va", "10:", &root_leaf);
    json_t *tbf = s_tc(f, f->a, "va", "1:", &root_tbf);

    /* The leaf: its own drops, every one of them a datagram we sent. */
    uint64_t drops = testlib_value(&got, "va:10:", "drops");
    print_message("va:10: drops %llu overlimits %llu packets %llu (tc %llu %llu %llu)\n",
                  (unsigned long long)drops,
                  (unsigned long long)testlib_value(&got, "va:10:", "overlimits"),
                  (unsigned long long)testlib_value(&got, "va:10:", "packets"),
                  (unsigned long long)s_tc_value(leaf, "drops"),
                  (unsigned long long)s_tc_value(leaf, "overlimits"),
                  (unsigned long long)s_tc_value(leaf, "packets"));
    assert_true(drops > 0 && drops < DATAGRAMS);
    assert_int_equal(drops, s_tc_value(leaf, "drops"));
    assert_null(testlib_find(&got, "va:10:", "drops_incl_children"));
    assert_int_equal(testlib_value(&got, "va:10:", "overlimits"), s_tc_value(leaf, "overlimits"));
    assert_int_equal(testlib_value(&got, "va:10:", "requeues"), s_tc_value(leaf, "requeues"));
    assert_int_equal(testlib_value(&got, "va:10:", "packets"), s_tc_value(leaf, "packets"));
    assert_int_equal(testlib_value(&got, "va:10:", "bytes"), s_tc_value(leaf, "bytes"));
    assert_int_equal(drops + testlib_value(&got, "va:10:", "packets"), DATAGRAMS);
    assert_int_equal(testlib_count_device(&got, "va:10:"), 5);

    /* The tbf parent repeats its child's drops, and did the shaping. */
    uint64_t tbf_drops = testlib_value(&got, "va:1:", "drops_incl_children");
    print_message("va:1: drops_incl_children %llu overlimits %llu (tc %llu %llu)\n",
                  (unsigned long long)tbf_drops,
                  (unsigned long long)testlib_value(&got, "va:1:", "overlimits"),
                  (unsigned long long)s_tc_value(tbf, "drops"),
                  (unsigned long long)s_tc_value(tbf, "overlimits"));
    assert_null(testlib_find(&got, "va:1:", "drops"));
    assert_int_equal(tbf_drops, s_tc_value(tbf, "drops"));
    assert_int_equal(tbf_drops, drops);
    assert_int_equal(testlib_value(&got, "va:1:", "overlimits"), s_tc_value(tbf, "overlimits"));
    assert_true(testlib_value(&got, "va:1:", "overlimits") > 0);
    assert_int_equal(testlib_value(&got, "va:1:", "packets"), s_tc_value(tbf, "packets"));
    assert_int_equal(testlib_instance(&got, "va:1:", "overlimits"),
                     testlib_instance(&got, "va:10:", "drops")); /* the ifindex of va */
    assert_int_equal(testlib_count_device(&got, "vb:10:") + testlib_count_device(&got, "vb:0:"),
                     0); /* b is not ours */
    json_decref(root_leaf);
    json_decref(root_tbf);

    s_assert_class("drops", LAYER_QDISC, 32, false);
    s_assert_class("drops_incl_children", LAYER_QDISC, 32, true);
    s_assert_class("overlimits", LAYER_QDISC, 32, true);
    s_assert_class("requeues", LAYER_QDISC, 32, true);
    s_assert_class("packets", LAYER_TRAFFIC, 64, false);
    s_assert_class("bytes", LAYER_TRAFFIC, 64, false);
    testlib_collect_reset(&got);
    qdisc_destroy(&qd);
    qdisc_destroy(&qd);
    assert_null(qd);
}

static void test_only_lo(void **state)
{
    fixture_t *f = *state;
    if (!s_live)
        skip();
    f->a = s_netns_new(f);
    char err[256];
    s_enter(f->a);
    qdisc_t *qd = qdisc_new(err, sizeof err);
    assert_non_null(qd);
    size_t n = 0;
    assert_int_equal(qdisc_read(qd, testlib_count_readings, &n, err, sizeof err), 0);
    assert_int_equal(n, 0); /* lo is down: its noop qdisc is not dumped */

    testlib_sh("ip link set lo up");
    s_enter(f->home);
    testlib_collect_t got = {0};
    assert_int_equal(qdisc_read(qd, testlib_collect, &got, err, sizeof err), 0);
    assert_int_equal(got.n, 5); /* noqueue 0:, a leaf with statistics */
    assert_int_equal(testlib_value(&got, "lo:0:", "drops"), 0);
    assert_int_equal(testlib_value(&got, "lo:0:", "requeues"), 0);
    assert_int_equal(testlib_value(&got, "lo:0:", "packets"), 0);
    testlib_collect_reset(&got);
    qdisc_destroy(&qd);
}

static void test_mq_children_named_by_class(void **state)
{
    fixture_t *f = *state;
    if (!s_live)
        skip();
    f->a = s_netns_new(f);
    s_enter(f->a);
    testlib_sh("ip link add va numtxqueues 3 type veth peer name vb numtxqueues 3 && "
               "ip link set va up && ip link set vb up");
    testlib_sh("tc qdisc add dev va root handle 5: mq && tc qdisc add dev va clsact");
    char err[256];
    qdisc_t *qd = qdisc_new(err, sizeof err);
    s_enter(f->home);
    assert_non_null(qd);
    testlib_collect_t got = {0};
    assert_int_equal(qdisc_read(qd, testlib_collect, &got, err, sizeof err), 0);
    /* mq 5: sums its three pfifo_fast children, each handle 0, parent 5:N. */
    assert_int_equal(testlib_value(&got, "va:5:", "drops_incl_children"), 0);
    assert_null(testlib_find(&got, "va:5:", "drops"));
    for (int q = 1; q <= 3; q++) {
        char dev[16];
        snprintf(dev, sizeof dev, "va:5:%d", q);
        assert_int_equal(testlib_count_device(&got, dev), 5);
        assert_non_null(testlib_find(&got, dev, "drops"));
    }
    /* clsact ffff: (parent ffff:fff1) is no one's parent, and not its own. */
    assert_non_null(testlib_find(&got, "va:ffff:", "drops"));
    /* vb's noqueue root. */
    assert_non_null(testlib_find(&got, "vb:0:", "drops"));
    assert_int_equal(got.n, 6 * 5);
    testlib_collect_reset(&got);
    qdisc_destroy(&qd);
}

int main(void)
{
    s_live = testlib_userns("test_qdisc");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded),
        cmocka_unit_test(test_recorded_without_links),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test_setup_teardown(test_bottleneck_matches_tc, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_only_lo, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_mq_children_named_by_class, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
