#!/usr/bin/env bash
# /metrics and /metrics/fleet in the Prometheus exposition format: both pass
# `promtool check metrics`; a namespace's UDP receiver with a tiny rcvbuf
# drops, and dropscope_host_drops_total{layer="socket"} equals the kernel's
# Udp.RcvbufErrors increment; after restarts and retention deleting every
# stored drop, the counter is still there, not lower (restored from what is
# stored plus what retention expired).
source "$(dirname "$0")/lib.sh"
require_root
command -v promtool >/dev/null || { echo "skip: promtool not installed (apt-get install prometheus)"; exit 77; }

NS=ds-metrics-$$
HOST=metrics-host-$$
N=2000
make_ns "$NS"
start_aggregator
start_collector "$NS" "$HOST" --interval 200ms
sleep 0.6 # the collector's first (baseline) snapshot

before=$(kernel_counter "$NS" UdpRcvbufErrors)
stuck_receiver "$NS"
send_datagrams "$NS" "$N"
after=$(kernel_counter "$NS" UdpRcvbufErrors)
expected=$((after - before))
[ "$expected" -gt 0 ] || fail "the kernel counted no RcvbufErrors; the experiment did not drop"

host_drops() {
  curl -sf "$SERVER/metrics/fleet" |
    awk -v want="dropscope_host_drops_total{host=\"$HOST\",layer=\"socket\"}" '$1 == want { print $2 }'
}
all_counted() { [ "$(host_drops)" = "$expected" ]; }
wait_for 10 "dropscope_host_drops_total{layer=socket} to reach the kernel's $expected" all_counted ||
  fail "dropscope_host_drops_total is '$(host_drops)', the kernel counted $expected"
log "ok: dropscope_host_drops_total{layer=\"socket\"} = $expected = kernel Udp.RcvbufErrors"

curl -sf "$SERVER/metrics" >"$TMP/metrics.txt"
curl -sf "$SERVER/metrics/fleet" >"$TMP/fleet.txt"
for f in metrics fleet; do
  promtool check metrics <"$TMP/$f.txt" >"$TMP/promtool-$f.txt" 2>&1 ||
    fail "promtool check metrics on /${f/fleet/metrics\/fleet}: $(cat "$TMP/promtool-$f.txt")"
done
log "ok: promtool check metrics passes on /metrics and /metrics/fleet"
grep -q "^dropscope_host_squeezes_total{host=\"$HOST\"} " "$TMP/fleet.txt" || fail "no squeezes line"
grep -q "layer=\"budget\"" "$TMP/fleet.txt" && fail "squeezes counted as drops"
grep -q "^dropscope_host_last_seen_timestamp_seconds{host=\"$HOST\"} " "$TMP/fleet.txt" ||
  fail "no last_seen line"
grep -q '^dropscope_commit_duration_seconds_bucket{le="+Inf"} ' "$TMP/metrics.txt" ||
  fail "no commit duration histogram"
grep -q '{host=' "$TMP/metrics.txt" && fail "/metrics carries per-host series"
fleet=$(awk '$1 == "dropscope_fleet_drops_total{layer=\"socket\"}" { print $2 }' "$TMP/metrics.txt")
[ "${fleet:-0}" -ge "$expected" ] || fail "dropscope_fleet_drops_total{socket} is '$fleet'"

# Restart; then age every stored drop past the rollup retention (396 days)
# while the aggregator is down, and start it again: its upkeep deletes them
# all, and the counter restarts from stored + expired, never lower.
stop_daemons() {
  for pid in "${DAEMONS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${DAEMONS[@]}"; do wait "$pid" 2>/dev/null; done
  DAEMONS=()
}
stop_daemons
start_aggregator
[ "$(host_drops)" = "$expected" ] || fail "after a restart dropscope_host_drops_total is '$(host_drops)', was $expected"
stop_daemons
sqlite3 "$TMP/db.sqlite" "UPDATE drops SET ts_ns = ts_ns - 400 * 86400 * 1000000000"
start_aggregator
expired() { [ "$(sqlite3 "$TMP/db.sqlite" 'SELECT count(*) FROM drops')" = 0 ] &&
            [ "$(sqlite3 "$TMP/db.sqlite" 'SELECT count(*) FROM drops_expired')" -gt 0 ]; }
wait_for 15 "retention to delete the stored drops" expired
[ "$(host_drops)" = "$expected" ] || fail "after retention dropscope_host_drops_total is '$(host_drops)', was $expected"
stop_daemons
start_aggregator
[ "$(host_drops)" = "$expected" ] ||
  fail "after retention and a restart dropscope_host_drops_total is '$(host_drops)', was $expected"
log "ok: the counter survives a restart and a retention pass: still $expected"
