#!/usr/bin/env bash
# `make demo`: a fleet of eight hosts in network namespaces on a bridge (all
# created here, removed on exit), each with a collector, and an aggregator.
# A sender fires synchronized bursts at four of them every 500 ms, into
# receivers too small to keep up; a fifth has a listener that never
# accepts. Within half a minute it prints incidents, a diagnosis and the
# bursts, then keeps running until Ctrl-C. Needs root.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root to create network namespaces (run: sudo make demo)" >&2
  exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export BIN_DIR=${1:-$ROOT/build/bin}
source "$ROOT/tests/integration/lib.sh"
source "$ROOT/tests/integration/scenarios.sh"
ds() { "$BIN_DIR/dropscope" --server "$SERVER" "$@"; }
trap 'exit 0' INT TERM # Ctrl-C is how a demo ends: clean up quietly

P=demo-$$
start_aggregator
scenario_demo_fleet "$P"
sleep 12

cat <<EOT

================ dropscope demo: aggregator at $SERVER ================
\$ dropscope incidents --since 1m
$(ds incidents --since 1m | head -8)

\$ dropscope diagnose host1 --since 1m
$(ds diagnose host1 --since 1m)

\$ dropscope diagnose host5 --since 1m
$(ds diagnose host5 --since 1m)

\$ dropscope bursts --host host2 --since 1m
$(ds bursts --host host2 --since 1m | head -6)

Try more (the fleet keeps running):
  $BIN_DIR/dropscope --server $SERVER hosts
  $BIN_DIR/dropscope --server $SERVER timeline --since 5s --host host1 --host host2
  $BIN_DIR/dropscope --server $SERVER drops --layer socket --since 1m
Press Ctrl-C to stop and remove the namespaces.
EOT
while true; do sleep 1; done # short sleeps: bash runs the trap between them
