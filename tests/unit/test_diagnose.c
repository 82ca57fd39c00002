/* Tests aggregator/diagnose on hand-made inputs: the NIC ring rule (below
 * its maximum, at it, unknown), the backlog and budget rules with and
 * without the host's sysctls, layer totals that leave out overlapping
 * counters, the bursts that preceded the drops, the dropping sockets and
 * their owners, a setting change that ended the drops, devices quoted for
 * the shell in remedies, and drop counts that add up past int64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "diagnose.h"

#define S INT64_C(1000000000)

static diag_counter_t s_c(const char *src, const char *dev, const char *name, layer_t l,
                          bool overlap, int64_t drops, int64_t first, int64_t last)
{
    diag_counter_t c = {.layer = l, .overlap = overlap, .drops = drops, .first_ns = first,
                        .last_ns = last};
    snprintf(c.source, sizeof c.source, "%s", src);
    snprintf(c.device, sizeof c.device, "%s", dev);
    snprintf(c.name, sizeof c.name, "%s", name);
    return c;
}

static diag_setting_t s_s(const char *src, const char *dev, const char *name, int64_t ts,
                          int64_t v)
{
    diag_setting_t s = {.ts_ns = ts, .value = v};
    snprintf(s.source, sizeof s.source, "%s", src);
    snprintf(s.device, sizeof s.device, "%s", dev);
    snprintf(s.name, sizeof s.name, "%s", name);
    return s;
}

static json_t *s_finding(json_t *doc, const char *layer)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "findings"), i, f)
        if (strcmp(json_string_value(json_object_get(f, "layer")), layer) == 0)
            return f;
    return NULL;
}

static const char *s_text(json_t *f, const char *key)
{
    return json_string_value(json_object_get(f, key));
}

static void test_nic_ring(void **state)
{
    (void)state;
    diag_counter_t c[] = {s_c("netdev", "eth0", "rx_missed_errors", LAYER_NIC, false, 500, 10 * S,
                              20 * S),
                          s_c("ethtool", "eth0", "rx_out_of_buffer", LAYER_NIC, true, 500, 10 * S,
                              20 * S)};
    diag_setting_t ring[] = {s_s("ring", "eth0", "rx", 1, 1024), s_s("ring", "eth0", "rx_max", 1, 4096)};
    diag_input_t in = {"h", 0, 100 * S, c, 2, ring, 2, NULL, 0, NULL, 0};
    json_t *doc = diagnose(&in);
    json_t *f = s_finding(doc, "nic");
    assert_non_null(f);
    assert_int_equal(json_integer_value(json_object_get(f, "drops")), 500); /* overlap left out */
    assert_string_equal(s_text(f, "remedy"), "ethtool -G eth0 rx 4096");
    assert_non_null(strstr(s_text(f, "limit"), "1024 of a possible 4096"));
    json_decref(doc);
    ring[0].value = 4096; /* at its maximum: spread the load instead */
    doc = diagnose(&in);
    assert_non_null(strstr(s_text(s_finding(doc, "nic"), "limit"), "at its maximum (4096)"));
    assert_non_null(strstr(s_text(s_finding(doc, "nic"), "remedy"), "ethtool -L eth0"));
    json_decref(doc);
    in.nsettings = 0; /* not reported by the driver */
    doc = diagnose(&in);
    assert_non_null(strstr(s_text(s_finding(doc, "nic"), "remedy"), "ethtool -g eth0"));
    json_decref(doc);
}

static void test_backlog_budget_and_bursts(void **state)
{
    (void)state;
    diag_counter_t c[] = {s_c("softnet", "cpu1", "dropped", LAYER_BACKLOG, false, 300, 50 * S, 51 * S),
                          s_c("softnet", "cpu1", "time_squeeze", LAYER_BUDGET, false, 7, 50 * S, 51 * S),
                          s_c("snmp", "", "Udp.InErrors", LAYER_PROTO, true, 9, 50 * S, 51 * S)};
    diag_setting_t set[] = {s_s("sysctl", "", "net.core.netdev_budget", 1, 300),
                            s_s("sysctl", "", "net.core.netdev_max_backlog", 1, 1000)};
    diag_burst_t bursts[] = {{49 * S + S / 2, 49 * S + S / 2 + 1000, "eth0", 0},
                             {10 * S, 10 * S + 1000, "eth0", 0}};
    diag_input_t in = {"h", 0, 100 * S, c, 3, set, 2, NULL, 0, bursts, 2};
    json_t *doc = diagnose(&in);
    json_t *b = s_finding(doc, "backlog");
    assert_string_equal(s_text(b, "remedy"),
                        "sysctl -w net.core.netdev_max_backlog=2000, or spread receive processing "
                        "over more CPUs (RPS/RFS) and make it cheaper");
    /* Only the burst in the second before the drops preceded them. */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "evidence"),
                                                        "bursts_before")), 1);
    assert_non_null(strstr(s_text(s_finding(doc, "budget"), "remedy"), "netdev_budget=600"));
    /* Only an overlapping total moved at the proto layer: no finding. */
    assert_null(s_finding(doc, "proto"));
    json_decref(doc);
    in.nsettings = 0; /* a child namespace cannot see the global sysctls */
    doc = diagnose(&in);
    assert_non_null(strstr(s_text(s_finding(doc, "backlog"), "limit"), "not visible"));
    json_decref(doc);
}

