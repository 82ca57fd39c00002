/* sampler: one thread, one timerfd, one netlink socket. Assumes tens of
 * interfaces and a 1 ms tick: per tick it does one dump and, per
 * interface, a few arithmetic steps under an uncontended mutex; everything
 * that allocates (new interfaces, profiles of finished bursts) is rare. */
#define _GNU_SOURCE
#include "sampler.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ebpf.h"
#include "grow.h"
#include "log.h"
#include "netlink.h"
#include "recorder.h"
#include "text.h"
#include "ts.h"

#define MAX_LINKS 1024
#define RECORDER_SAMPLES 8192  /* about 8 s at 1 ms */
#define MAX_PROFILE 10000      /* ticks shipped per burst at most */
#define EBPF_FOLD_NS (20 * TS_NS_PER_MS) /* how often the eBPF buckets are folded: 1/5 of the ring */
#define TRACK_EVERY_NS TS_NS_PER_S       /* how often the eBPF backend looks for new interfaces */
#define MAX_REASONS 256

typedef struct {
    uint32_t ifindex;
    char name[SAMPLER_IFACE_LEN]; /* escaped as the series' devices are (text.h) */
    uint64_t rx, tx, rxb, txb; /* counters at the last sample */
    int64_t last_ns;           /* when the last sample was read */
    uint64_t threshold[2];     /* rx, tx: packets per ms */
    uint64_t p50_per_ms[2];    /* the median rate of the last interval, packets per ms */
    burst_t burst[2];          /* rx, tx */
    histogram_t hist[2];
    recorder_t *rec;
} link_state_t;

typedef struct {
    burst_event_t ev;
    size_t link;      /* index into links */
    bool tx;
    int64_t ready_ns; /* when its tail has been recorded */
} pending_t;

struct sampler {
    sampler_opts_t opts;
    netlink_t *nl;                 /* the sampler thread's own socket */
    ebpf_t *ebpf;                  /* the eBPF backend, or NULL for netlink */
    int64_t period_ns;             /* timerfd period: a tick, or the eBPF fold period */
    int64_t tracked_mono;          /* when the eBPF backend last looked for interfaces */
    uint32_t *ifindex;             /* scratch for ebpf_track */
    int timerfd;
    int eventfd;                   /* readable while bursts are ready */
    pthread_t thread;
    bool started;
    int64_t armed_ns;              /* CLOCK_MONOTONIC when the timerfd was armed */
    atomic_bool stop;
    netlink_link_stats_t *stats;   /* dump buffer, sampler thread only */
    pthread_mutex_t lock;          /* guards every field below */
    link_state_t *links;
    size_t nlinks;
    pending_t *pending;            /* bursts whose tail is still being recorded */
    size_t npending, cappending;
    sampler_burst_t *ready;        /* finished bursts for the main thread */
    size_t nready, capready;
    histogram_t lateness;          /* microseconds, this interval */
    uint64_t ticks, missed, errors;
    ebpf_reason_t reasons[MAX_REASONS]; /* running totals, at the last fold */
    size_t nreasons;
};

/* Direction d's threshold from --burst-threshold, or the link's own rate. */
static void s_set_threshold(const sampler_t *self, link_state_t *l, int d)
{
    uint64_t t = self->opts.threshold_per_ms ? self->opts.threshold_per_ms
                                             : burst_default_threshold(l->p50_per_ms[d]);
    l->threshold[d] = t;
    l->burst[d].opts.threshold_per_ms = t;
}

/* The state of ifindex, created on first sight; `hint` is where it was in
 * the previous dump (dumps come in the same order). NULL when full. */
static link_state_t *s_link(sampler_t *self, uint32_t ifindex, size_t hint)
{
    if (hint < self->nlinks && self->links[hint].ifindex == ifindex)
        return &self->links[hint];
    for (size_t i = 0; i < self->nlinks; i++)
        if (self->links[i].ifindex == ifindex)
            return &self->links[i];
    if (self->nlinks == MAX_LINKS)
        return NULL;
    link_state_t *l = &self->links[self->nlinks];
    memset(l, 0, sizeof *l);
    l->ifindex = ifindex;
    char raw[IF_NAMESIZE];
    if (!if_indextoname(ifindex, raw))
        snprintf(raw, sizeof raw, "if%u", ifindex);
    text_escape_name(raw, l->name, sizeof l->name);
    if (!(l->rec = recorder_new(RECORDER_SAMPLES)))
        return NULL;
    burst_opts_t bo = {1, self->opts.gap_ns, self->opts.tick_ns};
    burst_init(&l->burst[0], &bo);
    burst_init(&l->burst[1], &bo);
    s_set_threshold(self, l, 0);
    s_set_threshold(self, l, 1);
    self->nlinks++;
    return l;
}

