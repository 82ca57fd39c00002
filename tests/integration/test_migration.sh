#!/usr/bin/env bash
# Schema migrations are said before they start, and the HTTP API is up
# while they run: /healthz answers 503 "migrating" (which, of how many,
# for how long) and the API says to come back, rather than nothing; once
# they are done, /healthz says ok and the API answers.
#
# What makes a migration wait here is real: another process holding the
# database's write lock (a backup, say) until the test has seen the
# "migrating" answers; the aggregator's writer waits for it as long as it
# takes (logging every busy timeout, 5 s), then migrates.
source "$(dirname "$0")/lib.sh"

DB="$TMP/db.sqlite"
mkfifo "$TMP/release"
# A new database in WAL mode (as the aggregator keeps it), at version 0,
# its write lock held until a line arrives on the fifo.
cat >"$TMP/hold.py" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("BEGIN IMMEDIATE")
open(sys.argv[3], "w").close()
with open(sys.argv[2]) as release:
    release.readline()
db.execute("COMMIT")
db.close()
PY
bg python3 "$TMP/hold.py" "$DB" "$TMP/release" "$TMP/locked"
wait_for 10 "the lock to be taken" test -e "$TMP/locked"

port=$(free_port)
SERVER="http://127.0.0.1:$port"
daemon "$BIN_DIR/dropscope-aggregator" --db "$DB" --listen "ipc://$TMP/aggregator.sock" \
  --http "127.0.0.1:$port" --insecure 2>>"$TMP/aggregator.log"

# While the first migration waits for the lock: "migrating", in /healthz
# and in the API's answers.
migrating() {
  code=$(curl -s -o "$TMP/healthz.json" -w '%{http_code}' "$SERVER/healthz" || true)
  [ "$code" = 503 ] && grep -q migrating "$TMP/healthz.json"
}
wait_for 20 "/healthz to answer migrating" migrating
python3 - "$TMP/healthz.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
assert h["status"] == "migrating", h
assert h["migration"] == "001_initial.sql" and h["index"] == 1, h
assert h["count"] >= 15 and 0 <= h["running_s"] < 60, h
print(f"ok: /healthz during the migration: {h}")
PY
code=$(curl -s -o "$TMP/hosts.json" -w '%{http_code}' "$SERVER/api/hosts")
[ "$code" = 503 ] || fail "/api/hosts answered $code during the migration, not 503"
grep -q "being migrated (1 of" "$TMP/hosts.json" || fail "/api/hosts: $(cat "$TMP/hosts.json")"
metrics() { http_has "$SERVER/metrics" '^dropscope_build_info'; }
wait_for 20 "/metrics to answer during the migration" metrics
# Held past a busy timeout: the writer keeps waiting, and says so.
wait_for 20 "the writer to say it waits for the lock" \
  grep -q "migration 1 of [0-9]* (001_initial.sql) waits for the write lock on $DB" "$TMP/aggregator.log"
migrating || fail "no longer migrating while the lock is held: $(cat "$TMP/healthz.json")"

echo >"$TMP/release"
ok() { http_has "$SERVER/healthz" '"ok"'; }
wait_for 20 "/healthz to say ok after the migrations" ok
[ "$(curl -s "$SERVER/api/hosts")" = "[]" ] || fail "/api/hosts after the migration: not []"

# The log says what is about to happen before it happens, then each step.
grep -n "migrat" "$TMP/aggregator.log" >"$TMP/migrations.txt"
head -1 "$TMP/migrations.txt" | grep -q "migrating the database from version 0: [0-9]* migrations to apply" ||
  fail "the first migration line is not the announcement: $(head -1 "$TMP/migrations.txt")"
count=$(sed -n 's/.*migrating the database from version 0: \([0-9]*\) migrations.*/\1/p' "$TMP/migrations.txt")
done_lines=$(grep -c "database migrated to version" "$TMP/migrations.txt")
[ "$done_lines" -eq "$count" ] || fail "announced $count migrations, logged $done_lines"
grep -q "migrated to version 1 (001_initial.sql, 1 of $count, " "$TMP/migrations.txt" ||
  fail "no step line for the first migration"
# Each one said before it started, right before its result.
python3 - "$TMP/migrations.txt" "$count" <<'PY'
import re, sys
lines = [l.split(": ", 2)[-1].strip() for l in open(sys.argv[1]) if " waits for " not in l][1:]
count = int(sys.argv[2])
assert len(lines) == 2 * count, lines
for i in range(count):
    start, done = lines[2 * i], lines[2 * i + 1]
    m = re.fullmatch(r"migration (\d+) of (\d+) \((\S+)\) starting", start)
    assert m and int(m[1]) == i + 1 and int(m[2]) == count, start
    assert re.fullmatch(rf"database migrated to version \d+ \({re.escape(m[3])}, {i + 1} of {count}, [\d.]+ s\)", done), done
PY
log "ok: $count migrations announced, each logged; the API said migrating meanwhile"
