/* layer: name tables for layer_t and kind_t. */
#include "layer.h"

#include <stdio.h>
#include <string.h>

static const char *const s_layers[LAYER_COUNT] = {
    "unknown", "nic",   "backlog", "budget",  "socket", "listen",
    "proto",   "qdisc", "onload",  "traffic", "config", "upstream",
};

static const char *const s_kinds[KIND_COUNT] = {"unknown", "counter", "gauge", "setting"};

const char *layer_name(layer_t layer)
{
    return layer > LAYER_UNKNOWN && layer < LAYER_COUNT ? s_layers[layer] : s_layers[0];
}

layer_t layer_from_name(const char *name)
{
    for (int i = 1; i < LAYER_COUNT; i++)
        if (name && strcmp(name, s_layers[i]) == 0)
            return (layer_t)i;
    return LAYER_UNKNOWN;
}

bool layer_is_drop(layer_t layer)
{
    return layer >= LAYER_NIC && layer <= LAYER_ONLOAD && layer != LAYER_BUDGET;
}

/* A squeeze is counted when net_rx_action stops with work left; the packets
 * stay queued for the next run, so nothing is lost until the ring or the
 * backlog overflows (counted there, at nic or backlog). */
bool layer_is_precursor(layer_t layer)
{
    return layer == LAYER_BUDGET;
}

bool layer_on_path(layer_t layer)
{
    return layer_is_drop(layer) || layer_is_precursor(layer);
}

/* The ring; the softirq budget that drains it; the per-CPU backlog; the
 * qdiscs (transmit queues, kept beside the kernel's other queues); then the
 * protocols, the listen queues and the socket. Onload bypasses the kernel:
 * last. */
const layer_t layer_path[LAYER_NPATH] = {
    LAYER_NIC,   LAYER_BUDGET, LAYER_BACKLOG, LAYER_QDISC,
    LAYER_PROTO, LAYER_LISTEN, LAYER_SOCKET,  LAYER_ONLOAD,
};

char *layer_path_names(char *buf, size_t size, const char *sep)
{
    size_t len = 0;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < LAYER_NPATH && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? sep : "",
                                layer_name(layer_path[i]));
    return buf;
}

const char *kind_name(kind_t kind)
{
    return kind > KIND_UNKNOWN && kind < KIND_COUNT ? s_kinds[kind] : s_kinds[0];
}

kind_t kind_from_name(const char *name)
{
    for (int i = 1; i < KIND_COUNT; i++)
        if (name && strcmp(name, s_kinds[i]) == 0)
            return (kind_t)i;
    return KIND_UNKNOWN;
}
