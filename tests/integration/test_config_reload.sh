#!/usr/bin/env bash
# The aggregator as a systemd unit of Type=notify sees it, and its reload:
# READY=1 only once the HTTP API answers, a STATUS= line, WATCHDOG=1 at
# half of WATCHDOG_USEC, RELOADING=1 then READY=1 around a SIGHUP, and
# STOPPING=1 on SIGTERM (on a unix datagram socket this test binds, as
# systemd's NOTIFY_SOCKET); then --config FILE and SIGHUP: a reloadable
# change applied (max-skew: a collector 30 minutes ahead, stored before,
# is refused after), a change needing a restart (http) logged as such, and
# an invalid file logged with its line while the aggregator keeps serving.
# No namespaces: everything is on loopback and ipc://.
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x $PY ] || fail "$PY is missing: install the Debian package python3 (deploy/install-deps.sh)"

# notify_listener SOCKET PORT OUT: systemd's side of sd_notify. Each
# datagram becomes a line of OUT, "SECONDS http=STATE A=1|B=2" (monotonic
# seconds; on READY=1 whether http://127.0.0.1:PORT/healthz answered right
# then: up or down).
notify_listener() {
  $PY -c '
import socket, sys, time, urllib.request
path, port, out = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
f = open(out, "w", buffering=1)
while True:
    data = s.recv(4096).decode()
    t = time.monotonic()
    http = "-"
    if "READY=1" in data.split("\n"):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            http = "up"
        except Exception:
            http = "down"
    f.write(f"{t:.3f} http={http} " + data.replace("\n", "|") + "\n")' "$@" &
  PIDS+=($!)
  wait_for 10 "the notify socket $1" test -S "$1"
}

# reloaded FILE STATUS: a RELOADING=1 (with MONOTONIC_USEC=) in FILE, and
# the next line READY=1 with STATUS.
reloaded() {
  grep -A1 'RELOADING=1|MONOTONIC_USEC=[0-9]*$' "$1" | tail -n +2 | grep -qF "READY=1|$2"
}

# --- sd_notify -----------------------------------------------------------
port=$(free_port)
notify_listener "$TMP/notify.sock" "$port" "$TMP/notify.txt"
NOTIFY_SOCKET="$TMP/notify.sock" WATCHDOG_USEC=200000 \
  "$BIN_DIR/dropscope-aggregator" --db "$TMP/notify.sqlite" --listen "ipc://$TMP/notify-agg.sock" \
  --http "127.0.0.1:$port" --insecure 2>>"$TMP/notify-aggregator.log" &
notified=$!
PIDS+=($notified)
wait_for 20 "READY=1 on the notify socket" grep -q 'READY=1' "$TMP/notify.txt"
grep 'READY=1' "$TMP/notify.txt" | head -1 | grep -q ' http=up ' ||
  fail "READY=1 came before the HTTP API answered: $(grep READY=1 "$TMP/notify.txt")"
grep -q "READY=1|STATUS=serving: collectors on ipc://$TMP/notify-agg.sock, HTTP API on http://127.0.0.1:$port/" \
  "$TMP/notify.txt" || fail "READY=1 without the expected STATUS=: $(cat "$TMP/notify.txt")"
# Pings at half of WATCHDOG_USEC (100 ms), not at every turn of the loop.
sleep 2
$PY - "$TMP/notify.txt" <<'PY' || fail "watchdog pings: $(grep -c WATCHDOG=1 "$TMP/notify.txt") in $TMP/notify.txt"
import sys
t = [float(l.split()[0]) for l in open(sys.argv[1]) if l.rstrip().endswith(" WATCHDOG=1")]
assert len(t) >= 8, f"only {len(t)} WATCHDOG=1 in 2 s with WATCHDOG_USEC=200000"
# On average at half of the interval: the loop turns every quarter (50 ms)
# and must not ping each time. The upper bound is loose, and no single gap
# is judged: on a busy machine the sanitizer build's loop, or the listener,
# can be late by more than a watchdog interval without anything being wrong
# here (systemd's own watchdog is seconds, not 200 ms).
mean = (t[-1] - t[0]) / (len(t) - 1)
assert 0.095 <= mean <= 0.25, f"WATCHDOG=1 every {mean * 1000:.0f} ms on average, not 100 ms"
PY
# The status the ingest loop refreshes every 5 s, from its counters.
wait_for 10 "a STATUS= refresh" grep -q 'STATUS=serving: 0 hosts active, 0 batches stored' \
  "$TMP/notify.txt"
