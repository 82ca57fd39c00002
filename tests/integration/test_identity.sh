#!/usr/bin/env bash
# CurveZMQ identity: a collector's key speaks only for the host its
# certificate names (metadata `name`, set by `dropscope keygen`). Shows that
# (a) an allowed key claiming another host is refused and nothing is stored
# under that host, (b) the same key under its own name is stored, (e) a
# certificate naming no host is refused, (d) removing a certificate from the
# --allow directory refuses an open connection within seconds, without
# restarting the aggregator, and (c) re-keying: the new certificate beside the
# old one, the collector restarted with the new secret, then the old one
# removed. Real daemons on loopback TCP; the collectors read a fixture /proc,
# not this machine's counters. No namespaces, no root.
source "$(dirname "$0")/lib.sh"

FIXTURE=${FIXTURES_DIR:?set FIXTURES_DIR to tests/fixtures}/linux-6.18-netns-drops/proc
K=$TMP/keys
mkdir -p "$K/allow"
keygen() { "$BIN_DIR/dropscope" keygen "$@" >>"$TMP/keygen.out"; }
keygen "$K/aggregator"
keygen "$K/web1" # named web1 after the file
keygen --name web3 "$K/key-of-web3"
keygen "$K/noname"
grep -q 'speaks for host web1 only' "$TMP/keygen.out" ||
  fail "keygen does not say which host: $(cat "$TMP/keygen.out")"
grep -q '^ *name = "web3"$' "$K/key-of-web3" ||
  fail "keygen --name web3 wrote: $(cat "$K/key-of-web3")"
# A certificate naming no host, as czmq makes one without metadata.
sed -i '/^ *name = /d' "$K/noname" "$K/noname_secret"
! grep -q 'name = ' "$K/noname" || fail "the name is still in $K/noname"
set +e
"$BIN_DIR/dropscope" keygen --name 'web 1' "$K/bad" 2>"$TMP/e"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "'web 1' is not a valid host name" "$TMP/e" && [ ! -e "$K/bad" ] ||
  fail "keygen --name 'web 1': rc $rc, $(cat "$TMP/e")"
cp "$K/web1" "$K/key-of-web3" "$K/noname" "$K/allow/"

port=$(free_port) http=$(free_port)
SERVER="http://127.0.0.1:$http"

# collector HOST KEY: a collector claiming HOST with KEY's secret, in the
# background, its log in $TMP/collector-HOST.log; its pid in $COLLECTOR.
collector() {
  bg "$BIN_DIR/dropscope-collector" --connect "tcp://127.0.0.1:$port" --host-name "$1" \
    --cert "$K/$2_secret" --server-cert "$K/aggregator" --backend none --interval 200ms \
    --procfs "$FIXTURE" 2>>"$TMP/collector-$1.log"
  COLLECTOR=$!
}
# stop PID: stops a collector that must still be running.
stop() {
  kill -0 "$1" 2>/dev/null || fail "collector $1 died during the test"
  kill "$1"
  wait "$1" 2>/dev/null || true
}
sql() { sqlite3 -cmd '.timeout 10000' "$TMP/db.sqlite" "$1"; }
batches() { # HOST
  sql "SELECT count(*) FROM batches b JOIN hosts h ON h.id = b.host_id WHERE h.name = '$1'"
}
batches_above() { [ "$(batches "$1")" -gt "$2" ]; }
metric() { curl -sf --max-time 10 "$SERVER/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
metric_above() { local v; v=$(metric "$1"); [ -n "$v" ] && [ "$v" -gt "$2" ]; }
# metric_value NAME: its value now; fails the test when /metrics lacks it.
metric_value() {
  local v; v=$(metric "$1")
  [ -n "$v" ] || fail "no $1 in $SERVER/metrics"
  echo "$v"
}
listed() { # HOST: in /api/hosts
  curl -sf "$SERVER/api/hosts" | python3 -c '
import json, sys
sys.exit(0 if any(h["host"] == sys.argv[1] for h in json.load(sys.stdin)) else 1)' "$1"
}
# allow_reads: how many times the aggregator has re-read --allow so far.
allow_reads() { grep -c 'the --allow directory .* changed' "$TMP/aggregator.log" || true; }
# allow_read_after N COUNT: a re-read after the Nth says COUNT certificates.
allow_read_after() {
  awk -v n="$1" -v c="changed: $2 certificates" '/the --allow directory .* changed/ {
    if (++i > n && index($0, c)) found = 1 } END { exit !found }' "$TMP/aggregator.log"
}

# --verbose: every re-read of the --allow directory is logged with its count.
daemon "$BIN_DIR/dropscope-aggregator" --db "$TMP/db.sqlite" --listen "tcp://127.0.0.1:$port" \
  --http "127.0.0.1:$http" --cert "$K/aggregator_secret" --allow "$K/allow" --verbose \
  2>>"$TMP/aggregator.log"
AGGREGATOR=${PIDS[-1]}
wait_for 30 "the aggregator on $SERVER/healthz" curl -sf --max-time 5 -o /dev/null "$SERVER/healthz"

# (a), (b), (e): web1's key under its own name and under web2's; the
# certificate naming no host.
collector web1 web1
WEB1=$COLLECTOR
collector web2 web1
IMPOSTOR=$COLLECTOR
collector noname noname
NONAME=$COLLECTOR
collector web3 key-of-web3
WEB3=$COLLECTOR

