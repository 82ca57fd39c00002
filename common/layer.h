/* layer: where in the receive path a counter sits (docs/ARCHITECTURE.md, Series), and what kind
 * of value it is. The numeric values are the wire values (proto Layer/Kind),
 * the names are what users type and read. */
#ifndef DROPSCOPE_LAYER_H
#define DROPSCOPE_LAYER_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    LAYER_UNKNOWN = 0,
    LAYER_NIC = 1,     /* NIC and its RX ring */
    LAYER_BACKLOG = 2, /* per-CPU input queue (softnet) */
    LAYER_BUDGET = 3,  /* softirq poll budget (time_squeeze): a precursor */
    LAYER_SOCKET = 4,  /* socket receive buffers */
    LAYER_LISTEN = 5,  /* accept and SYN queues */
    LAYER_PROTO = 6,   /* IP/UDP/TCP header, routing and port drops */
    LAYER_QDISC = 7,   /* transmit queueing disciplines */
    LAYER_ONLOAD = 8,  /* kernel bypass */
    LAYER_TRAFFIC = 9, /* packets and bytes: context, not drops */
    LAYER_CONFIG = 10, /* settings that bound the layers above */
    LAYER_UPSTREAM = 11, /* before this host (switch, feed, sender): found by diagnosis from
                            a probe's sequence gaps; no counter of the host, no drop total */
    LAYER_COUNT
} layer_t;

typedef enum {
    KIND_UNKNOWN = 0,
    KIND_COUNTER = 1,
    KIND_GAUGE = 2,
    KIND_SETTING = 3,
    KIND_COUNT
} kind_t;

/* Borrowed static name ("nic", ...); "unknown" for out-of-range values. */
const char *layer_name(layer_t layer);
/* LAYER_UNKNOWN when `name` is not a layer name. */
layer_t layer_from_name(const char *name);
/* True for layers whose counters count packets lost there: nic, backlog,
 * socket, listen, proto, qdisc, onload. Every drops total sums only these. */
bool layer_is_drop(layer_t layer);
/* True for layers whose counters count pressure that precedes loss but loses
 * nothing: budget (softnet time_squeeze, the softirq ran out of budget or time
 * with packets still queued). Shown as squeezes, beside drops, never in them. */
bool layer_is_precursor(layer_t layer);
/* A drop or a precursor layer: the layers on the receive path. Their counters'
 * deltas are stored as drop rows (the rows keep their layer; totals sort them). */
bool layer_on_path(layer_t layer);

/* What users read for the precursor layer's count, the same words everywhere
 * (the API's vocabulary, the CLI, the web view takes them from the API). */
#define LAYER_PRECURSOR_WORDS "squeezes (softirq budget ran out: a precursor, not a loss)"

/* The receive-path layers (drop and precursor) in the order a received packet
 * meets them, from the wire to the application: the order every list of
 * layers is shown in (the API's totals and vocabulary, the CLI, the web
 * view's charts). */
#define LAYER_NPATH 8
extern const layer_t layer_path[LAYER_NPATH];
/* Writes the path layers' names in path order, `sep` between them, into buf
 * (cut to `size`); returns buf. For messages that list the layers. */
char *layer_path_names(char *buf, size_t size, const char *sep);

const char *kind_name(kind_t kind);
kind_t kind_from_name(const char *name);

#endif
