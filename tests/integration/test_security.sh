#!/usr/bin/env bash
# CurveZMQ with an allow-list (czmq zauth): an allowed collector is stored;
# a collector whose key is not on the list, and one speaking plain TCP, store
# nothing and are logged; the daemons refuse to start without keys unless
# told --insecure. Runs on loopback TCP, no namespaces needed.
source "$(dirname "$0")/lib.sh"

K=$TMP/keys
mkdir -p "$K/allow"
"$BIN_DIR/dropscope" keygen "$K/aggregator" >/dev/null
"$BIN_DIR/dropscope" keygen "$K/allowed" >/dev/null
"$BIN_DIR/dropscope" keygen "$K/stranger" >/dev/null
cp "$K/allowed" "$K/allow/"
[ "$(stat -c %a "$K/allowed_secret")" = 600 ] || fail "secret key file is not mode 600"
set +e
"$BIN_DIR/dropscope" keygen "$K/allowed" 2>"$TMP/e"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "not overwriting" "$TMP/e" || fail "keygen overwrote a key"

port=$(free_port) http=$(free_port)
SERVER="http://127.0.0.1:$http"
daemon "$BIN_DIR/dropscope-aggregator" --db "$TMP/db.sqlite" --listen "tcp://127.0.0.1:$port" \
  --http "127.0.0.1:$http" --cert "$K/aggregator_secret" --allow "$K/allow" 2>>"$TMP/aggregator.log"
for _ in $(seq 50); do curl -sf "$SERVER/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

collector() { # NAME ARGS...
  local name=$1; shift
  daemon "$BIN_DIR/dropscope-collector" --connect "tcp://127.0.0.1:$port" --host-name "$name" \
    --interval 200ms --backend none "$@" 2>>"$TMP/collector-$name.log"
}
collector allowed --cert "$K/allowed_secret" --server-cert "$K/aggregator"
collector stranger --cert "$K/stranger_secret" --server-cert "$K/aggregator"
collector plain --insecure
# Right key, wrong server certificate: it cannot complete the handshake either.
collector confused --cert "$K/allowed_secret" --server-cert "$K/stranger"
sleep 3

curl -sf "$SERVER/api/hosts" >"$TMP/hosts.json"
python3 - "$TMP/hosts.json" <<'PY'
import json, sys
hosts = sorted(h["host"] for h in json.load(open(sys.argv[1])))
assert hosts == ["allowed"], f"stored hosts {hosts}, expected only the allowed collector"
PY
stored=$(sqlite3 "$TMP/db.sqlite" "SELECT count(*) FROM batches b JOIN hosts h ON h.id = b.host_id WHERE h.name != 'allowed'")
[ "$stored" = 0 ] || fail "$stored batches stored from refused collectors"
grep -q "refused a collector connection.*not in the --allow directory" "$TMP/aggregator.log" ||
  fail "the stranger's refusal is not logged"
grep -q "refused a collector connection.*does not speak CurveZMQ" "$TMP/aggregator.log" ||
  fail "the plain-text collector's refusal is not logged"
failures=$(curl -sf "$SERVER/metrics" | awk '$1 == "dropscope_auth_failures_total" { print $2 }')
[ "${failures:-0}" -ge 2 ] || fail "dropscope_auth_failures_total is '$failures'"
grep -q "plain text, unauthenticated" "$TMP/collector-plain.log" || fail "--insecure is not logged"

# No keys and no --insecure: refuse to start, saying what to do.
set +e
"$BIN_DIR/dropscope-aggregator" --db "$TMP/x.db" 2>"$TMP/e1"; rc1=$?
"$BIN_DIR/dropscope-collector" --connect "tcp://127.0.0.1:$port" 2>"$TMP/e2"; rc2=$?
"$BIN_DIR/dropscope-aggregator" --db "$TMP/x.db" --insecure --listen "tcp://127.0.0.1:$(free_port)" \
  --http "127.0.0.1:$(free_port)" --cert "$K/aggregator_secret" --allow "$K/allow" 2>"$TMP/e3"; rc3=$?
# A public certificate with no secret beside it (czmq would find PATH_secret next to PATH).
timeout 10 "$BIN_DIR/dropscope-aggregator" --db "$TMP/x.db" --listen "tcp://127.0.0.1:$(free_port)" \
  --http "127.0.0.1:$(free_port)" --cert "$K/allow/allowed" --allow "$K/allow" 2>"$TMP/e4"; rc4=$?
set -e
[ $rc1 -eq 2 ] && grep -q "keygen" "$TMP/e1" || fail "aggregator without keys: rc $rc1 $(cat "$TMP/e1")"
[ $rc2 -eq 2 ] && grep -q "keygen" "$TMP/e2" || fail "collector without keys: rc $rc2 $(cat "$TMP/e2")"
[ $rc3 -eq 2 ] || fail "--insecure with --cert accepted: rc $rc3"
[ $rc4 -eq 1 ] && grep -q "secret key" "$TMP/e4" || fail "public file as --cert: rc $rc4 $(cat "$TMP/e4")"
log "ok: only the allowed collector is stored; refusals logged ($failures)"