wait_for 30 "web1's batches in the database" batches_above web1 0
wait_for 30 "web1 in /api/hosts" listed web1
wait_for 30 "the refusal of web2 in its collector's log" \
  grep -q "rejected message .*this key speaks for host web1 (the name in its certificate), not for web2" \
  "$TMP/collector-web2.log"
wait_for 30 "the refusal of noname in its collector's log" \
  grep -q "rejected message .*the certificate of this key names no host" "$TMP/collector-noname.log"
grep -q "$K/allow/noname names no host" "$TMP/aggregator.log" ||
  fail "the aggregator did not warn about the certificate naming no host"
wait_for 30 "web3's batches in the database" batches_above web3 0
# Both refused collectors keep sending, and keep being refused.
base=$(metric_value dropscope_identity_rejects_total)
wait_for 30 "more identity rejections than $base" \
  metric_above dropscope_identity_rejects_total $((base + 4))
rejects=$(metric_value dropscope_identity_rejects_total)
total=$(metric_value dropscope_rejects_total)
[ "$total" -ge "$rejects" ] || fail "dropscope_rejects_total $total < identity rejects $rejects"
for h in web2 noname; do
  ! listed $h || fail "/api/hosts lists $h: $(curl -sf "$SERVER/api/hosts")"
  [ "$(sql "SELECT count(*) FROM hosts WHERE name = '$h'")" = 0 ] || fail "a hosts row for $h"
  [ "$(batches $h)" = 0 ] || fail "$(batches $h) batches stored for $h"
done
grep -q "rejected .* from host web2 (.*): this key speaks for host web1" "$TMP/aggregator.log" ||
  fail "the aggregator did not log the refusal of web2"
grep -q "rejected .* from host noname (.*): the certificate of this key names no host" \
  "$TMP/aggregator.log" || fail "the aggregator did not log the refusal of noname"
! grep -q "rejected message" "$TMP/collector-web1.log" ||
  fail "web1 was refused: $(cat "$TMP/collector-web1.log")"
stop "$IMPOSTOR"
stop "$NONAME"
log "ok: web1's key is stored as web1 ($(batches web1) batches) and refused as web2; a certificate" \
  "naming no host is refused ($rejects identity rejections)"

# (d) Revoking: web3's certificate leaves the directory while its collector
# is connected. Its messages are refused within seconds, by the aggregator
# that admitted it (same process), and its stored batches stop growing.
t0=$SECONDS
rm "$K/allow/key-of-web3"
wait_for 15 "web3's revocation in its collector's log" \
  grep -q "rejected message .*no longer in the --allow directory (revoked)" \
  "$TMP/collector-web3.log"
log "web3 refused as revoked $((SECONDS - t0))s after its certificate was removed"
grep -q "rejected .* from host web3 (.*): .*(revoked)" "$TMP/aggregator.log" ||
  fail "the aggregator did not log the revocation of web3"
kill -0 "$AGGREGATOR" || fail "the aggregator is gone"
# Only web3 is refused now: each further identity rejection is one of its
# messages. Count its batches after five, and again after five more.
base=$(metric_value dropscope_identity_rejects_total)
wait_for 30 "web3's messages to be refused" \
  metric_above dropscope_identity_rejects_total $((base + 4))
before=$(batches web3)
base=$(metric_value dropscope_identity_rejects_total)
wait_for 30 "web3's messages to be refused" \
  metric_above dropscope_identity_rejects_total $((base + 4))
after=$(batches web3)
[ "$after" = "$before" ] ||
  fail "web3's batches grew from $before to $after after its revocation"
stop "$WEB3"
# Connecting again with the revoked key fails the handshake (zauth).
collector web3 key-of-web3
WEB3=$COLLECTOR
wait_for 30 "web3's new connection to be refused" \
  grep -q "refused a collector connection .*its key is not in the --allow directory" \
  "$TMP/aggregator.log"
stop "$WEB3"
[ "$(batches web3)" = "$after" ] ||
  fail "web3's batches grew from $after to $(batches web3) after its revocation"
log "ok: revoked web3 refused on its open connection, and when it connects again; its batches" \
  "stay at $after"

# (c) Re-keying web1: the new certificate goes in beside the old one (both
# speak for web1 while the collector restarts), the collector restarts with
# the new secret, then the old certificate is removed (revoked).
keygen --name web1 "$K/web1-2"
n=$(allow_reads)
cp "$K/web1-2" "$K/allow/"
wait_for 30 "the aggregator to read the new certificate" allow_read_after "$n" 3
stop "$WEB1"
collector web1 web1-2
WEB1=$COLLECTOR
n=$(allow_reads)
rm "$K/allow/web1"
wait_for 30 "the aggregator to drop web1's old certificate" allow_read_after "$n" 2
before=$(batches web1)
wait_for 30 "web1's batches with its new key" batches_above web1 $((before + 4))
! grep -q "rejected message" "$TMP/collector-web1.log" ||
  fail "web1 was refused: $(cat "$TMP/collector-web1.log")"
[ "$(grep -c 'hello from host web1 ' "$TMP/aggregator.log")" = 2 ] ||
  fail "expected two hellos from web1 (old key, new key)"
listed web1 || fail "web1 is not in /api/hosts"
kill -0 "$AGGREGATOR" || fail "the aggregator is gone"
stop "$WEB1"
log "ok: web1 re-keyed without a refused message; $(batches web1) batches"
