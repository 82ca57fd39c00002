#!/usr/bin/env bash
# The field report's TCP stall, in a namespace: a receiver reads while a
# sender writes 10-byte segments with TCP_NODELAY (the window opens wide),
# then shrinks its buffer (SO_RCVBUF 4096: 8192 granted) and stops reading.
# What is in flight no longer fits: the kernel prunes the queue
# (TcpExt.PruneCalled, RcvPruned, TCPRcvQDrop on 6.18: see nstat) and drops
# segments (the socket's sk_drops), and the sender retransmits with
# exponential backoff (Tcp.RetransSegs, the sender socket's retrans). The
# stored series must equal the kernel's figures (the prune counters, the
# receiver's Recv-Q, drops and buffer from ss; the retransmissions, still
# moving, between the kernel's value before and after the read), the
# timeline must show the prune before the retransmissions, and the
# diagnosis must name the pruned socket and its peer's retransmissions.
source "$(dirname "$0")/lib.sh"
require_root

NS=ds-tcpstall-$$
HOST=tcpstall-host-$$
make_ns "$NS"
start_aggregator
start_collector "$NS" "$HOST" --interval 200ms
wait_for 20 "the host's first batch" host_row "$HOST"

out="$TMP/stall.out"
ip netns exec "$NS" python3 -c "
import os, socket, time
l = socket.socket(); l.bind(('127.0.0.1', 7777)); l.listen(1)
c = socket.socket(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.connect(('127.0.0.1', 7777)); a, _ = l.accept()
c.setblocking(False); a.setblocking(False)
t = time.time()
while time.time() - t < 1:  # a reader that keeps up: the window opens
    try: c.send(b'x' * 10)
    except BlockingIOError: pass
    try: a.recv(1 << 20)
    except BlockingIOError: pass
a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
print('stalled', c.getsockname()[1], a.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), flush=True)
t = time.time()
while time.time() - t < 3:  # the reader stops; the sender goes on
    try: c.send(b'x' * 10)
    except BlockingIOError: time.sleep(0.001)
print('ready', flush=True)
time.sleep(600)" >"$out" &
PIDS+=($!)
wait_for 20 "the stalled connection" grep -qs ready "$out"
read -r _ cport rcvbuf <"$out"
RECV="tcp:127.0.0.1:7777-127.0.0.1:$cport"
SEND="tcp:127.0.0.1:$cport-127.0.0.1:7777"
kc() { kernel_counter "$NS" "$1"; }
wait_for 30 "a retransmission" test "$(kc TcpRetransSegs)" -gt 0
prune=$(kc TcpExtPruneCalled) rcvpruned=$(kc TcpExtRcvPruned) rcvqdrop=$(kc TcpExtTCPRcvQDrop)
log "kernel: PruneCalled $prune RcvPruned $rcvpruned TCPRcvQDrop $rcvqdrop RetransSegs $(kc TcpRetransSegs)"
[ "$prune" -gt 0 ] || fail "the kernel did not prune (nstat: $(ip netns exec "$NS" nstat -asz | grep -i prune))"
recv_ss() { ip netns exec "$NS" ss -tnm "sport = :7777 and dport = :$cport"; }
ss_recvq() { recv_ss | awk 'NR == 2 {print $2}'; }
ss_drops() { recv_ss | grep -o 'd[0-9]*)' | tr -dc 0-9; }
log "kernel: receiver Recv-Q $(ss_recvq), drops $(ss_drops), SO_RCVBUF $rcvbuf"