/* The profile of ev: n ticks from *start_ns, margin before and after it. */
static size_t s_profile_window(const sampler_t *self, const burst_event_t *ev, int64_t *start_ns)
{
    int64_t tick = self->opts.tick_ns, margin = self->opts.margin_ns;
    *start_ns = ev->start_ns - margin;
    size_t n = (size_t)((ev->end_ns + margin - *start_ns + tick - 1) / tick);
    return n > MAX_PROFILE ? MAX_PROFILE : n;
}

static void s_queue_burst(sampler_t *self, size_t link, bool tx, const burst_event_t *ev)
{
    pending_t *p = grow(self->pending, self->npending + 1, &self->cappending, sizeof *p, 16);
    if (!p) {
        log_limited(LOGL_WARN, "sampler:oom", "sampler: out of memory; a burst was lost");
        return;
    }
    self->pending = p;
    /* Ready once the recorder holds the profile's last tick, so the whole
     * window is there when it is cut. */
    int64_t start;
    size_t n = s_profile_window(self, ev, &start);
    self->pending[self->npending++] =
        (pending_t){*ev, link, tx, start + (int64_t)n * self->opts.tick_ns};
}

/* Feeds one direction of one interface's new sample. */
static void s_feed(sampler_t *self, size_t li, bool tx, int64_t t, int64_t dt, uint64_t packets,
                   uint64_t bytes)
{
    link_state_t *l = &self->links[li];
    int d = tx ? 1 : 0;
    burst_event_t ev;
    if (burst_feed(&l->burst[d], t, dt, packets, bytes, &ev))
        s_queue_burst(self, li, tx, &ev);
    int64_t tick = self->opts.tick_ns;
    uint32_t ticks = (uint32_t)((dt + tick / 2) / tick);
    ticks = ticks ? ticks : 1;
    /* Over at least a tick, as the detector judges it. */
    uint64_t per_tick = packets * (uint64_t)tick / (uint64_t)(dt > tick ? dt : tick);
    histogram_add(&l->hist[d], per_tick > UINT32_MAX ? UINT32_MAX : (uint32_t)per_tick, ticks,
                  burst_is_hot(&l->burst[d].opts, packets, dt));
}

/* One sample of an interface, (t - dt, t], from either backend. */
static void s_sample(sampler_t *self, link_state_t *l, int64_t t, int64_t dt, uint64_t drx,
                     uint64_t dtx, uint64_t drxb, uint64_t dtxb)
{
    recorder_push(l->rec, t, dt, drx > UINT32_MAX ? UINT32_MAX : (uint32_t)drx,
                  dtx > UINT32_MAX ? UINT32_MAX : (uint32_t)dtx);
    size_t li = (size_t)(l - self->links);
    s_feed(self, li, false, t, dt, drx, drxb);
    s_feed(self, li, true, t, dt, dtx, dtxb);
    l->last_ns = t;
}

/* netlink: a sample is the difference between two readings of the counters. */
static void s_update(sampler_t *self, const netlink_link_stats_t *st, size_t hint, int64_t t)
{
    link_state_t *l = s_link(self, st->ifindex, hint);
    if (!l)
        return;
    int64_t dt = t - l->last_ns;
    bool fresh = l->last_ns == 0 || st->rx_packets < l->rx || st->tx_packets < l->tx;
    if (!fresh && dt > 0)
        s_sample(self, l, t, dt, st->rx_packets - l->rx, st->tx_packets - l->tx,
                 st->rx_bytes - l->rxb, st->tx_bytes - l->txb);
    l->rx = st->rx_packets;
    l->tx = st->tx_packets;
    l->rxb = st->rx_bytes;
    l->txb = st->tx_bytes;
    l->last_ns = t;
}

