#!/usr/bin/env bash
# A squeeze is a precursor, not a drop: a collector reads a fixture procfs
# (a real 6.18 softnet_stat) whose time_squeeze column grows between reads
# while every drop counter stays flat (the test rewrites the file), in a
# fresh namespace where nothing else drops. The aggregator's drops totals
# (/api/totals, /api/top: what the web view's fleet and host views draw),
# its diagnosis and the CLI's output say 0 drops and the N squeezes apart;
# /api/drops still lists the squeezes' rows, under their layer; /metrics/fleet
# counts them as squeezes and no drop; no DropscopeDrops alert is sent.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
require_root
FIXTURES_DIR=${FIXTURES_DIR:-$(cd "$HERE/../fixtures" && pwd)}

P=ds-sq-$$
HOST=squeezer-$$
make_ns "$P"
cp -r "$FIXTURES_DIR/linux-6.18-netns-drops/proc" "$TMP/proc"
SOFTNET=$TMP/proc/net/softnet_stat
RPORT=$(free_port)
http_receiver "$RPORT" "$TMP/posts.jsonl"
start_aggregator --webhook "http://127.0.0.1:$RPORT/hook"
t_from=$(now_ns)
start_collector "$P" "$HOST" --procfs "$TMP/proc" --backend none --interval 200ms

# squeeze CPU_LINE N: adds N to time_squeeze (the third column, hex) of the
# CPU_LINE-th line, written whole and renamed so a read never sees half.
squeeze() {
  python3 - "$SOFTNET" "$1" "$2" <<'PY'
import os, sys
path, line, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [r.split() for r in open(path)]
rows[line][2] = "%08x" % (int(rows[line][2], 16) + n)
with open(path + ".new", "w") as f:
    f.write("".join(" ".join(r) + "\n" for r in rows))
os.rename(path + ".new", path)
PY
}
# api PATH: GET PATH from the aggregator (fails the test on an error).
api() { curl -sf "$SERVER$1" || fail "GET $1 failed"; }
stored_batches() {
  local n
  n=$(curl -sf "$SERVER/api/series?host=$HOST" |
      python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null) && [ "${n:-0}" -gt 0 ]
}
wait_for 30 "$HOST's first batches" stored_batches
sleep 0.5 # a few more reads of the unchanged file: the baseline

squeeze 0 256 # cpu0
sleep 0.6
squeeze 1 16 # cpu1
sleep 0.6
squeeze 0 2
N=274
R() { echo "from=$t_from&to=$(( $(now_ns) + 60000000000 ))"; }
squeezes_stored() {
  [ "$(api "/api/totals?host=$HOST&$(R)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["squeezes"])')" = "$N" ]
}
wait_for 30 "$N squeezes in /api/totals" squeezes_stored
sleep 0.5 # a few more intervals with nothing new: still flat
range=$(R)

# The API: 0 drops everywhere, the squeezes apart; the rows keep their layer.
api "/api/totals?host=$HOST&$range" >"$TMP/totals-host.json"
api "/api/totals?$range" >"$TMP/totals.json"
api "/api/top?$range" >"$TMP/top.json"
api "/api/drops?host=$HOST&$range" >"$TMP/drops.json"
api "/api/diagnose?host=$HOST&$range" >"$TMP/diagnose.json"
api "/api/vocabulary" >"$TMP/vocabulary.json"
python3 - "$TMP" "$HOST" "$N" <<'PY' || fail "the API counts squeezes as drops (above)"
import json, sys
tmp, host, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
load = lambda name: json.load(open(f"{tmp}/{name}.json"))
for name in ("totals-host", "totals"):
    t = load(name)
    assert t["total"] == 0 and t["layers"] == {} and t["squeezes"] == n, f"/api/totals ({name}): {t}"
