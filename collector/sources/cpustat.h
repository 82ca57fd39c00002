/* cpustat: parser for the per-CPU lines of /proc/stat, the time each CPU
 * spent in softirq, irq and the rest, so that a CPU's share of softirq and
 * irq over an interval is a ratio of deltas. Pure. */
#ifndef DROPSCOPE_CPUSTAT_H
#define DROPSCOPE_CPUSTAT_H

#include <stddef.h>

#include "reading.h"

/* Parses /proc/stat (show_stat, fs/proc/stat.c): the "cpuN" lines (online
 * CPUs: key by N), each user nice system idle iowait irq softirq [steal
 * [guest [guest_nice]]] in USER_HZ ticks (100 a second). Emits source
 * "cpu", device "cpuN", names softirq_ticks, irq_ticks, total_ticks (the
 * first eight fields: guest time is already in user and nice) and
 * busy_ticks (total less idle and iowait). The "cpu" total line and every
 * other line (intr, ctxt, ...) are skipped. A cpuN line with fewer than 7
 * fields or a field that is not a u64 is a problem. Returns the number of
 * problems; err gets the first one, or "". */
int cpustat_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err,
                  size_t errsz);

#endif
