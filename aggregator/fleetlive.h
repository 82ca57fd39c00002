/* fleetlive: live incidents when several aggregators share one store
 * (ClickHouse). Each ingests the bursts of some hosts only, so none can
 * find the fleet's incidents in its own (live.h); and each one that did
 * would report them. Instead, once a second, on a thread and connection of
 * its own, every aggregator writes a sign of life to the store, and the
 * least name alive leads: it groups the bursts every aggregator stored in
 * the last LIVE_KEEP_NS (incidents_find, as `dropscope incidents` does)
 * and reports each settled incident newer than the newest one reported,
 * recording it in the store first. A new leader so goes on where the one
 * before stopped (a gap shorter than LIVE_KEEP_NS loses nothing), and waits
 * FLEETLIVE_HANDOVER_NS before its first report: by then the one it
 * replaces has seen it and stopped. */
#ifndef DROPSCOPE_FLEETLIVE_H
#define DROPSCOPE_FLEETLIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "live.h"

#define FLEETLIVE_ALIVE_NS (10 * INT64_C(1000000000))   /* not seen this long: gone */
#define FLEETLIVE_HANDOVER_NS (3 * INT64_C(1000000000)) /* a new leader waits this long */
/* An incident is judged this long after its window: its bursts reach the
 * store up to a reporting interval and a commit after they start. */
#define FLEETLIVE_SETTLE_NS (5 * INT64_C(1000000000))

typedef struct fleetlive fleetlive_t;

/* Starts the thread, which opens target (a store store_shared says yes to)
 * itself; name is this aggregator's. The thread calls report(ctx, inc)
 * with each incident it reports, once recorded. NULL + err. */
fleetlive_t *fleetlive_new(const char *target, const char *name, int64_t window_ns,
                           unsigned min_hosts, void (*report)(void *ctx, const live_incident_t *inc),
                           void *ctx, char *err, size_t errsz);
/* Stops the thread. */
void fleetlive_destroy(fleetlive_t **self_p);

#endif
