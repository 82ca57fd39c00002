#!/usr/bin/env python3
"""gen_onload_stackdump.py STATS_DEF_H OUTDIR: writes the `onload_stackdump lots`
fixtures of tests/fixtures/onload-stackdump/ (provenance in tests/fixtures/README.md).

Onload cannot run without a Solarflare/AMD NIC, so these are built, not captured:
every line is printed with the format string of the Onload function that prints it
(Xilinx-CNS/onload @ ef17681d, files named beside each writer below), and the
ci_netif_stats section lists every field of src/include/ci/internal/stats_def.h
(STATS_DEF_H: `git show ef17681d:src/include/ci/internal/stats_def.h`) in its order,
all of them, whichever #if a real build leaves out. Values are made up, chosen so
that each fixture tells one story."""
import re
import sys

RULE = "------------------------------------------------------------"


def stats_names(path):
    text = open(path).read()
    return [m.group(1) for m in
            re.finditer(r"ci_uint(?:32|64),\s*(\w+),\s*\w+\)", text)]


# ci_netif_config_opts_dump (netif_debug.c): "%30s: " type##_fmt, and
# " (default: ...)" after a changed one. Defaults as in opts_netif_def.h.
OPTS = [("EF_INT_DRIVEN", 1), ("EF_POLL_ON_DEMAND", 1), ("EF_HIGH_THROUGHPUT_MODE", 0),
        ("EF_USE_HUGE_PAGES", 1), ("EF_PACKET_BUFFER_MODE", 0), ("EF_RXQ_SIZE", -1),
        ("EF_TXQ_SIZE", -1), ("EF_RXQ_LIMIT", 65535), ("EF_EVS_PER_POLL", 64),
        ("EF_MAX_PACKETS", 32768), ("EF_MAX_RX_PACKETS", 24576),
        ("EF_MAX_TX_PACKETS", 24576), ("EF_RXQ_MIN", 256), ("EF_MIN_FREE_PACKETS", 100),
        ("EF_PREFAULT_PACKETS", 1), ("EF_TCP_RCVBUF", 0), ("EF_UDP_SNDBUF", 0),
        ("EF_UDP_RCVBUF", 0)]


def opts_dump(out, changed):
    out.append("--------------------- config opts --------------------------")
    out.append("%30s: %d" % ("NDEBUG", 1))
    for env, default in OPTS:
        v = changed.get(env, default)
        if v == default:
            out.append("%30s: %d" % (env, v))
        else:
            out.append("%30s: %d (default: %d)" % (env, v, default))
    out.append('%30s: "%s"' % ("EF_SCALABLE_FILTERS", ""))


def netif_dump(out, sid, name, pid, devs, rxq_cap, pressure):
    # stack_lots (libstack.c), ci_netif_dump_to_logger (netif_debug.c)
    out.append("============================================================")
    out.append("ci_netif_dump_to_logger: stack=%d name=%s" % (sid, name))
    out.append("  X2522 9.2.0.2 uid=1000 pid=%d ns_flags=80" % pid)
    out.append("  creation_time=2026-11-30 09:12:44 (delta=86400secs)")
    out.append("  lock=20000000 UNLOCKED  nics=1 primed=1 deferred=0 rx_ports=1 tx_ports=1")
    out.append("  sock_bufs: max=1024 n_allocated=64 free=%d" % (64 - 3))
    out.append("  aux_bufs: free=0")
    # ci_netif_dump_pkt_summary
    out.append("  pkt_sets: pkt_size=2048 set_size=1024 max=32 alloc=%d" % (32 if pressure else 2))
    out.append("  pkt_bufs: max=32768 alloc=%d free=%d async=0%s" %
               ((32768, 12, " CRITICAL") if pressure else (2048, 1502, "")))
    out.append("  pkt_bufs: rx=%d rx_ring=%d rx_queued=0 pressure_pool=0" % (rxq_cap, rxq_cap))
    out.append("  time: netif=5a3c2 poll=5a3c2 now=5a3c2 (diff=0.000sec)")
    for i, dev in enumerate(devs):  # ci_netif_dump_vi
        out.append("ci_netif_dump_vi: stack=%d intf=%d dev=%s hw=3A0" % (sid, i, dev))
        out.append("  vi=%d pd_owner=0 channel=%d tcpdump=off vi_flags=0 oo_vi_flags=0"
                   % (64 + sid, i))
        out.append("  evq: cap=2048 current=1f30 is_32_evs=0 is_ev=0")
        # cap= is ef_vi_receive_capacity(): the ring's mask, its size less one
        out.append("  rxq: cap=%d lim=%d spc=%d level=%d total_desc=812345"
                   % (rxq_cap - 1, rxq_cap - 1, 511 if pressure else 7,
                      0 if pressure else rxq_cap - 8))
        out.append("  txq: cap=2048 lim=2048 spc=2048 level=0 pkts=0 oflow_pkts=0")
    # ci_netif_dump_extra_to_logger
    out.append("ci_netif_dump_extra_to_logger: stack=%d" % sid)
    out.append("  in_poll=0 post_poll_list_empty=1 poll_did_wake=0")
    out.append("pids: %d" % pid)  # libstack_stack_mapping_print_pids


