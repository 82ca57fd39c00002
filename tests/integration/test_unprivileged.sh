#!/usr/bin/env bash
# The collector as the systemd unit runs it: a user of its own (here
# nobody, uid 65534) with exactly the unit's capabilities, ambient. A UDP
# receiver owned by ANOTHER user (uid 4242) that never reads is flooded in
# a namespace of the test's own, and the aggregator must then have:
#  1. with the unit's capabilities: the socket's drops equal to the
#     kernel's (the drops column of /proc/net/udp), the socket's owner
#     named (pid/python3), the eBPF backend in use and no degraded feature;
#  2. without CAP_SYS_PTRACE: the same drops, no owner, and `degraded`
#     naming socket owners and CAP_SYS_PTRACE (logged once, with the fix);
#  3. without CAP_BPF: the netlink backend, with `degraded` and
#     `backend_note` both naming CAP_BPF.
source "$(dirname "$0")/lib.sh"
require_root
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) is not installed" >&2; exit $SKIP; }
[ -x /usr/bin/python3 ] || fail "/usr/bin/python3 is missing (deploy/install-deps.sh installs it)"

# What the unit grants (docs/DEPLOY.md, "Running unprivileged").
UNIT_CAPS=bpf,perfmon,net_admin,sys_ptrace,dac_read_search
COLLECTOR_UID=65534 RECEIVER_UID=4242 N=3000

start_aggregator
# The collector, not root, must reach the aggregator's socket in $TMP.
chmod 755 "$TMP"
chmod 777 "$TMP/aggregator.sock"

# caps_arg CAPS: a,b,c as setpriv's "-all,+a,+b,+c": exactly those.
caps_arg() {
  local caps="-all" c
  for c in ${1//,/ }; do caps+=",+$c"; done
  echo "$caps"
}

# kernel_sock_drops NS: the drops column of 127.0.0.1:9999 in /proc/net/udp.
kernel_sock_drops() {
  ip netns exec "$1" awk '$2 == "0100007F:270F" { print $NF }' /proc/net/udp
}

# run_case NAME CAPS: a namespace with the other user's receiver and a
# collector as uid 65534 with CAPS; floods it and waits until the stored
# per-socket drops reach the kernel's. Leaves $TMP/NAME.{host,drops}.json
# and sets EXPECTED and PID_NAME.
run_case() {
  local name=$1 caps=$2 ns=ds-unpriv-$1-$$ host=unpriv-$1-$$
  make_ns "$ns"
  stuck_receiver "$ns"
  local c; c=$(caps_arg "$caps")
  daemon ip netns exec "$ns" setpriv --reuid=$COLLECTOR_UID --regid=$COLLECTOR_UID --clear-groups \
    --inh-caps="$c" --ambient-caps="$c" --bounding-set="$c" \
    "$BIN_DIR/dropscope-collector" --connect "$ENDPOINT" --insecure --host-name "$host" \
    --interval 200ms 2>>"$TMP/collector-$name.log"
  host_row "$host" >"$TMP/$name.host.json"
  sleep 0.6 # the baseline snapshot
  [ "$(kernel_sock_drops "$ns")" = 0 ] || fail "$name: the socket dropped before the flood"
  send_datagrams "$ns" $N
  EXPECTED=$(kernel_sock_drops "$ns")
  [ "$EXPECTED" -gt 0 ] || fail "$name: the kernel counted no drops; the experiment did not drop"
  log "$name: kernel: $EXPECTED of $N datagrams dropped at the socket"
  local deadline=$((SECONDS + 10)) got
  while :; do
    curl -sf "$SERVER/api/drops?host=$host&layer=socket&since=5m" >"$TMP/$name.drops.json"
    got=$(python3 -c '
import json, sys
print(sum(r["delta"] for r in json.load(open(sys.argv[1]))
          if r["series"] == "sock/udp:127.0.0.1:9999/drops"))' "$TMP/$name.drops.json")
    [ "$got" -ge "$EXPECTED" ] && break
    [ $SECONDS -lt $deadline ] || fail "$name: after 10 s the aggregator has $got of $EXPECTED socket drops"
    sleep 0.2
  done
  host_row "$host" >"$TMP/$name.host.json" # after the flood: the last hello's
  PID_NAME="$RECEIVER_PID/python3"
}

# check NAME BACKEND OWNER DEGRADED_WORDS NOTE_WORD: the stored drops equal
# the kernel's, the owner is OWNER ("" = none), the backend BACKEND, and
# `degraded` has one entry per |-separated word list (each entry holding
# all its words) or is empty; backend_note holds NOTE_WORD ("" = empty).
check() {
  python3 - "$TMP/$1.drops.json" "$TMP/$1.host.json" "$EXPECTED" "$2" "$3" "$4" "$5" "$1" <<'PY'
import json, sys
drops_path, host_path, expected, backend, owner, degraded, note, name = sys.argv[1:]
rows = [r for r in json.load(open(drops_path)) if r["series"] == "sock/udp:127.0.0.1:9999/drops"]
total = sum(r["delta"] for r in rows)
assert total == int(expected), f"{name}: stored socket drops {total}, the kernel's {expected}"
owners = {r.get("owner", "") for r in rows}
assert owners == {owner}, f"{name}: owners {owners}, expected {owner!r}"
h = json.load(open(host_path))
assert h["backend"] == backend, f"{name}: backend {h['backend']} ({h['backend_note']}), expected {backend}"
want = [w.split(",") for w in degraded.split("|")] if degraded else []
got = h["degraded"]
assert isinstance(got, list) and len(got) == len(want), f"{name}: degraded {got}, expected {want}"
for entry, words in zip(got, want):
    assert all(w in entry for w in words), f"{name}: degraded entry {entry!r} lacks {words}"
assert (note in h["backend_note"]) if note else h["backend_note"] == "", \
    f"{name}: backend_note {h['backend_note']!r}, expected {note!r}"
print(f"ok: {name}: {total} socket drops = the kernel's, owner {owner or 'none'}, "
      f"backend {backend}, degraded {got}")
PY
}

# 1. The unit's capabilities: nothing degraded.
run_case unit "$UNIT_CAPS"
case $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["backend_note"])' "$TMP/unit.host.json") in
  *"built without"* | *"no BTF"* | *"Linux 6.6"* | *"Linux 5.17"*)
    echo "SKIP: the eBPF backend cannot run on this machine" >&2; exit $SKIP ;;
