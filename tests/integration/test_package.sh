#!/usr/bin/env bash
# The Debian packages as an administrator uses them:
#  1. `make package` builds dropscope-collector, dropscope-aggregator and
#     dropscope-cli (lintian errors fail it); apt-get installs them from the
#     files alone (every dependency already on the machine).
#  2. `systemd-analyze verify` passes on the installed units, whose
#     AmbientCapabilities= and CapabilityBoundingSet= are the same list.
#  3. The installed daemons run the way their units say: ExecStart=, User=,
#     the capabilities (setpriv), NoNewPrivileges=, UMask=, a StateDirectory=
#     made as systemd makes it, and the installed config files changed only
#     as README.md's "Install on a fleet" says (keys, allow, connect). In a
#     namespace, a UDP receiver of another user overflows its buffer: the
#     unprivileged collector's stored socket drops equal the kernel's count,
#     the socket's owner is named, and /api/hosts says backend "ebpf".
#  4. apt-get purge leaves nothing: no user, no /etc/dropscope, no
#     /var/lib/dropscope-*, none of the packages' files, no other new file.
# It refuses (exit 77) to run where dropscope is installed or configured:
# the purge would remove that installation.
source "$(dirname "$0")/lib.sh"
require_root
REPO=$(dirname "$0")/../..
REPO=$(cd "$REPO" && pwd)
BUILD=$(cd "$BIN_DIR/.." && pwd)
PKG_DIR=$BUILD/packages
PACKAGES=(dropscope-aggregator dropscope-collector dropscope-cli)
USERS=(dropscope-aggregator dropscope-collector)
UNITS=/lib/systemd/system

for tool in dpkg-buildpackage lintian systemd-analyze setpriv apt-get nstat; do
  command -v $tool >/dev/null ||
    fail "$tool is missing: install the packages of deploy/install-deps.sh (make deps)"
done
for p in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
    echo "SKIP: $p is installed here: this test would purge it (apt-get purge ${PACKAGES[*]} first)" >&2
    exit $SKIP
  fi
done
for u in "${USERS[@]}"; do
  if getent passwd "$u" >/dev/null || getent group "$u" >/dev/null; then
    echo "SKIP: the user or group $u exists: this test would delete it" >&2
    exit $SKIP
  fi
done
for d in /etc/dropscope /var/lib/dropscope-aggregator /var/lib/dropscope-collector; do
  if [ -e "$d" ]; then
    echo "SKIP: $d exists: this test would remove it" >&2
    exit $SKIP
  fi
done

# Everything under these roots, but what apt, dpkg and logs change anyway.
snapshot() {
  find /etc /usr /var /opt /srv -xdev \
    \( -path /var/cache -o -path /var/log -o -path /var/tmp -o -path /var/lib/dpkg \
       -o -path /var/lib/apt -o -path /var/backups -o -path /var/mail -o -path /var/spool \) -prune \
    -o -print 2>/dev/null | sort
}

# On any exit: the daemons stopped, the packages purged, and whatever the
# purge left (after the test has failed on it) removed.
INSTALLED=0
pkg_cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=() DAEMONS=()
  [ $INSTALLED -eq 1 ] || return 0
  apt-get purge -y -qq -o DPkg::Lock::Timeout=60 "${PACKAGES[@]}" >/dev/null 2>&1 || true
  rm -rf /etc/dropscope /var/lib/dropscope-aggregator /var/lib/dropscope-collector
  for u in "${USERS[@]}"; do
    getent passwd "$u" >/dev/null && userdel "$u"
    getent group "$u" >/dev/null && groupdel "$u"
  done
  return 0
}
trap 'rc=$?; pkg_cleanup; (exit $rc); cleanup' EXIT

# 1. Build and install.
log "make package (BUILD=$BUILD)"
make -C "$REPO" --no-print-directory package BUILD="$BUILD" >"$TMP/package.log" 2>&1 ||
  fail "make package failed: $(tail -n 30 "$TMP/package.log")"
grep -q "package: lintian: no errors" "$TMP/package.log" ||
  fail "lintian found errors: $(cat "$TMP/package.log")"
debs=()
for p in "${PACKAGES[@]}"; do
  f=$(ls "$PKG_DIR/${p}_"*.deb 2>/dev/null | head -n 1)
  [ -n "$f" ] || fail "make package made no $p package in $PKG_DIR"
  debs+=("$f")
done
log "built: ${debs[*]##*/}"

# No network: every dependency must already be installed.
apt-get install -s --no-install-recommends "${debs[@]}" >"$TMP/simulate.log" 2>&1 ||
  fail "apt-get cannot install the packages: $(cat "$TMP/simulate.log")"
