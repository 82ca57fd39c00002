#!/usr/bin/env bash
# Wall clock steps on a collector (--test-clock-step, the test hook that
# steps the clock the collector stamps with, as a hand or an NTP step
# would). Back by an hour while a receiver drops: the interval that ends
# before it started is stamped as the monotonic clock measured it, and the
# stored Udp.RcvbufErrors equal the kernel's. Ahead by three days: the
# aggregator refuses those batches (more than --max-skew ahead), and the
# collector counts them and says so in its next batches, which /api/hosts
# and `dropscope hosts` show.
source "$(dirname "$0")/lib.sh"
require_root

NS=ds-clock-$$
HOST=clock-host-$$
FUTURE=clock-future-$$
make_ns "$NS"
start_aggregator
start_collector "$NS" "$HOST" --interval 200ms --backend none --test-clock-step 2s:-1h
stuck_receiver "$NS"
before=$(kernel_counter "$NS" UdpRcvbufErrors)
send_datagrams "$NS" 1000
wait_for 20 "the clock step" grep -q "TESTING: the wall clock stepped" "$TMP/collector-$HOST.log"
send_datagrams "$NS" 1000
wait_for 20 "the collector to notice the step" grep -q "the wall clock went back" "$TMP/collector-$HOST.log"
send_datagrams "$NS" 1000
expected=$(($(kernel_counter "$NS" UdpRcvbufErrors) - before))
[ "$expected" -gt 0 ] || fail "the kernel counted no RcvbufErrors; the experiment did not drop"
log "kernel: Udp.RcvbufErrors +$expected"

stored() { # the host's stored Udp.RcvbufErrors deltas, over the last day (the step went back an hour)
  "$BIN_DIR/dropscope" --server "$SERVER" drops --json --layer socket --host "$HOST" --since 1d |
    python3 -c '
import json, sys
print(sum(r["delta"] for r in json.load(sys.stdin) if r["series"] == "snmp//Udp.RcvbufErrors"))'
}
got=0
deadline=$(($(date +%s) + 15))
while got=$(stored) && [ "$got" -lt "$expected" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || break
  sleep 0.2
done
[ "$got" -eq "$expected" ] || fail "after the wall clock went back an hour, $got drops stored; the kernel counted $expected"
rejects=$(curl -sf "$SERVER/metrics" | awk '$1 == "dropscope_rejects_total" { print $2 }')
[ "${rejects:-x}" = 0 ] || fail "the aggregator refused $rejects messages of a collector whose clock went back"
log "ok: the clock went back an hour, and all $got drops the kernel counted are stored"

# Three days ahead for a second: those batches are refused, counted by the
# collector (in its spool, across restarts) and reported in the next ones.
daemon "$BIN_DIR/dropscope-collector" --connect "$ENDPOINT" --insecure --host-name "$FUTURE" \
  --procfs "$FIXTURES_DIR/linux-6.18-netns-drops/proc" --backend none --interval 200ms \
  --full-every 1 --spool "$TMP/spool" --test-clock-step 2s:3d --test-clock-step 3s:-3d \
  2>>"$TMP/collector-$FUTURE.log"
rejected_shown() {
  curl -sf "$SERVER/api/hosts" | python3 -c '
import json, sys
for h in json.load(sys.stdin):
    if h["host"] == sys.argv[1] and h["spool_rejected"]["messages"] > 0 and h["last_seen_ns"]:
        print(h["spool_rejected"]["messages"], h["spool_rejected"]["samples"]); sys.exit(0)
sys.exit(1)' "$FUTURE" >"$TMP/rejected" 2>/dev/null
}
wait_for 30 "the rejected batches in /api/hosts" rejected_shown
read -r messages samples <"$TMP/rejected"
[ "$samples" -gt 0 ] || fail "$messages rejected batches shown with no samples"
grep -q "rejected message .*ahead of the aggregator's clock" "$TMP/collector-$FUTURE.log" ||
  fail "the collector does not log why its batches were refused"
refused=$(curl -sf "$SERVER/metrics" | awk '$1 == "dropscope_rejects_total" { print $2 }')
[ "$refused" -ge "$messages" ] || fail "the aggregator refused $refused messages, the collector counts $messages"
stored_batches=$(sqlite3 -cmd ".timeout 10000" "$TMP/db.sqlite" "SELECT count(*) FROM batches b JOIN hosts h ON h.id = b.host_id WHERE h.name = '$FUTURE' AND b.ts_ns > $(( $(now_ns) + 86400000000000 ))")
[ "$stored_batches" = 0 ] || fail "$stored_batches batches from three days ahead were stored"
"$BIN_DIR/dropscope" --server "$SERVER" hosts >"$TMP/hosts.txt"
awk -v h="$FUTURE" -v n="$messages" '$1 == h && $NF >= n { found = 1 } END { exit !found }' \
  "$TMP/hosts.txt" || fail "dropscope hosts does not show $messages rejected: $(cat "$TMP/hosts.txt")"
log "ok: $messages batches ($samples samples) three days ahead were refused, counted and shown"
