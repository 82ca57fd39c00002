/* model: see model.h. The series set is built once from name lists; how a
 * series moves follows its class in the collector's own counter table, so
 * drops land in the layers a real host's do. Rates are per second and
 * scaled by the interval. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "source.h"

#define IFACES 4
#define CPUS 8

static const char *const s_ifaces[IFACES] = {"lo", "eth0", "eth1", "eth2"};
static const char *const s_netdev[] = {
    "rx_packets",       "rx_bytes",          "tx_packets",          "tx_bytes",
    "rx_errors",        "tx_errors",         "rx_dropped",          "tx_dropped",
    "multicast",        "collisions",        "rx_length_errors",    "rx_over_errors",
    "rx_crc_errors",    "rx_frame_errors",   "rx_fifo_errors",      "rx_missed_errors",
    "tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",     "tx_heartbeat_errors",
    "tx_window_errors", "rx_nohandler"};
static const char *const s_softnet[] = {"processed", "dropped", "time_squeeze", "received_rps",
                                        "flow_limit_count"};
static const char *const s_snmp[] = {
    "Ip.InReceives",  "Ip.InHdrErrors",  "Ip.InAddrErrors", "Ip.ForwDatagrams", "Ip.InUnknownProtos",
    "Ip.InDiscards",  "Ip.InDelivers",   "Ip.OutRequests",  "Ip.OutDiscards",   "Ip.OutNoRoutes",
    "Icmp.InMsgs",    "Icmp.InErrors",   "Icmp.OutMsgs",    "Icmp.InDestUnreachs", "Icmp.OutDestUnreachs",
    "Tcp.ActiveOpens", "Tcp.PassiveOpens", "Tcp.AttemptFails", "Tcp.EstabResets", "Tcp.InSegs",
    "Tcp.OutSegs",    "Tcp.RetransSegs", "Tcp.InErrs",      "Tcp.OutRsts",      "Tcp.InCsumErrors",
    "Udp.InDatagrams", "Udp.NoPorts",    "Udp.InErrors",    "Udp.OutDatagrams", "Udp.RcvbufErrors",
    "Udp.SndbufErrors", "Udp.InCsumErrors", "Udp.IgnoredMulti", "Udp.MemErrors",
    "UdpLite.InDatagrams", "UdpLite.InErrors"};
static const char *const s_netstat[] = {
    "TcpExt.SyncookiesSent", "TcpExt.SyncookiesRecv", "TcpExt.EmbryonicRsts", "TcpExt.PruneCalled",
    "TcpExt.RcvPruned",      "TcpExt.OfoPruned",      "TcpExt.TW",            "TcpExt.DelayedACKs",
    "TcpExt.ListenOverflows", "TcpExt.ListenDrops",   "TcpExt.TCPHPHits",     "TcpExt.TCPPureAcks",
    "TcpExt.TCPHPAcks",      "TcpExt.TCPLossProbes",  "TcpExt.TCPTimeouts",   "TcpExt.TCPBacklogDrop",
    "TcpExt.TCPRcvQDrop",    "TcpExt.TCPOFODrop",     "TcpExt.TCPOFOQueue",   "TcpExt.TCPRcvCoalesce",
    "TcpExt.TCPAutoCorking", "TcpExt.TCPOrigDataSent", "TcpExt.TCPDelivered", "TcpExt.TCPAckCompressed",
    "TcpExt.TCPReqQFullDrop", "TcpExt.TCPMemoryPressures", "IpExt.InOctets",  "IpExt.OutOctets",
    "IpExt.InNoECTPkts",     "IpExt.InMcastPkts"};
static const char *const s_sysctls[] = {
    SYSCTL_RMEM_MAX,       SYSCTL_RMEM_DEFAULT,        "net.core.wmem_max",
    SYSCTL_NETDEV_MAX_BACKLOG, SYSCTL_NETDEV_BUDGET,   SYSCTL_NETDEV_BUDGET_USECS,
    SYSCTL_SOMAXCONN,      SYSCTL_TCP_RMEM_MAX,        "net.ipv4.udp_rmem_min",
    "net.ipv4.tcp_max_syn_backlog"};
static const char *const s_rates[] = {"rx_max", "rx_p99", "rx_p50", "rx_over", "rx_threshold",
                                      "tx_max", "tx_p99", "tx_p50", "tx_over", "tx_threshold"};
static const char *const s_sampler[] = {"ticks", "missed_ticks", "errors", "lateness_p50_us",
                                        "lateness_p99_us"};

#define N(a) (sizeof(a) / sizeof(a)[0])
#define MODEL_SERIES                                                                               \
    (IFACES * N(s_netdev) + CPUS * N(s_softnet) + N(s_snmp) + N(s_netstat) + N(s_sysctls) +        \
     (IFACES - 1) * 2 + IFACES * N(s_rates) + N(s_sampler))

/* How a series moves: a traffic counter every interval, a drop counter
 * rarely, a gauge around a level, a setting never. */
