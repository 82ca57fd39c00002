#!/usr/bin/env bash
# Poison messages amid honest ones: a raw client written from
# proto/dropscope.proto alone (poison_client.py, not the C codec) sends two
# honest collectors' Hellos and batches and, on a third connection in the
# same burst of sends, a poison client's (a) NaN burst peak, (b) setting
# sampled twice, (c) delta of 2^62, (d) batch from the year 2200, (e) invalid
# UTF-8 in a series name, (f) escape byte in the host name and (g) frame that
# is not protobuf. Every honest message is stored and acknowledged once,
# every poison one is refused with its reason ((g) is only counted), the
# poison stores nothing and the aggregator keeps serving. Loopback TCP, no
# namespaces needed.
source "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)

raw_client_setup

port=$(free_port) http=$(free_port)
SERVER="http://127.0.0.1:$http"
daemon "$BIN_DIR/dropscope-aggregator" --db "$TMP/db.sqlite" --listen "tcp://127.0.0.1:$port" \
  --http "127.0.0.1:$http" --insecure 2>>"$TMP/aggregator.log"

# wait_for SECONDS CMD...: runs CMD until it succeeds, for at most SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}
healthz() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$SERVER/healthz")" = 200 ]; }
aggregator=${DAEMONS[-1]}
started() { kill -0 "$aggregator" 2>/dev/null || fail "the aggregator exited at start"; healthz; }
wait_for 30 started || fail "the aggregator did not answer on $SERVER/healthz within 30 s"

start=$SECONDS
# The client checks the acks (and /healthz while they come in) itself; its
# stderr lists each rejection's reason, or what went wrong.
set +e
timeout 90 $PY "$HERE/poison_client.py" "tcp://127.0.0.1:$port" "$TMP" "$SERVER" \
  >"$TMP/client.out" 2>"$TMP/client.log"
rc=$?
set -e
cat "$TMP/client.log" >&2
[ $rc -eq 0 ] || fail "the raw client found problems (exit $rc), see above"
summary=$(tail -n 1 "$TMP/client.out")

healthz || fail "GET /healthz does not answer 200 after the poison"

# The honest hosts, and no poison host under either name.
hosts() { # prints the hosts of /api/hosts, sorted, on one line
  curl -sf --max-time 10 "$SERVER/api/hosts" >"$TMP/hosts.json" &&
    $PY -c 'import json, sys; print(*sorted(h["host"] for h in json.load(open(sys.argv[1]))))' \
      "$TMP/hosts.json"
}
honest_listed() { local h; h=" $(hosts) "; [[ $h == *" honest-a "* && $h == *" honest-b "* ]]; }
wait_for 10 honest_listed || fail "/api/hosts does not list honest-a and honest-b: $(hosts 2>&1)"
listed=$(hosts)
[ "$listed" = "honest-a honest-b" ] || fail "/api/hosts lists '$listed', not only the honest hosts"

# Every drop the honest hosts sent is stored, no more, no less.
sums=""
for host in honest-a honest-b; do
  curl -sf --max-time 10 "$SERVER/api/drops?host=$host&since=1h" >"$TMP/drops-$host.json" ||
    fail "GET /api/drops?host=$host&since=1h failed"
  sum=$($PY - "$TMP/drops-$host.json" "$host" "$summary" <<'PY'
import json, sys
rows, host, summary = json.load(open(sys.argv[1])), sys.argv[2], json.loads(sys.argv[3])
want = (summary["batches"] - 1) * summary["deltas"][host]  # the first batch is a baseline
got = sum(r["delta"] for r in rows)
assert all(r["host"] == host for r in rows), rows
assert got == want, f"{host}: stored drops sum to {got}, sent {want} ({len(rows)} rows)"
print(got)
PY
  ) || fail "the drops of $host are wrong"
  sums+=" $host $sum"
done

metric() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/metrics.txt"; }
curl -sf --max-time 10 "$SERVER/metrics" >"$TMP/metrics.txt" || fail "GET /metrics failed"
rejects=$(metric dropscope_rejects_total) failures=$(metric dropscope_commit_failures_total)
decode=$(metric dropscope_decode_errors_total) commits=$(metric dropscope_commits_total)
[ "${rejects:-0}" -ge 6 ] || fail "dropscope_rejects_total is '$rejects', expected at least 6"
[ "$failures" = 0 ] || fail "dropscope_commit_failures_total is '$failures', expected 0"
[ "${decode:-0}" -ge 1 ] || fail "dropscope_decode_errors_total is '$decode': the non-protobuf frame was not counted"

# The poison's bytes reach the log escaped: no escape byte, valid UTF-8.
$PY - "$TMP/aggregator.log" <<'PY' || fail "the aggregator log holds the poison's raw bytes"
import sys
data = open(sys.argv[1], "rb").read()
assert b"\x1b" not in data, "an escape byte in the log"
data.decode("utf-8")
PY
grep -q "rejected .*poison" "$TMP/aggregator.log" || fail "the rejections are not logged"

read -r stored rejected sent ack_s < <($PY -c 'import json, sys; s = json.loads(sys.argv[1])
print(s["stored"], s["rejected"], s["sent"], s["ack_seconds"])' "$summary")
log "ok: $stored honest messages stored, $rejected poison ones rejected with their reason and" \
  "1 non-protobuf frame counted ($sent sent, acked in $ack_s s, $commits commits); drops$sums;" \
  "rejects $rejects, commit failures $failures; client and checks $((SECONDS - start)) s"
