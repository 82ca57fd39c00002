#!/usr/bin/env bash
# The HTTP API and the CLI on a real aggregator fed by a real collector
# (no namespaces needed): JSON shapes, 400s with a JSON error for every kind
# of bad parameter, and the CLI's exit codes (0 ok, 1 unreachable, 2 usage).
source "$(dirname "$0")/lib.sh"

start_aggregator
daemon "$BIN_DIR/dropscope-collector" --connect "$ENDPOINT" --insecure --host-name api-host \
   --interval 100ms 2>>"$TMP/collector.log"
# Until the first batch is stored: the hello comes first, its series after.
for _ in $(seq 100); do
  http_has "$SERVER/api/hosts" '"host":"api-host".*"series":[1-9]' && break
  sleep 0.1
done

# hosts: the fields of docs/ARCHITECTURE.md, Interfaces.
curl -sf "$SERVER/api/hosts" >"$TMP/hosts.json"
python3 - "$TMP/hosts.json" <<'PY'
import json, sys, time
hosts = json.load(open(sys.argv[1]))
h = [x for x in hosts if x["host"] == "api-host"]
assert len(h) == 1, hosts
h = h[0]
for k in ("host", "first_seen_ns", "last_seen_ns", "backend", "boot_id", "kernel", "series"):
    assert k in h, f"missing {k}: {h}"
assert abs(h["last_seen_ns"] - time.time_ns()) < 30e9, h
assert h["series"] > 100, h
assert h["boot_id"] == open("/proc/sys/kernel/random/boot_id").read().strip(), h
PY

# Bad parameters: 400 and a JSON error that names the problem.
expect_400 "/api/drops?host=no-such-host" "unknown host"
expect_400 "/api/drops?layer=bogus" "not a drop or precursor layer"
expect_400 "/api/drops?layer=traffic" "not a drop or precursor layer"
expect_400 "/api/drops?since=yesterday" "not a duration"
expect_400 "/api/drops?from=garbage" "not a time"
expect_400 "/api/drops?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z" "inverted"
expect_400 "/api/drops?since=1h&from=2026-01-01T00:00:00Z" "not both"
expect_400 "/api/drops?limit=0" "limit"
expect_400 "/api/drops?step=-1m" "not a duration"
expect_400 "/api/drops?colour=red" "unknown parameter"
expect_400 "/api/hosts?x=1" "unknown parameter"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/api/nothing")
[ "$code" = 404 ] || fail "unknown path answered $code"
curl -sf "$SERVER/api/drops?host=api-host&layer=socket&since=1h&step=1m" | python3 -c \
  'import json,sys; assert isinstance(json.load(sys.stdin), list)'

# A garbage frame: dropped without a reply, counted per peer, the aggregator still serves.
printf 'not a protobuf \377\001' | "$BIN_DIR/zsend" "$ENDPOINT" | grep -q "no reply" ||
  fail "the aggregator answered a garbage frame"
# zsend gives up waiting for a reply after a while; on a busy machine the
# aggregator may read the frame only after that.
counted() { http_has "$SERVER/metrics" '^dropscope_decode_errors_by_peer_total{peer="localhost:.*"} 1$'; }
wait_for 10 "the garbage frame to be counted per peer in /metrics" counted
grep -q "dropped a 17-byte frame" "$TMP/aggregator.log" || fail "the garbage frame is not logged"

# /metrics: Prometheus text with the stored-samples counter, and it counts.
curl -sf "$SERVER/metrics" >"$TMP/metrics.txt"
stored=$(awk '$1 == "dropscope_samples_stored_total" { print $2 }' "$TMP/metrics.txt")
[ "${stored:-0}" -gt 100 ] || fail "dropscope_samples_stored_total is '$stored'"
grep -q '^dropscope_fleet_drops_total{layer="socket"} ' "$TMP/metrics.txt" || fail "no fleet drops"
# The aggregator's own health: commit duration histogram, queue depth, database size.
python3 - "$TMP/metrics.txt" "$TMP/db.sqlite" <<'PY'
import os, sys
m = dict(l.rsplit(" ", 1) for l in open(sys.argv[1]).read().splitlines() if l and not l.startswith("#"))
for k in ("dropscope_commit_duration_seconds_count", "dropscope_commit_duration_seconds_sum",
          'dropscope_commit_duration_seconds_bucket{le="+Inf"}', "dropscope_ingest_queue_depth",
          "dropscope_rollups_behind_seconds", "dropscope_raw_packing_behind_seconds",
          "dropscope_upkeep_rows_total"):
    assert k in m, f"/metrics has no {k}"