/* Cuts the profiles of bursts whose tail is now recorded. */
static void s_finish_bursts(sampler_t *self, int64_t now)
{
    size_t keep = 0;
    for (size_t i = 0; i < self->npending; i++) {
        pending_t *p = &self->pending[i];
        if (p->ready_ns > now) {
            self->pending[keep++] = *p;
            continue;
        }
        sampler_burst_t *r = grow(self->ready, self->nready + 1, &self->capready, sizeof *r, 16);
        if (!r)
            continue;
        self->ready = r;
        link_state_t *l = &self->links[p->link];
        int64_t tick = self->opts.tick_ns, start;
        size_t n = s_profile_window(self, &p->ev, &start);
        sampler_burst_t *b = &self->ready[self->nready];
        *b = (sampler_burst_t){.tx = p->tx, .ev = p->ev, .threshold_per_ms = l->threshold[p->tx],
                               .profile_start_ns = start, .tick_ns = tick,
                               .drops_from_ns = p->ev.onset_ns,
                               .drops_to_ns = p->ev.end_ns + self->opts.margin_ns};
        snprintf(b->iface, sizeof b->iface, "%s", l->name);
        if ((b->profile = calloc(n, sizeof *b->profile))) {
            b->nprofile = n;
            b->profile_complete = recorder_profile(l->rec, start, tick, n, p->tx, b->profile);
        }
        /* The kernel's drop reasons give the burst its drops exactly. */
        if (self->ebpf)
            b->exact_drops = ebpf_drops_between(self->ebpf, b->drops_from_ns, b->drops_to_ns,
                                                b->drops);
        self->nready++;
    }
    self->npending = keep;
}

/* netlink: one RTM_GETSTATS dump per tick; returns the latest sample time. */
static int64_t s_tick_netlink(sampler_t *self, uint64_t expirations)
{
    char err[256];
    int n = netlink_dump_stats(self->nl, self->stats, MAX_LINKS, err, sizeof err);
    int64_t t = ts_now_ns(); /* the time the counters were read */
    pthread_mutex_lock(&self->lock);
    self->ticks++;
    self->missed += expirations - 1;
    if (n < 0) {
        self->errors++;
        log_limited(LOGL_WARN, "sampler:dump", "sampler: %s; retrying next tick", err);
    }
    for (int i = 0; i < n; i++)
        s_update(self, &self->stats[i], (size_t)i, t);
    return t;
}

typedef struct {
    sampler_t *self;
    int64_t last_t; /* end of the latest sample folded */
} fold_t;

static void s_ebpf_sample(void *ctx, const ebpf_sample_t *es)
{
    fold_t *f = ctx;
    link_state_t *l = s_link(f->self, es->ifindex, 0);
    if (!l)
        return;
    s_sample(f->self, l, es->t_ns, es->dt_ns, es->rx, es->tx, es->rx_bytes, es->tx_bytes);
    f->self->ticks += (uint64_t)(es->dt_ns / f->self->opts.tick_ns);
    f->last_t = es->t_ns > f->last_t ? es->t_ns : f->last_t;
}

/* eBPF: the interfaces to count, as a netlink dump names them. Returns
 * how many there are (-1: the dump failed) and sets *failed to how many
 * could not be attached, with the first reason in err. */
static int s_track(sampler_t *self, size_t *failed, char *err, size_t errsz)
{
    self->tracked_mono = ts_mono_ns();
    int n = netlink_dump_stats(self->nl, self->stats, MAX_LINKS, err, errsz);
    for (int i = 0; i < n; i++)
        self->ifindex[i] = self->stats[i].ifindex;
    *failed = n > 0 ? ebpf_track(self->ebpf, self->ifindex, (size_t)n, err, errsz) : 0;
    return n;
}

/* eBPF: every second, the interfaces to count; every fold period, the
 * ticks the kernel counted since the last fold. */
static int64_t s_tick_ebpf(sampler_t *self)
{
    char err[256];
    size_t failed;
    if (ts_mono_ns() - self->tracked_mono >= TRACK_EVERY_NS &&
        (s_track(self, &failed, err, sizeof err) < 0 || failed > 0))
        log_limited(LOGL_WARN, "sampler:track", "sampler: %s; retrying in a second", err);
    pthread_mutex_lock(&self->lock);
    fold_t f = {self, ts_now_ns() - 2 * self->opts.tick_ns};
    self->missed += ebpf_fold(self->ebpf, s_ebpf_sample, &f);
    self->nreasons = ebpf_reasons(self->ebpf, self->reasons, MAX_REASONS);
    return f.last_t;
}

