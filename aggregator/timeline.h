/* timeline: what happened on some hosts over a time range, merged into one
 * time-ordered list (docs/ARCHITECTURE.md, Fleet analysis): drop deltas, bursts with their 1 ms
 * profile, incidents involving the hosts, setting changes, the probes'
 * sequence gaps, and gaps in a host's data, as plain structs (rows.c gives
 * them their JSON form, each {"ts_ns", "host", "type", ...}, type one of
 * drop | squeeze | retrans | burst | incident | setting | gap | seq_gap; a
 * retrans row has a drop row's fields: a TCP sender's retransmissions after
 * a pruned queue, in time order; seq_gap is a probe's sequence gap, named
 * apart from `gap`, the silence in a host's data, which the type already
 * meant). */
#ifndef DROPSCOPE_TIMELINE_H
#define DROPSCOPE_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "incidents.h"
#include "rows_cut.h"
#include "store.h"

typedef struct {
    const char *const *hosts; /* NULL = every host */
    size_t nhosts;
    int64_t from_ns, to_ns;   /* events in (from, to] */
    int64_t window_ns;        /* for incidents */
    int64_t limit;            /* events at most (the newest are kept) */
} timeline_query_t;

typedef enum {
    TIMELINE_DROP,
    TIMELINE_BURST,
    TIMELINE_INCIDENT,
    TIMELINE_SETTING,
    TIMELINE_GAP,
    TIMELINE_RETRANS, /* a retransmission counter's delta (counters_is_retrans): a drop row
                         of evidence, kept in `drop` */
    TIMELINE_SEQ_GAP,
} timeline_type_t;

/* One event; its strings, profile and incident are owned by the timeline. */
typedef struct {
    timeline_type_t type;
    int64_t ts_ns;    /* a drop's read, a burst's or an incident's start, a setting's
                         change, the last batch before a gap */
    const char *host; /* "" for an incident (it may span hosts: see its hosts) */
    union {
        drop_row_t drop; /* TIMELINE_DROP, TIMELINE_RETRANS (drop.ts_ns is ts_ns) */
        struct {
            burst_row_t row;      /* TIMELINE_BURST (row.start_ns is ts_ns) */
            bool profile_omitted; /* left out for the tick budget: row.nprofile is 0 */
        } burst;
        const incident_t *incident; /* TIMELINE_INCIDENT */
        struct {
            const char *series; /* "source/device/name" */
            int64_t from, to;   /* the values before and after */
        } setting;              /* TIMELINE_SETTING */
        struct {
            int64_t end_ns; /* the first batch after the silence */
        } gap;              /* TIMELINE_GAP */
        gap_row_t seq_gap;  /* TIMELINE_SEQ_GAP (seq_gap.start_ns is ts_ns) */
    };
} timeline_event_t;

typedef struct timeline_arena timeline_arena_t;

typedef struct {
    timeline_event_t *events; /* in time order; ties as read: host by host (drops and
                                 bursts newest first, setting changes, gaps), then
                                 incidents */
    size_t n;
    timeline_arena_t *arena_; /* private: the events' strings and profiles */
    incidents_t *incidents_;  /* private: the incidents events point to */
} timeline_t;

/* The events of q's range, the newest q->limit of them; NULL with err.
 * *cut says what the bounds left out: events beyond the limit, profiles
 * beyond its tick budget, bursts beyond the incidents' bound. The caller
 * destroys the result. */
timeline_t *timeline_build(store_t *store, const timeline_query_t *q, rows_cut_t *cut, char *err,
                           size_t errsz);

/* Frees the timeline and nulls *self_p; safe on NULL and twice. */
void timeline_destroy(timeline_t **self_p);

#endif
