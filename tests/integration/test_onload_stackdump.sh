#!/usr/bin/env bash
# The Onload source with stand-ins for onload_stackdump (Onload needs a
# Solarflare/AMD NIC): one that prints a fixture, first on PATH, must give
# --once --json the fixture's values; one that hangs is killed at its
# deadline, with its children, and the collector goes on; one that fails
# is logged with its stderr; and a running collector sends a stack's new
# memory-pressure drops to the aggregator, whose diagnosis names the
# stack's EF_MAX_PACKETS. Everything runs inside a namespace of its own.
source "$(dirname "$0")/lib.sh"
require_root

FIX=${FIXTURES_DIR:?set FIXTURES_DIR to tests/fixtures}/onload-stackdump
NS=ds-onload-$$
HOST=onload-host-$$
make_ns "$NS"
mkdir -p "$TMP/bin"
stand_in() { # stand_in NAME BODY: an executable script $TMP/bin/NAME
  printf '#!/bin/sh\n%s\n' "$2" >"$TMP/bin/$1"
  chmod +x "$TMP/bin/$1"
}

# --- 1. the fixture's values, with the tool found on PATH; the tool gets
# stdin, stdout and stderr and no other descriptor of the collector's
cat >"$TMP/bin/onload_stackdump" <<PY
#!/usr/bin/python3
import os, sys
if sys.argv[1:] != ["lots"]:
    sys.exit(64)
inherited = []
for name in os.listdir("/proc/self/fd"):
    try:  # the listing's own descriptor is closed by now
        target = os.readlink("/proc/self/fd/" + name)
    except OSError:
        continue
    if int(name) > 2:
        inherited.append(name + " -> " + target)
if inherited:
    sys.stderr.write("inherited descriptors: " + ", ".join(inherited) + "\n")
    sys.exit(65)
sys.stdout.write(open("$FIX/oflow.txt").read())
PY
chmod +x "$TMP/bin/onload_stackdump"
PATH="$TMP/bin:$PATH" ip netns exec "$NS" "$BIN_DIR/dropscope-collector" --once --json \
  >"$TMP/once.json" 2>"$TMP/once.log"
python3 - "$TMP/once.json" <<'PY'
import json, sys
series = [s for s in json.load(open(sys.argv[1]))["series"] if s["source"] == "onload"]
by = {(s["device"], s["name"]): s for s in series}
def want(dev, name, value, kind, layer, overlap=False):
    s = by.get((dev, name))
    assert s, f"no onload/{dev}/{name} among {len(series)} onload series"
    got = (s["value"], s["kind"], s["layer"], s["overlap"])
    assert got == (value, kind, layer, overlap), f"onload/{dev}/{name}: {got}"
want("md:udp:239.1.1.1:31001", "oflow_drop", 48211, "counter", "onload")
want("md:udp:239.1.1.1:31001", "mem_drop", 0, "counter", "onload", True)
want("md:udp:239.1.1.1:31001", "rcvbuf", 212992, "setting", "config")
want("md:udp:239.1.1.2:31002", "oflow_drop", 17, "counter", "onload")
want("md:udp6:[fd00::5]:31003", "oflow_drop", 4096, "counter", "onload")
want("md", "memory_pressure_drops", 0, "counter", "onload")
want("md", "memory_pressure_enter", 0, "counter", "onload", True)
want("md", "rx_evs", 48211033, "counter", "traffic")
want("md", "EF_MAX_PACKETS", 32768, "setting", "config")
want("md", "EF_RXQ_SIZE", 1024, "setting", "config")
want("md", "EF_UDP_RCVBUF", 212992, "setting", "config")
want("md:enp1s0f0", "rxq_size", 1024, "setting", "config")
want("2", "EF_MAX_PACKETS", 32768, "setting", "config")
assert not any(d.startswith("2:udp") for d, _ in by), "a quiet socket made series"
# md: 300 statistics, 17 numeric options, a ring; stack 2: its EF_RXQ_SIZE
# is automatic (-1, left out); three sockets of md dropped: 3 series each
assert len(series) == (300 + 17 + 1) + (300 + 16 + 1) + 3 * 3, f"{len(series)} onload series"
print(f"ok: {len(series)} onload series with the fixture's values")
PY
grep -q onload "$TMP/once.log" && fail "a working tool logged: $(cat "$TMP/once.log")"

# --- 2. a tool that hangs: killed at 2 s with what it started -------------
MARK=$((900000 + $$ % 99999))
stand_in hang "echo 'onload_stackdump: waiting for a stack lock' >&2; sleep $MARK & wait"
start=$(date +%s%N)
ip netns exec "$NS" "$BIN_DIR/dropscope-collector" --once --json \
  --onload-stackdump "$TMP/bin/hang" >"$TMP/hang.json" 2>"$TMP/hang.log"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