/* Drop reasons (eBPF) are evidence beside the counters; a layer only the
 * reasons saw (udp_mem exhaustion on 6.18 leaves MemErrors at 0) is still
 * a finding. */
static void test_reasons(void **state)
{
    (void)state;
    diag_counter_t c[] = {s_c("snmp", "", "Udp.RcvbufErrors", LAYER_SOCKET, false, 40, 5 * S, 6 * S),
                          s_c("reason", "", "SOCKET_RCVBUFF", LAYER_SOCKET, true, 40, 5 * S, 6 * S),
                          s_c("reason", "", "NETFILTER_DROP", LAYER_PROTO, true, 12, 7 * S, 8 * S)};
    diag_input_t in = {"h", 0, 100 * S, c, 3, NULL, 0, NULL, 0, NULL, 0};
    json_t *doc = diagnose(&in);
    json_t *sock = s_finding(doc, "socket");
    assert_int_equal(json_integer_value(json_object_get(sock, "drops")), 40); /* not 80 */
    json_t *ev = json_object_get(json_object_get(sock, "evidence"), "counters");
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(s_text(json_array_get(ev, 1), "series"), "reason//SOCKET_RCVBUFF");
    json_t *proto = s_finding(doc, "proto");
    assert_non_null(proto);
    assert_int_equal(json_integer_value(json_object_get(proto, "drops")), 12);
    assert_int_equal(json_integer_value(json_object_get(proto, "first_ns")), 7 * S);
    json_decref(doc);
}

/* The socket finding names the dropping sockets and, when known, the
 * process holding each; the evidence carries the owner too. */
static void test_socket_owner(void **state)
{
    (void)state;
    diag_counter_t c[] = {
        s_c("snmp", "", "Udp.RcvbufErrors", LAYER_SOCKET, false, 70, 5 * S, 6 * S),
        s_c("sock", "udp:10.0.0.1:9999", "drops", LAYER_SOCKET, true, 50, 5 * S, 6 * S),
        s_c("sock", "udp:10.0.0.1:53", "drops", LAYER_SOCKET, true, 20, 5 * S, 6 * S)};
    snprintf(c[1].owner, sizeof c[1].owner, "%s", "4242/feed");
    diag_setting_t set[] = {s_s("sysctl", "", "net.core.rmem_max", 1, 212992)};
    diag_input_t in = {"h", 0, 100 * S, c, 3, set, 1, NULL, 0, NULL, 0};
    json_t *doc = diagnose(&in);
    json_t *f = s_finding(doc, "socket");
    assert_non_null(strstr(s_text(f, "limit"),
                           "dropping sockets: udp:10.0.0.1:9999 held by 4242/feed (50), "
                           "udp:10.0.0.1:53 (20)"));
    assert_non_null(strstr(s_text(f, "remedy"), "udp:10.0.0.1:9999 held by 4242/feed (50)"));
    json_t *ev = json_object_get(json_object_get(f, "evidence"), "counters");
    assert_string_equal(s_text(json_array_get(ev, 1), "owner"), "4242/feed");
    assert_null(json_object_get(json_array_get(ev, 2), "owner")); /* not known: absent */
    json_decref(doc);
}

