#!/usr/bin/env bash
# End to end with Debian's Prometheus and Alertmanager: a Prometheus scrapes
# the aggregator's /metrics and /metrics/fleet every second with
# deploy/prometheus's rules loaded, and sends its alerts to an Alertmanager
# the aggregator also posts to (--alertmanager). The fleet: hosts 1-3 drop
# at the socket layer (a receiver with a tiny SO_RCVBUF) and burst together
# (a fleet incident); host 4 neither drops nor bursts; a fifth host's
# collector loses messages from its tiny spool while the aggregator is held
# still (SIGSTOP), so the spool-loss series and alert have data too; and a
# garbage frame, so the decode-error query does.
#  1. Prometheus's dropscope_host_drops_total{layer="socket"} equals each
#     namespace's Udp.RcvbufErrors; none for the quiet hosts.
#  2. `promtool check metrics` passes on both endpoints.
#  3. Every query of deploy/grafana/dropscope.json returns series, non-zero
#     where the scenario moved them; the recording rules produce series with
#     the values the scenario implies.
#  4. Prometheus's own rules: DropscopeSpoolLoss (no `for:`) reaches the
#     Alertmanager for the spool host alone; DropscopeDrops is pending for
#     each dropping host. Its `for: 10m` does not fit in a test, so its
#     firing is left to the rules' unit tests (test_prometheus_rules).
#  5. The aggregator's --alertmanager: Alertmanager holds a DropscopeIncident
#     whose hosts label is exactly "h1,h2,h3" (sorted), none naming a quiet
#     host, and a DropscopeDrops{layer="socket"} per dropping host only.
# 40 s on a 2-CPU machine, idle or with both CPUs kept busy (nice yes).
# Skipped (77) without root, without Debian's prometheus and
# prometheus-alertmanager, and in the ASan build (one run is enough: it is
# heavy, and it tests deployment, not memory safety).
source "$(dirname "$0")/lib.sh"
require_root
case $BIN_DIR in
  *build-asan*)
    echo "SKIP: alerting end to end is tested once, in the normal build ($BIN_DIR is the ASan build)" >&2
    exit $SKIP ;;
esac
for tool in /usr/bin/prometheus /usr/bin/prometheus-alertmanager /usr/bin/promtool; do
  [ -x $tool ] || {
    echo "SKIP: $tool is missing (apt-get install --no-install-recommends prometheus" \
      "prometheus-alertmanager, or deploy/install-deps.sh)" >&2
    exit $SKIP
  }
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# Debian's python (lib.sh's raw_client_setup says why not the one on PATH;
# a pyenv shim also takes 0.4 s to start, and the queries below are many).
PY=/usr/bin/python3
[ -x $PY ] || fail "$PY is missing: install the Debian package python3 (deploy/install-deps.sh)"
API="$PY $ROOT/tests/integration/prom_api.py"
# The aggregator's alerts to Alertmanager (issue 16). Without the option the
# rest still runs, and the test fails at the end, saying so.
HAS_AM=0
# Not `--help | grep -q`: grep stops at the first match while --help still
# writes, which dies of SIGPIPE, and pipefail fails the line.
grep -q -- '--alertmanager' <<<"$("$BIN_DIR/dropscope-aggregator" --help)" && HAS_AM=1

P=ds-am-$$
HOSTS=("$P-h1" "$P-h2" "$P-h3" "$P-h4") # host names = their namespaces
DROPPING=("${HOSTS[@]:0:3}")
QUIET=${HOSTS[3]}
SPOOL=$P-spool
make_fleet "$P" 4 1
make_ns "$SPOOL"

AM_PORT=$(free_port) PROM_PORT=$(free_port) HTTP_PORT=$(free_port)
AM=http://127.0.0.1:$AM_PORT PROM=http://127.0.0.1:$PROM_PORT SERVER=http://127.0.0.1:$HTTP_PORT
ENDPOINT="ipc://$TMP/aggregator.sock"

