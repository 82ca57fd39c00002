#!/usr/bin/env bash
# Aggregator ingest at fleet scale (docs/ARCHITECTURE.md, Budgets), with dropscope-fleetsim on
# the real codec and transport:
#  1. baseline: raw SQLite narrow-row inserts (bench_sqlite_raw), this run;
#  2. cold start: the backlog of BENCH_SECONDS intervals of BENCH_HOSTS
#     hosts, every one new to a fresh aggregator (a fleet-wide upgrade, a
#     new database: every host's definitions at once), sent as fast as acks
#     allow: committed samples/s and its ratio to the baseline (goal >= 0.7);
#  3. warm replay: the same again, now that the aggregator knows the hosts
#     (a backlog after an outage): the same figures; both check that every
#     sent sample was stored (the aggregator's count and the database's);
#  4. real time: BENCH_HOSTS hosts every second for BENCH_REALTIME seconds,
#     after starting them one by one over BENCH_RAMP seconds (a fleet whose
#     collectors all restart in the same second first costs the aggregator
#     every host's definitions at once): ack latency p50/p99 over the run
#     and after the ramp (goal p99 < 1 s), and the backlog (goal: not
#     growing).
#  5. ClickHouse (when clickhouse-server is installed: a throwaway server on
#     loopback): the warm replay through one aggregator on ClickHouse, then
#     through two at once (the fleet split between them), samples/s and
#     their ratios to SQLite's warm replay of this run; the real-time run's
#     ack latency through one;
#  6. a ClickHouse cluster (when ZooKeeper is installed too: 2 shards x 2
#     replicas on loopback, clickhouse-test-cluster.sh): the warm replay
#     through one aggregator (Distributed tables, inserts waiting for two
#     replicas), samples/s and its ratio to the single server's; not in the
#     smoke run (BENCH_SECONDS under 10).
#   BIN_DIR=build/bin BENCH_HOSTS=10000 BENCH_SECONDS=30 BENCH_REALTIME=300 bash tests/bench/bench_ingest.sh
# CI runs a smoke run (BENCH_SECONDS=2: 50 hosts, 3 s of each).
source "$(dirname "$0")/../integration/lib.sh"
SECS=${BENCH_SECONDS:-30}
if [ "$SECS" -lt 10 ]; then HOSTS=${BENCH_HOSTS:-50} REALTIME=${BENCH_REALTIME:-3} RAW=20000 RAMP=1
else HOSTS=${BENCH_HOSTS:-10000} REALTIME=${BENCH_REALTIME:-300} RAW=5000000 RAMP=${BENCH_RAMP:-30}; fi
ulimit -n 65536 2>/dev/null || true

"$BIN_DIR/bench_sqlite_raw" "$RAW" "$TMP/raw.sqlite" | tee "$TMP/raw.txt"
raw=$(awk '$1 == "raw_rows_per_s" { print $2 }' "$TMP/raw.txt")
rm -f "$TMP"/raw.sqlite*

# The samples the store holds, each batch once (in rows, or packed in raw blocks).
in_store() {
  python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT (SELECT coalesce(sum(nsamples), 0) FROM batches) + (SELECT coalesce(sum(nsamples), 0) FROM raw_blocks)").fetchone()[0])' "$TMP/db.sqlite"
}
start_aggregator
sim() { "$BIN_DIR/dropscope-fleetsim" --connect "$ENDPOINT" --insecure --hosts "$HOSTS" "$@"; }
# /metrics answers 503 past its 0.5 s deadline on a writer that is busy
# (a loaded machine): ask again rather than end the run there.
metrics() {
  curl -sf --retry 10 --retry-delay 1 --retry-all-errors "$SERVER/metrics" ||
    fail "/metrics did not answer in 10 tries (is the machine loaded?)"
}
stored() { metrics | awk '$1 == "dropscope_samples_stored_total" { print $2 }'; }

