/* source: the vocabulary of series names (docs/ARCHITECTURE.md, Series). A
 * series is source/device/name; its source is one of a fixed set, typed here
 * and named as it travels (the wire, the store and the API carry the name,
 * never the number, so the enum may be reordered). The names of the series
 * that code looks up by name are here too, so that the collector that emits
 * them and the code that reads them spell them once. */
#ifndef DROPSCOPE_SOURCE_H
#define DROPSCOPE_SOURCE_H

#include <stdbool.h>

typedef enum {
    SOURCE_UNKNOWN = 0,
    SOURCE_NETDEV,  /* interface counters: netlink IFLA_STATS64 or /proc/net/dev */
    SOURCE_SNMP,    /* /proc/net/snmp, names "Group.Field" */
    SOURCE_SNMP6,   /* /proc/net/snmp6, names "Group.Field" */
    SOURCE_NETSTAT, /* /proc/net/netstat (TcpExt, IpExt), names "Group.Field" */
    SOURCE_SOFTNET, /* /proc/net/softnet_stat, one device "cpuN" per CPU */
    SOURCE_ETHTOOL, /* the driver's statistics (ethtool -S) */
    SOURCE_RING,    /* the NIC's ring sizes (ethtool -g): settings */
    SOURCE_SYSCTL,  /* the kernel settings that bound the layers, dotted names */
    SOURCE_SOCK,    /* per-socket counters of the UDP and TCP sockets that matter */
    SOURCE_QDISC,   /* tc statistics, one device "IFACE:HANDLE" per qdisc */
    SOURCE_RATE,    /* the sampler's packets-per-tick histogram, per interface */
    SOURCE_SAMPLER, /* the sampler's own health (ticks, lateness) */
    SOURCE_REASON,  /* skb drop reasons counted by the eBPF programs */
    SOURCE_ONLOAD,  /* Onload (kernel bypass) stacks and sockets: onload_stackdump lots */
    SOURCE_PROBE,   /* an application-level receiver's counts (--probe), device GROUP:PORT */
    SOURCE_IRQ,     /* a NIC's interrupt lines (/proc/interrupts), device "IFACE:QUEUE" */
    SOURCE_CPU,     /* per-CPU time (/proc/stat) and softirqs (/proc/softirqs), "cpuN" */
    SOURCE_RPS,     /* receive packet steering masks: settings, device "IFACE:rx-N" */
    SOURCE_XPS,     /* transmit packet steering masks: settings, device "IFACE:tx-N" */
    SOURCE_CHANNELS, /* the NIC's queue counts (ethtool -l): settings */
    SOURCE_COUNT
} source_t;

/* Borrowed static name ("netdev", ...); "unknown" for out-of-range values.
 * The same pointer for every call, so a registry may keep it. */
const char *source_name(source_t source);
/* SOURCE_UNKNOWN when `name` (may be NULL) is not a source's name. */
source_t source_from_name(const char *name);
/* True when `name` (may be NULL) is the name of `source`. */
bool source_is(const char *name, source_t source);

/* ring/IFACE/NAME: what the ring holds now and the most the NIC allows. The
 * sampler derives its burst threshold from rx; diagnosis quotes both. */
#define RING_RX "rx"
#define RING_RX_MAX "rx_max"
#define RING_TX "tx"
#define RING_TX_MAX "tx_max"

/* sysctl//NAME: the settings diagnosis quotes as the bound of a layer (the
 * collector reads more: collector/sources/sysctl.c). A file of several
 * values gives NAME.SUFFIX, as tcp_rmem's third gives SYSCTL_TCP_RMEM_MAX. */
#define SYSCTL_NETDEV_MAX_BACKLOG "net.core.netdev_max_backlog"
#define SYSCTL_NETDEV_BUDGET "net.core.netdev_budget"
#define SYSCTL_NETDEV_BUDGET_USECS "net.core.netdev_budget_usecs"
#define SYSCTL_RMEM_DEFAULT "net.core.rmem_default"
#define SYSCTL_RMEM_MAX "net.core.rmem_max"
#define SYSCTL_SOMAXCONN "net.core.somaxconn"
#define SYSCTL_TCP_RMEM "net.ipv4.tcp_rmem"
#define SYSCTL_TCP_RMEM_MAX SYSCTL_TCP_RMEM ".max"

/* onload/STACK/NAME: the settings of an Onload stack that diagnosis quotes
 * (the names onload_stackdump prints them by), and a socket's buffer
 * (onload/STACK:udp:ADDR:PORT/rcvbuf). */
#define ONLOAD_MAX_PACKETS "EF_MAX_PACKETS"
#define ONLOAD_MAX_RX_PACKETS "EF_MAX_RX_PACKETS"
#define ONLOAD_RXQ_SIZE "EF_RXQ_SIZE"
#define ONLOAD_UDP_RCVBUF "EF_UDP_RCVBUF"
#define ONLOAD_RCVBUF "rcvbuf"

/* irq/IFACE:QUEUE/NAME: the interrupts of one of a NIC's IRQ lines, and
 * the CPU that served most of them over the last interval (a setting):
 * diagnosis looks up the CPUs serving a dropping NIC by IRQ_CPU. */
#define IRQ_INTERRUPTS "interrupts"
#define IRQ_CPU "cpu"

/* cpu/cpuN/NAME: a CPU's time in USER_HZ ticks (/proc/stat), whose deltas
 * give the share of the CPU spent in softirq and irq over a window; and
 * its NET_RX and NET_TX softirq runs (/proc/softirqs). */
#define CPU_SOFTIRQ "softirq_ticks"
#define CPU_IRQ "irq_ticks"
#define CPU_BUSY "busy_ticks"
#define CPU_TOTAL "total_ticks"
#define CPU_NET_RX "net_rx"
#define CPU_NET_TX "net_tx"

#endif
