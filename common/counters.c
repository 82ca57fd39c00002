/* counters: counter -> layer table (docs/COUNTERS.md). Entries are
 * matched in order, on a set of sources and an fnmatch(3) pattern of the
 * name; the first match wins, so specific entries come before patterns.
 * Sites are kernel 6.x source paths where the counter is incremented.
 * "overlap" entries are visible in every query but excluded from totals:
 * docs/COUNTERS.md's rule "assign each drop to the most specific counter,
 * count it there once". */
#include "counters.h"

#include <fnmatch.h>
#include <stddef.h>

#include "source.h"

_Static_assert(SOURCE_COUNT <= 32, "an entry's sources are the bits of an unsigned");

/* An entry's set of sources: one bit per source_t. */
#define S(src) (1u << SOURCE_##src)
#define SNMP_ANY (S(SNMP) | S(SNMP6)) /* the Udp and Udp6 groups count alike */
#define ANY (~0u)                     /* every source, known or not */

typedef struct {
    unsigned sources;    /* the sources it applies to: S(...) bits */
    const char *name;    /* fnmatch pattern */
    layer_t layer;
    kind_t kind;
    unsigned width;
    bool overlap;
    const char *meaning; /* what moves it, for a user (the kernel site in a comment) */
    const char *setting; /* what bounds it, when not its layer's (s_layers) */
} counter_entry_t;

#define C64(src, nm, layer, what) {src, nm, layer, KIND_COUNTER, 64, false, what, NULL}
#define O64(src, nm, layer, what) {src, nm, layer, KIND_COUNTER, 64, true, what, NULL}
#define C32(src, nm, layer, what) {src, nm, layer, KIND_COUNTER, 32, false, what, NULL}
#define O32(src, nm, layer, what) {src, nm, layer, KIND_COUNTER, 32, true, what, NULL}
#define GAUGE(src, nm, layer, what) {src, nm, layer, KIND_GAUGE, 64, false, what, NULL}
#define SETTING(src, nm, what) {src, nm, LAYER_CONFIG, KIND_SETTING, 64, false, what, NULL}
/* An entry whose bounding setting is not its layer's. */
#define C64S(src, nm, layer, what, bound) {src, nm, layer, KIND_COUNTER, 64, false, what, bound}
#define O64S(src, nm, layer, what, bound) {src, nm, layer, KIND_COUNTER, 64, true, what, bound}

/* Per layer: what it is, what bounds its drops, and what to do
 * (docs/COUNTERS.md). */
static const struct {
    const char *meaning, *setting, *remedy;
} s_layers[LAYER_COUNT] = {
    [LAYER_UNKNOWN] = {"", "", ""},
    [LAYER_NIC] = {"the NIC and its RX ring",
                   "the RX ring size (ring/DEV/rx against its rx_max; ethtool -g DEV) and how "
                   "quickly NAPI polls the ring",
                   "raise the ring (ethtool -G DEV rx MAX), spread the load over more queues "
                   "(ethtool -L, RSS) and put their IRQs on idle CPUs"},
    [LAYER_BACKLOG] = {"the per-CPU input queue (softnet backlog)",
                       "net.core.netdev_max_backlog (global: the host's namespace only), and "
                       "the flow limit",
                       "raise net.core.netdev_max_backlog, spread receive processing over more "
                       "CPUs (RPS/RFS), make it cheaper"},
    [LAYER_BUDGET] = {"the softirq poll budget (time_squeeze): a precursor",
                      "net.core.netdev_budget (packets) and net.core.netdev_budget_usecs (time) "
                      "per softirq run",
                      "raise both settings, add queues, move IRQs off busy CPUs; nothing is "
                      "lost yet, but the ring or the backlog fills next"},
    [LAYER_SOCKET] = {"socket receive buffers",
                      "the socket's receive buffer: SO_RCVBUF, capped by net.core.rmem_max "
                      "(default net.core.rmem_default; TCP: net.ipv4.tcp_rmem)",
                      "read faster or from more sockets (SO_REUSEPORT), ask for a larger "
                      "buffer, and raise net.core.rmem_max so that the request is granted"},
    [LAYER_LISTEN] = {"accept and SYN queues",
                      "the listen() backlog, capped by net.core.somaxconn; the SYN queue "
                      "(net.ipv4.tcp_max_syn_backlog, syncookies)",
                      "accept faster, listen() with a larger backlog, raise net.core.somaxconn"},
    [LAYER_PROTO] = {"IP, UDP and TCP: headers, checksums, routes, ports",
                     "no setting: the protocol refused the packet",
                     "find the cause the counter names: a port nobody listens on, corrupt "
                     "packets (cables, offloads, the sender), a missing route"},
    [LAYER_QDISC] = {"transmit queueing disciplines (tc)",
                     "the qdisc's limit (tc -s qdisc show dev DEV)",
                     "a larger limit (tc qdisc change dev DEV handle H ... limit N), a fair "
                     "queue (fq, fq_codel), or pacing the sender (its sendto() succeeds while "
                     "the packet is dropped)"},
    [LAYER_ONLOAD] = {"kernel bypass (Onload)",
                      "the Onload stack's buffers (EF_MAX_PACKETS, the socket's buffer)",
                      "raise EF_MAX_PACKETS or the socket's buffer; read faster"},
    [LAYER_TRAFFIC] = {"packets and bytes: context, not drops",
                       "nothing: it counts work done, not losses", "none needed: context"},
    [LAYER_CONFIG] = {"settings that bound the layers",
                      "it is a setting itself", "see the layers it bounds"},
};

