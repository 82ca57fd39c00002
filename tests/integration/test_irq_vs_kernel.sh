#!/usr/bin/env bash
# `dropscope-collector --once --json` against the kernel's own files: each
# irq/IFACE:QUEUE/interrupts of this machine's NICs, each cpu/cpuN/net_rx
# and net_tx, and each CPU's softirq, irq and total ticks must lie between
# two reads of /proc/interrupts, /proc/softirqs and /proc/stat taken just
# before and just after it (the counters only grow); the serving CPU of a
# line must be the one with the most interrupts in one of those reads (a
# first read has no earlier one); every NIC line with interrupts must have
# its series. The files are global, so the collector reads the host's
# (read-only: nothing of the host is changed); traffic between two
# namespaces of the test's own keeps NET_RX moving meanwhile.
source "$(dirname "$0")/lib.sh"
require_root

S=ds-irq-s-$$ R=ds-irq-r-$$
make_pair "$S" "$R"
ip netns exec "$R" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.88.0.2", 5000))
end = time.time() + 60
while time.time() < end:
    s.recv(2048)
' &
PIDS+=($!)
ip netns exec "$S" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 60
while time.time() < end:
    for _ in range(200):
        s.sendto(b"x" * 100, ("10.88.0.2", 5000))
    time.sleep(0.01)
' &
PIDS+=($!)

read_kernel() { # DIR: the three files, read one after the other
  mkdir -p "$1"
  cat /proc/interrupts >"$1/interrupts"
  cat /proc/softirqs >"$1/softirqs"
  cat /proc/stat >"$1/stat"
}

# NET_RX moves: the traffic is flowing before the reads that count.
net_rx() { awk '$1 == "NET_RX:" { s = 0; for (i = 2; i <= NF; i++) s += $i; print s }' /proc/softirqs; }
rx0=$(net_rx)
wait_for 30 "NET_RX softirqs from the namespaces' traffic" bash -c "[ \$(awk '\$1 == \"NET_RX:\" { s = 0; for (i = 2; i <= NF; i++) s += \$i; print s }' /proc/softirqs) -gt $((rx0 + 100)) ]"

for run in 1 2 3; do
  read_kernel "$TMP/before"
  "$BIN_DIR/dropscope-collector" --once --json >"$TMP/once.json" 2>"$TMP/once.log"
  read_kernel "$TMP/after"
  python3 - "$TMP/once.json" "$TMP/before" "$TMP/after" <<'PY' || fail "run $run: the collector disagrees with the kernel (above)"
import json, os, sys

once = json.load(open(sys.argv[1]))["series"]
series = {(s["source"], s["device"], s["name"]): s["value"] for s in once}
bad = []

def table(path):
    """A proc table: {label: {cpu: count}} and, for interrupts, the actions."""
    lines = open(path).read().splitlines()
    cpus = [int(t[3:]) for t in lines[0].split()]
    rows, actions = {}, {}
    for line in lines[1:]:
        toks = line.split()
        if not toks or not toks[0].endswith(":"):
            continue
        label = toks[0][:-1]
        counts = {}
        for cpu, tok in zip(cpus, toks[1:]):
            if not tok.isdigit():
                break
            counts[cpu] = int(tok)
        rows[label] = counts
        actions[label] = [t.rstrip(",") for t in toks[1 + len(counts):]]
    return rows, actions

def stat(path):
    out = {}
    for line in open(path):
        t = line.split()
        if t and t[0].startswith("cpu") and t[0] != "cpu":
            f = [int(x) for x in t[1:]] + [0] * 10
            out[t[0]] = {"softirq_ticks": f[6], "irq_ticks": f[5], "total_ticks": sum(f[:8])}
    return out

b_int, acts = table(os.path.join(sys.argv[2], "interrupts"))
a_int, _ = table(os.path.join(sys.argv[3], "interrupts"))
b_soft, _ = table(os.path.join(sys.argv[2], "softirqs"))
a_soft, _ = table(os.path.join(sys.argv[3], "softirqs"))
b_stat, a_stat = stat(os.path.join(sys.argv[2], "stat")), stat(os.path.join(sys.argv[3], "stat"))

def between(what, lo, v, hi):
    if not lo <= v <= hi:
        bad.append("%s = %d, not between the kernel's %d and %d" % (what, v, lo, hi))

# NICs: interfaces with a device, and the names their lines carry.
nics = {}
for iface in os.listdir("/sys/class/net"):
    link = "/sys/class/net/%s/device" % iface
    if os.path.islink(link):
        nics[iface] = os.path.basename(os.readlink(link))

def owner(action):
    for iface, dev in nics.items():
        for pre in (dev + "-", iface + "-"):
            if action.startswith(pre):
                return iface, action[len(pre):]
        if "-" + iface + "-" in action:
            return iface, action.split("-" + iface + "-", 1)[1]
        if action.endswith("@pci:" + dev):
            return iface, action.split("@", 1)[0]
    return None

lines = 0
for irq, names in acts.items():
    if not irq.isdigit():
        continue
    for act in names:
        o = owner(act)
        if not o:
            continue
        key = ("irq", "%s:%s" % o, "interrupts")
        lo, hi = sum(b_int[irq].values()) % 2**32, sum(a_int[irq].values()) % 2**32
        if key not in series:
            if hi:
                bad.append("IRQ %s (%s) has %d interrupts but no series %s" % (irq, act, hi, key))
            break
        lines += 1
        between("/".join(key), lo, series[key], hi)
        cpu = series.get(("irq", key[1], "cpu"))
        tops = {max(r[irq], key=r[irq].get) for r in (b_int, a_int)}
        if cpu not in tops:
            bad.append("%s/cpu = %s, but the most interrupts were on %s" % (key[1], cpu, tops))
        break
print("irq lines compared: %d (NICs: %s)" % (lines, nics))

for label, name in (("NET_RX", "net_rx"), ("NET_TX", "net_tx")):
    for cpu in b_soft[label]:
        key = ("cpu", "cpu%d" % cpu, name)
        if key not in series:
            bad.append("no series %s" % (key,))
            continue
        between("/".join(key), b_soft[label][cpu], series[key], a_soft[label][cpu])
for cpu, fields in b_stat.items():
    for name, lo in fields.items():
        key = ("cpu", cpu, name)
        if key not in series:
            bad.append("no series %s" % (key,))
            continue
        between("/".join(key), lo, series[key], a_stat[cpu][name])
print("cpus compared: %d" % len(b_stat))
if nics and not lines:
    bad.append("this machine has NICs (%s) but no irq series was compared" % nics)
for b in bad:
    print("MISMATCH:", b)
sys.exit(1 if bad else 0)
PY
done
log "ok: irq and cpu series lie between two reads of the kernel's files, 3 runs"