# A SIGHUP without --config: nothing to re-read, still there, and
# systemd hears of the reload.
kill -HUP $notified
wait_for 10 "the reload without --config in the log" \
  grep -q 'reload: no --config file; nothing to re-read' "$TMP/notify-aggregator.log"
wait_for 5 "RELOADING=1 then READY=1" reloaded "$TMP/notify.txt" 'STATUS=serving: '
kill -0 $notified || fail "SIGHUP stopped the aggregator"
kill -TERM $notified
wait $notified || fail "the aggregator exited with $? on SIGTERM"
grep -q ' STOPPING=1$' "$TMP/notify.txt" || fail "no STOPPING=1 on SIGTERM: $(tail -3 "$TMP/notify.txt")"
log "sd_notify: READY after the HTTP API answered, STATUS, WATCHDOG every 100 ms, RELOADING/READY, STOPPING"

# --- --config and SIGHUP -------------------------------------------------
ENDPOINT="ipc://$TMP/aggregator.sock"
port=$(free_port)
SERVER="http://127.0.0.1:$port"
conf="$TMP/aggregator.conf"
cat >"$conf" <<EOF
# as /etc/dropscope/aggregator.conf would hold it
db = $TMP/db.sqlite
listen = $ENDPOINT
http = 127.0.0.1:$port
insecure = true
max-skew = 1d
EOF
daemon "$BIN_DIR/dropscope-aggregator" --config "$conf" 2>>"$TMP/aggregator.log"
aggregator=${DAEMONS[-1]}
wait_for 10 "the aggregator on $SERVER/healthz" curl -sf "$SERVER/healthz" -o /dev/null
# A collector whose clock runs 30 minutes ahead: within a day, stored.
start_collector_here() {
  daemon "$BIN_DIR/dropscope-collector" --connect "$ENDPOINT" --insecure --host-name ahead \
    --interval 100ms --backend none --test-clock-offset 30m 2>>"$TMP/collector.log"
}
start_collector_here
stored() { http_has "$SERVER/api/hosts" '"host":"ahead".*"series":[1-9]'; }
wait_for 20 "the collector 30 minutes ahead to be stored" stored
rejects() { curl -sf "$SERVER/metrics" | awk '$1 == "dropscope_rejects_total" { print $2 }'; }
[ "$(rejects)" = 0 ] || fail "messages refused under max-skew 1d: $(rejects)"

# Reloadable: verbose and max-skew; needing a restart: http.
other=$(free_port)
sed -i -e 's/^max-skew = 1d$/max-skew = 10m/' -e "s/^http = .*/http = 127.0.0.1:$other/" "$conf"
echo "verbose = true" >>"$conf"
kill -HUP "$aggregator"
wait_for 10 "the reload's summary" \
  grep -q "reload: re-read $conf, 2 changes applied, 1 need a restart" "$TMP/aggregator.log"
grep -q 'info: reload: verbose false -> true$' "$TMP/aggregator.log" || fail "verbose not applied"
grep -q 'info: reload: max-skew 1d -> 10m$' "$TMP/aggregator.log" || fail "max-skew not applied"
grep -q "warn: reload: --http changed in $conf; restart to apply$" "$TMP/aggregator.log" ||
  fail "no restart warning for --http"