esac
check unit ebpf "$PID_NAME" "" ""
! grep -q "degraded" "$TMP/collector-unit.log" || fail "unit: the collector logged a degraded feature"

# 2. Without CAP_SYS_PTRACE: drops, but no owner.
run_case noptrace "${UNIT_CAPS/sys_ptrace,/}"
check noptrace ebpf "" "socket owners,CAP_SYS_PTRACE" ""
[ "$(grep -c "degraded: socket owners" "$TMP/collector-noptrace.log")" = 1 ] ||
  fail "noptrace: the degraded socket owners were not logged exactly once"
grep -q "AmbientCapabilities=CAP_SYS_PTRACE or as root" "$TMP/collector-noptrace.log" ||
  fail "noptrace: the log does not give the fix: $(grep degraded "$TMP/collector-noptrace.log")"
"$BIN_DIR/dropscope" --server "$SERVER" hosts >"$TMP/hosts.txt"
grep -q "unpriv-noptrace-$$: degraded: socket owners" "$TMP/hosts.txt" ||
  fail "dropscope hosts does not show the degraded feature: $(cat "$TMP/hosts.txt")"

# 3. Without CAP_BPF: netlink, and both fields say why.
run_case nobpf "${UNIT_CAPS/bpf,/}"
check nobpf netlink "$PID_NAME" "ebpf backend,CAP_BPF,netlink" "CAP_BPF"
grep -q "degraded: ebpf backend: not loaded (needs CAP_BPF), using netlink; run with AmbientCapabilities=CAP_BPF or as root" \
  "$TMP/collector-nobpf.log" || fail "nobpf: the log does not say it: $(grep degraded "$TMP/collector-nobpf.log")"
log "ok: unprivileged collector: full with the unit's capabilities, degraded and saying so without"
