/* timeline: what happened on some hosts over a time range, merged into one
 * time-ordered list (docs/ARCHITECTURE.md, Fleet analysis): drop deltas, bursts with their 1 ms
 * profile, incidents involving the hosts, setting changes, and gaps in a
 * host's data. Each event is {"ts_ns", "host", "type", ...}, type one of
 * drop | burst | incident | setting | gap. */
#ifndef DROPSCOPE_TIMELINE_H
#define DROPSCOPE_TIMELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "rows.h"
#include "store.h"

typedef struct {
    const char *const *hosts; /* NULL = every host */
    size_t nhosts;
    int64_t from_ns, to_ns;   /* events in (from, to] */
    int64_t window_ns;        /* for incidents */
    int64_t limit;            /* events at most (the newest are kept) */
} timeline_query_t;

/* The events as a JSON array in time order; NULL with err. *cut says
 * what the bounds left out: events beyond the limit, profiles beyond its
 * tick budget, bursts beyond the incidents' bound. */
json_t *timeline_build(store_t *store, const timeline_query_t *q, rows_cut_t *cut, char *err,
                       size_t errsz);

#endif
