/* Tests collector/sources/qdisc against the live kernel, in network
 * namespaces of the test's own (ip netns, deleted in teardown even after a
 * failure; the machine's interfaces are never touched): the qdisc recipe of
 * docs/COUNTERS.md, a bottleneck (tbf 1: over pfifo 10: limit 5 on veth va) must show
 * the drops, overlimits and traffic that `tc -s -j qdisc show` shows, with
 * only the leaf's drops as "drops"; a namespace with just lo, down and then
 * up, must read cleanly; mq children (all handle 0) must get distinct names.
 * Needs root; skips without it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
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

typedef struct {
    char a[32], b[32]; /* namespace names, unique to this process */
    int home;          /* the test's own network namespace, to come back to */
} fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->a, sizeof f->a, "dsq_a_%d", (int)getpid());
    snprintf(f->b, sizeof f->b, "dsq_b_%d", (int)getpid());
    f->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    *state = f;
    return f->home < 0 ? -1 : 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    int rc = 0;
    if (geteuid() == 0) { /* otherwise the test skipped and made nothing */
        char cmd[128];
        snprintf(cmd, sizeof cmd, "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", f->a,
                 f->b);
        rc = setns(f->home, CLONE_NEWNET); /* in case a failure left us inside */
        if (system(cmd) < 0)
            rc = -1;
    }
    close(f->home);
    free(f);
    return rc;
}

static void s_enter(const char *ns)
{
    char path[64];
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(setns(fd, CLONE_NEWNET), 0);
    close(fd);
}

/* va (in a, 10.99.0.1) -- vb (in b, 10.99.0.2), with static neighbours on
 * both sides and IPv6 off in a, so that only our datagrams cross va's
 * qdiscs: no ARP before them, no ARP reply for b's ICMP port unreachables,
 * nothing between our read and tc's. */
static void s_make_pair(const fixture_t *f)
{
    testlib_sh("ip netns add %s && ip netns add %s", f->a, f->b);
    testlib_sh("[ ! -d /proc/sys/net/ipv6 ] || ip netns exec %s sh -c 'echo 1 > "
               "/proc/sys/net/ipv6/conf/default/disable_ipv6'",
               f->a);
    testlib_sh("ip -n %s link add va type veth peer name vb netns %s", f->a, f->b);
    testlib_sh("ip -n %s link set vb address 02:00:00:00:00:02 && "
               "ip -n %s link set va address 02:00:00:00:00:01",
               f->b, f->a);
    testlib_sh("ip -n %s addr add 10.99.0.2/24 dev vb && ip -n %s link set vb up && "
               "ip -n %s neigh replace 10.99.0.1 lladdr 02:00:00:00:00:01 dev vb nud permanent",
               f->b, f->b, f->b);
    testlib_sh("ip -n %s addr add 10.99.0.1/24 dev va && ip -n %s link set va up && "
               "ip -n %s neigh replace 10.99.0.2 lladdr 02:00:00:00:00:02 dev va nud permanent",
               f->a, f->a, f->a);
}

/* Sends n datagrams of 100 bytes from the current namespace to vb. The
 * qdisc drops most of them and sendto() still succeeds (COUNTERS §11.9). */
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
static json_t *s_tc(const char *ns, const char *dev, const char *handle, json_t **root)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "tc -n %s -s -j qdisc show dev %s", ns, dev);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    json_error_t jerr;
    *root = json_loadf(p, 0, &jerr);
    assert_int_equal(pclose(p), 0);
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
    if (geteuid() != 0)
        skip();
    s_make_pair(f);
    testlib_sh("tc -n %s qdisc replace dev va root handle 1: tbf rate 10mbit burst 10kb "
               "latency 1s && tc -n %s qdisc replace dev va parent 1:1 handle 10: pfifo limit 5",
               f->a, f->a);
    char err[256];
    s_enter(f->a);
    s_send(DATAGRAMS);
    qdisc_t *qd = qdisc_new(err, sizeof err); /* its socket stays in a */
    assert_int_equal(setns(f->home, CLONE_NEWNET), 0);
    assert_non_null(qd);
    usleep(300 * 1000); /* the 5 queued datagrams leave at 10 Mbit/s in well under 1 ms */

    testlib_collect_t got = {0};
    assert_int_equal(qdisc_read(qd, testlib_collect, &got, err, sizeof err), 0);
    json_t *root_leaf, *root_tbf;
    json_t *leaf = s_tc(f->a, "va", "10:", &root_leaf);
    json_t *tbf = s_tc(f->a, "va", "1:", &root_tbf);

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
    if (geteuid() != 0)
        skip();
    testlib_sh("ip netns add %s", f->a);
    char err[256];
    s_enter(f->a);
    qdisc_t *qd = qdisc_new(err, sizeof err);
    assert_int_equal(setns(f->home, CLONE_NEWNET), 0);
    assert_non_null(qd);
    size_t n = 0;
    assert_int_equal(qdisc_read(qd, testlib_count_readings, &n, err, sizeof err), 0);
    assert_int_equal(n, 0); /* lo is down: its noop qdisc is not dumped */

    testlib_sh("ip -n %s link set lo up", f->a);
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
    if (geteuid() != 0)
        skip();
    testlib_sh("ip netns add %s && ip -n %s link add va numtxqueues 3 type veth peer name vb "
               "numtxqueues 3 && ip -n %s link set va up && ip -n %s link set vb up",
               f->a, f->a, f->a, f->a);
    testlib_sh("tc -n %s qdisc add dev va root handle 5: mq && tc -n %s qdisc add dev va clsact",
               f->a, f->a);
    char err[256];
    s_enter(f->a);
    qdisc_t *qd = qdisc_new(err, sizeof err);
    assert_int_equal(setns(f->home, CLONE_NEWNET), 0);
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bottleneck_matches_tc, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_only_lo, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_mq_children_named_by_class, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
