/* Tests aggregator/diagnose on hand-made inputs: the NIC ring rule (below
 * its maximum, at it, unknown), the backlog and budget rules with and
 * without the host's sysctls, layer totals that leave out overlapping
 * counters, the bursts that preceded the drops, the dropping sockets and
 * their owners, a setting change that ended the drops, devices quoted for
 * the shell in remedies, and drop counts that add up past int64; on the
 * diagnosis' structs, and once on the JSON form rows.c gives them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diagnose.h"
#include "rows.h"

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

/* The finding of layer, or NULL. */
static const diag_finding_t *s_finding(const diagnosis_t *d, layer_t layer)
{
    for (size_t i = 0; i < d->nfindings; i++)
        if (d->findings[i].layer == layer)
            return &d->findings[i];
    return NULL;
}

/* The precursor warning of layer (budget: squeezes), or NULL. */
static const diag_finding_t *s_precursor(const diagnosis_t *d, layer_t layer)
{
    for (size_t i = 0; i < d->nprecursors; i++)
        if (d->precursors[i].layer == layer)
            return &d->precursors[i];
    return NULL;
}

/* The finding of layer; the test fails when there is none. */
static const diag_finding_t *s_must(const diagnosis_t *d, layer_t layer)
{
    static const diag_finding_t none; /* never returned: GCC cannot tell the assert ends the test */
    const diag_finding_t *f = s_finding(d, layer);
    assert_non_null(f);
    return f ? f : &none;
}

static void test_nic_ring(void **state)
{
    (void)state;
    diag_counter_t c[] = {s_c("netdev", "eth0", "rx_missed_errors", LAYER_NIC, false, 500, 10 * S,
                              20 * S),
                          s_c("ethtool", "eth0", "rx_out_of_buffer", LAYER_NIC, true, 500, 10 * S,
                              20 * S)};
    diag_setting_t ring[] = {s_s("ring", "eth0", "rx", 1, 1024), s_s("ring", "eth0", "rx_max", 1, 4096)};
    diag_input_t in = {"h", 0, 100 * S, c, 2, ring, 2, NULL, 0, NULL, 0, NULL, 0};
    diagnosis_t *d = diagnose(&in);
    assert_non_null(d);
    assert_string_equal(d->host, "h");
    assert_int_equal(d->from_ns, 0);
    assert_int_equal(d->to_ns, 100 * S);
    assert_int_equal(d->nfindings, 1);
    assert_int_equal(d->nchanges, 0);
    const diag_finding_t *f = s_must(d, LAYER_NIC);
    assert_int_equal(f->drops, 500); /* overlap left out */
    assert_int_equal(f->first_ns, 10 * S);
    assert_int_equal(f->last_ns, 20 * S);
    assert_string_equal(f->remedy, "ethtool -G eth0 rx 4096");
    assert_non_null(strstr(f->limit, "1024 of a possible 4096"));
    assert_string_equal(f->resolved, "");
    /* Both counters are evidence, in input order, the overlapping one too. */
    assert_int_equal(f->evidence.ncounters, 2);
    assert_string_equal(f->evidence.counters[0].series, "netdev/eth0/rx_missed_errors");
    assert_false(f->evidence.counters[0].overlap);
    assert_string_equal(f->evidence.counters[1].series, "ethtool/eth0/rx_out_of_buffer");
    assert_true(f->evidence.counters[1].overlap);
    assert_int_equal(f->evidence.counters[1].drops, 500);
    diagnosis_destroy(&d);
    assert_null(d);
    diagnosis_destroy(&d); /* safe twice */
    ring[0].value = 4096; /* at its maximum: spread the load instead */
    d = diagnose(&in);
    assert_non_null(strstr(s_must(d, LAYER_NIC)->limit, "at its maximum (4096)"));
    assert_non_null(strstr(s_must(d, LAYER_NIC)->remedy, "ethtool -L eth0"));
    diagnosis_destroy(&d);
    in.nsettings = 0; /* not reported by the driver */
    d = diagnose(&in);
    assert_non_null(strstr(s_must(d, LAYER_NIC)->remedy, "ethtool -g eth0"));
    diagnosis_destroy(&d);
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
    diag_input_t in = {"h", 0, 100 * S, c, 3, set, 2, NULL, 0, bursts, 2, NULL, 0};
    diagnosis_t *d = diagnose(&in);
    const diag_finding_t *b = s_must(d, LAYER_BACKLOG);
    assert_string_equal(b->remedy,
                        "sysctl -w net.core.netdev_max_backlog=2000, or spread receive processing "
                        "over more CPUs (RPS/RFS) and make it cheaper");
    /* Only the burst in the second before the drops preceded them. */
    assert_int_equal(b->evidence.bursts_before, 1);
    /* The squeezes are a warning beside the backlog's finding, never a finding. */
    assert_null(s_finding(d, LAYER_BUDGET));
    assert_int_equal(d->nprecursors, 1);
    assert_int_equal(s_precursor(d, LAYER_BUDGET)->drops, 7);
    assert_non_null(strstr(s_precursor(d, LAYER_BUDGET)->remedy, "netdev_budget=600"));
    /* Only an overlapping total moved at the proto layer: no finding. */
    assert_null(s_finding(d, LAYER_PROTO));
    assert_int_equal(d->nfindings, 1);
    assert_int_equal(d->findings[0].layer, LAYER_BACKLOG);
    diagnosis_destroy(&d);
    in.nsettings = 0; /* a child namespace cannot see the global sysctls */
    d = diagnose(&in);
    assert_non_null(strstr(s_must(d, LAYER_BACKLOG)->limit, "not visible"));
    diagnosis_destroy(&d);
}

