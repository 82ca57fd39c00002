#!/usr/bin/env bash
# `make run`: an aggregator on ./var/dropscope.db and a collector for this
# host, in the foreground until Ctrl-C, talking CurveZMQ with keys made on
# the first run under ./var/keys (the collector's public key, naming this
# host, is put in the aggregator's allow-list). DROPSCOPE_HOST_NAME=NAME
# overrides the host name (default: hostname).
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

# The collector's key names this host (its certificate's metadata `name`):
# the aggregator stores a key's messages only under the host it names.
KEYS=$VAR/keys
HOST=${DROPSCOPE_HOST_NAME:-$(hostname)}
mkdir -p "$KEYS/allow"
cert_name() { sed -n 's/^[[:space:]]*name = "\(.*\)"[[:space:]]*$/\1/p' "$1" | head -n 1; }
keygen() {
  local rc=0
  "$BIN/dropscope" keygen "$@" >/dev/null || rc=$?
  [ $rc -ne 2 ] || echo "run: choose a valid host name: DROPSCOPE_HOST_NAME=NAME make run" >&2
  [ $rc -eq 0 ] || exit 1
}
made=()
if [ ! -f "$KEYS/aggregator_secret" ] || [ ! -f "$KEYS/aggregator" ]; then
  rm -f "$KEYS/aggregator" "$KEYS/aggregator_secret"
  keygen "$KEYS/aggregator"
  made+=(aggregator)
fi
# A key made by an older version names another host ("collector") or none:
# the aggregator would refuse everything it sends. Replace it, and take its
# public certificate out of the allow-list.
if [ -f "$KEYS/collector_secret" ] && [ "$(cert_name "$KEYS/collector_secret")" != "$HOST" ]; then
  echo "run: $KEYS/collector_secret names host '$(cert_name "$KEYS/collector_secret")', not" \
       "'$HOST' (made by an older version?): making a new collector key" >&2
  for f in "$KEYS"/allow/*; do
    [ -f "$f" ] && [ -f "$KEYS/collector" ] && cmp -s "$f" "$KEYS/collector" && rm -f "$f"
  done
  rm -f "$KEYS/collector" "$KEYS/collector_secret"
fi
if [ ! -f "$KEYS/collector_secret" ] || [ ! -f "$KEYS/collector" ]; then
  rm -f "$KEYS/collector" "$KEYS/collector_secret"
  keygen --name "$HOST" "$KEYS/collector"
  made+=(collector)
fi
cmp -s "$KEYS/collector" "$KEYS/allow/$HOST" 2>/dev/null || cp "$KEYS/collector" "$KEYS/allow/$HOST"
if [ ${#made[@]} -gt 0 ]; then
  echo "run: made CurveZMQ keys (${made[*]}) in $KEYS (the aggregator admits the certificates" \
       "in $KEYS/allow; the collector's key speaks for host $HOST)"
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
  --server-cert "$KEYS/aggregator" --host-name "$HOST" --spool "$VAR/spool" \
  2>>"$VAR/collector.log" &
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
dropscope is running: aggregator (database $VAR/dropscope.db) and a collector for $HOST.

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
