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
log "creating 8 hosts and a sender on a bridge"
make_fleet "$P" 8 1
start_aggregator
for i in $(seq 1 8); do
  start_collector "$P-h$i" "host$i" --interval 1s --burst-threshold 20
done
for i in 1 2 3 4; do # receivers that cannot keep up
  ip netns exec "$P-h$i" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("0.0.0.0", 7000))
while True:
    time.sleep(0.25)
    s.setblocking(False)
    try:
        while True:
            s.recv(65536)
    except BlockingIOError:
        pass' &
  PIDS+=($!)
done
sleep 2
log "synchronized bursts at host1-host4 every 500 ms; a full accept queue on host5"
bg ip netns exec "$P-s1" "$BIN_DIR/burstgen" --dest 10.90.0.1:7000 --dest 10.90.0.2:7000 \
  --dest 10.90.0.3:7000 --dest 10.90.0.4:7000 --bursts 1000000 --every 500ms --packets 150 \
  --payload 64 --background-pps 200 >/dev/null
scenario_listen_overflow "$P-h5" 40 >/dev/null
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
