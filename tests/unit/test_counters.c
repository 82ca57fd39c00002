/* test_counters: counters_classify on the counters that matter, entry by entry,
 * and over every name of the real `ethtool -S` captures under tests/fixtures:
 * drop-like names get a drop layer, packet and byte counts are traffic. */
#include <ctype.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"

/* Words that mark a counter of lost packets in a driver's name. */
static const char *const s_drop_words[] = {
    "drop", "discard", "missed", "nodesc", "out_of_buffer", "no_dma", "allowance_exceeded",
};

/* Names with a drop word that count something else (bnxt missed_irqs:
 * interrupts, not packets); they must NOT be in a drop layer. */
static bool s_not_packets(const char *name)
{
    return strstr(name, "irq") != NULL;
}

static bool s_has_drop_word(const char *name)
{
    if (s_not_packets(name))
        return false;
    for (size_t i = 0; i < sizeof s_drop_words / sizeof s_drop_words[0]; i++)
        if (strstr(name, s_drop_words[i]))
            return true;
    return false;
}

static bool s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Trims [*b, *e) of surrounding whitespace. */
static void s_trim(const char **b, const char **e)
{
    while (*b < *e && isspace((unsigned char)**b))
        (*b)++;
    while (*e > *b && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/* The series name of one "name: value" line, as the collector names it:
 * text before the last ": ", bnxt's "[3]: rx_discards" as "ring3.rx_discards",
 * inner blanks and '/' as '_'. False for the header and for blank lines. */
static bool s_line_name(const char *line, char *out, size_t outsz)
{
    const char *b = line, *e = line + strlen(line);
    s_trim(&b, &e);
    if (b == e || (e - b == 15 && memcmp(b, "NIC statistics:", 15) == 0))
        return false;
    const char *colon = NULL;
    for (const char *p = b; p + 1 < e; p++)
        if (p[0] == ':' && p[1] == ' ')
            colon = p;
    if (!colon)
        fail_msg("no \"name: value\" in \"%s\"", line);
    e = colon;
    s_trim(&b, &e);
    size_t o = 0;
    if (*b == '[') {
        const char *p = b + 1;
        while (p < e && isdigit((unsigned char)*p))
            p++;
        assert_true(p > b + 1 && p + 1 < e && p[0] == ']' && p[1] == ':');
        o = (size_t)snprintf(out, outsz, "ring%.*s.", (int)(p - b - 1), b + 1);
        for (b = p + 2; b < e && isspace((unsigned char)*b); b++)
            ;
    }
    assert_true(b < e && o + (size_t)(e - b) < outsz);
    for (; b < e; b++)
        out[o++] = *b == '/' || isspace((unsigned char)*b) ? '_' : *b;
    out[o] = '\0';
    return true;
}

/* The driver's fixture name: the component after FIXTURES_DIR. */
static void s_driver(const char *path, char *out, size_t outsz)
{
    const char *p = path + strlen(FIXTURES_DIR) + 1;
    const char *slash = strchr(p, '/');
    snprintf(out, outsz, "%.*s", (int)(slash ? slash - p : (ptrdiff_t)strlen(p)), p);
}

typedef struct {
    int files, names, drops, traffic, bad;
} totals_t;

/* Classifies every name of one statistics file; prints its nic-layer names. */
static void s_check_file(const char *path, totals_t *t)
{
    FILE *in = fopen(path, "r");
    if (!in)
        fail_msg("cannot open %s", path);
    char line[512], name[256], driver[128], nic[8192] = "";
    size_t niclen = 0;
    int names = 0;
    s_driver(path, driver, sizeof driver);
    while (fgets(line, sizeof line, in)) {
        if (!s_line_name(line, name, sizeof name))
            continue;
        names++;
        counter_class_t c = counters_classify("ethtool", name);
        if (c.layer == LAYER_NIC && niclen + strlen(name) + 2 < sizeof nic)
            niclen += (size_t)snprintf(nic + niclen, sizeof nic - niclen, " %s%s", name,
                                       c.overlap ? "(o)" : "");
        if (s_not_packets(name) && layer_is_drop(c.layer)) {
            print_message("%s: %s does not count packets but is classified %s\n", driver, name,
                          layer_name(c.layer));
            t->bad++;
        } else if (s_has_drop_word(name)) {
            t->drops++;
            if (!layer_is_drop(c.layer)) {
                print_message("%s: %s is a drop counter but classified %s\n", driver, name,
                              layer_name(c.layer));
                t->bad++;
            }
        } else if (s_ends_with(name, "_packets") || s_ends_with(name, "_bytes")) {
            t->traffic++;
            if (c.layer != LAYER_TRAFFIC) {
                print_message("%s: %s counts traffic but is classified %s\n", driver, name,
                              layer_name(c.layer));
                t->bad++;
            }
        }
    }
    fclose(in);
    assert_true(names > 0);
    t->names += names;
    t->files++;
    print_message("%s: %d names; nic:%s\n", driver, names, niclen ? nic : " (none)");
}

static void test_fixture_names(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob(FIXTURES_DIR "/*/ethtool/*/statistics", 0, NULL, &g), 0);
    totals_t t = {0};
    for (size_t i = 0; i < g.gl_pathc; i++)
        s_check_file(g.gl_pathv[i], &t);
    globfree(&g);
    print_message("%d files, %d names: %d drop-like, %d packet/byte counts\n", t.files, t.names,
                  t.drops, t.traffic);
    assert_true(t.files >= 13);
    assert_true(t.drops >= 50);
    assert_true(t.traffic >= 100);
    assert_int_equal(t.bad, 0);
}

/* Words of a flow-control counter's name in the drivers' statistics. */
static bool s_flow_control(const char *name)
{
    static const char *const words[] = {"pause", "xon", "xoff", "pfc", "flow_control"};
    if (strcmp(name, "admin_q_pause") == 0) /* ENA: its admin queue, not the link */
        return false;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(name, words[i]))
            return true;
    return false;
}

