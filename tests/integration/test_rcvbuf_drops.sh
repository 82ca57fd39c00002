#!/usr/bin/env bash
# The classic experiment: a UDP receiver with a tiny SO_RCVBUF that never
# reads is sent N datagrams inside a namespace. Within a few intervals,
# `dropscope drops --json --layer socket` must report exactly the
# Udp.RcvbufErrors increment the kernel counted, for that host, at a time
# inside the window in which the datagrams were sent, and the per-socket
# counter must name the receiving process.
source "$(dirname "$0")/lib.sh"
require_root

NS=ds-rcvbuf-$$
HOST=rcvbuf-host-$$
N=3000
INTERVAL_MS=200
make_ns "$NS"
start_aggregator
start_collector "$NS" "$HOST" --interval ${INTERVAL_MS}ms
sleep 0.6 # the collector's first (baseline) snapshot

before=$(kernel_counter "$NS" UdpRcvbufErrors)
stuck_receiver "$NS"

t0=$(now_ns)
send_datagrams "$NS" "$N"
t1=$(now_ns)
after=$(kernel_counter "$NS" UdpRcvbufErrors)
expected=$((after - before))
[ "$expected" -gt 0 ] || fail "the kernel counted no RcvbufErrors; the experiment did not drop"
log "kernel: Udp.RcvbufErrors +$expected of $N datagrams"

# Poll the CLI until the aggregator has the full increment (a few intervals).
deadline=$(( $(date +%s) + 10 ))
while :; do
  "$BIN_DIR/dropscope" --server "$SERVER" drops --json --layer socket --host "$HOST" --since 5m \
    >"$TMP/drops.json"
  got=$(python3 -c '
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["series"] == "snmp//Udp.RcvbufErrors"]
print(sum(r["delta"] for r in rows))' "$TMP/drops.json")
  [ "$got" -ge "$expected" ] && break
  [ "$(date +%s)" -lt "$deadline" ] || fail "after 10 s dropscope reports $got of $expected drops"
  sleep 0.2
done

receiver_pid=$RECEIVER_PID
python3 - "$TMP/drops.json" "$HOST" "$expected" "$t0" "$t1" "$INTERVAL_MS" "$receiver_pid" <<'PY'
import json, sys
path, host, expected, t0, t1, interval_ms, pid = sys.argv[1:]
expected, t0, t1 = int(expected), int(t0), int(t1)
slack = 3 * int(interval_ms) * 1_000_000
rows = json.load(open(path))
assert rows, "no drop rows"
for r in rows:
    assert r["host"] == host, f"row for another host: {r}"
    assert r["layer"] == "socket", f"row of another layer: {r}"
snmp = [r for r in rows if r["series"] == "snmp//Udp.RcvbufErrors"]
total = sum(r["delta"] for r in snmp)
assert total == expected, f"dropscope says {total}, the kernel counted {expected}"
for r in snmp:
    # A delta is stamped when it was read: after the first send, and
    # within a few intervals of the last.
    assert t0 < r["ts_ns"] <= t1 + slack, f"delta at {r['ts_ns']} outside ({t0}, {t1}+{slack}]"
    assert not r["reset"], f"unexpected reset: {r}"
# The per-socket counter names the socket and agrees.
sock = [r for r in rows if r["series"] == "sock/udp:127.0.0.1:9999/drops"]
assert sum(r["delta"] for r in sock) == expected, f"per-socket drops {sock} != {expected}"
assert all(r["overlap"] for r in sock), "per-socket drops must be marked as overlapping"
# ... and the process that holds it (found through /proc/<pid>/fd).
assert all(r.get("owner") == f"{pid}/python3" for r in sock), f"owner {sock}, receiver {pid}"
assert not any("owner" in r for r in snmp), "a protocol total has no owner"
print(f"ok: {total} socket-layer drops in {len(snmp)} deltas, all within the send window")
PY
"$BIN_DIR/dropscope" --server "$SERVER" drops --layer socket --host "$HOST" --since 5m
"$BIN_DIR/dropscope" --server "$SERVER" diagnose "$HOST" --since 5m >"$TMP/diagnose.txt"
grep -q "udp:127.0.0.1:9999 held by $receiver_pid/python3" "$TMP/diagnose.txt" ||
  fail "the diagnosis does not name the receiving process: $(cat "$TMP/diagnose.txt")"
log "ok: the diagnosis names the socket's owner, $receiver_pid/python3"
