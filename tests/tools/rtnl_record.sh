#!/usr/bin/env bash
# rtnl_record.sh OUT [DERIVED]: records the netlink fixture OUT (e.g.
# tests/fixtures/linux-6.18-netns-qdisc) as its README tells: two network
# namespaces of our own joined by two veth pairs, qdiscs with and without
# children, known traffic, then the raw RTM_GETQDISC / RTM_GETLINK /
# RTM_GETSTATS dumps of namespace A (rtnl_record dump), what iproute2 said
# at that moment (ip -s -s link, tc -s qdisc, JSON and text) and, from
# iproute2's JSON alone, the expected readings. The dumps are taken twice,
# around iproute2, and kept only if both decode to the same values (their
# bytes differ in the port ids and sequence numbers). With DERIVED,
# also writes there getlink.bin cut to the IFLA_STATS64 of kernels before
# 4.6 (184 bytes) and 5.19 (192 bytes). Needs root, python3 and
# $BIN_DIR/rtnl_record (default build/bin). Touches no interface of the
# machine: everything lives in the two namespaces, deleted on exit.
set -euo pipefail

out=${1:?usage: rtnl_record.sh OUT_DIR [DERIVED_DIR]}
derived=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN_DIR:-$here/../../build/bin}/rtnl_record
py=$(command -v python3)
[[ -x $bin ]] || { echo "rtnl_record.sh: no $bin (build first, or set BIN_DIR)" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "rtnl_record.sh: needs root (ip netns add)" >&2; exit 2; }

a=dsrec_a_$$
b=dsrec_b_$$
trap 'ip netns del $a 2>/dev/null; ip netns del $b 2>/dev/null; [[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"' EXIT
work=$(mktemp -d); [[ -z ${KEEP_WORK:-} ]] || echo "work: $work"
ina() { ip netns exec "$a" "$@"; }
inb() { ip netns exec "$b" "$@"; }

# IPv6 off before any device exists, static neighbours: no ND, MLD or ARP,
# so that the only packets are the ones sent below.
ip netns add "$a"
ip netns add "$b"
for ns in "$a" "$b"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.lo.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$a" link add va address 02:00:00:00:00:01 type veth peer name vb address 02:00:00:00:00:02 netns "$b"
ip -n "$a" link add vc numtxqueues 2 numrxqueues 2 address 02:00:00:00:00:03 type veth \
  peer name vd numtxqueues 2 numrxqueues 2 address 02:00:00:00:00:04 netns "$b"
ip -n "$a" addr add 10.99.0.1/24 dev va
ip -n "$a" addr add 10.98.0.1/24 dev vc
ip -n "$b" addr add 10.99.0.2/24 dev vb
ip -n "$b" addr add 10.98.0.2/24 dev vd
ip -n "$a" neigh add 10.99.0.2 lladdr 02:00:00:00:00:02 dev va nud permanent
ip -n "$a" neigh add 10.98.0.2 lladdr 02:00:00:00:00:04 dev vc nud permanent
ip -n "$b" neigh add 10.99.0.1 lladdr 02:00:00:00:00:01 dev vb nud permanent
ip -n "$b" neigh add 10.98.0.1 lladdr 02:00:00:00:00:03 dev vd nud permanent
# 10.99.0.3 "lives" at a MAC that nobody has: va drops those as OTHERHOST
ip -n "$b" neigh add 10.99.0.3 lladdr 02:00:00:00:00:99 dev vb nud permanent

