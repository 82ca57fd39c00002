#!/usr/bin/env bash
# The eBPF backend against the kernel's own counters, its network-namespace
# filter, its clean exit, and its fallback.
#  1. Two namespaces, each with an eBPF collector and a UDP receiver that
#     never reads, flooded at the same time with different counts: each
#     host's stored reason//SOCKET_RCVBUFF drops equal exactly its own
#     namespace's Udp.RcvbufErrors increment (skb:kfree_skb is global; a
#     missing filter would count the other namespace's drops too).
#  2. After SIGKILL and after a normal exit, none of the collector's
#     programs or links is left in the kernel.
#  3. A collector without privileges asked for eBPF says why it cannot load
#     the programs, runs on netlink, and /api/hosts shows both.
source "$(dirname "$0")/lib.sh"
require_root
command -v bpftool >/dev/null || { echo "SKIP: bpftool is not installed (make test installs it)" >&2; exit $SKIP; }

ds_programs() { # the number of dropscope programs loaded in the kernel
  bpftool prog show 2>/dev/null | grep -cE "name ds_(ingress|egress|kfree_skb)" || true
}
before_progs=$(ds_programs)

A=ds-eb-a-$$ B=ds-eb-b-$$
make_ns "$A"
make_ns "$B"
start_aggregator
start_collector "$A" "ebpf-a-$$" --backend ebpf --interval 300ms
COLLECTOR_A=${PIDS[-1]}
start_collector "$B" "ebpf-b-$$" --backend ebpf --interval 300ms
require_ebpf "ebpf-a-$$"
require_ebpf "ebpf-b-$$"
[ "$(ds_programs)" -eq $((before_progs + 6)) ] ||
  fail "expected 6 more dropscope programs loaded, found $(( $(ds_programs) - before_progs ))"

flood() { # NS COUNT: datagrams to a receiver on 127.0.0.1 that never reads
  ip netns exec "$1" python3 -c '
import socket, sys
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
r.bind(("127.0.0.1", 9999))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[1])):
    s.sendto(b"x" * 100, ("127.0.0.1", 9999))' "$2"
}
sleep 1 # the baseline snapshots
a0=$(kernel_counter "$A" UdpRcvbufErrors) b0=$(kernel_counter "$B" UdpRcvbufErrors)
flood "$A" 3000 &
flood_a=$!
flood "$B" 5000
wait "$flood_a"
a1=$(kernel_counter "$A" UdpRcvbufErrors) b1=$(kernel_counter "$B" UdpRcvbufErrors)
log "kernel: $A RcvbufErrors +$((a1 - a0)), $B +$((b1 - b0))"
[ $((a1 - a0)) -gt 1000 ] && [ $((b1 - b0)) -gt 1000 ] || fail "the floods did not drop"
sleep 1.5 # the next batches
check_reasons() { # HOST NS INCREMENT
  local got
  got=$(curl -sf "$SERVER/api/drops?host=$1&layer=socket&since=5m" | python3 -c '
import json, sys
print(sum(r["delta"] for r in json.load(sys.stdin) if r["series"] == "reason//SOCKET_RCVBUFF"))')
  [ "$got" -eq "$3" ] || fail "$1 ($2): reason//SOCKET_RCVBUFF says $got, the kernel's RcvbufErrors +$3"
  log "ok: $1: reason//SOCKET_RCVBUFF $got = RcvbufErrors +$3"
}
check_reasons "ebpf-a-$$" "$A" $((a1 - a0))
check_reasons "ebpf-b-$$" "$B" $((b1 - b0))
# The diagnosis names the reason as evidence of the socket layer.
curl -sf "$SERVER/api/diagnose?host=ebpf-a-$$&since=5m" >"$TMP/diag.json"
python3 - "$TMP/diag.json" "$((a1 - a0))" <<'PY'
import json, sys
d, inc = json.load(open(sys.argv[1])), int(sys.argv[2])
f = [f for f in d["findings"] if f["layer"] == "socket"]
assert f and f[0]["drops"] == inc, d
reasons = {c["series"]: c["drops"] for c in f[0]["evidence"]["counters"]}
assert reasons.get("reason//SOCKET_RCVBUFF") == inc, reasons
print(f"ok: diagnosis: socket layer, {inc} drops, reason SOCKET_RCVBUFF {inc}")
PY

# 2. Nothing stays attached: SIGKILL one collector, stop the other.
kill -KILL "$COLLECTOR_A"
sleep 0.5
[ "$(ds_programs)" -eq $((before_progs + 3)) ] ||
  fail "after SIGKILL: $(( $(ds_programs) - before_progs - 3 )) programs of the killed collector remain"
start_collector "$A" "ebpf-a2-$$" --backend ebpf --interval 300ms # starts again cleanly
require_ebpf "ebpf-a2-$$"
pkill -TERM -f "host-name ebpf-.*-$$" || true
for _ in $(seq 50); do
  [ "$(ds_programs)" -eq "$before_progs" ] && break
  sleep 0.1
done
[ "$(ds_programs)" -eq "$before_progs" ] || fail "after exit: $(( $(ds_programs) - before_progs )) programs remain"
log "ok: no program or link left after SIGKILL and after exit"
DAEMONS=() # the collectors were stopped on purpose

# 3. Without privileges: netlink, and /api/hosts says why.
chmod 755 "$TMP"
chmod 777 "$TMP/aggregator.sock"
daemon ip netns exec "$A" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
  "$BIN_DIR/dropscope-collector" --connect "$ENDPOINT" --insecure --host-name "ebpf-user-$$" \
  --backend ebpf --tick 100us 2>>"$TMP/collector-user.log"
got=$(host_backend "ebpf-user-$$")
case $got in
  "netlink ebpf: cannot load eBPF programs: Operation not permitted (run as root"*) ;;
  *) fail "an unprivileged collector reports: $got" ;;
esac
grep -q "eBPF backend is unavailable: cannot load eBPF programs: Operation not permitted" \
  "$TMP/collector-user.log" || fail "the unprivileged collector did not log why"
grep -q "finer than netlink polling should go; using 1 ms" "$TMP/collector-user.log" ||
  fail "the unprivileged collector did not say it moved the tick to 1 ms"
log "ok: unprivileged: $got"
