#!/usr/bin/env bash
# Cross-host incidents (scenario 1): eight hosts on a bridge, each with a
# collector; synchronized senders burst at four of them every 500 ms while
# the other four see only steady traffic. The incidents must name exactly
# the four targeted hosts, and recur with a period within 5% of 500 ms.
source "$(dirname "$0")/lib.sh"
require_root

P=ds-inc-$$
make_fleet "$P" 8 1
start_aggregator
for i in $(seq 1 8); do
  # 20/ms: on two CPUs a burst can take a few ms to leave the sender; the
  # steady traffic elsewhere is 0.5/ms.
  start_collector "$P-h$i" "host$i-$$" --interval 500ms --burst-threshold 20
  # A receiver with room for everything, which never reads (costs no CPU).
  roomy_receiver "$P-h$i" 60
done
wait_clocks $(for i in $(seq 1 8); do echo "host$i-$$"; done)
t0=$(( $(now_ns) + 1000000000 ))
# Synchronized bursts at hosts 1-4: one sender standing for many clients
# that fire at the same instant (interleaved in the same sendmmsg calls).
SENDERS=()
ip netns exec "$P-s1" "$BIN_DIR/burstgen" --dest 10.90.0.1:7000 --dest 10.90.0.2:7000 \
  --dest 10.90.0.3:7000 --dest 10.90.0.4:7000 --start "$t0" --bursts 15 --every 500ms \
  --packets 150 --payload 64 >"$TMP/burstgen.out" 2>>"$TMP/burstgen.log" &
SENDERS+=($!)
for i in 5 6 7 8; do # steady traffic only at hosts 5-8
  ip netns exec "$P-s1" "$BIN_DIR/burstgen" --dest "10.90.0.$i:7000" --start "$t0" --bursts 0 \
    --background-pps 500 --tail 7500ms >/dev/null 2>>"$TMP/burstgen.log" &
  SENDERS+=($!)
done
PIDS+=("${SENDERS[@]}")
for pid in "${SENDERS[@]}"; do wait "$pid" || fail "a burstgen sender failed (burstgen.log)"; done
sleep 1.5 # the last batches
t1=$(now_ns)

# A burst starts with the sample before its first packet: up to a tick before t0.
"$BIN_DIR/dropscope" --server "$SERVER" incidents --json --from "$((t0 - 500000000))ns" --to "${t1}ns" \
  >"$TMP/incidents.json"
curl -sf "$SERVER/api/bursts?from=$((t0 - 500000000))&to=$t1" >"$TMP/bursts.json"
python3 - "$TMP/incidents.json" "$$" "$t0" "$TMP/bursts.json" "$TMP/period" <<'PY'
import json, sys
incidents, run, t0 = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
targeted = {f"host{i}-{run}" for i in (1, 2, 3, 4)}
for c in incidents:
    hosts = set(c["hosts"])
    assert hosts <= targeted, f"an incident names a host that was not targeted: {hosts - targeted}"
# Each synchronized burst (one every 500 ms) is one incident naming all four
# hosts, certain on one machine's clock. Allow two periods where CPU
# contention here got in the way: measured with both CPUs kept busy, a
# sender delayed by 6 ms, a burst split across 15 ms, a collector starved
# long enough that its round trip (hence uncertainty) reached 240 ms.
def matches(c, when):
    return (abs(c["start_ns"] - when) < 20_000_000 and set(c["hosts"]) == targeted
            and not c["uncertain"])
found = sum(any(matches(c, t0 + k * 500_000_000) for c in incidents) for k in range(15))
if found < 15:  # say what each targeted host saw in each period
    bursts = json.load(open(sys.argv[4]))
    for k in range(15):
        when = t0 + k * 500_000_000
        seen = sorted((b["host"], round((b["corrected_start_ns"] - when) / 1e6, 2), b["packets"],
                       round(b["peak_per_ms"]), b["uncertainty_ns"] // 1000) for b in bursts
                      if abs(b["start_ns"] - when) < 50_000_000 and b["direction"] == "rx")
        print(f"period {k}: (host, corrected start - t ms, packets, peak/ms, uncertainty us): "
              f"{seen}")
assert found >= 13, f"only {found} of 15 synchronized bursts became an incident of all 4 hosts"
periods = [c["period_ms"] for c in incidents if c["period_ms"] is not None]
assert len(periods) >= 13, f"recurrence found for only {len(periods)} incidents"
for p in periods:
    assert abs(p - 500) <= 25, f"period {p} ms is not within 5% of 500 ms"
print(f"ok: {found} of 15 synchronized bursts are incidents of exactly the 4 targeted hosts "
      f"({len(incidents)} incidents), period {periods[0]:.1f} ms")
# The timeline below looks at a period that became an incident.
print(next(k for k in range(3, 15) if any(matches(c, t0 + k * 500_000_000) for c in incidents)),
      file=open(sys.argv[5], "w"))
PY
"$BIN_DIR/dropscope" --server "$SERVER" incidents --from "${t0}ns" --to "${t1}ns" | head -5

# The same incidents were found live, as the bursts arrived (each is
# reported once it has settled, 2 s after it started).
for _ in $(seq 30); do
  live=$(curl -sf "$SERVER/metrics" | awk '$1 == "dropscope_incidents_total" { print $2 }')
  [ "${live:-0}" -ge 15 ] && break
  sleep 0.2
done
[ "${live:-0}" -ge 13 ] || fail "only ${live:-0} incidents found live"
grep -q "incident at .*4 hosts" "$TMP/aggregator.log" || fail "no live incident in the aggregator's log"

# The timeline of one period: for each targeted host its burst with the 1 ms
# profile, and the incident, in time order.
k=$(cat "$TMP/period")
w0=$(( t0 + k * 500000000 - 100000000 )) w1=$(( t0 + k * 500000000 + 100000000 ))
"$BIN_DIR/dropscope" --server "$SERVER" timeline --json --from "${w0}ns" --to "${w1}ns" \
  --host "host1-$$" --host "host2-$$" --host "host3-$$" --host "host4-$$" >"$TMP/timeline.json"
python3 - "$TMP/timeline.json" "$$" <<'PY'
import json, sys
events, run = json.load(open(sys.argv[1])), sys.argv[2]
times = [e["ts_ns"] for e in events]
assert times == sorted(times), "the timeline is not in time order"
for i in (1, 2, 3, 4):
    bursts = [e for e in events if e["type"] == "burst" and e["host"] == f"host{i}-{run}"
              and e["direction"] == "rx"]
    assert len(bursts) == 1, f"host{i}: {len(bursts)} rx bursts in the window"
    assert len(bursts[0]["profile"]) > 10 and max(bursts[0]["profile"]) >= 20, bursts[0]
incidents = [e for e in events if e["type"] == "incident"]
assert len(incidents) == 1 and len(incidents[0]["hosts"]) == 4, incidents
print(f"ok: timeline of one period: 4 bursts with profiles and 1 incident, {len(events)} events")
PY
