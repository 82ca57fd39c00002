/* burst: see burst.h. Rates are compared in integers (packets * 1e6 >=
 * threshold * dt_ns) so a sample exactly at the threshold is hot whatever
 * its duration. */
#include "burst.h"

#include <stdlib.h>
#include <string.h>

#define NS_PER_MS 1000000.0

void burst_init(burst_t *self, const burst_opts_t *opts)
{
    memset(self, 0, sizeof *self);
    self->opts = *opts;
}

static int64_t s_span(const burst_opts_t *opts, int64_t dt_ns)
{
    return dt_ns > opts->min_dt_ns ? dt_ns : opts->min_dt_ns;
}

bool burst_is_hot(const burst_opts_t *opts, uint64_t packets, int64_t dt_ns)
{
    /* 128-bit products: packets and dt can both be large after a stall. */
    return (unsigned __int128)packets * 1000000u >=
           (unsigned __int128)opts->threshold_per_ms * (uint64_t)s_span(opts, dt_ns);
}

double burst_rate(const burst_opts_t *opts, uint64_t packets, int64_t dt_ns)
{
    return (double)packets * NS_PER_MS / (double)s_span(opts, dt_ns);
}

static void s_take_hot(burst_t *self, int64_t onset_ns, int64_t t_ns, int64_t dt_ns,
                       uint64_t packets, uint64_t bytes)
{
    double rate = burst_rate(&self->opts, packets, dt_ns);
    if (!self->active) {
        self->active = true;
        self->cur = (burst_event_t){.start_ns = t_ns - dt_ns, .onset_ns = onset_ns};
    }
    self->cur.packets += self->gap_packets + packets;
    self->cur.bytes += self->gap_bytes + bytes;
    self->gap_packets = self->gap_bytes = 0;
    self->cur.end_ns = t_ns;
    self->cur.hot_samples++;
    if (rate > self->cur.peak_per_ms)
        self->cur.peak_per_ms = rate;
}

bool burst_feed(burst_t *self, int64_t t_ns, int64_t dt_ns, uint64_t packets, uint64_t bytes,
                burst_event_t *ev)
{
    if (dt_ns <= 0)
        return false;
    /* Adjoining within half a tick: eBPF folds map ticks to wall time with
     * offsets that differ by a few ns. */
    int64_t start = t_ns - dt_ns;
    bool lead_in =
        self->last.packets && llabs(start - self->last.end_ns) < self->opts.min_dt_ns / 2;
    int64_t onset = lead_in ? self->last.start_ns : start;
    self->last.start_ns = start;
    self->last.end_ns = t_ns;
    self->last.packets = packets;
    if (burst_is_hot(&self->opts, packets, dt_ns)) {
        s_take_hot(self, onset, t_ns, dt_ns, packets, bytes);
        return false;
    }
    if (!self->active)
        return false;
    if (t_ns - self->cur.end_ns < self->opts.gap_ns) {
        self->gap_packets += packets; /* may still be inside the burst */
        self->gap_bytes += bytes;
        return false;
    }
    return burst_flush(self, ev);
}

bool burst_flush(burst_t *self, burst_event_t *ev)
{
    if (!self->active)
        return false;
    *ev = self->cur;
    self->active = false;
    self->gap_packets = self->gap_bytes = 0;
    return true;
}

uint64_t burst_default_threshold(uint64_t p50_per_ms)
{
    uint64_t t = p50_per_ms > UINT64_MAX / BURST_MEDIANS ? UINT64_MAX : p50_per_ms * BURST_MEDIANS;
    return t > BURST_FLOOR ? t : BURST_FLOOR;
}