static void test_change_ends_drops(void **state)
{
    (void)state;
    diag_counter_t c[] = {s_c("netstat", "", "TcpExt.ListenOverflows", LAYER_LISTEN, false, 40,
                              10 * S, 20 * S)};
    diag_setting_t set[] = {s_s("sysctl", "", "net.core.somaxconn", 1, 4),
                            s_s("sysctl", "", "net.core.somaxconn", 30 * S, 4096)};
    diag_delta_t d[] = {{10 * S, LAYER_LISTEN, 25}, {20 * S, LAYER_LISTEN, 15}};
    diag_input_t in = {"h", 0, 100 * S, c, 1, set, 2, d, 2, NULL, 0};
    json_t *doc = diagnose(&in);
    json_t *f = s_finding(doc, "listen");
    assert_non_null(strstr(s_text(f, "limit"), "somaxconn = 4096"));
    assert_non_null(strstr(s_text(f, "resolved"),
                           "drops stopped after sysctl//net.core.somaxconn went from 4 to 4096"));
    json_t *ch = json_array_get(json_object_get(json_object_get(f, "evidence"), "setting_changes"), 0);
    assert_int_equal(json_integer_value(json_object_get(ch, "drops_before")), 40);
    assert_int_equal(json_integer_value(json_object_get(ch, "drops_after")), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "changes")), 1);
    json_decref(doc);
}

/* The NIC finding's remedy for device dev in each state of its ring: below
 * its maximum, at it, and not reported. */
static void s_nic_remedies(const char *dev, char below[512], char at_max[512], char unknown[512])
{
    diag_counter_t c[] = {s_c("netdev", dev, "rx_missed_errors", LAYER_NIC, false, 5, S, 2 * S)};
    diag_setting_t ring[] = {s_s("ring", dev, "rx", 1, 1024),
                             s_s("ring", dev, "rx_max", 1, 4096)};
    diag_input_t in = {"h", 0, 100 * S, c, 1, ring, 2, NULL, 0, NULL, 0};
    char *out[] = {below, at_max, unknown};
    for (int i = 0; i < 3; i++) {
        ring[0].value = i == 1 ? 4096 : 1024;
        in.nsettings = i == 2 ? 0 : 2;
        json_t *doc = diagnose(&in);
        json_t *f = s_finding(doc, "nic");
        assert_non_null(f);
        snprintf(out[i], 512, "%s", s_text(f, "remedy"));
        json_decref(doc);
    }
}

/* A remedy is pasted into a shell, and the device in it came from a
 * collector: a name stands as it is, anything else is single-quoted (rows
 * stored before ingest checked names must not inject a command). */
static void test_remedy_quotes_device(void **state)
{
    (void)state;
    char below[512], at_max[512], unknown[512];
    s_nic_remedies("eth0", below, at_max, unknown);
    assert_string_equal(below, "ethtool -G eth0 rx 4096");
    assert_non_null(strstr(at_max, "(ethtool -L eth0 combined N)"));
    assert_non_null(strstr(unknown, "`ethtool -g eth0`"));
    s_nic_remedies("e;reboot", below, at_max, unknown);
    assert_string_equal(below, "ethtool -G 'e;reboot' rx 4096");
    assert_non_null(strstr(at_max, "(ethtool -L 'e;reboot' combined N)"));
    assert_non_null(strstr(unknown, "`ethtool -g 'e;reboot'`"));
    s_nic_remedies("it's $(id)`x`", below, at_max, unknown);
    assert_string_equal(below, "ethtool -G 'it'\\''s $(id)`x`' rx 4096");
    /* In the name set, yet read by a shell: a comment, a glob; and empty. */
    s_nic_remedies("#eth0", below, at_max, unknown);
    assert_string_equal(below, "ethtool -G '#eth0' rx 4096");
    s_nic_remedies("eth[0]", below, at_max, unknown);
    assert_string_equal(below, "ethtool -G 'eth[0]' rx 4096");
    s_nic_remedies("", below, at_max, unknown);
    assert_string_equal(below, "ethtool -G '' rx 4096");
    s_nic_remedies("en-p1.10_x:y@z+1%2", below, at_max, unknown);
    assert_string_equal(below, "ethtool -G en-p1.10_x:y@z+1%2 rx 4096");
    /* The longest device quoted whole: the remedy is not cut mid-quote. */
    char dev[192];
    memset(dev, '\'', sizeof dev - 1);
    dev[sizeof dev - 1] = '\0';
    diag_counter_t c[] = {s_c("netdev", dev, "rx_missed_errors", LAYER_NIC, false, 5, S, 2 * S)};
    diag_input_t in = {"h", 0, 100 * S, c, 1, NULL, 0, NULL, 0, NULL, 0};
    json_t *doc = diagnose(&in);
    char want[1024] = "`ethtool -g '";
    for (size_t i = 0; i < sizeof dev - 1; i++)
        strcat(want, "'\\''");
    strcat(want, "'` and raise it to its maximum");
    assert_non_null(strstr(s_text(s_finding(doc, "nic"), "remedy"), want));
    json_decref(doc);
}

