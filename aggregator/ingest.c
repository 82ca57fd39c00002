/* ingest: assumes messages of up to a few MB from up to thousands of
 * collectors. Every frame is hostile until decoded and validated; a bad
 * one is counted, logged (rate-limited, per peer address) and dropped
 * without disturbing the rest of its group. Messages received together are
 * stored in one transaction (at most GROUP_MAX), which is what lets SQLite
 * keep up with a large fleet. */
#include "ingest.h"

#include <czmq.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "allowlist.h"
#include "codec.h"
#include "fleetlive.h"
#include "intake.h"
#include "live.h"
#include "log.h"
#include "notify.h"
#include "stop.h"
#include "text.h"
#include "ts.h"
#include "validate.h"

#define GROUP_MAX 512
#define INGEST_ACK_HWM 10000   /* acks queued per peer: a collector's window is far smaller */
#define STR_(x) #x
#define STR(x) STR_(x)
#define INGEST_MAXMSGSIZE (16 * 1024 * 1024)
#define UPKEEP_EVERY_NS (250 * TS_NS_PER_MS)
#define UPKEEP_BUDGET_NS (25 * TS_NS_PER_MS) /* at most a tenth of the writer's time */
#define UPKEEP_BUSY_GROUP 64   /* more messages waiting than this: no upkeep now */
#define IDLE_EVICT_NS (600 * TS_NS_PER_S) /* a host silent this long leaves the writer's cache */
#define EVICT_EVERY_NS (10 * TS_NS_PER_S)
#define STATUS_EVERY_NS (5 * TS_NS_PER_S) /* systemd's STATUS=: a few seconds is fresh enough */

typedef struct {
    zframe_t *identity;   /* ROUTER routing id of the sender */
    uint64_t incarnation; /* of the acknowledged message */
    ack_t ack;
    char error[256];    /* storage for ack.error */
} pending_t;

#define MONITOR_ENDPOINT "inproc://dropscope-ingest-monitor"

struct ingest {
    zsock_t *router;
    zactor_t *auth;     /* czmq zauth (the ZAP handler), when secure */
    allowlist_t *allow; /* the host each admitted key speaks for, when secure */
    char *allow_dir;    /* the --allow directory, when secure */
    zsock_t *monitor;   /* handshake failure events of the router */
    store_t *store;
    stats_t stats;                /* ours; a copy is published to board */
    stats_board_t *board;
    char endpoint[256];
    pending_t pending[GROUP_MAX]; /* acks waiting for the commit */
    size_t npending;
    uint64_t group_samples, group_batches; /* counted once the group commits */
    live_t *live;                 /* incidents as bursts arrive */
    fleetlive_t *fleetlive;       /* or, on a shared store, over it (ingest_share_live) */
    _Atomic uint64_t fleet_incidents; /* reported by fleetlive's thread */
    int64_t last_scan;            /* monotonic time of the last live scan */
    int64_t last_evict;           /* monotonic time of the last eviction of idle hosts */
    bool upkeep;                  /* rollups and retention are on */
    store_retention_t retention;
    int64_t max_skew_ns;          /* how far ahead of our clock a sender's times may be */
    int64_t last_upkeep;          /* monotonic */
    void (*reload)(void *ctx);    /* on SIGHUP (ingest_set_reload), or NULL */
    void *reload_ctx;
    int64_t last_status;          /* monotonic time of the last STATUS= to systemd */
    alerts_watch_t *alert_watch;  /* which (host, layer) pairs drop (ingest_set_alerts), or NULL */
    alerts_t *alerts;             /* the senders' queues, or NULL */
};

/* Makes the router a CurveZMQ server that admits only the certificates in
 * sec->allow_dir (zauth reloads the directory when it changes). */