others=$(awk '$1 == "Inst" {print $2}' "$TMP/simulate.log" | grep -vxE 'dropscope-(aggregator|collector|cli)' || true)
[ -z "$others" ] ||
  fail "the packages need $(echo $others) too, which this machine lacks: install them first (deploy/install-deps.sh), this test downloads nothing"

# What the packages hold, and which of those paths this machine has already
# (/usr/bin, ...): after the purge, none of the others may be left.
for f in "${debs[@]}"; do dpkg-deb -c "$f"; done | awk '{print $6}' | sed 's|^\.||; s|/$||' |
  grep . | sort -u >"$TMP/contents.list"
while read -r f; do
  if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi
done <"$TMP/contents.list" >"$TMP/existed.list"
snapshot >"$TMP/before.list"
INSTALLED=1
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=60 "${debs[@]}" \
  >"$TMP/install.log" 2>&1 || fail "apt-get install failed: $(tail -n 30 "$TMP/install.log")"
for u in "${USERS[@]}"; do
  getent passwd "$u" >/dev/null || fail "installing made no user $u"
done
for p in "${PACKAGES[@]}"; do dpkg -L "$p"; done | sort -u >"$TMP/files.list"
grep -qx /usr/bin/dropscope-collector "$TMP/files.list" || fail "dpkg -L lists no /usr/bin/dropscope-collector"
# The alerting rules and the dashboard ship with the aggregator, and the
# installed rules are valid.
for f in /usr/share/dropscope/prometheus/dropscope.rules.yml /usr/share/dropscope/grafana/dropscope.json; do
  grep -qx "$f" "$TMP/files.list" || fail "dpkg -L lists no $f"
done
if command -v promtool >/dev/null; then
  promtool check rules /usr/share/dropscope/prometheus/dropscope.rules.yml >"$TMP/promtool.log" 2>&1 ||
    fail "the installed rules do not check: $(cat "$TMP/promtool.log")"
fi
log "installed: $(wc -l <"$TMP/files.list") paths"

# 2. The installed units.
for role in aggregator collector; do
  unit=$UNITS/dropscope-$role.service
  [ -f "$unit" ] || fail "$unit was not installed"
  systemd-analyze verify --man=no "$unit" >"$TMP/verify-$role.log" 2>&1 ||
    fail "systemd-analyze verify $unit: $(cat "$TMP/verify-$role.log")"
  [ ! -s "$TMP/verify-$role.log" ] || fail "systemd-analyze verify $unit says: $(cat "$TMP/verify-$role.log")"
  systemd-analyze security --offline=true "$unit" 2>/dev/null | grep "Overall exposure" |
    sed "s|^|$role: |" >&2 || true
done

# unit_value UNIT KEY: the value of the unit's last KEY= line.
unit_value() {
  sed -n "s/^$2=//p" "$UNITS/$1.service" | tail -n 1
}
[ "$(unit_value dropscope-collector AmbientCapabilities)" = \
  "$(unit_value dropscope-collector CapabilityBoundingSet)" ] ||
  fail "the collector's AmbientCapabilities= and CapabilityBoundingSet= differ"

# 3. README.md, "Install on a fleet": the aggregator's key, the collector's
# key admitted by the aggregator, and the collector's `connect`.
HOST=$(hostname)
dropscope keygen /etc/dropscope/aggregator >/dev/null
chown dropscope-aggregator: /etc/dropscope/aggregator_secret
mkdir "$TMP/keys"
dropscope keygen --name "$HOST" "$TMP/keys/$HOST" >/dev/null
cp "$TMP/keys/$HOST" "/etc/dropscope/allow/$HOST"
cp "$TMP/keys/${HOST}_secret" /etc/dropscope/collector_secret # the host's copy
chown dropscope-collector: /etc/dropscope/collector_secret
sed -i 's|^#connect =$|connect = tcp://127.0.0.1:7420|' /etc/dropscope/collector.conf
grep -qx 'connect = tcp://127.0.0.1:7420' /etc/dropscope/collector.conf ||
  fail "/etc/dropscope/collector.conf has no '#connect =' line to set, as README.md says"

