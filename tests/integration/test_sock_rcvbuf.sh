#!/usr/bin/env bash
# The granted buffer: a UDP receiver in a namespace asks for SO_RCVBUF =
# 4 x net.core.rmem_max (whatever the host's is: a child namespace can read
# rmem_max but not set it on this kernel) and never reads; a sender
# overflows it. The kernel caps the request at rmem_max and doubles it, so
# getsockopt says 2 x rmem_max. The stored series
# sock/udp:127.0.0.1:PORT/rcvbuf (dropscope series) must equal what
# getsockopt returned, its drops what the kernel counted for the socket
# (ss -uamn's d), and `dropscope diagnose` must state the granted size and
# the rmem_max that capped it.
source "$(dirname "$0")/lib.sh"
require_root

NS=ds-sockbuf-$$
HOST=sockbuf-host-$$
PORT=9998
make_ns "$NS"
rmax=$(ip netns exec "$NS" cat /proc/sys/net/core/rmem_max)
log "net.core.rmem_max in the namespace: $rmax"
start_aggregator
start_collector "$NS" "$HOST" --interval 200ms

out="$TMP/receiver.out"
ip netns exec "$NS" python3 -c "
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * $rmax)
s.bind(('127.0.0.1', $PORT))
print('ready', os.getpid(), s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), flush=True)
time.sleep(600)" >"$out" &
PIDS+=($!)
wait_for 10 "the UDP receiver" grep -qs ready "$out"
read -r _ pid granted <"$out"
[ "$granted" -eq $((2 * rmax)) ] || fail "getsockopt says $granted, not 2 x rmem_max = $((2 * rmax))"
log "receiver $pid asked for $((4 * rmax)) bytes, getsockopt says $granted"

# Overflow it: datagrams of 60,000 bytes until the socket has dropped some.
ip netns exec "$NS" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
for _ in range(4 * $rmax // 60000 + 200):
    s.sendto(b'x' * 60000, ('127.0.0.1', $PORT))"
kdrops=$(ip netns exec "$NS" ss -uamn "sport = :$PORT" | grep -o 'd[0-9]*)' | tr -dc 0-9)
[ "${kdrops:-0}" -gt 0 ] || fail "the socket did not drop (ss: $(ip netns exec "$NS" ss -uamn))"
log "kernel: the socket dropped $kdrops datagrams (ss -uamn)"

series_last() { # the last stored value of a series of the host
  "$BIN_DIR/dropscope" --server "$SERVER" series --host "$HOST" --series "$1" --since 5m --json |
    python3 -c 'import json, sys; rows = json.load(sys.stdin); print(rows[-1]["value"] if rows else -1)'
}
drops_sum() {
  "$BIN_DIR/dropscope" --server "$SERVER" drops --json --host "$HOST" --since 5m |
    python3 -c 'import json, sys; print(sum(r["delta"] for r in json.load(sys.stdin) if r["series"] == sys.argv[1]))' "$1"
}
wait_for 20 "the rcvbuf series" test "$(series_last "sock/udp:127.0.0.1:$PORT/rcvbuf")" -ge 0
got=$(series_last "sock/udp:127.0.0.1:$PORT/rcvbuf")
[ "$got" -eq "$granted" ] || fail "stored rcvbuf $got, getsockopt said $granted"
log "ok: sock/udp:127.0.0.1:$PORT/rcvbuf = $got, as getsockopt said"
wait_for 20 "the socket's drops" test "$(drops_sum "sock/udp:127.0.0.1:$PORT/drops")" -ge "$kdrops"
got=$(drops_sum "sock/udp:127.0.0.1:$PORT/drops")
[ "$got" -eq "$kdrops" ] || fail "stored socket drops $got, the kernel counted $kdrops"
log "ok: sock/udp:127.0.0.1:$PORT/drops = $got, as ss said"

"$BIN_DIR/dropscope" --server "$SERVER" diagnose "$HOST" --since 5m >"$TMP/diagnose.txt"
want="udp:127.0.0.1:$PORT held by $pid/python3 ($kdrops) got SO_RCVBUF $granted bytes: net.core.rmem_max = $rmax caps a request at 2 x rmem_max"
grep -qF "$want" "$TMP/diagnose.txt" || fail "the diagnosis does not say \"$want\": $(cat "$TMP/diagnose.txt")"
grep -qF "sysctl -w net.core.rmem_max=" "$TMP/diagnose.txt" || fail "no rmem_max remedy: $(cat "$TMP/diagnose.txt")"
log "ok: the diagnosis says: $want"