static int s_secure(ingest_t *self, const ingest_security_t *sec, char *err, size_t errsz)
{
    zcert_t *cert = zcert_load(sec->cert);
    /* A public-only file loads with an all-zero secret key. */
    static const char no_secret[] = "0000000000000000000000000000000000000000";
    if (!cert || strcmp(zcert_secret_txt(cert), no_secret) == 0) {
        snprintf(err, errsz, "cannot load the secret key from --cert %s (make one with "
                 "`dropscope keygen PATH` and pass PATH_secret)", sec->cert);
        zcert_destroy(&cert);
        return -1;
    }
    struct stat st;
    if (stat(sec->allow_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "--allow %s is not a directory (put the collectors' public "
                 "certificates there)", sec->allow_dir);
        zcert_destroy(&cert);
        return -1;
    }
    self->auth = zactor_new(zauth, NULL);
    if (!self->auth || !(self->allow = allowlist_new(sec->allow_dir, err, errsz))) {
        if (!self->auth)
            snprintf(err, errsz, "cannot start the CurveZMQ authenticator (zauth)");
        zcert_destroy(&cert);
        return -1;
    }
    if (!(self->allow_dir = strdup(sec->allow_dir))) {
        snprintf(err, errsz, "out of memory");
        zcert_destroy(&cert);
        return -1;
    }
    zstr_sendx(self->auth, "CURVE", sec->allow_dir, NULL);
    zsock_wait(self->auth);
    zcert_apply(cert, self->router);
    zcert_destroy(&cert);
    zsock_set_curve_server(self->router, 1);
    zsock_set_zap_domain(self->router, "dropscope");
    return 0;
}

/* Watches the router for failed handshakes (a key not on the allow-list, a
 * plain-text client), which ZeroMQ otherwise drops silently. */