# va: htb 1: with a 1 Mbit class 1:10 (port 9, pfifo 10: limit 3: the
# drops) and a default class 1:20 (bfifo 20:), and clsact; vc: mq 5: over
# pfifo_fast 0: (5:1) and tbf 52: (5:2, its bfifo child hidden), and
# ingress. (The kernel of the recording has no fq_codel, sfq or prio.)
ina tc qdisc add dev va root handle 1: htb default 20
ina tc class add dev va parent 1: classid 1:1 htb rate 100mbit quantum 1514
ina tc class add dev va parent 1:1 classid 1:10 htb rate 1mbit ceil 1mbit quantum 1514
ina tc class add dev va parent 1:1 classid 1:20 htb rate 50mbit ceil 100mbit quantum 1514
ina tc qdisc add dev va parent 1:10 handle 10: pfifo limit 3
ina tc qdisc add dev va parent 1:20 handle 20: bfifo limit 100000
ina tc filter add dev va parent 1: protocol ip prio 1 u32 match ip dport 9 0xffff flowid 1:10
ina tc qdisc add dev va clsact
ina tc qdisc add dev vc root handle 5: mq
ina tc qdisc replace dev vc parent 5:2 handle 52: tbf rate 10mbit burst 10kb latency 50ms
ina tc qdisc add dev vc ingress
for ns in "$a" "$b"; do
  ip -n "$ns" link set dev "$([[ $ns == "$a" ]] && echo va || echo vb)" up
  ip -n "$ns" link set dev "$([[ $ns == "$a" ]] && echo vc || echo vd)" up
done

# The traffic, all of it counted: from A, 2000 datagrams of 100 bytes to
# 10.99.0.2:9 (class 1:10, mostly dropped by 10:), 300 to :10 (1:20), 50
# to 10.98.0.2:9 over vc, 10 to 127.0.0.1:9 over lo; from B, 7 datagrams
# to 10.99.0.3 (va: rx_otherhost_dropped) and 5 frames of EtherType 0x88b5
# to va (no protocol handler: va's rx_dropped).
ina "$py" - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for dst, n in ((("10.99.0.2", 9), 2000), (("10.99.0.2", 10), 300), (("10.98.0.2", 9), 50),
               (("127.0.0.1", 9), 10)):
    for _ in range(n):
        s.sendto(b"x" * 100, dst)
EOF
inb "$py" - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(7):
    s.sendto(b"y" * 100, ("10.99.0.3", 9))
r = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
r.bind(("vb", 0))
for _ in range(5):
    r.send(bytes.fromhex("020000000001" "020000000002" "88b5") + b"z" * 50)
EOF
sleep 1 # 1:10 sends its last 3 datagrams at 1 Mbit/s; B's ICMP replies arrive

mkdir -p "$out/netlink" "$out/iproute2" "$work/again"
ina "$bin" dump "$out/netlink"
ina ip -s -s -j link show >"$out/iproute2/ip-s-s-link.json"
ina ip -s -s link show >"$out/iproute2/ip-s-s-link.txt"
ina tc -s -j qdisc show >"$out/iproute2/tc-s-qdisc.json"
ina tc -s qdisc show >"$out/iproute2/tc-s-qdisc.txt"
ina "$bin" dump "$work/again"
"$bin" print "$work/again" >"$work/again.txt"
"$bin" print "$out/netlink" | diff -u - "$work/again.txt" ||
  { echo "rtnl_record.sh: counters changed while iproute2 ran (above); record again" >&2; exit 1; }
uname -r >"$out/iproute2/uname-r.txt"
ip -V >>"$out/iproute2/uname-r.txt"

# The expected readings, from iproute2's JSON only (not from our decoder):
# the netdev names are those of struct rtnl_link_stats64; ip prints
# rx/tx compressed, rx nohandler and rx otherhost only when they
# are not 0. The qdisc devices and drops/drops_incl_children follow
# qdisc.h.
"$py" - "$out" <<'EOF'
import json, sys
out = sys.argv[1]
links = json.load(open(f"{out}/iproute2/ip-s-s-link.json"))
qdiscs = json.load(open(f"{out}/iproute2/tc-s-qdisc.json"))
rx = dict(packets="rx_packets", bytes="rx_bytes", errors="rx_errors", dropped="rx_dropped",
          multicast="multicast", length_errors="rx_length_errors", over_errors="rx_over_errors",
          crc_errors="rx_crc_errors", frame_errors="rx_frame_errors", fifo_errors="rx_fifo_errors",
          missed_errors="rx_missed_errors", compressed="rx_compressed",
          nohandler="rx_nohandler", otherhost="rx_otherhost_dropped")