top = load("top")
assert [r["host"] for r in top] == [host], f"/api/top: {top}"
assert top[0]["drops"] == 0 and top[0]["layers"] == {} and top[0]["squeezes"] == n, f"/api/top: {top}"
drops = load("drops")
assert drops and {r["layer"] for r in drops} == {"budget"}, f"/api/drops: {drops}"
assert {r["series"] for r in drops} == {"softnet/cpu0/time_squeeze", "softnet/cpu1/time_squeeze"}, drops
assert sum(r["delta"] for r in drops) == n, f"/api/drops: deltas sum to {sum(r['delta'] for r in drops)}"
d = load("diagnose")
assert d["findings"] == [], f"/api/diagnose: a finding for a host that lost nothing: {d['findings']}"
assert [(p["layer"], p["squeezes"]) for p in d["precursors"]] == [("budget", n)], d["precursors"]
v = load("vocabulary")
assert [l["name"] for l in v["layers"] if l["precursor"]] == ["budget"], v["layers"]
assert v["squeezes"] == "squeezes (softirq budget ran out: a precursor, not a loss)", v["squeezes"]
print(f"api: 0 drops, {n} squeezes apart; {len(drops)} budget rows listed; no finding, one precursor")
PY

# The metrics: the host's squeezes counted apart, no drop at any layer.
curl -sf "$SERVER/metrics/fleet" >"$TMP/fleet.prom" || fail "GET /metrics/fleet failed"
python3 - "$TMP/fleet.prom" "$HOST" "$N" <<'PY'
import re, sys
text, host, n = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
def values(metric):
    return {m[1]: float(m[2]) for m in re.finditer(
        r'^' + metric + r'\{([^}]*host="' + re.escape(host) + r'"[^}]*)\} (\S+)$', text, re.M)}
squeezes = values("dropscope_host_squeezes_total")
assert list(squeezes.values()) == [n], f"dropscope_host_squeezes_total: {squeezes}"
drops = values("dropscope_host_drops_total")
assert all(v == 0 for v in drops.values()), f"dropscope_host_drops_total: {drops}"
print(f"metrics: {n} squeezes, drops {drops or 'none'}")
PY
# The alerts: a drops alert goes out on the first commit that carries
# drops, long ago by now; none was sent for the squeezes.
sleep 2 # the sender's retry interval, twice
python3 - "$TMP/posts.jsonl" <<'PY' || fail "a drops alert for squeezes: $(cat "$TMP/posts.jsonl")"
import json, os, sys
posts = [json.loads(l) for l in open(sys.argv[1])] if os.path.exists(sys.argv[1]) else []
assert not [p for p in posts if p["body"].get("kind") == "drops"], posts
PY
http_has "$SERVER/metrics" '^dropscope_alerts_failed_total{receiver="webhook"} 0$' ||
  fail "the webhook receiver was not reachable: $(curl -sf "$SERVER/metrics" | grep alerts_)"

# The CLI: the same totals under the drops list, and diagnose's words.
"$BIN_DIR/dropscope" --server "$SERVER" drops --host "$HOST" --from "${t_from}ns" \
  --to +1m >"$TMP/cli-drops.txt" || fail "dropscope drops failed"
grep -q "^total over the whole range: 0 drops" "$TMP/cli-drops.txt" &&
  grep -qx "squeezes (softirq budget ran out: a precursor, not a loss): $N" "$TMP/cli-drops.txt" ||
  fail "dropscope drops: $(cat "$TMP/cli-drops.txt")"
"$BIN_DIR/dropscope" --server "$SERVER" diagnose "$HOST" --from "${t_from}ns" >"$TMP/cli-diag.txt" ||
  fail "dropscope diagnose failed"
grep -qx "$HOST: no drops in this range" "$TMP/cli-diag.txt" &&
  grep -q "^$HOST: warning, $N squeezes (softirq budget ran out: a precursor, not a loss) at the budget layer" \
    "$TMP/cli-diag.txt" && ! grep -q "drops at the" "$TMP/cli-diag.txt" ||
  fail "dropscope diagnose: $(cat "$TMP/cli-diag.txt")"
log "ok: $N squeezes, 0 drops in the API, the CLI and the diagnosis"

# The web view, in a real browser when this machine has one (test_web.sh
# needs it and says so): what the fleet and host views draw from the same
# answers.
WEB_DIR=${WEB_DIR:-$(cd "$HERE/../../web" && pwd)}
if command -v node >/dev/null && [ -x /usr/bin/chromium ] &&
  [ -d "$WEB_DIR/node_modules/playwright-core" ]; then
  WEB_DIR=$WEB_DIR timeout 120 node "$HERE/../web/check_squeezes.mjs" "$SERVER" "$HOST" "$N" \
    "$t_from" "$(( $(now_ns) + 60000000000 ))" 2>&1 | tee "$TMP/browser.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || fail "the browser check failed (above)"
else
  log "the web view is not checked: node, /usr/bin/chromium or web/node_modules is missing"
fi