NS=ds-pkg-$$
make_ns "$NS"
# run_unit NAME: starts the installed unit NAME in the namespace as systemd
# would: its User=, Group=, capabilities, NoNewPrivileges=, UMask= and
# StateDirectory=, a clean environment (no NOTIFY_SOCKET), its ExecStart=.
run_unit() {
  local name=$1 user group caps setcaps state mode umask exec
  user=$(unit_value "$name" User)
  group=$(unit_value "$name" Group)
  caps=$(unit_value "$name" AmbientCapabilities)
  state=$(unit_value "$name" StateDirectory)
  mode=$(unit_value "$name" StateDirectoryMode)
  umask=$(unit_value "$name" UMask)
  exec=$(unit_value "$name" ExecStart)
  [ -n "$user" ] && [ "$user" != root ] || fail "$name runs as '${user:-root}', not as its own user"
  [ "$(unit_value "$name" NoNewPrivileges)" = yes ] || fail "$name lacks NoNewPrivileges=yes"
  if [ -n "$caps" ]; then
    setcaps=$(echo "$caps" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
  else
    setcaps=-all
  fi
  if [ -n "$state" ]; then
    install -d -o "$user" -g "${group:-$user}" -m "${mode:-0755}" "/var/lib/$state"
  fi
  # shellcheck disable=SC2086 # ExecStart= is words, as systemd splits them
  daemon ip netns exec "$NS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c \
    'cd / && umask "$1" && shift && exec "$@"' sh "${umask:-0022}" \
    setpriv --reuid "$user" --regid "${group:-$user}" --init-groups --no-new-privs \
    --inh-caps "$setcaps" --ambient-caps "$setcaps" --bounding-set "-all${caps:+,$setcaps}" \
    $exec 2>>"$TMP/$name.log"
}
in_ns() { ip netns exec "$NS" "$@"; }
api() { in_ns curl -sf "http://127.0.0.1:7421$1"; }

run_unit dropscope-aggregator
AGG_PID=${PIDS[-1]}
healthy() { api /healthz >/dev/null; }
wait_for 10 "the aggregator's /healthz" healthy
run_unit dropscope-collector
COL_PID=${PIDS[-1]}

# capabilities HEX: the names of a capability mask, sorted, comma-separated.
capabilities() {
  python3 - "$1" <<'PY'
import sys
names = ["chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
         "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
         "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
         "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
         "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
         "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
         "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore"]
mask = int(sys.argv[1], 16)
print(",".join(sorted(names[i] if i < len(names) else str(i) for i in range(64) if mask >> i & 1)))
PY
}
# check_identity PID UNIT: the daemon runs as the unit's User= with exactly
# its AmbientCapabilities= (effective and ambient), and no others.
check_identity() {
  local pid=$1 user uid want eff amb bnd
  user=$(unit_value "$2" User)
  uid=$(id -u "$user")
  awk -v u="$uid" '$1 == "Uid:" { exit !($2 == u && $3 == u && $4 == u) }' "/proc/$pid/status" ||
    fail "$2 (pid $pid) does not run as $user (uid $uid): $(grep Uid: "/proc/$pid/status")"
  want=$(unit_value "$2" AmbientCapabilities | tr 'A-Z ' 'a-z\n' | sed 's/^cap_//' | { grep . || true; } | sort |
    paste -sd, -)
  eff=$(capabilities "$(awk '$1 == "CapEff:" {print $2}' "/proc/$pid/status")")
  amb=$(capabilities "$(awk '$1 == "CapAmb:" {print $2}' "/proc/$pid/status")")
  bnd=$(capabilities "$(awk '$1 == "CapBnd:" {print $2}' "/proc/$pid/status")")
  [ "$eff" = "$want" ] && [ "$amb" = "$want" ] && [ "$bnd" = "$want" ] ||
    fail "$2 (pid $pid) has capabilities effective '$eff', ambient '$amb', bounding '$bnd'; its unit says '$want'"
  log "ok: $2 runs as $user (uid $uid) with capabilities '${want:-none}'"
}
check_identity "$AGG_PID" dropscope-aggregator

# hosts_field FIELD: HOST's FIELD in /api/hosts, once it has said hello.
host_field() {
  api /api/hosts | python3 -c '
import json, sys
for h in json.load(sys.stdin):
    if h["host"] == sys.argv[1]:
        print(h[sys.argv[2]]); sys.exit(0)
sys.exit(1)' "$HOST" "$1"
}
said_hello() { host_field backend >/dev/null; }
wait_for 20 "the collector's hello (host $HOST in /api/hosts)" said_hello
check_identity "$COL_PID" dropscope-collector
backend=$(host_field backend)
note=$(host_field backend_note)
case "$backend $note" in
  ebpf*) ;;
  *"Linux 6.6"* | *"no BTF"*) echo "SKIP: the eBPF backend cannot run on this kernel: $note" >&2; exit $SKIP ;;
  *) fail "the unprivileged collector runs backend '$backend' ($note), not ebpf: its capabilities?" ;;
