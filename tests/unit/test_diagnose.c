/* Tests aggregator/diagnose on hand-made inputs: the NIC ring rule (below
 * its maximum, at it, unknown), the backlog and budget rules with and
 * without the host's sysctls, layer totals that leave out overlapping
 * counters, the bursts that preceded the drops, the dropping sockets and
 * their owners, a setting change that ended the drops, devices quoted for
 * the shell in remedies, and drop counts that add up past int64; on the
 * diagnosis' structs, and once on the JSON form rows.c gives them. Onload:
 * hosts built from the onload_stackdump fixtures (each counter's value as
 * its drops in the range, each setting as reported), the sfc nodesc case
 * on an Onload host, and pause frames beside a NIC finding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"
#include "diagnose.h"
#include "ethtool.h"
#include "onload.h"
#include "rows.h"
#include "testlib.h"

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

/* Host "h" over [0, 100 s] with these counters and settings; the tests set
 * the rest of the input by name. */
static diag_input_t s_in(const diag_counter_t *c, size_t nc, const diag_setting_t *s, size_t ns)
{
    return (diag_input_t){.host = "h", .to_ns = 100 * S, .counters = c, .ncounters = nc,
                          .settings = s, .nsettings = ns};
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
    diag_input_t in = s_in(c, 2, ring, 2);
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

/* A probe's gaps with no drop layer moving around them: an upstream
 * finding with the missing count, the numbers and the probe; not in any
 * drop layer's count. */
static void test_gaps_upstream(void **state)
{
    (void)state;
    diag_gap_t gaps[] = {{10 * S, 10 * S + 1000, 5, 100, 104, "239.1.1.1", 5000},
                         {30 * S, 30 * S + 1000, 15, 2000, 2014, "239.1.1.1", 5000}};
    /* A socket drop 5 s after the second gap: outside the slack, no explanation. */
    diag_counter_t c[] = {s_c("snmp", "", "Udp.RcvbufErrors", LAYER_SOCKET, false, 7, 36 * S,
                              36 * S)};
    diag_delta_t dl[] = {{36 * S, LAYER_SOCKET, 7}};
    diag_input_t in = s_in(c, 1, NULL, 0);
    in.deltas = dl;
    in.ndeltas = 1;
    in.gaps = gaps;
    in.ngaps = 2;
    diagnosis_t *d = diagnose(&in);
    assert_int_equal(d->nfindings, 2);
    const diag_finding_t *u = s_must(d, LAYER_UPSTREAM);
    assert_ptr_equal(u, &d->findings[1]); /* after the host's own layers */
    assert_int_equal(u->drops, 20);
    assert_int_equal(u->first_ns, 10 * S);
    assert_int_equal(u->last_ns, 30 * S + 1000);
    assert_int_equal(u->evidence.ngaps, 2);
    assert_int_equal(u->evidence.gaps[1].first_seq, 2000);
    assert_non_null(strstr(u->limit, "239.1.1.1:5000 missed 20 packets in 2 gaps (sequence "
                                     "100..2014)"));
    assert_non_null(strstr(u->remedy, "the loss happened before this host"));
    assert_non_null(strstr(u->remedy, "ethtool -S rx_crc_errors"));
    const diag_finding_t *sock = s_must(d, LAYER_SOCKET);
    assert_int_equal(sock->drops, 7);
    assert_int_equal(sock->evidence.ngaps, 0);
    assert_false(layer_is_drop(LAYER_UPSTREAM));
    json_t *j = rows_diagnosis(d);
    json_t *ev = json_object_get(json_array_get(json_object_get(j, "findings"), 1), "evidence");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(ev, "gaps"),
                                                                       0), "missing")), 5);
    json_decref(j);
    diagnosis_destroy(&d);
    /* A host reporting every 10 s read that socket drop in the snapshot
     * after the second gap: its loss, not upstream's. */
    in.interval_ns = 10 * S;
    d = diagnose(&in);
    assert_int_equal(s_must(d, LAYER_UPSTREAM)->drops, 5);
    assert_int_equal(s_must(d, LAYER_SOCKET)->evidence.ngaps, 1);
    diagnosis_destroy(&d);
    in.interval_ns = 0;
    /* A transmit (qdisc) drop at the first gap explains nothing a probe
     * receives; with two probes' gaps the limit names no single probe. */
    diag_delta_t tx[] = {{10 * S, LAYER_QDISC, 9}, {36 * S, LAYER_SOCKET, 7}};
    gaps[1].port = 5001;
    in.deltas = tx;
    in.ndeltas = 2;
    d = diagnose(&in);
    u = s_must(d, LAYER_UPSTREAM);
    assert_int_equal(u->drops, 20);
    assert_non_null(strstr(u->limit, "; the probes missed 20 packets in 2 gaps (each probe's in "
                                     "evidence.gaps)"));
    diagnosis_destroy(&d);
}

