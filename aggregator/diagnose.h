/* diagnose: turns one host's drops, settings and bursts over a time range
 * into findings (docs/ARCHITECTURE.md, Fleet analysis): per layer, how many packets were lost and
 * when, the setting that bounds that layer and its value on the host, the
 * concrete command that addresses it, the evidence (counters, bursts that
 * preceded the drops, setting changes), and whether the drops stopped
 * after a setting changed. Pure: the caller gathers the inputs, and gets
 * the findings as plain structs (rows.c gives them their JSON form). */
#ifndef DROPSCOPE_DIAGNOSE_H
#define DROPSCOPE_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layer.h"

/* Room for "source/device/name" of the input's fields whole (336 bytes). */
#define DIAG_SERIES_SIZE 400

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

/* A retransmission counter's delta (overlap evidence, never a drop): a
 * socket's "sock/tcp:.../retrans" or the host's "snmp//Tcp.RetransSegs". */
typedef struct {
    char series[DIAG_SERIES_SIZE];
    int64_t ts_ns, delta;
} diag_retrans_t;               /* in time order */

typedef struct {
    int64_t start_ns, end_ns;
    char iface[16];
    int64_t drops;              /* drops that followed it */
} diag_burst_t;

typedef struct {
    int64_t start_ns, end_ns;   /* the arrivals around the hole (host clock) */
    uint64_t missing, first_seq, last_seq;
    char group[16];             /* the probe's group or address */
    uint32_t port;
} diag_gap_t;                   /* a probe's sequence gap (collector --probe) */

/* A gap is the host's loss when a drop layer's delta was read within this
 * of it, or within the host's interval after it: a snapshot reads a drop at
 * most one --interval (default 1 s) after it happened, and the one before
 * the gap may hold the first. */
#define DIAG_GAP_SLACK_NS INT64_C(1000000000)

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
    const diag_retrans_t *retrans; /* with the deltas: when the sender sent again */
    size_t nretrans;
    const diag_gap_t *gaps;     /* in time order */
    size_t ngaps;
    int64_t interval_ns;        /* the host's --interval, as its hello said; 0 = unknown */
    /* cpu/cpuN/{softirq,irq,total}_ticks of the CPUs that serve NIC
     * interrupts (irq/IFACE:QUEUE/cpu settings) or whose backlog dropped,
     * each counter's deltas summed over the NIC and backlog layers' drops
     * (in `drops`, ticks): whether such a CPU was saturated */
    const diag_counter_t *cpu_time;
    size_t ncpu_time;
} diag_input_t;

/* --- the diagnosis ------------------------------------------------------- */

/* One counter of a finding's layer, as evidence. */
typedef struct {
    char series[DIAG_SERIES_SIZE]; /* "source/device/name" */
    int64_t drops;                 /* in the range */
    bool overlap;                  /* also counted by a more specific counter */
    char owner[64];                /* sock counters: "pid/comm"; "" unknown */
} diag_drops_t;

/* A setting that changed inside the range, with the drops of one layer
 * before and after the change. */
typedef struct {
    char series[DIAG_SERIES_SIZE];
    int64_t ts_ns;                     /* when the new value was first reported */
    int64_t from, to;                  /* the values before and after */
    int64_t drops_before, drops_after; /* in (from_ns, ts_ns] and (ts_ns, to_ns] */
} diag_change_t;

/* One layer that lost packets in the range; or, among a diagnosis'
 * precursors, one whose counters moved without a loss (budget: squeezes),
 * where `drops` and the evidence's counts are those events, not packets. */
typedef struct {
    layer_t layer;
    int64_t drops;             /* its non-overlapping counters' sum (or, when only the
                                  kernel's drop reasons saw any, theirs) */
    int64_t first_ns, last_ns; /* the first and last delta of those */
    char limit[768];           /* the setting that bounds the layer, with its value (the
                                  socket layer: each dropping socket's granted buffer) */
    char remedy[2048];         /* what to do; two quoted devices fit whole: cut
                                  mid-quote, a pasted remedy would leave the shell
                                  waiting */
    struct {
        diag_drops_t *counters; /* every counter of the layer, in input order */
        size_t ncounters;
        int64_t bursts_before;          /* bursts starting from 1 s before first_ns to last_ns */
        diag_change_t *setting_changes; /* drops_before/after of this layer */
        size_t nsetting_changes;
        diag_gap_t *gaps;  /* the probes' gaps this finding explains: for a drop layer,
                              those whose window it dropped in (the application missed
                              them here); for upstream, those no drop layer explains */
        size_t ngaps;
        char cpu[16];    /* nic, backlog: the busiest CPU serving the drops ("cpuN"),
                            "" when none is known */
        int64_t cpu_pct; /* its time in softirq and irq over the drops, percent */
    } evidence;
    char resolved[512]; /* "drops stopped after ..." when a change ended the
                           drops (the last such change); "" otherwise */
} diag_finding_t;

/* What diagnose found; everything in it is owned by it. */
typedef struct {
    char *host;
    int64_t from_ns, to_ns;
    diag_finding_t *findings; /* one per drop layer that lost packets, in layer order,
                                 then upstream when the probes' gaps have one (its drops:
                                 the packets missing) */
    size_t nfindings;
    diag_finding_t *precursors; /* one per precursor layer that moved (layer_is_precursor:
                                   squeezes, no packet lost), with its setting and remedy:
                                   a warning, never a finding nor in a drops count */
    size_t nprecursors;
    diag_change_t *changes; /* every setting change in the range; their drops_before
                               and drops_after count deltas of LAYER_UNKNOWN only */
    size_t nchanges;
} diagnosis_t;

/* The diagnosis of in (which it does not keep); NULL when out of memory.
 * The caller destroys it. */
diagnosis_t *diagnose(const diag_input_t *in);

/* Frees a diagnosis and nulls *self_p; safe on NULL and twice. */
void diagnosis_destroy(diagnosis_t **self_p);

/* --- from the store (diagnose_stored.c) ------------------------------------ */

struct store;

/* Gathers host's inputs over [from_ns, to_ns] from store and diagnoses
 * them: the counters and the settings always; with `timing`, the drop
 * deltas and the bursts too (when the drops happened, the bursts that
 * preceded them: /api/diagnose's evidence; a finding's limit and remedy
 * need neither). NULL with the reason in err ("" when out of memory). */
diagnosis_t *diagnose_stored(struct store *store, const char *host, int64_t from_ns,
                             int64_t to_ns, bool timing, char *err, size_t errsz);

#endif
