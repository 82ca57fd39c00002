#!/usr/bin/env bash
# A full spool: with the aggregator away and a tiny --spool-size, the
# collector drops its oldest messages. Once the aggregator is back, the
# loss is reported (in the batches and in /api/hosts), and the newest data
# arrives intact: every socket drop that happened after the spool
# overflowed is stored, exactly.
source "$(dirname "$0")/lib.sh"
require_root

NS=ds-spool-$$ HOST=spool-host-$$
make_ns "$NS"
ENDPOINT="ipc://$TMP/aggregator.sock"
# Lots of changing counters per batch (traffic on lo), 50 ms apart: the small
# spool (64 KiB, about 4 s of batches) overflows soon. Not faster: once the
# aggregator is back the collector must deliver faster than it produces, or
# the bound keeps dropping the oldest, the newest drops among them (the
# sanitizer build on a busy machine stores about 50 batches a second).
bg ip netns exec "$NS" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"y", ("127.0.0.1", 9))
    time.sleep(0.001)'
start_collector "$NS" "$HOST" --interval 50ms --backend none --spool "$TMP/spool" --spool-size 64K \
  --verbose
COLLECTOR=${DAEMONS[-1]}
for _ in $(seq 100); do
  grep -q "spool: .* is full" "$TMP/collector-$HOST.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "spool: .* is full" "$TMP/collector-$HOST.log" || fail "the spool never filled"
sleep 0.5

# The newest data: drops after the overflow, while the aggregator is still away.
before=$(kernel_counter "$NS" UdpRcvbufErrors)
ip netns exec "$NS" python3 -c '
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
r.bind(("127.0.0.1", 9100))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(500):
    s.sendto(b"x" * 100, ("127.0.0.1", 9100))'
after=$(kernel_counter "$NS" UdpRcvbufErrors)
expected=$((after - before))
[ "$expected" -gt 400 ] || fail "only $expected drops produced"
# Two more batches (the second read after the drops), then the collector
# holds still until the aggregator is up: however long a busy machine takes
# to start it, no newer batch pushes the drops out of the spool (the spool
# holds about 3 s of batches; starting the sanitizer build's aggregator under
# load took longer, and the drops were gone before it listened).
batches() { grep -c ': batch [0-9]*:' "$TMP/collector-$HOST.log" || true; }
seen=$(batches)
two_more() { [ "$(batches)" -ge $((seen + 2)) ]; }
wait_for 10 "two batches after the drops" two_more
kill -STOP "$COLLECTOR"
held=$(grep -o ': batch [0-9]*:' "$TMP/collector-$HOST.log" | tail -1 | tr -dc 0-9)
start_aggregator
kill -CONT "$COLLECTOR"
deadline=$(( $(date +%s) + 30 ))
while :; do
  got=$("$BIN_DIR/dropscope" --server "$SERVER" drops --json --layer socket --host "$HOST" \
          --since 10m 2>/dev/null |
        python3 -c 'import json,sys; print(sum(r["delta"] for r in json.load(sys.stdin) if r["series"] == "snmp//Udp.RcvbufErrors"))' 2>/dev/null || echo 0)
  [ "$got" -ge "$expected" ] && break
  [ "$(date +%s)" -lt "$deadline" ] || fail "stored $got of the newest $expected drops after 30 s"
  sleep 0.5
done
[ "$got" -eq "$expected" ] || fail "stored $got drops, the kernel counted $expected"
# A host's row (losses, clock) is written about once a second. The batches
# replayed from the spool were built before the collector had an ack to
# estimate its clock from, the oldest of them before the spool overflowed:
# the row shows the losses once the batches held in the spool are stored,
# and a valid offset once a batch built after the first acks is.
for _ in $(seq 50); do
  curl -sf "$SERVER/api/hosts" >"$TMP/hosts.json"
  python3 -c 'import json, sys; sys.exit(not any(h["host"] == sys.argv[2] and h["last_seq"] >= int(sys.argv[3]) and (h["clock"] or {}).get("offset_valid") for h in json.load(open(sys.argv[1]))))' \
    "$TMP/hosts.json" "$HOST" "$held" && break
  sleep 0.2
done
python3 - "$TMP/hosts.json" "$HOST" <<'PY'
import json, sys
h = [x for x in json.load(open(sys.argv[1])) if x["host"] == sys.argv[2]][0]
lost = h["spool_dropped"]
assert lost["messages"] > 10 and lost["samples"] > 100, f"spool losses not reported: {lost}"
assert h["clock"] and h["clock"]["offset_valid"], f"no clock estimate: {h['clock']}"
assert abs(h["clock"]["offset_ns"]) < 50_000_000, h["clock"]  # same machine: tiny offset
print(f"ok: newest drops intact; spool lost {lost['messages']} messages "
      f"({lost['samples']} samples), reported; clock offset {h['clock']['offset_ns']} ns")
PY
