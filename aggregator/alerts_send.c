/* alerts_send: delivers alert events, one thread per receiver (Alertmanager,
 * webhook), so a receiver that is down delays only its own events. The
 * ingest thread only takes a mutex to enqueue (microseconds); everything
 * that can wait on the network or the disk (the POST, the drops'
 * diagnosis, read through a connection of this thread's own) happens here.
 * Events are a few a minute in a bad hour, so one POST per event is
 * plenty, and a queue of ALERTS_QUEUE_MAX rides out an hour-long outage of
 * the receiver at that rate. libcurl stays inside this file. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "diagnose.h"
#include "log.h"
#include "store.h"
#include "ts.h"

#define BACKOFF_MAX_NS (60 * TS_NS_PER_S)
#define DRAIN_NS (3 * TS_NS_PER_S)       /* at a stop, what is queued gets this long */
#define DIAG_SPAN_NS (600 * TS_NS_PER_S) /* the drops' diagnosis covers the last 10 min */
#define POST_TIMEOUT_S 10L

/* --- the queue ------------------------------------------------------------------ */

struct alerts_queue {
    alert_t **ring; /* max slots */
    size_t max, head, n;
};

alerts_queue_t *alerts_queue_new(size_t max)
{
    alerts_queue_t *self = calloc(1, sizeof *self);
    if (!self || !(self->ring = calloc(max ? max : 1, sizeof *self->ring))) {
        free(self);
        return NULL;
    }
    self->max = max ? max : 1;
    return self;
}

void alerts_queue_destroy(alerts_queue_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    alerts_queue_t *self = *self_p;
    for (alert_t *ev; (ev = alerts_queue_pop(self));)
        alert_destroy(&ev);
    free(self->ring);
    free(self);
    *self_p = NULL;
}

int alerts_queue_push(alerts_queue_t *self, alert_t **ev_p)
{
    int dropped = 0;
    if (self->n == self->max) {
        alert_t *oldest = alerts_queue_pop(self);
        alert_destroy(&oldest);
        dropped = 1;
    }
    self->ring[(self->head + self->n++) % self->max] = *ev_p;
    *ev_p = NULL;
    return dropped;
}

alert_t *alerts_queue_pop(alerts_queue_t *self)
{
    if (self->n == 0)
        return NULL;
    alert_t *ev = self->ring[self->head];
    self->head = (self->head + 1) % self->max;
    self->n--;
    return ev;
}

size_t alerts_queue_size(const alerts_queue_t *self)
{
    return self->n;
}

/* --- the senders ---------------------------------------------------------------- */

typedef struct {
    alerts_receiver_t receiver;
    char *url; /* what is POSTed to */
    alerts_t *owner;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock; /* guards queue and stopping */
    pthread_cond_t wake;  /* an event queued, or the stop */
    alerts_queue_t *queue;
    bool stopping;
    int64_t stop_by_ns; /* monotonic: give up what is left then */
    store_t *store;     /* a read connection for the diagnosis, opened when first needed */
} sender_t;

struct alerts {
    sender_t senders[ALERTS_RECEIVERS];
    size_t nsenders;
    stats_board_t *board;
    char *link_base, *db;
    int64_t backoff_ns;
};

const char *alerts_receiver_name(alerts_receiver_t r)
{
    return r == ALERTS_ALERTMANAGER ? "alertmanager" : "webhook";
}

static void s_count(sender_t *s, int sent, int failed, int dropped)
{
    stats_alerts_t d = {.dropped = (uint64_t)dropped};
    d.sent[s->receiver] = (uint64_t)sent;
    d.failed[s->receiver] = (uint64_t)failed;
    stats_alerts_add(s->owner->board, &d);
}

/* Fills ev's limit and remedy from the diagnosis of its host's last ten
 * minutes (what /api/diagnose says of that layer); left "" when the store
 * cannot say (logged). Only the counters and the settings are read: the
 * limit and the remedy need nothing else. */
