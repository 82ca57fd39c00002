/* counters: the one table that says, for every counter dropscope reads, which
 * layer of the receive path it belongs to, what kind of value it is, how wide
 * the kernel keeps it, and whether its drops are already counted by a more
 * specific counter; and, for a user, what moves it, what bounds it and what
 * to do (`dropscope explain`, the web view). The kernel site of each entry is
 * written beside it in counters.c; docs/COUNTERS.md is the long form. */
#ifndef DROPSCOPE_COUNTERS_H
#define DROPSCOPE_COUNTERS_H

#include <stdbool.h>

#include "layer.h"

typedef struct {
    layer_t layer;
    kind_t kind;
    unsigned width; /* 32: the kernel keeps it in 32 bits, a decrease near 2^32 is a wrap */
    bool overlap;   /* a sum, superset, mirror or precursor of drops that another
                       series counts: shown, but left out of layer totals */
    bool vague;     /* a drop reason that need not be a loss of the host's traffic
                       (NOT_SPECIFIED, a socket closed with data queued, a duplicate
                       segment): evidence beside a finding, never one on its own */
} counter_class_t;

/* Classifies source/name (source.h names the sources). Never fails:
 * counters the table does not know are non-drop traffic counters. Costs a
 * table scan with fnmatch(3); the series registry calls it once per series. */
counter_class_t counters_classify(const char *source, const char *name);

typedef struct {
    const char *meaning; /* what moves it */
    const char *setting; /* what bounds it */
    const char *remedy;  /* what to do when it moves (its layer's) */
} counter_text_t;

/* True for the retransmission counters: evidence that a sender sent again
 * (its peer lost the segments, perhaps to a pruned queue), never a drop:
 * snmp Tcp.RetransSegs, netstat TcpExt.TCPTimeouts and TCPLostRetransmit,
 * sock retrans. series is "source/device/name". */
bool counters_is_retrans(const char *series);

/* The reference text of source/name (static strings, never NULL). */
counter_text_t counters_explain(const char *source, const char *name);
/* A layer's own text: what it is (in meaning), what bounds its drops and
 * what to do (static strings, never NULL; "" for LAYER_UNKNOWN and values
 * out of range). */
counter_text_t counters_layer_text(layer_t layer);

typedef enum {
    PAUSE_NONE = 0,
    PAUSE_FRAMES_SENT,     /* the NIC asked the switch to hold traffic (its buffer filled) */
    PAUSE_FRAMES_RECEIVED, /* the switch asked the NIC to stop sending */
} pause_t;

/* Whether source/name counts pause (XOFF, PFC) frames a NIC sent or
 * received, by the table's flow-control entries (nic, overlap). XON frames,
 * durations, transitions and events are flow-control entries too, but
 * PAUSE_NONE here: they count no pause frame. */
pause_t counters_pause(const char *source, const char *name);

#endif