# Alertmanager: one receiver that sends nothing; no cluster (no gossip port).
cat >"$TMP/alertmanager.yml" <<'EOF'
route:
  receiver: discard
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: discard
EOF
bg /usr/bin/prometheus-alertmanager --config.file="$TMP/alertmanager.yml" \
  --storage.path="$TMP/am" --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
  2>"$TMP/alertmanager.log"

# Prometheus: README.md's two jobs, at 1 s (the timeout must not exceed it).
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/deploy/prometheus/dropscope.rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$AM_PORT']
scrape_configs:
  - job_name: dropscope-aggregator
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:$HTTP_PORT']
  - job_name: dropscope-fleet
    metrics_path: /metrics/fleet
    static_configs:
      - targets: ['127.0.0.1:$HTTP_PORT']
EOF
bg /usr/bin/prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
  --web.listen-address="127.0.0.1:$PROM_PORT" 2>"$TMP/prometheus.log"

AGG_ARGS=()
[ $HAS_AM = 0 ] || AGG_ARGS=(--alertmanager "$AM")
daemon "$BIN_DIR/dropscope-aggregator" --db "$TMP/db.sqlite" --listen "$ENDPOINT" \
  --http "127.0.0.1:$HTTP_PORT" --insecure "${AGG_ARGS[@]}" 2>>"$TMP/aggregator.log"
AGGREGATOR=${DAEMONS[-1]}
ready() { curl -sf "$1" >/dev/null 2>&1; }
wait_for 20 "the aggregator's /healthz" ready "$SERVER/healthz"
wait_for 30 "Alertmanager on $AM" ready "$AM/-/ready"
wait_for 30 "Prometheus on $PROM" ready "$PROM/-/ready"

# As test_incidents: 20 packets/ms makes a burst; a receiver with room for
# every burst (never reads, costs no CPU), or the bursts would drop.
for h in "${HOSTS[@]}"; do
  start_collector "$h" "$h" --interval 500ms --burst-threshold 20
  roomy_receiver "$h" 300
done
# The spool host (test_spool_full's recipe): many counters changing (a
# datagram a millisecond on lo, read back: no drop), a batch every 50 ms,
# the smallest spool (64 KiB), which took 18 s without acks to overflow
# here (its batches are about 180 bytes; timer-driven, so as slow on a busy
# machine). A shorter --interval would load the aggregator all along.
bg ip netns exec "$SPOOL" $PY -c '
import socket, time
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 9100))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"y", ("127.0.0.1", 9100))
    r.recv(16)
    time.sleep(0.001)'
TRAFFIC=${PIDS[-1]}
start_collector "$SPOOL" "$SPOOL" --interval 50ms --backend none --spool "$TMP/spool" \
  --spool-size 64K

# Prometheus must have seen the spool host lose nothing first: increase()
# counts nothing of a series that first appears with its final value.
scraped_zero() {
  [ "$($API value "$PROM" "dropscope_host_spool_lost_messages_total{host=\"$SPOOL\"}")" = 0 ]
}
wait_for 30 "Prometheus to scrape $SPOOL's lost messages at 0" scraped_zero
kill -STOP "$AGGREGATOR"
spool_full() { grep -q "spool: .* is full" "$TMP/collector-$SPOOL.log"; }
wait_for 60 "$SPOOL's spool to overflow while the aggregator is stopped" spool_full
kill -CONT "$AGGREGATOR"
kill "$TRAFFIC"
log "the aggregator held still until $SPOOL's spool overflowed"
wait_clocks "${HOSTS[@]}"

# Socket drops at hosts 1-3 (lib.sh: a receiver with a 2 KB SO_RCVBUF).
for h in "${DROPPING[@]}"; do
  stuck_receiver "$h"
  send_datagrams "$h" 2000
done
# Synchronized bursts at hosts 1-3 (one sender standing for many clients).
t0=$(($(now_ns) + 1000000000))
ip netns exec "$P-s1" "$BIN_DIR/burstgen" --dest 10.90.0.1:7000 --dest 10.90.0.2:7000 \
  --dest 10.90.0.3:7000 --start "$t0" --bursts 6 --every 500ms --packets 150 --payload 64 \
  >"$TMP/burstgen.out" 2>>"$TMP/burstgen.log" || fail "burstgen failed (burstgen.log)"
# One frame that is no message: the intake panel's decode errors.
$PY -c 'import sys, zmq
s = zmq.Context().socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 2000)
s.connect(sys.argv[1]); s.send(b"\xffnot a message"); s.close()' "$ENDPOINT" ||
  fail "could not send a garbage frame: install the Debian package python3-zmq (deploy/install-deps.sh)"