# replay FILE NAME: BENCH_SECONDS intervals of every host as fast as acks allow;
# checks that every sample sent was stored, prints the rate against raw.
total=0
replay() {
  local file=$TMP/$1 name=$2 before after sent rate in_db
  log "$name: $SECS intervals of $HOSTS hosts as fast as acks allow"
  before=$(stored)
  sim --seconds "$SECS" --replay >"$file.txt" 2>"$file.log" || fail "the $name replay failed"
  after=$(stored)
  sent=$(awk '$1 == "sent_samples" { print $2 }' "$file.txt")
  rate=$(awk '$1 == "samples_per_s" { print $2 }' "$file.txt")
  total=$((total + sent))
  in_db=$(in_store)
  [ $((after - before)) -eq "$sent" ] || fail "$name: the aggregator stored $((after - before)) of $sent samples sent"
  [ "$in_db" -eq "$total" ] || fail "$name: the database holds $in_db samples, $total were sent"
  python3 -c 'import sys; n, r, raw = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]); print(f"{n}: {r:.0f} samples/s committed, raw SQLite {raw:.0f} rows/s: ratio {r / raw:.2f} (goal >= 0.7); all {sys.argv[4]} samples stored; {sys.argv[5]} resent")' \
    "$name" "$rate" "$raw" "$sent" "$(awk '$1 == "resent" { print $2 }' "$file.txt")"
}
replay cold "cold start"
replay warm "warm replay"
sqlite_warm=$(awk '$1 == "samples_per_s" { print $2 }' "$TMP/warm.txt")

log "real time: $HOSTS hosts every second for $REALTIME s after a ramp of $RAMP s"
sim --seconds "$REALTIME" --ramp "${RAMP}s" >"$TMP/realtime.txt" 2>"$TMP/realtime.log" ||
  fail "the real-time run failed"
