/* sysctl: the kernel settings that bound where packets are dropped (backlog
 * length, softirq budget, socket buffer limits, UDP/TCP memory, listen
 * queues), as a table of files under the procfs root and a pure parser for
 * one file's content. Recording them beside the counters lets a report say
 * "backlog drops at netdev_max_backlog=1000". */
#ifndef DROPSCOPE_SYSCTL_H
#define DROPSCOPE_SYSCTL_H

#include <stddef.h>

#include "reading.h"

#define SYSCTL_VALUES_MAX 3

typedef struct {
    const char *name;                      /* dotted name: "net.ipv4.udp_mem" */
    const char *path;                      /* under the procfs root: "sys/net/ipv4/udp_mem" */
    size_t nvalues;                        /* values in the file: 1, or 3 for a triple */
    const char *suffix[SYSCTL_VALUES_MAX]; /* name suffixes when nvalues > 1 */
} sysctl_def_t;

/* The settings read by the collector, in a stable order. Some do not exist
 * in a child network namespace (netdev_budget, netdev_max_backlog, udp_mem
 * on 6.18) or on old kernels (netdev_budget_usecs): a missing file is not an
 * error, the caller just skips it. */
extern const sysctl_def_t sysctl_defs[];
extern const size_t sysctl_defs_count;

/* Returns the entry for a dotted name (borrowed, static), or NULL. */
const sysctl_def_t *sysctl_def_find(const char *name);

/* Parses the content of def's file (`len` bytes, not NUL-terminated), e.g.
 * "131071\n" or "1501632\t2002176\t3003264\n". Emits source "sysctl",
 * device "", name def->name, or "<name>.<suffix>" for each value of a
 * multi-value file ("net.ipv4.udp_mem.pressure"). A wrong number of values
 * or a value that is not a decimal u64 is a problem, and then nothing is
 * emitted. Returns the number of problems (0 or 1); err (may be NULL) gets
 * it, or "". */
int sysctl_parse(const char *buf, size_t len, const sysctl_def_t *def, reading_fn *emit, void *ctx,
                 char *err, size_t errsz);

#endif
