#!/usr/bin/env bash
# Incidents across imperfect clocks. Four hosts are hit together every
# 500 ms. Host 2's clock runs 50 ms ahead (a test-only collector option):
# once its offset is known from the ack timestamps, its bursts still group
# with the others. Host 4's offset is only known to +-15 ms (its measured
# round trip is inflated by 30 ms, another test-only option): the incidents
# it joins say they are uncertain instead of grouping silently.
source "$(dirname "$0")/lib.sh"
require_root

P=ds-clk-$$
make_fleet "$P" 4 1
start_aggregator
for i in 1 2 3 4; do
  extra=()
  [ "$i" = 2 ] && extra=(--test-clock-offset 50ms)
  [ "$i" = 4 ] && extra=(--test-rtt-extra 30ms)
  start_collector "$P-h$i" "clk$i-$$" --interval 300ms --burst-threshold 20 "${extra[@]}"
  roomy_receiver "$P-h$i" 60
done
wait_clocks clk1-$$ clk2-$$ clk3-$$ clk4-$$
sleep 1 # a few more acks: the estimate is the best of the last 16 round trips
t0=$(( $(now_ns) + 500000000 ))
ip netns exec "$P-s1" "$BIN_DIR/burstgen" --dest 10.90.0.1:7000 --dest 10.90.0.2:7000 \
  --dest 10.90.0.3:7000 --dest 10.90.0.4:7000 --start "$t0" --bursts 8 --every 500ms \
  --packets 150 --payload 64 >/dev/null
sleep 1.5
t1=$(now_ns)
curl -sf "$SERVER/api/incidents?from=$((t0 - 500000000))&to=$((t1 + 100000000))" >"$TMP/inc.json"
curl -sf "$SERVER/api/hosts" >"$TMP/hosts.json"
python3 - "$TMP/inc.json" "$TMP/hosts.json" "$$" <<'PY'
import json, sys
incidents, hosts, run = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
clock = {h["host"]: h["clock"] for h in hosts}
off2 = clock[f"clk2-{run}"]["offset_ns"]
assert abs(off2 + 50_000_000) < 2_000_000, f"host 2's offset should be about -50 ms: {off2}"
assert clock[f"clk4-{run}"]["rtt_ns"] >= 30_000_000, clock[f"clk4-{run}"]
assert len(incidents) >= 7, f"{len(incidents)} incidents for 8 synchronized bursts"
for c in incidents:
    members = {m["host"].split("-")[0]: m for m in c["members"]}
    assert "clk2" in members, f"the skewed host was not grouped: {c['hosts']}"
    assert abs(members["clk2"]["start_ns"] - members["clk1"]["start_ns"]) < 2_000_000, members
    if "clk4" in members:
        assert c["uncertain"], f"an incident with the uncertain host is not flagged: {c}"
        assert members["clk4"]["uncertainty_ns"] >= 15_000_000
uncertain = sum(c["uncertain"] for c in incidents)
print(f"ok: {len(incidents)} incidents; the host 50 ms ahead grouped in all (offset {off2} ns); "
      f"{uncertain} flagged uncertain by the host known to +-15 ms")
PY
