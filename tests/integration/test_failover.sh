#!/usr/bin/env bash
# Collectors that fail over between aggregators (--connect given twice; on
# the command line, it replaces a config file's list).
# Two aggregators, agg-a and agg-b, each with its own SQLite file; four
# collectors, each in its own namespace with a spool and a UDP receiver
# there that drops continuously, list agg-a first and agg-b second. A fifth
# lists an endpoint where nothing listens first.
#  - The first that answers is used: agg-a's /api/hosts names agg-a for the
#    four, agg-b's names agg-b for the fifth (it moved on after 5 s).
#  - agg-a is SIGKILLed mid-run: every collector moves to agg-b, whose
#    /api/hosts then names agg-b for all five.
#  - Nothing lost: for every host, the socket-layer drops stored by agg-a
#    and agg-b together, each batch once (a batch agg-a committed but had
#    not acknowledged goes to agg-b again: same host, same read time),
#    equal the kernel's Udp.RcvbufErrors exactly.
source "$(dirname "$0")/lib.sh"
require_root

N=4
RUN=$$
many=(); for i in $(seq 9); do many+=(--connect "ipc://$TMP/a$i.sock"); done
out=$("$BIN_DIR/dropscope-collector" "${many[@]}" --insecure 2>&1) && fail "nine --connect taken"
grep -q "at most 8 aggregators" <<<"$out" || fail "nine --connect: $out"
# A --connect on the command line replaces the config file's list.
printf 'connect = ipc://%s/file-a.sock\nconnect = ipc://%s/file-b.sock\n' "$TMP" "$TMP" \
  >"$TMP/collector.conf"
out=$(timeout 3 "$BIN_DIR/dropscope-collector" --config "$TMP/collector.conf" --insecure \
  --backend none --connect "ipc://$TMP/cli.sock" 2>&1) || true
grep -q "to ipc://$TMP/cli.sock (plain text; 0 more to fail over to)" <<<"$out" ||
  fail "--connect on the command line did not replace the file's: $(grep sending <<<"$out")"

start_named_aggregator agg-a --db "$TMP/agg-a.sqlite"
start_named_aggregator agg-b --db "$TMP/agg-b.sqlite"

start_col() { # I FIRST-ENDPOINT
  make_ns "ds-fo-$1-$RUN"
  ip netns exec "ds-fo-$1-$RUN" "$BIN_DIR/dropscope-collector" --connect "$2" \
    --connect "ipc://$TMP/agg-b.sock" --insecure --host-name "fo-$1-$RUN" --interval 200ms \
    --backend none --spool "$TMP/spool-$1" 2>>"$TMP/collector-$1.log" &
  PIDS+=($!)
}
for i in $(seq 1 $N); do start_col "$i" "ipc://$TMP/agg-a.sock"; done
start_col 5 "ipc://$TMP/nobody.sock"

for i in $(seq 1 $N); do wait_for 20 "fo-$i on agg-a" reports_to agg-a "fo-$i-$RUN"; done
wait_for 30 "fo-5 to move on to agg-b" reports_to agg-b "fo-5-$RUN"
log "the first that answers: fo-1..$N on agg-a, fo-5 (first endpoint dead) on agg-b"

for i in $(seq 1 5); do udp_dropper "ds-fo-$i-$RUN" 12 "$TMP/sent-$i"; done

sleep 4
kill -9 "${AGG_PID[agg-a]}"; wait "${AGG_PID[agg-a]}" 2>/dev/null || true
log "agg-a killed"
for i in $(seq 1 5); do wait_for 30 "fo-$i on agg-b" reports_to agg-b "fo-$i-$RUN"; done
grep -q "sending to ipc://$TMP/agg-b.sock now" "$TMP/collector-1.log" ||
  fail "collector 1 did not say it moved to agg-b: $(tail -3 "$TMP/collector-1.log")"
senders_done() { for i in $(seq 1 5); do [ -e "$TMP/sent-$i" ] || return 1; done; }
wait_for 60 "the senders to finish" senders_done

# stored I: HOST's Udp.RcvbufErrors deltas in both files, each read time
# once, and how many read times both had.
stored() {
  python3 - "$TMP/agg-a.sqlite" "$TMP/agg-b.sqlite" "fo-$1-$RUN" <<'EOF'
import sqlite3, sys
rows = {}
both = 0
for path in sys.argv[1:3]:
    db = sqlite3.connect(path)
    seen = {}
    for ts, delta in db.execute(
            "SELECT d.ts_ns, d.delta FROM drops d JOIN hosts h ON h.id = d.host_id "
            "JOIN host_series s ON s.id = d.series_id JOIN series_names n ON n.id = s.name_id "
            "WHERE h.name = ? AND n.source = 'snmp' AND n.name = 'Udp.RcvbufErrors'",
            (sys.argv[3],)):
        seen[ts] = delta
    for ts, delta in seen.items():
        if ts in rows:
            both += 1
            assert rows[ts] == delta, f"{ts}: {rows[ts]} != {delta}"
        rows[ts] = delta
print(sum(rows.values()), both)
EOF
}
deadline=$(( $(date +%s) + 60 ))
for i in $(seq 1 5); do
  kernel=$(kernel_counter "ds-fo-$i-$RUN" UdpRcvbufErrors)
  [ "$kernel" -gt 500 ] || fail "namespace $i dropped only $kernel"
  while read -r got both < <(stored "$i"); [ "$got" -lt "$kernel" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "fo-$i: stored $got of $kernel drops after 60 s"
    sleep 1
  done
  [ "$got" -eq "$kernel" ] || fail "fo-$i: stored $got drops, the kernel counted $kernel"
  log "fo-$i: kernel $kernel = agg-a + agg-b, each batch once ($both read times in both files)"
done
log "ok: five hosts failed over to agg-b, every drop stored once across the two"
