#!/usr/bin/env bash
# Any local user can name a process anything (prctl PR_SET_NAME), escape
# bytes and newlines included. A receiver so named holds a socket that
# drops: the collector names the socket's owner escaped, the aggregator
# refuses nothing, the host keeps reporting, and the stored
# Udp.RcvbufErrors of the namespace equal the kernel's.
source "$(dirname "$0")/lib.sh"
require_root

NS=ds-owner-$$
HOST=owner-host-$$
make_ns "$NS"
start_aggregator
start_collector "$NS" "$HOST" --interval 200ms --backend none
# PR_SET_NAME (15): an escape sequence, a newline and a byte that is not UTF-8
stuck_receiver "$NS" 'ctypes.CDLL(None).prctl(15, b"ev\x1b[2Jil\n\xff", 0, 0, 0)'
pid=$RECEIVER_PID
grep -q $'\e' "/proc/$pid/comm" || fail "the receiver's name has no escape byte: $(od -c "/proc/$pid/comm")"
before=$(kernel_counter "$NS" UdpRcvbufErrors)
send_datagrams "$NS" 3000
expected=$(($(kernel_counter "$NS" UdpRcvbufErrors) - before))
[ "$expected" -gt 0 ] || fail "the kernel counted no RcvbufErrors; the experiment did not drop"

# The owner is looked up within 10 s of the socket's first drop; the
# batches carrying it must be stored like any other.
check() {
  "$BIN_DIR/dropscope" --server "$SERVER" drops --json --layer socket --host "$HOST" --since 5m \
    >"$TMP/drops.json" &&
    python3 - "$TMP/drops.json" "$expected" "$pid" <<'PY'
import json, sys
rows, expected, pid = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
snmp = sum(r["delta"] for r in rows if r["series"] == "snmp//Udp.RcvbufErrors")
owners = {r.get("owner") for r in rows if r["series"] == "sock/udp:127.0.0.1:9999/drops"}
want = pid + "/ev\\x1b[2Jil\\x0a\\xff"
if snmp != expected or owners != {want}:
    print(f"stored {snmp} of {expected}; owners {owners}, want {want!r}", file=sys.stderr)
    sys.exit(1)
PY
}
checked() { check 2>"$TMP/check.err" || { cat "$TMP/check.err" >&2; false; }; }
wait_for 25 "the drops and their owner" checked
rejects=$(curl -sf "$SERVER/metrics" | awk '$1 == "dropscope_rejects_total" { print $2 }')
[ "${rejects:-x}" = 0 ] || fail "the aggregator refused $rejects messages"
# Still reporting: a batch stored after the owner went out.
seen() { curl -sf "$SERVER/api/hosts" | python3 -c '
import json, sys
print(next(h["last_seen_ns"] for h in json.load(sys.stdin) if h["host"] == sys.argv[1]))' "$HOST"; }
first=$(seen)
later() { [ "$(seen)" -gt "$first" ]; }
wait_for 10 "a later batch (the host stopped reporting?)" later
"$BIN_DIR/dropscope" --server "$SERVER" diagnose "$HOST" --since 5m >"$TMP/diagnose.txt"
grep -qF "held by $pid/ev\\x1b[2Jil\\x0a\\xff" "$TMP/diagnose.txt" ||
  fail "the diagnosis does not name the owner escaped: $(cat "$TMP/diagnose.txt")"
log "ok: $expected drops stored as the kernel counted them; the owner shown as $pid/ev\\x1b[2Jil\\x0a\\xff"
