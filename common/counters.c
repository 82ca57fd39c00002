/* counters: counter -> layer table (docs/COUNTERS.md). Entries are
 * matched in order, on a set of sources and an fnmatch(3) pattern of the
 * name; the first match wins, so specific entries come before patterns.
 * Sites are kernel 6.x source paths where the counter is incremented (for
 * Onload, files of Xilinx-CNS/onload @ ef17681d).
 * "overlap" entries are visible in every query but excluded from totals:
 * docs/COUNTERS.md's rule "assign each drop to the most specific counter,
 * count it there once". */
#include "counters.h"

#include <fnmatch.h>
#include <stddef.h>
#include <string.h>

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
    bool vague;          /* counters.h: evidence, never a finding of its own */
} counter_entry_t;

#define C64(src, nm, layer, what) {src, nm, layer, KIND_COUNTER, 64, false, what, NULL, false}
#define O64(src, nm, layer, what) {src, nm, layer, KIND_COUNTER, 64, true, what, NULL, false}
#define C32(src, nm, layer, what) {src, nm, layer, KIND_COUNTER, 32, false, what, NULL, false}
#define O32(src, nm, layer, what) {src, nm, layer, KIND_COUNTER, 32, true, what, NULL, false}
#define GAUGE(src, nm, layer, what) {src, nm, layer, KIND_GAUGE, 64, false, what, NULL, false}
#define SETTING(src, nm, what) {src, nm, LAYER_CONFIG, KIND_SETTING, 64, false, what, NULL, false}
/* An entry whose bounding setting is not its layer's. */
#define C64S(src, nm, layer, what, bound) \
    {src, nm, layer, KIND_COUNTER, 64, false, what, bound, false}
#define O64S(src, nm, layer, what, bound) \
    {src, nm, layer, KIND_COUNTER, 64, true, what, bound, false}
#define C32S(src, nm, layer, what, bound) \
    {src, nm, layer, KIND_COUNTER, 32, false, what, bound, false}
#define O32S(src, nm, layer, what, bound) \
    {src, nm, layer, KIND_COUNTER, 32, true, what, bound, false}
/* A drop reason that does not tell a loss of the host's traffic from other frees. */
#define VAGUE(src, nm, layer, what) {src, nm, layer, KIND_COUNTER, 64, true, what, NULL, true}

/* Where the NIC's flow-control counters say the pause frames went. */
#define PAUSE_SENT "the NIC sent pause (XOFF) frames: its receive buffer filled, so it asked " \
                   "the switch to hold traffic; the switch queues, and drops once its own " \
                   "buffer fills (shown, never a drop here: check the switch's pause/PFC drops)"
#define PAUSE_RECEIVED "the NIC received pause (XOFF) frames: the switch asked it to stop " \
                       "sending; transmit waits, and queues fill behind it (shown, never a drop)"
/* A flow-control name and its twin: BEFORE "tx" AFTER (sent), BEFORE "rx"
 * AFTER (received). */
