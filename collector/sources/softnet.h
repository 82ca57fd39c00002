/* softnet: parser for /proc/net/softnet_stat, the per-CPU counters of the
 * receive softirq (backlog drops, budget squeezes, RPS wake-ups). Pure. */
#ifndef DROPSCOPE_SOFTNET_H
#define DROPSCOPE_SOFTNET_H

#include <stddef.h>

#include "reading.h"

/* Parses /proc/net/softnet_stat: one line per online CPU, every field %08x.
 * Column meaning follows the column count (9, 10, 11, 13, 15, or more than
 * 15 of which the first 15 are understood). Emits source "softnet", device
 * "cpu<N>" (N = column 13 when present, else the 0-based line index), names
 * processed, dropped, time_squeeze, cpu_collision (9/10/11 columns only),
 * received_rps (>= 10), flow_limit_count (>= 11), backlog_len (>= 13),
 * input_qlen and process_qlen (>= 15). A line with another column count,
 * with a count other than the first line's, or with a field that is not
 * 1-8 hex digits is a problem and skipped. Returns the number of problems;
 * err (may be NULL) gets the first one, or "". */
int softnet_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err,
                  size_t errsz);

#endif
