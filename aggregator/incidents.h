/* incidents: finds incidents over a time range from the stored bursts
 * (received bursts, clock-corrected starts) with correlate, and gives them
 * their JSON form: {"id", "start_ns", "end_ns", "hosts", "bursts",
 * "packets", "drops", "period_ms", "uncertain", "members"}. */
#ifndef DROPSCOPE_INCIDENTS_H
#define DROPSCOPE_INCIDENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct {
    int64_t from_ns, to_ns; /* bursts starting in (from, to] */
    int64_t window_ns;
    unsigned min_hosts;
    int64_t limit;          /* incidents at most */
} incidents_query_t;

/* The incidents as a JSON array, oldest first; NULL with err. */
json_t *incidents_find(store_t *store, const incidents_query_t *q, char *err, size_t errsz);

#endif