def udp_socket(out, sid, sock, lcl, rcvbuf, oflow, mem, added):
    # citp_waitable_dump2 (waitable.c), ci_sock_cmn_dump (socket.c),
    # ci_udp_state_dump and ci_udp_recvq_dump (udp.c)
    out.append("UDP %d:%d lcl=%s rmt=0.0.0.0:0 UDP" % (sid, sock, lcl))
    out.append("  lock: 0 ")
    out.append("  rx_wake=0000a1b2     tx_wake=00000000     flags: ")
    out.append("  ul_poll: 0 spin cycles 0 usec")
    out.append("  uid=1000 s_flags: REUSEADDR BOUND")
    out.append("  rcvbuf=%d sndbuf=212992" % rcvbuf)
    out.append("  rcvtimeo_ms=0 sndtimeo_ms=0 sigown=0 cmsg= ")
    out.append("  bindtodev=0(0,0x0:0) ttl=64 ")
    out.append("  rx_errno=0 tx_errno=0 so_error=0 os_sock=0,RX")
    out.append("  udpflags: FILT MCAST_REUSEPORT")
    out.append("  rcv: q_pkts=0 reap=0 tot_pkts=%d" % added)
    total = added + oflow + mem
    pct = oflow * 100 // total if total else 0
    out.append("  rcv: oflow_drop=%d(%d%%) mem_drop=%d eagain=0 pktinfo=0 q_max_pkts=%d"
               % (oflow, pct, mem, 103 if oflow else 12))
    out.append("  rcv: os=0(0%) os_slow=0 os_error=0")
    out.append("  snd: q=0+0 ul=0 os=0(0%)")
    out.append("  snd: LOCK cp=0(0%) pkt=0(0%) snd=0(0%) poll=0(0%) defer=0(0%)")
    out.append("  snd: eagain=0 spin=0 block=0")
    out.append(RULE)


def tcp_socket(out, sid, sock):
    out.append("TCP %d:%d lcl=10.20.0.5:9000 rmt=10.20.0.9:41000 ESTABLISHED" % (sid, sock))
    out.append("  lock: 0 ")
    out.append("  uid=1000 s_flags: BOUND")
    out.append("  rcvbuf=131072 sndbuf=131072")
    out.append("  rcv: nxt-max=00000000 isn=0 wnd=65535 rob_n=0 recv1_n=0 recv2_n=0")
    out.append(RULE)