declare -A KERNEL
for h in "${HOSTS[@]}"; do KERNEL[$h]=$(kernel_counter "$h" UdpRcvbufErrors); done
for h in "${DROPPING[@]}"; do
  [ "${KERNEL[$h]}" -gt 0 ] || fail "$h: the kernel counted no RcvbufErrors: the experiment did not drop"
done
[ "${KERNEL[$QUIET]:-0}" = 0 ] || fail "the quiet host $QUIET dropped ${KERNEL[$QUIET]} datagrams"
log "kernel Udp.RcvbufErrors: $(for h in "${HOSTS[@]}"; do printf '%s=%s ' "$h" "${KERNEL[$h]}"; done)"

# 1. Prometheus's drops, once scraped past them, equal the kernel's.
prom_drops() { $API value "$PROM" "dropscope_host_drops_total{layer=\"socket\",host=\"$1\"}"; }
all_scraped() {
  local h
  for h in "${DROPPING[@]}"; do [ "$(prom_drops "$h")" = "${KERNEL[$h]}" ] || return 1; done
}
# Not wait_for: on a timeout the values, host by host, say more.
deadline=$((SECONDS + 30))
until all_scraped || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
for h in "${DROPPING[@]}"; do
  got=$(prom_drops "$h")
  [ "$got" = "${KERNEL[$h]}" ] ||
    fail "$h: Prometheus has $got socket drops, the kernel counted ${KERNEL[$h]}"
done
got=$(prom_drops "$QUIET")
[ -z "$got" ] || [ "$got" = 0 ] || fail "the quiet host $QUIET has $got socket drops in Prometheus"
log "ok: Prometheus's dropscope_host_drops_total{layer=\"socket\"} = kernel Udp.RcvbufErrors per host"

# 2. The exposition format, as promtool reads it.
for path in /metrics /metrics/fleet; do
  curl -sf "$SERVER$path" >"$TMP/scrape.txt" || fail "GET $path failed"
  promtool check metrics <"$TMP/scrape.txt" >"$TMP/promtool.txt" 2>&1 ||
    fail "promtool check metrics on $path: $(cat "$TMP/promtool.txt")"
done
log "ok: promtool check metrics passes on /metrics and /metrics/fleet"

# 3. Every dashboard query has data. The incident and the spool losses are
# scraped first, so their panels have something to show.
incident_scraped() {
  local v; v=$($API value "$PROM" 'sum(increase(dropscope_incidents_total[1h]))')
  [ -n "$v" ] && [ "${v%%.*}" -ge 1 ] 2>/dev/null
}
wait_for 30 "Prometheus to see an incident" incident_scraped
spool_lost_scraped() {
  local v
  v=$($API value "$PROM" "increase(dropscope_host_spool_lost_messages_total{host=\"$SPOOL\"}[1h])")
  [ -n "$v" ] && [ "${v%%.*}" -ge 1 ] 2>/dev/null
}
wait_for 30 "Prometheus to see $SPOOL's lost messages" spool_lost_scraped
decode_error_scraped() {
  [ "$($API value "$PROM" 'dropscope_decode_errors_total')" = 1 ]
}
wait_for 30 "Prometheus to see the garbage frame's decode error" decode_error_scraped
# Squeezes count softnet's time_squeeze, one machine-wide file (not per
# namespace) that moves only when a softirq runs out of budget: nothing
# here makes that happen. A clock offset of 0 is a true value.
MAY_BE_ZERO=dropscope_host_squeezes_total,dropscope_host_clock_offset_seconds
log "the dashboard's queries:"
$API dashboard "$PROM" "$ROOT/deploy/grafana/dropscope.json" "$MAY_BE_ZERO" >&2 ||
  fail "a query of deploy/grafana/dropscope.json returned no series or only zeros (above)"