typedef enum { MOVE_NEVER, MOVE_TRAFFIC, MOVE_DROP, MOVE_GAUGE } move_t;

typedef struct {
    const char *source; /* static */
    const char *device; /* in s_devices */
    const char *name;   /* in s_names */
    counter_class_t cls;
    move_t move;
    uint64_t per_s;  /* traffic: mean increase per second; gauge: level */
    uint64_t start;
} behaviour_t;

static behaviour_t s_beh[MODEL_SERIES];
static char s_names[MODEL_SERIES][64];
static char s_devices[MODEL_SERIES][16];
static size_t s_nseries;

struct model {
    uint64_t rng;                    /* xorshift64* state */
    uint64_t value[MODEL_SERIES];    /* every series' counter, by index */
    bool started;                    /* the first step (every series) is done */
    burst_msg_t burst;               /* the last microburst */
    uint32_t profile[MODEL_PROFILE]; /* its profile */
};

static void s_add(const char *source, const char *device, const char *name, move_t move,
                  uint64_t per_s, uint64_t start)
{
    size_t i = s_nseries++;
    snprintf(s_names[i], sizeof s_names[i], "%s", name);
    snprintf(s_devices[i], sizeof s_devices[i], "%s", device);
    s_beh[i] = (behaviour_t){source, s_devices[i], s_names[i], counters_classify(source, name),
                             move, per_s, start};
}

static move_t s_move_of(const char *source, const char *name, uint64_t *per_s)
{
    counter_class_t c = counters_classify(source, name);
    *per_s = 0;
    if (c.kind == KIND_SETTING)
        return MOVE_NEVER;
    if (c.kind == KIND_GAUGE)
        return MOVE_GAUGE;
    if (layer_is_drop(c.layer))
        return MOVE_DROP;
    /* The busy traffic counters: packets and bytes, segments, datagrams. */
    if (strstr(name, "packets") || strstr(name, "Receives") || strstr(name, "Delivers") ||
        strstr(name, "Requests") || strstr(name, "Segs") || strstr(name, "Datagrams") ||
        strstr(name, "HP") || strstr(name, "PureAcks") || strstr(name, "Octets") ||
        strcmp(name, "processed") == 0) {
        *per_s = strstr(name, "Octets") ? 20000000 : 20000;
        return MOVE_TRAFFIC;
    }
    if (strstr(name, "bytes")) {
        *per_s = 20000000;
        return MOVE_TRAFFIC;
    }
    return MOVE_NEVER; /* quiet context counters (errors nobody makes, ...) */
}

/* A series that moves as its class in the counter table says. */
static void s_add_classed(source_t source, const char *device, const char *name, uint64_t start)
{
    uint64_t per_s;
    move_t move = s_move_of(source_name(source), name, &per_s); /* before per_s is read */
    s_add(source_name(source), device, name, move, per_s, start);
}

static void s_build(void)
{
    char dev[16];
    for (size_t i = 0; i < IFACES; i++)
        for (size_t k = 0; k < N(s_netdev); k++)
            s_add_classed(SOURCE_NETDEV, s_ifaces[i], s_netdev[k], 1000000);
    for (size_t c = 0; c < CPUS; c++) {
        snprintf(dev, sizeof dev, "cpu%zu", c);
        for (size_t k = 0; k < N(s_softnet); k++)
            s_add_classed(SOURCE_SOFTNET, dev, s_softnet[k], 5000);
    }
    for (size_t k = 0; k < N(s_snmp); k++)
        s_add_classed(SOURCE_SNMP, "", s_snmp[k], 300000);
    for (size_t k = 0; k < N(s_netstat); k++)
        s_add_classed(SOURCE_NETSTAT, "", s_netstat[k], 7000);
    for (size_t k = 0; k < N(s_sysctls); k++)
        s_add(source_name(SOURCE_SYSCTL), "", s_sysctls[k], MOVE_NEVER, 0, 212992);
    for (size_t i = 1; i < IFACES; i++) {
        s_add(source_name(SOURCE_RING), s_ifaces[i], RING_RX, MOVE_NEVER, 0, 1024);
        s_add(source_name(SOURCE_RING), s_ifaces[i], RING_RX_MAX, MOVE_NEVER, 0, 4096);
    }
    for (size_t i = 0; i < IFACES; i++)
        for (size_t k = 0; k < N(s_rates); k++)
            s_add(source_name(SOURCE_RATE), s_ifaces[i], s_rates[k],
                  strstr(s_rates[k], "threshold") ? MOVE_NEVER : MOVE_GAUGE, 20, 20);
    for (size_t k = 0; k < N(s_sampler); k++)
        s_add(source_name(SOURCE_SAMPLER), "", s_sampler[k],
              k == 0 ? MOVE_TRAFFIC : k >= 3 ? MOVE_GAUGE : MOVE_NEVER, k == 0 ? 1000 : 40, 0);
}

