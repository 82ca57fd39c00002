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
# prog_stats: "runs ns" summed over the dropscope tc programs, from the
# kernel's own accounting (enabled below with BPF_ENABLE_STATS).
prog_stats() {
  bpftool prog show --json | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin) if x.get("name") in ("ds_ingress", "ds_egress")]
print(sum(x.get("run_cnt", 0) for x in p), sum(x.get("run_time_ns", 0) for x in p))'
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
start_collector "$R" "bench-ebpf-$$" --backend ebpf --tick 100us --interval 1s
EBPF=${PIDS[-1]}
require_ebpf "bench-ebpf-$$"
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
kill -TERM "$EBPF"; wait "$EBPF" 2>/dev/null || true
DAEMONS=("$NETLINK") # the eBPF collector was stopped on purpose
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
