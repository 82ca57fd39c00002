/* counters: counter -> layer table (docs/COUNTERS.md). Entries are
 * matched in order with fnmatch(3) on source and name; the first match wins,
 * so specific entries come before patterns. Sites are kernel 6.x source
 * paths where the counter is incremented. "overlap" entries are visible in
 * every query but excluded from totals: docs/COUNTERS.md's rule "assign each
 * drop to the most specific counter, count it there once". */
#include "counters.h"

#include <fnmatch.h>
#include <stddef.h>

typedef struct {
    const char *source; /* fnmatch pattern */
    const char *name;   /* fnmatch pattern */
    layer_t layer;
    kind_t kind;
    unsigned width;
    bool overlap;
} counter_entry_t;

#define C64(src, nm, layer) {src, nm, layer, KIND_COUNTER, 64, false}
#define O64(src, nm, layer) {src, nm, layer, KIND_COUNTER, 64, true}
#define C32(src, nm, layer) {src, nm, layer, KIND_COUNTER, 32, false}
#define O32(src, nm, layer) {src, nm, layer, KIND_COUNTER, 32, true}
#define GAUGE(src, nm, layer) {src, nm, layer, KIND_GAUGE, 64, false}
#define SETTING(src, nm) {src, nm, LAYER_CONFIG, KIND_SETTING, 64, false}

