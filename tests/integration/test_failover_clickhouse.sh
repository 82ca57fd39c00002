#!/usr/bin/env bash
# Failover on one ClickHouse. Two aggregators, agg-a and agg-b, store in the
# same ClickHouse database; six hosts on a bridge, each with a collector
# listing agg-a then agg-b (with a spool), and in each a UDP receiver that
# drops continuously (15 s). Synchronized senders burst at hosts 1-3 every 500 ms
# while agg-a is SIGKILLed part-way. Then, through agg-b alone:
#  - every host's stored Udp.RcvbufErrors equals its kernel's exactly:
#    nothing lost (the spool), nothing twice (a batch agg-a stored without
#    acknowledging, sent again to agg-b, is the same (host, run, seq));
#  - /api/hosts names agg-b for every host;
#  - the incidents name exactly hosts 1-3, one for each synchronized burst,
#    those before the kill (stored by agg-a) and after alike.
# Skipped without clickhouse-server.
source "$(dirname "$0")/lib.sh"
require_root
start_clickhouse ch

URL="http://127.0.0.1:$CH_PORT/?database=failover"
start_named_aggregator agg-a --clickhouse "$URL"
start_named_aggregator agg-b --clickhouse "$URL"
SERVER="http://127.0.0.1:${AGG_HTTP[agg-b]}"

P=ds-fch-$$
make_fleet "$P" 6 1
for i in $(seq 1 6); do
  ip netns exec "$P-h$i" "$BIN_DIR/dropscope-collector" --connect "ipc://$TMP/agg-a.sock" \
    --connect "ipc://$TMP/agg-b.sock" --insecure --host-name "fch$i-$$" --interval 500ms \
    --burst-threshold 20 --spool "$TMP/spool-$i" 2>>"$TMP/collector-$i.log" &
  PIDS+=($!)
  roomy_receiver "$P-h$i" 60
  udp_dropper "$P-h$i" 15 "$TMP/sent-$i"
done
for i in $(seq 1 6); do wait_for 30 "fch$i on agg-a" reports_to agg-a "fch$i-$$"; done
wait_clocks $(for i in $(seq 1 6); do echo "fch$i-$$"; done)

t0=$(( $(now_ns) + 1000000000 ))
bg ip netns exec "$P-s1" "$BIN_DIR/burstgen" --dest 10.90.0.1:7000 --dest 10.90.0.2:7000 \
  --dest 10.90.0.3:7000 --start "$t0" --bursts 15 --every 500ms --packets 150 --payload 64 \
  >"$TMP/burstgen.out" 2>>"$TMP/burstgen.log"
burstgen=$!
for i in 4 5 6; do # steady traffic only at hosts 4-6
  bg ip netns exec "$P-s1" "$BIN_DIR/burstgen" --dest "10.90.0.$i:7000" --start "$t0" \
    --bursts 0 --background-pps 500 --tail 7500ms >/dev/null 2>>"$TMP/burstgen.log"
done
sleep 4.5 # seven synchronized bursts, then agg-a goes
kill -9 "${AGG_PID[agg-a]}"; wait "${AGG_PID[agg-a]}" 2>/dev/null || true
log "agg-a killed"
wait "$burstgen" || fail "burstgen failed (burstgen.log)"
for i in $(seq 1 6); do wait_for 30 "fch$i on agg-b" reports_to agg-b "fch$i-$$"; done
senders_done() { for i in $(seq 1 6); do [ -e "$TMP/sent-$i" ] || return 1; done; }
wait_for 60 "the droppers to finish" senders_done

deadline=$(( $(date +%s) + 60 ))
for i in $(seq 1 6); do
  kernel=$(kernel_counter "$P-h$i" UdpRcvbufErrors)
  [ "$kernel" -gt 1000 ] || fail "host $i dropped only $kernel"
  expect_stored "fch$i-$$" "$kernel" "$deadline"
done

t1=$(now_ns)
curl -sf "$SERVER/api/incidents?from=$((t0 - 500000000))&to=$t1" >"$TMP/incidents.json"
python3 - "$TMP/incidents.json" "$$" "$t0" <<'PY'
import json, sys
incidents, run, t0 = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
targeted = {f"fch{i}-{run}" for i in (1, 2, 3)}
for c in incidents:
    assert set(c["hosts"]) <= targeted, f"an incident names {set(c['hosts']) - targeted}"
# As test_incidents.sh: two periods may be lost to CPU contention here.
found = sum(any(abs(c["start_ns"] - (t0 + k * 500_000_000)) < 20_000_000
                and set(c["hosts"]) == targeted for c in incidents) for k in range(15))
assert found >= 13, f"only {found} of 15 synchronized bursts are incidents of hosts 1-3"
print(f"ok: {found} of 15 synchronized bursts are incidents of exactly hosts 1-3, "
      f"{len(incidents)} incidents in all, across the failover")
PY
