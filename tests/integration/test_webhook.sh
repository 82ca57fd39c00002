#!/usr/bin/env bash
# Alerts (docs/ALERTS.md): three hosts in namespaces burst together (one
# fleet incident) and each drops datagrams at a stuck socket. An aggregator
# with --webhook and --alertmanager, both pointed at one small HTTP
# receiver here that answers its first 2 POSTs 503, must deliver (after
# retries, counted in /metrics) one incident naming exactly the 3 hosts,
# sorted, and one DropscopeDrops per host at layer socket, on both paths.
# A restart on the same database, with the drops going on, posts neither
# again.
source "$(dirname "$0")/lib.sh"
require_root

P=ds-hook-$$
RUN=$$
make_fleet "$P" 3 1
RPORT=$(free_port)
http_receiver "$RPORT" "$TMP/posts.jsonl" 2 # the first two fail: the sender must retry them
HTTP_PORT=$(free_port)
SERVER="http://127.0.0.1:$HTTP_PORT"
ENDPOINT="ipc://$TMP/aggregator.sock"
# Not `daemon`: this test stops it and starts another on the same database.
aggregator() {
  "$BIN_DIR/dropscope-aggregator" --db "$TMP/db.sqlite" --listen "$ENDPOINT" \
    --http "127.0.0.1:$HTTP_PORT" --insecure --webhook "http://127.0.0.1:$RPORT/hook" \
    --alertmanager "http://127.0.0.1:$RPORT/" 2>>"$TMP/aggregator.log" &
  AGG=$!
  PIDS+=($AGG)
  wait_for 10 "the aggregator's /healthz" curl -sf -o /dev/null "$SERVER/healthz"
}
aggregator
for i in 1 2 3; do
  start_collector "$P-h$i" "h$i-$RUN" --interval 500ms --burst-threshold 20
  roomy_receiver "$P-h$i" 120
  stuck_receiver "$P-h$i"
done
wait_clocks "h1-$RUN" "h2-$RUN" "h3-$RUN"
t0=$(( $(now_ns) + 1000000000 ))
ip netns exec "$P-s1" "$BIN_DIR/burstgen" --dest 10.90.0.1:7000 --dest 10.90.0.2:7000 \
  --dest 10.90.0.3:7000 --start "$t0" --bursts 1 --every 500ms --packets 150 --payload 64 \
  >/dev/null 2>>"$TMP/burstgen.log" || fail "burstgen failed (burstgen.log)"
for i in 1 2 3; do send_datagrams "$P-h$i" 3000; done

# Delivered: 1 incident and 3 drops alerts on each path, after 2 503s.
count() { # PATH KIND: firing events of KIND posted to PATH
  python3 - "$TMP/posts.jsonl" "$1" "$2" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]) if __import__("os").path.exists(sys.argv[1]) else []:
    p = json.loads(line)
    if p["path"] != sys.argv[2]:
        continue
    for a in (p["body"] if isinstance(p["body"], list) else [p["body"]]):
        name = a["labels"]["alertname"]
        kind = "incident" if name == "DropscopeIncident" else "drops"
        n += kind == sys.argv[3] and a.get("status", "firing") == "firing"