/* Every flow-control name of the real captures is nic pressure, overlap:
 * shown, never in a drop total, whatever catch-all comes after its entry. */
static void test_pause_fixture_names(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob(FIXTURES_DIR "/*/ethtool/*/statistics", 0, NULL, &g), 0);
    int seen = 0, frames = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        FILE *in = fopen(g.gl_pathv[i], "r");
        assert_non_null(in);
        char line[512], name[256];
        while (fgets(line, sizeof line, in)) {
            if (!s_line_name(line, name, sizeof name) || !s_flow_control(name))
                continue;
            counter_class_t c = counters_classify("ethtool", name);
            if (c.layer != LAYER_NIC || !c.overlap || c.kind != KIND_COUNTER)
                fail_msg("%s: %s classified %s%s, want nic overlap", g.gl_pathv[i], name,
                         layer_name(c.layer), c.overlap ? " overlap" : "");
            assert_non_null(strstr(counters_explain("ethtool", name).meaning, "pause"));
            seen++;
            frames += counters_pause("ethtool", name) != PAUSE_NONE;
        }
        fclose(in);
    }
    globfree(&g);
    print_message("%d flow-control names, %d of them pause frame counts\n", seen, frames);
    assert_true(seen >= 150);
    assert_true(frames >= 40);
    assert_int_equal(counters_pause("ethtool", "admin_q_pause"), PAUSE_NONE);
    assert_int_equal(counters_classify("ethtool", "admin_q_pause").layer, LAYER_TRAFFIC);
}

/* The direction of the names each driver really prints (fixtures), and of
 * the mlx5 per-priority ones; XON, durations and transitions count no
 * pause frame. */
