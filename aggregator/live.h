/* live: incidents found as bursts arrive (docs/ARCHITECTURE.md, Fleet analysis, "live"), beside the
 * on-demand search over any past range. The ingest thread adds every
 * stored burst; once no late burst can still join a group (its window has
 * passed by LIVE_SETTLE_NS), the group is judged and, if it spans enough
 * hosts, reported once. Keeps only bursts from LIVE_KEEP_NS before now
 * to LIVE_AHEAD_NS after it (a burst dated far ahead would never settle,
 * and stay forever), at most LIVE_MAX_BURSTS of them, and the names of
 * the hosts those bursts come from: what one scan costs is bounded however
 * many bursts, or host names, the fleet sends. */
#ifndef DROPSCOPE_LIVE_H
#define DROPSCOPE_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "correlate.h"

#define LIVE_WINDOW_NS (2 * INT64_C(1000000)) /* bursts this close are one incident, */
#define LIVE_MIN_HOSTS 2                      /* of this many hosts at least */
#define LIVE_SETTLE_NS (2 * INT64_C(1000000000))
#define LIVE_KEEP_NS (30 * INT64_C(1000000000))
#define LIVE_AHEAD_NS (10 * INT64_C(1000000000))
#define LIVE_MAX_BURSTS 200000 /* a scan sorts and sweeps them in ~55 ms (bench_correlate) */

typedef struct live live_t;

typedef struct {
    int64_t start_ns, end_ns;
    uint32_t nhosts;
    size_t nbursts;
    uint64_t packets, drops;
    bool uncertain;
    const char *hosts; /* "a, b, c" (borrowed for the callback) */
} live_incident_t;

live_t *live_new(int64_t window_ns, unsigned min_hosts);
void live_destroy(live_t **self_p);

typedef enum {
    LIVE_ADDED,
    LIVE_SKIPPED, /* sent bursts: incidents are about what hosts received */
    LIVE_OUTSIDE, /* its clock-corrected start is not within the window around now */
    LIVE_FULL,    /* LIVE_MAX_BURSTS are held already (or no memory) */
} live_rc_t;

/* Adds a burst of host (clock-corrected, see correlate_burst) that the
 * transaction in progress stores, now_ns on the aggregator's clock. Scans
 * see it once live_commit says the transaction committed; live_abandon
 * forgets every burst added since the last commit (the transaction rolled
 * back: the burst is not stored, and its collector sends it again). */
live_rc_t live_add(live_t *self, const char *host, const burst_msg_t *b, const clock_msg_t *clock,
                   int64_t now_ns);
void live_commit(live_t *self);
void live_abandon(live_t *self);

/* Bursts and host names held now (what a scan costs, and the memory). */
size_t live_bursts(const live_t *self);
size_t live_hosts(const live_t *self);

/* Reports, through fn, every incident that settled since the last call
 * (now_ns on the aggregator's clock); forgets old bursts. */
void live_scan(live_t *self, int64_t now_ns, void (*fn)(void *ctx, const live_incident_t *inc),
               void *ctx);

#endif
