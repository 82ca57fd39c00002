/* uplink: the collector's connection to the aggregator, a ZeroMQ DEALER. The
 * only collector module that touches ZeroMQ. CurveZMQ by default (czmq
 * zcert), plain text only when asked for. */
#ifndef DROPSCOPE_UPLINK_H
#define DROPSCOPE_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

typedef struct link uplink_t;

/* CurveZMQ: our keypair and the aggregator's public certificate. */
typedef struct {
    const char *cert;        /* PATH_secret written by `dropscope keygen PATH` */
    const char *server_cert; /* the aggregator's public certificate */
} uplink_security_t;

/* Connects (asynchronously: the aggregator need not be up) to `endpoint`,
 * with CurveZMQ when sec is given, in plain text when it is NULL. With
 * `immediate`, sends fail at once while there is no connection (the
 * caller keeps messages itself) instead of queueing. NULL with the reason
 * in err. */
uplink_t *uplink_new(const char *endpoint, const uplink_security_t *sec, bool immediate, char *err,
                 size_t errsz);
void uplink_destroy(uplink_t **self_p);

/* Drops the connection (and every message queued on it, unanswered
 * replies too) and connects to endpoint instead, with the same security
 * and options: the caller sends again what was in flight. On failure
 * (-1 + err: a malformed endpoint, certificates gone) self has no socket
 * until a switch succeeds: sends fail, receives return NULL. */
int uplink_switch(uplink_t *self, const char *endpoint, char *err, size_t errsz);

/* The endpoint in use (borrowed). */
const char *uplink_endpoint(const uplink_t *self);

/* Queues one message without blocking. 0, or -1 when the queue to the
 * aggregator is full (it is unreachable or too slow); err says which. */
int uplink_send(uplink_t *self, const uint8_t *buf, size_t len, char *err, size_t errsz);

/* Waits up to timeout_ms for a message from the aggregator, or for wake_fd
 * (another event source; -1 for none) to become readable, which sets
 * *woken. Returns the decoded message, or NULL on timeout, interruption,
 * wake-up, or an undecodable frame (logged). */
msg_t *uplink_recv(uplink_t *self, int timeout_ms, int wake_fd, bool *woken);

#endif
