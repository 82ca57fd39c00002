/* diagnose: turns one host's drops, settings and bursts over a time range
 * into findings (docs/ARCHITECTURE.md, Fleet analysis): per layer, how many packets were lost and
 * when, the setting that bounds that layer and its value on the host, the
 * concrete command that addresses it, the evidence (counters, bursts that
 * preceded the drops, setting changes), and whether the drops stopped
 * after a setting changed. Pure: the caller gathers the inputs. */
#ifndef DROPSCOPE_DIAGNOSE_H
#define DROPSCOPE_DIAGNOSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layer.h"

typedef struct {
    char source[16], device[192], name[128];
    char owner[64];             /* sock counters: the process holding it, "pid/comm"; "" */
    layer_t layer;
    bool overlap;               /* also counted by a more specific counter */
    int64_t drops, first_ns, last_ns;
} diag_counter_t;

typedef struct {
    char source[16], device[192], name[128];
    int64_t ts_ns, value;       /* the value from ts_ns on */
} diag_setting_t;               /* sorted by series, then time */

typedef struct {
    int64_t ts_ns;
    layer_t layer;
    int64_t delta;              /* non-overlapping drop delta read at ts_ns */
} diag_delta_t;                 /* in time order */

typedef struct {
    int64_t start_ns, end_ns;
    char iface[16];
    int64_t drops;              /* drops that followed it */
} diag_burst_t;

typedef struct {
    const char *host;
    int64_t from_ns, to_ns;
    const diag_counter_t *counters;
    size_t ncounters;
    const diag_setting_t *settings;
    size_t nsettings;
    const diag_delta_t *deltas;
    size_t ndeltas;
    const diag_burst_t *bursts;
    size_t nbursts;
} diag_input_t;

/* The diagnosis document: {"host", "from_ns", "to_ns", "findings": [...],
 * "changes": [...]}; NULL when out of memory. */
json_t *diagnose(const diag_input_t *in);

#endif
