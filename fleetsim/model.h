/* model: one simulated host of dropscope-fleetsim. Every host has the same
 * realistic series set (four interfaces, eight CPUs, the SNMP and TcpExt
 * counters a real collector reports, sysctls, ring sizes, rate and sampler
 * gauges: model_series() in all), with traffic counters that move every
 * interval, drops now and then and a microburst now and then, as a busy
 * host shows them. It reads like a collector's sources: readings, which a
 * series registry (collector/series.c) turns into ids, deltas and flags.
 * Deterministic per (host, seed): a replay can be regenerated. Pure: no
 * I/O, no clock. */
#ifndef DROPSCOPE_MODEL_H
#define DROPSCOPE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "reading.h"

#define MODEL_PROFILE 40 /* ticks in a burst's profile */

typedef struct model model_t;

/* The number of series every host has. */
size_t model_series(void);

/* A host with its counters at their starting values. NULL when out of memory. */
model_t *model_new(uint64_t seed);
void model_destroy(model_t **self_p);

/* One interval: writes to `readings` (room for model_series()) the series
 * that moved, every one of them the first time, and returns how many. Their
 * strings are static. *burst_p is the interval's microburst, the model's
 * until the next call, or NULL. */
size_t model_step(model_t *self, int64_t ts_ns, int64_t interval_ns, reading_t *readings,
                  const burst_msg_t **burst_p);

/* A microburst starting at start_ns, the model's until the next call (or
 * model_step): fleetsim's synchronized bursts, many hosts at one instant. */
const burst_msg_t *model_burst_at(model_t *self, int64_t start_ns);

#endif