static void test_pause_direction(void **state)
{
    (void)state;
    static const char *const sent[] = {
        "tx_pause_ctrl_phy",     "tx_global_pause",       "port_tx_pause",
        "tx_pause_frames",       "tx_pfc_frames",         "tx_pfc_ena_frames_pri3",
        "port.link_xoff_tx",     "link_xoff_tx.nic",      "port.tx_priority_0_xoff_tx",
        "tx_priority_7_xoff.nic", "tx_flow_control_xoff", "tx_pb_2_pxoff",
        "tx_prio3_pause",        "tx_pause",
    };
    static const char *const received[] = {
        "rx_pause_ctrl_phy", "rx_global_pause",      "port_rx_pause",   "rx_pause_frames",
        "rx_pfc_frames",     "port.link_xoff_rx",    "link_xoff_rx.nic", "rx_flow_control_xoff",
        "rx_pb_0_pxoff",     "rx_prio0_pause",       "rx_pause",
    };
    static const char *const neither[] = {
        "tx_global_pause_duration", "rx_global_pause_transition", "port.link_xon_tx",
        "rx_priority_1_xon.nic",    "tx_pb_1_pxon",               "port.rx_priority_0_xon_2_xoff",
        "continuous_pause_events",  "pfc_pri0_rx_duration_us",    "rx_prio0_pause_duration",
        "rx_nodesc_drop_cnt",       "rx_packets",
    };
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++)
        if (counters_pause("ethtool", sent[i]) != PAUSE_FRAMES_SENT)
            fail_msg("%s: not pause frames sent", sent[i]);
    for (size_t i = 0; i < sizeof received / sizeof received[0]; i++)
        if (counters_pause("ethtool", received[i]) != PAUSE_FRAMES_RECEIVED)
            fail_msg("%s: not pause frames received", received[i]);
    for (size_t i = 0; i < sizeof neither / sizeof neither[0]; i++)
        if (counters_pause("ethtool", neither[i]) != PAUSE_NONE)
            fail_msg("%s: counted as pause frames", neither[i]);
    assert_int_equal(counters_pause("netdev", "tx_pause"), PAUSE_NONE); /* ethtool only */
    /* A drop counter that says pause is still a drop counter (mlx5). */
    assert_false(counters_classify("ethtool", "rx_discards_phy").overlap);
}

/* Onload's counters: which one counts each drop, and the precursors. */
static void test_onload(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        layer_t layer;
        kind_t kind;
        unsigned width;
        bool overlap;
    } want[] = {
        {"oflow_drop", LAYER_ONLOAD, KIND_COUNTER, 32, false},
        {"mem_drop", LAYER_ONLOAD, KIND_COUNTER, 32, true},
        {"memory_pressure_drops", LAYER_ONLOAD, KIND_COUNTER, 32, false},
        {"memory_pressure_enter", LAYER_ONLOAD, KIND_COUNTER, 32, true},
        {"memory_pressure_exit_poll", LAYER_ONLOAD, KIND_COUNTER, 32, true},
        {"refill_rx_limited", LAYER_ONLOAD, KIND_COUNTER, 32, true},
        {"refill_buf_limited", LAYER_ONLOAD, KIND_COUNTER, 32, true},
        {"reap_rx_limited", LAYER_ONLOAD, KIND_COUNTER, 32, true},
        {"bufset_alloc_fails", LAYER_ONLOAD, KIND_COUNTER, 32, true},
        {"udp_rx_no_match_drops", LAYER_ONLOAD, KIND_COUNTER, 32, false},
        {"rx_discard_csum_bad", LAYER_PROTO, KIND_COUNTER, 32, false},
        {"EF_MAX_PACKETS", LAYER_CONFIG, KIND_SETTING, 64, false},
        {"EF_RXQ_SIZE", LAYER_CONFIG, KIND_SETTING, 64, false},
        {"rcvbuf", LAYER_CONFIG, KIND_SETTING, 64, false},
        {"rxq_size", LAYER_CONFIG, KIND_SETTING, 64, false},
        {"spin_udp_recv", LAYER_TRAFFIC, KIND_COUNTER, 64, false},
        {"rx_evs", LAYER_TRAFFIC, KIND_COUNTER, 32, false},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        counter_class_t c = counters_classify("onload", want[i].name);
        if (c.layer != want[i].layer || c.kind != want[i].kind || c.width != want[i].width ||
            c.overlap != want[i].overlap)
            fail_msg("onload %s: %s %s %u%s", want[i].name, layer_name(c.layer),
                     kind_name(c.kind), c.width, c.overlap ? " overlap" : "");
    }
    assert_non_null(strstr(counters_explain("onload", "oflow_drop").setting, "EF_UDP_RCVBUF"));
    assert_non_null(strstr(counters_explain("onload", "memory_pressure_drops").setting,
                           "EF_MAX_PACKETS"));
    assert_non_null(strstr(counters_explain("onload", "refill_rx_limited").meaning,
                           "precursor"));
    assert_null(strstr(counters_layer_text(LAYER_ONLOAD).remedy, "lower EF_RXQ_SIZE"));
    /* the kernel's names mean nothing special under onload, and back */
    assert_int_equal(counters_classify("sock", "oflow_drop").layer, LAYER_TRAFFIC);
    assert_int_equal(counters_classify("onload", "drops").layer, LAYER_TRAFFIC);
}