def stack(out, names, sid, name, devs, rxq_cap, sockets, stats, opts, pressure=False,
          cut_after_sockets=False):
    netif_dump(out, sid, name, 4100 + sid, devs, rxq_cap, pressure)
    out.append("--------------------- sockets ------------------------------")
    for s in sockets:
        if s == "tcp":
            tcp_socket(out, sid, 0)
        else:
            udp_socket(out, sid, *s)
    if cut_after_sockets:
        return
    # stack_stats: ci_dump_stats "%s: %u" (stats_dump.h)
    out.append("-------------------- ci_netif_stats: %d ---------------------" % sid)
    for n in names:
        out.append("%s: %d" % (n, stats.get(n, 0)))
    out.append("-------------------- more_stats: %d -------------------------" % sid)
    out.append("TCP_ESTABLISHED: 1")
    out.append("TCP_STATE_UDP: %d" % len(sockets))
    out.append("udp_tot_recv_drops_ul: %d" % sum(s[4] for s in sockets if s != "tcp"))
    out.append("--------------------- ci_ip_stats: %d -----------------------" % sid)
    out.append("in_recvs: 0")
    out.append("in_discards: 0")
    opts_dump(out, opts)
    out.append("--------------------- stack time ---------------------------")
    out.append("          sched_ticks: 5a3c2")
    out.append("                  khz: 2900000")
    out.append("--------------------- process env --------------------------")
    out.append("--------------------------------------------")
    out.append("pid: %d  ppid: 1  uid: 1000" % (4100 + sid))


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    names = stats_names(sys.argv[1])
    outdir = sys.argv[2]
    busy = {"rx_evs": 48211033, "k_polls": 1022, "u_polls": 9911023, "spin_udp_recv": 77102911}

    out = []  # quiet: one stack, nothing dropped
    stack(out, names, 0, "", ["enp1s0f0"], 512,
          [(2, "10.20.0.5:5000", 212992, 0, 0, 1200334), "tcp"], busy, {})
    write(outdir + "/quiet.txt", out)

    out = []  # oflow: a slow reader's sockets overflow their buffers
    stack(out, names, 1, "md", ["enp1s0f0"], 1024,
          [(3, "239.1.1.1:31001", 212992, 48211, 0, 9911023),
           (4, "239.1.1.2:31002", 212992, 0, 0, 8110022),
           (5, "239.1.1.2:31002", 212992, 17, 0, 811),
           (6, "[fd00::5]:31003", 425984, 4096, 0, 1000000)],
          busy, {"EF_RXQ_SIZE": 1024, "EF_UDP_RCVBUF": 212992})
    stack(out, names, 2, "", ["enp1s0f0"], 512,
          [(2, "10.20.0.5:6000", 212992, 0, 0, 55)], {}, {})
    write(outdir + "/oflow.txt", out)

    out = []  # memory pressure: packet buffers exhausted, the RX ring not refilled
    pressure = dict(busy, memory_pressure_enter=37, memory_pressure_exit_poll=30,
                    memory_pressure_exit_recv=6, memory_pressure_drops=91234,
                    refill_rx_limited=5120, refill_buf_limited=2210, reap_rx_limited=611,
                    reap_buf_limited=93, bufset_alloc_fails=4, udp_rx_no_match_drops=12)
    stack(out, names, 3, "feed", ["enp1s0f0", "enp1s0f1"], 512,
          [(7, "239.2.2.1:41001", 4194304, 0, 88001, 70123456),
           (8, "239.2.2.2:41002", 4194304, 0, 3233, 4123456)],
          pressure, {"EF_MAX_PACKETS": 32768, "EF_RXQ_SIZE": 512}, pressure=True)
    write(outdir + "/memory-pressure.txt", out)

    out = []  # truncated: a dump cut off inside its second stack's sockets
    stack(out, names, 1, "md", ["enp1s0f0"], 1024,
          [(3, "239.1.1.1:31001", 212992, 500, 0, 99000)], busy, {})
    stack(out, names, 4, "cut", ["enp1s0f0"], 1024,
          [(3, "239.1.1.9:31009", 212992, 70, 0, 7000)], {}, {}, cut_after_sockets=True)
    lines = out[:-8]  # into the middle of the last socket, before its rcv: lines
    write(outdir + "/truncated.txt", lines)


if __name__ == "__main__":
    main()
