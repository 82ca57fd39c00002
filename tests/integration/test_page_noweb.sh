#!/usr/bin/env bash
# The page's paths (/ and /static/...) as the build in BIN_DIR was
# configured (its CMakeCache.txt): with -DDROPSCOPE_WEB=OFF, a 404 in plain
# text naming the option and pointing at /api/, while the JSON API,
# /healthz and /metrics answer as usual; with the web view ON (the default),
# the page, its files and the chart library, and a JSON 404 for a file that
# is not there. A real aggregator on loopback; no namespaces, no root.
source "$(dirname "$0")/lib.sh"

CACHE=$BIN_DIR/../CMakeCache.txt
if [ ! -f "$CACHE" ]; then
  echo "SKIP: no CMakeCache.txt beside $BIN_DIR: cannot tell how the aggregator was built" >&2
  exit $SKIP
fi
web=$(sed -n 's/^DROPSCOPE_WEB:BOOL=//p' "$CACHE")
[ -n "$web" ] || fail "$CACHE has no DROPSCOPE_WEB (CMakeLists.txt defines the option)"
start_aggregator

# get PATH: "STATUS CONTENT-TYPE", the body in $TMP/body.
get() { curl -s -o "$TMP/body" -w '%{http_code} %{content_type}' "$SERVER$1"; }

case $web in
OFF | off | 0 | FALSE | false)
  for path in / /static/app.js /static/uPlot.iife.min.js /static/nonexistent.css; do
    got=$(get "$path")
    [ "$got" = "404 text/plain; charset=utf-8" ] || fail "GET $path answered '$got', expected a 404 in text"
    grep -q -- '-DDROPSCOPE_WEB=OFF' "$TMP/body" || fail "GET $path does not name the option: $(cat "$TMP/body")"
    grep -q '/api/' "$TMP/body" || fail "GET $path does not point at /api/: $(cat "$TMP/body")"
  done
  log "ok: / and /static/ answer 404: $(head -1 "$TMP/body")"
  ;;
*)
  got=$(get /)
  [ "$got" = "200 text/html; charset=utf-8" ] || fail "GET / answered '$got'"
  grep -q '<html' "$TMP/body" || fail "GET / is not the page: $(head -c 200 "$TMP/body")"
  got=$(get /static/uPlot.iife.min.js)
  [ "$got" = "200 text/javascript; charset=utf-8" ] || fail "GET /static/uPlot.iife.min.js answered '$got'"
  [ "$(stat -c %s "$TMP/body")" -gt 10000 ] || fail "uPlot is only $(stat -c %s "$TMP/body") bytes"
  got=$(get /static/nonexistent.css)
  [ "$got" = "404 application/json" ] || fail "GET /static/nonexistent.css answered '$got'"
  grep -q '"no such file"' "$TMP/body" || fail "GET /static/nonexistent.css said $(cat "$TMP/body")"
  log "ok: the page, uPlot, and a JSON 404 for a missing file"
  ;;
esac

# Either way, the rest of the server is the same.
got=$(get /api/hosts)
[ "$got" = "200 application/json" ] || fail "GET /api/hosts answered '$got'"
[ "$(cat "$TMP/body")" = "[]" ] || fail "GET /api/hosts on an empty database said $(cat "$TMP/body")"
[ "$(get /healthz | cut -d' ' -f1)" = 200 ] || fail "GET /healthz did not answer 200"
get /metrics >/dev/null
grep -q '^dropscope_http_queries_running ' "$TMP/body" || fail "/metrics lacks the HTTP gauges"
log "OK: the page's paths as built with DROPSCOPE_WEB=$web; /api/, /healthz and /metrics served"
