#!/usr/bin/env bash
# The web view in a real browser (Debian's chromium, headless, driven by
# playwright-core) against an aggregator fed by real collectors: three
# hosts on a bridge, synchronized bursts at two of them into receivers that
# cannot keep up (socket-layer drops), the third quiet. The page must show
# the hosts, the drops with their layer and the kernel's own count, each
# burst's 1 ms graph with the profile's points, the incidents' hosts, the
# timeline, and the API's error for a bad link — with no console errors;
# then what a person does with it (check_interaction.mjs): times as RFC 3339
# in UTC or local, drag-to-zoom and Back, the keyboard on every clickable
# row, opened graphs kept over auto-refreshes, the heatmap legend, the
# explanations in place, the dark theme.
# With SCREENSHOTS=DIR it also saves a picture of each view there
# (`make screenshots` regenerates docs/screenshots).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
require_root
export WEB_DIR=${WEB_DIR:-$(cd "$HERE/../../web" && pwd)}
command -v node >/dev/null || fail "node is not installed (deploy/install-deps.sh installs it)"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (deploy/install-deps.sh installs it)"
[ -d "$WEB_DIR/node_modules/playwright-core" ] ||
  fail "$WEB_DIR/node_modules/playwright-core is missing (make build runs npm ci in web/)"

P=ds-web-$$
make_fleet "$P" 3 1
start_aggregator --name "web-agg-$$"
t_from=$(now_ns)
for i in 1 2 3; do
  start_collector "$P-h$i" "web$i-$$" --interval 500ms --burst-threshold 20
done
for i in 1 2 3; do # web1 and web2 cannot keep up; web3 has room and gets no bursts
  rcvbuf=$([ "$i" -eq 3 ] && echo 8388608 || echo 4096)
  bg ip netns exec "$P-h$i" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(sys.argv[1]))
s.bind(("0.0.0.0", 7000))
time.sleep(120)' "$rcvbuf"
  echo "web$i-$$ $!/python3" >>"$TMP/receivers.txt" # the owner the page must name
done
wait_clocks web1-$$ web2-$$ web3-$$
t0=$(( $(now_ns) + 500000000 ))
ip netns exec "$P-s1" "$BIN_DIR/burstgen" --dest 10.90.0.1:7000 --dest 10.90.0.2:7000 \
  --start "$t0" --bursts 6 --every 500ms --packets 150 --payload 64 >"$TMP/burstgen.out" \
  2>>"$TMP/burstgen.log" || fail "burstgen failed (burstgen.log)"
ip netns exec "$P-s1" "$BIN_DIR/burstgen" --dest 10.90.0.3:7000 --bursts 0 --background-pps 200 \
  --tail 1s >/dev/null 2>>"$TMP/burstgen.log" || fail "burstgen failed (burstgen.log)"
sleep 1.5 # the last batches
t_to=$(now_ns)

# What the page must show: the kernel's drop counts, and the API's answers
# for the same range.
for i in 1 2 3; do
  echo "web$i-$$ $(kernel_counter "$P-h$i" UdpRcvbufErrors)"
done >"$TMP/kernel.txt"
R="from=$t_from&to=$t_to"
curl -sf "$SERVER/api/bursts?$R" >"$TMP/bursts.json"
curl -sf "$SERVER/api/incidents?$R" >"$TMP/incidents.json"
curl -sf "$SERVER/api/timeline?$R&host=web1-$$" >"$TMP/timeline.json"
python3 - "$TMP" "$$" "$t_from" "$t_to" >"$TMP/expected.json" <<'PY'
import json, sys
tmp, run, t_from, t_to = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
kernel = dict(line.split() for line in open(f"{tmp}/kernel.txt"))
owners = dict(line.split() for line in open(f"{tmp}/receivers.txt"))
bursts = json.load(open(f"{tmp}/bursts.json"))
incidents = json.load(open(f"{tmp}/incidents.json"))
timeline = json.load(open(f"{tmp}/timeline.json"))
hosts = [f"web{i}-{run}" for i in (1, 2, 3)]
assert int(kernel[hosts[0]]) > 0 and int(kernel[hosts[1]]) > 0, f"no socket drops: {kernel}"
assert int(kernel[hosts[2]]) == 0, f"the quiet host dropped: {kernel}"
target = {b["host"] for b in bursts if b["direction"] == "rx" and b["iface"] == "eth0"}
assert target == set(hosts[:2]), f"bursts seen on {target}"
assert any(set(c["hosts"]) == set(hosts[:2]) for c in incidents), f"no incident of web1+web2: {incidents}"
json.dump({
    "from": t_from, "to": t_to, "hosts": hosts, "aggregator": f"web-agg-{run}",
    "socket_drops": {h: int(kernel[h]) for h in hosts},
    "owners": owners,
    "bursts": [{"start_ns": b["start_ns"], "profile": b["profile"]} for b in bursts
               if b["host"] == hosts[0]],
    "incidents": [{"id": c["id"], "hosts": sorted(c["hosts"])} for c in incidents],
    "timeline_events": len(timeline),
}, sys.stdout)
PY
log "expected: $(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["socket_drops"], len(e["bursts"]), "bursts on web1,", len(e["incidents"]), "incidents")' "$TMP/expected.json")"

# The API refuses bad parameters with a 400 and a JSON error, on every
# endpoint the page reads.
expect_400 "/api/bursts?host=no-such-host" "unknown host"
expect_400 "/api/diagnose?host=no-such-host" "unknown host"
expect_400 "/api/settings?host=no-such-host" "unknown host"
expect_400 "/api/timeline?host=no-such-host" "unknown host"
expect_400 "/api/incidents?from=$t_to&to=$t_from" "inverted"
expect_400 "/api/drops?from=$t_to&to=$t_from" "inverted"
expect_400 "/api/timeline?from=yesterday&to=$t_to" "not a time"
expect_400 "/api/bursts?from=$t_from&to=soon" "not a time"
expect_400 "/api/incidents?since=lots" "not a duration"
expect_400 "/api/settings" "host is required"

timeout 180 node "$HERE/../web/check_page.mjs" "$SERVER" "$TMP/expected.json" \
  "${SCREENSHOTS:-}" 2>&1 | tee "$TMP/browser.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "the browser check failed (above)"
# What a person does with it: times, zoom, keyboard, refreshes, the theme.
timeout 180 node "$HERE/../web/check_interaction.mjs" "$SERVER" "$TMP/expected.json" \
  "${SCREENSHOTS:-}" 2>&1 | tee "$TMP/interaction.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "the browser check of interactions failed (above)"