# The check must be able to fail: a query of a metric nobody exports, and
# one of the quiet host's drops (series, all 0).
for expr in 'rate(dropscope_no_such_metric_total[$__rate_interval])' \
  "sum(rate(dropscope_host_drops_total{host=\"$QUIET\"}[\$__rate_interval]))"; do
  $PY -c 'import json, sys
d = json.load(open(sys.argv[1])); d["panels"][0]["targets"][0]["expr"] = sys.argv[2]
json.dump(d, open(sys.argv[3], "w"))' "$ROOT/deploy/grafana/dropscope.json" "$expr" "$TMP/broken.json"
  ! $API dashboard "$PROM" "$TMP/broken.json" "$MAY_BE_ZERO" >/dev/null 2>&1 ||
    fail "the dashboard check passed a query without data: $expr"
done
log "ok: every dashboard query returns data, non-zero where the scenario made it move"

# The recording rules, with the values the scenario implies.
for h in "${DROPPING[@]}"; do
  v=$($API value "$PROM" "dropscope:host_drops:rate5m{host=\"$h\",layer=\"socket\"}")
  $PY -c 'import sys; sys.exit(not float(sys.argv[1] or 0) > 0)' "$v" ||
    fail "dropscope:host_drops:rate5m{host=$h,layer=socket} is '$v', expected > 0"
  n=$($API series "$PROM" \
    "dropscope:host_bursts:rate5m{host=\"$h\",iface=\"eth0\",direction=\"rx\"} > 0" | wc -l)
  [ "$n" = 1 ] || fail "dropscope:host_bursts:rate5m has no rx burst rate for $h's eth0"
done
for h in "$QUIET" "$SPOOL"; do
  $API series "$PROM" "dropscope:host_drops:rate5m{host=\"$h\"} > 0" >"$TMP/quiet.txt"
  [ ! -s "$TMP/quiet.txt" ] || fail "$h, which dropped nothing, has a drop rate: $(cat "$TMP/quiet.txt")"
  n=$($API series "$PROM" "dropscope:host_bursts:rate5m{host=\"$h\",iface=\"eth0\"}" | wc -l)
  [ "$n" = 0 ] || fail "$h, which did not burst, has a burst rate on eth0"
done
$API series "$PROM" 'dropscope:host_last_seen:age_seconds < 10' | grep -c . >"$TMP/n" || true
[ "$(cat "$TMP/n")" = 5 ] ||
  fail "dropscope:host_last_seen:age_seconds is under 10 s for $(cat "$TMP/n") hosts, not 5"
v=$($API value "$PROM" 'dropscope:incidents:increase1h')
$PY -c 'import sys; sys.exit(not float(sys.argv[1] or 0) >= 1)' "$v" ||
  fail "dropscope:incidents:increase1h is '$v', expected at least 1"
log "ok: recording rules: drop and burst rates for hosts 1-3 only, 5 hosts seen, $v incidents an hour"

