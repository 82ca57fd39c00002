#!/usr/bin/env bash
# `dropscope-collector --watch` on one host, no aggregator: in a fresh
# network namespace a UDP receiver that never reads drops datagrams in three
# rounds while --watch 300ms -j prints; the socket layer's printed deltas
# must add up to the kernel's increments exactly (nstat before the watch
# starts and after it ends), Udp.RcvbufErrors and the socket's own drop
# count alike, and no interval may print a drop before the first round;
# the rounds are bursts on lo (threshold 5 packets/ms), printed too.
# Then the table (--watch -c, the default) and --once's values (nstat's
# figure now) as a user reads them, and the bad usages.
source "$(dirname "$0")/lib.sh"
require_root

NS=ds-watch-$$
make_ns "$NS"
stuck_receiver "$NS"
before=$(kernel_counter "$NS" UdpRcvbufErrors)

ip netns exec "$NS" "$BIN_DIR/dropscope-collector" --host-name watched --watch 300ms -j -c 14 \
  --backend netlink --burst-threshold 5 \
  >"$TMP/watch.jsonl" 2>"$TMP/watch.log" &
watcher=$!
PIDS+=($watcher)
wait_for 10 "the first interval printed" grep -qs '"counters"' "$TMP/watch.jsonl"
quiet=$(wc -l <"$TMP/watch.jsonl")
for n in 300 500 700; do # rounds a few intervals apart
  send_datagrams "$NS" "$n"
  sleep 0.7
done
wait "$watcher" || fail "--watch exited $? (watch.log)"
after=$(kernel_counter "$NS" UdpRcvbufErrors)
[ $((after - before)) -gt 1000 ] || fail "the receiver dropped only $((after - before))"

python3 - "$TMP/watch.jsonl" "$((after - before))" "$quiet" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
kernel, quiet = int(sys.argv[2]), int(sys.argv[3])
assert len(lines) == 14, f"{len(lines)} intervals printed for -c 14"
for l in lines:
    assert l["host"] == "watched" and 250e6 < l["interval_ns"] < 2e9, l
def moved(l, series):
    return sum(c["delta"] for c in l["counters"]
               if c["layer"] == "socket" and c["series"] == series)
snmp = [moved(l, "snmp//Udp.RcvbufErrors") for l in lines]
sock = [sum(c["delta"] for c in l["counters"] if c["series"].startswith("sock/udp:127.0.0.1:9999/")
            and c["series"].endswith("/drops")) for l in lines]
assert not any(snmp[:quiet]), f"drops printed before any was sent: {snmp[:quiet]}"
assert sum(snmp) == kernel, f"Udp.RcvbufErrors: printed {snmp} = {sum(snmp)}, kernel +{kernel}"
assert sum(sock) == kernel, f"the socket's drops: printed {sock} = {sum(sock)}, kernel +{kernel}"
assert sum(1 for n in snmp if n) >= 2, f"the rounds fell in one interval: {snmp}"
bursts = [b for l in lines for b in l["bursts"] if b["iface"] == "lo"]
assert any(b["packets"] >= 200 for b in bursts), f"no burst of a round on lo: {bursts}"
first = min(l["ts_ns"] - l["interval_ns"] for l in lines)
assert all(first <= b["start_ns"] <= lines[-1]["ts_ns"] for b in bursts), bursts
print(f"ok: --watch printed +{kernel} Udp.RcvbufErrors over {len(lines)} intervals "
      f"({[n for n in snmp if n]}), the kernel's increment; the socket's drops the same; "
      f"bursts on lo of {sorted(b['packets'] for b in bursts)} packets")
PY

# The table: a header line per interval, the socket row with its delta.
ip netns exec "$NS" "$BIN_DIR/dropscope-collector" --watch 500ms -c 3 >"$TMP/table.txt" \
  2>>"$TMP/watch.log" &
watcher=$!
PIDS+=($watcher)
wait_for 10 "the table's first interval" grep -qs '^# ' "$TMP/table.txt"
send_datagrams "$NS" 400
wait "$watcher" || fail "--watch -c 3 exited $? (watch.log)"
[ "$(grep -cE '^# .*: drops in the last 0\.[0-9]+ s$' "$TMP/table.txt")" -eq 3 ] ||
  fail "not three interval headers: $(cat "$TMP/table.txt")"
grep -qE '^socket +[0-9]+  snmp//Udp\.RcvbufErrors$' "$TMP/table.txt" ||
  fail "no socket row for Udp.RcvbufErrors: $(cat "$TMP/table.txt")"
grep -qE '^LAYER +DELTA  COUNTER$' "$TMP/table.txt" || fail "no column names: $(cat "$TMP/table.txt")"
log "ok: the table, 3 intervals:
$(cat "$TMP/table.txt")"

# --once: the values now, as nstat has them.
now=$(kernel_counter "$NS" UdpRcvbufErrors)
ip netns exec "$NS" "$BIN_DIR/dropscope-collector" --once -H >"$TMP/once.txt" 2>>"$TMP/watch.log"
grep -qE "^socket +$now  snmp//Udp\.RcvbufErrors\$" "$TMP/once.txt" ||
  fail "--once does not show Udp.RcvbufErrors = $now: $(cat "$TMP/once.txt")"
! grep -q '^LAYER' "$TMP/once.txt" || fail "-H printed the column names"
log "ok: --once shows Udp.RcvbufErrors = $now, nstat's"

# Bad usage: exit 2, saying what is wrong.
usage() { # WANT ARGS...
  local want=$1 out rc=0; shift
  out=$("$BIN_DIR/dropscope-collector" "$@" 2>&1) || rc=$?
  [ "$rc" -eq 2 ] && grep -qF -- "$want" <<<"$out" || fail "$* exited $rc saying: $out"
}
usage "at least 10ms" --watch 5ms
usage "go with --watch" -a
usage "one of them" --once --watch
usage "--count '0' must be a positive number" --watch -c 0
usage "-a and -c go with --watch" --once -c 2
log "ok: bad usages refused with exit 2"