/* The line parser above on the shapes the fixtures hold. */
static void test_line_names(void **state)
{
    (void)state;
    char name[64];
    assert_false(s_line_name("NIC statistics:\n", name, sizeof name));
    assert_false(s_line_name("   \n", name, sizeof name));
    assert_true(s_line_name("     rx_packets: 439831225513\n", name, sizeof name));
    assert_string_equal(name, "rx_packets");
    assert_true(s_line_name("     [12]: rx_discards: 11763190\n", name, sizeof name));
    assert_string_equal(name, "ring12.rx_discards");
    assert_true(s_line_name("rx-0.rx_packets: 5\n", name, sizeof name));
    assert_string_equal(name, "rx-0.rx_packets");
    assert_true(s_line_name("     tx_queue_0 stopped: 3\n", name, sizeof name));
    assert_string_equal(name, "tx_queue_0_stopped");
}

/* Names every driver spells differently for the same loss. */
static void test_known_driver_names(void **state)
{
    (void)state;
    static const char *const nic[] = {
        "rx_discards_phy",          "rx_no_dma_resources", "port_rx_nodesc_drops",
        "rx_queue_0_drops",         "ring3.rx_discards",   "pps_allowance_exceeded",
        "bw_in_allowance_exceeded", "rx_out_of_buffer",    "rx_nodesc_drop_cnt",
        "rx_missed_errors",         "rx_dropped.nic",      "rx0_drops",
    };
    for (size_t i = 0; i < sizeof nic / sizeof nic[0]; i++) {
        counter_class_t c = counters_classify("ethtool", nic[i]);
        if (c.layer != LAYER_NIC || c.kind != KIND_COUNTER)
            fail_msg("%s classified %s/%s, want nic/counter", nic[i], layer_name(c.layer),
                     kind_name(c.kind));
    }
    assert_int_equal(counters_classify("ethtool", "rx_xdp_drop").layer, LAYER_PROTO);
    assert_int_equal(counters_classify("ethtool", "rx_queue_0_xdp_drops").layer, LAYER_PROTO);
    assert_int_equal(counters_classify("ethtool", "tx_bytes").layer, LAYER_TRAFFIC);
    assert_int_equal(counters_classify("ethtool", "peer_ifindex").kind, KIND_GAUGE);
}