size_t model_series(void)
{
    if (!s_nseries)
        s_build();
    return s_nseries;
}

static uint64_t s_rand(model_t *self) /* xorshift64* */
{
    self->rng ^= self->rng >> 12;
    self->rng ^= self->rng << 25;
    self->rng ^= self->rng >> 27;
    return self->rng * UINT64_C(2685821657736338717);
}

model_t *model_new(uint64_t seed)
{
    size_t n = model_series();
    model_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->rng = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;
    for (size_t i = 0; i < n; i++)
        self->value[i] = s_beh[i].start + s_rand(self) % 1000;
    return self;
}

void model_destroy(model_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

/* The increase of series i over an interval. Drops: 2% of the intervals
 * of a socket or proto counter see some, far fewer elsewhere. */
static uint64_t s_increase(model_t *self, size_t i, int64_t interval_ns)
{
    const behaviour_t *b = &s_beh[i];
    switch (b->move) {
    case MOVE_TRAFFIC: {
        uint64_t mean = b->per_s * (uint64_t)interval_ns / 1000000000u;
        return mean / 2 + s_rand(self) % (mean + 1);
    }
    case MOVE_DROP: {
        uint64_t odds = b->cls.layer == LAYER_SOCKET ? 50 : 2000;
        return s_rand(self) % odds == 0 ? 1 + s_rand(self) % 500 : 0;
    }
    default:
        return 0;
    }
}

const burst_msg_t *model_burst_at(model_t *self, int64_t start)
{
    int64_t tick = 1000000;
    uint64_t packets = 0;
    for (size_t k = 0; k < MODEL_PROFILE; k++) {
        self->profile[k] = (k >= 10 && k < 13) ? 300 + (uint32_t)(s_rand(self) % 400)
                                               : (uint32_t)(s_rand(self) % 5);
        packets += k >= 10 && k < 13 ? self->profile[k] : 0;
    }
    self->burst = (burst_msg_t){.iface = "eth0",
                                .start_ns = start,
                                .end_ns = start + 3 * tick,
                                .peak_per_ms = 700,
                                .packets = packets,
                                .bytes = packets * 100,
                                .threshold_per_ms = 256,
                                .drops = {[LAYER_SOCKET] = s_rand(self) % 3 ? 0 : 100},
                                .profile_start_ns = start - 10 * tick,
                                .tick_ns = tick,
                                .nprofile = MODEL_PROFILE,
                                .profile = self->profile,
                                .profile_complete = true};
    return &self->burst;
}

/* Only the series that moved are read out: the registry keeps the value of
 * one not observed, and would find it unchanged if it were (delta 0, no
 * flag, not sent), so the batch is the same. Observing all 255 made the
 * registry's share of a batch 3 times as costly (2,000 hosts: 60-80 us
 * against 20 us), CPU that fleetsim would take from the aggregator it
 * shares a machine with. */
size_t model_step(model_t *self, int64_t ts_ns, int64_t interval_ns, reading_t *readings,
                  const burst_msg_t **burst_p)
{
    size_t n = s_nseries, k = 0;
    bool first = !self->started;
    for (size_t i = 0; i < n; i++) {
        const behaviour_t *b = &s_beh[i];
        uint64_t before = self->value[i];
        if (b->move == MOVE_GAUGE && !first)
            self->value[i] = b->per_s / 2 + s_rand(self) % (b->per_s + 1);
        else if (!first)
            self->value[i] += s_increase(self, i, interval_ns);
        if (first || self->value[i] != before)
            readings[k++] = (reading_t){b->source, b->device, b->name, self->value[i], 0};
    }
    self->started = true;
    *burst_p = NULL;
    if (!first && s_rand(self) % 100 == 0) { /* a microburst in 1% of the intervals */
        *burst_p = model_burst_at(self, ts_ns - (int64_t)(s_rand(self) % 900) * 1000000);
    }
    return k;
}