python3 - "$TMP/realtime.txt" "$TMP/realtime.log" <<'PY'
import re, sys
out = dict(l.split(None, 1) for l in open(sys.argv[1]) if " " in l)
backlog = [int(m.group(1)) for m in (re.search(r"backlog (\d+)", l) for l in open(sys.argv[2])) if m]
third = max(1, len(backlog) // 3)
early, late = backlog[third:2 * third] or backlog, backlog[-third:]
print(f"real time: ack latency p50 {out['ack_latency_p50_ms'].strip()} ms, p99 "
      f"{out['ack_latency_p99_ms'].strip()} ms, max {out['ack_latency_max_ms'].strip()} ms; after the "
      f"ramp p50 {out['after_ramp_ack_latency_p50_ms'].strip()} ms, p99 "
      f"{out['after_ramp_ack_latency_p99_ms'].strip()} ms (goal < 1000); backlog mean "
      f"{sum(early) / len(early):.0f} in the middle third, {sum(late) / len(late):.0f} in the last "
      f"(max {out['backlog_max'].strip()}); {out['samples_per_s'].strip()} samples/s")
PY
metrics | awk '$1 == "dropscope_rollups_behind_seconds" { print "rollups behind at the end: " $2 " s (a minute is rolled up once 2 min old)" }'
ls -l "$TMP/db.sqlite" | awk '{ printf "database: %.1f MB\n", $5 / 1e6 }'

# --- ClickHouse ----------------------------------------------------------------
if ! { [ -x /usr/sbin/clickhouse-server ] || command -v clickhouse-server >/dev/null; }; then
  log "ClickHouse: clickhouse-server is not installed; skipped (deploy/install-deps.sh)"
  exit 0
fi
start_clickhouse ch
CH="http://127.0.0.1:$CH_PORT/?database=bench"
ch_stored() { # the samples in ClickHouse, each batch once
  curl -sf "http://127.0.0.1:$CH_PORT/" --data-binary "SELECT sum(n) FROM (SELECT any(nsamples) \
AS n FROM bench.batches WHERE kind = 'batch' GROUP BY host, incarnation, seq)"
}
start_named_aggregator ch-a --clickhouse "$CH"
start_named_aggregator ch-b --clickhouse "$CH"
# Cold (every host new), then warm through one aggregator.
for phase in cold warm; do
  "$BIN_DIR/dropscope-fleetsim" --connect "ipc://$TMP/ch-a.sock" --insecure --hosts "$HOSTS" \
    --seconds "$SECS" --replay >"$TMP/ch-$phase.txt" 2>"$TMP/ch-$phase.log" ||
    fail "the ClickHouse $phase replay failed (ch-$phase.log)"
done
one=$(awk '$1 == "samples_per_s" { print $2 }' "$TMP/ch-warm.txt")
cold=$(awk '$1 == "samples_per_s" { print $2 }' "$TMP/ch-cold.txt")
# Two aggregators at once, half the fleet each (hosts of their own prefix,
# warmed by a first pass).
two_pass() { # TAG
  local half=$(( (HOSTS + 1) / 2 )) t0 t1 a b
  t0=$(date +%s%N)
  "$BIN_DIR/dropscope-fleetsim" --connect "ipc://$TMP/ch-a.sock" --insecure --hosts "$half" \
    --prefix sa --seconds "$SECS" --replay >"$TMP/ch-two-a$1.txt" 2>"$TMP/ch-two-a$1.log" & a=$!
  "$BIN_DIR/dropscope-fleetsim" --connect "ipc://$TMP/ch-b.sock" --insecure --hosts "$half" \
    --prefix sb --seconds "$SECS" --replay >"$TMP/ch-two-b$1.txt" 2>"$TMP/ch-two-b$1.log" & b=$!
  wait $a || fail "the two-aggregator replay through ch-a failed"
  wait $b || fail "the two-aggregator replay through ch-b failed"
  t1=$(date +%s%N)
  python3 -c 'import sys; print(round((int(sys.argv[1]) + int(sys.argv[2])) / ((int(sys.argv[4]) - int(sys.argv[3])) / 1e9)))' \
    "$(awk '$1 == "sent_samples" { print $2 }' "$TMP/ch-two-a$1.txt")" \
    "$(awk '$1 == "sent_samples" { print $2 }' "$TMP/ch-two-b$1.txt")" "$t0" "$t1"
}
two_pass cold >/dev/null
two=$(two_pass warm)
sent=0
for f in ch-cold ch-warm ch-two-acold ch-two-bcold ch-two-awarm ch-two-bwarm; do
  sent=$((sent + $(awk '$1 == "sent_samples" { print $2 }' "$TMP/$f.txt")))
done
held=$(ch_stored)
[ "$held" -eq "$sent" ] || fail "ClickHouse holds $held samples, $sent were sent"
python3 -c 'import sys; c, o, t, s = map(float, sys.argv[1:5]); print(f"ClickHouse: cold start {c:.0f} samples/s ({c / s:.2f} of SQLite warm), warm replay through one aggregator {o:.0f} samples/s (ratio to SQLite warm {o / s:.2f}), through two at once {t:.0f} samples/s ({t / s:.2f}; {t / o:.2f} of one); all {sys.argv[5]} samples stored once")' \
  "$cold" "$one" "$two" "$sqlite_warm" "$sent"
"$BIN_DIR/dropscope-fleetsim" --connect "ipc://$TMP/ch-a.sock" --insecure --hosts "$HOSTS" \
  --prefix rt --seconds "$REALTIME" --ramp "${RAMP}s" >"$TMP/ch-realtime.txt" \
  2>"$TMP/ch-realtime.log" || fail "the ClickHouse real-time run failed"
awk '$1 ~ /^(ack_latency_p50_ms|ack_latency_p99_ms|after_ramp_ack_latency_p50_ms|after_ramp_ack_latency_p99_ms)$/ { v[$1] = $2 }
  END { printf "ClickHouse real time: ack latency p50 %s ms, p99 %s ms; after the ramp p50 %s ms, p99 %s ms\n",
        v["ack_latency_p50_ms"], v["ack_latency_p99_ms"], v["after_ramp_ack_latency_p50_ms"],
        v["after_ramp_ack_latency_p99_ms"] }' "$TMP/ch-realtime.txt"

# --- a ClickHouse cluster --------------------------------------------------------
if [ ! -x /usr/share/zookeeper/bin/zkServer.sh ]; then
  log "ClickHouse cluster: ZooKeeper is not installed; skipped (deploy/install-deps.sh)"
  exit 0
fi
if [ "$SECS" -lt 10 ]; then # five servers' start: the store tests run on a cluster already
  log "ClickHouse cluster: skipped in the smoke run (BENCH_SECONDS under 10)"
  exit 0
fi
start_clickhouse_cluster chc
start_named_aggregator ch-c --clickhouse "http://127.0.0.1:${CH_PORTS[0]}/?database=bench" \
  --clickhouse-cluster dropscope
for phase in cold warm; do
  "$BIN_DIR/dropscope-fleetsim" --connect "ipc://$TMP/ch-c.sock" --insecure --hosts "$HOSTS" \
    --seconds "$SECS" --replay >"$TMP/chc-$phase.txt" 2>"$TMP/chc-$phase.log" ||
    fail "the ClickHouse cluster $phase replay failed (chc-$phase.log)"
done
python3 -c 'import sys; c, o, s = map(float, sys.argv[1:4]); print(f"ClickHouse cluster (2 shards x 2 replicas, insert_quorum 2): warm replay through one aggregator {c:.0f} samples/s, {c / o:.2f} of the single server, {c / s:.2f} of SQLite warm")' \
  "$(awk '$1 == "samples_per_s" { print $2 }' "$TMP/chc-warm.txt")" "$one" "$sqlite_warm"
