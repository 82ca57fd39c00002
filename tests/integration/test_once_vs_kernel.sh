#!/usr/bin/env bash
# `dropscope-collector --once --json` in a fresh network namespace, after
# some IPv4, IPv6, UDP, TCP and dropped traffic, must agree value for value
# with `nstat -az` and `ip -s -s -j link` read at the same moment there.
source "$(dirname "$0")/lib.sh"
require_root

A=ds-once-a-$$ B=ds-once-b-$$
make_ns "$A"
make_ns "$B"
ip link add va netns "$A" type veth peer name vb netns "$B"
ip -n "$A" addr add 10.77.0.1/24 dev va
ip -n "$B" addr add 10.77.0.2/24 dev vb
ip -n "$A" addr add fd77::1/64 dev va nodad
ip -n "$B" addr add fd77::2/64 dev vb nodad
ip -n "$A" link set va up
ip -n "$B" link set vb up

# Traffic: UDP v4 and v6 into a receiver that never reads (socket drops),
# UDP to a closed port (NoPorts), TCP connects to a listener, into A.
ip netns exec "$A" python3 - <<'PY' &
import socket, time
socks = []
for fam, addr in ((socket.AF_INET, "10.77.0.1"), (socket.AF_INET6, "fd77::1")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    s.bind((addr, 5000))
    socks.append(s)
l = socket.socket(); l.bind(("10.77.0.1", 5001)); l.listen(1)
time.sleep(8)
PY
PIDS+=($!)
sleep 0.5
ip netns exec "$B" python3 - <<'PY'
import socket
for fam, addr, n in ((socket.AF_INET, "10.77.0.1", 600), (socket.AF_INET6, "fd77::1", 400)):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for _ in range(n):
        s.sendto(b"x" * 200, (addr, 5000))
    for _ in range(7):
        s.sendto(b"y", (addr, 5999))
for _ in range(5):
    c = socket.socket(); c.settimeout(1)
    try: c.connect(("10.77.0.1", 5001))
    except OSError: pass
PY
sleep 0.5

# Read the three views until two snapshots in a row agree on what is
# compared (the CPUs' time moves at every read), so that nothing (IPv6
# neighbour discovery, a late retransmit) moved between the reads.
for try in $(seq 10); do
  ip netns exec "$A" "$BIN_DIR/dropscope-collector" --once --json >"$TMP/once1.json" 2>"$TMP/once.log"
  NSTAT_HISTORY="$TMP/nstat.hist" ip netns exec "$A" nstat -asz >"$TMP/nstat.txt"
  ip netns exec "$A" ip -s -s -j link >"$TMP/link.json"
  ip netns exec "$A" "$BIN_DIR/dropscope-collector" --once --json >"$TMP/once2.json" 2>>"$TMP/once.log"
  if python3 -c '
import json, sys
compared = ("snmp", "snmp6", "netstat", "netdev")
a, b = ([x for x in json.load(open(p))["series"] if x["source"] in compared] for p in sys.argv[1:])
sys.exit(a != b)' "$TMP/once1.json" "$TMP/once2.json"; then
    break
  fi
  log "counters moved during the reads (try $try); reading again"
  sleep 0.5
done

python3 "$(dirname "$0")/compare_kernel.py" "$TMP/once1.json" "$TMP/nstat.txt" "$TMP/link.json"

# The drops really happened, so the comparison covered non-zero counters.
rcvbuf=$(kernel_counter "$A" UdpRcvbufErrors)
[ "$rcvbuf" -gt 0 ] || fail "expected UDP receive-buffer drops in $A, kernel says $rcvbuf"
log "ok: snapshot matches nstat and ip link (UdpRcvbufErrors=$rcvbuf)"
