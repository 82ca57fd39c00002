# shellcheck shell=bash disable=SC2317 # the _sc_*_snap helpers are called through _sc_poll
# Drop scenarios for the integration tests (sourced after lib.sh, not run).
#
# Each scenario_* function produces one real kind of packet drop inside
# network namespaces the caller made, the way a user would meet it (a slow
# reader, a full accept queue, a shaped link...), and prints ONE line of JSON
# on stdout: the increments of the kernel's own counters it caused, read
# before and after inside the same namespace. Sources and key names:
#   nstat (/proc/net/snmp + netstat)  the nstat name, e.g. "UdpRcvbufErrors"
#   /proc/net/softnet_stat            "softnet_dropped" (col 2), "softnet_time_squeeze" (col 3)
#   ip -s -j link                     "<dev>_rx_dropped"
#   tc -s -j qdisc                    "qdisc_drops" (sum over the leaf qdiscs)
# Every increment is reported, 0 included. The recipes are those of
# docs/COUNTERS.md ("Producing each drop"), checked on the 2-CPU 6.18 VM.
#
# Usage (run them in the main shell, not in $(...), so that lib.sh's PIDS
# cleanup sees what they start):
#   scenario_udp_slow_receiver NS [N] >"$TMP/udp.json"
#   scenario_tcp_prune NS
#   scenario_listen_overflow NS [CONNECTS]
#   scenario_backlog NS                 # needs 2 CPUs and nft (package nftables)
#   scenario_qdisc NS_A NS_B            # namespaces from make_pair
#   scenario_listen_fixed NS
# The functions stop the servers and senders they started before returning
# (the drops have happened by then), so one scenario does not disturb the
# next; they are also in PIDS so that lib.sh kills them if the test dies
# half-way. Settings they make on devices of the namespace (a qdisc, an nft
# table, rps_cpus, somaxconn) stay until the namespace is deleted. If a
# function is nonetheless run in a subshell and fails, it still stops its own
# processes before exiting. Progress goes to stderr via lib.sh's log.

_SC_OWN=() # processes started by the running scenario

# _sc_bg CMD...: like lib.sh's bg, and remembered so the scenario can stop it.
_sc_bg() {
  "$@" &
  PIDS+=($!)
  _SC_OWN+=($!)
}

# _sc_stop: stops the processes the running scenario started.
_sc_stop() {
  local pid
  for pid in "${_SC_OWN[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${_SC_OWN[@]}"; do wait "$pid" 2>/dev/null || true; done
  _SC_OWN=()
}

_sc_fail() {
  _sc_stop
  fail "$@"
}

# _sc_dir NAME: a fresh scratch directory for one scenario run.
_sc_dir() {
  mktemp -d "$TMP/scenario-$1.XXXXXX"
}

# _sc_wait_ready FILE WHAT [TENTHS]: waits until FILE has a line starting with
# "ready" (the python helpers print it once they are set up).
_sc_wait_ready() {
  local i
  for i in $(seq "${3:-50}"); do
    grep -q '^ready' "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  _sc_fail "$2 did not start: $(cat "$1" "${1%.out}.err" 2>/dev/null | tail -n 5)"
}

# _sc_nstat NS FILE: absolute nstat values of namespace NS into FILE.
_sc_nstat() {
  NSTAT_HISTORY="$TMP/scenario-nstat.hist" ip netns exec "$1" nstat -asz >"$2"
}

# _sc_softnet FILE: /proc/net/softnet_stat into FILE. It is global to the
# machine: every namespace sees the same rows (docs/COUNTERS.md, Global versus per namespace).
_sc_softnet() {
  cat /proc/net/softnet_stat >"$1"
}

