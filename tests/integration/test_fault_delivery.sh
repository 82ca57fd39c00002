#!/usr/bin/env bash
# Exact delivery under faults. Six collectors, each in its own network
# namespace with a spool, stream while a UDP receiver there drops
# continuously (tiny SO_RCVBUF, never reads). Meanwhile the aggregator is
# SIGKILLed and restarted five times at random moments, and one collector is
# SIGKILLed and restarted once. Afterwards, for every host, the socket-layer
# drops stored must equal exactly the kernel's Udp.RcvbufErrors: none lost
# (spool, resend, the restarted collector's saved counters), none
# duplicated (idempotent inserts).
source "$(dirname "$0")/lib.sh"
require_root

N=6
RUN=$$
ENDPOINT="ipc://$TMP/aggregator.sock"
HTTP=$(free_port)
SERVER="http://127.0.0.1:$HTTP"
AGG_PID=

start_agg() {
  "$BIN_DIR/dropscope-aggregator" --db "$TMP/db.sqlite" --listen "$ENDPOINT" \
    --http "127.0.0.1:$HTTP" --insecure 2>>"$TMP/aggregator.log" &
  AGG_PID=$!
  PIDS+=($AGG_PID)
  for _ in $(seq 50); do curl -sf "$SERVER/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "the aggregator did not come back"
}

declare -a COLLECTOR
start_col() { # I
  ip netns exec "ds-fault-$1-$RUN" "$BIN_DIR/dropscope-collector" --connect "$ENDPOINT" --insecure \
    --host-name "fault-$1-$RUN" --interval 200ms --backend none --spool "$TMP/spool-$1" \
    2>>"$TMP/collector-$1.log" &
  COLLECTOR[$1]=$!
  PIDS+=($!)
}

start_agg
for i in $(seq 1 $N); do
  make_ns "ds-fault-$i-$RUN"
  start_col "$i"
done
sleep 1 # baselines

# In every namespace: a receiver that never reads, and a sender dropping into it.
for i in $(seq 1 $N); do udp_dropper "ds-fault-$i-$RUN" 24 "$TMP/sent-$i"; done

# Chaos: five aggregator kills at random moments, one collector kill.
RANDOM=$RUN
for k in 1 2 3 4 5; do
  sleep "$(( RANDOM % 20 + 10 ))e-1" # 1.0-2.9 s
  kill -9 "$AGG_PID"; wait "$AGG_PID" 2>/dev/null || true
  log "aggregator killed ($k/5)"
  if [ $k -eq 3 ]; then
    victim=$(( RANDOM % N + 1 ))
    kill -9 "${COLLECTOR[$victim]}"; wait "${COLLECTOR[$victim]}" 2>/dev/null || true
    log "collector $victim killed"
    sleep 1
    start_col "$victim"
  fi
  sleep "$(( RANDOM % 15 + 3 ))e-1" # down 0.3-1.7 s
  start_agg
done
# The senders finish (24 s in all): the kernel's counts are final only then.
senders_done() { for i in $(seq 1 $N); do [ -e "$TMP/sent-$i" ] || return 1; done; }
wait_for 60 "the senders to finish" senders_done

declare -A KERNEL
for i in $(seq 1 $N); do
  KERNEL[$i]=$(kernel_counter "ds-fault-$i-$RUN" UdpRcvbufErrors)
  [ "${KERNEL[$i]}" -gt 1000 ] || fail "namespace $i dropped only ${KERNEL[$i]}"
done

deadline=$(( $(date +%s) + 60 ))
for i in $(seq 1 $N); do expect_stored "fault-$i-$RUN" "${KERNEL[$i]}" "$deadline"; done
grep -q "continuing from the" "$TMP/collector-$victim.log" ||
  fail "the restarted collector did not continue from its saved counters"
dups=$(curl -sf "$SERVER/metrics" | awk '$1 == "dropscope_duplicates_total" { print $2 }')
log "ok: every host exact after 5 aggregator kills and 1 collector kill (resends acknowledged again: $dups)"