/* A busy host that lost nothing: only time_squeeze moved (every drop
 * counter flat). No finding, so "no drops"; the squeezes are a precursor
 * warning with the budget's bound and remedy, and in the JSON they are
 * "squeezes", never "drops". */
static void test_squeezes_only(void **state)
{
    (void)state;
    diag_counter_t c[] = {
        s_c("softnet", "cpu0", "time_squeeze", LAYER_BUDGET, false, 40, 5 * S, 9 * S),
        s_c("softnet", "cpu1", "time_squeeze", LAYER_BUDGET, false, 2, 6 * S, 7 * S)};
    diag_setting_t set[] = {s_s("sysctl", "", "net.core.netdev_budget", 1, 300),
                            s_s("sysctl", "", "net.core.netdev_budget", 8 * S, 600)};
    diag_delta_t dl[] = {
        {5 * S, LAYER_BUDGET, 30}, {6 * S, LAYER_BUDGET, 2}, {7 * S, LAYER_BUDGET, 10}};
    diag_input_t in = {"busy", 0, 100 * S, c, 2, set, 2, dl, 3, NULL, 0, NULL, 0};
    diagnosis_t *d = diagnose(&in);
    assert_non_null(d);
    assert_int_equal(d->nfindings, 0);
    assert_int_equal(d->nprecursors, 1);
    const diag_finding_t *p = s_precursor(d, LAYER_BUDGET);
    assert_int_equal(p->drops, 42);
    assert_int_equal(p->first_ns, 5 * S);
    assert_int_equal(p->last_ns, 9 * S);
    assert_non_null(strstr(p->limit, "time_squeeze is a precursor"));
    assert_non_null(strstr(p->remedy, "netdev_budget=1200")); /* twice the value at the end */
    assert_int_equal(p->evidence.nsetting_changes, 1);
    assert_int_equal(p->evidence.setting_changes[0].drops_before, 42);
    assert_int_equal(p->evidence.setting_changes[0].drops_after, 0);
    assert_non_null(strstr(p->resolved, "squeezes stopped after sysctl//net.core.netdev_budget"));
    json_t *doc = rows_diagnosis(d);
    assert_int_equal(json_array_size(json_object_get(doc, "findings")), 0);
    json_t *w = json_array_get(json_object_get(doc, "precursors"), 0);
    assert_string_equal(json_string_value(json_object_get(w, "layer")), "budget");
    assert_int_equal(json_integer_value(json_object_get(w, "squeezes")), 42);
    assert_null(json_object_get(w, "drops"));
    json_t *ev = json_object_get(w, "evidence");
    json_t *c0 = json_array_get(json_object_get(ev, "counters"), 0);
    assert_int_equal(json_integer_value(json_object_get(c0, "squeezes")), 40);
    assert_null(json_object_get(c0, "drops"));
    json_t *ch = json_array_get(json_object_get(ev, "setting_changes"), 0);
    assert_int_equal(json_integer_value(json_object_get(ch, "squeezes_before")), 42);
    assert_null(json_object_get(ch, "drops_before"));
    json_decref(doc);
    diagnosis_destroy(&d);
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
    diag_input_t in = {"h", 0, 100 * S, c, 3, NULL, 0, NULL, 0, NULL, 0, NULL, 0};
    diagnosis_t *d = diagnose(&in);
    const diag_finding_t *sock = s_must(d, LAYER_SOCKET);
    assert_int_equal(sock->drops, 40); /* not 80 */
    assert_int_equal(sock->evidence.ncounters, 2);
    assert_string_equal(sock->evidence.counters[1].series, "reason//SOCKET_RCVBUFF");
    const diag_finding_t *proto = s_must(d, LAYER_PROTO);
    assert_int_equal(proto->drops, 12);
    assert_int_equal(proto->first_ns, 7 * S);
    assert_int_equal(proto->last_ns, 8 * S);
    diagnosis_destroy(&d);
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
    diag_input_t in = {"h", 0, 100 * S, c, 3, set, 1, NULL, 0, NULL, 0, NULL, 0};
    diagnosis_t *d = diagnose(&in);
    const diag_finding_t *f = s_must(d, LAYER_SOCKET);
    assert_non_null(strstr(f->limit, "dropping sockets: udp:10.0.0.1:9999 held by 4242/feed (50), "
                                     "udp:10.0.0.1:53 (20)"));
    assert_non_null(strstr(f->remedy, "udp:10.0.0.1:9999 held by 4242/feed (50)"));
    assert_int_equal(f->evidence.ncounters, 3);
    assert_string_equal(f->evidence.counters[1].owner, "4242/feed");
    assert_string_equal(f->evidence.counters[2].owner, ""); /* not known: the JSON leaves it out */
    diagnosis_destroy(&d);
}