# _sc_get JSON KEY: the integer value of KEY in a flat JSON line (0 if absent).
_sc_get() {
  if [[ $1 =~ \"$2\":\ (-?[0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
}

# _sc_json SPEC...: prints one line of JSON with the increments between two
# snapshots. SPEC is one of
#   nstat:BEFORE:AFTER:Name1,Name2,...   (files from _sc_nstat)
#   softnet:BEFORE:AFTER                 (files from _sc_softnet)
#   link:BEFORE:AFTER:KEY                (ip -s -j link show DEV; rx dropped as KEY)
#   qdisc:BEFORE:AFTER                   (tc -s -j qdisc show dev DEV; leaf drops)
# softnet_stat fields, qdisc drops are u32: deltas are taken modulo 2^32
# (docs/COUNTERS.md, Where the numbers come from: CPUs); softnet rows are
# keyed by the cpu id column (col 13).
_sc_json() {
  python3 -c '
import json, sys

def nstat(path):
    d = {}
    for line in open(path):
        p = line.split()
        if len(p) >= 2 and not p[0].startswith("#"):
            try:
                d[p[0]] = int(p[1])
            except ValueError:
                pass
    return d

def softnet(path):
    rows = {}
    for i, line in enumerate(open(path)):
        f = [int(x, 16) for x in line.split()]
        rows[f[12] if len(f) >= 13 else i] = f
    return rows

def leaf_drops(path):
    qs = json.load(open(path))
    parents = {q["parent"].split(":")[0] for q in qs if "parent" in q}
    return sum(q.get("drops", 0) for q in qs
               if q.get("handle", ":").split(":")[0] not in parents)

out = {}
for spec in sys.argv[1:]:
    kind, *args = spec.split(":")
    if kind == "nstat":
        b, a = nstat(args[0]), nstat(args[1])
        for name in args[2].split(","):
            out[name] = a.get(name, 0) - b.get(name, 0)
    elif kind == "softnet":
        b, a = softnet(args[0]), softnet(args[1])
        common = [c for c in a if c in b]
        out["softnet_dropped"] = sum((a[c][1] - b[c][1]) % 2**32 for c in common)
        out["softnet_time_squeeze"] = sum((a[c][2] - b[c][2]) % 2**32 for c in common)
    elif kind == "link":
        b, a = (json.load(open(p))[0]["stats64"]["rx"]["dropped"] for p in args[:2])
        out[args[2]] = a - b
    elif kind == "qdisc":
        out["qdisc_drops"] = (leaf_drops(args[1]) - leaf_drops(args[0])) % 2**32
print(json.dumps(out))
' "$@"
}

# _sc_poll SNAPFN KEY DEADLINE_S [STABLE_POLLS]: calls SNAPFN (which takes
# the "after" snapshots and prints the JSON line) every 0.2 s until KEY is > 0
# and the whole JSON has not changed for STABLE_POLLS polls (default 3, i.e.
# 0.6 s), or until DEADLINE_S seconds have passed. Sets SC_JSON to the last
# JSON line; returns 1 if KEY never became > 0.
_sc_poll() {
  local fn=$1 key=$2 deadline=$(( $(date +%s%N) + $3 * 1000000000 )) need=${4:-3}
  local prev="" same=0
  while :; do
    SC_JSON=$("$fn")
    if [ "$SC_JSON" = "$prev" ]; then same=$((same + 1)); else same=0; fi
    prev=$SC_JSON
    if [ "$(_sc_get "$SC_JSON" "$key")" -gt 0 ] && [ "$same" -ge "$need" ]; then
      return 0
    fi
    if [ "$(date +%s%N)" -ge "$deadline" ]; then
      [ "$(_sc_get "$SC_JSON" "$key")" -gt 0 ]
      return
    fi
    sleep 0.2
  done
}

# --- 1. socket: UDP receive buffer ------------------------------------------
# scenario_udp_slow_receiver NS [N]: a UDP receiver on 127.0.0.1 in NS with
# SO_RCVBUF 2048 (the kernel doubles it and enforces a floor, ~4.6 KB) that
# never reads, sent N (default 3000) datagrams of 200 bytes. Buffer limits
# count skb truesize (docs/COUNTERS.md, socket), so only a handful fit and every other
# datagram is refused in __udp_enqueue_schedule_skb (docs/COUNTERS.md, socket; Producing each drop).
# Prints {"UdpRcvbufErrors": n, "UdpInErrors": n} (InErrors is the total that
# includes RcvbufErrors, docs/COUNTERS.md, Counting each drop once: both rise by the same amount here).
scenario_udp_slow_receiver() {
  local ns=$1 n=${2:-3000} d port
  d=$(_sc_dir udp)
  _sc_bg ip netns exec "$ns" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.bind(("127.0.0.1", 0))
print("ready", s.getsockname()[1], flush=True)
while True:
    time.sleep(3600)' >"$d/recv.out" 2>"$d/recv.err"
  _sc_wait_ready "$d/recv.out" "the UDP receiver in $ns"
  port=$(awk '/^ready/ { print $2 }' "$d/recv.out")
  _sc_nstat "$ns" "$d/before"
  ip netns exec "$ns" python3 -c '
import socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(n):
    s.sendto(b"x" * 200, ("127.0.0.1", port))' "$n" "$port" \
    || _sc_fail "the UDP sender in $ns failed"
  _sc_udp_snap() {
    _sc_nstat "$ns" "$d/after"
    _sc_json "nstat:$d/before:$d/after:UdpRcvbufErrors,UdpInErrors"
  }
  _sc_poll _sc_udp_snap UdpRcvbufErrors 5 2 \
    || _sc_fail "udp_slow_receiver: no UdpRcvbufErrors after $n datagrams ($SC_JSON)"
  _sc_stop
  log "udp_slow_receiver in $ns: $SC_JSON"
  echo "$SC_JSON"
}

# --- 2. socket: TCP receive-queue pruning -----------------------------------
# scenario_tcp_prune NS: a TCP connection over 127.0.0.1 in NS. The client
# writes 100-byte TCP_NODELAY segments non-stop; the server reads for 0.5 s,
# then sets SO_RCVBUF 2048 and stops reading (docs/COUNTERS.md, Producing each drop). The window it
# advertised while it had its default buffer (tcp_rmem[1]) lets the client
# keep sending, but the receive memory is now far over sk_rcvbuf: the kernel
# collapses the queue (PruneCalled, TCPRcvCollapsed), fails to free enough and
# refuses the segment (RcvPruned, then TCPRcvQDrop for that same segment,
# docs/COUNTERS.md, Counting each drop once), and the client retransmits it (TcpRetransSegs).
# Tuning, measured on the 6.18 VM (10 + 5 runs): the recipe works as written,
# every run gave PruneCalled 1-2, RcvPruned 1, TCPRcvQDrop 1, RetransSegs 2-10.
# What matters is that the buffer shrinks AFTER the connection advertised a
# large window. The literal issue recipe, "a server that accepts and never
# reads while a client keeps sending", gives no drop at all, with the default
# buffer or with SO_RCVBUF 2048 set on the listener before the handshake:
# flow control (zero-window advertisements, TCPToZeroWindowAdv) stops the
# sender first. Reading first is not strictly needed (shrinking right after
# accept also dropped), but it is the realistic case; 0.5 s is enough.
# Only about one segment is dropped per connection: after it the receiver
# advertises a zero window and the sender waits. Stopping the sender once the
# counters are steady (0.6 s) leaves time for the RTO retransmission (200 ms).
# Prints TcpExtPruneCalled, TcpExtRcvPruned, TcpExtTCPRcvQDrop,
# TcpExtTCPOFODrop, TcpExtOfoPruned, TcpExtTCPZeroWindowDrop,
# TcpExtTCPBacklogDrop, TcpRetransSegs and TcpExtTCPRcvCollapsed.
scenario_tcp_prune() {
  local ns=$1 d
  d=$(_sc_dir prune)
  _sc_nstat "$ns" "$d/before"
  _sc_bg ip netns exec "$ns" python3 -c '
import socket, threading, time
L = socket.socket()
L.bind(("127.0.0.1", 0))
L.listen(1)
c = socket.socket()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.connect(L.getsockname())
s, _ = L.accept()

def send():  # 100-byte writes for as long as the process lives
    c.setblocking(False)
    while True:
        try:
            c.send(b"x" * 100)
        except BlockingIOError:
            time.sleep(0.001)

threading.Thread(target=send, daemon=True).start()
s.setblocking(False)
end = time.time() + 0.5
while time.time() < end:  # read: the server advertises a large window
    try:
        s.recv(65536)
    except BlockingIOError:
        time.sleep(0.001)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
print("ready rcvbuf", s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), flush=True)
while True:  # and never read again
    time.sleep(3600)' >"$d/tcp.out" 2>"$d/tcp.err"
  _sc_wait_ready "$d/tcp.out" "the TCP pair in $ns"
  _sc_prune_snap() {
    _sc_nstat "$ns" "$d/after"
    _sc_json "nstat:$d/before:$d/after:TcpExtPruneCalled,TcpExtRcvPruned,TcpExtTCPRcvQDrop,TcpExtTCPOFODrop,TcpExtOfoPruned,TcpExtTCPZeroWindowDrop,TcpExtTCPBacklogDrop,TcpRetransSegs,TcpExtTCPRcvCollapsed"
  }
  _sc_poll _sc_prune_snap TcpExtRcvPruned 10 \
    || _sc_fail "tcp_prune: no TcpExtRcvPruned within 10 s ($SC_JSON)"
  _sc_stop
  log "tcp_prune in $ns: $SC_JSON"
  echo "$SC_JSON"
}

# --- 3. listen: accept queue overflow ---------------------------------------
# scenario_listen_overflow NS [CONNECTS]: a listener on 127.0.0.1 in NS with
# listen(fd, 2) that never accepts, and CONNECTS (default 20) non-blocking
# connects from one process that keeps the sockets open. The accept queue
# holds backlog+1 = 3 connections; every further SYN finds it full and is
# dropped in tcp_conn_request (docs/COUNTERS.md, listen; Producing each drop). On loopback the SYNs are
# handled at once, so the clients are closed after 0.5 s, before their first
# SYN retransmission (1 s; on 6.18 the next ones follow every second, see
# net.ipv4.tcp_syn_linear_timeouts): without that the counter never stops
# moving. The increment is then CONNECTS - 3 (17 for 20 connects).
# Prints TcpExtListenOverflows, TcpExtListenDrops (a superset: docs/COUNTERS.md, Counting each drop once),
# TcpExtTCPReqQFullDrop (0 unless syncookies are off) and
# TcpExtTCPReqQFullDoCookies.
scenario_listen_overflow() {
  local ns=$1 connects=${2:-20} d port
  d=$(_sc_dir listen)
  _sc_bg ip netns exec "$ns" python3 -c '
import socket, time
L = socket.socket()
L.bind(("127.0.0.1", 0))
L.listen(2)
print("ready", L.getsockname()[1], flush=True)
while True:
    time.sleep(3600)' >"$d/listener.out" 2>"$d/listener.err"
  _sc_wait_ready "$d/listener.out" "the listener in $ns"
  port=$(awk '/^ready/ { print $2 }' "$d/listener.out")
  _sc_nstat "$ns" "$d/before"
  _sc_bg ip netns exec "$ns" python3 -c '
import socket, sys, time
n, port = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    socks.append(s)
print("ready", flush=True)
while True:
    time.sleep(3600)' "$connects" "$port" >"$d/clients.out" 2>"$d/clients.err"
  local clients=$!
  _sc_wait_ready "$d/clients.out" "the clients in $ns"
  sleep 0.5
  kill "$clients" 2>/dev/null || true
  wait "$clients" 2>/dev/null || true
  _sc_listen_snap() {
    _sc_nstat "$ns" "$d/after"
    _sc_json "nstat:$d/before:$d/after:TcpExtListenOverflows,TcpExtListenDrops,TcpExtTCPReqQFullDrop,TcpExtTCPReqQFullDoCookies"
  }
  _sc_poll _sc_listen_snap TcpExtListenOverflows 5 2 \
    || _sc_fail "listen_overflow: no TcpExtListenOverflows after $connects connects ($SC_JSON)"
  _sc_stop
  log "listen_overflow in $ns: $SC_JSON"
  echo "$SC_JSON"
}

# --- 4. backlog: per-CPU input queue ----------------------------------------
# scenario_backlog NS: per-CPU backlog drops on lo of NS (docs/COUNTERS.md, backlog; Producing each drop).
# Loopback delivers through netif_rx, i.e. through the per-CPU backlog queue.
# RPS on NS's lo (rps_cpus = 2) steers every packet to CPU1's queue, an nft
# `inet` table in NS with an input chain of 3000 non-matching rules makes each
# packet slow to process there, and a sender pinned to CPU0 fills CPU1's
# queue beyond net.core.netdev_max_backlog (1000, global: not changed here)
# faster than CPU1 drains it, so enqueue_to_backlog drops (softnet col 2, and
# rx_dropped of lo). The receiver never reads (tiny SO_RCVBUF), which keeps
# the socket side cheap and ICMP out of the picture.
# rps_cpus is written through `ip netns exec`, which mounts NS's own sysfs;
# the root namespace's lo is checked before and after (docs/COUNTERS.md,
# Producing each drop, warns that /sys of the host is otherwise what gets written).
# softnet_stat is GLOBAL to the machine: every namespace sees the same rows
# (docs/COUNTERS.md, Global versus per namespace), so softnet_dropped / softnet_time_squeeze include any other
# backlog drop on the machine during the run. The queue is per CPU and shared
# by all namespaces, so while it is full, a packet of ANY namespace (the host
# included) that passes through CPU1's backlog is dropped too: in 8 runs
# softnet_dropped exceeded lo_rx_dropped (NS's own lo) by 0-2 such packets.
# Do not run this next to tests that expect no loss (ctest runs the
# integration tests RUN_SERIAL). time_squeeze stays small (0-5 here).
# Needs 2 online CPUs and nft (Debian package nftables).
# Prints {"softnet_dropped": n, "softnet_time_squeeze": n, "lo_rx_dropped": n}.
scenario_backlog() {
  local ns=$1 d port root_rps root_rps_after ns_rps i t0
  command -v nft >/dev/null || _sc_fail "backlog: nft not found (install the Debian package nftables)"
  if ! { taskset -c 0 true && taskset -c 1 true; } 2>/dev/null; then
    _sc_fail "backlog: needs CPUs 0 and 1 online and usable (RPS to CPU1, sender on CPU0)"
  fi
  d=$(_sc_dir backlog)

  # The slow receive path: 3000 rules that never match (ports 1-3000; the
  # receiver's port is ephemeral, above 32767).
  {
    echo "table inet dropscope_scenario {"
    echo "  chain input {"
    echo "    type filter hook input priority 0; policy accept;"
    for i in $(seq 1 3000); do echo "    udp dport $i counter"; done
    echo "  }"
    echo "}"
  } >"$d/rules.nft"
  ip netns exec "$ns" nft delete table inet dropscope_scenario 2>/dev/null || true
  ip netns exec "$ns" nft -f "$d/rules.nft" || _sc_fail "backlog: nft could not load the rules in $ns"

  # RPS to CPU1, on NS's lo only.
  root_rps=$(cat /sys/class/net/lo/queues/rx-0/rps_cpus)
  ip netns exec "$ns" sh -c 'echo 2 > /sys/class/net/lo/queues/rx-0/rps_cpus' \
    || _sc_fail "backlog: could not set rps_cpus on lo of $ns"
  root_rps_after=$(cat /sys/class/net/lo/queues/rx-0/rps_cpus)
  if [ "$root_rps_after" != "$root_rps" ]; then
    echo "$root_rps" >/sys/class/net/lo/queues/rx-0/rps_cpus || true
    _sc_fail "backlog: writing rps_cpus in $ns changed the root namespace's lo ($root_rps -> $root_rps_after; restored)"
  fi
  ns_rps=$(ip netns exec "$ns" cat /sys/class/net/lo/queues/rx-0/rps_cpus)
  [ "$((16#$ns_rps))" -eq 2 ] || _sc_fail "backlog: rps_cpus on lo of $ns reads $ns_rps, not 2"

  _sc_bg ip netns exec "$ns" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.bind(("127.0.0.1", 0))
print("ready", s.getsockname()[1], flush=True)
while True:
    time.sleep(3600)' >"$d/recv.out" 2>"$d/recv.err"
  _sc_wait_ready "$d/recv.out" "the UDP receiver in $ns"
  port=$(awk '/^ready/ { print $2 }' "$d/recv.out")

  _sc_softnet "$d/softnet.before"
  ip -n "$ns" -s -j link show lo >"$d/link.before"
  _sc_backlog_snap() {
    _sc_softnet "$d/softnet.after"
    ip -n "$ns" -s -j link show lo >"$d/link.after"
    _sc_json "softnet:$d/softnet.before:$d/softnet.after" \
      "link:$d/link.before:$d/link.after:lo_rx_dropped"
  }
  _sc_bg ip netns exec "$ns" taskset -c 0 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst, data = ("127.0.0.1", int(sys.argv[1])), b"x" * 64
while True:
    s.sendto(data, dst)' "$port" >"$d/send.out" 2>"$d/send.err"
  local sender=$!
  # Flood for 1 s once the first drops are seen (8 s at most), then stop the
  # sender and wait until the backlog has drained and the counters are steady.
  t0=$(date +%s%N)
  while :; do
    sleep 0.25
    SC_JSON=$(_sc_backlog_snap)
    [ "$(_sc_get "$SC_JSON" softnet_dropped)" -gt 0 ] && [ $(( $(date +%s%N) - t0 )) -ge 1000000000 ] && break
    [ $(( $(date +%s%N) - t0 )) -lt 8000000000 ] || break
    kill -0 "$sender" 2>/dev/null || _sc_fail "backlog: the sender stopped: $(tail -n 3 "$d/send.err")"
  done
  kill "$sender" 2>/dev/null || true
  wait "$sender" 2>/dev/null || true
  _sc_poll _sc_backlog_snap softnet_dropped 5 2 \
    || _sc_fail "backlog: no softnet drop ($SC_JSON)"
  _sc_stop
  log "backlog in $ns: $SC_JSON"
  echo "$SC_JSON"
}

# --- 5. qdisc: transmit queue limit -----------------------------------------
# scenario_qdisc NS_A NS_B: NS_A and NS_B joined by make_pair (vs in NS_A at
# 10.88.0.1, vr in NS_B at 10.88.0.2). A pfifo with limit 5 alone on vs drops
# nothing, because veth hands each packet over synchronously and the queue
# never builds (docs/COUNTERS.md, Producing each drop); so a tbf bottleneck (10 Mbit/s) goes in front
# of it: root tbf 1:, child pfifo 10: limit 5. 20000 UDP datagrams of 100
# bytes sent as fast as python can from NS_A to a reading receiver in NS_B
# arrive much faster than 10 Mbit/s, so the pfifo is full and refuses most of
# them (qdisc_drop). sendto() still succeeds (no IP_RECVERR: docs/COUNTERS.md, proto): only the
# sender's Udp SndbufErrors and Ip OutDiscards record it, by the same amount
# (docs/COUNTERS.md, qdisc). Only the leaf's drops are counted: tbf reports its child's drops too.
# Prints {"qdisc_drops": n, "UdpSndbufErrors": n, "IpOutDiscards": n}.
scenario_qdisc() {
  local a=$1 b=$2 d port
  d=$(_sc_dir qdisc)
  ip -n "$a" link show vs >/dev/null 2>&1 || _sc_fail "qdisc: $a has no device vs (make it with make_pair)"
  ip netns exec "$a" tc qdisc replace dev vs root handle 1: tbf rate 10mbit burst 10kb latency 1s \
    || _sc_fail "qdisc: could not add tbf on vs in $a"
  ip netns exec "$a" tc qdisc replace dev vs parent 1:1 handle 10: pfifo limit 5 \
    || _sc_fail "qdisc: could not add pfifo on vs in $a"
  _sc_bg ip netns exec "$b" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.88.0.2", 0))
print("ready", s.getsockname()[1], flush=True)
while True:
    s.recv(65536)' >"$d/recv.out" 2>"$d/recv.err"
  _sc_wait_ready "$d/recv.out" "the UDP receiver in $b"
  port=$(awk '/^ready/ { print $2 }' "$d/recv.out")
  # One datagram first, so that ARP has resolved 10.88.0.2 before the count.
  ip netns exec "$a" python3 -c '
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("10.88.0.2", int(sys.argv[1])))' "$port"
  sleep 0.2
  _sc_nstat "$a" "$d/before"
  ip netns exec "$a" tc -s -j qdisc show dev vs >"$d/qdisc.before"
  ip netns exec "$a" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst = ("10.88.0.2", int(sys.argv[1]))
for _ in range(20000):
    s.sendto(b"x" * 100, dst)' "$port" || _sc_fail "qdisc: the sender in $a failed"
  _sc_qdisc_snap() {
    _sc_nstat "$a" "$d/after"
    ip netns exec "$a" tc -s -j qdisc show dev vs >"$d/qdisc.after"
    _sc_json "qdisc:$d/qdisc.before:$d/qdisc.after" \
      "nstat:$d/before:$d/after:UdpSndbufErrors,IpOutDiscards"
  }
  _sc_poll _sc_qdisc_snap qdisc_drops 5 2 || _sc_fail "qdisc: no qdisc drop on vs in $a ($SC_JSON)"
  _sc_stop
  log "qdisc $a -> $b: $SC_JSON"
  echo "$SC_JSON"
}

