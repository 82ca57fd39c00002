/* stackdump: runs `onload_stackdump lots` for the Onload source, beside the
 * collector's loop (never blocking it but for the first run), with the
 * source's failure policy: no tool turns the source off with one log line;
 * a run that fails, hangs past its deadline (killed) or prints what does not
 * parse is logged (rate-limited), its series keep their last values, and it
 * is tried again at the next run. Runs at most every STACKDUMP_GAP_NS. */
#ifndef DROPSCOPE_STACKDUMP_H
#define DROPSCOPE_STACKDUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "reading.h"
#include "ts.h"

/* Between runs. `lots` walks every socket of every stack, and reads each
 * stack's processes under /proc: heavier than the whole /proc slow path
 * (budget 1 ms), so not every interval. `bench_onload 200` (4 stacks of 200
 * dropping sockets, 600 KB of output; 2 vCPUs at load average 6): parse
 * 2.5 ms, into the registry 3.5 ms; a whole run with a stand-in that cats
 * the output 29.9 ms wall, 12.8 ms of CPU (collector and tool; 5.1 ms of it
 * the spawn of a shell): 0.13% of a core at one run per 10 s (a real
 * onload_stackdump adds its own walk). Onload's counters are cumulative, so
 * a loss between runs is still counted, 10 s late at most; bursts come from
 * the NIC counters, which this does not slow. */
#define STACKDUMP_GAP_NS (10 * TS_NS_PER_S)
/* A run still going after this is killed (SIGKILL) and counts as failed. */
#define STACKDUMP_DEADLINE_MS 2000
#define STACKDUMP_DEADLINE_NS (STACKDUMP_DEADLINE_MS * TS_NS_PER_MS)
/* Output beyond this is a runaway: stopped (RLIMIT_FSIZE), failed (1000
 * stacks' worth). */
#define STACKDUMP_MAX_MB 64
#define STACKDUMP_MAX_OUTPUT ((size_t)STACKDUMP_MAX_MB << 20)

typedef struct stackdump stackdump_t;

/* tool: the onload_stackdump to run; NULL to look for it on $PATH; "none"
 * for no Onload source. NULL when out of memory. The tool is looked for
 * here, once: when there is none (or it is not executable), the source is
 * off for the collector's life, as one log line says. */
stackdump_t *stackdump_new(const char *tool);
void stackdump_destroy(stackdump_t **self_p);

/* True while the source is on (a tool was found). */
bool stackdump_on(const stackdump_t *self);

/* Starts the tool when STACKDUMP_GAP_NS has passed since the last run
 * started, and feeds the readings of a run that ended to emit. A run is
 * waited for (until it ends or its deadline) only when it is the first, or
 * with `wait` (which also starts one at once); otherwise a later call reads
 * it. Returns 1 when a run's output was read and every line parsed (the
 * source was read completely), 0 when none ended or only part parsed, -1
 * when a run failed (logged). */
int stackdump_collect(stackdump_t *self, bool wait, reading_fn *emit, void *ctx);

/* The path it runs (borrowed); "" when off. */
const char *stackdump_tool(const stackdump_t *self);

#endif
