#!/usr/bin/env bash
# Collector CPU with the eBPF backend at a 100 us tick, idle and under
# load, side by side in one run with (a) the netlink backend at 1 ms and
# (b) netdata (Debian's package, default configuration, its 1 s minimum),
# each measured by the CPU time (utime+stime) of its process tree; and the
# eBPF programs' cost per packet: the CPU the sender's path takes per
# packet (sender process + ksoftirqd) with the programs attached and with
# them detached. Load: BENCH_PPS packets/s (default 250000) of 64-byte UDP
# from one namespace into another, read by udpsink.
#   sudo BIN_DIR=build/bin BENCH_SECONDS=20 bash tests/bench/bench_ebpf.sh
# netdata is installed with apt-get when BENCH_NETDATA=1 (the default for
# real runs) and missing. CI runs BENCH_SECONDS=2 without netdata.
source "$(dirname "$0")/../integration/lib.sh"
require_root
SECS=${BENCH_SECONDS:-20}
PPS=${BENCH_PPS:-250000}
NETDATA=${BENCH_NETDATA:-$([ "$SECS" -ge 10 ] && echo 1 || echo 0)}
HZ=$(getconf CLK_TCK)

# tree_cpu PID...: CPU seconds of each process and all its descendants.
tree_cpu() {
  python3 - "$HZ" "$@" <<'PY'
import os, sys
hz, roots = int(sys.argv[1]), [int(p) for p in sys.argv[2:]]
stat, kids = {}, {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stat[int(d)] = int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])  # u+s, + dead children
        kids.setdefault(int(f[1]), []).append(int(d))
def total(p):
    return stat.get(p, 0) + sum(total(k) for k in kids.get(p, []))
print(" ".join(f"{total(r) / hz:.3f}" for r in roots))
PY
}
ksoftirqd_cpu() { tree_cpu $(pgrep -x 'ksoftirqd/[0-9]+' | tr '\n' ' '); }
sum() { tr ' ' '\n' | awk '{ s += $1 } END { printf "%.3f", s }'; }
# prog_stats [NAME...]: "runs ns" summed over the programs of those names
# (default: the dropscope tc programs), from the kernel's own accounting
# (enabled below with BPF_ENABLE_STATS).
prog_stats() {
  bpftool prog show --json | python3 -c '
import json, sys
names = sys.argv[1:] or ["ds_ingress", "ds_egress"]
p = [x for x in json.load(sys.stdin) if x.get("name") in names]
print(sum(x.get("run_cnt", 0) for x in p), sum(x.get("run_time_ns", 0) for x in p))' "$@"
}

# The kernel times every BPF program run while a BPF_ENABLE_STATS file
# descriptor is open (no global sysctl is changed): held by this helper.
bg python3 -c '
import ctypes, struct, time
fd = ctypes.CDLL(None, use_errno=True).syscall(321, 32, struct.pack("I", 0), 4)  # bpf(BPF_ENABLE_STATS, RUN_TIME)
if fd < 0: raise SystemExit(f"BPF_ENABLE_STATS failed: errno {ctypes.get_errno()}")
time.sleep(3600)'

S=ds-be-s-$$ R=ds-be-r-$$
make_pair "$S" "$R"
start_aggregator
# collector_ebpf NAME [TICK]: an eBPF collector in R at TICK (100 us), its
# programs attached (skips when this machine cannot run them); its pid in
# $COLLECTOR.
collector_ebpf() {
  start_collector "$R" "$1" --backend ebpf --tick "${2:-100us}" --interval 1s
  COLLECTOR=${PIDS[-1]}
  require_ebpf "$1"
}
# stop_collector: stops $COLLECTOR, on purpose (the netlink one runs on).
stop_collector() {
  kill -TERM "$COLLECTOR"; wait "$COLLECTOR" 2>/dev/null || true
  DAEMONS=("$NETLINK")
}
collector_ebpf "bench-ebpf-$$"
EBPF=$COLLECTOR
start_collector "$R" "bench-netlink-$$" --backend netlink --tick 1ms --interval 1s
NETLINK=${PIDS[-1]}
ND=
if [ "$NETDATA" = 1 ]; then
  if ! command -v netdata >/dev/null; then
    log "installing netdata (Debian package) for the comparison"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq netdata >/dev/null
  fi
  log "netdata $(netdata -v 2>&1 | head -1), default configuration; 15 s to settle"
  bg netdata -D 2>>"$TMP/netdata.log"
  ND=${PIDS[-1]}
  sleep 15