static void test_change_ends_drops(void **state)
{
    (void)state;
    diag_counter_t c[] = {s_c("netstat", "", "TcpExt.ListenOverflows", LAYER_LISTEN, false, 40,
                              10 * S, 20 * S)};
    diag_setting_t set[] = {s_s("sysctl", "", "net.core.somaxconn", 1, 4),
                            s_s("sysctl", "", "net.core.somaxconn", 30 * S, 4096)};
    diag_delta_t dl[] = {{10 * S, LAYER_LISTEN, 25}, {20 * S, LAYER_LISTEN, 15}};
    diag_input_t in = {"h", 0, 100 * S, c, 1, set, 2, dl, 2, NULL, 0, NULL, 0};
    diagnosis_t *d = diagnose(&in);
    const diag_finding_t *f = s_must(d, LAYER_LISTEN);
    assert_non_null(strstr(f->limit, "somaxconn = 4096"));
    assert_non_null(
        strstr(f->resolved, "drops stopped after sysctl//net.core.somaxconn went from 4 to 4096"));
    assert_int_equal(f->evidence.nsetting_changes, 1);
    const diag_change_t *ch = &f->evidence.setting_changes[0];
    assert_string_equal(ch->series, "sysctl//net.core.somaxconn");
    assert_int_equal(ch->ts_ns, 30 * S);
    assert_int_equal(ch->from, 4);
    assert_int_equal(ch->to, 4096);
    assert_int_equal(ch->drops_before, 40);
    assert_int_equal(ch->drops_after, 0);
    /* The diagnosis' own list of changes counts no layer's drops. */
    assert_int_equal(d->nchanges, 1);
    assert_string_equal(d->changes[0].series, "sysctl//net.core.somaxconn");
    assert_int_equal(d->changes[0].drops_before, 0);
    diagnosis_destroy(&d);
}

