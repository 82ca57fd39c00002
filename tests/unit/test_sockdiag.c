/* Tests collector/sources/sockdiag, and the snapshot's choice of it or of
 * the /proc/net/udp scan (a kernel or policy that refuses sock_diag,
 * played by a seccomp filter). The decoder: on the three dumps recorded
 * in tests/fixtures/linux-6.18-netns-sockets (values as ss -m printed them at
 * the time: ss-udp.txt, ss-tcp.txt), on every prefix of them and on
 * hand-built malformed messages. The rule of which sockets matter. Live: in
 * a network namespace of the test's own (root, or a user namespace), a
 * socket is kept while it lives and forgotten once closed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "series.h"
#include "snapshot.h"
#include "sockdiag.h"
#include "testlib.h"

#define REC "linux-6.18-netns-sockets/sockdiag/"

static bool s_live;

typedef struct {
    sockdiag_sock_t s[16];
    size_t n;
} socks_t;

static void s_keep(void *ctx, const sockdiag_sock_t *s)
{
    socks_t *k = ctx;
    if (k->n < 16)
        k->s[k->n] = *s;
    k->n++;
}

static const sockdiag_sock_t *s_find(const socks_t *k, const char *device)
{
    for (size_t i = 0; i < k->n && i < 16; i++)
        if (strcmp(k->s[i].device, device) == 0)
            return &k->s[i];
    fail_msg("no socket %s", device);
    return NULL;
}

static int s_decode_file(const char *file, const char *proto, socks_t *k, char *err, size_t es)
{
    size_t len;
    char *buf = testlib_load(file, &len);
    int rc = sockdiag_decode(buf, len, proto, s_keep, k, err, es);
    free(buf);
    return rc;
}

/* --- the recorded dumps ------------------------------------------------- */