/* Entry by entry: layer, kind, width and overlap of the counters that matter. */
static void test_classify(void **state)
{
    (void)state;
    static const struct {
        const char *source, *name;
        layer_t layer;
        kind_t kind;
        unsigned width;
        bool overlap;
    } cases[] = {
        {"snmp", "Udp.RcvbufErrors", LAYER_SOCKET, KIND_COUNTER, 64, false},
        {"snmp6", "Udp6.RcvbufErrors", LAYER_SOCKET, KIND_COUNTER, 64, false},
        {"snmp", "Udp.InErrors", LAYER_PROTO, KIND_COUNTER, 64, true},
        {"netstat", "TcpExt.ListenOverflows", LAYER_LISTEN, KIND_COUNTER, 64, false},
        {"netstat", "TcpExt.ListenDrops", LAYER_LISTEN, KIND_COUNTER, 64, true},
        {"netstat", "TcpExt.PruneCalled", LAYER_SOCKET, KIND_COUNTER, 64, true},
        {"softnet", "dropped", LAYER_BACKLOG, KIND_COUNTER, 32, false},
        {"softnet", "time_squeeze", LAYER_BUDGET, KIND_COUNTER, 32, false},
        {"softnet", "backlog_len", LAYER_BACKLOG, KIND_GAUGE, 32, false},
        {"sock", "drops", LAYER_SOCKET, KIND_COUNTER, 32, true},
        {"rate", "rx_p99", LAYER_TRAFFIC, KIND_GAUGE, 64, false},
        {"sampler", "lateness_p99_us", LAYER_TRAFFIC, KIND_GAUGE, 64, false},
        {"sampler", "missed_ticks", LAYER_TRAFFIC, KIND_COUNTER, 64, false},
        {"sysctl", "net.core.netdev_max_backlog", LAYER_CONFIG, KIND_SETTING, 64, false},
        {"sysctl", "anything.at.all", LAYER_CONFIG, KIND_SETTING, 64, false},
        {"ring", "rx", LAYER_CONFIG, KIND_SETTING, 64, false},
        {"netdev", "rx_missed_errors", LAYER_NIC, KIND_COUNTER, 64, false},
        {"netdev", "rx_dropped", LAYER_NIC, KIND_COUNTER, 64, true},
        {"netdev", "rx_bytes", LAYER_TRAFFIC, KIND_COUNTER, 64, false},
        {"ethtool", "rx_discards_phy", LAYER_NIC, KIND_COUNTER, 64, false},
        {"ethtool", "rx_no_dma_resources", LAYER_NIC, KIND_COUNTER, 64, false},
        {"ethtool", "port_rx_nodesc_drops", LAYER_NIC, KIND_COUNTER, 64, false},
        {"ethtool", "rx_queue_0_drops", LAYER_NIC, KIND_COUNTER, 64, false},
        {"ethtool", "ring3.rx_discards", LAYER_NIC, KIND_COUNTER, 64, false},
        {"ethtool", "pps_allowance_exceeded", LAYER_NIC, KIND_COUNTER, 64, false},
        {"ethtool", "rx_out_of_buffer", LAYER_NIC, KIND_COUNTER, 64, true},
        {"ethtool", "rx0_drops", LAYER_NIC, KIND_COUNTER, 64, true},
        {"ethtool", "rx_xdp_drop", LAYER_PROTO, KIND_COUNTER, 64, false},
        {"ethtool", "rx_packets", LAYER_TRAFFIC, KIND_COUNTER, 64, false},
        {"snmp", "Ip.InReceives", LAYER_TRAFFIC, KIND_COUNTER, 64, false},
        {"snmp", "Tcp.MaxConn", LAYER_CONFIG, KIND_SETTING, 64, false},
        {"nosuchsource", "nosuchname", LAYER_TRAFFIC, KIND_COUNTER, 64, false},
        /* a source is a name, never a pattern: the Udp entries serve snmp and snmp6 only */
        {"snmp6", "Udp6.InErrors", LAYER_PROTO, KIND_COUNTER, 64, true},
        {"snmp*", "Udp.RcvbufErrors", LAYER_TRAFFIC, KIND_COUNTER, 64, false},
        {"netstat", "Udp.RcvbufErrors", LAYER_TRAFFIC, KIND_COUNTER, 64, false},
        {"qdisc", "drops", LAYER_QDISC, KIND_COUNTER, 32, false},
        {"reason", "SOCKET_RCVBUFF", LAYER_SOCKET, KIND_COUNTER, 64, true},
        {"reason", "NO_SOCKET", LAYER_PROTO, KIND_COUNTER, 64, true},
    };
    /* Vague reasons: evidence only; the named ones and every counter are not. */
    const char *vague[] = {"NOT_SPECIFIED", "QUEUE_PURGE", "SOCKET_CLOSE", "TCP_CLOSE",
                           "TCP_OLD_DATA", "OTHERHOST"};
    for (size_t i = 0; i < sizeof vague / sizeof vague[0]; i++)
        if (!counters_classify("reason", vague[i]).vague)
            fail_msg("reason %s is not vague", vague[i]);
    assert_false(counters_classify("reason", "NETFILTER_DROP").vague);
    assert_false(counters_classify("reason", "SOCKET_RCVBUFF").vague);
    assert_false(counters_classify("snmp", "Udp.NoPorts").vague);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        counter_class_t c = counters_classify(cases[i].source, cases[i].name);
        if (c.layer != cases[i].layer || c.kind != cases[i].kind || c.width != cases[i].width ||
            c.overlap != cases[i].overlap)
            fail_msg("%s %s: %s/%s/%u/%s, want %s/%s/%u/%s", cases[i].source, cases[i].name,
                     layer_name(c.layer), kind_name(c.kind), c.width, c.overlap ? "overlap" : "-",
                     layer_name(cases[i].layer), kind_name(cases[i].kind), cases[i].width,
                     cases[i].overlap ? "overlap" : "-");
    }
}

