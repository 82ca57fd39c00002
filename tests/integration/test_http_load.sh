#!/usr/bin/env bash
# The HTTP side under load (no namespaces needed): on a month of five hosts
# (drops, bursts with profiles, an incident every five minutes: seeded with
# SQL into the aggregator's own schema, as bench_queries does, since a
# month through collectors would take a month),
#  - /healthz and /metrics answer within 100 ms each while ten month-long
#    /api/timeline queries run (they run on the worker pool, the cheap
#    endpoints on the I/O thread);
#  - with --query-timeout 50ms a month-long query gets 503 and says why;
#  - a capped answer carries X-Dropscope-Truncated, keeps the newest rows
#    (oldest first), and the CLI warns about it on stderr.
source "$(dirname "$0")/lib.sh"

HOSTS=5
DAYS=30
MAX_MS=100
DB="$TMP/db.sqlite"

# The schema: an aggregator run once migrates a fresh database.
port=$(free_port)
"$BIN_DIR/dropscope-aggregator" --db "$DB" --listen "ipc://$TMP/migrate.sock" \
  --http "127.0.0.1:$port" --insecure 2>>"$TMP/migrate.log" &
migrate_pid=$!
PIDS+=("$migrate_pid")
wait_for 30 "the first aggregator to migrate $DB" curl -sf "http://127.0.0.1:$port/healthz" -o /dev/null
kill "$migrate_pid"
wait "$migrate_pid" || true

t0=$(date +%s)
python3 - "$DB" "$HOSTS" "$DAYS" <<'PY'
import random, sqlite3, sys, time
db, hosts, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
S = 10**9
end = time.time_ns() - 60 * S          # the month ends a minute ago
t0 = end - days * 86400 * S
random.seed(13)
c = sqlite3.connect(db)
c.execute("PRAGMA synchronous = OFF")
names = [("snmp", "", "Udp.RcvbufErrors", "socket", 0), ("snmp", "", "Udp.InErrors", "proto", 1),
         ("softnet", "cpu0", "dropped", "backlog", 0)]
c.executemany("INSERT INTO series_names (id, source, device, name) VALUES (?, ?, ?, ?)",
              [(k + 1, src, dev, name) for k, (src, dev, name, _, _) in enumerate(names)])
for h in range(hosts):
    c.execute("INSERT INTO hosts (id, name, first_seen_ns, last_seen_ns) VALUES (?, ?, ?, ?)",
              (h + 1, f"load{h}", t0, end))
    for k, (_, _, _, layer, overlap) in enumerate(names):
        c.execute("INSERT INTO host_series (id, host_id, name_id, kind, layer, overlap) "
                  "VALUES (?, ?, ?, 'counter', ?, ?)", ((h + 1) * 3 + k, h + 1, k + 1, layer, overlap))
drops, bursts = [], []
for h in range(hosts):
    sid = (h + 1) * 3
    for day in range(days):
        for e in range(100):                   # 100 drop events a host and day
            ts = t0 + day * 86400 * S + random.randrange(86400) * S + e
            d = 1 + random.randrange(500)
            drops.append((h + 1, "socket", ts, sid, ts - S, d, 0))
            drops.append((h + 1, "proto", ts, sid + 1, ts - S, d, 1))
        for k in range(48):                    # a burst every 30 min
            bursts.append((h + 1, t0 + day * 86400 * S + k * 1800 * S + random.randrange(10**9)))
    for m in range(days * 288):                # all hosts together every 5 min
        bursts.append((h + 1, t0 + m * 300 * S + 500 * S + random.randrange(500000)))
c.executemany("INSERT OR IGNORE INTO drops (host_id, layer, ts_ns, series_id, prev_ts_ns, delta, "
              "overlap) VALUES (?, ?, ?, ?, ?, ?, ?)", drops)