static void s_tick(sampler_t *self, int64_t lateness_ns, uint64_t expirations)
{
    /* Each backend returns with the lock held, after its own I/O. */
    int64_t t = self->ebpf ? s_tick_ebpf(self) : s_tick_netlink(self, expirations);
    size_t ready_before = self->nready;
    uint64_t late_us = (uint64_t)(lateness_ns > 0 ? lateness_ns : 0) / 1000;
    histogram_add(&self->lateness, late_us > UINT32_MAX ? UINT32_MAX : (uint32_t)late_us, 1, false);
    s_finish_bursts(self, t);
    bool signal = self->nready > ready_before;
    pthread_mutex_unlock(&self->lock);
    if (signal) {
        uint64_t one = 1;
        if (write(self->eventfd, &one, sizeof one) < 0)
            log_limited(LOGL_WARN, "sampler:eventfd", "sampler: eventfd: %s", strerror(errno));
    }
}

static void *s_run(void *arg)
{
    sampler_t *self = arg;
    int64_t due = self->armed_ns + self->period_ns; /* the first expiration */
    while (!atomic_load(&self->stop)) {
        uint64_t expirations = 0;
        if (read(self->timerfd, &expirations, sizeof expirations) != sizeof expirations) {
            if (errno != EINTR)
                log_limited(LOGL_ERROR, "sampler:timerfd", "sampler: timerfd: %s", strerror(errno));
            continue;
        }
        int64_t woke = ts_mono_ns();
        due += (int64_t)(expirations - 1) * self->period_ns;
        s_tick(self, woke - due, expirations);
        due += self->period_ns;
    }
    return NULL;
}

sampler_t *sampler_new(const sampler_opts_t *opts, char *err, size_t errsz)
{
    sampler_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "sampler: out of memory");
        return NULL;
    }
    self->opts = *opts;
    self->timerfd = self->eventfd = -1;
    pthread_mutex_init(&self->lock, NULL);
    self->links = calloc(MAX_LINKS, sizeof *self->links);
    self->stats = calloc(MAX_LINKS, sizeof *self->stats);
    if (!self->links || !self->stats) {
        snprintf(err, errsz, "sampler: out of memory");
        goto fail;
    }
    if (!(self->nl = netlink_new(err, errsz)))
        goto fail;
    self->period_ns = opts->tick_ns;
    if (opts->backend == SAMPLER_EBPF) {
        if (!(self->ebpf = ebpf_new(opts->tick_ns, err, errsz)) ||
            !(self->ifindex = calloc(MAX_LINKS, sizeof *self->ifindex)))
            goto fail;
        self->period_ns = opts->tick_ns > EBPF_FOLD_NS ? opts->tick_ns : EBPF_FOLD_NS;
        /* A kernel that cannot attach at all (no tcx) is a reason to fall
         * back now, not a warning every second. */
        size_t failed;
        int n = s_track(self, &failed, err, errsz);
        if (n > 0 && failed == (size_t)n)
            goto fail;
    }
    self->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    self->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int64_t p = self->period_ns;
    struct itimerspec its = {{p / TS_NS_PER_S, p % TS_NS_PER_S}, {p / TS_NS_PER_S, p % TS_NS_PER_S}};
    self->armed_ns = ts_mono_ns();
    if (self->timerfd < 0 || self->eventfd < 0 || timerfd_settime(self->timerfd, 0, &its, NULL)) {
        snprintf(err, errsz, "sampler: timerfd/eventfd: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&self->thread, NULL, s_run, self) != 0) {
        snprintf(err, errsz, "sampler: cannot start the sampler thread");
        goto fail;
    }
    self->started = true;
    return self;
fail:
    sampler_destroy(&self);
    return NULL;
}