/* The reference text a user reads for a series: what moves it, what bounds
 * it (the entry's own setting where its layer's is wrong for it), what to do;
 * every drop counter of the table has all three. */
static void test_explain(void **state)
{
    (void)state;
    counter_text_t t = counters_explain("snmp", "Udp.MemErrors");
    assert_non_null(strstr(t.meaning, "UDP"));
    assert_non_null(strstr(t.setting, "udp_mem"));
    assert_non_null(strstr(t.remedy, "read faster"));
    t = counters_explain("netstat", "TcpExt.ListenOverflows");
    assert_non_null(strstr(t.meaning, "accept queue"));
    assert_non_null(strstr(t.setting, "somaxconn"));
    t = counters_explain("qdisc", "drops");
    assert_non_null(strstr(t.remedy, "limit"));
    t = counters_explain("netdev", "rx_missed_errors");
    assert_non_null(strstr(t.setting, "ring"));
    t = counters_explain("netstat", "TcpExt.TCPHPHits"); /* context */
    assert_non_null(strstr(t.meaning, "not drops"));
    static const char *const drops[][2] = {
        {"netdev", "rx_missed_errors"}, {"netdev", "rx_dropped"}, {"snmp", "Udp.RcvbufErrors"},
        {"snmp6", "Udp6.RcvbufErrors"}, {"snmp", "Udp.NoPorts"}, {"snmp", "Ip.InDiscards"},
        {"netstat", "TcpExt.TCPBacklogDrop"}, {"softnet", "dropped"},
        {"sock", "drops"}, {"qdisc", "drops_incl_children"}, {"reason", "SOCKET_RCVBUFF"},
        {"reason", "NO_SOCKET"}, {"ethtool", "rx_discards_phy"}, {"ethtool", "rx_queue_3_drops"},
    };
    for (size_t i = 0; i < sizeof drops / sizeof drops[0]; i++) {
        counter_class_t c = counters_classify(drops[i][0], drops[i][1]);
        t = counters_explain(drops[i][0], drops[i][1]);
        assert_true(layer_is_drop(c.layer));
        assert_false(layer_is_precursor(c.layer));
        assert_true(strlen(t.meaning) > 20 && strlen(t.setting) > 5 && strlen(t.remedy) > 10);
    }
    /* A squeeze loses no packet: a precursor, with a bound and a remedy all the same. */
    counter_class_t c = counters_classify("softnet", "time_squeeze");
    t = counters_explain("softnet", "time_squeeze");
    assert_int_equal(c.layer, LAYER_BUDGET);
    assert_false(layer_is_drop(c.layer));
    assert_true(layer_is_precursor(c.layer));
    assert_true(strlen(t.meaning) > 20 && strlen(t.setting) > 5 && strlen(t.remedy) > 10);
}

/* The path layers' order and text (the API's vocabulary): every drop and
 * precursor layer once on the path, budget the one precursor and no layer
 * both, each with what it is, what bounds it and what to do, and nothing
 * for a value that is not a layer. */