c.executemany("INSERT OR IGNORE INTO bursts (host_id, start_ns, iface, direction, end_ns, "
              "peak_per_ms, packets, bytes, threshold_per_ms, drops_total, drops, profile_start_ns, "
              "tick_ns, profile, profile_complete, corrected_start_ns, uncertainty_ns) VALUES "
              "(?1, ?2, 'eth0', 'rx', ?2 + 3000000, 700, 2100, 210000, 256, 0, zeroblob(88), "
              "?2 - 10000000, 1000000, zeroblob(160), 1, ?2, 100000)", bursts)
c.commit()
print(f"seeded {len(drops)} drops and {len(bursts)} bursts", file=sys.stderr)
PY
log "seeded $HOSTS hosts x $DAYS days in $(( $(date +%s) - t0 )) s"

# --- the cheap endpoints stay fast while ten month-long queries run -------
start_aggregator --query-timeout 5m
month="since=${DAYS}d"
for i in $(seq 10); do
  bg curl -s -o "$TMP/timeline-$i.json" -w '%{http_code}\n' "$SERVER/api/timeline?$month" \
    >"$TMP/timeline-$i.code"
done
metric() { curl -sf "$SERVER/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
busy() { [ "$(metric dropscope_http_queries_running)" -ge 2 ]; }
wait_for 30 "the timeline queries to be running" busy

worst=0
for round in $(seq 5); do
  for path in /healthz /metrics; do
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$SERVER$path")
    code=${out% *}
    ms=$(awk -v s="${out#* }" 'BEGIN { printf "%.1f", s * 1000 }')
    [ "$code" = 200 ] || fail "$path answered $code while the timelines ran"
    log "round $round: $path ${ms} ms"
    awk -v ms="$ms" -v max=$MAX_MS 'BEGIN { exit !(ms <= max) }' ||
      fail "$path took ${ms} ms (more than ${MAX_MS} ms) while ten timeline queries ran"
    worst=$(awk -v a="$worst" -v b="$ms" 'BEGIN { print (b > a ? b : a) }')
  done
  sleep 0.2
done
# The measurements count only if the queries were still running through them.
running=$(metric dropscope_http_queries_running)
queued=$(metric dropscope_http_queries_queued)
[ $((running + queued)) -ge 1 ] ||
  fail "the timeline queries ended before the measurements did (too little data to load the server)"
log "worst of 10: ${worst} ms, with $running queries running and $queued queued at the end"

done_all() { [ "$(cat "$TMP"/timeline-*.code 2>/dev/null | grep -c .)" -eq 10 ]; }
wait_for 240 "the ten timeline queries to finish" done_all
for i in $(seq 10); do
  [ "$(cat "$TMP/timeline-$i.code")" = 200 ] || fail "timeline $i answered $(cat "$TMP/timeline-$i.code")"
done
python3 - "$TMP/timeline-1.json" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))
kinds = {e["type"] for e in ev}
assert {"drop", "burst", "incident"} <= kinds, kinds
ts = [e["ts_ns"] for e in ev]
assert ts == sorted(ts), "timeline not in time order"
PY

# --- a capped answer says so and keeps the newest rows --------------------
curl -s -D "$TMP/capped.headers" -o "$TMP/capped.json" "$SERVER/api/drops?host=load2&$month&limit=7"
grep -qi '^X-Dropscope-Truncated: limit (more than 7 rows: the newest 7 kept' "$TMP/capped.headers" ||
  fail "a capped /api/drops has no truncation header: $(cat "$TMP/capped.headers")"
python3 - "$TMP/capped.json" "$DB" <<'PY'
import json, sqlite3, sys
rows = json.load(open(sys.argv[1]))
c = sqlite3.connect(sys.argv[2])
newest = [r[0] for r in c.execute(
    "SELECT ts_ns FROM drops WHERE host_id = 3 ORDER BY ts_ns DESC, series_id DESC LIMIT 7")]
