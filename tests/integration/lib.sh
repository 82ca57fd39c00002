# Shared helpers for the integration tests (sourced, not run). Every test
# creates its own network namespaces, runs real binaries from $BIN_DIR and
# removes everything it made on exit, also when it fails.
set -euo pipefail

BIN_DIR=${BIN_DIR:?set BIN_DIR to the bin/ directory of a build}
SKIP=77 # ctest SKIP_RETURN_CODE

TMP=$(mktemp -d /tmp/dropscope-it.XXXXXX)
NAMESPACES=()
PIDS=()    # everything started in the background, stopped on exit
DAEMONS=() # the dropscope daemons among them: must still be running at the end
CLICKHOUSES=() # the directories of the ClickHouse servers started (start_clickhouse)
CH_CLUSTERS=() # and of the clusters (start_clickhouse_cluster)

log() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# running PID: the process exists and has not exited (a zombie has).
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${state:0:1}" != Z ]
}

cleanup() {
  local rc=$?
  # The daemons must have survived the test, and stop cleanly when asked.
  for pid in "${DAEMONS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null && [ $rc -eq 0 ]; then
      log "FAIL: a dropscope daemon (pid $pid) died during the test"
      rc=1
    fi
  done
  # CONT too: a test may have stopped one (SIGSTOP) when it failed.
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && kill -CONT "$pid" 2>/dev/null || true; done
  # 30 s for all of them to stop; one that does not is named, killed, and
  # fails the test (rather than ctest's timeout, which names nothing).
  local end=$((SECONDS + 30))
  for pid in "${PIDS[@]}"; do
    while running "$pid" && [ $SECONDS -lt $end ]; do sleep 0.1; done
    if running "$pid"; then
      log "FAIL: pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)) did not stop within" \
        "30 s of SIGTERM: killed"
      kill -9 "$pid" 2>/dev/null || true
      [ $rc -ne 0 ] || rc=1
    fi
    wait "$pid" 2>/dev/null || true
  done
  for dir in "${CLICKHOUSES[@]}"; do
    bash "$CLICKHOUSE_SCRIPT" stop "$dir" 2>>"$TMP/clickhouse.log" || true
  done
  for dir in "${CH_CLUSTERS[@]}"; do
    bash "${CLICKHOUSE_SCRIPT%/*}/clickhouse-test-cluster.sh" stop "$dir" \
      2>>"$TMP/clickhouse.log" || true
  done
  # Sanitizer reports, and "out of memory" (which these machines never run
  # out of: a false one once hid a growth bug), fail the test.
  if [ $rc -eq 0 ] && grep -l -E "Sanitizer|runtime error|out of memory" "$TMP"/*.log 2>/dev/null; then
    log "FAIL: sanitizer or out-of-memory reports in the logs above"
    rc=1
  fi
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ $rc -ne 0 ] && [ $rc -ne $SKIP ]; then
    for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: $(basename "$0") needs root to create network namespaces (run make test as root)" >&2
    exit $SKIP
  fi
  command -v ip >/dev/null || { echo "SKIP: iproute2 (ip) is not installed" >&2; exit $SKIP; }
}

# make_ns NAME: a fresh network namespace with lo up, removed on exit.
make_ns() {
  ip netns add "$1"
  NAMESPACES+=("$1")
  ip -n "$1" link set lo up
}

# bg CMD...: starts CMD in the background, remembered for cleanup.
bg() {
  "$@" &
  PIDS+=($!)
}

# daemon CMD...: like bg, and the test fails if CMD is not running at the end.
daemon() {
  bg "$@"
  DAEMONS+=($!)
}

CLICKHOUSE_SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)/clickhouse-test-server.sh

# start_clickhouse NAME: a throwaway clickhouse-server in $TMP/NAME on free
# loopback ports, stopped on exit (also if this shell dies: its watcher).
# Sets CH_PORT (HTTP). Skips the test when clickhouse-server is missing.
start_clickhouse() {
  local rc=0
  mkdir -p "$TMP/$1"
  CH_PORT=$(CLICKHOUSE_TEST_OWNER=$$ bash "$CLICKHOUSE_SCRIPT" start "$TMP/$1" \
    2>>"$TMP/clickhouse.log") || rc=$?
  [ $rc -ne $SKIP ] || { tail -n 1 "$TMP/clickhouse.log" >&2; exit $SKIP; }
  [ $rc -eq 0 ] || fail "clickhouse-server did not start (clickhouse.log)"
  CLICKHOUSES+=("$TMP/$1")
}

# start_clickhouse_cluster NAME: a throwaway cluster `dropscope` in $TMP/NAME
# (clickhouse-test-cluster.sh: ZooKeeper, 2 shards x 2 replicas, nodes
# $TMP/NAME/n1 .. n4, n1 and n2 shard 1), stopped on exit. Sets CH_PORTS
# (the four HTTP ports, n1 first). Skips the test when clickhouse-server or
# ZooKeeper is missing.
start_clickhouse_cluster() {
  local rc=0 ports
  mkdir -p "$TMP/$1"
  CH_CLUSTERS+=("$TMP/$1")
  ports=$(CLICKHOUSE_TEST_OWNER=$$ bash "${CLICKHOUSE_SCRIPT%/*}/clickhouse-test-cluster.sh" \
    start "$TMP/$1" 2>>"$TMP/clickhouse.log") || rc=$?
  [ $rc -ne $SKIP ] || { tail -n 1 "$TMP/clickhouse.log" >&2; exit $SKIP; }
  [ $rc -eq 0 ] || fail "the ClickHouse cluster did not start (clickhouse.log)"
  read -r -a CH_PORTS <<<"$ports"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_aggregator [ARGS...]: an aggregator on $TMP/db.sqlite, reachable by
# every namespace over ipc:// and from here over HTTP, with ARGS added to
# its options. Sets ENDPOINT and SERVER.
start_aggregator() {
  ENDPOINT="ipc://$TMP/aggregator.sock"
  local port; port=$(free_port)
  SERVER="http://127.0.0.1:$port"
  daemon "$BIN_DIR/dropscope-aggregator" --db "$TMP/db.sqlite" --listen "$ENDPOINT" \
     --http "127.0.0.1:$port" --insecure "$@" 2>>"$TMP/aggregator.log"
  for _ in $(seq 50); do
    curl -sf "$SERVER/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "aggregator did not answer on $SERVER/healthz"
}

# start_named_aggregator NAME ARGS...: an aggregator called NAME (--name),
# taking collectors on ipc://$TMP/NAME.sock and HTTP on a free port, with
# ARGS (its store: --db PATH or --clickhouse URL). Sets AGG_HTTP[NAME] (the
# port) and AGG_PID[NAME] (a test may kill it).
declare -A AGG_HTTP AGG_PID
start_named_aggregator() {
  local name=$1 port; shift
  port=$(free_port)
  AGG_HTTP[$name]=$port
  "$BIN_DIR/dropscope-aggregator" --name "$name" --listen "ipc://$TMP/$name.sock" \
    --http "127.0.0.1:$port" --insecure "$@" 2>>"$TMP/$name.log" &
  AGG_PID[$name]=$!
  PIDS+=($!)
  wait_for 60 "$name to answer" curl -sf "http://127.0.0.1:$port/healthz" -o /dev/null
}

# reports_to AGG HOST: AGG's /api/hosts names AGG (start_named_aggregator's
# name) as the aggregator of HOST's latest message.
reports_to() {
  curl -sf "http://127.0.0.1:${AGG_HTTP[$1]}/api/hosts" | python3 -c '
import json, sys
sys.exit(not any(h["host"] == sys.argv[1] and h["aggregator"] == sys.argv[2]
                 for h in json.load(sys.stdin)))' "$2" "$1"
}

# expect_stored HOST KERNEL DEADLINE: waits (until the epoch second
# DEADLINE) for $SERVER to hold KERNEL socket-layer drops of HOST's
# Udp.RcvbufErrors, then fails unless it holds exactly that many: none lost,
# none stored twice. A query that fails meanwhile (a store recovering) is
# asked again; at the deadline its answer is shown.
expect_stored() {
  local got=
  while :; do
    if curl -s -o "$TMP/stored.json" -w '%{http_code}' \
        "$SERVER/api/drops?host=$1&layer=socket&since=1h&limit=100000" | grep -qx 200; then
      got=$(python3 -c 'import json, sys
print(sum(r["delta"] for r in json.load(open(sys.argv[1]))
          if r["series"] == "snmp//Udp.RcvbufErrors"))' "$TMP/stored.json")
      [ "$got" -lt "$2" ] || break
    fi
    [ "$(date +%s)" -lt "$3" ] ||
      fail "$1: stored ${got:-?} of $2 drops by the deadline; last answer: $(head -c 300 "$TMP/stored.json")"
    sleep 1
  done
  [ "$got" -eq "$2" ] || fail "$1: stored $got drops, the kernel counted $2 (stored twice?)"
  log "$1: kernel $2 = stored $got"
}

# udp_dropper NS SECONDS DONE: in NS, a UDP receiver that never reads (a
# 2 KiB buffer) and a sender dropping into it, 400 datagrams a second, 10
# at a time (under a burst threshold of 20/ms on lo), for SECONDS; then
# DONE is created (the kernel's count is final).
udp_dropper() {
  bg ip netns exec "$1" python3 -c '
import socket, sys, time
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
r.bind(("127.0.0.1", 9000))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    for _ in range(10):
        s.sendto(b"x" * 100, ("127.0.0.1", 9000))
    time.sleep(0.025)
open(sys.argv[2], "w").close()
time.sleep(600)' "$2" "$3"
}

# start_collector NS HOSTNAME [ARGS...]: a collector inside namespace NS.
start_collector() {
  local ns=$1 host=$2; shift 2
  daemon ip netns exec "$ns" "$BIN_DIR/dropscope-collector" --connect "$ENDPOINT" --insecure \
     --host-name "$host" "$@" 2>>"$TMP/collector-$host.log"
}

# kernel_counter NS NAME: the nstat value of NAME (e.g. UdpRcvbufErrors) in NS.
kernel_counter() {
  NSTAT_HISTORY="$TMP/nstat.hist" ip netns exec "$1" nstat -asz "$2" | awk -v k="$2" '$1 == k { print $2 }'
}

now_ns() { date +%s%N; }

# http_has URL GREP-ARGS...: URL answers and its body matches (grep -q
# GREP-ARGS). Not `curl | grep -q`: grep stops at the first match, curl
# still writing a long answer (/metrics) dies of SIGPIPE, and pipefail
# fails the line.
http_has() {
  local url=$1 body; shift
  body=$(mktemp "$TMP/http.XXXXXX")
  curl -sf "$url" >"$body" && grep -q "$@" "$body"
}

# make_pair S R: namespaces S and R joined by a veth pair (vs in S at
# 10.88.0.1, vr in R at 10.88.0.2), both up. With PAIR_IFINDEX=N, vs has
# ifindex N and vr N + 1 (a host that made and removed many interfaces).
make_pair() {
  make_ns "$1"
  make_ns "$2"
  ip link add vs ${PAIR_IFINDEX:+index $PAIR_IFINDEX} netns "$1" type veth peer name vr \
    ${PAIR_IFINDEX:+index $((PAIR_IFINDEX + 1))} netns "$2"
  ip -n "$1" addr add 10.88.0.1/24 dev vs
  ip -n "$2" addr add 10.88.0.2/24 dev vr
  ip -n "$1" link set vs up
  ip -n "$2" link set vr up
}

# wait_for SECONDS WHAT CMD...: runs CMD every 0.2 s until it succeeds; the
# test fails after SECONDS, naming WHAT. (A fixed sleep is too short on a
# busy machine and too long on an idle one.)
wait_for() {
  local limit=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${limit}s waiting for $what"
    sleep 0.2
  done
}

# wait_clocks HOST...: waits (60 s at most) until every HOST has said hello
# and measured its clock offset to the aggregator, so that bursts from now
# on carry a small clock uncertainty: a burst stamped before that carries
# the kernel's maxerror (16 s unsynchronized), which widens the incident
# window around it to everything in 16 s. Collectors that load eBPF in the
# sanitizer build can take seconds to start.
wait_clocks() {
  _clocks_known() {
    curl -sf "$SERVER/api/hosts" | python3 -c '
import json, sys
known = {h["host"] for h in json.load(sys.stdin) if h["clock"] and h["clock"]["offset_valid"]}
sys.exit(0 if set(sys.argv[1:]) <= known else 1)' "$@"
  }
  wait_for 60 "the clock offsets of $*" _clocks_known "$@"
}

# stuck_receiver NS [PYTHON]: a UDP receiver on 127.0.0.1:9999 in NS with a
# 2 KB SO_RCVBUF that never reads, so every datagram beyond the buffer is a
# Udp.RcvbufErrors; PYTHON (a statement) runs first, e.g. to rename the
# process. Waits until it is bound; its pid in RECEIVER_PID. With
# RECEIVER_UID set, it runs as that user, with no capability (Debian's
# python: the one on PATH may live in root's home, closed to others).
stuck_receiver() {
  local out="$TMP/receiver-$1.out" as=(python3)
  [ -z "${RECEIVER_UID:-}" ] || as=(setpriv --reuid="$RECEIVER_UID" --regid="$RECEIVER_UID"
    --clear-groups --inh-caps=-all /usr/bin/python3)
  ip netns exec "$1" "${as[@]}" -c "
import ctypes, os, socket, time
${2:-pass}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.bind(('127.0.0.1', 9999))
print('ready', os.getpid(), flush=True)
time.sleep(600)" >"$out" &
  PIDS+=($!)
  wait_for 10 "the UDP receiver in $1" grep -qs ready "$out"
  RECEIVER_PID=$(awk '/ready/ {print $2}' "$out")
  [ -z "${RECEIVER_UID:-}" ] || [ "$(stat -c %u "/proc/$RECEIVER_PID")" = "$RECEIVER_UID" ] ||
    fail "the receiver is not uid $RECEIVER_UID"
}

# send_datagrams NS N: N datagrams of 200 bytes to the stuck receiver in NS.
send_datagrams() {
  ip netns exec "$1" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range($2):
    s.sendto(b'x' * 200, ('127.0.0.1', 9999))"
}

# udp_sink NS PORT RCVBUF READ: a UDP receiver on 10.88.0.2:PORT in NS with
# SO_RCVBUF=RCVBUF that drains its socket when READ is 1 and never reads
# when it is 0. Waits until it is bound.
udp_sink() {
  local out="$TMP/sink-$2.out"
  ip netns exec "$1" python3 -c '
import socket, sys, time
port, rcvbuf, read = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
s.bind(("10.88.0.2", port))
print("ready", flush=True)
while True:
    if read:
        s.recv(65536)
    else:
        time.sleep(1)' "$2" "$3" "$4" >"$out" &
  PIDS+=($!)
  for _ in $(seq 50); do grep -q ready "$out" 2>/dev/null && return 0; sleep 0.1; done
  fail "the UDP receiver on port $2 did not start"
}

# make_fleet PREFIX N [SENDERS]: a bridge in a namespace of its own
# (PREFIX-br) and N host namespaces PREFIX-h1..hN, each with eth0 at
# 10.90.0.I on the bridge; plus SENDERS sender namespaces PREFIX-s1.. at
# 10.90.0.(100+J). Everything is removed on exit.
make_fleet() {
  local prefix=$1 n=$2 senders=${3:-0} i
  make_ns "$prefix-br"
  ip -n "$prefix-br" link add br0 type bridge
  ip -n "$prefix-br" link set br0 up
  _fleet_port() { # NS ADDR IFINDEX
    ip link add eth0 netns "$1" type veth peer name "p$3" netns "$prefix-br"
    ip -n "$prefix-br" link set "p$3" master br0 up
    ip -n "$1" addr add "$2/24" dev eth0
    ip -n "$1" link set eth0 up
  }
  for i in $(seq 1 "$n"); do
    make_ns "$prefix-h$i"
    _fleet_port "$prefix-h$i" "10.90.0.$i" "$i"
  done
  for i in $(seq 1 "$senders"); do
    make_ns "$prefix-s$i"
    _fleet_port "$prefix-s$i" "10.90.0.$((100 + i))" "$((100 + i))"
  done
}

# expect_400 QUERY WORD: GET $SERVER/QUERY answers 400 with a JSON error
# that mentions WORD.
expect_400() {
  local code
  code=$(curl -s -o "$TMP/err.json" -w '%{http_code}' "$SERVER$1")
  [ "$code" = 400 ] || fail "GET $1 answered $code, expected 400"
  python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert sys.argv[2] in e, e' \
    "$TMP/err.json" "$2" || fail "GET $1: error does not mention '$2': $(cat "$TMP/err.json")"
}

# host_row HOST [TRIES]: waits (TRIES tenths of a second, 100 unless given)
# for HOST's hello and prints its /api/hosts row as JSON.
host_row() {
  local _
  for _ in $(seq "${2:-100}"); do
    curl -sf "$SERVER/api/hosts" | python3 -c '
import json, sys
for h in json.load(sys.stdin):
    if h["host"] == sys.argv[1]:
        print(json.dumps(h)); sys.exit(0)
sys.exit(1)' "$1" && return 0
    sleep 0.1
  done
  fail "host $1 did not say hello"
}

# host_backend HOST: waits for HOST's hello and prints "BACKEND NOTE" from
# /api/hosts (the fast-path backend in use, and why another was not).
host_backend() {
  local row
  row=$(host_row "$1" 50) || exit 1
  python3 -c 'import json, sys; h = json.loads(sys.argv[1]); print(h["backend"], h["backend_note"])' "$row"
}

# require_ebpf HOST: HOST's collector was started with --backend ebpf; skip
# the test when this machine cannot run the eBPF backend (built without it,
# no BTF, a kernel without tcx), fail when it should have and did not.
require_ebpf() {
  local got; got=$(host_backend "$1")
  case $got in
    ebpf*) return 0 ;;
    *"built without"* | *"no BTF"* | *"Linux 6.6"* | *"Linux 5.17"*)
      echo "SKIP: the eBPF backend cannot run here: ${got#* }" >&2; exit $SKIP ;;
    *) fail "the collector of $1 fell back: $got" ;;
  esac
}

# raw_client_setup: for a raw client written from proto/dropscope.proto
# alone (not the C codec): sets PY to Debian's /usr/bin/python3 and
# generates dropscope_pb2.py into $TMP. Not the python3 on PATH: that may be
# a pyenv or venv Python, which does not see the Debian packages python3-zmq
# and python3-protobuf; protoc is Debian's too, so that the code it
# generates matches the protobuf runtime. The packages come with `make test`
# (deploy/install-deps.sh): missing, they are a broken setup, not a reason
# to skip.
raw_client_setup() {
  local proto_dir; proto_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../proto" && pwd)
  PY=/usr/bin/python3
  [ -x $PY ] || fail "$PY is missing: install the Debian package python3 (deploy/install-deps.sh)"
  $PY -c 'import zmq' 2>/dev/null ||
    fail "$PY cannot import zmq: install the Debian package python3-zmq (deploy/install-deps.sh)"
  $PY -c 'import google.protobuf' 2>/dev/null ||
    fail "$PY cannot import google.protobuf: install the Debian package python3-protobuf (deploy/install-deps.sh)"
  [ -x /usr/bin/protoc ] ||
    fail "/usr/bin/protoc is missing: install the Debian package protobuf-compiler (deploy/install-deps.sh)"
  /usr/bin/protoc --proto_path="$proto_dir" --python_out="$TMP" "$proto_dir/dropscope.proto" ||
    fail "protoc could not generate the Python module from proto/dropscope.proto"
}

# http_receiver PORT OUT [FAIL_FIRST]: an HTTP server on 127.0.0.1:PORT that
# appends each POST to OUT as a JSON line {"path", "body"}; the first
# FAIL_FIRST POSTs (default 0) are answered 503 and not recorded, as a
# receiver that is briefly down. Stopped on exit.
http_receiver() {
  python3 - "$1" "$2" "${3:-0}" >"$TMP/receiver-$1.log" 2>&1 <<'PY' &
import http.server, json, sys, threading
port, out, fail_first = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
lock, seen = threading.Lock(), [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            seen[0] += 1
            n = seen[0]
            if n > fail_first:
                with open(out, "a") as f:
                    f.write(json.dumps({"path": self.path, "body": json.loads(body)}) + "\n")
        self.send_response(503 if n <= fail_first else 200)
        self.end_headers()
    def log_message(self, fmt, *args):
        print(fmt % args, flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
  PIDS+=($!)
}

# roomy_receiver NS [SECONDS]: a UDP receiver on port 7000 in NS with room
# (8 MiB) for every burst the tests send, which never reads (costs no CPU)
# and so never drops: bursts without drops. Stopped on exit.
roomy_receiver() {
  bg ip netns exec "$1" /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("0.0.0.0", 7000))
time.sleep(float(sys.argv[1]))' "${2:-300}"
}
