#!/usr/bin/env python3
"""gen_irq_bighost.py DIR: writes the synthetic 128-CPU host of
tests/fixtures/synthetic-128cpu-mlx5-i40e (proc/interrupts, proc/softirqs,
proc/stat and a sysfs subset). No real file of that size with NIC queue
names was found in a public repository, so its format is built from the
kernel's own printers (6.x): show_interrupts (kernel/irq/proc.c) and x86's
arch_show_interrupts, show_softirqs (fs/proc/softirqs.c), show_stat
(fs/proc/stat.c), bitmap_print_to_pagebuf for the masks. Spacing follows
the same printers' output captured on this VM (linux-6.18-vm-irq).

The host: 128 CPUs, eth0 = mlx5 on 0000:3b:00.0 with 64 completion queues
(mlx5_comp0..63@pci:0000:3b:00.0, queue q served by CPU q, earlier by CPU
q + 64 before irqbalance moved it) and its async line; eth1 = i40e on
0000:5e:00.0 with 64 queues (i40e-eth1-TxRx-q on CPU 64 + q) and its misc
line (named after the PCI function, so only its msi_irqs maps it); NVMe
queues and the architecture's rows, which are no NIC's. Counts are a
deterministic function of the line and the CPU. Re-run to regenerate:
the fixture is this script's output, byte for byte."""
import os
import sys

NCPU = 128
PREC = 4  # digits of nr_irqs on a host with > 999 IRQs


def counts(row):
    return "".join(" %10u" % c for c in row)


def irq_line(irq, row, chip, hwirq, action):
    return "%*d:%s %8s %*d-%-8s  %s\n" % (PREC, irq, counts(row), chip, PREC, hwirq, "edge", action)


def interrupts():
    out = [" " * (PREC + 8) + "".join("CPU%-8d" % c for c in range(NCPU)) + "\n"]
    zero = [0] * NCPU
    row = list(zero)
    row[0] = 44
    out.append(irq_line(1, row, "IO-APIC", 1, "i8042"))
    mlx = "IR-PCI-MSIX-0000:3b:00.0"
    row = list(zero)
    row[0] = 1207
    out.append(irq_line(199, row, mlx, 0, "mlx5_async0@pci:0000:3b:00.0"))
    for q in range(64):
        row = list(zero)
        row[q] = 1000000 * (q + 1) + 12345
        row[q + 64] = 5000 + q
        out.append(irq_line(200 + q, row, mlx, q + 1, "mlx5_comp%d@pci:0000:3b:00.0" % q))
    i40e = "IR-PCI-MSIX-0000:5e:00.0"
    row = list(zero)
    row[64] = 88
    out.append(irq_line(299, row, i40e, 0, "i40e-0000:5e:00.0:misc"))
    for q in range(64):
        row = list(zero)
        row[64 + q] = 300000 + 7 * q
        out.append(irq_line(300 + q, row, i40e, q + 1, "i40e-eth1-TxRx-%d" % q))
    nvme = "IR-PCI-MSIX-0000:d8:00.0"
    for q in range(8):
        row = list(zero)
        row[q * 16] = 99000 + q
        out.append(irq_line(400 + q, row, nvme, q, "nvme0q%d" % q))
    for label, text, base in (("NMI", "Non-maskable interrupts", 300),
                              ("LOC", "Local timer interrupts", 9000000),
                              ("SPU", "Spurious interrupts", 0),
                              ("RES", "Rescheduling interrupts", 200000),
                              ("CAL", "Function call interrupts", 400000)):
        out.append("%*s:%s   %s\n" % (PREC, label, counts([base + c for c in range(NCPU)]), text))
    out.append("%*s: %10u\n" % (PREC, "ERR", 0))
    out.append("%*s: %10u\n" % (PREC, "MIS", 0))
    return "".join(out)


def softirqs():
    names = ["HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED",
             "HRTIMER", "RCU"]
    out = [" " * 20 + "".join("CPU%-8d" % c for c in range(NCPU)) + "\n"]
    for k, name in enumerate(names):
        row = [(k + 1) * 1000 + c for c in range(NCPU)]
        if name == "NET_RX":
            row = [50000000 + 1000 * c for c in range(NCPU)]
        if name == "NET_TX":
            row = [20000 + c for c in range(NCPU)]
        out.append("%12s:%s\n" % (name, counts(row)))
    return "".join(out)


def stat():
    rows = []
    for c in range(NCPU):
        # user nice system idle iowait irq softirq steal guest guest_nice
        rows.append([100000 + c, 10, 50000 + c, 8000000 - 1000 * c, 300, 20 + c, 4000 + 10 * c,
                     0, 0, 0])
    tot = [sum(r[k] for r in rows) for k in range(10)]
    out = ["cpu  " + " ".join(str(v) for v in tot) + "\n"]
    for c, r in enumerate(rows):
        out.append("cpu%d " % c + " ".join(str(v) for v in r) + "\n")
    out.append("intr 123456789 0 44\nctxt 987654321\nbtime 1764720000\nprocesses 123456\n"
               "procs_running 3\nprocs_blocked 0\nsoftirq 1 2 3 4 5 6 7 8 9 10 11\n")
    return "".join(out)


def mask(cpus):
    bits = 0
    for c in cpus:
        bits |= 1 << c
    groups = ["%08x" % ((bits >> (32 * g)) & 0xFFFFFFFF) for g in range(NCPU // 32)]
    return ",".join(reversed(groups)) + "\n"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main(root):
    write(os.path.join(root, "proc/interrupts"), interrupts())
    write(os.path.join(root, "proc/softirqs"), softirqs())
    write(os.path.join(root, "proc/stat"), stat())
    sysfs = os.path.join(root, "sys")
    for iface, parent, fn in (("eth0", "pci0000:3a/0000:3a:00.0", "0000:3b:00.0"),
                              ("eth1", "pci0000:5d/0000:5d:00.0", "0000:5e:00.0")):
        dev = os.path.join(sysfs, "devices", parent, fn)
        write(os.path.join(dev, "uevent"), "DRIVER=%s\n" % ("mlx5_core" if iface == "eth0" else "i40e"))
        link = os.path.join(sysfs, "class/net", iface, "device")
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.islink(link):
            os.symlink(os.path.join("../../../devices", parent, fn), link)
        if iface == "eth1":  # i40e: its misc line is found by msi_irqs only
            for irq in [299] + list(range(300, 364)):
                write(os.path.join(dev, "msi_irqs", str(irq)), "msix\n")
    q = os.path.join(sysfs, "class/net/eth0/queues")
    for n in range(64):
        rps = list(range(96, 128)) if n == 0 else ([1, 2, 3] if n == 1 else [])
        write(os.path.join(q, "rx-%d" % n, "rps_cpus"), mask(rps))
        write(os.path.join(q, "tx-%d" % n, "xps_cpus"), mask([n]))


if __name__ == "__main__":
    main(sys.argv[1])