/* The NIC finding's remedy for device dev in each state of its ring: below
 * its maximum, at it, and not reported. */
static void s_nic_remedies(const char *dev, char below[2048], char at_max[2048], char unknown[2048])
{
    diag_counter_t c[] = {s_c("netdev", dev, "rx_missed_errors", LAYER_NIC, false, 5, S, 2 * S)};
    diag_setting_t ring[] = {s_s("ring", dev, "rx", 1, 1024),
                             s_s("ring", dev, "rx_max", 1, 4096)};
    diag_input_t in = {"h", 0, 100 * S, c, 1, ring, 2, NULL, 0, NULL, 0, NULL, 0};
    char *out[] = {below, at_max, unknown};
    for (int i = 0; i < 3; i++) {
        ring[0].value = i == 1 ? 4096 : 1024;
        in.nsettings = i == 2 ? 0 : 2;
        diagnosis_t *d = diagnose(&in);
        snprintf(out[i], 2048, "%s", s_must(d, LAYER_NIC)->remedy);
        diagnosis_destroy(&d);
    }
}

/* A remedy is pasted into a shell, and the device in it came from a
 * collector: a name stands as it is, anything else is single-quoted (rows
 * stored before ingest checked names must not inject a command). */
static void test_remedy_quotes_device(void **state)
{
    (void)state;
    char below[2048], at_max[2048], unknown[2048];
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
    diag_input_t in = {"h", 0, 100 * S, c, 1, NULL, 0, NULL, 0, NULL, 0, NULL, 0};
    diagnosis_t *d = diagnose(&in);
    char want[1024] = "`ethtool -g '";
    for (size_t i = 0; i < sizeof dev - 1; i++)
        strcat(want, "'\\''");
    strcat(want, "'` and raise it to its maximum");
    assert_non_null(strstr(s_must(d, LAYER_NIC)->remedy, want));
    diagnosis_destroy(&d);
}

/* The qdisc finding's remedy for the qdisc counter of device dev ("dev:handle"). */
static void s_qdisc_remedy(const char *dev, char remedy[2048])
{
    diag_counter_t c[] = {s_c("qdisc", dev, "drops", LAYER_QDISC, false, 9, S, 2 * S)};
    diag_input_t in = {"h", 0, 100 * S, c, 1, NULL, 0, NULL, 0, NULL, 0, NULL, 0};
    diagnosis_t *d = diagnose(&in);
    snprintf(remedy, 2048, "%s", s_must(d, LAYER_QDISC)->remedy);
    diagnosis_destroy(&d);
}