static const counter_entry_t s_table[] = {
    /* --- netdev: rtnl_link_stats64 (netlink IFLA_STATS64) and /proc/net/dev --- */
    /* Ring overflow: ndo_get_stats64 of the driver (mlx5 copies
     * rx_out_of_buffer, ice port rx_discards). */
    C64(S(NETDEV), "rx_missed_errors", LAYER_NIC,
        "the NIC had no free descriptor in its RX ring: the host did not refill the ring in "
        "time and the frame was lost"),
    /* Driver drops plus core drops: enqueue_to_backlog (also softnet col 2)
     * and __netif_receive_skb_core (no handler): mixed, so overlap. */
    O64(S(NETDEV), "rx_dropped", LAYER_NIC,
        "the driver's drops and the core's (a full per-CPU backlog, frames no protocol "
        "wanted) together: read the specific counter instead"),
    /* /proc/net/dev "drop" = rx_dropped + rx_missed_errors (dev_seq_printf_stats). */
    O64(S(NETDEV), "rx_drop_total", LAYER_NIC,
        "/proc/net/dev's drop column: rx_dropped and rx_missed_errors added up"),
    C64(S(NETDEV), "rx_fifo_errors", LAYER_NIC, "the driver's FIFO overruns (driver-defined)"),
    C64(S(NETDEV), "rx_over_errors", LAYER_NIC, "the driver's buffer overruns (driver-defined)"),
    C64(S(NETDEV), "rx_crc_errors", LAYER_NIC, "frames received with a bad checksum (CRC)"),
    C64(S(NETDEV), "rx_length_errors", LAYER_NIC, "frames received with a bad length"),
    C64(S(NETDEV), "rx_frame_errors", LAYER_NIC, "frames received misaligned"),
    /* /proc/net/dev "frame" = length + over + crc + frame errors. */
    O64(S(NETDEV), "rx_frame_total", LAYER_NIC,
        "/proc/net/dev's frame column: length, overrun, CRC and frame errors added up"),
    O64(S(NETDEV), "rx_errors", LAYER_NIC, "every receive error of the device, added up"),
    /* __netif_receive_skb_core: exact-match-only device (inactive bond slave). */
    C64(S(NETDEV), "rx_nohandler", LAYER_PROTO,
        "frames on a device that only delivers to exact matches (an inactive bond slave)"),
    /* ip_rcv_core/ip6_rcv_core: destination MAC of another host (promiscuous). */
    C64(S(NETDEV), "rx_otherhost_dropped", LAYER_PROTO,
        "frames for another host's MAC address, received in promiscuous mode"),
    /* Driver/core transmit drops; on veth veth_xmit counts what the peer's
     * backlog refused, which the peer's softnet col 2 already counts. */
    O64(S(NETDEV), "tx_dropped", LAYER_NIC,
        "packets the driver or the core dropped on transmit (on veth: what the peer's "
        "backlog refused, counted there too)"),
    O64(S(NETDEV), "tx_errors", LAYER_NIC, "every transmit error of the device, added up"),
    C64(S(NETDEV), "tx_*_errors", LAYER_NIC, "transmit errors of the kind the name says"),
    O64(S(NETDEV), "tx_carrier_total", LAYER_NIC, "carrier errors on transmit, added up"),
    C64(S(NETDEV), "*", LAYER_TRAFFIC, "packets and bytes the device moved"),

    /* --- snmp / snmp6: per-netns SNMP MIB counters ------------------------- */
    /* __udp_enqueue_schedule_skb failed (rmem_alloc + truesize > sk_rcvbuf);
     * counted by __udp_queue_rcv_skb / __udpv6_queue_rcv_skb. */
    C64(SNMP_ANY, "Udp*.RcvbufErrors", LAYER_SOCKET,
        "a UDP datagram did not fit its socket's receive buffer (counted by the skb's true "
        "size, not its payload: a 100-byte datagram takes about 800 bytes)"),
    /* udp_mem exhausted (-ENOBUFS) in __udp_queue_rcv_skb. */
    C64S(SNMP_ANY, "Udp*.MemErrors", LAYER_SOCKET,
         "the memory all UDP sockets may use together ran out",
         "net.ipv4.udp_mem (pages, for every UDP socket of the host)"),
    /* Total of RcvbufErrors + MemErrors + InCsumErrors + others. */
    O64(SNMP_ANY, "Udp*.InErrors", LAYER_PROTO,
        "every UDP receive error: RcvbufErrors, MemErrors and checksum errors together"),
    /* __udp4_lib_rcv: no socket on the port. */
    C64(SNMP_ANY, "Udp*.NoPorts", LAYER_PROTO,
        "UDP datagrams for a port nobody listens on"),
    C64(SNMP_ANY, "Udp*.InCsumErrors", LAYER_PROTO, "UDP datagrams with a bad checksum"),
    /* udp_send_skb got -ENOBUFS: send buffer full or dropped further down
     * (qdisc, veth, backlog), where that drop is counted again. */
    O64(SNMP_ANY, "Udp*.SndbufErrors", LAYER_PROTO,
        "a UDP send was refused further down (a qdisc, a veth peer's backlog), where it is "
        "counted again; sendto() still returns success unless IP_RECVERR is set"),
    /* ip_rcv_core, ip_error, ip_local_deliver_finish: header, address,
     * routing and resource drops on input. */
    C64(S(SNMP), "Ip.In*Errors", LAYER_PROTO,
        "IP packets refused on input for the reason the name gives (header, address)"),
    C64(S(SNMP), "Ip.InUnknownProtos", LAYER_PROTO, "IP packets of a protocol nobody handles"),
    C64(S(SNMP), "Ip.InDiscards", LAYER_PROTO,
        "IP packets discarded on input for lack of resources"),
    /* ip_send_skb: refused further down (qdisc, veth, backlog). */
    O64(S(SNMP), "Ip.OutDiscards", LAYER_PROTO,
        "local IP sends refused further down (a qdisc, a backlog), counted there too"),
    C64(S(SNMP), "Ip.OutNoRoutes", LAYER_PROTO, "IP packets to send with no route"),
    C64(S(SNMP), "Ip.ReasmFails", LAYER_PROTO, "IP fragments that could not be reassembled"),
    C64(S(SNMP), "Ip.FragFails", LAYER_PROTO,
        "IP packets that needed fragmenting and could not be"),
    SETTING(S(SNMP), "Ip.Forwarding", "whether the host forwards IP packets"),
    SETTING(S(SNMP), "Ip.DefaultTTL", "the TTL of the packets the host sends"),
    /* tcp_v4_rcv: malformed segments. */
    C64(S(SNMP), "Tcp.InErrs", LAYER_PROTO, "TCP segments received malformed"),
    C64(S(SNMP), "Tcp.InCsumErrors", LAYER_PROTO, "TCP segments with a bad checksum"),
    GAUGE(S(SNMP), "Tcp.CurrEstab", LAYER_TRAFFIC, "TCP connections established now"),
    SETTING(S(SNMP), "Tcp.Rto*", "TCP's retransmission timeout bounds"),
    SETTING(S(SNMP), "Tcp.MaxConn", "TCP's connection limit (-1: none)"),
    C64(S(SNMP), "Icmp.InCsumErrors", LAYER_PROTO, "ICMP messages with a bad checksum"),
    C64(S(SNMP6), "Ip6.In*Errors", LAYER_PROTO,
        "IPv6 packets refused on input for the reason the name gives"),
    C64(S(SNMP6), "Ip6.InNoRoutes", LAYER_PROTO, "IPv6 packets received with no route"),
    C64(S(SNMP6), "Ip6.InTruncatedPkts", LAYER_PROTO, "IPv6 packets received truncated"),
    C64(S(SNMP6), "Ip6.InUnknownProtos", LAYER_PROTO, "IPv6 packets of a protocol nobody handles"),
    C64(S(SNMP6), "Ip6.InDiscards", LAYER_PROTO,
        "IPv6 packets discarded on input for lack of resources"),
    O64(S(SNMP6), "Ip6.OutDiscards", LAYER_PROTO,
        "local IPv6 sends refused further down, counted there too"),
    C64(S(SNMP6), "Ip6.OutNoRoutes", LAYER_PROTO, "IPv6 packets to send with no route"),
    C64(S(SNMP6), "Ip6.ReasmFails", LAYER_PROTO, "IPv6 fragments that could not be reassembled"),
    C64(S(SNMP6), "Ip6.FragFails", LAYER_PROTO,
        "IPv6 packets that needed fragmenting and could not be"),
    C64(S(SNMP6), "Icmp6.InCsumErrors", LAYER_PROTO, "ICMPv6 messages with a bad checksum"),

    /* --- netstat: TcpExt / IpExt ------------------------------------------ */
    /* tcp_prune_queue: receive memory over sk_rcvbuf, queues collapsed. A
     * precursor: RcvPruned/TCPRcvQDrop count the loss. */
    O64(S(NETSTAT), "TcpExt.PruneCalled", LAYER_SOCKET,
        "a TCP socket went over its receive buffer and the kernel collapsed its queues "
        "(a precursor: nothing lost yet)"),
    /* tcp_prune_queue: collapsing did not free enough; segment refused. */
    C64(S(NETSTAT), "TcpExt.RcvPruned", LAYER_SOCKET,
        "collapsing a TCP socket's queues did not free enough: a segment was refused"),
    /* tcp_prune_ofo_queue: once per purge, not per packet. */
    C64(S(NETSTAT), "TcpExt.OfoPruned", LAYER_SOCKET,
        "a TCP socket's out-of-order queue was purged for memory (once per purge, not per "
        "packet)"),
    /* tcp_data_queue: in-order segment, no memory. Often follows RcvPruned. */
    O64(S(NETSTAT), "TcpExt.TCPRcvQDrop", LAYER_SOCKET,
        "an in-order TCP segment was refused for lack of receive memory"),
    /* tcp_data_queue_ofo: out-of-order segment, no memory. */
    O64(S(NETSTAT), "TcpExt.TCPOFODrop", LAYER_SOCKET,
        "an out-of-order TCP segment was refused for lack of receive memory"),
    /* tcp_data_queue: data while our window was 0 (app not reading). */
    C64(S(NETSTAT), "TcpExt.TCPZeroWindowDrop", LAYER_SOCKET,
        "TCP data arrived while the advertised window was 0: the application is not reading"),
    /* tcp_add_backlog: socket owned by the app, backlog over its limit. */
    C64(S(NETSTAT), "TcpExt.TCPBacklogDrop", LAYER_SOCKET,
        "the application held a TCP socket's lock while the socket's backlog overflowed"),
    /* tcp_enter_memory_pressure: global tcp_mem[1] crossed (precursor). */
    O64S(S(NETSTAT), "TcpExt.TCPMemoryPressures", LAYER_SOCKET,
         "TCP as a whole crossed its memory pressure mark (a precursor)",
         "net.ipv4.tcp_mem (pages, for every TCP socket of the host)"),
    /* tcp_conn_request / tcp_v4_syn_recv_sock: accept queue full. */
    C64(S(NETSTAT), "TcpExt.ListenOverflows", LAYER_LISTEN,
        "a listener's accept queue was full when a SYN or the final ACK arrived"),
    /* tcp_listendrop: every listener drop, a superset of ListenOverflows. */
    O64(S(NETSTAT), "TcpExt.ListenDrops", LAYER_LISTEN,
        "every SYN-time failure of a listener, ListenOverflows included"),
    /* tcp_syn_flood_action: SYN queue full, syncookies off. */
    C64(S(NETSTAT), "TcpExt.TCPReqQFullDrop", LAYER_LISTEN,
        "SYNs lost with the SYN queue full and syncookies off"),
    O64(S(NETSTAT), "TcpExt.TCPReqQFullDoCookies", LAYER_LISTEN,
        "SYNs answered with a syncookie because the SYN queue was full (not lost)"),
    C64(S(NETSTAT), "TcpExt.TCPDeferAcceptDrop", LAYER_LISTEN,
        "connections dropped waiting for data under TCP_DEFER_ACCEPT"),
    C64(S(NETSTAT), "TcpExt.TCPMinTTLDrop", LAYER_PROTO,
        "TCP segments under a socket's minimum TTL (IP_MINTTL)"),
    C64(S(NETSTAT), "IpExt.InNoRoutes", LAYER_PROTO, "IP packets received with no route"),
    C64(S(NETSTAT), "IpExt.InTruncatedPkts", LAYER_PROTO, "IP packets received truncated"),
    C64(S(NETSTAT), "IpExt.InCsumErrors", LAYER_PROTO, "IP packets with a bad checksum"),

    /* --- softnet_stat: per CPU, every column a u32 printed %08x ---------- */
    /* enqueue_to_backlog: input_pkt_queue over netdev_max_backlog (or flow limit). */
    C32(S(SOFTNET), "dropped", LAYER_BACKLOG,
        "a packet could not be queued to this CPU's backlog: it held "
        "net.core.netdev_max_backlog packets already (traffic from netif_rx: loopback, veth, "
        "tun, or steered by RPS/RFS)"),
    /* skb_flow_limit: subset of dropped. */
    O32(S(SOFTNET), "flow_limit_count", LAYER_BACKLOG,
        "backlog drops by flow limiting, a part of dropped"),
    /* net_rx_action ran out of netdev_budget / netdev_budget_usecs with work
     * left: a precursor of ring overflow, the budget layer's own counter. */
    C32(S(SOFTNET), "time_squeeze", LAYER_BUDGET,
        "a softirq run ran out of budget or time with packets left: nothing lost yet, but "
        "the ring or the backlog fills if it goes on"),
    {S(SOFTNET), "*qlen", LAYER_BACKLOG, KIND_GAUGE, 32, false, "packets in the CPU's queue now",
     NULL},
    {S(SOFTNET), "backlog_len", LAYER_BACKLOG, KIND_GAUGE, 32, false,
     "packets in the CPU's backlog now", NULL},
    C32(S(SOFTNET), "*", LAYER_TRAFFIC, "the CPU's receive processing (packets handled)"),

    /* --- sock: /proc/net/udp* per-socket drops (u32, udp4_format_sock) ---- */
    /* sk_drops: every drop charged to the socket; the same drops are in
     * Udp RcvbufErrors/MemErrors, so this is the per-socket detail. */
    O32(S(SOCK), "drops", LAYER_SOCKET,
        "every drop charged to this socket (also in Udp RcvbufErrors or MemErrors): it names "
        "the socket and its owner"),
    GAUGE(S(SOCK), "rx_queue", LAYER_SOCKET, "bytes waiting in this socket's receive queue now"),

    /* --- qdisc: tc statistics (rtnetlink TCA_STATS2, gnet_stats_queue u32) - */
    /* qdisc_drop (sch_generic.h): a leaf qdisc at its limit refused the skb,
     * freed in __dev_queue_xmit; not in tx_dropped, but also in the sender's
     * Udp SndbufErrors and Ip OutDiscards (both overlap). */
    C32(S(QDISC), "drops", LAYER_QDISC,
        "a transmit queueing discipline at its limit refused a packet (not in the device's "
        "tx_dropped; the sender's Udp SndbufErrors and Ip OutDiscards rise too)"),
    /* A classful qdisc counts its children's drops again (tbf_enqueue and
     * htb_enqueue call qdisc_qstats_drop; mq sums its children). */
    O32(S(QDISC), "drops_incl_children", LAYER_QDISC,
        "a classful qdisc's drops, which repeat its children's"),
    /* qdisc_qstats_overlimit: the shaper (tbf, htb) held packets back: pressure. */
    O32(S(QDISC), "overlimits", LAYER_QDISC,
        "the shaper held packets back (pressure, not loss)"),
    /* dev_requeue_skb: the driver was busy, the skb went back to the qdisc. */
    O32(S(QDISC), "requeues", LAYER_QDISC,
        "the driver was busy and packets went back to the qdisc (pressure, not loss)"),
    /* bstats: sent through the qdisc (u64 with TCA_STATS_PKT64). */
    C64(S(QDISC), "packets", LAYER_TRAFFIC, "packets sent through the qdisc"),
    C64(S(QDISC), "bytes", LAYER_TRAFFIC, "bytes sent through the qdisc"),

    /* --- the collector's own fast path ------------------------------------ */
    /* rate/<iface>/{rx,tx}_{max,p99,p50}: packets per tick over the interval;
     * _over: ticks at or over the burst threshold; _threshold: that threshold. */
    GAUGE(S(RATE), "*", LAYER_TRAFFIC,
        "packets per tick over the interval (max, p99, p50), ticks over the burst threshold, "
        "and that threshold"),
    /* sampler//lateness_p50_us, _p99_us: how late the sampler woke, so that a
     * missed burst can be told from a quiet link; ticks, missed_ticks, errors. */
    GAUGE(S(SAMPLER), "lateness_*", LAYER_TRAFFIC,
        "how late the burst sampler woke (a missed burst can be told from a quiet link)"),
    C64(S(SAMPLER), "*", LAYER_TRAFFIC, "the burst sampler's ticks, missed ticks and errors"),

    /* --- reason: skb:kfree_skb drops by enum skb_drop_reason (eBPF backend) -
     * The kernel names the exact cause of each freed skb, so these give the
     * layer without inference; but every one of them is also counted by a
     * counter above (RcvbufErrors, softnet dropped, qdisc drops, ...), so they
     * are overlap: totals stay the same with or without the eBPF backend, and
     * diagnosis uses them as evidence (docs/COUNTERS.md). */
    /* __udp_queue_rcv_skb, tcp_add_backlog, sk_filter_trim_cap, and
     * PROTO_MEM: the protocol's memory limit (udp_mem, tcp_mem) or a pruned
     * TCP receive queue (tcp_prune_queue, tcp_data_queue zero window). */
    O64(S(REASON), "SOCKET_RCVBUFF", LAYER_SOCKET,
        "the kernel freed a packet because its socket's receive buffer was full"),
    O64(S(REASON), "SOCKET_BACKLOG", LAYER_SOCKET,
        "the kernel freed a packet because its socket's backlog was full"),
    O64(S(REASON), "SOCKET_FILTER", LAYER_SOCKET, "a socket filter (BPF) refused the packet"),
    O64S(S(REASON), "PROTO_MEM", LAYER_SOCKET,
         "the protocol's memory (udp_mem, tcp_mem) ran out",
         "net.ipv4.udp_mem, net.ipv4.tcp_mem"),
    O64(S(REASON), "TCP_ZEROWINDOW", LAYER_SOCKET,
        "TCP data arrived while the advertised window was 0"),
    O64(S(REASON), "TCP_OFO_QUEUE_PRUNE", LAYER_SOCKET,
        "a TCP socket's out-of-order queue was pruned for memory"),
    O64(S(REASON), "TCP_OFO_DROP", LAYER_SOCKET,
        "an out-of-order TCP segment was refused for memory"),
    /* tcp_conn_request / tcp_check_req: accept queue full on the final ACK
     * (a SYN refused there is consumed, not freed: ListenOverflows only). */
    O64(S(REASON), "TCP_LISTEN_OVERFLOW", LAYER_LISTEN,
        "a listener's accept queue was full on the final ACK"),
    /* enqueue_to_backlog: the per-CPU input queue was at netdev_max_backlog. */
    O64(S(REASON), "CPU_BACKLOG", LAYER_BACKLOG,
        "a CPU's backlog was at net.core.netdev_max_backlog"),
    /* __dev_queue_xmit / qdisc enqueue: a qdisc at its limit. */
    O64(S(REASON), "QDISC_*", LAYER_QDISC, "a qdisc at its limit refused the packet"),
    O64(S(REASON), "CAKE_FLOOD", LAYER_QDISC, "the cake qdisc dropped a flooding flow's packet"),
    O64(S(REASON), "FQ_*", LAYER_QDISC, "the fq qdisc dropped the packet (the name says why)"),
    O64(S(REASON), "DUALPI2_*", LAYER_QDISC, "the dualpi2 qdisc dropped the packet"),
    /* Drivers: no descriptor (FULL_RING), device not ready, header, XDP. */
    O64(S(REASON), "FULL_RING", LAYER_NIC, "a driver had no free descriptor in its ring"),
    O64(S(REASON), "DEV_*", LAYER_NIC, "the device refused the packet (the name says why)"),
    O64(S(REASON), "XDP", LAYER_NIC, "an XDP program dropped the packet"),
    /* NOT_SPECIFIED, NO_SOCKET, checksums, IP and TCP validation, netfilter,
     * neighbours: the protocol stack refused the packet. */
    O64(S(REASON), "*", LAYER_PROTO,
        "the protocol stack freed the packet for the reason the name gives (no socket, a bad "
        "checksum, netfilter, ...)"),

    /* --- irq and cpu: which CPU serves a NIC, and how busy it is ------------ */
    /* show_interrupts (kernel/irq/proc.c): per-CPU kstat_irqs, unsigned int,
     * summed over the CPUs modulo 2^32 so that one CPU's wrap is a wrap. */
    C32(S(IRQ), IRQ_INTERRUPTS, LAYER_TRAFFIC,
        "interrupts of one of the NIC's IRQ lines, on every CPU (modulo 2^32)"),
    SETTING(S(IRQ), IRQ_CPU,
            "the CPU that served most of this IRQ line's interrupts over the last interval "
            "(placed by irqbalance or /proc/irq/N/smp_affinity): its softirq runs the queue's "
            "NAPI poll"),
    /* show_stat (fs/proc/stat.c): kcpustat_cpu_fetch, nsec_to_clock_t: u64
     * USER_HZ ticks since boot. */
    C64(S(CPU), CPU_SOFTIRQ, LAYER_TRAFFIC,
        "time the CPU spent in softirqs (receive processing among them), in 1/100 s ticks"),
    C64(S(CPU), CPU_IRQ, LAYER_TRAFFIC,
        "time the CPU spent in hardware interrupt handlers, in 1/100 s ticks"),
    C64(S(CPU), CPU_BUSY, LAYER_TRAFFIC,
        "time the CPU was busy (all but idle and iowait), in 1/100 s ticks"),
    C64(S(CPU), CPU_TOTAL, LAYER_TRAFFIC,
        "all the CPU's time, busy or idle, in 1/100 s ticks: the denominator of its shares"),
    /* show_softirqs (fs/proc/softirqs.c): kstat_softirqs_cpu, unsigned int;
     * raised by napi_schedule (NET_RX) and netif_schedule (NET_TX). */
    C32(S(CPU), "net_*", LAYER_TRAFFIC,
        "the CPU's NET_RX (receive) or NET_TX (transmit completion) softirq runs"),
    SETTING(S(RPS), "*",
            "the CPUs receive packet steering hands this queue's packets to "
            "(/sys/class/net/IFACE/queues/rx-N/rps_cpus): mask (CPUs 0-62) and cpus, their "
            "count; 0 = off"),
    SETTING(S(XPS), "*",
            "the CPUs whose sends use this transmit queue "
            "(/sys/class/net/IFACE/queues/tx-N/xps_cpus): mask (CPUs 0-62) and cpus"),
    SETTING(S(CHANNELS), "*",
            "the NIC's queues (ethtool -l): rx, tx, other and combined, with their _max"),

    /* --- settings ----------------------------------------------------------- */
    SETTING(S(SYSCTL), "*", "a kernel setting (sysctl) that bounds one of the layers"),
    SETTING(S(RING), "*", "the NIC's ring sizes (ethtool -g): rx, and rx_max the hardware allows"),

    /* --- ethtool -S: driver names (docs/COUNTERS.md, nic) ------------------------- */
    /* Mirrored by the driver into rtnl rx_missed_errors: mlx5 rx_out_of_buffer,
     * ice rx_dropped.nic, ixgbe MPC. */
    O64(S(ETHTOOL), "rx_out_of_buffer", LAYER_NIC,
        "no receive buffer was posted (mlx5): a ring overflow, also in rx_missed_errors"),
    O64(S(ETHTOOL), "rx_dropped.nic", LAYER_NIC,
        "port discards (ice), also in rx_missed_errors"),
    O64(S(ETHTOOL), "rx_missed_errors", LAYER_NIC,
        "the driver's copy of the device's rx_missed_errors"),
    O64(S(ETHTOOL), "rx_fifo_errors", LAYER_NIC,
        "the driver's copy of the device's rx_fifo_errors"),
    /* ixgbe RNBC: no descriptor when the frame arrived; it may still wait in
     * the FIFO, so a precursor. */
    O64(S(ETHTOOL), "rx_no_buffer_count", LAYER_NIC,
        "no descriptor when a frame arrived (ixgbe); it may still wait in the FIFO: a "
        "precursor"),
    /* XDP programs that chose to drop: policy, not congestion; the per-queue
     * copies (mlx5 rxN_xdp_drop) repeat the total. */
    O64(S(ETHTOOL), "rx[0-9]*_xdp_drop*", LAYER_PROTO,
        "one queue's share of the XDP drops, which the total repeats"),
    C64(S(ETHTOOL), "*xdp_drop*", LAYER_PROTO,
        "packets an XDP program chose to drop: policy, not congestion"),
    /* Per-queue copies of an aggregate the driver also reports (virtio rxN_,
     * mlx5 rxN_ and chN_). */
    O64(S(ETHTOOL), "rx[0-9]*_*drop*", LAYER_NIC,
        "one queue's share of a drop count the driver also reports in total"),
    O64(S(ETHTOOL), "ch[0-9]*_*", LAYER_TRAFFIC, "one channel's share of a driver total"),
    C64(S(ETHTOOL), "*xdp*_errors", LAYER_PROTO, "XDP errors of the driver"),
    /* mlx5 rx_discards_phy, ixgbe rx_no_dma_resources, sfc rx_nodesc_drop_cnt /
     * port_rx_nodesc_drops, veth rx_queue_N_drops, virtio rx_drops, bnxt
     * ringN.rx_discards, ENA *_allowance_exceeded: the NIC or its driver. */
    C64(S(ETHTOOL), "*discard*", LAYER_NIC,
        "frames the NIC or its driver discarded (mlx5 rx_discards_phy: the port's own buffer "
        "was full)"),
    C64(S(ETHTOOL), "*drop*", LAYER_NIC, "frames the NIC or its driver dropped"),
    /* Not bnxt missed_irqs. */
    C64(S(ETHTOOL), "*rx*missed*", LAYER_NIC, "frames the NIC missed: no descriptor"),
    C64(S(ETHTOOL), "*out_of_buffer*", LAYER_NIC, "no receive buffer was posted: ring overflow"),
    C64(S(ETHTOOL), "*nodesc*", LAYER_NIC, "no descriptor was posted (sfc): ring overflow"),
    C64(S(ETHTOOL), "*no_dma*", LAYER_NIC, "no DMA resources (ixgbe): ring overflow"),
    C64S(S(ETHTOOL), "*allowance_exceeded", LAYER_NIC,
         "the cloud provider shaped the instance (ENA; meaning per AWS)", "the instance type"),
    /* mlx5 outbound_pci_buffer_overflow; not i40e arq_overflows (admin
     * queue) nor ixgbe fdir_overflow (flow director table). */
    C64(S(ETHTOOL), "*buffer_overflow*", LAYER_NIC, "the NIC's buffer overflowed (PCIe)"),
    GAUGE(S(ETHTOOL), "*ifindex", LAYER_TRAFFIC, "the device's index"),
    C64(S(ETHTOOL), "*", LAYER_TRAFFIC, "a driver statistic: context, not drops"),

    /* Anything else (snmp Ip.InReceives, TcpExt.TCPHPHits, ...) is context. */
    C64(ANY, "*", LAYER_TRAFFIC, "a counter of work done: context, not drops"),
};

/* The first entry that matches source/name (the last one always does). */
static const counter_entry_t *s_find(const char *source, const char *name)
{
    unsigned bit = 1u << source_from_name(source);
    size_t n = sizeof s_table / sizeof s_table[0];
    for (size_t i = 0; i < n - 1; i++) {
        const counter_entry_t *e = &s_table[i];
        if ((e->sources & bit) && fnmatch(e->name, name, 0) == 0)
            return e;
    }
    return &s_table[n - 1];
}

counter_class_t counters_classify(const char *source, const char *name)
{
    const counter_entry_t *e = s_find(source, name);
    return (counter_class_t){e->layer, e->kind, e->width, e->overlap};
}

counter_text_t counters_explain(const char *source, const char *name)
{
    const counter_entry_t *e = s_find(source, name);
    return (counter_text_t){e->meaning, e->setting ? e->setting : s_layers[e->layer].setting,
                            s_layers[e->layer].remedy};
}

counter_text_t counters_layer_text(layer_t layer)
{
    if (layer <= LAYER_UNKNOWN || layer >= LAYER_COUNT)
        layer = LAYER_UNKNOWN;
    return (counter_text_t){s_layers[layer].meaning, s_layers[layer].setting,
                            s_layers[layer].remedy};
}