static void test_layers(void **state)
{
    (void)state;
    int on_path[LAYER_COUNT] = {0}, drops = 0, precursors = 0;
    for (size_t i = 0; i < LAYER_NPATH; i++)
        on_path[layer_path[i]]++;
    for (int l = 0; l < LAYER_COUNT; l++) {
        bool drop = layer_is_drop((layer_t)l), precursor = layer_is_precursor((layer_t)l);
        assert_false(drop && precursor);
        assert_int_equal(layer_on_path((layer_t)l), drop || precursor);
        assert_int_equal(on_path[l], drop || precursor ? 1 : 0);
        drops += drop;
        precursors += precursor;
        counter_text_t t = counters_layer_text((layer_t)l);
        if (l != LAYER_UNKNOWN)
            assert_true(strlen(t.meaning) > 5 && strlen(t.setting) > 5 && strlen(t.remedy) > 5);
    }
    assert_int_equal(layer_path[0], LAYER_NIC); /* the wire first, the application last */
    assert_int_equal(layer_path[LAYER_NPATH - 2], LAYER_SOCKET);
    assert_int_equal(drops, 7);
    assert_int_equal(precursors, 1);
    assert_true(layer_is_precursor(LAYER_BUDGET) && !layer_is_drop(LAYER_BUDGET));
    assert_false(layer_on_path(LAYER_TRAFFIC) || layer_on_path(LAYER_CONFIG) ||
                 layer_on_path(LAYER_UNKNOWN) || layer_on_path(LAYER_COUNT));
    assert_non_null(strstr(counters_layer_text(LAYER_SOCKET).setting, "rmem_max"));
    assert_string_equal(counters_layer_text(LAYER_BACKLOG).remedy,
                        counters_explain("softnet", "dropped").remedy);
    counter_text_t none = counters_layer_text(LAYER_COUNT);
    assert_string_equal(none.meaning, "");
    assert_string_equal(none.setting, "");
    assert_string_equal(counters_layer_text(LAYER_UNKNOWN).remedy, "");
    char names[128], cut[10];
    assert_string_equal(layer_path_names(names, sizeof names, " "),
                        "nic budget backlog qdisc proto listen socket onload");
    assert_string_equal(layer_path_names(cut, sizeof cut, ", "), "nic, budg");
}

/* The per-socket series of sock_diag, and the retransmission counters:
 * evidence (overlap), never in a drops total; the granted buffer a setting. */
static void test_sock_diag_and_retrans(void **state)
{
    (void)state;
    counter_class_t c = counters_classify("sock", "rcvbuf");
    assert_int_equal(c.kind, KIND_SETTING);
    assert_int_equal(c.layer, LAYER_CONFIG);
    c = counters_classify("sock", "retrans");
    assert_int_equal(c.layer, LAYER_SOCKET);
    assert_true(c.overlap);
    assert_int_equal(c.width, 32);
    c = counters_classify("sock", "rtt_us");
    assert_int_equal(c.kind, KIND_GAUGE);
    assert_false(layer_is_drop(c.layer));
    c = counters_classify("snmp", "Tcp.RetransSegs");
    assert_true(c.overlap);
    assert_true(counters_classify("netstat", "TcpExt.TCPTimeouts").overlap);
    assert_true(counters_classify("netstat", "TcpExt.TCPLostRetransmit").overlap);
    assert_true(counters_is_retrans("snmp//Tcp.RetransSegs"));
    assert_true(counters_is_retrans("netstat//TcpExt.TCPTimeouts"));
    assert_true(counters_is_retrans("sock/tcp:10.0.0.1:22-10.0.0.2:4000/retrans"));
    assert_false(counters_is_retrans("sock/tcp:10.0.0.1:22-10.0.0.2:4000/drops"));
    assert_false(counters_is_retrans("netstat//TcpExt.RcvPruned"));
    assert_false(counters_is_retrans("snmp/retrans"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_sock_diag_and_retrans),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_layers),
        cmocka_unit_test(test_line_names),
        cmocka_unit_test(test_known_driver_names),
        cmocka_unit_test(test_fixture_names),
        cmocka_unit_test(test_pause_fixture_names),
        cmocka_unit_test(test_pause_direction),
        cmocka_unit_test(test_onload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