# --- 6. listen: the settings change that ends the drops ---------------------
# scenario_listen_fixed NS: scenario 6 of the issue, a fix seen in the data.
# In NS (somaxconn is per netns: docs/COUNTERS.md, Global versus per
# namespace) net.core.somaxconn is set
# to 4; a listener calls listen(fd, 4096), which the kernel caps to 4, and
# never accepts; a client makes 20 non-blocking connects every 0.5 s and keeps
# them open. The accept queue (backlog+1 = 5) is full after the first wave, so
# every later SYN overflows (docs/COUNTERS.md, listen). Once overflows are seen (and 1 s
# has passed), somaxconn goes to 4096 and the listener calls listen(fd, 4096)
# again (on SIGUSR1), which raises the limit of the live socket to 4096: the
# waves, and the SYN retransmissions of the earlier ones, now fit. After a
# settle time of 0.3 s the counters are read again over 1.5 s of waves.
# Prints one line:
#   {"before": {"TcpExtListenOverflows": n, "TcpExtListenDrops": n},
#    "after": {"TcpExtListenOverflows": 0, "TcpExtListenDrops": 0},
#    "start_ns": t, "changed_ns": t, "after_from_ns": t, "after_to_ns": t}
# "before" covers start_ns..changed_ns, "after" after_from_ns..after_to_ns
# (changed_ns + settle time); changed_ns (epoch ns) is taken once the sysctl
# is set and the listener has re-listened. Fails if "after" is not 0.
scenario_listen_fixed() {
  local ns=$1 d port start_ns changed_ns from_ns to_ns before after
  d=$(_sc_dir fixed)
  ip netns exec "$ns" sysctl -qw net.core.somaxconn=4 || _sc_fail "listen_fixed: cannot set somaxconn in $ns"
  _sc_bg ip netns exec "$ns" python3 -c '
import signal, socket, time
L = socket.socket()
L.bind(("127.0.0.1", 0))
L.listen(4096)  # capped to net.core.somaxconn (4) by the kernel
def relisten(*_):
    L.listen(4096)  # takes the new somaxconn
    print("relistened", flush=True)
signal.signal(signal.SIGUSR1, relisten)
print("ready", L.getsockname()[1], flush=True)
while True:
    time.sleep(3600)' >"$d/listener.out" 2>"$d/listener.err"
  local listener=$!
  _sc_wait_ready "$d/listener.out" "the listener in $ns"
  port=$(awk '/^ready/ { print $2 }' "$d/listener.out")
  _sc_fixed_snap() { # FILE-PREFIX: counters since the $1 snapshot
    _sc_nstat "$ns" "$d/$1.after"
    _sc_json "nstat:$d/$1.before:$d/$1.after:TcpExtListenOverflows,TcpExtListenDrops"
  }
  _sc_nstat "$ns" "$d/p1.before"
  start_ns=$(date +%s%N)
  _sc_bg ip netns exec "$ns" python3 -c '
import socket, sys, time
port = int(sys.argv[1])
socks = []
print("ready", flush=True)
while True:
    for _ in range(20):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    time.sleep(0.5)' "$port" >"$d/waves.out" 2>"$d/waves.err"
  _sc_wait_ready "$d/waves.out" "the connect waves in $ns"
  local i
  for i in $(seq 50); do
    sleep 0.2
    before=$(_sc_fixed_snap p1)
    [ "$i" -ge 5 ] && [ "$(_sc_get "$before" TcpExtListenOverflows)" -gt 0 ] && break
  done
  [ "$(_sc_get "$before" TcpExtListenOverflows)" -gt 0 ] \
    || _sc_fail "listen_fixed: no overflow with somaxconn=4 ($before)"

  ip netns exec "$ns" sysctl -qw net.core.somaxconn=4096 || _sc_fail "listen_fixed: cannot set somaxconn in $ns"
  kill -USR1 "$listener"
  for i in $(seq 50); do
    grep -q relistened "$d/listener.out" && break
    sleep 0.1
  done
  grep -q relistened "$d/listener.out" || _sc_fail "listen_fixed: the listener did not re-listen"
  changed_ns=$(date +%s%N)
  before=$(_sc_fixed_snap p1)

  sleep 0.3 # settle
  _sc_nstat "$ns" "$d/p2.before"
  from_ns=$(date +%s%N)
  sleep 1.5 # three more waves
  after=$(_sc_fixed_snap p2)
  to_ns=$(date +%s%N)
  _sc_stop
  SC_JSON="{\"before\": $before, \"after\": $after, \"start_ns\": $start_ns, \"changed_ns\": $changed_ns, \"after_from_ns\": $from_ns, \"after_to_ns\": $to_ns}"
  log "listen_fixed in $ns: $SC_JSON"
  [ "$(_sc_get "$after" TcpExtListenOverflows)" -eq 0 ] \
    || fail "listen_fixed: overflows went on after somaxconn=4096 ($after)"
  echo "$SC_JSON"
}