fi
procs=("$EBPF" "$NETLINK" ${ND:+"$ND"})
labels=("ebpf@100us" "netlink@1ms" ${ND:+"netdata@1s"})
sleep 2

# phase NAME TRAFFIC: every process's CPU over SECS seconds, with or without load.
phase() {
  local name=$1 traffic=$2 c0 c1 k0 k1 sender=0 received=0
  c0=($(tree_cpu "${procs[@]}")) k0=$(ksoftirqd_cpu | sum)
  if [ "$traffic" = 1 ]; then
    ip netns exec "$R" taskset -c 1 "$BIN_DIR/udpsink" 10.88.0.2 7100 >"$TMP/sink.out" &
    local sink=$!
    for _ in $(seq 50); do grep -q ready "$TMP/sink.out" && break; sleep 0.1; done
    # One sendmmsg of PPS/1000 packets every ms, pinned to CPU 0 (where the
    # veth delivers them, in the sender's softirq), measured by rusage.
    sender=$(ip netns exec "$S" taskset -c 0 python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{r.ru_utime + r.ru_stime:.3f}")' "$BIN_DIR/burstgen" --dest 10.88.0.2:7100 \
      --bursts $((SECS * 1000)) --every 1ms --packets $((PPS / 1000)) --payload 64)
    kill -TERM "$sink"; wait "$sink" || true
    received=$(awk '/received/ { print $2 }' "$TMP/sink.out")
  else
    sleep "$SECS"
  fi
  c1=($(tree_cpu "${procs[@]}")) k1=$(ksoftirqd_cpu | sum)
  python3 - "$name" "$SECS" "$sender" "$k0" "$k1" "${received:-0}" "$TMP/path-$traffic.txt" \
    "${labels[*]}" "${c0[*]}" "${c1[*]}" <<'PY'
import sys
name, secs, sender, k0, k1, received, path_file = sys.argv[1:8]
secs, sender, k0, k1, received = float(secs), float(sender), float(k0), float(k1), int(received)
labels, c0, c1 = sys.argv[8].split(), [float(x) for x in sys.argv[9].split()], [float(x) for x in sys.argv[10].split()]
line = f"{name:<26}" + "  ".join(f"{l} {100 * (b - a) / secs:6.2f}%" for l, a, b in zip(labels, c0, c1))
if received:
    path = 1e9 * (sender + k1 - k0) / received
    line += f"  | {received / secs / 1000:.0f}k pkt/s, sender path {path:.0f} ns/pkt"
    open(path_file, "a").write(f"{path}\n")
print(line)
PY
}

log "idle, then $((PPS / 1000))k packets/s, $SECS s each (CPU as % of one core)"
phase "idle" 0
p0=($(prog_stats))
phase "load, programs attached" 1
p1=($(prog_stats))
stop_collector
procs=("${procs[@]:1}") labels=("${labels[@]:1}")
mv "$TMP/path-1.txt" "$TMP/path-attached.txt"
sleep 1
phase "load, programs detached" 1
with=$(cat "$TMP/path-attached.txt") without=$(cat "$TMP/path-1.txt")
python3 -c '
import sys
runs, ns = int(sys.argv[2]) - int(sys.argv[1]), int(sys.argv[4]) - int(sys.argv[3])
w, wo = float(sys.argv[5]), float(sys.argv[6])
print(f"tc program, as the kernel timed it: {ns / max(runs, 1):.0f} ns per packet ({runs} runs)")
print(f"sender path: {w:.0f} ns/pkt attached, {wo:.0f} detached ({w - wo:+.0f} ns: the difference is noise unless it exceeds the run time above)")' \
  "${p0[0]}" "${p1[0]}" "${p0[1]}" "${p1[1]}" "$with" "$without"

# --- latency: a UDP ping-pong through the programs, attached and detached in
# turns. Blocking sockets on both sides (the wake-up is part of what a
# reader pays); the server echoes in R, the client pings from S.
ROUNDS=$([ "$SECS" -ge 10 ] && echo 5 || echo 1) PINGS=$([ "$SECS" -ge 10 ] && echo 20000 || echo 2000)
bg ip netns exec "$R" "$BIN_DIR/pingpong" server 10.88.0.2 7200 >"$TMP/pong.out"
wait_for 10 "the pingpong server" grep -q ready "$TMP/pong.out"
for round in $(seq "$ROUNDS"); do
  collector_ebpf "bench-pp-$round-$$"
  sleep 0.5 # attached: the programs are loaded before the links
  ip netns exec "$S" "$BIN_DIR/pingpong" client 10.88.0.2 7200 "$PINGS" >>"$TMP/pp-attached.txt"
  stop_collector
  ip netns exec "$S" "$BIN_DIR/pingpong" client 10.88.0.2 7200 "$PINGS" >>"$TMP/pp-detached.txt"
done
python3 - "$TMP/pp-attached.txt" "$TMP/pp-detached.txt" "$PINGS" <<'PY'
import statistics, sys
def runs(path):
    out = []
    for line in open(path):
        f = line.split()
        out.append({f[i]: int(f[i + 1]) for i in range(1, len(f) - 1, 2)})
    return out
att, det = runs(sys.argv[1]), runs(sys.argv[2])
print(f"ping-pong round trip, {len(att)} rounds of {sys.argv[3]} pings each way, blocking sockets "
      "(median of the rounds, [min-max] across them):")
for key, name in (("p50", "p50"), ("p99", "p99"), ("p999", "p99.9")):
    a, d = [r[key] / 1000 for r in att], [r[key] / 1000 for r in det]
    print(f"  {name:<6} attached {statistics.median(a):7.1f} us [{min(a):.1f}-{max(a):.1f}]  "
          f"detached {statistics.median(d):7.1f} us [{min(d):.1f}-{max(d):.1f}]  "
          f"difference {statistics.median(a) - statistics.median(d):+.1f} us")
print(f"  lost: {sum(r['lost'] for r in att)} attached, {sum(r['lost'] for r in det)} detached")
PY

# --- a drop storm: as many packets as the sender can make into a socket
# that never reads (4 KB buffer), with the kfree_skb program attached and
# not: its cost per drop by the kernel's statistics, and the sender path's
# (sender + softirq) CPU per packet either way.
bg ip netns exec "$R" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("10.88.0.2", 7300))
time.sleep(3600)'
# storm: "drops/s sender-ns/packet" over SECS seconds of burstgen at 1M/s asked.
storm() {
  local d0 d1 k0 k1 cpu
  d0=$(kernel_counter "$R" UdpRcvbufErrors) k0=$(ksoftirqd_cpu | sum)
  cpu=$(ip netns exec "$S" taskset -c 0 python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{r.ru_utime + r.ru_stime:.3f}")' "$BIN_DIR/burstgen" --dest 10.88.0.2:7300 \
    --bursts $((SECS * 1000)) --every 1ms --packets 1000 --payload 64)
  d1=$(kernel_counter "$R" UdpRcvbufErrors) k1=$(ksoftirqd_cpu | sum)
  python3 -c 'import sys; d, secs, cpu = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]) + float(sys.argv[4]); print(f"{d / secs:.0f} {1e9 * cpu / max(d, 1):.0f}")' \
    "$((d1 - d0))" "$SECS" "$cpu" "$(python3 -c "print($k1 - $k0)")"
}
collector_ebpf "bench-storm-$$"
sleep 0.5
k0=($(prog_stats ds_kfree_skb))
with=($(storm))
k1=($(prog_stats ds_kfree_skb))
stop_collector
without=($(storm))
python3 -c '
import sys
runs, ns = int(sys.argv[2]) - int(sys.argv[1]), int(sys.argv[4]) - int(sys.argv[3])
print(f"drop storm: {int(sys.argv[5]) / 1e6:.2f}M drops/s attached, {int(sys.argv[7]) / 1e6:.2f}M detached; "
      f"kfree_skb program {ns / max(runs, 1):.0f} ns per drop ({runs} runs); sender path "
      f"{sys.argv[6]} ns per dropped packet attached, {sys.argv[8]} detached")' \
  "${k0[0]}" "${k1[0]}" "${k0[1]}" "${k1[1]}" "${with[0]}" "${with[1]}" "${without[0]}" "${without[1]}"

# --- memory: an eBPF collector on a host of 32 interfaces (15 veth pairs,
# the veth to S and lo) and 10,000 sockets: resident memory steady, and its
# peak. (The smoke run: 8 interfaces, 1,000 sockets.)
PAIRS=$([ "$SECS" -ge 10 ] && echo 15 || echo 3) SOCKS=$([ "$SECS" -ge 10 ] && echo 10000 || echo 1000)
for i in $(seq "$PAIRS"); do
  ip -n "$R" link add "va$i" type veth peer name "vb$i"
  ip -n "$R" link set "va$i" up
  ip -n "$R" link set "vb$i" up
done
bg ip netns exec "$R" python3 -c '
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
socks = []
for i in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print("ready", flush=True)
time.sleep(3600)' "$SOCKS" >"$TMP/socks.out"
wait_for 60 "$SOCKS sockets" grep -q ready "$TMP/socks.out"
for tick in 100us 1ms; do # the resolution the CPU figures are at, and the default
  collector_ebpf "bench-mem-$tick-$$" "$tick"
  sleep $((SECS >= 10 ? 10 : 1)) # a few intervals: the socket table filled, the rings in use
  python3 - "$COLLECTOR" "$((PAIRS * 2 + 2))" "$SOCKS" "$tick" <<'PY'
import os, sys
parent = int(sys.argv[1])  # ip netns exec's pid: the collector is its child (exec'd in place)
pid = parent
kids = open(f"/proc/{parent}/task/{parent}/children").read().split()
if kids:
    pid = int(kids[0])
st = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
kb = lambda k: int(st[k].split()[0])
# Resident pages by mapping: the shared libraries' (what the dynamic loader
# and their code touched) apart from the maps' and the heap's.
by, name = {}, None
for l in open(f"/proc/{pid}/smaps"):
    f = l.split()
    if "-" in f[0] and not f[0].endswith(":"):
        name = f[5] if len(f) > 5 else "[anon]"
    elif f[0] == "Rss:":
        by[name] = by.get(name, 0) + int(f[1])
libs = sum(v for k, v in by.items() if ".so" in k)
bpf = sum(v for k, v in by.items() if "bpf-map" in k)
pss = sum(int(l.split()[1]) for l in open(f"/proc/{pid}/smaps_rollup") if l.startswith("Pss:"))
print(f"collector memory at {sys.argv[4]} ({sys.argv[2]} interfaces, {sys.argv[3]} sockets): RSS {kb('VmRSS') / 1024:.1f} MB steady "
      f"(shared libraries {libs / 1024:.1f} MB, BPF maps {bpf / 1024:.1f} MB, anonymous {kb('RssAnon') / 1024:.1f} MB; "
      f"PSS {pss / 1024:.1f} MB), peak {kb('VmHWM') / 1024:.1f} MB")
PY
  stop_collector
done
