/* link: DEALER socket via czmq. The send queue (high-water mark) holds a
 * few minutes of batches while the aggregator is away; beyond that, sends
 * fail and the caller counts the loss. Linger is short so that a stopping
 * collector does not hang on an absent aggregator. */
#include "uplink.h"

#include <czmq.h>
#include <poll.h>

#include "log.h"

#define LINK_SNDHWM 1000
#define LINK_MAXMSGSIZE (16 * 1024 * 1024)

struct link {
    zsock_t *sock;  /* DEALER, connected */
    char endpoint[256];
    uplink_security_t sec; /* borrowed paths: a switch loads the certificates again */
    bool secure;           /* sec applies (else plain text) */
    bool immediate;        /* ZMQ_IMMEDIATE */
};

/* Makes the DEALER a CurveZMQ client with our keypair, trusting only the
 * aggregator's public key. */
static int s_secure(uplink_t *self, const uplink_security_t *sec, char *err, size_t errsz)
{
    static const char no_secret[] = "0000000000000000000000000000000000000000";
    zcert_t *ours = zcert_load(sec->cert);
    zcert_t *server = zcert_load(sec->server_cert);
    int rc = -1;
    if (!ours || strcmp(zcert_secret_txt(ours), no_secret) == 0)
        snprintf(err, errsz, "cannot load the secret key from --cert %s (make one with `dropscope "
                 "keygen PATH`, pass PATH_secret, and put PATH in the aggregator's --allow "
                 "directory)", sec->cert);
    else if (!server)
        snprintf(err, errsz, "cannot load the aggregator's public certificate --server-cert %s",
                 sec->server_cert);
    else
        rc = 0;
    if (rc == 0) {
        zcert_apply(ours, self->sock);
        zsock_set_curve_serverkey(self->sock, zcert_public_txt(server));
    }
    zcert_destroy(&ours);
    zcert_destroy(&server);
    return rc;
}

/* A DEALER with our options, connected to endpoint, into self->sock. */
static int s_open(uplink_t *self, const char *endpoint, char *err, size_t errsz)
{
    snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    self->sock = zsock_new(ZMQ_DEALER);
    if (!self->sock) {
        snprintf(err, errsz, "cannot create a ZeroMQ DEALER socket: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    zsock_set_sndhwm(self->sock, LINK_SNDHWM);
    zsock_set_linger(self->sock, 500);
    zsock_set_maxmsgsize(self->sock, LINK_MAXMSGSIZE);
    zsock_set_immediate(self->sock, self->immediate);
    zsock_set_reconnect_ivl(self->sock, 200);
    zsock_set_reconnect_ivl_max(self->sock, 1000); /* back within a second of a restart */
    /* ZMTP heartbeats both ways: a dead connection is noticed and redialled. */
    zsock_set_heartbeat_ivl(self->sock, 2000);
    zsock_set_heartbeat_timeout(self->sock, 10000);
    if (self->secure && s_secure(self, &self->sec, err, errsz) != 0)
        return -1;
    if (zsock_connect(self->sock, "%s", endpoint) != 0) {
        snprintf(err, errsz, "cannot connect to %s: %s (use tcp://HOST:PORT or ipc://PATH)",
                 endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

uplink_t *uplink_new(const char *endpoint, const uplink_security_t *sec, bool immediate, char *err,
                 size_t errsz)
{
    uplink_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    self->secure = sec != NULL;
    if (sec)
        self->sec = *sec;
    self->immediate = immediate;
    if (s_open(self, endpoint, err, errsz) != 0)
        uplink_destroy(&self);
    return self;
}

int uplink_switch(uplink_t *self, const char *endpoint, char *err, size_t errsz)
{
    zsock_destroy(&self->sock);
    if (s_open(self, endpoint, err, errsz) == 0)
        return 0;
    zsock_destroy(&self->sock);
    return -1;
}

const char *uplink_endpoint(const uplink_t *self)
{
    return self->endpoint;
}

void uplink_destroy(uplink_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy(&(*self_p)->sock);
    free(*self_p);
    *self_p = NULL;
}

int uplink_send(uplink_t *self, const uint8_t *buf, size_t len, char *err, size_t errsz)
{
    if (!self->sock) {
        snprintf(err, errsz, "no connection: switching to %s failed", self->endpoint);
        return -1;
    }
    zframe_t *frame = zframe_new(buf, len);
    if (!frame) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    if (zframe_send(&frame, self->sock, ZFRAME_DONTWAIT) != 0) {
        snprintf(err, errsz, "send queue to %s is full (%d messages): %s", self->endpoint,
                 LINK_SNDHWM, zmq_strerror(zmq_errno()));
        zframe_destroy(&frame);
        return -1;
    }
    return 0;
}

msg_t *uplink_recv(uplink_t *self, int timeout_ms, int wake_fd, bool *woken)
{
    *woken = false;
    if (!self->sock) { /* a switch failed: nothing comes until one succeeds */
        struct pollfd wake = {.fd = wake_fd, .events = POLLIN};
        *woken = poll(&wake, wake_fd >= 0, timeout_ms) > 0;
        return NULL;
    }
    /* Nothing to wait for: a receive that does not block says as much as a
     * poll, without its system call (dropscope-fleetsim looks at each of its
     * sockets thousands of times a second, and those polls were a fifth of
     * its CPU). */
    if (timeout_ms != 0 || wake_fd >= 0) {
        zmq_pollitem_t items[2] = {{zsock_resolve(self->sock), 0, ZMQ_POLLIN, 0},
                                   {NULL, wake_fd, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, wake_fd >= 0 ? 2 : 1, timeout_ms) <= 0)
            return NULL;
        *woken = wake_fd >= 0 && (items[1].revents & ZMQ_POLLIN);
        if (!(items[0].revents & ZMQ_POLLIN))
            return NULL;
    }
    zframe_t *frame = zframe_recv_nowait(self->sock);
    if (!frame)
        return NULL;
    char err[256];
    msg_t *msg = codec_decode(zframe_data(frame), zframe_size(frame), err, sizeof err);
    if (!msg)
        log_limited(LOGL_WARN, "link:decode", "collector: undecodable reply from %s: %s",
                    self->endpoint, err);
    zframe_destroy(&frame);
    return msg;
}
