#!/usr/bin/env bash
# `make run`: an aggregator on ./var/dropscope.db and a collector for this
# host, in the foreground until Ctrl-C, talking CurveZMQ with keys made on
# the first run under ./var/keys (the collector's public key is put in the
# aggregator's allow-list).
set -euo pipefail
BIN=${1:-build/bin}
VAR=${2:-var}
ZMQ_PORT=${DROPSCOPE_ZMQ_PORT:-7420}
HTTP_PORT=${DROPSCOPE_HTTP_PORT:-7421}
mkdir -p "$VAR"

for port in "$ZMQ_PORT" "$HTTP_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "run: port $port on 127.0.0.1 is in use (another 'make run'?). Stop it, or choose" \
         "ports with DROPSCOPE_ZMQ_PORT=... DROPSCOPE_HTTP_PORT=... make run" >&2
    exit 1
  fi
done

KEYS=$VAR/keys
if [ ! -f "$KEYS/aggregator_secret" ] || [ ! -f "$KEYS/collector_secret" ]; then
  mkdir -p "$KEYS/allow"
  rm -f "$KEYS/aggregator" "$KEYS/aggregator_secret" "$KEYS/collector" "$KEYS/collector_secret"
  "$BIN/dropscope" keygen "$KEYS/aggregator" >/dev/null
  "$BIN/dropscope" keygen "$KEYS/collector" >/dev/null
  cp "$KEYS/collector" "$KEYS/allow/$(hostname)"
  echo "run: made CurveZMQ keys in $KEYS (the aggregator admits the certificates in $KEYS/allow)"
fi

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 0' INT TERM

"$BIN/dropscope-aggregator" --db "$VAR/dropscope.db" --listen "tcp://127.0.0.1:$ZMQ_PORT" \
  --http "127.0.0.1:$HTTP_PORT" --cert "$KEYS/aggregator_secret" --allow "$KEYS/allow" \
  2>>"$VAR/aggregator.log" &
pids+=($!)
"$BIN/dropscope-collector" --connect "tcp://127.0.0.1:$ZMQ_PORT" --cert "$KEYS/collector_secret" \
  --server-cert "$KEYS/aggregator" --spool "$VAR/spool" 2>>"$VAR/collector.log" &
pids+=($!)

server="http://127.0.0.1:$HTTP_PORT"
for _ in $(seq 50); do
  curl -sf "$server/api/hosts" 2>/dev/null | grep -q '"host"' && break
  sleep 0.2
done
if ! curl -sf "$server/healthz" >/dev/null 2>&1; then
  echo "run: the aggregator did not start; see $VAR/aggregator.log:" >&2
  tail -n 5 "$VAR/aggregator.log" >&2
  exit 1
fi

cat <<EOT
dropscope is running: aggregator (database $VAR/dropscope.db) and a collector for $(hostname).

  HTTP API     $server/api/hosts   $server/api/drops?since=1h   $server/metrics
  CLI          $BIN/dropscope --server $server hosts
               $BIN/dropscope --server $server drops --since 1h
               $BIN/dropscope --server $server drops --layer socket --json
  logs         $VAR/aggregator.log  $VAR/collector.log

Press Ctrl-C to stop both.
EOT
wait -n "${pids[@]}" || true
echo "run: a process exited; see the logs in $VAR/" >&2
exit 1