static void test_udp_recorded(void **state)
{
    (void)state;
    socks_t k = {.n = 0};
    char err[256] = "";
    assert_int_equal(s_decode_file(REC "udp4.bin", "udp", &k, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(k.n, 3); /* 9001, 9003 and the sender's autobound port */
    /* ss-udp.txt: UNCONN 7488 ... 127.0.0.1:9001 skmem:(r7488,rb8192,...,d41);
     * /proc/net/udp: rx_queue 0x1D40, drops 41, inode 2767680 */
    const sockdiag_sock_t *s = s_find(&k, "udp:127.0.0.1:9001");
    assert_int_equal(s->rqueue, 7488);
    assert_int_equal(s->rmem_alloc, 7488);
    assert_int_equal(s->rcvbuf, 8192); /* asked 4096: the kernel doubles it */
    assert_int_equal(s->drops, 41);
    assert_int_equal(s->inode, 2767680);
    assert_false(s->has_info);
    assert_true(sockdiag_matters(s));
    s = s_find(&k, "udp:0.0.0.0:9003");
    assert_int_equal(s->rcvbuf, 212992);
    assert_int_equal(s->drops, 0);
    assert_false(sockdiag_matters(s));
    k.n = 0;
    assert_int_equal(s_decode_file(REC "udp6.bin", "udp", &k, err, sizeof err), 0);
    assert_int_equal(k.n, 2);
    s = s_find(&k, "udp6:[::1]:9002"); /* UNCONN 832 ... [::1]:9002 r832 */
    assert_int_equal(s->rqueue, 832);
    assert_int_equal(s->inode, 2767682);
    assert_false(sockdiag_matters(s));
    s_find(&k, "udp6:[::]:55703");
}

static void test_tcp_recorded(void **state)
{
    (void)state;
    socks_t k = {.n = 0};
    char err[256] = "";
    /* one compat dump (TCPDIAG_GETSOCK) lists both families */
    assert_int_equal(s_decode_file(REC "tcp.bin", "tcp", &k, err, sizeof err), 0);
    assert_int_equal(k.n, 4); /* both ends of both; the listeners are not asked for */
    /* ss-tcp.txt: ESTAB 1000 0 127.0.0.1:9100 127.0.0.1:58636 r1832,rb131072 */
    const sockdiag_sock_t *s = s_find(&k, "tcp:127.0.0.1:9100-127.0.0.1:58636");
    assert_int_equal(s->rqueue, 1000);
    assert_int_equal(s->rmem_alloc, 1832);
    assert_int_equal(s->rcvbuf, 131072);
    assert_int_equal(s->inode, 2767687);
    assert_int_equal(s->state, 1); /* TCP_ESTABLISHED */
    assert_true(s->has_info);
    assert_int_equal(s->retrans, 0);
    assert_true(s->rtt_us > 0 && s->rtt_us < 1000000); /* rtt:0.019 ms as ss printed it */
    assert_false(sockdiag_matters(s));
    s_find(&k, "tcp:127.0.0.1:58636-127.0.0.1:9100");
    assert_int_equal(s_find(&k, "tcp6:[::1]:9101-[::1]:45692")->inode, 2767690);
    s_find(&k, "tcp6:[::1]:45692-[::1]:9101");
}

static void test_emit(void **state)
{
    (void)state;
    sockdiag_sock_t s = {.device = "tcp:10.0.0.1:22-10.0.0.2:4000",
                         .tcp = true,
                         .inode = 7,
                         .rqueue = 5,
                         .has_mem = true,
                         .rmem_alloc = 9,
                         .rcvbuf = 16,
                         .drops = 3,
                         .has_info = true,
                         .retrans = 4,
                         .rtt_us = 250};
    testlib_collect_t got = {0};
    sockdiag_emit(&s, testlib_collect, &got);
    assert_int_equal(got.n, 5);
    assert_int_equal(testlib_value(&got, s.device, "drops"), 3);
    assert_int_equal(testlib_value(&got, s.device, "rx_queue"), 5);
    assert_int_equal(testlib_value(&got, s.device, "rcvbuf"), 16);
    assert_int_equal(testlib_value(&got, s.device, "retrans"), 4);
    assert_int_equal(testlib_value(&got, s.device, "rtt_us"), 250);
    assert_int_equal(testlib_instance(&got, s.device, "drops"), 7);
    assert_string_equal(got.e[0].source, "sock");
    testlib_collect_reset(&got);
    s.has_mem = s.has_info = false; /* an old kernel: the queue alone */
    sockdiag_emit(&s, testlib_collect, &got);
    assert_int_equal(got.n, 1);
    testlib_collect_reset(&got);
}

static void test_matters(void **state)
{
    (void)state;
    sockdiag_sock_t s = {.has_mem = true, .rcvbuf = 1000};
    assert_false(sockdiag_matters(&s));
    s.rmem_alloc = 499;
    assert_false(sockdiag_matters(&s));
    s.rmem_alloc = 500; /* half its buffer */
    assert_true(sockdiag_matters(&s));
    s.rmem_alloc = 0;
    s.drops = 1;
    assert_true(sockdiag_matters(&s));
    s.drops = 0;
    s.retransmits = 2; /* a UDP socket has none: only TCP's count */
    assert_false(sockdiag_matters(&s));
    s.tcp = true;
    assert_true(sockdiag_matters(&s));
    s.retransmits = 0;
    s.retrans = 9; /* fast retransmits long ago: not now */
    assert_false(sockdiag_matters(&s));
    s.backoff = 3; /* probing a zero window, or timing out */
    assert_true(sockdiag_matters(&s));
    sockdiag_sock_t none = {.rcvbuf = 0, .has_mem = true};
    assert_false(sockdiag_matters(&none));
}

static void s_prefix(const char *buf, size_t k, void *arg)
{
    char err[256] = "";
    socks_t got = {.n = 0};
    int rc = sockdiag_decode(buf, k, arg, s_keep, &got, err, sizeof err);
    assert_true(rc >= 0);
    assert_true((rc == 0) == (err[0] == '\0'));
}

static void test_every_prefix(void **state)
{
    (void)state;
    static const char *files[] = {REC "udp4.bin", REC "udp6.bin", REC "tcp.bin"};
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        char *buf = testlib_load(files[i], &len);
        testlib_every_prefix(buf, len, s_prefix, i < 2 ? "udp" : "tcp");
        free(buf);
    }
}

/* A message of family 99, and one whose attribute runs past its end. */
static void test_malformed(void **state)
{
    (void)state;
    uint32_t buf[256] = {0};
    struct nlmsghdr *nlh = (void *)buf;
    struct inet_diag_msg *m = NLMSG_DATA(nlh);
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_len = NLMSG_LENGTH(sizeof *m);
    m->idiag_family = 99;
    char err[256] = "";
    socks_t k = {.n = 0};
    assert_int_equal(
        sockdiag_decode(buf, NLMSG_ALIGN(nlh->nlmsg_len), "udp", s_keep, &k, err, sizeof err), 1);
    assert_string_equal(err, "sock_diag: a udp socket of family 99, not IPv4 or IPv6");
    assert_int_equal(k.n, 0);
    m->idiag_family = AF_INET;
    struct nlattr *a = (void *)((char *)m + NLMSG_ALIGN(sizeof *m));
    a->nla_type = INET_DIAG_SKMEMINFO;
    a->nla_len = 200; /* the message holds 8 bytes of it */
    nlh->nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof *m) + 8);
    err[0] = '\0';
    assert_int_equal(
        sockdiag_decode(buf, NLMSG_ALIGN(nlh->nlmsg_len), "udp", s_keep, &k, err, sizeof err), 1);
    assert_string_equal(err, "sock_diag: udp:0.0.0.0:0 (inode 0): attribute 7 is longer than "
                             "its message");
    assert_int_equal(k.n, 0);
    /* a short SK_MEMINFO (an old kernel): the socket, without memory */
    a->nla_len = 8;
    assert_int_equal(sockdiag_decode(buf, NLMSG_ALIGN(nlh->nlmsg_len), "udp", s_keep, &k, NULL, 0),
                     0);
    assert_int_equal(k.n, 1);
    assert_false(k.s[0].has_mem);
}