void sampler_destroy(sampler_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sampler_t *self = *self_p;
    if (self->started) {
        atomic_store(&self->stop, true);
        pthread_join(self->thread, NULL); /* the timerfd wakes it within a tick */
    }
    for (size_t i = 0; i < self->nlinks; i++) {
        recorder_destroy(&self->links[i].rec);
    }
    for (size_t i = 0; i < self->nready; i++)
        free(self->ready[i].profile);
    netlink_destroy(&self->nl);
    ebpf_destroy(&self->ebpf);
    free(self->ifindex);
    if (self->timerfd >= 0)
        close(self->timerfd);
    if (self->eventfd >= 0)
        close(self->eventfd);
    pthread_mutex_destroy(&self->lock);
    free(self->links);
    free(self->stats);
    free(self->pending);
    free(self->ready);
    free(self);
    *self_p = NULL;
}

const char *sampler_backend(const sampler_t *self)
{
    return self->ebpf ? "ebpf" : "netlink";
}

int sampler_fd(const sampler_t *self)
{
    return self->eventfd;
}

/* Closes the interval: one rate summary per interface and direction. */
static void s_take_rates(sampler_t *self, sampler_report_t *r)
{
    r->rates = calloc(self->nlinks * 2 + 1, sizeof *r->rates);
    if (!r->rates)
        return;
    for (size_t i = 0; i < self->nlinks; i++) {
        for (int d = 0; d < 2; d++) {
            link_state_t *l = &self->links[i];
            sampler_rate_t *rate = &r->rates[r->nrates++];
            snprintf(rate->iface, sizeof rate->iface, "%s", l->name);
            rate->tx = d == 1;
            rate->threshold_per_ms = l->threshold[d];
            rate->h = histogram_take(&l->hist[d]);
            /* The next interval's default threshold follows this one's median. */
            l->p50_per_ms[d] = (uint64_t)rate->h.p50 * TS_NS_PER_MS / (uint64_t)self->opts.tick_ns;
            s_set_threshold(self, l, d);
        }
    }
    histogram_summary_t late = histogram_take(&self->lateness);
    r->lateness_p50_ns = (int64_t)late.p50 * 1000;
    r->lateness_p99_ns = (int64_t)late.p99 * 1000;
}

sampler_report_t *sampler_take(sampler_t *self, bool interval)
{
    sampler_report_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    uint64_t drain;
    if (read(self->eventfd, &drain, sizeof drain) < 0 && errno != EAGAIN)
        log_limited(LOGL_WARN, "sampler:eventfd", "sampler: eventfd: %s", strerror(errno));
    pthread_mutex_lock(&self->lock);
    r->bursts = self->ready;
    r->nbursts = self->nready;
    self->ready = NULL;
    self->nready = self->capready = 0;
    if (interval)
        s_take_rates(self, r);
    if (interval && self->nreasons && (r->reasons = calloc(self->nreasons, sizeof *r->reasons))) {
        for (size_t i = 0; i < self->nreasons; i++) {
            snprintf(r->reasons[i].name, sizeof r->reasons[i].name, "%s", self->reasons[i].name);
            r->reasons[i].drops = self->reasons[i].drops;
        }
        r->nreasons = self->nreasons;
    }
    r->ticks = self->ticks;
    r->missed_ticks = self->missed;
    r->errors = self->errors;
    pthread_mutex_unlock(&self->lock);
    return r;
}

void sampler_report_destroy(sampler_report_t **report_p)
{
    if (!report_p || !*report_p)
        return;
    sampler_report_t *r = *report_p;
    for (size_t i = 0; i < r->nbursts; i++)
        free(r->bursts[i].profile);
    free(r->bursts);
    free(r->rates);
    free(r->reasons);
    free(r);
    *report_p = NULL;
}

void sampler_set_burst(sampler_t *self, uint64_t threshold_per_ms, int64_t gap_ns)
{
    /* Under the lock the sampler thread holds for a whole tick: a value
     * changes between two ticks, never while a detector is fed. */
    pthread_mutex_lock(&self->lock);
    self->opts.threshold_per_ms = threshold_per_ms;
    self->opts.gap_ns = gap_ns > self->opts.tick_ns ? gap_ns : self->opts.tick_ns;
    for (size_t l = 0; l < self->nlinks; l++) {
        link_state_t *link = &self->links[l];
        for (int d = 0; d < 2; d++) {
            s_set_threshold(self, link, d);
            link->burst[d].opts.gap_ns = self->opts.gap_ns;
        }
    }
    pthread_mutex_unlock(&self->lock);
}