tx = dict(packets="tx_packets", bytes="tx_bytes", errors="tx_errors", dropped="tx_dropped",
          collisions="collisions", aborted_errors="tx_aborted_errors",
          carrier_errors="tx_carrier_errors", fifo_errors="tx_fifo_errors",
          heartbeat_errors="tx_heartbeat_errors", window_errors="tx_window_errors",
          compressed="tx_compressed")
order = ["rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors",
         "rx_dropped", "tx_dropped", "multicast", "collisions", "rx_length_errors",
         "rx_over_errors", "rx_crc_errors", "rx_frame_errors", "rx_fifo_errors",
         "rx_missed_errors", "tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
         "tx_heartbeat_errors", "tx_window_errors", "rx_compressed", "tx_compressed",
         "rx_nohandler", "rx_otherhost_dropped"]
ifindex = {}
with open(f"{out}/expected-links.txt", "w") as f, open(f"{out}/expected-stats.txt", "w") as g:
    for l in links:
        ifindex[l["ifname"]] = l["ifindex"]
        v = dict.fromkeys(order, 0)
        for side, names in (("rx", rx), ("tx", tx)):
            for k, val in l["stats64"][side].items():
                if k in names:
                    v[names[k]] = val
                elif k != "carrier_changes":
                    sys.exit(f"unknown ip -j field {side}.{k}")
        for name in order:
            f.write(f"netdev {l['ifname']} {name} {v[name]}\n")
        for name in order[:4]:
            g.write(f"stats {l['ifindex']} {name} {v[name]}\n")

def maj(h):
    return int(h.split(":")[0] or "0", 16)

with open(f"{out}/expected-qdisc.txt", "w") as f:
    for q in qdiscs:
        dev, handle, parent = q["dev"], q["handle"], q.get("parent")
        root = q.get("root", False)
        if handle != "0:" or root:
            device = f"{dev}:{handle}"
        else:
            pmaj, pmin = parent.split(":")
            device = f"{dev}:{'' if maj(parent) == 0 else pmaj}:{pmin}"
        children = (handle != "0:" or root) and any(
            o is not q and o["dev"] == dev and o.get("parent") not in (None, "ffff:fff1")
            and maj(o["parent"]) == maj(handle) for o in qdiscs)
        for name, key in (("drops_incl_children" if children else "drops", "drops"),
                          ("overlimits", "overlimits"), ("requeues", "requeues"),
                          ("packets", "packets"), ("bytes", "bytes")):
            f.write(f"qdisc {device} {name} {q[key]} {ifindex[dev]}\n")
EOF

# Our decoder must agree with iproute2 on every line.
"$bin" print "$out/netlink" >"$work/decoded.txt"
sort "$out"/expected-{links,qdisc,stats}.txt >"$work/expected.txt"
sort "$work/decoded.txt" | diff -u "$work/expected.txt" - ||
  { echo "rtnl_record.sh: the decoder disagrees with iproute2 (above)" >&2; exit 1; }
echo "rtnl_record.sh: recorded $out ($(wc -l <"$work/expected.txt") readings agree with iproute2)"

if [[ -n $derived ]]; then
  mkdir -p "$derived/netlink"
  for n in 184 192; do
    "$bin" shorten "$out/netlink/getlink.bin" "$derived/netlink/getlink-stats64-$n.bin" "$n"
  done
  grep -v -e ' rx_nohandler ' -e ' rx_otherhost_dropped ' "$out/expected-links.txt" \
    >"$derived/expected-links-stats64-184.txt"
  grep -v -e ' rx_otherhost_dropped ' "$out/expected-links.txt" \
    >"$derived/expected-links-stats64-192.txt"
  echo "rtnl_record.sh: derived $derived"
fi
