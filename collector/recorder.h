/* recorder: the flight recorder of one interface: a ring of the last
 * samples (time, duration, rx and tx packets), from which a burst's
 * per-tick profile is cut after the fact. Samples have real, unequal
 * durations (late ticks), so a profile is resampled onto a regular tick
 * grid by spreading each sample's packets evenly over its duration. */
#ifndef DROPSCOPE_RECORDER_H
#define DROPSCOPE_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct recorder recorder_t;

/* A ring of `capacity` samples (e.g. 4096: about 4 s at 1 ms). NULL when
 * out of memory. */
recorder_t *recorder_new(size_t capacity);
void recorder_destroy(recorder_t **self_p);

/* Records the sample covering (t_ns - dt_ns, t_ns]; samples come in time
 * order. The oldest is overwritten when the ring is full. */
void recorder_push(recorder_t *self, int64_t t_ns, int64_t dt_ns, uint32_t rx, uint32_t tx);

/* Fills out[0..n) with the packets (rx, or tx when `tx`) of each tick
 * [from_ns + k*tick_ns, from_ns + (k+1)*tick_ns), rounded so that the
 * profile's sum is the rounded sum of what the samples put in the window.
 * Ticks the ring no longer (or not yet) covers are 0. Returns true when the
 * ring covered the whole window. */
bool recorder_profile(const recorder_t *self, int64_t from_ns, int64_t tick_ns, size_t n, bool tx,
                      uint32_t *out);

#endif