static void s_diagnose(sender_t *s, alert_t *ev)
{
    char err[256] = "";
    if (!s->owner->db)
        return;
    if (!s->store && !(s->store = store_open(s->owner->db, false, err, sizeof err))) {
        log_limited(LOGL_WARN, "alerts:diagnose",
                    "aggregator: drops alerts go without limit "
                    "and remedy: %s",
                    err);
        return;
    }
    int64_t now = ts_now_ns();
    diagnosis_t *d =
        diagnose_stored(s->store, ev->hosts, now - DIAG_SPAN_NS, now, false, err, sizeof err);
    for (size_t i = 0; d && i < d->nfindings; i++) {
        if (d->findings[i].layer != ev->layer)
            continue;
        snprintf(ev->limit, sizeof ev->limit, "%s", d->findings[i].limit);
        snprintf(ev->remedy, sizeof ev->remedy, "%s", d->findings[i].remedy);
    }
    if (!d)
        log_limited(LOGL_WARN, "alerts:diagnose",
                    "aggregator: cannot diagnose host %s for its "
                    "drops alert: %s",
                    ev->hosts, err[0] ? err : "out of memory");
    diagnosis_destroy(&d);
}

static size_t s_discard(char *ptr, size_t size, size_t n, void *ctx)
{
    (void)ptr, (void)ctx;
    return size * n;
}

/* POSTs body. 0 delivered, 1 worth a retry (no connection, timeout, 5xx,
 * 429), -1 refused for good (another 4xx: retrying sends the same). */
static int s_post(sender_t *s, const char *body, char *why, size_t whysz)
{
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(why, whysz, "cannot start libcurl");
        return 1;
    }
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, s->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, POST_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for name lookups */
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "dropscope-aggregator");
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        snprintf(why, whysz, "%s", curl_easy_strerror(rc));
        return 1;
    }
    if (status >= 200 && status < 300)
        return 0;
    snprintf(why, whysz, "HTTP %ld", status);
    return status >= 500 || status == 429 ? 1 : -1;
}

static char *s_render(sender_t *s, const alert_t *ev)
{
    json_t *doc;
    if (s->receiver == ALERTS_ALERTMANAGER) {
        doc = json_array();
        json_array_append_new(doc, alerts_am_json(ev, s->owner->link_base));
    } else {
        doc = alerts_webhook_json(ev, s->owner->link_base);
    }
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return body;
}

/* Waits up to ns, or less if the sender is stopping; false when it is. */
static bool s_backoff(sender_t *s, int64_t ns)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t t = until.tv_sec * TS_NS_PER_S + until.tv_nsec + ns;
    until = (struct timespec){t / TS_NS_PER_S, t % TS_NS_PER_S};
    pthread_mutex_lock(&s->lock);
    while (!s->stopping && pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0)
        ;
    bool go_on = !s->stopping;
    pthread_mutex_unlock(&s->lock);
    return go_on;
}

/* Delivers one event, retrying with backoff until it is delivered, refused
 * for good, or the sender stops. */
static void s_deliver(sender_t *s, alert_t *ev)
{
    if (ev->kind == ALERT_DROPS && !ev->resolved)
        s_diagnose(s, ev);
    char *body = s_render(s, ev);
    char why[256], key[64];
    snprintf(key, sizeof key, "alerts:%s", alerts_receiver_name(s->receiver));
    for (int64_t wait = s->owner->backoff_ns; body;) {
        int rc = s_post(s, body, why, sizeof why);
        if (rc == 0) {
            s_count(s, 1, 0, 0);
            break;
        }
        s_count(s, 0, 1, 0);
        log_limited(LOGL_WARN, key,
                    "aggregator: cannot post an alert to %s: %s (%s; "
                    "dropscope_alerts_failed_total counts these)",
                    s->url, why, rc > 0 ? "retrying with backoff" : "not retried: check the URL");
        if (rc < 0 || !s_backoff(s, wait))
            break;
        wait = wait * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : wait * 2;
    }
    free(body);
}

