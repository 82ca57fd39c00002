/* sampler: the collector's fast path (docs/ARCHITECTURE.md, Bursts). A thread wakes on a
 * timerfd and feeds each interface's burst detectors, flight recorder and
 * rate histograms with samples from one of two backends, chosen here:
 * netlink, one RTM_GETSTATS dump of every interface's counters per tick,
 * each sample stamped with the time it was read; or eBPF (sources/ebpf),
 * the kernel's own per-tick buckets folded every 20 ms, with drops by
 * reason. The main thread takes what it produced with sampler_take:
 * finished bursts (each with its per-tick profile) as soon as their tail
 * has been recorded (sampler_fd becomes readable), and the interval's
 * histograms and the sampler's own lateness at each report. The two
 * threads share nothing but a mailbox under a mutex. */
#ifndef DROPSCOPE_SAMPLER_H
#define DROPSCOPE_SAMPLER_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "burst.h"
#include "histogram.h"
#include "layer.h"

/* An interface's name as sent: at most IF_NAMESIZE - 1 bytes, each of which
 * text_escape_name() may turn into three. */
#define SAMPLER_IFACE_LEN (3 * IF_NAMESIZE)

typedef enum { SAMPLER_NETLINK, SAMPLER_EBPF } sampler_backend_t;

typedef struct {
    sampler_backend_t backend;
    int64_t tick_ns;           /* sampling period (default 1 ms; 100 us and up, under 1 ms with
                                * eBPF only: --tick) */
    uint64_t threshold_per_ms; /* 0 = per interface and direction: burst_default_threshold */
    int64_t gap_ns;            /* merge hot ticks closer than this (default 5 ticks) */
    int64_t margin_ns;         /* profile margin before and after a burst (default 10 ms) */
} sampler_opts_t;

typedef struct {
    char iface[SAMPLER_IFACE_LEN];
    bool tx;                   /* direction */
    burst_event_t ev;
    uint64_t threshold_per_ms;
    int64_t profile_start_ns;  /* first tick of the profile */
    int64_t tick_ns;
    uint32_t *profile;         /* packets per tick, owned by the report */
    size_t nprofile;
    bool profile_complete;     /* the recorder still held the whole window */
    int64_t drops_from_ns;     /* the drops that belong to the burst: from its onset */
    int64_t drops_to_ns;       /* to the margin after its end */
    bool exact_drops;          /* drops[] holds the kernel's drops in that window, by
                                  reason's layer (eBPF backend) */
    uint64_t drops[LAYER_COUNT];
} sampler_burst_t;

typedef struct {
    char name[64];             /* enum skb_drop_reason without SKB_DROP_REASON_ */
    uint64_t drops;            /* since the collector started */
} sampler_reason_t;

typedef struct {
    char iface[SAMPLER_IFACE_LEN];
    bool tx;
    uint64_t threshold_per_ms;
    histogram_summary_t h;
} sampler_rate_t;

typedef struct {
    sampler_burst_t *bursts;
    size_t nbursts;
    sampler_rate_t *rates;     /* only from sampler_take(..., true) */
    size_t nrates;
    sampler_reason_t *reasons; /* eBPF backend, only from sampler_take(..., true) */
    size_t nreasons;
    uint64_t ticks;            /* samples taken since start */
    uint64_t missed_ticks;     /* ticks that passed without a sample since start */
    uint64_t errors;           /* failed dumps since start */
    int64_t lateness_p50_ns;   /* wake-up delay after the tick, this interval */
    int64_t lateness_p99_ns;
} sampler_report_t;

/* Starts the sampler thread with opts->backend. NULL with the reason in
 * err (the eBPF backend could not load or attach, or the netlink socket,
 * timerfd or thread could not be made). */
typedef struct sampler sampler_t;
sampler_t *sampler_new(const sampler_opts_t *opts, char *err, size_t errsz);
/* "netlink" or "ebpf" (static). */
const char *sampler_backend(const sampler_t *self);
/* Stops the thread and frees everything; safe on NULL and twice. */
void sampler_destroy(sampler_t **self_p);

/* A file descriptor that is readable while finished bursts wait. */
int sampler_fd(const sampler_t *self);

/* Takes the finished bursts, and with `interval` also closes the reporting
 * interval: its histograms (one per interface and direction) and lateness.
 * The report is the caller's (sampler_report_destroy). NULL when out of
 * memory. */
sampler_report_t *sampler_take(sampler_t *self, bool interval);
void sampler_report_destroy(sampler_report_t **report_p);

/* Sets --burst-threshold (0: per interface and direction, from its median
 * rate: burst_default_threshold) and --burst-gap
 * (at least a tick) of every interface, from the next tick on (a reload).
 * A burst in progress goes on under the new values. */
void sampler_set_burst(sampler_t *self, uint64_t threshold_per_ms, int64_t gap_ns);

#endif