/* --- live --------------------------------------------------------------- */

static int s_udp(uint16_t port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void s_send(uint16_t port, int n)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char b[200] = {0};
    for (int i = 0; i < n; i++)
        assert_int_equal(sendto(fd, b, sizeof b, 0, (struct sockaddr *)&a, sizeof a), 200);
    close(fd);
}

static void test_live_kept_while_it_lives(void **state)
{
    (void)state;
    if (!s_live)
        skip();
    assert_int_equal(unshare(CLONE_NEWNET), 0);
    testlib_lo_up();
    char err[256];
    sockdiag_t *sd = sockdiag_new(err, sizeof err);
    assert_non_null(sd);
    int quiet = s_udp(7001, 65536);
    int full = s_udp(7002, 4096); /* 8192 granted */
    s_send(7002, 6);              /* ~6 x 768 bytes of truesize: over half, no drop */
    testlib_collect_t got = {0};
    size_t n = 0;
    assert_int_equal(sockdiag_read(sd, testlib_collect, &got, &n, err, sizeof err), SOCKDIAG_OK);
    assert_true(n >= 2);
    assert_null(testlib_find(&got, "udp:127.0.0.1:7001", "rx_queue"));
    assert_int_equal(testlib_value(&got, "udp:127.0.0.1:7002", "rcvbuf"), 8192);
    assert_int_equal(testlib_value(&got, "udp:127.0.0.1:7002", "drops"), 0);
    assert_true(testlib_value(&got, "udp:127.0.0.1:7002", "rx_queue") >= 8192 / 2);
    testlib_collect_reset(&got);
    /* drained: it no longer matters, but it stays a series while it lives */
    char b[256];
    while (recv(full, b, sizeof b, MSG_DONTWAIT) > 0)
        ;
    assert_int_equal(sockdiag_read(sd, testlib_collect, &got, NULL, err, sizeof err), SOCKDIAG_OK);
    assert_int_equal(testlib_value(&got, "udp:127.0.0.1:7002", "rx_queue"), 0);
    testlib_collect_reset(&got);
    close(full);
    assert_int_equal(sockdiag_read(sd, testlib_collect, &got, NULL, err, sizeof err), SOCKDIAG_OK);
    assert_int_equal(got.n, 0);
    testlib_collect_reset(&got);
    close(quiet);
    sockdiag_destroy(&sd);
    sockdiag_destroy(&sd);
    assert_null(sd);
}

