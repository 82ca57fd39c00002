/* codec: the dropscope wire format (dropscope.proto) as plain C structs.
 * This is the only module that touches protobuf-c. Decoding checks the
 * shape of a message (sizes, string lengths, equal column lengths, known
 * enums, a body present); validate.c judges its content. Decoded strings and arrays
 * point into storage owned by the msg_t and live until codec_msg_destroy. */
#ifndef DROPSCOPE_CODEC_H
#define DROPSCOPE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layer.h"
#include "sample.h"

/* Limits a well-behaved collector stays far below; anything above is refused. */
#define CODEC_MAX_STRING 255   /* host, names, devices */
#define CODEC_MAX_DEFS 65536   /* series definitions per batch */
#define CODEC_MAX_SAMPLES 1000000
#define CODEC_MAX_BURSTS 10000     /* bursts per batch */
#define CODEC_MAX_PROFILE 100000   /* ticks in one burst profile */
#define CODEC_MAX_GAPS 100000      /* sequence gaps per batch (a probe's mailbox holds as many) */
#define CODEC_MAX_DEGRADED 8       /* degraded features in a hello (a collector has 2 today) */


typedef enum { MSG_TYPE_NONE = 0, MSG_TYPE_HELLO, MSG_TYPE_BATCH, MSG_TYPE_HEARTBEAT, MSG_TYPE_ACK } msg_type_t;

typedef struct {
    uint32_t id;
    const char *source;
    const char *device;
    const char *name;
    kind_t kind;
    layer_t layer;
    bool overlap;      /* drops also counted by a more specific series */
    const char *owner; /* "" when unknown */
} series_def_t;

typedef struct {
    const char *collector_version;
    const char *kernel;
    const char *backend;
    uint32_t ncpus;
    int64_t interval_ns;
    int64_t started_ns;
    const char *backend_note; /* why the backend asked for is not in use; "" */
    size_t ndegraded;         /* at most CODEC_MAX_DEGRADED */
    const char *const *degraded; /* features running degraded, each naming its capability */
} hello_t;

typedef struct {
    const char *iface;
    bool tx;
    int64_t start_ns, end_ns;
    double peak_per_ms;
    uint64_t packets, bytes;
    uint64_t threshold_per_ms;
    uint64_t drops[LAYER_COUNT]; /* by layer */
    int64_t profile_start_ns, tick_ns;
    size_t nprofile;
    const uint32_t *profile;
    bool profile_complete;
} burst_msg_t;

/* A probe's sequence gap (dropscope.proto, Gap). */
typedef struct {
    const char *group; /* dotted quad */
    uint32_t port;
    int64_t start_ns, end_ns;
    uint64_t missing, first_seq, last_seq;
} gap_msg_t;

typedef struct {
    bool offset_valid;
    int64_t offset_ns, rtt_ns;
    bool synced;
    int64_t maxerror_ns, esterror_ns;
} clock_msg_t;

typedef struct {
    int64_t ts_ns;
    int64_t prev_ts_ns;
    bool full;
    size_t ndefs;
    const series_def_t *defs;
    size_t nsamples; /* length of each of the four columns */
    const uint32_t *series;
    const uint64_t *values;
    const int64_t *deltas;
    const uint32_t *flags;
    size_t nbursts;
    const burst_msg_t *bursts;
    uint64_t spool_dropped_messages, spool_dropped_samples;
    clock_msg_t clock;
    uint64_t spool_rejected_messages, spool_rejected_samples; /* refused with ACK_REJECTED */
    size_t ngaps;
    const gap_msg_t *gaps;
} batch_t;

typedef enum { ACK_STORED = 0, ACK_REJECTED = 1, ACK_NEED_DEFS = 2 } ack_status_t;

typedef struct {
    uint64_t seq;
    int64_t t1_ns, t2_ns, t3_ns;
    ack_status_t status;
    const char *error;
} ack_t;

typedef struct {
    const char *host;
    const char *boot_id;
    uint64_t incarnation;
    uint64_t seq;
    int64_t sent_ns;
    msg_type_t type;
    hello_t hello; /* valid when type == MSG_TYPE_HELLO */
    batch_t batch; /* valid when type == MSG_TYPE_BATCH */
    ack_t ack;     /* valid when type == MSG_TYPE_ACK */
    void *owned_;  /* private: decoded storage */
} msg_t;

/* Encodes `msg` (whose pointers the caller owns) into a new malloc'd buffer
 * that the caller frees. Returns 0, or -1 on a batch over the count limits
 * above or on allocation failure, with the reason in err. The content is
 * not judged here (the decoder does that), so tests can encode bad input. */
int codec_encode(const msg_t *msg, uint8_t **buf_p, size_t *len_p, char *err, size_t errsz);

/* Decodes `len` bytes. Returns a new msg_t, or NULL with a one-line reason
 * in err ("truncated or malformed protobuf", "no body", ...). */
msg_t *codec_decode(const uint8_t *buf, size_t len, char *err, size_t errsz);

/* The envelope's identity of a message that codec_decode refused for its
 * shape, so that the refusal can be acknowledged: 0, or -1 when the bytes
 * are not a protobuf Envelope at all. */
int codec_peek(const uint8_t *buf, size_t len, uint64_t *incarnation, uint64_t *seq,
               int64_t *sent_ns);

/* Frees a decoded message; safe on NULL and twice; nulls *msg_p. */
void codec_msg_destroy(msg_t **msg_p);

/* Borrowed static name of a message type ("hello", "batch", ...). */
const char *codec_type_name(msg_type_t type);

#endif