got = [r["ts_ns"] for r in rows]
assert len(got) == 7, got
assert got == sorted(got), f"not oldest first: {got}"
assert sorted(got) == sorted(newest), f"not the newest 7: {got} vs {newest}"
PY
curl -s -D "$TMP/whole.headers" -o /dev/null "$SERVER/api/drops?host=load2&since=1h&limit=100000"
! grep -qi '^X-Dropscope-Truncated' "$TMP/whole.headers" || fail "a whole answer says it was truncated"
# bursts: the month's profiles exceed the tick budget; the newest keep theirs
curl -s -D "$TMP/bursts.headers" -o "$TMP/bursts.json" "$SERVER/api/bursts?$month"
grep -qi '^X-Dropscope-Truncated: .*profiles (over' "$TMP/bursts.headers" ||
  fail "bursts over the profile budget do not say so: $(cat "$TMP/bursts.headers")"
python3 - "$TMP/bursts.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
omitted = [x.get("profile_omitted", False) for x in b]
assert omitted[-1] is False and len(b[-1]["profile"]) == 40, b[-1]
assert omitted[0] is True and b[0]["profile"] == [], b[0]
first_kept = omitted.index(False)
assert not any(omitted[first_kept:]), "a newer burst lost its profile to an older one"
assert sum(len(x["profile"]) for x in b) <= 250000
PY
# the CLI warns, on stderr, and still prints the rows
"$BIN_DIR/dropscope" --server "$SERVER" drops --host load2 --since ${DAYS}d --limit 3 \
  >"$TMP/cli.out" 2>"$TMP/cli.err" || fail "dropscope drops --limit 3 failed: $(cat "$TMP/cli.err")"
grep -q '^dropscope: warning: the answer is incomplete: limit (more than 3 rows' "$TMP/cli.err" ||
  fail "the CLI did not warn about a capped answer: $(cat "$TMP/cli.err")"
[ "$(grep -c 'load2' "$TMP/cli.out")" -ge 3 ] || fail "the CLI printed no rows: $(cat "$TMP/cli.out")"
# its totals are the whole range's (/api/totals), not the sum of the 3 rows listed
span=$(sqlite3 "$DB" "SELECT min(ts_ns) - 1, max(ts_ns) FROM drops d JOIN hosts h ON h.id = d.host_id WHERE h.name = 'load2'")
want=$(sqlite3 "$DB" "SELECT sum(delta) FROM drops d JOIN hosts h ON h.id = d.host_id WHERE h.name = 'load2' AND layer = 'socket' AND overlap = 0")
"$BIN_DIR/dropscope" --server "$SERVER" drops --host load2 --from "${span%|*}ns" --to "${span#*|}ns" \
  --limit 3 >"$TMP/cli2.out" 2>/dev/null || fail "dropscope drops --from --to failed"
got=$(awk '$1 == "socket" { print $2 }' "$TMP/cli2.out")
[ "$got" = "$want" ] || fail "the CLI's socket total is '$got', the database's $want: $(cat "$TMP/cli2.out")"
# --- a query past its deadline gets 503 and says why ----------------------
kill "${DAEMONS[0]}"
wait "${DAEMONS[0]}" 2>/dev/null || true
DAEMONS=()
start_aggregator --query-timeout 50ms
code=$(curl -s -o "$TMP/slow.json" -w '%{http_code}' "$SERVER/api/timeline?$month")
[ "$code" = 503 ] || fail "a month-long timeline with --query-timeout 50ms answered $code: $(head -c 300 "$TMP/slow.json")"
grep -q 'took longer than 0.05 s (the limit, --query-timeout); narrow the range' "$TMP/slow.json" ||
  fail "the 503 does not say why: $(cat "$TMP/slow.json")"
[ "$(metric dropscope_http_deadline_total)" -ge 1 ] || fail "dropscope_http_deadline_total did not count it"
# and the server still answers what fits
code=$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/api/hosts")
[ "$code" = 200 ] || fail "/api/hosts answered $code after a query was stopped"

log "PASS: /healthz and /metrics within ${worst} ms under ten month-long timelines; 503 past the deadline; capped answers say so"
