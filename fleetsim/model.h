/* model: one simulated host of dropscope-fleetsim. Every host has the same
 * realistic series set (four interfaces, eight CPUs, the SNMP and TcpExt
 * counters a real collector reports, sysctls, ring sizes, rate and sampler
 * gauges: MODEL_SERIES in all), with traffic counters that move every
 * interval, drops now and then and a microburst now and then, as a busy
 * host shows them. Deterministic per (host, seed): a replay can be
 * regenerated. Pure: no I/O, no clock. */
#ifndef DROPSCOPE_MODEL_H
#define DROPSCOPE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define MODEL_PROFILE 40 /* ticks in a burst's profile */

typedef struct model model_t;

/* The series every host defines (ids 1..n), shared and static. */
const series_def_t *model_defs(size_t *n);

/* A host with its counters at their starting values. NULL when out of memory. */
model_t *model_new(uint64_t seed);
void model_destroy(model_t **self_p);

/* One interval's batch: the samples of the series that changed (all of
 * them when `full`), and at most one burst. The arrays are the model's,
 * valid until the next call. The first batch is a baseline (all series,
 * flag SAMPLE_FIRST). */
typedef struct {
    size_t nsamples;
    const uint32_t *series;
    const uint64_t *values;
    const int64_t *deltas;
    const uint32_t *flags;
    size_t nbursts;
    const burst_msg_t *bursts;
    uint64_t drops; /* drop deltas in this batch (non-overlapping series) */
} model_batch_t;

void model_step(model_t *self, int64_t ts_ns, int64_t interval_ns, bool full, model_batch_t *out);

#endif