assert "dropscope_ingest_samples_per_second" not in m, "rates are Prometheus's job"
size = os.path.getsize(sys.argv[2]) + os.path.getsize(sys.argv[2] + "-wal")
assert abs(int(m["dropscope_database_bytes"]) - size) <= 2 << 20, (m["dropscope_database_bytes"], size)
n = int(m["dropscope_commit_duration_seconds_count"])
assert n > 0 and n == int(m['dropscope_commit_duration_seconds_bucket{le="+Inf"}']), m
assert float(m["dropscope_commit_duration_seconds_sum"]) > 0, m
PY
# The top droppers: after socket drops on loopback (a receiver that never
# reads), the host, with its drops by layer summing to its total.
python3 -c '
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
r.bind(("127.0.0.1", 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(300):
    s.sendto(b"x" * 100, r.getsockname())'
sleep 0.5 # the next batches
curl -sf "$SERVER/api/top?since=1h" | python3 -c '
import json, sys
top = json.load(sys.stdin)
assert top and top[0]["host"] == "api-host", top
assert top[0]["drops"] == sum(top[0]["layers"].values()), top
assert top[0]["layers"].get("socket", 0) >= 200, top' || fail "/api/top"

expect_400 "/api/top?limit=0" "limit"
# Rollups are read with step=1m or 1h, and nothing else.
curl -sf "$SERVER/api/series?host=api-host&series=snmp//Udp.InErrors&step=1m&since=1h" |
  python3 -c 'import json,sys; assert isinstance(json.load(sys.stdin), list)' || fail "step=1m"
expect_400 "/api/series?host=api-host&series=snmp//Udp.InErrors&step=5m" "must be 1m or 1h"
http_has "$SERVER/healthz" '"ok"' || fail "healthz"

# CLI exit codes and messages.
set +e
"$BIN_DIR/dropscope" --server "$SERVER" hosts >"$TMP/hosts.txt"; rc=$?
[ $rc -eq 0 ] && grep -q api-host "$TMP/hosts.txt" || fail "dropscope hosts: rc $rc"
"$BIN_DIR/dropscope" --server "$SERVER" drops --layer bogus 2>"$TMP/e1"; rc=$?
[ $rc -eq 2 ] && grep -q "bogus" "$TMP/e1" || fail "bad layer: rc $rc, $(cat "$TMP/e1")"
"$BIN_DIR/dropscope" --server "$SERVER" drops --host nobody 2>"$TMP/e2"; rc=$?
[ $rc -eq 2 ] && grep -q "unknown host" "$TMP/e2" || fail "unknown host: rc $rc, $(cat "$TMP/e2")"
# Times: a bare number is refused (seconds or ns?), with the forms; the
# relative and epoch forms reach the API as the same range.
"$BIN_DIR/dropscope" --server "$SERVER" drops --from "$(date +%s)" 2>"$TMP/t1"; rc=$?
[ $rc -eq 2 ] && grep -q "is a bare number.*@1700000000 or 1700000000s" "$TMP/t1" ||
  fail "a bare number as --from: rc $rc, $(cat "$TMP/t1")"
s=$(( $(date +%s) - 2 )) # a range that is complete: the same answer every time
same=(series --json --host api-host --series netdev/lo/rx_packets)
"$BIN_DIR/dropscope" --server "$SERVER" "${same[@]}" --from "@$((s - 60))" --to "@$s" >"$TMP/t2" &&
"$BIN_DIR/dropscope" --server "$SERVER" "${same[@]}" --from "$(date -u -d "@$((s - 60))" +%FT%TZ)" \
  --to "${s}000ms" >"$TMP/t3" &&
"$BIN_DIR/dropscope" --server "$SERVER" "${same[@]}" --from "$((s - 60))s" \
  --to "${s}000000000ns" >"$TMP/t4" || fail "series with @N, RFC 3339, Ns, Nms, Nns"
cmp -s "$TMP/t2" "$TMP/t3" && cmp -s "$TMP/t3" "$TMP/t4" && grep -q '"value"' "$TMP/t2" ||
  fail "@N, RFC 3339 and N with a unit differ: $(head -c 300 "$TMP/t2") / $(head -c 300 "$TMP/t4")"
"$BIN_DIR/dropscope" --server "$SERVER" "${same[@]}" --from -1h --to now >/dev/null ||
  fail "series --from -1h --to now"
# -H, -o, -j: the columns asked for, in that order, no header; an unknown
# column is refused (exit 2) with the table's columns.
"$BIN_DIR/dropscope" --server "$SERVER" -H -o aggregator,HOST hosts >"$TMP/cols.txt" ||
  fail "hosts -H -o"
agg=$(curl -sf "$SERVER/api/hosts" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["aggregator"])')
[ "$(cat "$TMP/cols.txt")" = "$agg  api-host" ] ||
  fail "hosts -H -o aggregator,HOST: '$(cat "$TMP/cols.txt")', want '$agg  api-host'"
"$BIN_DIR/dropscope" --server "$SERVER" -o host,last-seen,ago hosts | head -1 >"$TMP/cols2.txt"
grep -qE '^HOST +LAST SEEN +AGO$' "$TMP/cols2.txt" || fail "-o with a space: $(cat "$TMP/cols2.txt")"
"$BIN_DIR/dropscope" --server "$SERVER" -o host,nosuch hosts >/dev/null 2>"$TMP/e8"; rc=$?
[ $rc -eq 2 ] && grep -q "no column 'nosuch' here; the columns are: HOST, SERIES" "$TMP/e8" ||
  fail "-o nosuch: rc $rc, $(cat "$TMP/e8")"
"$BIN_DIR/dropscope" --server "$SERVER" -j hosts | python3 -c 'import json,sys; json.load(sys.stdin)' ||
  fail "-j hosts"
# --color: the header in bold on a terminal (script(1) gives one), not in a
# pipe, nor with NO_COLOR or --color=never; always with --color=always.
bold=$'\e[1mHOST'
tty_hosts() { script -qec "$*" /dev/null | head -1; }
[[ $(tty_hosts "$BIN_DIR/dropscope" --server "$SERVER" hosts) == "$bold"* ]] ||
  fail "no bold header on a terminal: $(tty_hosts "$BIN_DIR/dropscope" --server "$SERVER" hosts | od -c | head -2)"
[[ $(tty_hosts NO_COLOR=1 "$BIN_DIR/dropscope" --server "$SERVER" hosts) == HOST* ]] &&
  [[ $(tty_hosts "$BIN_DIR/dropscope" --color=never --server "$SERVER" hosts) == HOST* ]] &&
  [[ $("$BIN_DIR/dropscope" --server "$SERVER" hosts | head -1) == HOST* ]] ||
  fail "a bold header with NO_COLOR, --color=never or in a pipe"
[[ $("$BIN_DIR/dropscope" --server "$SERVER" --color=always hosts | head -1) == "$bold"* ]] ||
  fail "--color=always: no bold header"
"$BIN_DIR/dropscope" --color=sometimes hosts 2>"$TMP/e9"; rc=$?
[ $rc -eq 2 ] && grep -q "'sometimes' must be auto, always or never" "$TMP/e9" ||
  fail "--color=sometimes: rc $rc, $(cat "$TMP/e9")"
# settings and top: the host's rmem_max as the kernel has it; top as /api/top.
"$BIN_DIR/dropscope" --server "$SERVER" settings api-host --since 1h >"$TMP/settings.txt" ||
  fail "dropscope settings api-host"
grep -qE "^sysctl//net\.core\.rmem_max +$(cat /proc/sys/net/core/rmem_max) " "$TMP/settings.txt" ||
  fail "settings: no rmem_max of $(cat /proc/sys/net/core/rmem_max): $(head -5 "$TMP/settings.txt")"
"$BIN_DIR/dropscope" --server "$SERVER" settings 2>"$TMP/e7"; rc=$?
[ $rc -eq 2 ] && grep -q "settings needs a host" "$TMP/e7" || fail "settings without a host: rc $rc"
"$BIN_DIR/dropscope" --server "$SERVER" top --from "@$s" --to "@$((s + 1))" --json >"$TMP/top.json" ||
  fail "dropscope top"
curl -sf "$SERVER/api/top?from=${s}000000000&to=$((s + 1))000000000" >"$TMP/top-api.json"
python3 - "$TMP/top.json" "$TMP/top-api.json" <<'PY' || fail "dropscope top --json: $(head -c 300 "$TMP/top.json")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert rows == json.load(open(sys.argv[2])), "the CLI's top is not the API's"
assert all({"host", "drops", "layers", "squeezes"} <= set(r) for r in rows), rows
PY
"$BIN_DIR/dropscope" --server "$SERVER" top --since 1h >/dev/null || fail "dropscope top --since 1h"
"$BIN_DIR/dropscope" --server "$SERVER" frobnicate 2>"$TMP/e3"; rc=$?
[ $rc -eq 2 ] || fail "unknown command: rc $rc"
away=$(free_port)
"$BIN_DIR/dropscope" --server "http://127.0.0.1:$away" hosts 2>"$TMP/e4"; rc=$?
[ $rc -eq 1 ] && grep -q "cannot reach the aggregator at http://127.0.0.1:$away" "$TMP/e4" &&
  grep -q "DROPSCOPE_SERVER" "$TMP/e4" || fail "unreachable: rc $rc, $(cat "$TMP/e4")"
"$BIN_DIR/dropscope-collector" --interval 1 2>"$TMP/e5"; rc=$?
[ $rc -eq 2 ] || fail "collector bad usage: rc $rc"
"$BIN_DIR/dropscope-aggregator" 2>"$TMP/e6"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--db" "$TMP/e6" || fail "aggregator without --db: rc $rc"
grep -q "drops" <<<"$("$BIN_DIR/dropscope" --help)" || fail "--help"
# explain: what a series counts, its layer, what bounds it, what to do.
"$BIN_DIR/dropscope" --server "$SERVER" explain snmp//Udp.RcvbufErrors >"$TMP/x1"; rc=$?
[ $rc -eq 0 ] && grep -q "a drop counter of the socket layer" "$TMP/x1" &&
  grep -q "^  meaning:  a UDP datagram did not fit" "$TMP/x1" &&
  grep -q "^  bound by: .*net.core.rmem_max" "$TMP/x1" && grep -q "^  remedy:   read faster" "$TMP/x1" ||
  fail "dropscope explain: rc $rc, $(cat "$TMP/x1")"
"$BIN_DIR/dropscope" --server "$SERVER" explain 2>"$TMP/x2"; rc=$?
[ $rc -eq 2 ] && grep -q "explain needs a series" "$TMP/x2" || fail "explain without a series: rc $rc"
# --version: CMake's project version (and git describe when built from git),
# the same in every binary, in the Hello (/api/hosts) and in /metrics.
want=$(sed -n 's/^project(dropscope VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
[ -n "$want" ] || fail "no project VERSION in CMakeLists.txt"
for b in dropscope dropscope-aggregator dropscope-collector dropscope-fleetsim; do
  "$BIN_DIR/$b" --version >"$TMP/v" 2>&1; rc=$?
  [ $rc -eq 0 ] && grep -q "^$b $want\( (.*)\)\?$" "$TMP/v" || fail "$b --version: rc $rc, $(cat "$TMP/v")"
done
version=$(sed "s/^dropscope-fleetsim //" "$TMP/v")
curl -sf "$SERVER/api/hosts" | python3 -c 'import json, sys
h = [x for x in json.load(sys.stdin) if x["host"] == "api-host"][0]
assert h["collector_version"] == sys.argv[1], (h["collector_version"], sys.argv[1])' "$version" ||
  fail "/api/hosts: the collector's version is not \"$version\""
http_has "$SERVER/metrics" -xF "dropscope_build_info{version=\"$version\"} 1" ||
  fail "/metrics has no dropscope_build_info{version=\"$version\"}"
# SIGHUP stops neither daemon.
for d in "${DAEMONS[@]}"; do kill -HUP "$d"; done
sleep 0.5
for d in "${DAEMONS[@]}"; do kill -0 "$d" 2>/dev/null || fail "a SIGHUP stopped daemon $d"; done
curl -sf "$SERVER/healthz" >/dev/null || fail "the aggregator stopped answering after SIGHUP"
set -e
log "ok: API shapes, 400s, metrics, versions, SIGHUP and CLI exit codes"