api() { curl -sf "$SERVER$1"; }
sum_of() { # the stored deltas of a series
  api "/api/drops?host=$HOST&since=5m&limit=100000" |
    python3 -c 'import json, sys; print(sum(r["delta"] for r in json.load(sys.stdin) if r["series"] == sys.argv[1]))' "$1"
}
last_of() {
  "$BIN_DIR/dropscope" --server "$SERVER" series --host "$HOST" --series "$1" --since 5m --json |
    python3 -c 'import json, sys; r = json.load(sys.stdin); print(r[-1]["value"] if r else -1)'
}
exact() { # name stored kernel
  wait_for 20 "$1 = $3" test "$($2)" -eq "$3"
  log "ok: $1 = $3, as the kernel says"
}
# The receiver's drops and queue move again when a retransmission arrives
# and is dropped (seconds apart, backoff): equal to the kernel's value
# read at the same poll.
settles() { # name stored-command kernel-command
  local deadline=$((SECONDS + 20)) stored kernel
  until stored=$($2) kernel=$($3); [ "$stored" -eq "$kernel" ]; do
    [ $SECONDS -lt $deadline ] || fail "$1: stored $stored, the kernel says $kernel (after 20 s)"
    sleep 0.2
  done
  log "ok: $1 = $kernel, as the kernel says"
}
exact netstat//TcpExt.PruneCalled "sum_of netstat//TcpExt.PruneCalled" "$prune"
exact netstat//TcpExt.RcvPruned "sum_of netstat//TcpExt.RcvPruned" "$rcvpruned"
exact netstat//TcpExt.TCPRcvQDrop "sum_of netstat//TcpExt.TCPRcvQDrop" "$rcvqdrop"
settles "sock/$RECV/drops" "sum_of sock/$RECV/drops" ss_drops
settles "sock/$RECV/rx_queue" "last_of sock/$RECV/rx_queue" ss_recvq
exact "sock/$RECV/rcvbuf" "last_of sock/$RECV/rcvbuf" "$rcvbuf"

# Retransmissions go on (backoff): the stored sum lies between the kernel's
# count before it was read and after.
sock_retrans() {
  ip netns exec "$NS" ss -tni "sport = :$cport" | grep -o 'retrans:[0-9]*/[0-9]*' | cut -d/ -f2
}
k1=$(kc TcpRetransSegs) s1=$(sock_retrans)
wait_for 20 "Tcp.RetransSegs >= $k1" test "$(sum_of snmp//Tcp.RetransSegs)" -ge "$k1"
wait_for 20 "the sender's retrans >= $s1" test "$(sum_of "sock/$SEND/retrans")" -ge "$s1"
got=$(sum_of snmp//Tcp.RetransSegs) sgot=$(sum_of "sock/$SEND/retrans")
k2=$(kc TcpRetransSegs) s2=$(sock_retrans)
[ "$got" -le "$k2" ] || fail "stored Tcp.RetransSegs $got, more than the kernel's $k2"
[ "$sgot" -le "$s2" ] || fail "stored sender retrans $sgot, more than ss's $s2"
log "ok: Tcp.RetransSegs $k1 <= $got <= $k2; the sender's retrans $s1 <= $sgot <= $s2"

# The timeline: the prune, then the retransmissions.
api "/api/timeline?host=$HOST&since=5m" >"$TMP/timeline.json"
python3 - "$TMP/timeline.json" "$SEND" <<'PY'
import json, sys
rows, send = json.load(open(sys.argv[1])), sys.argv[2]
ts = [r["ts_ns"] for r in rows]
assert ts == sorted(ts), "the timeline is not in time order"
prunes = [r for r in rows if r["type"] == "drop" and r["series"] in
          ("netstat//TcpExt.PruneCalled", "netstat//TcpExt.RcvPruned")]
retrans = [r for r in rows if r["type"] == "retrans"]
assert prunes, "no prune row on the timeline"
assert any(r["series"] == "snmp//Tcp.RetransSegs" for r in retrans), "no Tcp.RetransSegs row"
assert any(r["series"] == f"sock/{send}/retrans" for r in retrans), "no row of the sender socket"
first = min(r["ts_ns"] for r in prunes)
assert min(r["ts_ns"] for r in retrans) >= first, "a retransmission before the prune"
after = [r for r in retrans if r["ts_ns"] > first]
assert after, "no retransmission after the prune"
for r in retrans:
    assert {"host", "series", "layer", "delta", "overlap", "reset"} <= r.keys(), r
    assert r["overlap"] and r["layer"] == "socket", r
print(f"ok: prune at {first}, then {len(after)} retransmission rows after it, in time order")
PY

"$BIN_DIR/dropscope" --server "$SERVER" diagnose "$HOST" --since 5m >"$TMP/diagnose.txt"
grep -qF "pruned: $RECV" "$TMP/diagnose.txt" ||
  fail "the diagnosis does not name $RECV: $(cat "$TMP/diagnose.txt"); nstat: $(ip netns exec "$NS" nstat -as | grep -E "Prune|Drop|Retrans" | tr -s " " | tr "\n" ";")"
grep -qE "the peer $SEND retransmitted [1-9][0-9]* segments after the prune" "$TMP/diagnose.txt" ||
  fail "the diagnosis does not count the peer's retransmissions: $(cat "$TMP/diagnose.txt")"
log "ok: $(grep -oE "pruned: [^;]*; the peer [^;]* after the prune" "$TMP/diagnose.txt")"
