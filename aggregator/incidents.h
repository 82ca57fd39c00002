/* incidents: finds incidents over a time range from the stored bursts
 * (received bursts, clock-corrected starts) with correlate, and gives them
 * their JSON form: {"id", "start_ns", "end_ns", "hosts", "bursts",
 * "packets", "drops", "period_ms", "uncertain", "members"}. */
#ifndef DROPSCOPE_INCIDENTS_H
#define DROPSCOPE_INCIDENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "rows.h"
#include "store.h"

/* Bursts one query reads at most (the newest of its range): ~200 bytes
 * each while grouped, so 100 MB; an hour of a large fleet fits. */
#define INCIDENTS_MAX_BURSTS 500000

typedef struct {
    int64_t from_ns, to_ns; /* bursts starting in (from, to] */
    int64_t window_ns;
    unsigned min_hosts;
    int64_t limit;          /* incidents at most (the newest are kept) */
    int64_t max_bursts;     /* bursts read at most (the newest); 0: INCIDENTS_MAX_BURSTS */
} incidents_query_t;

/* The incidents as a JSON array, oldest first; NULL with err. Says in
 * *cut (when not NULL) what its bounds left out: more incidents than
 * q->limit (cut->limit), or more bursts than max_bursts, when only those
 * after cut->bursts_from_ns were grouped. */
json_t *incidents_find(store_t *store, const incidents_query_t *q, rows_cut_t *cut, char *err,
                       size_t errsz);

#endif