typedef struct {
    const char *device, *name;
    bool found;
    uint64_t value;
} s_look_t;

static void s_look(void *ctx, series_entry_t *e)
{
    s_look_t *l = ctx;
    if (e->present && strcmp(e->source, "sock") == 0 && strcmp(e->device, l->device) == 0 &&
        strcmp(e->name, l->name) == 0) {
        l->found = true;
        l->value = e->value;
    }
}

static s_look_t s_series(series_t *series, const char *device, const char *name)
{
    s_look_t l = {device, name, false, 0};
    series_each(series, s_look, &l);
    return l;
}

/* Two live snapshots into series, the log into the file log. */
static void s_snapshot(const char *log, series_t *series)
{
    snapshot_opts_t opts = {"/proc", "/sys", NULL, "none"}; /* Onload: test_onload */
    testlib_capture_stderr(log);
    snapshot_t *snap = snapshot_new(&opts);
    assert_non_null(snap);
    snapshot_collect(snap, series, NULL, 0);
    snapshot_collect(snap, series, NULL, 0); /* the fallback's second read: no second line */
    snapshot_destroy(&snap);
    testlib_restore_stderr();
}

/* sock_diag by default: the granted buffer is there. A process that may
 * not open NETLINK_SOCK_DIAG sockets (EPERM) says so once and reads the
 * dropping sockets from /proc/net/udp: the same drops, no buffer. */
static void test_snapshot_falls_back(void **state)
{
    (void)state;
    if (!s_live)
        skip();
    assert_int_equal(unshare(CLONE_NEWNET), 0);
    testlib_lo_up();
    int fd = s_udp(7102, 4096);
    s_send(7102, 50);
    series_t *series = series_new(10000);
    char log[] = "/tmp/test_sockdiag_log_XXXXXX";
    int lfd = mkstemp(log);
    assert_true(lfd >= 0);
    close(lfd);
    s_snapshot(log, series);
    s_look_t drops = s_series(series, "udp:127.0.0.1:7102", "drops");
    assert_true(drops.found && drops.value > 0);
    assert_int_equal(s_series(series, "udp:127.0.0.1:7102", "rcvbuf").value, 8192);
    assert_int_equal(testlib_count_lines(log, "NETLINK_SOCK_DIAG"), 0);
    series_destroy(&series);

    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NETLINK_SOCK_DIAG, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    assert_int_equal(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    assert_int_equal(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
    char err[256];
    assert_null(sockdiag_new(err, sizeof err));
    series = series_new(10000);
    s_snapshot(log, series);
    s_look_t fallback = s_series(series, "udp:127.0.0.1:7102", "drops");
    assert_true(fallback.found);
    assert_int_equal(fallback.value, drops.value);
    assert_false(s_series(series, "udp:127.0.0.1:7102", "rcvbuf").found);
    assert_int_equal(testlib_count_lines(log, "NETLINK_SOCK_DIAG"), 1);
    assert_int_equal(testlib_count_lines(log, "from /proc/net/udp{,6} instead"), 1);
    series_destroy(&series);
    unlink(log);
    close(fd);
}

int main(void)
{
    s_live = testlib_userns("test_sockdiag");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_recorded),
        cmocka_unit_test(test_tcp_recorded),
        cmocka_unit_test(test_emit),
        cmocka_unit_test(test_matters),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_live_kept_while_it_lives),
        /* last: its seccomp filter stays on the process */
        cmocka_unit_test(test_snapshot_falls_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
