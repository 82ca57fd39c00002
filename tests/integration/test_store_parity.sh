#!/usr/bin/env bash
# The same answers from either store. One recorded fleetsim run (200 hosts,
# 150 intervals of 10 s of backlog: the last 25 minutes, with drops, each
# host's own bursts and every 100 s a burst of a quarter of the fleet at one
# instant) is stored by an aggregator
# on SQLite while fleetsim records it, then sent again, message for message,
# to an aggregator on ClickHouse (tests/tools/zreplay). Both must then give
# the same hosts, drops (raw and by the minute), bursts, incidents, top
# droppers, totals, diagnoses, timelines and series (raw and rollups), field
# for field, but for what is the receiving aggregator's own: when it saw each
# host and its name. The minute rollups are compared over the minutes SQLite
# has rolled up (it waits 2 minutes after each; ClickHouse's views are
# complete at once). SQLite's raw history is read with at least one block
# of ten minutes packed (store_raw.c: 25 minutes hold one whole, rolled up).
# No root needed; skipped without clickhouse-server.
source "$(dirname "$0")/lib.sh"

HOSTS=${PARITY_HOSTS:-200}
STEPS=${PARITY_SECONDS:-150}
start_clickhouse ch

start_named_aggregator sqlite --db "$TMP/db.sqlite"
start_named_aggregator clickhouse --clickhouse "http://127.0.0.1:$CH_PORT/?database=parity"

t_from=$(( $(now_ns) - (STEPS + 1) * 10000000000 ))
"$BIN_DIR/dropscope-fleetsim" --connect "ipc://$TMP/sqlite.sock" --insecure --hosts "$HOSTS" \
  --seconds "$STEPS" --interval 10s --replay --sync-bursts 10 --record "$TMP/run.rec" \
  >"$TMP/fleetsim.out" 2>>"$TMP/fleetsim.log" || fail "fleetsim failed (fleetsim.log)"
log "recorded: $(tail -n 1 "$TMP/fleetsim.out") ($(stat -c %s "$TMP/run.rec") bytes)"
"$BIN_DIR/zreplay" "ipc://$TMP/clickhouse.sock" "$TMP/run.rec" >"$TMP/zreplay.out" \
  2>>"$TMP/zreplay.log" || fail "the replay into ClickHouse: $(cat "$TMP/zreplay.out") (zreplay.log)"
log "replayed into ClickHouse: $(cat "$TMP/zreplay.out")"
sleep 1.5 # both aggregators' hosts flush (once a second)
t_to=$(now_ns)
packed() { [ "$(sqlite3 "$TMP/db.sqlite" "SELECT count(*) FROM raw_blocks")" -ge "$HOSTS" ]; }
wait_for 60 "SQLite's upkeep to pack a block of every host" packed
log "SQLite: $(sqlite3 "$TMP/db.sqlite" "SELECT count(*), sum(nbatches) FROM raw_blocks") raw blocks, batches in them"

python3 - "${AGG_HTTP[sqlite]}" "${AGG_HTTP[clickhouse]}" "$t_from" "$t_to" <<'EOF'
import json, sys, time, urllib.request
a, b, t_from, t_to = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
R = f"from={t_from}&to={t_to}"
# The minutes both have rolled up: those that ended 3 minutes before now.
ROLLED = f"from={t_from}&to={(int(t_to) - 180 * 10**9) // (60 * 10**9) * 60 * 10**9}"

def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as r:
        return json.load(r)

# What is the receiving aggregator's own: when it saw a host, its name.
OWN = {"first_seen_ns", "last_seen_ns", "aggregator"}

def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in OWN}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v

def same(path, what, least=1, wait=0):
    """path's answers from both, equal, and at least least of them; with
    wait, asked again for that many seconds while SQLite has fewer."""
    deadline = time.time() + wait
    while True:
        x, y = strip(get(a, path)), strip(get(b, path))
        if (x == y and len(x) >= least) or time.time() >= deadline:
            break
        time.sleep(1)
    if x != y:
        xs, ys = json.dumps(x, sort_keys=True), json.dumps(y, sort_keys=True)
        at = next((i for i in range(min(len(xs), len(ys))) if xs[i] != ys[i]), min(len(xs), len(ys)))
        sys.exit(f"FAIL: {what} differ ({path}): SQLite {xs[max(0, at - 200):at + 200]!r}\n"
                 f"   ClickHouse {ys[max(0, at - 200):at + 200]!r}")
    n = len(x) if isinstance(x, list) else 1
    if n < least:
        sys.exit(f"FAIL: {what}: only {n} answers ({path}), expected at least {least}")
    print(f"same {what}: {n}")
    return x

hosts = same("/api/hosts", "hosts", 200)
drops = same(f"/api/drops?{R}&limit=100000", "drop rows", 100)
same(f"/api/drops?{R}&step=1m&limit=100000", "drops by the minute", 10)
same(f"/api/drops?{R}&step=1h&limit=100000", "drops by the hour", 10)
bursts = same(f"/api/bursts?{R}&limit=100000", "bursts", 50)
incidents = same(f"/api/incidents?{R}", "incidents", 5)
sync = [c for c in incidents if len(c["hosts"]) >= len(hosts) // 8]
if len(sync) < 4:
    sys.exit(f"FAIL: {len(sync)} incidents of the synchronized quarter, expected 4 or more (of 6)")
same(f"/api/top?{R}", "top droppers", 10)
same(f"/api/totals?{R}", "totals")
names = sorted(set(sorted({d["host"] for d in drops})[:3] + sorted(sync[0]["hosts"])[:2]))
for h in names:
    same(f"/api/diagnose?host={h}&{R}", f"{h}'s diagnosis")
    same(f"/api/timeline?host={h}&{R}", f"{h}'s timeline", 2)
    # A counter that moves now and then (sent when it does), and one that
    # moves every interval: five minutes rolled up.
    for series, minutes in (("snmp//Udp.RcvbufErrors", 0), ("netdev/eth0/rx_packets", 5)):
        same(f"/api/series?host={h}&series={series}&{R}", f"{h}'s {series}", 1)
        same(f"/api/series?host={h}&series={series}&{ROLLED}&step=1m",
             f"{h}'s {series} by minute", minutes, wait=60)
    same(f"/api/settings?host={h}", f"{h}'s settings", 1)
print(f"ok: {len(hosts)} hosts, {len(drops)} drop rows, {len(bursts)} bursts, "
      f"{len(incidents)} incidents ({len(sync)} of the synchronized quarter) the same in both")
EOF