static const char *s_qdisc_remedy(json_t **doc, const char *dev)
{
    diag_counter_t c[] = {s_c("qdisc", dev, "drops", LAYER_QDISC, false, 9, S, 2 * S)};
    diag_input_t in = {"h", 0, 100 * S, c, 1, NULL, 0, NULL, 0, NULL, 0};
    *doc = diagnose(&in);
    json_t *f = s_finding(*doc, "qdisc");
    assert_non_null(f);
    return s_text(f, "remedy");
}

static void test_qdisc_remedy_quotes(void **state)
{
    (void)state;
    json_t *doc;
    assert_non_null(strstr(s_qdisc_remedy(&doc, "eth0:1:"),
                           "(tc qdisc change dev eth0 handle 1: ... limit N)"));
    json_decref(doc);
    assert_non_null(strstr(s_qdisc_remedy(&doc, "e|x:1;reboot"),
                           "(tc qdisc change dev 'e|x' handle '1;reboot' ... limit N)"));
    json_decref(doc);
    assert_non_null(strstr(s_qdisc_remedy(&doc, "e$x:1:"),
                           "(tc qdisc change dev 'e$x' handle 1: ... limit N)"));
    json_decref(doc);
}

/* Drop counts near int64's end (rows stored before ingest bounded a
 * delta) add up to INT64_MAX, not to a wrapped negative (signed overflow
 * is undefined: the UBSan build aborted); a huge setting doubled for a
 * remedy holds at INT64_MAX too. */
static void test_sums_saturate(void **state)
{
    (void)state;
    const int64_t M = INT64_MAX;
    diag_counter_t c[] = {
        s_c("snmp", "", "Udp.RcvbufErrors", LAYER_SOCKET, false, M, 5 * S, 6 * S),
        s_c("snmp", "", "Udp6.RcvbufErrors", LAYER_SOCKET, false, M, 5 * S, 6 * S),
        s_c("reason", "", "NETFILTER_DROP", LAYER_PROTO, true, M, 7 * S, 8 * S),
        s_c("reason", "", "IP_INHDR", LAYER_PROTO, true, M, 7 * S, 8 * S),
        s_c("softnet", "cpu0", "dropped", LAYER_BACKLOG, false, 1, 5 * S, 6 * S),
        s_c("softnet", "cpu0", "time_squeeze", LAYER_BUDGET, false, 1, 5 * S, 6 * S),
        s_c("netstat", "", "TcpExt.ListenOverflows", LAYER_LISTEN, false, 1, 5 * S, 6 * S)};
    diag_setting_t set[] = {s_s("sysctl", "", "net.core.netdev_budget", 1, M),
                            s_s("sysctl", "", "net.core.netdev_budget_usecs", 1, M),
                            s_s("sysctl", "", "net.core.netdev_max_backlog", 1, M),
                            s_s("sysctl", "", "net.core.rmem_max", 1, 1),
                            s_s("sysctl", "", "net.core.rmem_max", 30 * S, M),
                            s_s("sysctl", "", "net.core.somaxconn", 1, M)};
    diag_delta_t d[] = {{5 * S, LAYER_SOCKET, M}, {6 * S, LAYER_SOCKET, M}};
    diag_input_t in = {"h", INT64_MIN, 100 * S, c, 7, set, 6, d, 2, NULL, 0};
    json_t *doc = diagnose(&in);
    json_t *sock = s_finding(doc, "socket");
    assert_true(json_integer_value(json_object_get(sock, "drops")) == M);
    assert_non_null(strstr(s_text(sock, "remedy"), "rmem_max=9223372036854775807"));
    json_t *ch = json_array_get(json_object_get(json_object_get(sock, "evidence"),
                                                "setting_changes"), 0);
    assert_true(json_integer_value(json_object_get(ch, "drops_before")) == M);
    assert_true(json_integer_value(json_object_get(s_finding(doc, "proto"), "drops")) == M);
    assert_non_null(strstr(s_text(s_finding(doc, "backlog"), "remedy"),
                           "netdev_max_backlog=9223372036854775807"));
    assert_non_null(strstr(s_text(s_finding(doc, "budget"), "remedy"),
                           "netdev_budget=9223372036854775807 "
                           "net.core.netdev_budget_usecs=9223372036854775807"));
    assert_non_null(strstr(s_text(s_finding(doc, "listen"), "remedy"),
                           "somaxconn=9223372036854775807"));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nic_ring),
        cmocka_unit_test(test_backlog_budget_and_bursts),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_socket_owner),
        cmocka_unit_test(test_change_ends_drops),
        cmocka_unit_test(test_remedy_quotes_device),
        cmocka_unit_test(test_qdisc_remedy_quotes),
        cmocka_unit_test(test_sums_saturate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
