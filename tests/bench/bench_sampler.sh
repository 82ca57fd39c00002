#!/usr/bin/env bash
# Collector CPU with the netlink fast path at a 1 ms tick, against its floor:
# a bare timerfd loop doing the same single RTM_GETSTATS dump per tick
# (tests/tools/timerfd_floor), run side by side for the same time in the
# same network namespace, with 4 and with 32 interfaces. CPU is utime+stime
# from /proc. docs/ARCHITECTURE.md, Budgets goal: collector / floor <= 1.3.
#   sudo BIN_DIR=build/bin BENCH_SECONDS=30 bash tests/bench/bench_sampler.sh
# (CI runs it with BENCH_SECONDS=2 as a smoke test.)
source "$(dirname "$0")/../integration/lib.sh"
require_root
SECONDS_RUN=${BENCH_SECONDS:-30}
TICKS_PER_S=1000
HZ=$(getconf CLK_TCK)

cpu_ns() { # PID: utime+stime of a live process, in ns
  awk -v hz="$HZ" '{ print ($14 + $15) * 1000000000 / hz }' "/proc/$1/stat"
}

start_aggregator
for n in 4 32; do
  NS=ds-bench-$n-$$ PEERS=ds-bench-peer-$n-$$
  make_ns "$NS"
  make_ns "$PEERS"
  for i in $(seq 1 $((n - 1))); do # lo + n-1 veth ends (no dummy driver on every kernel)
    ip -n "$NS" link add "v$i" type veth peer name "p$i" netns "$PEERS"
    ip -n "$NS" link set "v$i" up
  done
  ip netns exec "$NS" "$BIN_DIR/dropscope-collector" --connect "$ENDPOINT" --insecure \
    --host-name "bench-$n" --backend netlink --tick 1ms 2>>"$TMP/collector-$n.log" &
  collector=$!
  PIDS+=($collector)
  sleep 1 # start-up (first snapshot) is not what we measure
  c0=$(cpu_ns "$collector")
  floor=$(ip netns exec "$NS" "$BIN_DIR/timerfd_floor" 1ms "${SECONDS_RUN}s")
  c1=$(cpu_ns "$collector")
  kill "$collector"
  python3 - "$n" "$SECONDS_RUN" "$c0" "$c1" "$floor" <<'PY'
import sys
n, secs, c0, c1, floor = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
floor_ns = float(floor.split()[1])
ticks = int(floor.split()[3])
collector_ns = c1 - c0
pct = lambda ns: 100 * ns / (secs * 1e9)
print(f"{n:>2} interfaces, {secs:.0f} s: collector {pct(collector_ns):.2f}% of a core, "
      f"floor {pct(floor_ns):.2f}% ({ticks} ticks), ratio {collector_ns / floor_ns:.2f}")
PY
  ip netns del "$NS"
  ip netns del "$PEERS"
done