/* Gaps while the socket layer dropped (within 1 s after them: the next
 * snapshot): no upstream finding; the socket's finding holds the gaps the
 * application missed there. */
static void test_gaps_local(void **state)
{
    (void)state;
    diag_gap_t gaps[] = {{10 * S, 12 * S, 300, 1, 300, "239.1.1.1", 5000},
                         {20 * S, 20 * S + 1000, 2, 900, 901, "239.1.1.1", 5000}};
    diag_counter_t c[] = {s_c("snmp", "", "Udp.RcvbufErrors", LAYER_SOCKET, false, 300, 13 * S,
                              13 * S),
                          s_c("netdev", "eth0", "rx_missed_errors", LAYER_NIC, false, 2,
                              19 * S + S / 2, 19 * S + S / 2)};
    diag_delta_t dl[] = {{13 * S, LAYER_SOCKET, 300}, {19 * S + S / 2, LAYER_NIC, 2}};
    diag_input_t in = s_in(c, 2, NULL, 0);
    in.deltas = dl;
    in.ndeltas = 2;
    in.gaps = gaps;
    in.ngaps = 2;
    diagnosis_t *d = diagnose(&in);
    assert_null(s_finding(d, LAYER_UPSTREAM));
    assert_int_equal(d->nfindings, 2);
    const diag_finding_t *sock = s_must(d, LAYER_SOCKET);
    assert_int_equal(sock->drops, 300);
    assert_int_equal(sock->evidence.ngaps, 1);
    assert_int_equal(sock->evidence.gaps[0].missing, 300);
    const diag_finding_t *nic = s_must(d, LAYER_NIC); /* read 0.5 s before the gap */
    assert_int_equal(nic->evidence.ngaps, 1);
    assert_int_equal(nic->evidence.gaps[0].first_seq, 900);
    diagnosis_destroy(&d);
    in.ngaps = 0; /* no probe: nothing changes for the host's own findings */
    d = diagnose(&in);
    assert_int_equal(d->nfindings, 2);
    assert_int_equal(s_must(d, LAYER_SOCKET)->evidence.ngaps, 0);
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
    diag_input_t in = s_in(c, 3, set, 2);
    in.bursts = bursts;
    in.nbursts = 2;
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
    diag_input_t in = s_in(c, 2, set, 2);
    in.host = "busy";
    in.deltas = dl;
    in.ndeltas = 3;
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
    diag_input_t in = s_in(c, 3, NULL, 0);
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

/* No finding without a cause: a vague reason (NOT_SPECIFIED, a socket's
 * queue purged on close) alone is no finding; beside one the kernel named
 * it is evidence, and the limit and remedy follow the named one even when
 * the vague one counted more. */
static void test_vague_reasons(void **state)
{
    (void)state;
    diag_counter_t alone[] = {s_c("reason", "", "NOT_SPECIFIED", LAYER_PROTO, true, 20, S, 9 * S),
                              s_c("reason", "", "QUEUE_PURGE", LAYER_SOCKET, true, 3, S, 2 * S)};
    diag_input_t in = s_in(alone, 2, NULL, 0);
    diagnosis_t *d = diagnose(&in);
    assert_int_equal(d->nfindings, 0);
    diagnosis_destroy(&d);

    diag_counter_t named[] = {s_c("reason", "", "NOT_SPECIFIED", LAYER_PROTO, true, 50, S, 9 * S),
                              s_c("reason", "", "NETFILTER_DROP", LAYER_PROTO, true, 7, S, 2 * S)};
    in.counters = named;
    d = diagnose(&in);
    const diag_finding_t *f = s_must(d, LAYER_PROTO);
    assert_int_equal(f->drops, 7);
    assert_int_equal(f->evidence.ncounters, 2);
    assert_non_null(strstr(f->limit, "firewall rule (netfilter)"));
    assert_non_null(strstr(f->limit, "reason//NETFILTER_DROP"));
    assert_non_null(strstr(f->remedy, "nft list ruleset"));
    diagnosis_destroy(&d);
}

/* Every protocol-layer finding says what refused the packets and where to
 * look, never "no limit"; a counter the rules do not know says plainly that
 * the kernel gives no finer cause. */
static void test_proto_causes(void **state)
{
    (void)state;
    const struct {
        const char *src, *dev, *name, *limit, *remedy;
    } cases[] = {
        {"snmp", "", "Udp.NoPorts", "no socket or protocol handler", "start the receiver"},
        {"snmp", "", "Udp.InCsumErrors", "arrived damaged", "rx_crc_errors"},
        {"reason", "", "IP_RPFILTER", "rp_filter", "rp_filter=2"},
        {"netstat", "", "IpExt.InNoRoutes", "no route", "ip route get"},
        {"snmp", "", "Ip.ReasmFails", "ipfrag_high_thresh", "path MTU"},
        {"netdev", "eth 0", "rx_otherhost_dropped", "promiscuous", "promisc off dev 'eth 0'"},
        {"snmp", "", "Ip.InDiscards", "gives no finer cause", "dropscope explain 'snmp//Ip.InDiscards'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        diag_counter_t c = s_c(cases[i].src, cases[i].dev, cases[i].name, LAYER_PROTO,
                               strcmp(cases[i].src, "reason") == 0, 5, S, 2 * S);
        diag_input_t in = s_in(&c, 1, NULL, 0);
        diagnosis_t *d = diagnose(&in);
        const diag_finding_t *f = s_must(d, LAYER_PROTO);
        if (!strstr(f->limit, cases[i].limit) || !strstr(f->remedy, cases[i].remedy))
            fail_msg("%s: limit '%s', remedy '%s'", cases[i].name, f->limit, f->remedy);
        assert_null(strstr(f->limit, "no limit"));
        diagnosis_destroy(&d);
    }
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
    diag_input_t in = s_in(c, 3, set, 1);
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

/* Each dropping socket's granted buffer, and what capped it: the kernel
 * caps an SO_RCVBUF request at rmem_max and doubles it, so 2 x rmem_max
 * granted means the request was capped. */
static void test_socket_granted(void **state)
{
    (void)state;
    diag_counter_t c[] = {
        s_c("snmp", "", "Udp.RcvbufErrors", LAYER_SOCKET, false, 70, 5 * S, 6 * S),
        s_c("sock", "udp:127.0.0.1:9999", "drops", LAYER_SOCKET, true, 50, 5 * S, 6 * S),
        s_c("sock", "udp:127.0.0.1:53", "drops", LAYER_SOCKET, true, 20, 5 * S, 6 * S)};
    diag_setting_t set[] = {s_s("sock", "udp:127.0.0.1:53", "rcvbuf", 1, 8192),
                            s_s("sock", "udp:127.0.0.1:9999", "rcvbuf", 1, 425984),
                            s_s("sysctl", "", "net.core.rmem_max", 1, 212992)};
    diag_input_t in = s_in(c, 3, set, 3);
    diagnosis_t *d = diagnose(&in);
    const diag_finding_t *f = s_must(d, LAYER_SOCKET);
    assert_non_null(strstr(f->limit, "udp:127.0.0.1:9999 (50) got SO_RCVBUF 425984 bytes: "
                                     "net.core.rmem_max = 212992 caps a request at 2 x rmem_max"));
    assert_non_null(strstr(f->limit, "udp:127.0.0.1:53 (20) got SO_RCVBUF 8192 bytes"));
    assert_null(strstr(f->limit, "8192 bytes: net.core"));
    assert_non_null(strstr(f->remedy, "sysctl -w net.core.rmem_max=8388608 (a request is capped "
                                      "at rmem_max, then doubled: up to 16777216 bytes granted)"));
    diagnosis_destroy(&d);
}

/* A pruned TCP queue: the socket, and its peer's retransmissions after the
 * first prune (the ones before it are not the prune's); without the peer on
 * this host, the host's Tcp.RetransSegs after it. */
static void test_tcp_prune_story(void **state)
{
    (void)state;
    diag_counter_t c[] = {
        s_c("netstat", "", "TcpExt.PruneCalled", LAYER_SOCKET, true, 2, 10 * S, 10 * S),
        s_c("netstat", "", "TcpExt.RcvPruned", LAYER_SOCKET, false, 1, 10 * S, 10 * S),
        s_c("sock", "tcp:127.0.0.1:7777-127.0.0.1:5000", "drops", LAYER_SOCKET, true, 5, 10 * S,
            10 * S),
        s_c("sock", "tcp:127.0.0.1:5000-127.0.0.1:7777", "retrans", LAYER_SOCKET, true, 4, 9 * S,
            14 * S),
        s_c("snmp", "", "Tcp.RetransSegs", LAYER_SOCKET, true, 9, 9 * S, 14 * S)};
    diag_setting_t set[] = {s_s("sock", "tcp:127.0.0.1:7777-127.0.0.1:5000", "rcvbuf", 1, 8192)};
    diag_retrans_t rt[] = {{"snmp//Tcp.RetransSegs", 9 * S, 6},
                           {"sock/tcp:127.0.0.1:5000-127.0.0.1:7777/retrans", 9 * S, 1},
                           {"sock/tcp:127.0.0.1:5000-127.0.0.1:7777/retrans", 10 * S, 1},
                           {"snmp//Tcp.RetransSegs", 10 * S, 1},
                           {"sock/tcp:127.0.0.1:5000-127.0.0.1:7777/retrans", 12 * S, 2},
                           {"snmp//Tcp.RetransSegs", 12 * S, 2}};
    diag_input_t in = s_in(c, 5, set, 1);
    in.retrans = rt;
    in.nretrans = 6;
    diagnosis_t *d = diagnose(&in);
    const diag_finding_t *f = s_must(d, LAYER_SOCKET);
    assert_int_equal(f->drops, 1); /* RcvPruned: the rest are overlap or evidence */
    assert_non_null(strstr(f->limit, "its queue was pruned; pruned: "
                                     "tcp:127.0.0.1:7777-127.0.0.1:5000 (5 segments dropped, "
                                     "SO_RCVBUF 8192 bytes); the peer "
                                     "tcp:127.0.0.1:5000-127.0.0.1:7777 retransmitted 3 segments "
                                     "after the prune"));
    diagnosis_destroy(&d);
    /* only PruneCalled and the socket's own drops moved (seen on 6.18): the
     * socket's drops are the finding, with the same story */
    diag_counter_t only[] = {c[0], c[2], c[3], c[4]};
    in.counters = only;
    in.ncounters = 4;
    d = diagnose(&in);
    f = s_must(d, LAYER_SOCKET);
    assert_int_equal(f->drops, 5);
    assert_int_equal(f->first_ns, 10 * S);
    assert_non_null(strstr(f->limit, "its queue was pruned; pruned: tcp:127.0.0.1:7777-"));
    assert_non_null(strstr(f->limit, "retransmitted 3 segments after the prune"));
    diagnosis_destroy(&d);
    in.counters = c;
    in.ncounters = 5;
    in.nretrans = 0; /* no deltas (the alerts' diagnosis): no count */
    d = diagnose(&in);
    assert_null(strstr(s_must(d, LAYER_SOCKET)->limit, "retransmitted"));
    diagnosis_destroy(&d);
    diag_retrans_t host[] = {{"snmp//Tcp.RetransSegs", 9 * S, 6},
                             {"snmp//Tcp.RetransSegs", 12 * S, 2},
                             {"netstat//TcpExt.TCPTimeouts", 12 * S, 2}};
    in.retrans = host;
    in.nretrans = 3;
    d = diagnose(&in);
    assert_non_null(strstr(s_must(d, LAYER_SOCKET)->limit,
                           "; this host retransmitted 2 TCP segments after the prune "
                           "(Tcp.RetransSegs); this host's TCP timed out 2 times after the "
                           "prune (TCPTimeouts: each doubles the next wait)"));
    diagnosis_destroy(&d);
    /* the peer's count and the host's timeouts, side by side */
    diag_retrans_t both[] = {rt[1], rt[2], rt[4], {"netstat//TcpExt.TCPTimeouts", 12 * S, 2}};
    in.retrans = both;
    in.nretrans = 4;
    d = diagnose(&in);
    assert_non_null(strstr(s_must(d, LAYER_SOCKET)->limit,
                           "retransmitted 3 segments after the prune; this host's TCP timed out "
                           "2 times after the prune"));
    diagnosis_destroy(&d);
}

/* One TCP socket's out-of-order drop does not turn a UDP host's socket
 * finding into TCP's; TCP's prunes do when they are the larger loss, and
 * retransmissions (a sender's, evidence) never count. */
static void test_socket_protocol(void **state)
{
    (void)state;
    diag_counter_t c[] = {
        s_c("snmp", "", "Udp.RcvbufErrors", LAYER_SOCKET, false, 500, 5 * S, 6 * S),
        s_c("sock", "tcp:10.0.0.1:22-10.0.0.2:40000", "drops", LAYER_SOCKET, true, 1, 5 * S,
            6 * S),
        s_c("netstat", "", "TcpExt.TCPTimeouts", LAYER_SOCKET, true, 9000, 5 * S, 6 * S),
        s_c("netstat", "", "TcpExt.RcvPruned", LAYER_SOCKET, false, 800, 5 * S, 6 * S)};
    diag_setting_t set[] = {s_s("sysctl", "", "net.core.rmem_max", 1, 212992)};
    diag_input_t in = s_in(c, 3, set, 1);
    diagnosis_t *d = diagnose(&in);
    assert_non_null(strstr(s_must(d, LAYER_SOCKET)->limit, "net.core.rmem_max = 212992"));
    assert_null(strstr(s_must(d, LAYER_SOCKET)->limit, "TCP receive buffer"));
    diagnosis_destroy(&d);
    in.ncounters = 4;
    d = diagnose(&in);
    assert_non_null(strstr(s_must(d, LAYER_SOCKET)->limit, "the TCP receive buffer"));
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
    diag_input_t in = s_in(c, 1, set, 2);
    in.deltas = dl;
    in.ndeltas = 2;
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
    diag_input_t in = s_in(c, 1, ring, 2);
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
    diag_input_t in = s_in(c, 1, NULL, 0);
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
    diag_input_t in = s_in(c, 1, NULL, 0);
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
    diag_input_t in = s_in(c, 7, set, 6);
    in.from_ns = INT64_MIN;
    in.deltas = dl;
    in.ndeltas = 2;
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
    diag_input_t in = s_in(c, 3, set, 2);
    in.deltas = dl;
    in.ndeltas = 2;
    in.bursts = bursts;
    in.nbursts = 1;
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
        "must allow: sysctl -w net.core.rmem_max=8388608 (a request is capped at rmem_max, then "
        "doubled: up to 16777216 bytes granted)\","
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

/* A host read from fixtures: every counter's value as its drops over the
 * range (as if it had started at 0), every setting as reported at 1 ns. */
typedef struct {
    diag_counter_t c[1024];
    size_t nc;
    diag_setting_t s[256];
    size_t ns;
} host_t;

static void s_host_emit(void *ctx, const reading_t *r)
{
    host_t *h = ctx;
    counter_class_t k = counters_classify(r->source, r->name);
    if (k.kind == KIND_SETTING && h->ns < sizeof h->s / sizeof h->s[0])
        h->s[h->ns++] = s_s(r->source, r->device, r->name, 1, (int64_t)r->value);
    else if (k.kind == KIND_COUNTER && layer_on_path(k.layer) && r->value > 0 &&
             h->nc < sizeof h->c / sizeof h->c[0])
        h->c[h->nc++] = s_c(r->source, r->device, r->name, k.layer, k.overlap,
                            (int64_t)r->value, 10 * S, 20 * S);
}

static void s_host_onload(host_t *h, const char *rel)
{
    size_t len;
    char *buf = testlib_load(rel, &len);
    assert_int_equal(onload_parse(buf, len, s_host_emit, h, NULL, 0), 0);
    free(buf);
}

static diagnosis_t *s_diagnose_host(const host_t *h)
{
    diag_input_t in = s_in(h->c, h->nc, h->s, h->ns);
    diagnosis_t *d = diagnose(&in);
    assert_non_null(d);
    return d;
}

static void test_onload_memory_pressure(void **state)
{
    (void)state;
    static host_t h;
    memset(&h, 0, sizeof h);
    s_host_onload(&h, "onload-stackdump/memory-pressure.txt");
    diagnosis_t *d = s_diagnose_host(&h);
    const diag_finding_t *f = s_must(d, LAYER_ONLOAD);
    /* memory_pressure_drops (the sockets' mem_drop are in it: overlap) and
     * udp_rx_no_match_drops; enter/refill/reap are precursors (overlap) */
    assert_int_equal(f->drops, 91234 + 12);
    assert_non_null(
        strstr(f->limit, "packet buffers of Onload stack feed: EF_MAX_PACKETS = 32768"));
    assert_non_null(strstr(f->remedy, "raise EF_MAX_PACKETS (now 32768) to 65536 and "
                                      "EF_MAX_RX_PACKETS (now 24576) to 49152"));
    assert_null(strstr(f->remedy, "lower EF_RXQ_SIZE"));
    assert_int_equal(d->nfindings, 1);
    diagnosis_destroy(&d);
}

static void test_onload_oflow(void **state)
{
    (void)state;
    static host_t h;
    memset(&h, 0, sizeof h);
    s_host_onload(&h, "onload-stackdump/oflow.txt");
    diagnosis_t *d = s_diagnose_host(&h);
    const diag_finding_t *f = s_must(d, LAYER_ONLOAD);
    assert_int_equal(f->drops, 48211 + 17 + 4096);
    assert_non_null(strstr(f->limit, "Onload socket md:udp:239.1.1.1:31001: rcvbuf = 212992 "
                                     "bytes (SO_RCVBUF, or EF_UDP_RCVBUF = 212992"));
    assert_non_null(strstr(f->remedy, "EF_UDP_RCVBUF=425984 in the environment of the "
                                      "application of stack md"));
    assert_non_null(strstr(f->remedy, "md:udp:239.1.1.1:31001 (48211), md:udp:239.1.1.2:31002 "
                                      "(17), md:udp6:[fd00::5]:31003 (4096)"));
    assert_null(strstr(f->remedy, "EF_MAX_PACKETS"));
    diagnosis_destroy(&d);
}

/* The sfc capture's counters with nodesc drops (its own are 0) on the
 * memory-pressure stack's host: the ring that ran dry is Onload's. */
static void test_nic_nodesc_onload(void **state)
{
    (void)state;
    static host_t h;
    memset(&h, 0, sizeof h);
    size_t len;
    char *buf = testlib_load("sfc-ethq/ethtool/eth0/statistics", &len);
    assert_int_equal(ethtool_stats_parse(buf, len, "enp1s0f0", s_host_emit, &h, NULL, 0), 0);
    free(buf);
    /* the capture's one non-zero drop counter: port_rx_dp_di_dropped_packets 27 */
    assert_int_equal(h.nc, 1);
    assert_int_equal(h.c[0].drops, 27);
    h.c[h.nc++] = s_c("ethtool", "enp1s0f0", "port_rx_nodesc_drops", LAYER_NIC, false, 7000,
                      10 * S, 20 * S);
    assert_int_equal(counters_classify("ethtool", "port_rx_nodesc_drops").layer, LAYER_NIC);
    diagnosis_t *d = s_diagnose_host(&h); /* no Onload: the kernel driver's ring */
    assert_non_null(strstr(s_must(d, LAYER_NIC)->remedy, "ethtool -g enp1s0f0"));
    diagnosis_destroy(&d);

    s_host_onload(&h, "onload-stackdump/memory-pressure.txt");
    d = s_diagnose_host(&h);
    const diag_finding_t *f = s_must(d, LAYER_NIC);
    assert_string_equal(f->limit, "the Onload RX ring of enp1s0f0: EF_RXQ_SIZE = 512 descriptors "
                                  "(stack feed): the adapter ran out of the buffers Onload posts");
    assert_non_null(strstr(f->remedy, "raise EF_RXQ_SIZE to 1024 (max 4096)"));
    assert_null(strstr(f->remedy, "ethtool -G"));
    assert_non_null(s_finding(d, LAYER_ONLOAD)); /* and the stack's own finding */
    diagnosis_destroy(&d);

    /* A ring at the most: no raise. */
    for (size_t i = 0; i < h.ns; i++)
        if (strcmp(h.s[i].name, "rxq_size") == 0)
            h.s[i].value = 4096;
    d = s_diagnose_host(&h);
    f = s_must(d, LAYER_NIC);
    assert_non_null(strstr(f->limit, "EF_RXQ_SIZE = 4096"));
    assert_non_null(strstr(f->remedy, "EF_RXQ_SIZE is at its maximum (4096)"));
    diagnosis_destroy(&d);

    /* A port no stack posts on (the stacks' rings are on enp1s0f0 and
     * enp1s0f1): kernel traffic, the driver's ring. */
    snprintf(h.c[1].device, sizeof h.c[1].device, "%s", "enp2s0f0");
    d = s_diagnose_host(&h);
    f = s_must(d, LAYER_NIC);
    assert_non_null(strstr(f->remedy, "ethtool -g enp2s0f0"));
    assert_null(strstr(f->remedy, "EF_RXQ_SIZE"));
    diagnosis_destroy(&d);
}

/* Pause frames moved with the ring overflow: the finding says so, with the
 * largest count (not the sum of counters that count the same frames). */
static void test_nic_pause(void **state)
{
    (void)state;
    diag_counter_t c[] = {
        s_c("netdev", "eth0", "rx_missed_errors", LAYER_NIC, false, 500, 10 * S, 20 * S),
        s_c("ethtool", "eth0", "tx_pause_ctrl_phy", LAYER_NIC, true, 120, 10 * S, 20 * S),
        s_c("ethtool", "eth0", "tx_global_pause", LAYER_NIC, true, 120, 10 * S, 20 * S),
        s_c("ethtool", "eth0", "tx_global_pause_duration", LAYER_NIC, true, 99999, 10 * S, 20 * S),
        s_c("ethtool", "eth0", "rx_pause_ctrl_phy", LAYER_NIC, true, 5, 10 * S, 20 * S),
        s_c("ethtool", "eth1", "tx_pause_ctrl_phy", LAYER_NIC, true, 777, 10 * S, 20 * S),
    };
    for (size_t i = 1; i < sizeof c / sizeof c[0]; i++) /* as the table classifies them */
        assert_true(counters_classify("ethtool", c[i].name).overlap);
    diag_setting_t ring[] = {s_s("ring", "eth0", "rx", 1, 1024),
                             s_s("ring", "eth0", "rx_max", 1, 4096)};
    diag_input_t in = s_in(c, 6, ring, 2);
    diagnosis_t *d = diagnose(&in);
    const diag_finding_t *f = s_must(d, LAYER_NIC);
    assert_int_equal(f->drops, 500); /* pause frames are no drops */
    assert_non_null(strstr(f->remedy, "ethtool -G eth0 rx 4096; the NIC sent 120 pause frames "
                                      "after its ring filled: the switch held or dropped "
                                      "traffic upstream; check the switch's pause/PFC drops"));
    assert_non_null(strstr(f->remedy, "the NIC received 5 pause frames"));
    assert_null(strstr(f->remedy, "777"));
    diagnosis_destroy(&d);
    /* no pause frame: nothing said */
    in.ncounters = 1;
    d = diagnose(&in);
    assert_null(strstr(s_must(d, LAYER_NIC)->remedy, "pause"));
    diagnosis_destroy(&d);
    /* pause frames alone make no finding */
    in.counters = c + 1;
    in.ncounters = 4;
    d = diagnose(&in);
    assert_null(s_finding(d, LAYER_NIC));
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
    diag_input_t in = s_in(c, 2, set, 6);
    in.cpu_time = t;
    in.ncpu_time = 12;
    diagnosis_t *d = diagnose(&in);
    const diag_finding_t *nic = s_must(d, LAYER_NIC), *backlog = s_must(d, LAYER_BACKLOG);
    assert_string_equal(nic->evidence.cpu, "cpu3"); /* not cpu2, which served it before */
    assert_int_equal(nic->evidence.nsetting_changes, 0); /* that move is observed, not set */
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
        cmocka_unit_test(test_vague_reasons),
        cmocka_unit_test(test_proto_causes),
        cmocka_unit_test(test_socket_owner),
        cmocka_unit_test(test_socket_granted),
        cmocka_unit_test(test_tcp_prune_story),
        cmocka_unit_test(test_change_ends_drops),
        cmocka_unit_test(test_remedy_quotes_device),
        cmocka_unit_test(test_qdisc_remedy_quotes),
        cmocka_unit_test(test_sums_saturate),
        cmocka_unit_test(test_json_form),
        cmocka_unit_test(test_onload_memory_pressure),
        cmocka_unit_test(test_onload_oflow),
        cmocka_unit_test(test_nic_nodesc_onload),
        cmocka_unit_test(test_nic_pause),
        cmocka_unit_test(test_gaps_upstream),
        cmocka_unit_test(test_gaps_local),
        cmocka_unit_test(test_cpu_saturated),
        cmocka_unit_test(test_socket_protocol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
