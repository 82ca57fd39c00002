/* alerts: the aggregator's alerts (docs/ALERTS.md). A fleet incident found
 * live, and a host that starts dropping at a layer, become events that
 * are POSTed to Alertmanager (API v2) and/or a webhook. Three parts:
 * - the events and their JSON (pure, alerts.c);
 * - the watch (alerts.c): which (host, layer) pairs drop now, which
 *   incidents were sent; kept in a state file beside the database so a
 *   restart neither re-posts an incident nor raises a pair again;
 * - the senders (alerts_send.c): one thread and one bounded queue per
 *   receiver; the ingest thread only enqueues, a full queue drops its
 *   oldest event. Failures (no connection, 5xx) are retried with backoff. */
#ifndef DROPSCOPE_ALERTS_H
#define DROPSCOPE_ALERTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layer.h"
#include "stats.h"

#define ALERTS_INCIDENT_MARGIN_NS (300 * INT64_C(1000000000)) /* endsAt past its end */
#define ALERTS_QUIET_NS (600 * INT64_C(1000000000))  /* drops stopped this long: resolved */
#define ALERTS_REPOST_NS (240 * INT64_C(1000000000)) /* an active drops alert re-posted */
#define ALERTS_QUEUE_MAX 1024                        /* events waiting per receiver */
#define ALERTS_MAX_INCIDENTS 4096                    /* incident ids remembered */

typedef enum { ALERT_INCIDENT, ALERT_DROPS } alert_kind_t;

/* One event. Strings are owned by it (alert_destroy). */
typedef struct {
    alert_kind_t kind;
    bool resolved; /* drops: the pair stopped dropping (ends_ns = then) */
    bool repost;   /* a firing drops alert posted again: Alertmanager only */
    int64_t starts_ns, ends_ns;
    char *hosts;                   /* incident: "a,b,c", sorted; drops: the host */
    uint32_t nhosts;               /* incident */
    char id[48];                   /* incident: alerts_incident_id */
    uint64_t packets, drops;       /* incident: in its bursts; drops: since the pair started */
    int64_t incident_end_ns;       /* incident: its end (ends_ns adds the margin) */
    layer_t layer;                 /* drops */
    char limit[768], remedy[2048]; /* drops: from the diagnosis; "" unknown */
} alert_t;

/* A new event with a copy of hosts; NULL out of memory. */
alert_t *alert_new(alert_kind_t kind, const char *hosts);
alert_t *alert_dup(const alert_t *ev);
void alert_destroy(alert_t **self_p);

/* "a,b,c": the names in hosts (separated by commas and/or spaces) sorted
 * and joined by ","; the caller frees it. NULL out of memory. */
char *alerts_sort_hosts(const char *hosts);

/* The incident's id from its data only (so the same after a restart):
 * "<start in ms>-<16 hex digits of FNV-1a 64 over the sorted hosts>". */
void alerts_incident_id(int64_t start_ns, const char *sorted_hosts, char *out, size_t size);

/* The event as one Alertmanager v2 alert object (the caller wraps it in an
 * array); link_base is "http://host:port" without the trailing slash. A new
 * reference, NULL out of memory. */
json_t *alerts_am_json(const alert_t *ev, const char *link_base);

/* The event as the webhook's object (docs/ALERTS.md). */
json_t *alerts_webhook_json(const alert_t *ev, const char *link_base);

/* --- the watch (the ingest thread) --------------------------------------- */

typedef struct alerts_watch alerts_watch_t;

typedef void(alerts_emit_fn)(void *ctx, alert_t **ev_p);

/* Reads state_path when it exists (NULL: nothing persisted, for tests);
 * quiet_ns and repost_ns as ALERTS_QUIET_NS and ALERTS_REPOST_NS. NULL with
 * the reason in err. */
alerts_watch_t *alerts_watch_new(const char *state_path, int64_t quiet_ns, int64_t repost_ns,
                                 int64_t now_ns, char *err, size_t errsz);
void alerts_watch_destroy(alerts_watch_t **self_p);

/* n packets of host dropped at layer arrived at now_ns. A pair that was
 * not dropping fires (emit, once); precursor layers never do. */
void alerts_watch_drops(alerts_watch_t *self, const char *host, layer_t layer, uint64_t n,
                        int64_t now_ns, alerts_emit_fn *emit, void *ctx);

/* Resolves the pairs quiet for quiet_ns and re-posts the others every
 * repost_ns. */
void alerts_watch_tick(alerts_watch_t *self, int64_t now_ns, alerts_emit_fn *emit, void *ctx);

/* True the first time an incident id is seen (it is then remembered). */
bool alerts_watch_incident(alerts_watch_t *self, const char *id, int64_t now_ns);

/* Pairs dropping now. */
size_t alerts_watch_active(const alerts_watch_t *self);

/* --- the senders ------------------------------------------------------------ */

/* A ring of events (no locking: the sender holds its lock around it). */
typedef struct alerts_queue alerts_queue_t;

alerts_queue_t *alerts_queue_new(size_t max);
void alerts_queue_destroy(alerts_queue_t **self_p);
/* Appends *ev_p and takes it; when full, destroys the oldest first and
 * returns 1 (0 otherwise). */
int alerts_queue_push(alerts_queue_t *self, alert_t **ev_p);
/* The oldest event (the caller's), or NULL when empty. */
alert_t *alerts_queue_pop(alerts_queue_t *self);
size_t alerts_queue_size(const alerts_queue_t *self);

typedef enum { ALERTS_ALERTMANAGER, ALERTS_WEBHOOK, ALERTS_RECEIVERS } alerts_receiver_t;

typedef struct {
    const char *alertmanager; /* base URL, or NULL */
    const char *webhook;      /* URL, or NULL */
    const char *link_base;    /* "http://host:port" of the web view */
    const char *db;           /* the database, read for the drops' diagnosis; NULL: none */
    size_t queue_max;         /* 0: ALERTS_QUEUE_MAX */
    int64_t backoff_ns;       /* the first retry's wait (0: 1 s), doubling to 60 s */
} alerts_config_t;

typedef struct alerts alerts_t;

/* Starts a sender per receiver configured. NULL with the reason in err. */
alerts_t *alerts_new(const alerts_config_t *cfg, stats_board_t *board, char *err, size_t errsz);
/* Lets each sender deliver what is queued for up to 3 s, then stops them. */
void alerts_destroy(alerts_t **self_p);

/* Queues *ev_p for every receiver (a repost for Alertmanager only) and
 * takes it. Never waits on the network; a full queue drops its oldest. */
void alerts_post(alerts_t *self, alert_t **ev_p);

/* "alertmanager", "webhook". */
const char *alerts_receiver_name(alerts_receiver_t r);

#endif
