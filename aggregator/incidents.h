/* incidents: finds incidents over a time range from the stored bursts
 * (received bursts, clock-corrected starts) with correlate, as plain
 * structs: each incident with its distinct hosts and its member bursts
 * (rows.c gives them their JSON form). */
#ifndef DROPSCOPE_INCIDENTS_H
#define DROPSCOPE_INCIDENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rows_cut.h"
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

/* One burst of an incident. */
typedef struct {
    const char *host;       /* owned by the incidents */
    char iface[16];
    int64_t start_ns;       /* on the aggregator's clock */
    int64_t uncertainty_ns; /* of that start */
    int64_t packets, drops;
} incident_member_t;

typedef struct {
    int64_t id;                 /* its number among the incidents of the bursts read, from 1,
                                   oldest first: the limit does not change it */
    int64_t start_ns, end_ns;
    const char **hosts;         /* its distinct hosts, in the order of their first member
                                   (borrowed from members) */
    size_t nhosts;
    int64_t packets, drops;     /* of its members */
    int64_t period_ns;          /* it recurs at this period; 0 = not recurring */
    bool uncertain;             /* the members' clock uncertainty exceeds the window */
    incident_member_t *members; /* its bursts, by start ("bursts" is nmembers) */
    size_t nmembers;
} incident_t;

/* The incidents found; everything in it is owned by it. */
typedef struct {
    incident_t *incidents; /* oldest first */
    size_t n;
    incident_member_t *members_; /* private: every incident's members, in one array */
    const char **hosts_;         /* private: every incident's hosts, in one array */
    struct strmap *hosts_names_; /* private: the one copy of each host name */
} incidents_t;

/* The incidents of q's range, oldest first; NULL with err. Says in *cut
 * (when not NULL) what its bounds left out: more incidents than q->limit
 * (cut->limit), or more bursts than max_bursts, when only those after
 * cut->bursts_from_ns were grouped. The caller destroys the result. */
incidents_t *incidents_find(store_t *store, const incidents_query_t *q, rows_cut_t *cut, char *err,
                            size_t errsz);

/* Frees the incidents and nulls *self_p; safe on NULL and twice. */
void incidents_destroy(incidents_t **self_p);

#endif
