/* correlate: cross-host burst correlation (docs/ARCHITECTURE.md, Fleet analysis). Bursts on several
 * hosts whose clock-corrected starts fall within a window, widened by the
 * members' clock uncertainty, are one incident; incidents that come back at
 * a steady period (timer-driven clients) get that period. Pure functions
 * over arrays: a sort and a sweep, O(n log n). */
#ifndef DROPSCOPE_CORRELATE_H
#define DROPSCOPE_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

typedef struct {
    uint32_t host;          /* host number: incidents count distinct ones */
    int64_t start_ns;       /* start on the aggregator's clock (corrected) */
    int64_t end_ns;
    int64_t uncertainty_ns; /* how far off the corrected start may be */
    uint64_t packets;
    uint64_t drops;         /* drops that followed it */
    size_t ref;             /* the caller's index of the burst */
} correlate_burst_t;

typedef struct {
    size_t first, count;    /* its bursts: sorted[first .. first + count) */
    int64_t start_ns, end_ns;
    uint32_t nhosts;
    uint64_t packets, drops;
    bool uncertain;         /* the members' clock uncertainty exceeds the window:
                               the grouping may be wrong */
    int64_t period_ns;      /* it recurs at this period; 0 = not recurring */
} correlate_incident_t;

/* A burst as correlation sees it: its start moved onto the aggregator's
 * clock with the offset its host reported in the same batch, and the
 * uncertainty of that: half the round trip the offset was measured over,
 * or without a measurement the kernel's error bound (1 s when it gives
 * none). */
correlate_burst_t correlate_burst(const burst_msg_t *b, const clock_msg_t *clock, uint32_t host,
                                  size_t ref);

/* Sorts bursts[0..n) by start and groups them: a group starts at a burst
 * and takes every later one starting within window_ns plus the larger
 * uncertainty of the two; a group with bursts on >= min_hosts distinct
 * hosts is an incident. Returns the number of incidents written to *out
 * (malloc'd; the caller frees), or -1 when out of memory. */
long correlate_find(correlate_burst_t *bursts, size_t n, int64_t window_ns, unsigned min_hosts,
                    correlate_incident_t **out);

/* Marks recurring incidents: where at least 3 consecutive incidents are
 * spaced by the same interval (each gap within 5% of their median), each
 * gets that interval as period_ns. Incidents must be in start order. */
void correlate_recurrence(correlate_incident_t *incidents, size_t n);

#endif
