/* burst: the microburst detector of one interface and direction, a pure
 * state machine over packet-count samples. A sample is "hot" when its rate
 * reaches the threshold (packets per ms); a burst is a run of hot samples,
 * merged across quieter gaps shorter than gap_ns, and ends once the link
 * has been below the threshold for gap_ns. Samples carry their real
 * duration, so a late or missed tick is judged by its true rate, never
 * assumed to be one tick. No allocation, no I/O, no clock: a burst_t is a
 * value the sampler keeps per interface. */
#ifndef DROPSCOPE_BURST_H
#define DROPSCOPE_BURST_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t threshold_per_ms; /* hot at or above this many packets per ms (>= 1) */
    int64_t gap_ns;            /* hot samples closer than this belong to one burst */
    int64_t min_dt_ns;         /* rates are taken over at least this long (the tick): a
                                  sample cut short after a late one holds a packet or
                                  two, and its rate over a few us means nothing */
} burst_opts_t;

/* onset_ns is where the burst's drops can begin: a burst that begins late
 * in a tick leaves that tick under the threshold, yet its first packets,
 * and the drops they cause once a small buffer is full, are there. */
typedef struct {
    int64_t start_ns;    /* start of the first hot sample */
    int64_t onset_ns;    /* start of the sample before it when that one adjoins it
                            (within half a tick) and carried packets, else start_ns */
    int64_t end_ns;      /* end of the last hot sample */
    double peak_per_ms;  /* highest sample rate, packets per ms */
    uint64_t packets;    /* from start_ns to end_ns, quiet samples inside included */
    uint64_t bytes;
    uint32_t hot_samples;
} burst_event_t;

typedef struct {
    burst_opts_t opts;
    bool active;          /* inside a burst (possibly in a gap) */
    burst_event_t cur;    /* the burst so far, up to its last hot sample */
    uint64_t gap_packets; /* quiet samples since the last hot one */
    uint64_t gap_bytes;
    struct {
        int64_t start_ns, end_ns;
        uint64_t packets;
    } last;               /* the latest sample fed */
} burst_t;

void burst_init(burst_t *self, const burst_opts_t *opts);

/* Feeds the sample covering (t_ns - dt_ns, t_ns] with `packets` and
 * `bytes`. Returns true and fills *ev when this sample shows that a burst
 * has ended (the link was quiet for gap_ns after it). dt_ns <= 0 is
 * ignored. */
bool burst_feed(burst_t *self, int64_t t_ns, int64_t dt_ns, uint64_t packets, uint64_t bytes,
                burst_event_t *ev);

/* Ends a burst in progress (at shutdown). True and *ev when there was one. */
bool burst_flush(burst_t *self, burst_event_t *ev);

/* True when a sample of `packets` over dt_ns (at least min_dt_ns) is at or
 * above the threshold. */
bool burst_is_hot(const burst_opts_t *opts, uint64_t packets, int64_t dt_ns);

/* The rate of `packets` over dt_ns (at least min_dt_ns), packets per ms. */
double burst_rate(const burst_opts_t *opts, uint64_t packets, int64_t dt_ns);

/* The default threshold, relative to the interface's own typical rate:
 * BURST_MEDIANS times the median rate of its last reporting interval
 * (p50_per_ms, packets per ms), and never under BURST_FLOOR. A burst is a
 * rate the link does not usually carry, whatever its ring holds: a
 * threshold derived from the ring (a quarter of it per ms) went blind to a
 * field report's 700/ms bursts once its remedy grew the ring from 1024 to
 * 4096. The median ignores bursts that fill under half the interval's
 * ticks; traffic that stays high for most of an interval is the link's
 * rate from then on, not a burst. */
#define BURST_MEDIANS 4
/* 100 per ms is 100k packets/s: far above an idle link's chatter, a
 * seventh of the field report's bursts and a fifth of the ~500/ms that
 * overflowed a 1024-slot ring in the seeds' incident. */
#define BURST_FLOOR 100
uint64_t burst_default_threshold(uint64_t p50_per_ms);

#endif