static void test_qdisc_remedy_quotes(void **state)
{
    (void)state;
    char remedy[2048];
    s_qdisc_remedy("eth0:1:", remedy);
    assert_non_null(strstr(remedy, "(tc qdisc change dev eth0 handle 1: ... limit N)"));
    s_qdisc_remedy("e|x:1;reboot", remedy);
    assert_non_null(strstr(remedy, "(tc qdisc change dev 'e|x' handle '1;reboot' ... limit N)"));
    s_qdisc_remedy("e$x:1:", remedy);
    assert_non_null(strstr(remedy, "(tc qdisc change dev 'e$x' handle 1: ... limit N)"));
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
    diag_delta_t dl[] = {{5 * S, LAYER_SOCKET, M}, {6 * S, LAYER_SOCKET, M}};
    diag_input_t in = {"h", INT64_MIN, 100 * S, c, 7, set, 6, dl, 2, NULL, 0, NULL, 0};
    diagnosis_t *d = diagnose(&in);
    const diag_finding_t *sock = s_must(d, LAYER_SOCKET);
    assert_true(sock->drops == M);
    assert_non_null(strstr(sock->remedy, "rmem_max=9223372036854775807"));
    assert_int_equal(sock->evidence.nsetting_changes, 1);
    assert_true(sock->evidence.setting_changes[0].drops_before == M);
    assert_true(s_must(d, LAYER_PROTO)->drops == M);
    assert_non_null(
        strstr(s_must(d, LAYER_BACKLOG)->remedy, "netdev_max_backlog=9223372036854775807"));
    assert_non_null(strstr(s_precursor(d, LAYER_BUDGET)->remedy,
                           "netdev_budget=9223372036854775807 "
                           "net.core.netdev_budget_usecs=9223372036854775807"));
    assert_non_null(strstr(s_must(d, LAYER_LISTEN)->remedy, "somaxconn=9223372036854775807"));
    diagnosis_destroy(&d);
}

/* The JSON form, as /api/diagnose answered before the diagnosis became
 * structs (the same input through the jansson-building diagnose): an
 * owner only when known, "resolved" null when no change ended the drops,
 * the diagnosis' own changes with LAYER_UNKNOWN's drops (none). */
static void test_json_form(void **state)
{
    (void)state;
    diag_counter_t c[] = {
        s_c("netstat", "", "TcpExt.ListenOverflows", LAYER_LISTEN, false, 40, 10 * S, 20 * S),
        s_c("sock", "udp:10.0.0.1:9999", "drops", LAYER_SOCKET, true, 50, 5 * S, 6 * S),
        s_c("snmp", "", "Udp.RcvbufErrors", LAYER_SOCKET, false, 70, 5 * S, 6 * S)};
    snprintf(c[1].owner, sizeof c[1].owner, "%s", "4242/feed");
    diag_setting_t set[] = {s_s("sysctl", "", "net.core.somaxconn", 1, 4),
                            s_s("sysctl", "", "net.core.somaxconn", 30 * S, 4096)};
    diag_delta_t dl[] = {{10 * S, LAYER_LISTEN, 25}, {20 * S, LAYER_LISTEN, 15}};
    diag_burst_t bursts[] = {{5 * S - 1, 5 * S, "eth0", 0}};
    diag_input_t in = {"h", 0, 100 * S, c, 3, set, 2, dl, 2, bursts, 1, NULL, 0};
    diagnosis_t *d = diagnose(&in);
    json_t *doc = rows_diagnosis(d);
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_string_equal(
        text,
        "{\"host\":\"h\",\"from_ns\":0,\"to_ns\":100000000000,"
        "\"findings\":[{\"layer\":\"socket\",\"drops\":70,\"first_ns\":5000000000,"
        "\"last_ns\":6000000000,\"limit\":\"the socket receive buffer (SO_RCVBUF); dropping "
        "sockets: udp:10.0.0.1:9999 held by 4242/feed (50)\",\"remedy\":\"the application "
        "reading udp:10.0.0.1:9999 held by 4242/feed (50) falls behind: read faster or from "
        "more sockets (SO_REUSEPORT), and ask for a larger SO_RCVBUF, which net.core.rmem_max "
        "must allow: sysctl -w net.core.rmem_max=8388608\","
        "\"evidence\":{\"counters\":[{\"series\":\"sock/udp:10.0.0.1:9999/drops\",\"drops\":50,"
        "\"overlap\":true,\"owner\":\"4242/feed\"},{\"series\":\"snmp//Udp.RcvbufErrors\","
        "\"drops\":70,\"overlap\":false}],\"bursts_before\":1,"
        "\"setting_changes\":[{\"series\":\"sysctl//net.core.somaxconn\",\"ts_ns\":30000000000,"
        "\"from\":4,\"to\":4096,\"drops_before\":0,\"drops_after\":0}]},\"resolved\":null},"
        "{\"layer\":\"listen\",\"drops\":40,\"first_ns\":10000000000,\"last_ns\":20000000000,"
        "\"limit\":\"the accept queue: net.core.somaxconn = 4096 caps every listen() backlog\","
        "\"remedy\":\"accept faster, and listen() with a larger backlog that "
        "net.core.somaxconn allows: sysctl -w net.core.somaxconn=8192\","
        "\"evidence\":{\"counters\":[{\"series\":\"netstat//TcpExt.ListenOverflows\","
        "\"drops\":40,\"overlap\":false}],\"bursts_before\":0,"
        "\"setting_changes\":[{\"series\":\"sysctl//net.core.somaxconn\",\"ts_ns\":30000000000,"
        "\"from\":4,\"to\":4096,\"drops_before\":40,\"drops_after\":0}]},\"resolved\":\"drops "
        "stopped after sysctl//net.core.somaxconn went from 4 to 4096 at "
        "1970-01-01T00:00:30.000Z\"}],\"precursors\":[],\"changes\":[{\"series\":"
        "\"sysctl//net.core.somaxconn\","
        "\"ts_ns\":30000000000,\"from\":4,\"to\":4096,\"drops_before\":0,\"drops_after\":0}]}");
    free(text);
    json_decref(doc);
    diagnosis_destroy(&d);
}