# 4. Prometheus's own alerts. DropscopeSpoolLoss has no `for:`: it fires as
# soon as the increase shows, and Prometheus sends it to the Alertmanager.
spool_alert() {
  $API alerts "$AM" DropscopeSpoolLoss >"$TMP/spool-alerts.txt"
  grep -q "\"host\": \"$SPOOL\"" "$TMP/spool-alerts.txt"
}
wait_for 30 "Prometheus's DropscopeSpoolLoss for $SPOOL in Alertmanager" spool_alert
[ "$(grep -c . "$TMP/spool-alerts.txt")" = 1 ] ||
  fail "DropscopeSpoolLoss for other hosts than $SPOOL: $(cat "$TMP/spool-alerts.txt")"
# DropscopeDrops waits 10 minutes (`for: 10m`): pending is as far as it gets here.
pending() {
  $API rule-alerts "$PROM" DropscopeDrops >"$TMP/rule-alerts.txt"
  local h
  for h in "${DROPPING[@]}"; do
    grep -q "^pending .*host=\"$h\",layer=\"socket\"" "$TMP/rule-alerts.txt" || return 1
  done
}
wait_for 20 "Prometheus's DropscopeDrops to be pending for hosts 1-3" pending
! grep -E "host=\"($QUIET|$SPOOL)\"" "$TMP/rule-alerts.txt" ||
  fail "Prometheus's DropscopeDrops is pending for a host that did not drop"
log "ok: Prometheus sent DropscopeSpoolLoss for $SPOOL alone; DropscopeDrops pending for hosts 1-3"

# 5. The aggregator's own alerts (--alertmanager).
if [ $HAS_AM = 0 ]; then
  fail "dropscope-aggregator has no --alertmanager option (its --help does not list it): the" \
    "DropscopeIncident and DropscopeDrops alerts to Alertmanager cannot be tested; everything" \
    "else above passed"
fi
want=$(printf '%s\n' "${DROPPING[@]}" | LC_ALL=C sort | paste -sd,)
incident_alert() {
  $API alerts "$AM" DropscopeIncident >"$TMP/incident-alerts.txt"
  grep -q "\"hosts\": \"$want\"" "$TMP/incident-alerts.txt"
}
wait_for 30 "a DropscopeIncident alert with hosts=\"$want\" in Alertmanager" incident_alert
log "one of them: $(grep -m1 "\"hosts\": \"$want\"" "$TMP/incident-alerts.txt")"
! grep -E "$QUIET|$SPOOL" "$TMP/incident-alerts.txt" ||
  fail "a DropscopeIncident alert names a host that did not burst (above)"
drops_alerts() {
  $API alerts "$AM" DropscopeDrops >"$TMP/drops-alerts.txt"
  local h
  for h in "${DROPPING[@]}"; do
    grep "\"host\": \"$h\"" "$TMP/drops-alerts.txt" | grep -q '"layer": "socket"' || return 1
  done
}
wait_for 30 "the aggregator's DropscopeDrops{layer=socket} for hosts 1-3 in Alertmanager" drops_alerts
! grep -E "\"host\": \"($QUIET|$SPOOL)\"" "$TMP/drops-alerts.txt" ||
  fail "a DropscopeDrops alert for a host that did not drop (above)"
# Prometheus's DropscopeDrops cannot have fired yet (for: 10m): these came
# from the aggregator.
! grep -q '/graph?g0' "$TMP/drops-alerts.txt" ||
  fail "a DropscopeDrops alert from Prometheus after a few seconds: its for: 10m is not honoured"
log "ok: Alertmanager holds $(grep -c . "$TMP/incident-alerts.txt") DropscopeIncident alerts" \
  "(hosts=\"$want\" among them, no quiet host) and DropscopeDrops for hosts 1-3 only"

# Nothing moved since step 1: the counts were final.
for h in "${DROPPING[@]}"; do
  [ "$(prom_drops "$h")" = "${KERNEL[$h]}" ] ||
    fail "$h: Prometheus's socket drops moved to $(prom_drops "$h")"
done
log "ok: alerting end to end"
