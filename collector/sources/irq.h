/* irq: parsers for the files that say which CPUs serve a NIC: its interrupt
 * lines in /proc/interrupts, the NET_RX and NET_TX rows of /proc/softirqs,
 * and the RPS/XPS masks of /sys/class/net/IFACE/queues/. Pure: the map of
 * IRQ lines to interfaces is read from sysfs by the caller. */
#ifndef DROPSCOPE_IRQ_H
#define DROPSCOPE_IRQ_H

#include <stddef.h>

#include "reading.h"

/* CPU columns a header may name; a host with more online CPUs gets the
 * first ones and a problem. NR_CPUS is at most 8192. */
#define IRQ_MAX_CPUS 8192

/* An interface and what its IRQ lines may be named after. */
typedef struct {
    char iface[32]; /* the interface's name */
    char dev[64];   /* basename of /sys/class/net/IFACE/device ("virtio2", "0000:3b:00.0");
                       "" when it has none */
} irq_nic_t;

/* An IRQ line listed in an interface's device/msi_irqs. */
typedef struct {
    unsigned irq;
    size_t nic; /* index into irq_map_t.nics */
} irq_msi_t;

/* The interfaces whose IRQ lines are reported; borrowed. */
typedef struct {
    const irq_nic_t *nics;
    size_t nnics;
    const irq_msi_t *msi; /* any order */
    size_t nmsi;
} irq_map_t;

/* Parses /proc/interrupts (show_interrupts, kernel/irq/proc.c): a header of
 * "CPUn" columns (online CPUs only), then a row per IRQ line with a count
 * per column, the chip, and the actions. Emits, for each line that belongs
 * to an interface of map, source "irq", device "IFACE:QUEUE", name "cpuN",
 * the line's count on CPU N (u32). A line belongs to IFACE when its action
 * is named after it (IFACE-..., DRIVER-IFACE-..., DEV-... as virtio2-input.0,
 * ...@pci:DEV as mlx5_comp3@pci:0000:3b:00.0; QUEUE is the rest of the
 * name) or when map->msi lists it (QUEUE: the action's name). Rows of
 * architecture counters (NMI, LOC, ERR, MIS, ...) and other devices' lines
 * are skipped. A malformed header or row is a problem. Returns the number
 * of problems; err gets the first one, or "". */
int irq_interrupts_parse(const char *buf, size_t len, const irq_map_t *map, reading_fn *emit,
                         void *ctx, char *err, size_t errsz);

/* Parses /proc/softirqs (show_softirqs, fs/proc/softirqs.c): a header of
 * "CPUn" columns, then a row per softirq. Emits source "cpu", device
 * "cpuN", names net_rx and net_tx (u32 counts of the NET_RX and NET_TX
 * rows). Returns the number of problems; err gets the first one, or "". */
int irq_softirqs_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err,
                       size_t errsz);

/* Parses a CPU mask file (rps_cpus, xps_cpus: bitmap_print_to_pagebuf,
 * comma-separated groups of up to 8 hex digits, most significant first).
 * Emits source `source` (borrowed static name), device `device`, name
 * "cpus" (how many CPUs are set) and, when only CPUs 0-62 are (a setting
 * is a signed 64-bit value), "mask". Returns the number of problems (0 or
 * 1); err gets it, or "". */
int irq_mask_parse(const char *buf, size_t len, const char *source, const char *device,
                   reading_fn *emit, void *ctx, char *err, size_t errsz);

#endif