static const counter_entry_t s_table[] = {
    /* --- netdev: rtnl_link_stats64 (netlink IFLA_STATS64) and /proc/net/dev --- */
    /* Ring overflow: the NIC found no free descriptor; ndo_get_stats64 of the
     * driver (mlx5 copies rx_out_of_buffer, ice port rx_discards). */
    C64("netdev", "rx_missed_errors", LAYER_NIC),
    /* Driver drops plus core drops: enqueue_to_backlog (also softnet col 2)
     * and __netif_receive_skb_core (no handler): mixed, so overlap. */
    O64("netdev", "rx_dropped", LAYER_NIC),
    /* /proc/net/dev "drop" = rx_dropped + rx_missed_errors (dev_seq_printf_stats). */
    O64("netdev", "rx_drop_total", LAYER_NIC),
    C64("netdev", "rx_fifo_errors", LAYER_NIC),
    C64("netdev", "rx_over_errors", LAYER_NIC),
    C64("netdev", "rx_crc_errors", LAYER_NIC),
    C64("netdev", "rx_length_errors", LAYER_NIC),
    C64("netdev", "rx_frame_errors", LAYER_NIC),
    /* /proc/net/dev "frame" = length + over + crc + frame errors. */
    O64("netdev", "rx_frame_total", LAYER_NIC),
    O64("netdev", "rx_errors", LAYER_NIC),
    /* __netif_receive_skb_core: exact-match-only device (inactive bond slave). */
    C64("netdev", "rx_nohandler", LAYER_PROTO),
    /* ip_rcv_core/ip6_rcv_core: destination MAC of another host (promiscuous). */
    C64("netdev", "rx_otherhost_dropped", LAYER_PROTO),
    /* Driver/core transmit drops; on veth veth_xmit counts what the peer's
     * backlog refused, which the peer's softnet col 2 already counts. */
    O64("netdev", "tx_dropped", LAYER_NIC),
    O64("netdev", "tx_errors", LAYER_NIC),
    C64("netdev", "tx_*_errors", LAYER_NIC),
    O64("netdev", "tx_carrier_total", LAYER_NIC),
    C64("netdev", "*", LAYER_TRAFFIC),

    /* --- snmp / snmp6: per-netns SNMP MIB counters ------------------------- */
    /* __udp_enqueue_schedule_skb failed (rmem_alloc + truesize > sk_rcvbuf);
     * counted by __udp_queue_rcv_skb / __udpv6_queue_rcv_skb. */
    C64("snmp*", "Udp*.RcvbufErrors", LAYER_SOCKET),
    /* udp_mem exhausted (-ENOBUFS) in __udp_queue_rcv_skb. */
    C64("snmp*", "Udp*.MemErrors", LAYER_SOCKET),
    /* Total of RcvbufErrors + MemErrors + InCsumErrors + others. */
    O64("snmp*", "Udp*.InErrors", LAYER_PROTO),
    /* __udp4_lib_rcv: no socket on the port. */
    C64("snmp*", "Udp*.NoPorts", LAYER_PROTO),
    C64("snmp*", "Udp*.InCsumErrors", LAYER_PROTO),
    /* udp_send_skb got -ENOBUFS: send buffer full or dropped further down
     * (qdisc, veth, backlog), where that drop is counted again. */
    O64("snmp*", "Udp*.SndbufErrors", LAYER_PROTO),
    /* ip_rcv_core, ip_error, ip_local_deliver_finish: header, address,
     * routing and resource drops on input. */
    C64("snmp", "Ip.In*Errors", LAYER_PROTO),
    C64("snmp", "Ip.InUnknownProtos", LAYER_PROTO),
    C64("snmp", "Ip.InDiscards", LAYER_PROTO),
    /* ip_send_skb: refused further down (qdisc, veth, backlog). */
    O64("snmp", "Ip.OutDiscards", LAYER_PROTO),
    C64("snmp", "Ip.OutNoRoutes", LAYER_PROTO),
    C64("snmp", "Ip.ReasmFails", LAYER_PROTO),
    C64("snmp", "Ip.FragFails", LAYER_PROTO),
    SETTING("snmp", "Ip.Forwarding"),
    SETTING("snmp", "Ip.DefaultTTL"),
    /* tcp_v4_rcv: malformed segments. */
    C64("snmp", "Tcp.InErrs", LAYER_PROTO),
    C64("snmp", "Tcp.InCsumErrors", LAYER_PROTO),
    GAUGE("snmp", "Tcp.CurrEstab", LAYER_TRAFFIC),
    SETTING("snmp", "Tcp.Rto*"),
    SETTING("snmp", "Tcp.MaxConn"),
    C64("snmp", "Icmp.InCsumErrors", LAYER_PROTO),
    C64("snmp6", "Ip6.In*Errors", LAYER_PROTO),
    C64("snmp6", "Ip6.InNoRoutes", LAYER_PROTO),
    C64("snmp6", "Ip6.InTruncatedPkts", LAYER_PROTO),
    C64("snmp6", "Ip6.InUnknownProtos", LAYER_PROTO),
    C64("snmp6", "Ip6.InDiscards", LAYER_PROTO),
    O64("snmp6", "Ip6.OutDiscards", LAYER_PROTO),
    C64("snmp6", "Ip6.OutNoRoutes", LAYER_PROTO),
    C64("snmp6", "Ip6.ReasmFails", LAYER_PROTO),
    C64("snmp6", "Ip6.FragFails", LAYER_PROTO),
    C64("snmp6", "Icmp6.InCsumErrors", LAYER_PROTO),

    /* --- netstat: TcpExt / IpExt ------------------------------------------ */
    /* tcp_prune_queue: receive memory over sk_rcvbuf, queues collapsed. A
     * precursor: RcvPruned/TCPRcvQDrop count the loss. */
    O64("netstat", "TcpExt.PruneCalled", LAYER_SOCKET),
    /* tcp_prune_queue: collapsing did not free enough; segment refused. */
    C64("netstat", "TcpExt.RcvPruned", LAYER_SOCKET),
    /* tcp_prune_ofo_queue: once per purge, not per packet. */
    C64("netstat", "TcpExt.OfoPruned", LAYER_SOCKET),
    /* tcp_data_queue: in-order segment, no memory. Often follows RcvPruned. */
    O64("netstat", "TcpExt.TCPRcvQDrop", LAYER_SOCKET),
    /* tcp_data_queue_ofo: out-of-order segment, no memory. */
    O64("netstat", "TcpExt.TCPOFODrop", LAYER_SOCKET),
    /* tcp_data_queue: data while our window was 0 (app not reading). */
    C64("netstat", "TcpExt.TCPZeroWindowDrop", LAYER_SOCKET),
    /* tcp_add_backlog: socket owned by the app, backlog over its limit. */
    C64("netstat", "TcpExt.TCPBacklogDrop", LAYER_SOCKET),
    /* tcp_enter_memory_pressure: global tcp_mem[1] crossed (precursor). */
    O64("netstat", "TcpExt.TCPMemoryPressures", LAYER_SOCKET),
    /* tcp_conn_request / tcp_v4_syn_recv_sock: accept queue full. */
    C64("netstat", "TcpExt.ListenOverflows", LAYER_LISTEN),
    /* tcp_listendrop: every listener drop, a superset of ListenOverflows. */
    O64("netstat", "TcpExt.ListenDrops", LAYER_LISTEN),
    /* tcp_syn_flood_action: SYN queue full, syncookies off. */
    C64("netstat", "TcpExt.TCPReqQFullDrop", LAYER_LISTEN),
    O64("netstat", "TcpExt.TCPReqQFullDoCookies", LAYER_LISTEN),
    C64("netstat", "TcpExt.TCPDeferAcceptDrop", LAYER_LISTEN),
    C64("netstat", "TcpExt.TCPMinTTLDrop", LAYER_PROTO),
    C64("netstat", "IpExt.InNoRoutes", LAYER_PROTO),
    C64("netstat", "IpExt.InTruncatedPkts", LAYER_PROTO),
    C64("netstat", "IpExt.InCsumErrors", LAYER_PROTO),

    /* --- softnet_stat: per CPU, every column a u32 printed %08x ---------- */
    /* enqueue_to_backlog: input_pkt_queue over netdev_max_backlog (or flow limit). */
    C32("softnet", "dropped", LAYER_BACKLOG),
    /* skb_flow_limit: subset of dropped. */
    O32("softnet", "flow_limit_count", LAYER_BACKLOG),
    /* net_rx_action ran out of netdev_budget / netdev_budget_usecs with work
     * left: a precursor of ring overflow, the budget layer's own counter. */
    C32("softnet", "time_squeeze", LAYER_BUDGET),
    {"softnet", "*qlen", LAYER_BACKLOG, KIND_GAUGE, 32, false},
    {"softnet", "backlog_len", LAYER_BACKLOG, KIND_GAUGE, 32, false},
    C32("softnet", "*", LAYER_TRAFFIC),

    /* --- sock: /proc/net/udp* per-socket drops (u32, udp4_format_sock) ---- */
    /* sk_drops: every drop charged to the socket; the same drops are in
     * Udp RcvbufErrors/MemErrors, so this is the per-socket detail. */
    O32("sock", "drops", LAYER_SOCKET),
    GAUGE("sock", "rx_queue", LAYER_SOCKET),

    /* --- qdisc: tc statistics (rtnetlink TCA_STATS2, gnet_stats_queue u32) - */
    /* qdisc_drop (sch_generic.h): a leaf qdisc at its limit refused the skb,
     * freed in __dev_queue_xmit; not in tx_dropped, but also in the sender's
     * Udp SndbufErrors and Ip OutDiscards (both overlap). */
    C32("qdisc", "drops", LAYER_QDISC),
    /* A classful qdisc counts its children's drops again (tbf_enqueue and
     * htb_enqueue call qdisc_qstats_drop; mq sums its children). */
    O32("qdisc", "drops_incl_children", LAYER_QDISC),
    /* qdisc_qstats_overlimit: the shaper (tbf, htb) held packets back: pressure. */
    O32("qdisc", "overlimits", LAYER_QDISC),
    /* dev_requeue_skb: the driver was busy, the skb went back to the qdisc. */
    O32("qdisc", "requeues", LAYER_QDISC),
    /* bstats: sent through the qdisc (u64 with TCA_STATS_PKT64). */
    C64("qdisc", "packets", LAYER_TRAFFIC),
    C64("qdisc", "bytes", LAYER_TRAFFIC),

    /* --- the collector's own fast path ------------------------------------ */
    /* rate/<iface>/{rx,tx}_{max,p99,p50}: packets per tick over the interval;
     * _over: ticks at or over the burst threshold; _threshold: that threshold. */
    GAUGE("rate", "*", LAYER_TRAFFIC),
    /* sampler//lateness_p50_us, _p99_us: how late the sampler woke, so that a
     * missed burst can be told from a quiet link; ticks, missed_ticks, errors. */
    GAUGE("sampler", "lateness_*", LAYER_TRAFFIC),
    C64("sampler", "*", LAYER_TRAFFIC),

    /* --- reason: skb:kfree_skb drops by enum skb_drop_reason (eBPF backend) -
     * The kernel names the exact cause of each freed skb, so these give the
     * layer without inference; but every one of them is also counted by a
     * counter above (RcvbufErrors, softnet dropped, qdisc drops, ...), so they
     * are overlap: totals stay the same with or without the eBPF backend, and
     * diagnosis uses them as evidence (docs/COUNTERS.md). */
    /* __udp_queue_rcv_skb, tcp_add_backlog, sk_filter_trim_cap, and
     * PROTO_MEM: the protocol's memory limit (udp_mem, tcp_mem) or a pruned
     * TCP receive queue (tcp_prune_queue, tcp_data_queue zero window). */
    O64("reason", "SOCKET_RCVBUFF", LAYER_SOCKET),
    O64("reason", "SOCKET_BACKLOG", LAYER_SOCKET),
    O64("reason", "SOCKET_FILTER", LAYER_SOCKET),
    O64("reason", "PROTO_MEM", LAYER_SOCKET),
    O64("reason", "TCP_ZEROWINDOW", LAYER_SOCKET),
    O64("reason", "TCP_OFO_QUEUE_PRUNE", LAYER_SOCKET),
    O64("reason", "TCP_OFO_DROP", LAYER_SOCKET),
    /* tcp_conn_request / tcp_check_req: accept queue full on the final ACK
     * (a SYN refused there is consumed, not freed: ListenOverflows only). */
    O64("reason", "TCP_LISTEN_OVERFLOW", LAYER_LISTEN),
    /* enqueue_to_backlog: the per-CPU input queue was at netdev_max_backlog. */
    O64("reason", "CPU_BACKLOG", LAYER_BACKLOG),
    /* __dev_queue_xmit / qdisc enqueue: a qdisc at its limit. */
    O64("reason", "QDISC_*", LAYER_QDISC),
    O64("reason", "CAKE_FLOOD", LAYER_QDISC),
    O64("reason", "FQ_*", LAYER_QDISC),
    O64("reason", "DUALPI2_*", LAYER_QDISC),
    /* Drivers: no descriptor (FULL_RING), device not ready, header, XDP. */
    O64("reason", "FULL_RING", LAYER_NIC),
    O64("reason", "DEV_*", LAYER_NIC),
    O64("reason", "XDP", LAYER_NIC),
    /* NOT_SPECIFIED, NO_SOCKET, checksums, IP and TCP validation, netfilter,
     * neighbours: the protocol stack refused the packet. */
    O64("reason", "*", LAYER_PROTO),

    /* --- settings ----------------------------------------------------------- */
    SETTING("sysctl", "*"),
    SETTING("ring", "*"),

    /* --- ethtool -S: driver names (docs/COUNTERS.md, nic) ------------------------- */
    /* Mirrored by the driver into rtnl rx_missed_errors: mlx5 rx_out_of_buffer,
     * ice rx_dropped.nic, ixgbe MPC. */
    O64("ethtool", "rx_out_of_buffer", LAYER_NIC),
    O64("ethtool", "rx_dropped.nic", LAYER_NIC),
    O64("ethtool", "rx_missed_errors", LAYER_NIC),
    O64("ethtool", "rx_fifo_errors", LAYER_NIC),
    /* ixgbe RNBC: no descriptor when the frame arrived; it may still wait in
     * the FIFO, so a precursor. */
    O64("ethtool", "rx_no_buffer_count", LAYER_NIC),
    /* XDP programs that chose to drop: policy, not congestion; the per-queue
     * copies (mlx5 rxN_xdp_drop) repeat the total. */
    O64("ethtool", "rx[0-9]*_xdp_drop*", LAYER_PROTO),
    C64("ethtool", "*xdp_drop*", LAYER_PROTO),
    /* Per-queue copies of an aggregate the driver also reports (virtio rxN_,
     * mlx5 rxN_ and chN_). */
    O64("ethtool", "rx[0-9]*_*drop*", LAYER_NIC),
    O64("ethtool", "ch[0-9]*_*", LAYER_TRAFFIC),
    C64("ethtool", "*xdp*_errors", LAYER_PROTO),
    /* mlx5 rx_discards_phy, ixgbe rx_no_dma_resources, sfc rx_nodesc_drop_cnt /
     * port_rx_nodesc_drops, veth rx_queue_N_drops, virtio rx_drops, bnxt
     * ringN.rx_discards, ENA *_allowance_exceeded: the NIC or its driver. */
    C64("ethtool", "*discard*", LAYER_NIC),
    C64("ethtool", "*drop*", LAYER_NIC),
    C64("ethtool", "*rx*missed*", LAYER_NIC), /* not bnxt missed_irqs */
    C64("ethtool", "*out_of_buffer*", LAYER_NIC),
    C64("ethtool", "*nodesc*", LAYER_NIC),
    C64("ethtool", "*no_dma*", LAYER_NIC),
    C64("ethtool", "*allowance_exceeded", LAYER_NIC),
    /* mlx5 outbound_pci_buffer_overflow; not i40e arq_overflows (admin
     * queue) nor ixgbe fdir_overflow (flow director table). */
    C64("ethtool", "*buffer_overflow*", LAYER_NIC),
    GAUGE("ethtool", "*ifindex", LAYER_TRAFFIC),
    C64("ethtool", "*", LAYER_TRAFFIC),

    /* Anything else (snmp Ip.InReceives, TcpExt.TCPHPHits, ...) is context. */
    C64("*", "*", LAYER_TRAFFIC),
};

counter_class_t counters_classify(const char *source, const char *name)
{
    for (size_t i = 0; i < sizeof s_table / sizeof s_table[0]; i++) {
        const counter_entry_t *e = &s_table[i];
        if (fnmatch(e->source, source, 0) == 0 && fnmatch(e->name, name, 0) == 0)
            return (counter_class_t){e->layer, e->kind, e->width, e->overlap};
    }
    return (counter_class_t){LAYER_TRAFFIC, KIND_COUNTER, 64, false}; /* unreachable */
}