/* The CPU serving a dropping NIC's interrupts, or whose backlog dropped,
 * named when it spent more than half the drop window in softirq and irq:
 * the CPU a line has at the end of the range (not the one it had), only
 * the dropping NIC's lines, the busiest of them. */
static void test_cpu_saturated(void **state)
{
    (void)state;
    diag_counter_t c[] = {s_c("netdev", "eth0", "rx_missed_errors", LAYER_NIC, false, 500, 10 * S,
                              20 * S),
                          s_c("softnet", "cpu1", "dropped", LAYER_BACKLOG, false, 40, 10 * S,
                              20 * S)};
    diag_setting_t set[] = {s_s("irq", "eth0:TxRx-0", "cpu", 1, 2),
                            s_s("irq", "eth0:TxRx-0", "cpu", 5 * S, 3),
                            s_s("irq", "eth0:TxRx-1", "cpu", 1, 0),
                            s_s("irq", "eth1:TxRx-0", "cpu", 1, 1),
                            s_s("ring", "eth0", "rx", 1, 4096),
                            s_s("ring", "eth0", "rx_max", 1, 4096)};
    diag_counter_t t[] = {
        s_c("cpu", "cpu0", "softirq_ticks", LAYER_TRAFFIC, false, 10, 10 * S, 20 * S),
        s_c("cpu", "cpu0", "irq_ticks", LAYER_TRAFFIC, false, 0, 10 * S, 20 * S),
        s_c("cpu", "cpu0", "total_ticks", LAYER_TRAFFIC, false, 200, 10 * S, 20 * S),
        s_c("cpu", "cpu1", "softirq_ticks", LAYER_TRAFFIC, false, 150, 10 * S, 20 * S),
        s_c("cpu", "cpu1", "irq_ticks", LAYER_TRAFFIC, false, 10, 10 * S, 20 * S),
        s_c("cpu", "cpu1", "total_ticks", LAYER_TRAFFIC, false, 200, 10 * S, 20 * S),
        s_c("cpu", "cpu2", "softirq_ticks", LAYER_TRAFFIC, false, 190, 10 * S, 20 * S),
        s_c("cpu", "cpu2", "irq_ticks", LAYER_TRAFFIC, false, 0, 10 * S, 20 * S),
        s_c("cpu", "cpu2", "total_ticks", LAYER_TRAFFIC, false, 200, 10 * S, 20 * S),
        s_c("cpu", "cpu3", "softirq_ticks", LAYER_TRAFFIC, false, 120, 10 * S, 20 * S),
        s_c("cpu", "cpu3", "irq_ticks", LAYER_TRAFFIC, false, 20, 10 * S, 20 * S),
        s_c("cpu", "cpu3", "total_ticks", LAYER_TRAFFIC, false, 200, 10 * S, 20 * S)};
    diag_input_t in = {"h", 0, 100 * S, c, 2, set, 6, NULL, 0, NULL, 0, t, 12};
    diagnosis_t *d = diagnose(&in);
    const diag_finding_t *nic = s_must(d, LAYER_NIC), *backlog = s_must(d, LAYER_BACKLOG);
    assert_string_equal(nic->evidence.cpu, "cpu3"); /* not cpu2, which served it before */
    assert_int_equal(nic->evidence.cpu_pct, 70);
    assert_string_equal(nic->limit, "the RX ring of eth0 is at its maximum (4096); cpu3, which "
                                    "serves eth0's interrupts (eth0:TxRx-0), spent 70% of its "
                                    "time in softirq and irq while it dropped");
    assert_string_equal(nic->remedy,
                        "cpu3 is saturated by eth0's interrupts and softirqs: spread them over "
                        "more CPUs (ethtool -L eth0 combined N, irqbalance, or "
                        "/proc/irq/N/smp_affinity_list), move protocol work to other CPUs with "
                        "RPS (/sys/class/net/eth0/queues/rx-N/rps_cpus), and keep the "
                        "application off cpu3 (taskset); then: spread the load: more queues "
                        "(ethtool -L eth0 combined N), RSS and IRQ affinity on idle CPUs; check "
                        "softnet time_squeeze");
    assert_string_equal(backlog->evidence.cpu, "cpu1"); /* eth1's line is not eth0's */
    assert_int_equal(backlog->evidence.cpu_pct, 80);
    assert_non_null(strstr(backlog->limit, "; cpu1, whose backlog dropped, spent 80% of its time "
                                           "in softirq and irq"));
    assert_true(strncmp(backlog->remedy, "cpu1 is saturated by softirq work: ", 35) == 0);
    json_t *doc = rows_diagnosis(d);
    json_t *cpu = json_object_get(
        json_object_get(json_array_get(json_object_get(doc, "findings"), 0), "evidence"), "cpu");
    assert_string_equal(json_string_value(json_object_get(cpu, "name")), "cpu3");
    assert_int_equal(json_integer_value(json_object_get(cpu, "softirq_irq_pct")), 70);
    json_decref(doc);
    diagnosis_destroy(&d);
    /* 20%: named as evidence, but not the bottleneck */
    t[9].drops = 30;
    t[10].drops = 10;
    d = diagnose(&in);
    nic = s_must(d, LAYER_NIC);
    assert_string_equal(nic->evidence.cpu, "cpu3");
    assert_int_equal(nic->evidence.cpu_pct, 20);
    assert_string_equal(nic->limit, "the RX ring of eth0 is at its maximum (4096)");
    assert_true(strncmp(nic->remedy, "spread the load", 15) == 0);
    diagnosis_destroy(&d);
    /* no CPU time (a collector without the cpu source): nothing said */
    in.ncpu_time = 0;
    d = diagnose(&in);
    assert_string_equal(s_must(d, LAYER_NIC)->evidence.cpu, "");
    assert_null(strstr(s_must(d, LAYER_BACKLOG)->remedy, "saturated"));
    doc = rows_diagnosis(d);
    assert_null(json_object_get(
        json_object_get(json_array_get(json_object_get(doc, "findings"), 0), "evidence"), "cpu"));
    json_decref(doc);
    diagnosis_destroy(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nic_ring),
        cmocka_unit_test(test_backlog_budget_and_bursts),
        cmocka_unit_test(test_squeezes_only),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_socket_owner),
        cmocka_unit_test(test_change_ends_drops),
        cmocka_unit_test(test_remedy_quotes_device),
        cmocka_unit_test(test_qdisc_remedy_quotes),
        cmocka_unit_test(test_sums_saturate),
        cmocka_unit_test(test_json_form),
        cmocka_unit_test(test_cpu_saturated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