static void *s_run(void *arg)
{
    sender_t *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (alerts_queue_size(s->queue) == 0 && !s->stopping)
            pthread_cond_wait(&s->wake, &s->lock);
        if (alerts_queue_size(s->queue) == 0 || (s->stopping && ts_mono_ns() > s->stop_by_ns))
            break;
        alert_t *ev = alerts_queue_pop(s->queue);
        pthread_mutex_unlock(&s->lock);
        s_deliver(s, ev);
        alert_destroy(&ev);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;

static void s_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int s_start(alerts_t *self, alerts_receiver_t r, const char *url, const char *path,
                   size_t queue_max, char *err, size_t errsz)
{
    sender_t *s = &self->senders[self->nsenders];
    s->receiver = r;
    s->owner = self;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errsz, "--%s '%s' is not an http:// or https:// URL (e.g. %s)",
                 r == ALERTS_ALERTMANAGER ? "alertmanager" : "webhook", url,
                 r == ALERTS_ALERTMANAGER ? "http://127.0.0.1:9093" : "http://127.0.0.1:8080/hook");
        return -1;
    }
    size_t len = strlen(url);
    while (len && url[len - 1] == '/' && *path) /* "http://am:9093/" + "/api/v2/alerts" */
        len--;
    if (asprintf(&s->url, "%.*s%s", (int)len, url, path) < 0 ||
        !(s->queue = alerts_queue_new(queue_max))) {
        s->url = NULL;
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    self->nsenders++;
    if (pthread_create(&s->thread, NULL, s_run, s) != 0) {
        snprintf(err, errsz, "cannot start the %s sender thread", alerts_receiver_name(r));
        return -1;
    }
    s->started = true;
    return 0;
}

alerts_t *alerts_new(const alerts_config_t *cfg, stats_board_t *board, char *err, size_t errsz)
{
    pthread_once(&s_curl_once, s_curl_init);
    alerts_t *self = calloc(1, sizeof *self);
    if (!self || !(self->link_base = strdup(cfg->link_base ? cfg->link_base : "")) ||
        (cfg->db && !(self->db = strdup(cfg->db)))) {
        snprintf(err, errsz, "out of memory");
        alerts_destroy(&self);
        return NULL;
    }
    self->board = board;
    self->backoff_ns = cfg->backoff_ns > 0 ? cfg->backoff_ns : TS_NS_PER_S;
    size_t max = cfg->queue_max ? cfg->queue_max : ALERTS_QUEUE_MAX;
    if ((cfg->alertmanager && s_start(self, ALERTS_ALERTMANAGER, cfg->alertmanager,
                                      "/api/v2/alerts", max, err, errsz) != 0) ||
        (cfg->webhook && s_start(self, ALERTS_WEBHOOK, cfg->webhook, "", max, err, errsz) != 0)) {
        alerts_destroy(&self);
        return NULL;
    }
    return self;
}

void alerts_destroy(alerts_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    alerts_t *self = *self_p;
    for (size_t i = 0; i < self->nsenders; i++) {
        sender_t *s = &self->senders[i];
        if (s->started) {
            pthread_mutex_lock(&s->lock);
            s->stopping = true;
            s->stop_by_ns = ts_mono_ns() + DRAIN_NS;
            pthread_cond_broadcast(&s->wake);
            pthread_mutex_unlock(&s->lock);
            pthread_join(s->thread, NULL);
        }
        if (s->queue && alerts_queue_size(s->queue))
            log_warn("aggregator: %zu alert events for %s were not sent before the stop",
                     alerts_queue_size(s->queue), s->url);
        alerts_queue_destroy(&s->queue);
        store_close(&s->store);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        free(s->url);
    }
    free(self->link_base);
    free(self->db);
    free(self);
    *self_p = NULL;
}

void alerts_post(alerts_t *self, alert_t **ev_p)
{
    for (size_t i = 0; self && *ev_p && i < self->nsenders; i++) {
        sender_t *s = &self->senders[i];
        if ((*ev_p)->repost && s->receiver != ALERTS_ALERTMANAGER)
            continue; /* a webhook hears of a drops alert once firing, once resolved */
        alert_t *copy = alert_dup(*ev_p);
        if (!copy)
            break;
        pthread_mutex_lock(&s->lock);
        int dropped = alerts_queue_push(s->queue, &copy);
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        if (dropped) {
            s_count(s, 0, 0, 1);
            log_limited(LOGL_WARN, "alerts:full",
                        "aggregator: the alert queue for %s is full "
                        "(%zu events): dropped its oldest (dropscope_alerts_dropped_total)",
                        s->url, s->queue->max);
        }
    }
    alert_destroy(ev_p);
}
