#!/usr/bin/env bash
# The aggregator loses a collector's series definitions (its database is
# replaced by an empty one while the collector runs with a spool): the
# batches it cannot store yet (ACK_NEED_DEFS) are kept, one batch carries
# every definition, then they go again and are stored. Nothing is lost:
# the Udp.RcvbufErrors stored in the old and the new database add up to
# the kernel's, and nothing was counted as rejected.
source "$(dirname "$0")/lib.sh"
require_root

NS=ds-defs-$$
HOST=defs-host-$$
ENDPOINT="ipc://$TMP/aggregator.sock"
HTTP=$(free_port)
SERVER="http://127.0.0.1:$HTTP"
AGG=

start_agg() { # DB
  "$BIN_DIR/dropscope-aggregator" --db "$1" --listen "$ENDPOINT" --http "127.0.0.1:$HTTP" \
    --insecure 2>>"$TMP/aggregator.log" &
  AGG=$!
  PIDS+=($AGG)
  for _ in $(seq 100); do curl -sf "$SERVER/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "the aggregator on $1 did not answer"
}
stored() { # DB: the host's stored Udp.RcvbufErrors
  sqlite3 -cmd ".timeout 10000" "$1" "SELECT coalesce(sum(d.delta), 0) FROM drops d JOIN series s ON s.id = d.series_id
                JOIN hosts h ON h.id = d.host_id WHERE h.name = '$HOST' AND s.source = 'snmp'
                AND s.name = 'Udp.RcvbufErrors'"
}

make_ns "$NS"
start_agg "$TMP/first.db"
start_collector "$NS" "$HOST" --interval 200ms --backend none --spool "$TMP/spool"
stuck_receiver "$NS"
before=$(kernel_counter "$NS" UdpRcvbufErrors)
ip netns exec "$NS" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    for _ in range(100):
        s.sendto(b"x" * 200, ("127.0.0.1", 9999))
    time.sleep(0.05)' &
SENDER=$!
PIDS+=($SENDER)

stored_some() { [ "$(stored "$TMP/first.db")" -gt 0 ]; }
wait_for 15 "drops in the first database" stored_some
kill "$AGG"
wait "$AGG" 2>/dev/null || true
sleep 1 # the collector spools a few batches it cannot send
start_agg "$TMP/second.db"
wait_for 30 "the collector to be told its definitions were lost" \
  grep -q "does not have our series definitions" "$TMP/collector-$HOST.log"
sleep 2
kill "$SENDER"
wait "$SENDER" 2>/dev/null || true
expected=$(($(kernel_counter "$NS" UdpRcvbufErrors) - before))
deadline=$(($(date +%s) + 20))
while :; do
  first=$(stored "$TMP/first.db") second=$(stored "$TMP/second.db")
  [ $((first + second)) -ge "$expected" ] && break
  [ "$(date +%s)" -lt "$deadline" ] || break
  sleep 0.3
done
[ $((first + second)) -eq "$expected" ] ||
  fail "stored $first + $second = $((first + second)) drops; the kernel counted $expected"
[ "$second" -gt 0 ] || fail "nothing was stored in the second database"
rejected=$(sqlite3 -cmd ".timeout 10000" "$TMP/second.db" "SELECT spool_rejected_messages FROM hosts WHERE name = '$HOST'")
[ "${rejected:-x}" = 0 ] || fail "$rejected batches were counted as rejected"
need=$(curl -sf "$SERVER/metrics" | awk '$1 == "dropscope_need_defs_total" { print $2 }')
[ "${need:-0}" -gt 0 ] || fail "the second aggregator never answered NEED_DEFS"
log "ok: definitions lost and sent again ($need batches waited for them); $first + $second drops stored, as the kernel counted"