# --- the demo's fleet -------------------------------------------------------
# scenario_demo_fleet PREFIX: `make demo`'s fleet, for the demo and the test
# that checks its diagnosis (test_demo_findings): eight hosts on a bridge
# (make_fleet), each with a collector reporting to the running aggregator; a
# sender fires synchronized bursts at host1-host4 every 500 ms into receivers
# too small to keep up; host5 has a listener that never accepts. Everything
# keeps running (in PIDS) until the caller exits; prints nothing on stdout.
scenario_demo_fleet() {
  local p=$1 i
  log "creating 8 hosts and a sender on a bridge"
  make_fleet "$p" 8 1
  for i in $(seq 1 8); do
    start_collector "$p-h$i" "host$i" --interval 1s --burst-threshold 20
  done
  for i in 1 2 3 4; do # receivers that cannot keep up
    bg ip netns exec "$p-h$i" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("0.0.0.0", 7000))
while True:
    time.sleep(0.25)
    s.setblocking(False)
    try:
        while True:
            s.recv(65536)
    except BlockingIOError:
        pass'
  done
  sleep 2
  log "synchronized bursts at host1-host4 every 500 ms; a full accept queue on host5"
  bg ip netns exec "$p-s1" "$BIN_DIR/burstgen" --dest 10.90.0.1:7000 --dest 10.90.0.2:7000 \
    --dest 10.90.0.3:7000 --dest 10.90.0.4:7000 --bursts 1000000 --every 500ms --packets 150 \
    --payload 64 --background-pps 200 >/dev/null
  scenario_listen_overflow "$p-h5" 40 >/dev/null
}