log "--once with a hanging tool took $took_ms ms"
[ "$took_ms" -ge 1900 ] && [ "$took_ms" -lt 8000 ] || fail "a hanging tool took $took_ms ms"
grep -q "did not finish within the deadline (2000 ms): killed: onload_stackdump: waiting" \
  "$TMP/hang.log" || fail "no log line for the hung tool: $(cat "$TMP/hang.log")"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["series"]
assert s and not [x for x in s if x["source"] == "onload"]' "$TMP/hang.json" ||
  fail "a killed run gave series, or the snapshot was lost"
wait_for 5 "the hung tool's child to be gone" sh -c "! pgrep -f '[s]leep $MARK' >/dev/null"

# --- 3. a tool that fails: its stderr in the log, the rest of the snapshot kept
stand_in fails "echo 'onload_stackdump: could not open /dev/onload' >&2; exit 3"
ip netns exec "$NS" "$BIN_DIR/dropscope-collector" --once --json \
  --onload-stackdump "$TMP/bin/fails" >"$TMP/fails.json" 2>"$TMP/fails.log"
grep -q "failed (exit status 3): onload_stackdump: could not open /dev/onload" "$TMP/fails.log" ||
  fail "no log line for the failing tool: $(cat "$TMP/fails.log")"
ip netns exec "$NS" "$BIN_DIR/dropscope-collector" --once --json --onload-stackdump none \
  >"$TMP/none.json" 2>"$TMP/none.log"
grep -q -i onload "$TMP/none.log" && fail "--onload-stackdump none logged: $(cat "$TMP/none.log")"

# --- 4. new memory-pressure drops reach the aggregator and the diagnosis ----
cp "$FIX/memory-pressure.txt" "$TMP/dump.txt"
stand_in onload_stackdump "exec cat \"$TMP/dump.txt\""
start_aggregator
PATH="$TMP/bin:$PATH" start_collector "$NS" "$HOST" --interval 200ms
settings() {
  "$BIN_DIR/dropscope" --server "$SERVER" series --json --host "$HOST" --since 5m \
    --series onload/feed/EF_MAX_PACKETS >"$TMP/series.json" 2>/dev/null &&
    python3 -c 'import json,sys; sys.exit(not json.load(open(sys.argv[1])))' "$TMP/series.json"
}
wait_for 30 "the stack's settings at the aggregator" settings
# 1000 more drops in the stack, 1000 of them on one socket
sed -e 's/^memory_pressure_drops: 91234$/memory_pressure_drops: 92234/' \
  -e 's/mem_drop=88001 /mem_drop=89001 /' "$FIX/memory-pressure.txt" >"$TMP/dump.new"
mv "$TMP/dump.new" "$TMP/dump.txt"
drops() {
  "$BIN_DIR/dropscope" --server "$SERVER" drops --json --layer onload --host "$HOST" --since 5m \
    >"$TMP/drops.json" &&
    python3 -c 'import json,sys
rows = json.load(open(sys.argv[1]))
sys.exit(sum(r["delta"] for r in rows if r["series"] == "onload/feed/memory_pressure_drops") < 1000)' \
      "$TMP/drops.json"
}
wait_for 40 "the stack's 1000 drops at the aggregator (the tool runs every 10 s)" drops
"$BIN_DIR/dropscope" --server "$SERVER" diagnose "$HOST" --json --since 5m >"$TMP/diagnose.json"
python3 - "$TMP/drops.json" "$TMP/diagnose.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
by = {}
for r in rows:
    by.setdefault(r["series"], []).append(r)
stack = by["onload/feed/memory_pressure_drops"]
assert sum(r["delta"] for r in stack) == 1000 and not any(r["overlap"] or r["reset"] for r in stack), stack
sock = by["onload/feed:udp:239.2.2.1:41001/mem_drop"]
assert sum(r["delta"] for r in sock) == 1000 and all(r["overlap"] for r in sock), sock
assert set(by) == {"onload/feed/memory_pressure_drops", "onload/feed:udp:239.2.2.1:41001/mem_drop"}, \
    f"other onload rows: {sorted(by)} (the first read is a baseline)"
d = json.load(open(sys.argv[2]))
d = d[0] if isinstance(d, list) else d
f = [x for x in d["findings"] if x["layer"] == "onload"]
assert f and f[0]["drops"] == 1000, d["findings"]
assert "raise EF_MAX_PACKETS (now 32768) to 65536" in f[0]["remedy"], f[0]["remedy"]
print("ok: 1000 onload drops stored once (the socket's as overlap); remedy:", f[0]["remedy"][:80])
PY