print(n)
PY
}
deadline=$(( $(date +%s) + 30 ))
until [ "$(count /hook incident)" -ge 1 ] && [ "$(count /hook drops)" -ge 3 ] &&
      [ "$(count /api/v2/alerts incident)" -ge 1 ] && [ "$(count /api/v2/alerts drops)" -ge 3 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "alerts not delivered in 30 s: $(cat "$TMP/posts.jsonl")"
  sleep 0.5
done
sleep 3 # anything that would be posted twice
python3 - "$TMP/posts.jsonl" "$RUN" "$SERVER" <<'PY'
import json, sys
posts, run, server = [json.loads(l) for l in open(sys.argv[1])], sys.argv[2], sys.argv[3]
hosts = f"h1-{run},h2-{run},h3-{run}"
hook = [p["body"] for p in posts if p["path"] == "/hook"]
am = [a for p in posts if p["path"] == "/api/v2/alerts" for a in p["body"]]
assert len(hook) + sum(1 for p in posts if p["path"] == "/api/v2/alerts") == len(posts), posts
inc = [e for e in hook if e["kind"] == "incident"]
assert len(inc) == 1, f"{len(inc)} incident events on the webhook: {inc}"
e = inc[0]
assert e["version"] == 1 and e["status"] == "firing", e
assert e["labels"]["alertname"] == "DropscopeIncident" and e["labels"]["hosts"] == hosts, e
assert e["labels"]["severity"] == "warning" and e["labels"]["incident"], e
assert e["annotations"]["summary"].startswith("3 hosts burst together at "), e
assert int(e["annotations"]["peak"]) > 0, e
assert e["annotations"]["link"].startswith(server + "/#/incidents?from="), e
assert e["starts_at"] < e["ends_at"], e
drops = [e for e in hook if e["kind"] == "drops"]
pairs = sorted((e["labels"]["host"], e["labels"]["layer"]) for e in drops)
assert pairs == [(f"h{i}-{run}", "socket") for i in (1, 2, 3)], f"drops events: {pairs}"
for e in drops:
    assert e["status"] == "firing" and e["labels"]["alertname"] == "DropscopeDrops", e
    assert int(e["annotations"]["drops"]) > 0, e
    assert "receive buffer" in e["annotations"]["limit"], e  # the diagnosis' socket rule
    assert e["annotations"]["remedy"], e
am_inc = [a for a in am if a["labels"]["alertname"] == "DropscopeIncident"]
assert len(am_inc) == 1, am_inc
assert am_inc[0]["labels"]["incident"] == inc[0]["labels"]["incident"], am_inc
assert am_inc[0]["labels"]["hosts"] == hosts and am_inc[0]["generatorURL"], am_inc
assert am_inc[0]["startsAt"] and am_inc[0]["endsAt"] > am_inc[0]["startsAt"], am_inc
am_pairs = sorted((a["labels"]["host"], a["labels"]["layer"]) for a in am
                  if a["labels"]["alertname"] == "DropscopeDrops")
assert am_pairs == pairs, f"Alertmanager drops alerts: {am_pairs}"
print(f"ok: incident {inc[0]['labels']['incident']} of {hosts} and {len(drops)} drops alerts, "
      "on the webhook and Alertmanager")
PY
[ $? -eq 0 ] || fail "the alerts posted are not what the contract says"
failed=$(curl -sf "$SERVER/metrics" | awk '/^dropscope_alerts_failed_total/ { n += $2 } END { print n+0 }')
sent=$(curl -sf "$SERVER/metrics" | awk '/^dropscope_alerts_sent_total/ { n += $2 } END { print n+0 }')
[ "$failed" -eq 2 ] || fail "dropscope_alerts_failed_total sums to $failed, the receiver failed 2"
[ "$sent" -eq "$(wc -l <"$TMP/posts.jsonl")" ] || fail "dropscope_alerts_sent_total $sent"
log "ok: 2 failed attempts retried and counted, $sent events sent"

# A restart on the same database while the sockets still drop: nothing again.
before=$(wc -l <"$TMP/posts.jsonl")
kill -TERM "$AGG"
wait "$AGG" || fail "the aggregator did not stop cleanly"
[ -s "$TMP/db.sqlite.alerts" ] || fail "no alert state beside the database"
aggregator
for i in 1 2 3; do send_datagrams "$P-h$i" 3000; done
sleep 4
wait_for 5 "drops after the restart" sh -c "curl -sf '$SERVER/metrics/fleet' | grep -q 'h1-$RUN'"
after=$(wc -l <"$TMP/posts.jsonl")
[ "$after" -eq "$before" ] ||
  fail "the restart posted $((after - before)) events again: $(tail -n +$((before + 1)) "$TMP/posts.jsonl")"
grep -q "3 drops alerts active" "$TMP/aggregator.log" || fail "the restart did not restore the drops alerts"
log "ok: after the restart no incident or drops alert was posted again"
kill -TERM "$AGG"
wait "$AGG" || fail "the aggregator did not stop cleanly"