static int s_monitor(ingest_t *self, char *err, size_t errsz)
{
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(zsock_resolve(self->router), MONITOR_ENDPOINT, events) != 0 ||
        !(self->monitor = zsock_new_pair(">" MONITOR_ENDPOINT))) {
        snprintf(err, errsz, "cannot monitor the ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

static void s_fleet_add(void *ctx, const store_tally_t *t)
{
    ingest_t *self = ctx;
    if (stats_fleet_add(self->board, t) != 0)
        log_limited(LOGL_ERROR, "fleet", "aggregator: out of memory counting host %s's drops for "
                    "/metrics/fleet; its counters there miss this group", t->host);
}

static void s_alert_emit(void *ctx, alert_t **ev_p)
{
    ingest_t *self = ctx;
    alerts_post(self->alerts, ev_p);
}

/* What a commit stored of one host: its fleet counters, and its drops for
 * the alerts (as they arrive: a pair fires on the first commit that
 * carries its drops, at most a collector's interval after they happened). */
static void s_tally(void *ctx, const store_tally_t *t)
{
    ingest_t *self = ctx;
    s_fleet_add(ctx, t);
    for (int l = 0; self->alert_watch && l < LAYER_COUNT; l++)
        alerts_watch_drops(self->alert_watch, t->host, (layer_t)l, t->path[l], ts_now_ns(),
                           s_alert_emit, self);
}

/* The fleet's counters start from what the store holds (before any
 * retention can run: upkeep starts with ingest_run), so that they go on
 * from where they were rather than from 0 at each restart. */
static int s_restore(ingest_t *self, char *err, size_t errsz)
{
    char why[256];
    int64_t t0 = ts_mono_ns();
    if (store_tally_restore(self->store, s_fleet_add, self, why, sizeof why) != 0) {
        snprintf(err, errsz, "cannot read the hosts' stored drops and bursts for /metrics/fleet: "
                 "%s (check the --db file)", why);
        return -1;
    }
    log_info("aggregator: restored the fleet's counters in %lld ms",
             (long long)((ts_mono_ns() - t0) / TS_NS_PER_MS));
    return 0;
}

ingest_t *ingest_new(const char *endpoint, const ingest_security_t *sec, store_t *store,
                     stats_board_t *board, char *err, size_t errsz)
{
    ingest_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    self->store = store;
    self->board = board;
    self->retention = STORE_RETENTION_DEFAULT;
    self->max_skew_ns = VALIDATE_SKEW_DEFAULT_NS;
    snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    self->live = live_new(LIVE_WINDOW_NS, LIVE_MIN_HOSTS);
    self->router = zsock_new(ZMQ_ROUTER);
    if (!self->router || !self->live) {
        snprintf(err, errsz, "cannot create a ZeroMQ ROUTER socket: %s", zmq_strerror(zmq_errno()));
        ingest_destroy(&self);
        return NULL;
    }
    zsock_set_maxmsgsize(self->router, INGEST_MAXMSGSIZE);
    zsock_set_linger(self->router, 1000);
    /* An ack that cannot be sent is counted and logged, not dropped
     * silently (ZeroMQ's default): with ROUTER_MANDATORY the send fails
     * instead. The pipe to each peer holds INGEST_ACK_HWM acks, more than
     * a collector's window of messages in flight; only a peer that stops
     * reading fills it, and it resends what was not acknowledged. */
    zsock_set_router_mandatory(self->router, 1);
    zsock_set_sndhwm(self->router, INGEST_ACK_HWM);
    /* ZMTP heartbeats both ways: a dead collector connection is noticed and closed. */
    zsock_set_heartbeat_ivl(self->router, 2000);
    zsock_set_heartbeat_timeout(self->router, 10000);
    if ((sec && s_secure(self, sec, err, errsz) != 0) || s_monitor(self, err, errsz) != 0 ||
        s_restore(self, err, errsz) != 0) {
        ingest_destroy(&self);
        return NULL;
    }
    if (zsock_bind(self->router, "%s", endpoint) < 0) {
        snprintf(err, errsz, "cannot listen on %s: %s (is another aggregator running? pick "
                 "another --listen)", endpoint, zmq_strerror(zmq_errno()));
        ingest_destroy(&self);
        return NULL;
    }
    return self;
}

void ingest_destroy(ingest_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ingest_t *self = *self_p;
    for (size_t i = 0; i < self->npending; i++)
        zframe_destroy(&self->pending[i].identity);
    zsock_destroy(&self->monitor);
    zsock_destroy(&self->router);
    zactor_destroy(&self->auth);
    allowlist_destroy(&self->allow);
    free(self->allow_dir);
    fleetlive_destroy(&self->fleetlive);
    live_destroy(&self->live);
    free(self);
    *self_p = NULL;
}

/* The sender's address for logs and metrics: "10.0.0.5", or over ipc
 * "localhost:UID:GID:PID" (ZeroMQ's Peer-Address of a local peer). */
static const char *s_peer(zframe_t *frame)
{
    const char *addr = frame ? zframe_meta(frame, "Peer-Address") : NULL;
    return addr && *addr ? addr : "local";
}

static void s_queue_ack(ingest_t *self, zframe_t **identity_p, const msg_t *msg,
                        int64_t received_ns, ack_status_t status, const char *error)
{
    pending_t *p = &self->pending[self->npending++];
    p->identity = *identity_p;
    *identity_p = NULL;
    p->incarnation = msg->incarnation;
    snprintf(p->error, sizeof p->error, "%s", error);
    p->ack = (ack_t){msg->seq, msg->sent_ns, received_ns, 0, status, p->error};
}

/* Acknowledges a frame the codec refused for its shape when its envelope
 * can still be read, so that its sender learns why and does not resend it. */
static void s_refuse_shape(ingest_t *self, zframe_t **identity_p, zframe_t *payload,
                           int64_t received_ns, const char *why)
{
    msg_t head = {.type = MSG_TYPE_NONE};
    if (codec_peek(zframe_data(payload), zframe_size(payload), &head.incarnation, &head.seq,
                   &head.sent_ns) == 0)
        s_queue_ack(self, identity_p, &head, received_ns, ACK_REJECTED, why);
}

/* With CurveZMQ, a message speaks only for the host named by the
 * certificate of the key that authenticated its connection, as the
 * --allow directory holds it now. 0, or -1 with the reason. */
static int s_identity(ingest_t *self, zframe_t *payload, const msg_t *msg, char *err, size_t errsz)
{
    if (!self->allow)
        return 0;
    const char *key = zframe_meta(payload, "User-Id");
    const char *host = key ? allowlist_host(self->allow, key) : NULL;
    if (!host)
        snprintf(err, errsz, "the key of this connection is no longer in the --allow directory "
                 "(revoked), or only in a subdirectory of it, which names no host; nothing from "
                 "it is stored");
    else if (!host[0])
        snprintf(err, errsz, "the certificate of this key names no host (metadata `name`); "
                 "nothing from it is stored");
    else if (strcmp(host, msg->host) != 0)
        snprintf(err, errsz, "this key speaks for host %s (the name in its certificate), not for "
                 "%s; nothing is stored under %s", host, msg->host, msg->host);
    else
        return 0;
    return -1;
}

/* Validates a decoded message, checks the sender's identity, then stores it. */
static store_rc_t s_judge(ingest_t *self, zframe_t *payload, const msg_t *msg, int64_t received_ns,
                          size_t *samples, char *err, size_t errsz)
{
    validate_window_t window = {received_ns, self->max_skew_ns, self->retention.raw_ns};
    if (validate_message(msg, &window, err, errsz) != 0)
        return STORE_INVALID;
    if (s_identity(self, payload, msg, err, errsz) != 0) {
        self->stats.identity_rejected++;
        return STORE_INVALID;
    }
    return intake_store(self->store, msg, received_ns, samples, err, errsz);
}

/* Counts n hits of a limit; the first of each kind in a minute is logged. */
static void s_limit(ingest_t *self, stats_limit_t limit, uint64_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_limit(ingest_t *self, stats_limit_t limit, uint64_t n, const char *fmt, ...)
{
    self->stats.limit_hits[limit] += n;
    char key[64], text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(key, sizeof key, "limit:%s", stats_limit_name(limit));
    log_limited(LOGL_WARN, key, "aggregator: limit %s: %s (dropscope_limit_hits_total counts "
                "these)", stats_limit_name(limit), text);
}

/* Offers a stored batch's bursts to the live incidents. */
static void s_live(ingest_t *self, const msg_t *msg, int64_t now_ns)
{
    uint64_t outside = 0, full = 0;
    for (size_t i = 0; i < msg->batch.nbursts; i++) {
        live_rc_t rc = live_add(self->live, msg->host, &msg->batch.bursts[i], &msg->batch.clock,
                                now_ns);
        outside += rc == LIVE_OUTSIDE;
        full += rc == LIVE_FULL;
    }
    if (outside)
        s_limit(self, STATS_LIMIT_LIVE_WINDOW, outside, "%llu bursts of host %s start outside "
                "the last %lld s or the next %lld s; they are stored, but not correlated live "
                "(`dropscope incidents` over their range finds them)", (unsigned long long)outside,
                msg->host, (long long)(LIVE_KEEP_NS / TS_NS_PER_S),
                (long long)(LIVE_AHEAD_NS / TS_NS_PER_S));
    if (full)
        s_limit(self, STATS_LIMIT_LIVE_FULL, full, "%d bursts are waiting to be correlated live; "
                "%llu of host %s are stored, but not correlated live", LIVE_MAX_BURSTS,
                (unsigned long long)full, msg->host);
}

/* Judges and stores one message; queues its ack. Returns -1 when the
 * database failed and the group must be abandoned. */
static int s_handle(ingest_t *self, zframe_t **identity_p, zframe_t *payload, int64_t received_ns)
{
    char err[256], key[128], host[80];
    const char *peer = s_peer(payload);
    msg_t *msg = codec_decode(zframe_data(payload), zframe_size(payload), err, sizeof err);
    if (!msg) {
        self->stats.decode_errors++;
        stats_count_peer(&self->stats, peer);
        /* One log line per peer and kind of problem (the text before any
         * detail in parentheses), however many such frames follow. */
        snprintf(key, sizeof key, "decode:%s:%.*s", peer, (int)strcspn(err, "("), err);
        log_limited(LOGL_WARN, key, "aggregator: dropped a %zu-byte frame from %s: %s",
                    zframe_size(payload), peer, err);
        s_refuse_shape(self, identity_p, payload, received_ns, err);
        return 0;
    }
    int rc = 0;
    size_t samples = 0;
    store_rc_t src = s_judge(self, payload, msg, received_ns, &samples, err, sizeof err);
    text_escape_name(msg->host, host, sizeof host); /* for logs: it may be the poison */
    if (src == STORE_OK && msg->type == MSG_TYPE_HELLO)
        log_info("aggregator: hello from host %s (%s): collector %s, kernel %s, boot %s, run "
                 "%016llx", host, peer, msg->hello.collector_version, msg->hello.kernel,
                 msg->boot_id, (unsigned long long)msg->incarnation);
    switch (src) {
    case STORE_OK:
        self->group_samples += samples;
        if (msg->type == MSG_TYPE_BATCH) {
            self->group_batches++;
            if (!self->fleetlive)
                s_live(self, msg, received_ns);
        }
        s_queue_ack(self, identity_p, msg, received_ns, ACK_STORED, "");
        break;
    case STORE_DUPLICATE:
        self->stats.duplicates++;
        s_queue_ack(self, identity_p, msg, received_ns, ACK_STORED, "");
        break;
    case STORE_NEED_DEFS:
        self->stats.need_defs++;
        s_queue_ack(self, identity_p, msg, received_ns, ACK_NEED_DEFS, err);
        break;
    case STORE_INVALID:
        self->stats.rejected++;
        /* Keyed by peer and the kind of reason (its words before any
         * value), not by the claimed host, which the sender chooses: a
         * flood of poison costs one line a minute per peer and rule. */
        snprintf(key, sizeof key, "reject:%s:%.*s", peer, (int)strcspn(err, "0123456789'"), err);
        log_limited(LOGL_WARN, key, "aggregator: rejected %s %llu from host %s (%s): %s",
                    codec_type_name(msg->type), (unsigned long long)msg->seq, host, peer, err);
        s_queue_ack(self, identity_p, msg, received_ns, ACK_REJECTED, err);
        break;
    case STORE_OVER_LIMIT:
        self->stats.rejected++;
        s_limit(self, store_last_limit(self->store) == STORE_LIMIT_SERIES ? STATS_LIMIT_SERIES
                                                                          : STATS_LIMIT_HOSTS,
                1, "%s", err);
        s_queue_ack(self, identity_p, msg, received_ns, ACK_REJECTED, err);
        break;
    case STORE_ERROR:
        log_limited(LOGL_ERROR, "store", "aggregator: cannot store %s from %s: %s",
                    codec_type_name(msg->type), host, err);
        rc = -1;
        break;
    }
    codec_msg_destroy(&msg);
    return rc;
}

/* Counts an ack ZeroMQ would not take: the message is stored, and its
 * sender resends it after its timeout (acknowledged then as a duplicate). */
static void s_ack_unsent(ingest_t *self, int errnum)
{
    bool full = errnum == EAGAIN;
    if (full)
        self->stats.acks_unsent_full++;
    else
        self->stats.acks_unsent_gone++;
    log_limited(LOGL_WARN, full ? "ack-full" : "ack-gone",
                "aggregator: could not acknowledge a stored message: %s; it will be acknowledged "
                "when its sender resends it (dropscope_acks_unsent_total counts these)",
                full ? "the sender is not reading its acknowledgements (" STR(INGEST_ACK_HWM)
                       " are queued for it)"
                     : "the sender has disconnected");
}

static void s_send_acks(ingest_t *self)
{
    for (size_t i = 0; i < self->npending; i++) {
        pending_t *p = &self->pending[i];
        msg_t reply = {.host = "aggregator", .incarnation = p->incarnation, .type = MSG_TYPE_ACK,
                       .ack = p->ack};
        reply.ack.t3_ns = ts_now_ns();
        uint8_t *buf;
        size_t len;
        char err[256];
        if (codec_encode(&reply, &buf, &len, err, sizeof err) == 0) {
            zframe_t *body = zframe_new(buf, len);
            free(buf);
            if (zframe_send(&p->identity, self->router, ZFRAME_MORE | ZFRAME_DONTWAIT) == 0)
                zframe_send(&body, self->router, ZFRAME_DONTWAIT);
            else
                s_ack_unsent(self, zmq_errno());
            zframe_destroy(&body);
        }
        zframe_destroy(&p->identity);
    }
    self->npending = 0;
}

/* The group is not stored: nothing of it is acknowledged, counted or
 * correlated (its collectors send it again). */
static void s_drop_group(ingest_t *self)
{
    for (size_t i = 0; i < self->npending; i++)
        zframe_destroy(&self->pending[i].identity);
    self->npending = 0;
    self->group_samples = self->group_batches = 0;
    live_abandon(self->live);
}

/* Receives one [identity, payload] message without blocking. 1 = handled,
 * 0 = nothing waiting, -1 = the database failed. */
static int s_receive_one(ingest_t *self)
{
    zmsg_t *zmsg = zmsg_recv_nowait(self->router);
    if (!zmsg)
        return 0;
    int64_t received_ns = ts_now_ns();
    self->stats.messages++;
    zframe_t *identity = zmsg_pop(zmsg);
    zframe_t *payload = zmsg_pop(zmsg);
    int rc = 1;
    if (!payload || zmsg_size(zmsg) != 0) {
        self->stats.decode_errors++;
        stats_count_peer(&self->stats, s_peer(payload));
        log_limited(LOGL_WARN, "frames", "aggregator: dropped a message of %zu frames from %s "
                    "(expected exactly one payload frame)", zmsg_size(zmsg) + 1 + (payload != NULL),
                    s_peer(payload));
    } else if (s_handle(self, &identity, payload, received_ns) != 0) {
        rc = -1;
    }
    zframe_destroy(&identity);
    zframe_destroy(&payload);
    zmsg_destroy(&zmsg);
    return rc;
}

/* Stores everything waiting (up to GROUP_MAX) in one transaction. */
static void s_group(ingest_t *self)
{
    char err[1024]; /* room for a ClickHouse server's exception */
    if (store_begin(self->store, err, sizeof err) != 0) {
        log_limited(LOGL_ERROR, "begin", "aggregator: cannot start a transaction: %s", err);
        return;
    }
    int rc = 1;
    while (self->npending < GROUP_MAX && (rc = s_receive_one(self)) == 1)
        ;
    if (rc < 0) {
        store_rollback(self->store);
        self->stats.commit_failures++;
        s_drop_group(self);
        return;
    }
    int64_t t0 = ts_mono_ns();
    self->stats.group_messages = self->npending;
    if (store_commit(self->store, err, sizeof err) != 0) {
        self->stats.commit_failures++;
        log_limited(LOGL_ERROR, "commit", "aggregator: commit failed, %zu messages not stored or "
                    "acknowledged (collectors will resend): %s", self->npending, err);
        s_drop_group(self);
        return;
    }
    self->stats.commits++;
    self->stats.samples_stored += self->group_samples;
    self->stats.batches += self->group_batches;
    self->group_samples = self->group_batches = 0;
    live_commit(self->live);
    stats_observe_commit(&self->stats, ts_mono_ns() - t0);
    store_tally_each(self->store, s_tally, self);
    /* Whoever reads /metrics after an ack sees the stored message counted. */
    stats_publish(self->board, &self->stats);
    s_send_acks(self);
}

/* Logs a failed handshake reported by the monitor (rate-limited per kind). */
static void s_on_monitor_event(ingest_t *self)
{
    zmsg_t *msg = zmsg_recv_nowait(self->monitor);
    zframe_t *head = msg ? zmsg_first(msg) : NULL;
    if (!head || zframe_size(head) < 6) {
        zmsg_destroy(&msg);
        return;
    }
    uint16_t event;
    memcpy(&event, zframe_data(head), sizeof event);
    char *endpoint = zmsg_size(msg) > 1 ? zframe_strdup(zmsg_next(msg)) : NULL;
    const char *why = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                          ? "its key is not in the --allow directory"
                          : "it does not speak CurveZMQ with our key (plain text, --insecure, "
                            "or a wrong --server-cert)";
    self->stats.auth_failures++;
    char key[64];
    snprintf(key, sizeof key, "auth:%u", event);
    log_limited(LOGL_WARN, key, "aggregator: refused a collector connection on %s: %s; nothing "
                "from it is stored", endpoint ? endpoint : self->endpoint, why);
    free(endpoint);
    zmsg_destroy(&msg);
}

/* The alert of a settled incident; NULL out of memory. */
static alert_t *s_incident_alert(const live_incident_t *inc)
{
    char *hosts = alerts_sort_hosts(inc->hosts);
    alert_t *ev = hosts ? alert_new(ALERT_INCIDENT, hosts) : NULL;
    free(hosts);
    if (!ev)
        return NULL;
    alerts_incident_id(inc->start_ns, ev->hosts, ev->id, sizeof ev->id);
    ev->starts_ns = inc->start_ns;
    ev->incident_end_ns = inc->end_ns;
    ev->ends_ns = inc->end_ns + ALERTS_INCIDENT_MARGIN_NS;
    ev->nhosts = inc->nhosts;
    ev->packets = inc->packets;
    ev->drops = inc->drops;
    return ev;
}

void ingest_set_alerts(ingest_t *self, alerts_watch_t *watch, alerts_t *alerts)
{
    self->alert_watch = watch;
    self->alerts = alerts;
}

static void s_log_incident(const live_incident_t *inc)
{
    char when[40];
    log_info("aggregator: incident at %s: %u hosts (%s), %zu bursts, %llu packets, %llu drops "
             "after%s", ts_format(inc->start_ns, when, sizeof when), inc->nhosts, inc->hosts,
             inc->nbursts, (unsigned long long)inc->packets, (unsigned long long)inc->drops,
             inc->uncertain ? " (uncertain: the hosts' clocks are not known well enough)" : "");
}

/* An incident of this aggregator's live scan: alerted unless it was sent
 * already (a restart that sees it again). */
static void s_on_incident(void *ctx, const live_incident_t *inc)
{
    ingest_t *self = ctx;
    self->stats.incidents++;
    s_log_incident(inc);
    alert_t *ev = self->alert_watch ? s_incident_alert(inc) : NULL;
    if (ev && alerts_watch_incident(self->alert_watch, ev->id, ts_now_ns()))
        alerts_post(self->alerts, &ev);
    alert_destroy(&ev);
}

/* An incident fleetlive reported, on its thread: recorded in the store
 * already, so it is alerted as it is. Reads only what is set before that
 * thread starts (alerts_post is thread-safe). */
static void s_on_fleet_incident(void *ctx, const live_incident_t *inc)
{
    ingest_t *self = ctx;
    self->fleet_incidents++;
    s_log_incident(inc);
    alert_t *ev = self->alerts ? s_incident_alert(inc) : NULL;
    if (ev)
        alerts_post(self->alerts, &ev);
    alert_destroy(&ev);
}

int ingest_share_live(ingest_t *self, const char *target, const char *name, char *err,
                      size_t errsz)
{
    self->fleetlive = fleetlive_new(target, name, LIVE_WINDOW_NS, LIVE_MIN_HOSTS,
                                    s_on_fleet_incident, self, err, errsz);
    return self->fleetlive ? 0 : -1;
}

/* Once a second: live incidents and the hosts' rows. */
static void s_scan(ingest_t *self)
{
    int64_t now = ts_mono_ns();
    if (now - self->last_scan < TS_NS_PER_S)
        return;
    self->last_scan = now;
    if (self->fleetlive)
        self->stats.incidents = self->fleet_incidents;
    else
        live_scan(self->live, ts_now_ns(), s_on_incident, self);
    if (self->alert_watch)
        alerts_watch_tick(self->alert_watch, ts_now_ns(), s_alert_emit, self);
    if (self->allow)
        allowlist_refresh(self->allow, now);
    char err[256];
    if (store_flush_hosts(self->store, err, sizeof err) != 0) {
        log_limited(LOGL_ERROR, "flush", "aggregator: cannot save the hosts' latest state "
                    "(retried in a second): %s", err);
    } else if (now - self->last_evict >= EVICT_EVERY_NS) {
        self->last_evict = now;
        self->stats.host_caches = store_evict_idle(self->store, now, IDLE_EVICT_NS);
    }
}

void ingest_set_max_skew(ingest_t *self, int64_t max_skew_ns)
{
    self->max_skew_ns = max_skew_ns;
}

void ingest_set_retention(ingest_t *self, const store_retention_t *retention)
{
    self->retention = *retention;
    self->upkeep = true;
}

/* A bounded step of rollups and retention, four times a second, when the
 * writer has time to spare: ingest comes first (acks wait for commits);
 * rollups that fall behind catch up when the load eases, and /metrics says
 * how far behind they are. */
static void s_upkeep(ingest_t *self, bool busy)
{
    int64_t now = ts_mono_ns();
    if (!self->upkeep || now - self->last_upkeep < UPKEEP_EVERY_NS || busy)
        return;
    self->last_upkeep = now;
    char err[256];
    long n = store_upkeep(self->store, &self->retention, ts_now_ns(), UPKEEP_BUDGET_NS, err,
                          sizeof err);
    if (n < 0) {
        self->stats.upkeep_failures++;
        log_limited(LOGL_ERROR, "upkeep", "aggregator: rollups and retention failed (retried): %s",
                    err);
    } else {
        self->stats.upkeep_rows += (uint64_t)n;
    }
}

void ingest_set_reload(ingest_t *self, void (*reload)(void *ctx), void *ctx)
{
    self->reload = reload;
    self->reload_ctx = ctx;
}

void ingest_reload_allow(ingest_t *self)
{
    if (!self->auth)
        return;
    /* zauth re-reads a directory only when its listing changed; a CURVE
     * command replaces its certificate store with a fresh read. */
    zstr_sendx(self->auth, "CURVE", self->allow_dir, NULL);
    zsock_wait(self->auth);
    char err[256];
    allowlist_t *fresh = allowlist_new(self->allow_dir, err, sizeof err);
    if (!fresh) {
        log_error("reload: cannot re-read --allow %s: %s; the hosts of the keys stay as they "
                  "were", self->allow_dir, err);
        return;
    }
    allowlist_destroy(&self->allow);
    self->allow = fresh;
    log_info("reload: re-read --allow %s: %zu certificates", self->allow_dir,
             allowlist_size(fresh));
}

/* What systemctl status shows: READY=1 too after a reload. */
static void s_status(ingest_t *self, bool ready)
{
    char status[128];
    snprintf(status, sizeof status, "serving: %llu hosts active, %llu batches stored",
             (unsigned long long)self->stats.host_caches, (unsigned long long)self->stats.batches);
    if (ready)
        notify_ready("%s", status);
    else
        notify_status("%s", status);
}

/* A SIGHUP's reload, and systemd's watchdog and status: every turn. */
static void s_service(ingest_t *self)
{
    int64_t now = ts_mono_ns();
    if (stop_take_reload() && self->reload) {
        notify_reloading();
        self->reload(self->reload_ctx);
        s_status(self, true);
        self->last_status = now;
    }
    notify_watchdog();
    if (now - self->last_status >= STATUS_EVERY_NS) {
        self->last_status = now;
        s_status(self, false);
    }
}

void ingest_run(ingest_t *self, volatile sig_atomic_t *stop)
{
    zmq_pollitem_t items[2] = {{zsock_resolve(self->router), 0, ZMQ_POLLIN, 0},
                               {zsock_resolve(self->monitor), 0, ZMQ_POLLIN, 0}};
    self->last_status = ts_mono_ns(); /* main said READY with the first status */
    /* Busy: the group just stored was large, so more are likely waiting.
     * Only until a poll finds none: the size of the last group of a fleet
     * gone quiet must not hold the rollups back. */
    bool busy = false;
    while (!*stop) {
        s_service(self);
        s_scan(self);
        s_upkeep(self, busy);
        busy = false;
        if (zmq_poll(items, 2, notify_wait_ms(200)) > 0) {
            if (items[1].revents & ZMQ_POLLIN)
                s_on_monitor_event(self);
            if (items[0].revents & ZMQ_POLLIN) {
                s_group(self);
                busy = self->stats.group_messages > UPKEEP_BUSY_GROUP;
            }
        }
        stats_publish(self->board, &self->stats);
    }
}
