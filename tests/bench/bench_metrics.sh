#!/usr/bin/env bash
# The size and time of a /metrics/fleet scrape (and of /metrics beside it)
# for fleets of 1,000 and 10,000 hosts, replayed by dropscope-fleetsim
# (BENCH_SECONDS intervals of each host, as fast as acks allow), then
# scraped 5 times each: bytes, series, and the slowest of the 5 in ms.
#   BIN_DIR=build/bin BENCH_SECONDS=20 bash tests/bench/bench_metrics.sh
# CI runs a smoke run (BENCH_SECONDS=2: 50 and 200 hosts).
source "$(dirname "$0")/../integration/lib.sh"
SECS=${BENCH_SECONDS:-20}
if [ "$SECS" -lt 10 ]; then FLEETS=${BENCH_FLEETS:-"50 200"}; else FLEETS=${BENCH_FLEETS:-"1000 10000"}; fi
ulimit -n 65536 2>/dev/null || true

# scrape PATH: "bytes series slowest_ms" over 5 scrapes.
scrape() {
  local worst=0 t
  for _ in 1 2 3 4 5; do
    t=$(curl -sf -o "$TMP/scrape.txt" -w '%{time_total}' "$SERVER$1") || fail "$1 did not answer"
    worst=$(python3 -c "print(max($worst, $t * 1000))")
  done
  echo "$(stat -c %s "$TMP/scrape.txt") $(grep -vc '^#' "$TMP/scrape.txt") $worst"
}

for hosts in $FLEETS; do
  rm -f "$TMP"/db.sqlite*
  start_aggregator
  "$BIN_DIR/dropscope-fleetsim" --connect "$ENDPOINT" --insecure --hosts "$hosts" \
    --seconds "$SECS" --replay --prefix "bench" >"$TMP/sim.txt" 2>&1 || fail "fleetsim: $(tail -3 "$TMP/sim.txt")"
  got=$(curl -sf "$SERVER/metrics/fleet" | awk '$1 == "dropscope_fleet_hosts" { print $2 }')
  [ "$got" = "$hosts" ] || fail "/metrics/fleet lists $got hosts of $hosts"
  read -r fb fs fms <<<"$(scrape /metrics/fleet)"
  read -r mb ms mms <<<"$(scrape /metrics)"
  printf 'hosts=%s fleet_bytes=%s fleet_series=%s fleet_scrape_ms=%.1f metrics_bytes=%s metrics_scrape_ms=%.1f\n' \
    "$hosts" "$fb" "$fs" "$fms" "$mb" "$mms"
  for pid in "${DAEMONS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${DAEMONS[@]}"; do wait "$pid" 2>/dev/null; done
  DAEMONS=()
done
