#!/usr/bin/env bash
# sockdiag_record.sh OUT: records the sock_diag fixture OUT (e.g.
# tests/fixtures/linux-6.18-netns-sockets) in a network namespace of its own
# with known sockets (python3 holds them while the dumps are taken):
#   udp  127.0.0.1:9001  SO_RCVBUF 4096 asked (8192 granted), 50 datagrams
#                        of 100 bytes sent, never read: it drops
#   udp  0.0.0.0:9003    quiet, default buffer
#   udp6 [::1]:9002      one datagram of 100 bytes queued, default buffer
#   tcp  127.0.0.1:9100  a connection whose accepting end left 1000 bytes unread
#   tcp6 [::1]:9101      a quiet connection; and listeners (not dumped)
# Writes OUT/sockdiag/{udp4,udp6,tcp}.bin (sockdiag_record dump), what
# ss -uamn / ss -tanmi and /proc/net/udp{,6} said right after, and
# expected-sockets.txt (sockdiag_record print). Needs root and
# $BIN_DIR/sockdiag_record (default build/bin). Touches nothing outside the
# namespace, deleted on exit.
set -euo pipefail

out=${1:?usage: sockdiag_record.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN_DIR:-$here/../../build/bin}/sockdiag_record
[[ -x $bin ]] || { echo "sockdiag_record.sh: no $bin (build first, or set BIN_DIR)" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "sockdiag_record.sh: needs root (ip netns add)" >&2; exit 2; }
ns=dssd_rec_$$
trap 'ip netns del $ns 2>/dev/null || true' EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$out/sockdiag" "$out/proc/net"
out=$(cd "$out" && pwd)

ip netns exec "$ns" python3 - "$bin" "$out" <<'PY'
import socket, subprocess, sys, time
bin, out = sys.argv[1], sys.argv[2]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
u.bind(("127.0.0.1", 9001))
q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); q.bind(("0.0.0.0", 9003))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.bind(("::1", 9002))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(50):
    s.sendto(b"x" * 100, ("127.0.0.1", 9001))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.sendto(b"y" * 100, ("::1", 9002))
conns = []
for fam, addr, port in ((socket.AF_INET, "127.0.0.1", 9100), (socket.AF_INET6, "::1", 9101)):
    l = socket.socket(fam); l.bind((addr, port)); l.listen(4)
    c = socket.socket(fam); c.connect((addr, port)); a, _ = l.accept()
    conns += [l, c, a]
conns[1].sendall(b"z" * 1000)
time.sleep(0.5)  # the 1000 bytes are in the accepting end's queue
subprocess.run([bin, "dump", out + "/sockdiag"], check=True)
with open(out + "/ss-udp.txt", "w") as f:
    subprocess.run(["ss", "-uamn"], stdout=f, check=True)
with open(out + "/ss-tcp.txt", "w") as f:
    subprocess.run(["ss", "-tanmi"], stdout=f, check=True)
for name in ("udp", "udp6"):
    with open("/proc/net/" + name) as src, open(out + "/proc/net/" + name, "w") as dst:
        dst.write(src.read())
with open(out + "/expected-sockets.txt", "w") as f:
    subprocess.run([bin, "print", out + "/sockdiag"], stdout=f, check=True)
PY
uname -r >"$out/uname-r.txt"
echo "sockdiag_record.sh: recorded into $out"