kill -0 "$aggregator" || fail "SIGHUP stopped the aggregator"
curl -sf "$SERVER/healthz" -o /dev/null || fail "the HTTP API moved or stopped on a reload"
! curl -sf "http://127.0.0.1:$other/healthz" -o /dev/null 2>&1 || fail "--http applied without a restart"
# The new max-skew holds: the same collector is now 20 minutes too far ahead.
refused() { [ "$(rejects)" -gt 0 ]; }
wait_for 10 "messages 30 minutes ahead refused under max-skew 10m" refused
grep -q 'ahead of the aggregator.s clock (at most 600 s' "$TMP/aggregator.log" ||
  fail "the refusal does not give the new bound: $(grep rejected "$TMP/aggregator.log" | tail -1)"

# An invalid file: logged with its line, the settings in use stay.
printf 'db = %s\nmax-skew 2d\n' "$TMP/db.sqlite" >"$conf"
kill -HUP "$aggregator"
wait_for 10 "the invalid file's error" grep -q \
  "error: reload: $conf:2: no '=' (lines are key = value); still running on the settings in use" \
  "$TMP/aggregator.log"
printf 'db = %s\ninsecure = true\nmax-skew = 2s\nmax-hosts = 0\n' "$TMP/db.sqlite" >"$conf"
kill -HUP "$aggregator"
wait_for 10 "the invalid value's error" grep -q \
  "error: reload: $conf:4: --max-hosts '0' is not a number of hosts from 1 to 2147483647; still" \
  "$TMP/aggregator.log"
grep -q 'max-skew 10m -> 2s' "$TMP/aggregator.log" && fail "a file with an error was partly applied"
kill -0 "$aggregator" || fail "an invalid file on SIGHUP stopped the aggregator"
curl -sf "$SERVER/healthz" -o /dev/null || fail "/healthz does not answer after an invalid reload"
[ "$(grep -c 'reload: re-read' "$TMP/aggregator.log")" = 1 ] || fail "an invalid file counted as re-read"
log "reload: max-skew and verbose applied, --http needs a restart, invalid files keep the settings"

# --- the collector: READY=1 once it sends, STATUS=, and its reload ------
cconf="$TMP/collector.conf"
cat >"$cconf" <<EOF
# as /etc/dropscope/collector.conf would hold it
connect = $ENDPOINT
insecure = true
host-name = configured
interval = 100ms
backend = none
burst-threshold = 500
EOF
notify_listener "$TMP/collector-notify.sock" "$port" "$TMP/collector-notify.txt"
NOTIFY_SOCKET="$TMP/collector-notify.sock" \
  "$BIN_DIR/dropscope-collector" --config "$cconf" 2>>"$TMP/collector-config.log" &
collector=$!
PIDS+=($collector)
DAEMONS+=($collector)
wait_for 20 "the collector's READY=1" grep -q \
  "READY=1|STATUS=sending to $ENDPOINT every 100 ms, backend none; " "$TMP/collector-notify.txt"
configured() { http_has "$SERVER/api/hosts" '"host":"configured"'; }
wait_for 20 "the configured collector's host" configured
sed -i -e 's/^burst-threshold = 500$/burst-threshold = 800/' -e 's/^interval = 100ms$/interval = 1s/' \
  "$cconf"
kill -HUP $collector
wait_for 10 "the collector's reload summary" \
  grep -q "reload: re-read $cconf, 1 changes applied, 1 need a restart" "$TMP/collector-config.log"
grep -q 'info: reload: burst-threshold 500 -> 800$' "$TMP/collector-config.log" ||
  fail "burst-threshold not applied: $(grep reload "$TMP/collector-config.log")"
grep -q "warn: reload: --interval changed in $cconf; restart to apply$" "$TMP/collector-config.log" ||
  fail "no restart warning for --interval"
wait_for 5 "the collector's RELOADING=1 then READY=1" reloaded "$TMP/collector-notify.txt" \
  'STATUS=sending to '
kill -0 $collector || fail "SIGHUP stopped the collector"
log "collector: READY once sending, a reload applied burst-threshold and kept the interval"
