/* watch: one host's drops with no aggregator, in the spirit of nstat:
 * `dropscope-collector --watch [INTERVAL]` reads this host's sources every
 * interval and prints the receive-path counters that moved (drops by layer,
 * and the softirq squeezes that precede them), as a table or JSON lines;
 * `--once` prints their values once. With a burst backend, each interval
 * also lists the bursts that ended in it (the sampler's thread, as the
 * agent runs it). Read on the caller's thread, with the collector's own
 * sources (snapshot.h) and registry (series.h), so the numbers are the
 * ones it would send. */
#ifndef DROPSCOPE_WATCH_H
#define DROPSCOPE_WATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agent.h"
#include "sampler.h"
#include "series.h"

typedef struct {
    int64_t interval_ns; /* 0: once, values */
    bool absolute;       /* values rather than changes over the interval (-a) */
    bool json;           /* a JSON object a line (-j) */
    bool header;         /* the table's column names (not with -H) */
    long count;          /* intervals printed at most; 0: until stopped */
} watch_opts_t;

/* One counter to print. */
typedef struct {
    layer_t layer;
    char series[384]; /* "source/device/name", as the API names it */
    int64_t n;        /* its change, or its value */
    bool overlap;     /* counts what another counter of its layer counts too */
} watch_row_t;

/* The receive-path counters of series (after a snapshot) that moved, or
 * that are not 0 when absolute, into a new array sorted by layer (the
 * path's order), then most first, then name: their count in *n. NULL with
 * *n = 0 when none, or without memory (*n = SIZE_MAX). */
watch_row_t *watch_rows(series_t *series, bool absolute, size_t *n);

/* Prints one interval ended at ts_ns (span_ns long; 0 for values) as o
 * says: its rows, then the bursts that ended in it. 0, or -1 when out
 * cannot be written (a closed pipe). */
int watch_print(FILE *out, const watch_opts_t *o, const char *host, int64_t ts_ns,
                int64_t span_ns, const watch_row_t *rows, size_t n,
                const sampler_burst_t *bursts, size_t nbursts);

/* Prints until *stop, o->count intervals, or a write fails, reading with
 * agent's sources (snap) and, unless its backend is none, bursts with its
 * sampler options (a sampler that cannot start is logged, and the bursts
 * left out). The exit code: 0 done or stopped, 1 when out failed or memory
 * ran out. */
int watch_run(const agent_opts_t *agent, const char *host, const watch_opts_t *o,
              volatile sig_atomic_t *stop, FILE *out);

#endif