#define PAUSE(before, after)                                                                      \
    O64(S(ETHTOOL), before "tx" after, LAYER_NIC, PAUSE_SENT),                                   \
        O64(S(ETHTOOL), before "rx" after, LAYER_NIC, PAUSE_RECEIVED)

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
    [LAYER_ONLOAD] = {"kernel bypass (Onload): accelerated sockets that no kernel counter sees",
                      "the Onload stack's packet buffers (EF_MAX_PACKETS, EF_MAX_RX_PACKETS) and "
                      "each socket's receive buffer (SO_RCVBUF, or EF_UDP_RCVBUF for every UDP "
                      "socket of the stack)",
                      "a stack out of packet buffers: raise EF_MAX_PACKETS (and "
                      "EF_MAX_RX_PACKETS); a socket over its buffer: read faster, or a larger "
                      "SO_RCVBUF / EF_UDP_RCVBUF (onload_stackdump lots shows both)"},
    [LAYER_TRAFFIC] = {"packets and bytes: context, not drops",
                       "nothing: it counts work done, not losses", "none needed: context"},
    [LAYER_CONFIG] = {"settings that bound the layers",
                      "it is a setting itself", "see the layers it bounds"},
    /* No counter of the host: diagnose.c finds it from a probe's gaps
     * that no drop layer of the host explains. */
    [LAYER_UPSTREAM] = {"before this host: the switch, the feed or the sender (a probe saw "
                        "sequence gaps while no layer of the host dropped)",
                        "nothing on this host: the network's and the sender's capacity",
                        "the loss happened before this host: check the switch's drop "
                        "counters, the feed/sender's sequence, the NIC's link (ethtool -S "
                        "rx_crc_errors)"},
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
    /* tcp_retransmit_skb: every segment this host sent again. Evidence of
     * loss on the path or at the peer (a pruned receive queue), not a drop
     * here: overlap, so its deltas are stored and timed with the drops
     * (the timeline's retrans rows) but never summed. */
    O64(S(SNMP), "Tcp.RetransSegs", LAYER_SOCKET,
        "TCP segments this host sent again: evidence of loss somewhere (the path, or a peer's "
        "pruned receive queue), not a drop here"),
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
    /* tcp_retransmit_timer (and tcp_probe_timer): an RTO expired, the
     * sender backs off exponentially; evidence like RetransSegs. */
    O64(S(NETSTAT), "TcpExt.TCPTimeouts", LAYER_SOCKET,
        "a TCP retransmission timer expired (the sender waits twice as long each time): "
        "evidence of loss, not a drop here"),
    /* tcp_mark_lost_retrans / tcp_rack_detect_loss: a retransmission lost too. */
    O64(S(NETSTAT), "TcpExt.TCPLostRetransmit", LAYER_SOCKET,
        "a retransmitted TCP segment was lost again: evidence of loss, not a drop here"),
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
     NULL, false},
    {S(SOFTNET), "backlog_len", LAYER_BACKLOG, KIND_GAUGE, 32, false,
     "packets in the CPU's backlog now", NULL, false},
    C32(S(SOFTNET), "*", LAYER_TRAFFIC, "the CPU's receive processing (packets handled)"),

    /* --- sock: per-socket, from sock_diag (SK_MEMINFO_*, struct tcp_info:
     * inet_sk_diag_fill) or /proc/net/udp* (udp4_format_sock) ---------- */
    /* sk_drops (u32): every drop charged to the socket; the same drops are
     * in Udp RcvbufErrors/MemErrors or TCP's prune and queue drops, so
     * this is the per-socket detail. */
    O32(S(SOCK), "drops", LAYER_SOCKET,
        "every drop charged to this socket (also in Udp RcvbufErrors or MemErrors, or TCP's "
        "RcvPruned, TCPRcvQDrop, TCPOFODrop): it names the socket and its owner"),
    GAUGE(S(SOCK), "rx_queue", LAYER_SOCKET, "bytes waiting in this socket's receive queue now"),
    /* sk_rcvbuf (SK_MEMINFO_RCVBUF): sock_setsockopt SO_RCVBUF stores twice
     * the request, the request capped at net.core.rmem_max first. */
    {S(SOCK), "rcvbuf", LAYER_CONFIG, KIND_SETTING, 64, false,
     "the receive buffer this socket was granted, as getsockopt(SO_RCVBUF) returns it: twice "
     "the size asked for, the request capped at net.core.rmem_max (TCP: grown by autotuning "
     "up to net.ipv4.tcp_rmem's max unless SO_RCVBUF was set)",
     "net.core.rmem_max caps SO_RCVBUF requests (SO_RCVBUFFORCE does not)", false},
    /* tcpi_total_retrans (u32, tp->total_retrans): tcp_retransmit_skb. */
    O32(S(SOCK), "retrans", LAYER_SOCKET,
        "TCP segments this socket sent again in its life: evidence (its peer lost them, "
        "perhaps to a pruned receive queue), not a drop here"),
    /* tcpi_rtt: the smoothed RTT in microseconds (tp->srtt_us >> 3). */
    GAUGE(S(SOCK), "rtt_us", LAYER_TRAFFIC, "the TCP socket's smoothed round-trip time (us)"),

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
    /* probe/GROUP:PORT/{received,missing,reordered,duplicates,restarts,short,
     * gaps_lost}:
     * an application-level receiver's counts (collector/probe, gapseq). Not
     * drops: a gap may have been lost upstream, not by this host; diagnosis
     * weighs the gaps against the drop layers (the upstream layer). */
    C64(S(PROBE), "gaps_lost", LAYER_TRAFFIC,
        "gaps the collector could not keep to send (more than 100,000 waiting): their packets "
        "are in missing, but not in dropscope gaps or the diagnosis"),
    C64(S(PROBE), "missing", LAYER_TRAFFIC,
        "sequence numbers the probe never received (gaps): lost on this host or before it; "
        "dropscope diagnose tells which"),
    C64(S(PROBE), "*", LAYER_TRAFFIC,
        "the probe's datagrams received, late ones that filled a gap (reordered), duplicates, "
        "sender restarts and datagrams too short for the sequence number"),

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
    /* Frees that are not losses of the host's traffic, or cannot be told
     * apart from them: kfree_skb without a reason (NOT_SPECIFIED: on 6.x
     * still the default of many call sites that free packets nobody lost,
     * e.g. 20 in 10 s on every idle host of `make demo`), queues purged or
     * dropped when their socket closed (skb_queue_purge, tcp_close), and
     * TCP segments or fragments whose data had already arrived (tcp_validate_incoming,
     * tcp_data_queue_ofo, ip_frag_queue). Evidence only. */
    VAGUE(S(REASON), "NOT_SPECIFIED", LAYER_PROTO,
          "the kernel freed a packet without saying why: not necessarily a loss"),
    VAGUE(S(REASON), "QUEUE_PURGE", LAYER_SOCKET,
          "a socket's queue was purged as it closed: data the application abandoned"),
    VAGUE(S(REASON), "*_CLOSE", LAYER_SOCKET,
          "the packet arrived for, or was queued on, a socket that was closing"),
    VAGUE(S(REASON), "TCP_OLD_*", LAYER_PROTO,
          "a TCP segment whose data or acknowledgment had already arrived: a duplicate"),
    VAGUE(S(REASON), "TCP_OFOMERGE", LAYER_PROTO,
          "an out-of-order TCP segment whose data was already queued: a duplicate"),
    VAGUE(S(REASON), "DUP_FRAG", LAYER_PROTO, "a fragment that had already arrived"),
    VAGUE(S(REASON), "OTHERHOST", LAYER_PROTO,
          "a frame for another host's MAC address (promiscuous mode): not this host's"),
    /* NO_SOCKET, checksums, IP and TCP validation, netfilter, neighbours:
     * the protocol stack refused the packet. */
    O64(S(REASON), "*", LAYER_PROTO,
        "the protocol stack freed the packet for the reason the name gives (no socket, a bad "
        "checksum, netfilter, ...)"),

    /* --- onload: onload_stackdump lots (Xilinx-CNS/onload @ ef17681d). Every
     * Onload statistic is a ci_uint32 (stats_def.h), but spin_* (u64). ------ */
    /* ci_udp_rx_deliver (udp_rx.c): the socket's queue is over its rcvbuf in
     * packets; ++us->stats.n_rx_overflow. No stack total repeats it (more_stats'
     * udp_tot_recv_drops_ul, a sum over live sockets, is not read). */
    C32S(S(ONLOAD), "oflow_drop", LAYER_ONLOAD,
         "a datagram did not fit this Onload socket's receive buffer: the application "
         "reads too slowly",
         "the socket's receive buffer: SO_RCVBUF, or EF_UDP_RCVBUF for every UDP socket of "
         "the stack (onload/STACK:udp:A:P/rcvbuf shows it)"),
    /* ci_udp_rx_deliver: the stack is in memory pressure; counts
     * memory_pressure_drops too, which is the one counted. */
    O32S(S(ONLOAD), "mem_drop", LAYER_ONLOAD,
         "a datagram for this socket was dropped because its stack was out of packet "
         "buffers (also in the stack's memory_pressure_drops)",
         "EF_MAX_PACKETS and EF_MAX_RX_PACKETS of the stack"),
    /* ci_udp_rx_deliver (UDP) and ci_tcp_handle_rx's mem_pressure label
     * (tcp_rx.c): every packet dropped for lack of packet buffers. */
    C32S(S(ONLOAD), "memory_pressure_drops", LAYER_ONLOAD,
         "the Onload stack ran out of packet buffers and dropped received packets (the "
         "sockets' mem_drop, and TCP's, together); nodesc drops at the NIC usually follow",
         "EF_MAX_PACKETS and EF_MAX_RX_PACKETS of the stack"),
    /* ci_netif_mem_pressure_enter_critical (netif.c): once per episode. */
    O32S(S(ONLOAD), "memory_pressure_*", LAYER_ONLOAD,
         "the stack entered (or left) memory pressure: out of packet buffers, it could not "
         "refill its RX ring (episodes, not packets: a precursor)",
         "EF_MAX_PACKETS and EF_MAX_RX_PACKETS of the stack"),
    /* ci_netif_rx_post (netif.c): not enough free buffers to refill the ring;
     * reap_*: buffers reclaimed under pressure. */
    O32S(S(ONLOAD), "refill_*_limited", LAYER_ONLOAD,
         "the stack could not refill its RX ring for lack of packet buffers: nodesc drops at "
         "the NIC follow (a precursor, not packets)",
         "EF_MAX_PACKETS and EF_MAX_RX_PACKETS of the stack"),
    O32S(S(ONLOAD), "reap_*_limited", LAYER_ONLOAD,
         "the stack reclaimed packet buffers close to memory pressure (a precursor)",
         "EF_MAX_PACKETS of the stack"),
    O32S(S(ONLOAD), "bufset_alloc_*", LAYER_ONLOAD,
         "the stack could not allocate more packet buffers (huge pages, the NIC's buffer "
         "table): memory pressure follows (a precursor)",
         "EF_MAX_PACKETS, huge pages, EF_PACKET_BUFFER_MODE"),
    /* ci_udp_handle_rx (udp_rx.c): no socket matched the datagram. */
    C32S(S(ONLOAD), "udp_rx_no_match_drops", LAYER_ONLOAD,
         "a UDP datagram reached the stack for no socket of it (a socket just closed, or "
         "bound to another interface or VLAN)",
         "no setting: which sockets are open and where they are bound"),
    C32S(S(ONLOAD), "udp_send_mcast_loop_drop", LAYER_ONLOAD,
         "a multicast datagram looped back to a local socket was dropped at the RX packet "
         "buffer limit", "EF_MAX_RX_PACKETS of the stack"),
    C32S(S(ONLOAD), "no_match_oom", LAYER_ONLOAD,
         "a packet for no socket could not be passed to the kernel for lack of memory",
         "EF_MAX_PACKETS of the stack"),
    /* ci_netif_rx_pkt_complete / handle_rx_discard (netif_event.c): the
     * NIC's discard classes, frames the protocol would refuse anyway. */
    C32(S(ONLOAD), "rx_discard_*", LAYER_PROTO,
        "frames the NIC flagged and Onload discarded (the name says why: checksum, CRC, "
        "length, truncated, ...)"),
    C32(S(ONLOAD), "no_match_dropped", LAYER_PROTO,
        "a packet for no socket that Onload may not pass to the kernel (inject_kernel_gid)"),
    C32(S(ONLOAD), "rx_xdp_drop", LAYER_PROTO,
        "packets an XDP program on the Onload stack chose to drop: policy, not congestion"),
    C32(S(ONLOAD), "rx_icmp_dropped", LAYER_PROTO, "ICMP messages the Onload stack dropped"),
    SETTING(S(ONLOAD), "EF_*", "an Onload option of the stack (onload_stackdump's config "
                               "opts): EF_MAX_PACKETS, EF_RXQ_SIZE, EF_UDP_RCVBUF, ..."),
    SETTING(S(ONLOAD), "rcvbuf", "this Onload socket's receive buffer in bytes (SO_RCVBUF or "
                                 "EF_UDP_RCVBUF)"),
    SETTING(S(ONLOAD), "rxq_size", "the RX ring the Onload stack posts on this interface "
                                   "(descriptors: EF_RXQ_SIZE, or the NIC's default; "
                                   "onload_stackdump prints one less, as rxq: cap=)"),
    C64(S(ONLOAD), "spin_*", LAYER_TRAFFIC, "busy-wait loops of the stack (64-bit)"),
    C32(S(ONLOAD), "*", LAYER_TRAFFIC, "an Onload stack statistic: context, not drops"),

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
    /* Flow control (802.3x pause, 802.1Qbb PFC): the MAC's own counters, pause
     * frames and not packets, so overlap (shown, never in a drop total). Before
     * the catch-alls below; names from the fixtures: mlx5 rx/tx_pause_ctrl_phy,
     * [rt]x_global_pause*, rx/tx_prioN_pause*; sfc port_[rt]x_pause; bnxt
     * [rt]x_pause_frames, [rt]x_pfc_*, pfc_priN_[rt]x_*, *_pause_events; i40e
     * port.link_xo[nf]f_[rt]x, port.[rt]x_priority_N_xo[nf]f_*; ice *.nic twins;
     * ixgbe [rt]x_flow_control_xo[nf]f, [rt]x_pb_N_pxo[nf]f. Not ENA's
     * admin_q_pause (its admin queue). counters_pause() repeats the direction. */
    PAUSE("", "_pause*"),
    PAUSE("*_", "_pause"),
    PAUSE("", "_prio[0-9]*_pause*"),
    PAUSE("", "_global_pause*"),
    PAUSE("*link_xo[nf]*_", "*"),
    PAUSE("*", "_priority_[0-9]*_xo[nf]*"),
    PAUSE("", "_pb_[0-9]*_pxo[nf]*"),
    PAUSE("", "_flow_control_xo[nf]*"),
    PAUSE("", "_pfc*"),
    PAUSE("pfc_pri[0-9]*_", "_*"),
    O64(S(ETHTOOL), "*_pause_events", LAYER_NIC, PAUSE_RECEIVED),
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
    return (counter_class_t){e->layer, e->kind, e->width, e->overlap, e->vague};
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

pause_t counters_pause(const char *source, const char *name)
{
    const counter_entry_t *e = s_find(source, name);
    bool sent = strcmp(e->meaning, PAUSE_SENT) == 0;
    if (!sent && strcmp(e->meaning, PAUSE_RECEIVED) != 0)
        return PAUSE_NONE;
    /* XON (resume) frames, xon-to-xoff transitions, durations and pause
     * storm events are flow control too, but no count of XOFF frames. */
    static const char *const not_frames[] = {"xon", "duration", "transition", "events"};
    for (size_t i = 0; i < sizeof not_frames / sizeof not_frames[0]; i++)
        if (strstr(name, not_frames[i]))
            return PAUSE_NONE;
    return sent ? PAUSE_FRAMES_SENT : PAUSE_FRAMES_RECEIVED;
}

bool counters_is_retrans(const char *series)
{
    static const char *const names[] = {"snmp//Tcp.RetransSegs", "netstat//TcpExt.TCPTimeouts",
                                        "netstat//TcpExt.TCPLostRetransmit"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(series, names[i]) == 0)
            return true;
    const char *last = strrchr(series, '/');
    return strncmp(series, "sock/", 5) == 0 && last && strcmp(last, "/retrans") == 0;
}