esac
degraded=$(host_field degraded)
[ "$degraded" = "[]" ] || fail "the collector runs degraded with the unit's capabilities: $degraded"
log "ok: /api/hosts: $HOST, backend $backend, degraded $degraded"
sleep 1.5 # the collector's first (baseline) batch

# A receiver of another user (nobody) that never reads.
before=$(kernel_counter "$NS" UdpRcvbufErrors)
RECEIVER_UID=65534 stuck_receiver "$NS"
receiver=$RECEIVER_PID
send_datagrams "$NS" 3000
after=$(kernel_counter "$NS" UdpRcvbufErrors)
expected=$((after - before))
[ "$expected" -gt 1000 ] || fail "the kernel counted $expected RcvbufErrors: the receiver did not drop"
log "kernel: Udp.RcvbufErrors +$expected"

socket_drops() { # true once the stored RcvbufErrors and eBPF reason reach the kernel's count
  api "/api/drops?host=$HOST&layer=socket&since=5m" >"$TMP/drops.json" || return 1
  python3 -c '
import json, sys
rows, expected = json.load(open(sys.argv[1])), int(sys.argv[2])
def total(series):
    return sum(r["delta"] for r in rows if r["series"] == series)
sys.exit(min(total("snmp//Udp.RcvbufErrors"), total("reason//SOCKET_RCVBUFF")) < expected)' \
    "$TMP/drops.json" "$expected"
}
wait_for 15 "the collector's socket drops to reach the kernel's $expected" socket_drops
python3 - "$TMP/drops.json" "$expected" "$receiver" <<'PY'
import json, sys
rows, expected, pid = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
def total(series):
    return sum(r["delta"] for r in rows if r["series"] == series)
assert total("snmp//Udp.RcvbufErrors") == expected, (total("snmp//Udp.RcvbufErrors"), expected)
assert total("reason//SOCKET_RCVBUFF") == expected, (total("reason//SOCKET_RCVBUFF"), expected)
sock = [r for r in rows if r["series"] == "sock/udp:127.0.0.1:9999/drops"]
assert sum(r["delta"] for r in sock) == expected, sock
owners = {r.get("owner") for r in sock}
assert owners == {f"{pid}/python3"}, f"socket owner {owners}, the receiver is {pid}/python3"
print(f"ok: stored socket drops {expected} = the kernel's (snmp, eBPF reason, per socket), "
      f"owner {pid}/python3")
PY

# The README's check, with the installed CLI, and a reload (ExecReload=).
in_ns dropscope hosts >"$TMP/hosts.txt" || fail "dropscope hosts failed"
grep -q "^$HOST " "$TMP/hosts.txt" || grep -q " $HOST " "$TMP/hosts.txt" ||
  fail "dropscope hosts does not list $HOST: $(cat "$TMP/hosts.txt")"
kill -HUP "$AGG_PID" "$COL_PID"
sleep 1
kill -0 "$AGG_PID" && kill -0 "$COL_PID" || fail "a daemon died on SIGHUP (systemctl reload)"
log "ok: dropscope hosts lists $HOST; both daemons survive a reload"

# 4. Purge.
for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
PIDS=() DAEMONS=()
apt-get purge -y -qq -o DPkg::Lock::Timeout=60 "${PACKAGES[@]}" >"$TMP/purge.log" 2>&1 ||
  fail "apt-get purge failed: $(tail -n 30 "$TMP/purge.log")"
INSTALLED=0
for u in "${USERS[@]}"; do
  ! getent passwd "$u" >/dev/null || fail "purge left the user $u"
  ! getent group "$u" >/dev/null || fail "purge left the group $u"
done
for d in /etc/dropscope /var/lib/dropscope-aggregator /var/lib/dropscope-collector; do
  [ ! -e "$d" ] || fail "purge left $d: $(find "$d" | head)"
done
left=()
while read -r f; do
  if [ -e "$f" ] || [ -L "$f" ]; then left+=("$f"); fi
done < <(comm -23 "$TMP/contents.list" "$TMP/existed.list")
[ ${#left[@]} -eq 0 ] || fail "purge left files the packages installed: ${left[*]}"
snapshot >"$TMP/after.list"
new=$(comm -13 "$TMP/before.list" "$TMP/after.list")
[ -z "$new" ] || fail "install and purge left new files: $(echo "$new" | head -n 20)"
log "ok: purge removed the users, /etc/dropscope, /var/lib/dropscope-* and every file of the packages ($(comm -23 "$TMP/contents.list" "$TMP/existed.list" | wc -l) paths)"
