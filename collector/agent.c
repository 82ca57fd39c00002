/* agent: single-threaded apart from the sampler. Burst-triggered snapshots
 * are rate-limited (BURST_SNAPSHOT_GAP) so that a storm of bursts costs at
 * most a few snapshots a second; bursts wait until a snapshot taken after
 * their tail exists. Drops are attributed to a burst from the snapshots
 * whose interval overlaps its drop window (sampler.h): exact when nothing
 * else dropped in those intervals, an upper bound otherwise. */
#define _GNU_SOURCE
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "caps.h"
#include "clocksync.h"
#include "delivery.h"
#include "grow.h"
#include "uplink.h"
#include "log.h"
#include "notify.h"
#include "report.h"
#include "sockowner.h"
#include "source.h"
#include "state.h"
#include "stop.h"
#include "text.h"
#include "ts.h"
#include "version.h"

#define MAX_SERIES 50000
#define HISTORY 128                          /* snapshots remembered for attribution */
#define BURST_SNAPSHOT_GAP (50 * TS_NS_PER_MS) /* between burst-triggered snapshots */
#define TURN_MS 200 /* the loop turns at least this often: reloads, the watchdog */
#define STATUS_EVERY_NS (5 * TS_NS_PER_S) /* systemd's STATUS=: a few seconds is fresh enough */
#define PROBE_READINGS 7 /* series per probe (s_probe_readings) */

typedef struct {
    int64_t prev_ts, ts;                 /* the snapshot's interval */
    uint64_t drops[LAYER_COUNT];         /* non-overlapping drop deltas by layer */
} drops_at_t;

typedef struct {
    const agent_opts_t *o;
    report_id_t id;
    uplink_t *link;
    delivery_channel_t *channel;  /* the uplink's resend timer */
    delivery_t *delivery;         /* spool, resends, the state file's commit */
    clocksync_t clock;            /* offset to the aggregator, from acks */
    snapshot_t *snap;
    series_t *series;
    sampler_t *sampler;           /* NULL without a fast path */
    probe_t *probe;               /* NULL without --probe */
    char backend_note[300];       /* why the eBPF backend is not in use, when it was wanted */
    caps_degraded_t degraded[CAPS_MAX_DEGRADED]; /* features lost to missing capabilities */
    size_t ndegraded;
    uint64_t seq;                 /* last seq sent */
    uint64_t intervals;           /* interval batches sent */
    int64_t prev_ts;              /* time of the previous snapshot */
    int64_t interval_start;       /* where the last snapshot's interval starts (s_snapshot) */
    int64_t last_snap_mono;       /* monotonic time of the previous snapshot */
    bool want_all_defs;           /* the aggregator lost our definitions: send them all */
    uint64_t defs_seq;            /* the batch that carries them all, until it is answered */
    int64_t started_mono;         /* for the testing clock steps */
    int nsteps_done;
    drops_at_t history[HISTORY];  /* ring of recent snapshots' drops */
    size_t nhistory;
    sampler_burst_t *held;        /* finished bursts waiting for their snapshot */
    size_t nheld, capheld;
    int64_t last_ack_mono;        /* when the aggregator last acknowledged anything */
    size_t endpoint;              /* o->connect[endpoint] is the one in use */
    int64_t switched_mono;        /* when we last switched to it */
    int64_t failover_ns;          /* the wait for an ack before the next switch */
    size_t switches;              /* since the last ack: a round of the list doubles the wait */
    int64_t unheld_mono;          /* when no message was last waiting for an ack */
    bool silent;                  /* we have warned that acks stopped */
    sampler_opts_t burst;         /* --burst-threshold and --burst-gap in use (a reload sets) */
    bool ready;                   /* systemd was told READY=1 */
    int64_t last_status;          /* monotonic time of the last STATUS= */
} agent_t;

static void s_send_hello(agent_t *a)
{
    /* Text as the aggregator takes it (text.h): the note holds error
     * messages of any length, and the release string is the kernel's. */
    char kernel[TEXT_MAX + 1], note[TEXT_MAX + 1];
    text_escape(snapshot_kernel(a->snap), kernel, sizeof kernel);
    text_escape(a->backend_note, note, sizeof note);
    const char *degraded[CAPS_MAX_DEGRADED];
    for (size_t i = 0; i < a->ndegraded; i++)
        degraded[i] = a->degraded[i].text;
    hello_t hello = {version_string(),
                     kernel,
                     a->sampler ? sampler_backend(a->sampler) : "none",
                     (uint32_t)sysconf(_SC_NPROCESSORS_ONLN),
                     a->o->interval_ns,
                     ts_now_ns(),
                     note,
                     a->ndegraded,
                     degraded};
    uint8_t *buf;
    size_t len;
    char err[256];
    a->seq++;
    if (report_hello(&a->id, a->seq, &hello, &buf, &len, err, sizeof err) == 0)
        delivery_send(a->delivery, a->id.incarnation, a->seq, 0, &buf, len, NULL, 0);
    else
        log_error("collector: cannot encode hello: %s", err);
}

/* After a snapshot: remember its drops by layer. */
static void s_scan_series(void *ctx, series_entry_t *e)
{
    drops_at_t *at = ctx;
    if (e->cls.kind == KIND_COUNTER && layer_is_drop(e->cls.layer) && !e->cls.overlap &&
        e->delta > 0)
        at->drops[e->cls.layer] += (uint64_t)e->delta;
}

/* Sampler summaries as readings: rate/<iface>/{rx,tx}_{max,p99,p50,over},
 * sampler//{ticks,missed_ticks,errors,lateness_p50_us,lateness_p99_us} and,
 * with the eBPF backend, reason//<REASON> (running totals of drops). */
static size_t s_sampler_readings(const sampler_report_t *r, reading_t *out)
{
    static const char *const names[2][5] = {
        {"rx_max", "rx_p99", "rx_p50", "rx_over", "rx_threshold"},
        {"tx_max", "tx_p99", "tx_p50", "tx_over", "tx_threshold"}};
    size_t n = 0;
    for (size_t i = 0; i < r->nrates; i++) {
        const sampler_rate_t *rt = &r->rates[i];
        const char *const *nm = names[rt->tx];
        uint64_t v[5] = {rt->h.max, rt->h.p99, rt->h.p50, rt->h.over, rt->threshold_per_ms};
        for (int k = 0; k < 5; k++)
            out[n++] = (reading_t){source_name(SOURCE_RATE), rt->iface, nm[k], v[k], 0};
    }
    const char *smp = source_name(SOURCE_SAMPLER);
    out[n++] = (reading_t){smp, "", "ticks", r->ticks, 0};
    out[n++] = (reading_t){smp, "", "missed_ticks", r->missed_ticks, 0};
    out[n++] = (reading_t){smp, "", "errors", r->errors, 0};
    out[n++] = (reading_t){smp, "", "lateness_p50_us", (uint64_t)r->lateness_p50_ns / 1000, 0};
    out[n++] = (reading_t){smp, "", "lateness_p99_us", (uint64_t)r->lateness_p99_ns / 1000, 0};
    for (size_t i = 0; i < r->nreasons; i++)
        out[n++] = (reading_t){source_name(SOURCE_REASON), "", r->reasons[i].name,
                               r->reasons[i].drops, 0};
    return n;
}

/* Where the interval of a snapshot read at ts (wall) and mono starts on
 * the wall clock: at the previous snapshot, unless the wall clock stepped
 * back since. Then the interval the monotonic clock measured, ending at ts:
 * its drops happened, and an interval that ends before it starts would be
 * refused with them. */
static int64_t s_interval_start(agent_t *a, int64_t ts, int64_t mono)
{
    if (ts >= a->prev_ts)
        return a->prev_ts;
    int64_t measured = a->last_snap_mono ? mono - a->last_snap_mono : a->o->interval_ns;
    log_limited(LOGL_WARN, "clock:back", "collector: the wall clock went back %lld ms since the "
                "last snapshot; its interval is stamped as the %lld ms the monotonic clock "
                "measured, ending now, and no drop is lost", (long long)((a->prev_ts - ts) / TS_NS_PER_MS),
                (long long)(measured / TS_NS_PER_MS));
    return ts - measured > 0 ? ts - measured : 0;
}

/* The probes' counters as readings: probe/GROUP:PORT/NAME. */
static size_t s_probe_readings(const probe_report_t *r, reading_t *out)
{
    size_t n = 0;
    const char *src = source_name(SOURCE_PROBE);
    for (size_t i = 0; i < r->nstats; i++) {
        const probe_stat_t *p = &r->stats[i];
        const char *names[PROBE_READINGS] = {"received", "missing",  "reordered", "duplicates",
                                             "restarts", "short",    "gaps_lost"};
        uint64_t v[PROBE_READINGS] = {p->counts.received,   p->counts.missing,
                                      p->counts.reordered,  p->counts.duplicates,
                                      p->counts.restarts,   p->short_datagrams,
                                      p->gaps_lost};
        for (int k = 0; k < PROBE_READINGS; k++)
            out[n++] = (reading_t){src, p->name, names[k], v[k], 0};
    }
    return n;
}

static int64_t s_snapshot(agent_t *a, const sampler_report_t *rates, const probe_report_t *probes)
{
    reading_t *extra = NULL;
    size_t nextra = 0, nrates = rates ? rates->nrates * 5 + 5 + rates->nreasons : 0;
    size_t nprobes = probes ? probes->nstats * PROBE_READINGS : 0;
    if ((nrates || nprobes) && (extra = calloc(nrates + nprobes, sizeof *extra))) {
        nextra = rates ? s_sampler_readings(rates, extra) : 0;
        nextra += probes ? s_probe_readings(probes, extra + nextra) : 0;
    }
    int64_t ts = snapshot_collect(a->snap, a->series, extra, nextra);
    free(extra);
    int64_t mono = ts_mono_ns();
    a->interval_start = s_interval_start(a, ts, mono);
    a->last_snap_mono = mono;
    drops_at_t *at = &a->history[a->nhistory++ % HISTORY];
    *at = (drops_at_t){.prev_ts = a->interval_start, .ts = ts};
    series_each(a->series, s_scan_series, at);
    return ts;
}

/* The drops of the remembered snapshots overlapping the burst and its tail. */
static void s_attribute(const agent_t *a, const sampler_burst_t *b, uint64_t *drops)
{
    int64_t from = b->drops_from_ns, to = b->drops_to_ns;
    size_t n = a->nhistory < HISTORY ? a->nhistory : HISTORY;
    for (size_t i = 0; i < n; i++) {
        const drops_at_t *h = &a->history[i];
        if (h->prev_ts < to && h->ts > from)
            for (int l = 0; l < LAYER_COUNT; l++)
                drops[l] += h->drops[l];
    }
}

/* The clock fields of a batch: our offset estimate and the kernel's view. */
static clock_msg_t s_clock(const agent_t *a)
{
    clocksync_estimate_t e = clocksync_estimate(&a->clock);
    clocksync_status_t st = {0};
    clocksync_status(&st);
    return (clock_msg_t){e.valid, e.offset_ns, e.rtt_ns, st.synced, st.maxerror_ns,
                         st.esterror_ns};
}

/* The probes' gaps as wire gaps (pointing into r). */
static gap_msg_t *s_gaps(const probe_report_t *r)
{
    gap_msg_t *gaps = calloc(r ? r->ngaps + 1 : 1, sizeof *gaps);
    for (size_t i = 0; gaps && r && i < r->ngaps; i++) {
        const probe_gap_t *g = &r->gaps[i];
        gaps[i] = (gap_msg_t){g->group,         g->port,           g->gap.start_ns,
                              g->gap.end_ns,    g->gap.missing,    g->gap.first_seq,
                              g->gap.last_seq};
    }
    return gaps;
}

static void s_send_batch(agent_t *a, const sampler_report_t *rates, bool interval)
{
    /* The gaps reported so far go with this batch (spooled with it: exact
     * delivery), the counters only with an interval's. */
    probe_report_t *probes = a->probe ? probe_take(a->probe) : NULL;
    int64_t ts = s_snapshot(a, rates, interval ? probes : NULL);
    gap_msg_t *gaps = s_gaps(probes);
    bool full = interval && a->intervals % (uint64_t)a->o->full_every == 0;
    burst_msg_t *bursts = calloc(a->nheld + 1, sizeof *bursts);
    size_t nb = 0;
    for (size_t i = 0; bursts && i < a->nheld; i++) {
        const sampler_burst_t *b = &a->held[i];
        burst_msg_t *m = &bursts[nb++];
        *m = (burst_msg_t){b->iface, b->tx, b->ev.start_ns, b->ev.end_ns, b->ev.peak_per_ms,
                           b->ev.packets, b->ev.bytes, b->threshold_per_ms, {0},
                           b->profile_start_ns, b->tick_ns, b->nprofile, b->profile,
                           b->profile_complete};
        if (b->exact_drops) /* the kernel's drop reasons, tick by tick */
            for (int l = 0; l < LAYER_COUNT; l++)
                m->drops[l] = b->drops[l];
        else
            s_attribute(a, b, m->drops);
    }
    uint8_t *buf;
    size_t len, nsamples = 0;
    char err[256];
    a->seq++;
    spool_stats_t spool = delivery_stats(a->delivery);
    report_batch_t rb = {.seq = a->seq,
                         .ts_ns = ts,
                         .prev_ts_ns = a->interval_start,
                         .full = full,
                         .all_defs = a->want_all_defs,
                         .bursts = bursts,
                         .nbursts = nb,
                         .gaps = gaps,
                         .ngaps = gaps && probes ? probes->ngaps : 0,
                         .spool_dropped_messages = spool.dropped_messages,
                         .spool_dropped_samples = spool.dropped_samples,
                         .spool_rejected_messages = spool.rejected_messages,
                         .spool_rejected_samples = spool.rejected_samples,
                         .clock = s_clock(a)};
    if (a->want_all_defs) { /* the deferred batches go again once this one is stored */
        a->want_all_defs = false;
        a->defs_seq = a->seq;
    }
    if (report_batch(a->series, &a->id, &rb, &buf, &len, &nsamples, err, sizeof err) == 0) {
        /* With a spool, the values this batch was computed from are committed with it. */
        state_head_t head = {.incarnation = a->id.incarnation, .seq = a->seq, .ts_ns = ts};
        snprintf(head.boot_id, sizeof head.boot_id, "%s", a->id.boot_id);
        size_t nstate = 0;
        char *state = a->o->spool_dir ? state_encode(&head, a->series, &nstate, err, sizeof err)
                                      : NULL;
        if (a->o->spool_dir && !state)
            log_limited(LOGL_WARN, "state", "collector: %s; a restart will not continue from "
                        "this batch", err);
        delivery_send(a->delivery, a->id.incarnation, a->seq, (uint32_t)nsamples, &buf, len, state,
                      nstate);
        free(state);
        log_debug("collector: batch %llu: %zu samples, %zu bursts, %zu gaps, %zu bytes%s",
                  (unsigned long long)a->seq, nsamples, nb, rb.ngaps, len, full ? " (full)" : "");
    } else {
        log_error("collector: cannot encode batch %llu: %s", (unsigned long long)a->seq, err);
    }
    for (size_t i = 0; i < a->nheld; i++)
        free(a->held[i].profile);
    a->nheld = 0;
    free(bursts);
    free(gaps);
    probe_report_destroy(&probes);
    a->prev_ts = ts;
    if (interval)
        a->intervals++;
}

/* Moves a sampler report's bursts into the held list (taking their profiles). */
static void s_hold(agent_t *a, sampler_report_t *r)
{
    sampler_burst_t *held = grow(a->held, a->nheld + r->nbursts, &a->capheld, sizeof *held, 16);
    if (!held) {
        log_limited(LOGL_WARN, "agent:oom", "collector: out of memory; %zu bursts lost",
                    r->nbursts);
        return;
    }
    a->held = held;
    for (size_t i = 0; i < r->nbursts; i++) {
        a->held[a->nheld++] = r->bursts[i];
        r->bursts[i].profile = NULL; /* now ours */
    }
}

/* Warns once when the aggregator has not acknowledged anything for a
 * while (it is down, unreachable, or the endpoint is wrong). */
static void s_check_silence(agent_t *a)
{
    int64_t quiet = ts_mono_ns() - a->last_ack_mono;
    int64_t limit = 10 * a->o->interval_ns > 10 * TS_NS_PER_S ? 10 * a->o->interval_ns
                                                               : 10 * TS_NS_PER_S;
    if (!a->silent && quiet > limit) {
        a->silent = true;
        log_warn("collector: no acknowledgement from the aggregator at %s for %lld s (is it "
                 "running and reachable, with our key in its --allow directory? unacknowledged "
                 "batches wait %s)", uplink_endpoint(a->link), (long long)(quiet / TS_NS_PER_S),
                 a->o->spool_dir ? "in the spool" : "in memory, up to 1000");
    }
}

/* With several --connect endpoints: when messages have waited
 * AGENT_FAILOVER_NS for an ack from the aggregator in use (since the last
 * ack, the last switch, or the last turn of the loop on which nothing
 * waited, at most TURN_MS before the oldest was sent), the next one
 * of the list takes over. What was in flight goes to it again (the store
 * keeps a message once, whichever aggregator got it), after a hello: it
 * may not know us. */
static void s_check_failover(agent_t *a)
{
    int64_t now = ts_mono_ns();
    if (a->o->nconnect < 2 || delivery_held(a->delivery) == 0) {
        a->unheld_mono = now;
        return;
    }
    int64_t since = a->last_ack_mono > a->switched_mono ? a->last_ack_mono : a->switched_mono;
    since = a->unheld_mono > since ? a->unheld_mono : since;
    if (now - since < a->failover_ns)
        return;
    /* None answered in a whole round: the next round waits twice as long
     * (up to a minute), rather than resending everything every 5 s. */
    if (++a->switches % a->o->nconnect == 0)
        a->failover_ns = a->failover_ns * 2 > AGENT_FAILOVER_MAX_NS ? AGENT_FAILOVER_MAX_NS
                                                                   : a->failover_ns * 2;
    const char *from = a->o->connect[a->endpoint];
    a->endpoint = (a->endpoint + 1) % a->o->nconnect;
    a->switched_mono = now;
    char err[256];
    if (uplink_switch(a->link, a->o->connect[a->endpoint], err, sizeof err) != 0) {
        log_limited(LOGL_ERROR, "failover", "collector: %s; trying the next in %lld s", err,
                    (long long)(a->failover_ns / TS_NS_PER_S));
        return;
    }
    log_limited(LOGL_WARN, "failover", "collector: no acknowledgement from %s for %lld s; "
                "sending to %s now, %zu messages waiting", from,
                (long long)((now - since) / TS_NS_PER_S), a->o->connect[a->endpoint],
                delivery_held(a->delivery));
    a->silent = false; /* the warning of silence is about the new one from here on */
    delivery_channel_restart(a->channel);
    s_send_hello(a);
}

/* ACK_NEED_DEFS: the aggregator lost our series definitions (its database
 * was replaced, say). The batch waits in the spool while the next one
 * carries every definition, and goes again once that one is stored. A
 * previous run's batch cannot be helped: its ids went with it. */
static void s_need_defs(agent_t *a, const msg_t *msg, bool ours)
{
    if (!ours) {
        log_limited(LOGL_ERROR, "lost-defs", "collector: the aggregator no longer knows the series "
                    "of a previous run; its message %llu cannot be stored and is counted as "
                    "rejected", (unsigned long long)msg->ack.seq);
        delivery_rejected(a->delivery, msg->incarnation, msg->ack.seq);
        return;
    }
    delivery_defer(a->delivery, msg->incarnation, msg->ack.seq);
    if (a->defs_seq || a->want_all_defs)
        return; /* already on their way */
    log_warn("collector: the aggregator at %s does not have our series definitions (its "
             "database was replaced, or we failed over to it; batch %llu not stored); sending "
             "them all, then the batches that need them", uplink_endpoint(a->link),
             (unsigned long long)msg->ack.seq);
    series_unack_defs(a->series);
    a->want_all_defs = true;
}

static void s_on_reply(agent_t *a, msg_t *msg)
{
    if (msg->type != MSG_TYPE_ACK) {
        log_limited(LOGL_WARN, "reply", "collector: unexpected %s from the aggregator; ignored",
                    codec_type_name(msg->type));
        return;
    }
    a->last_ack_mono = ts_mono_ns();
    a->failover_ns = AGENT_FAILOVER_NS;
    a->switches = 0;
    clocksync_add(&a->clock, msg->ack.t1_ns, msg->ack.t2_ns, msg->ack.t3_ns,
                  ts_now_ns() + a->o->test_rtt_extra_ns);
    if (a->silent) {
        a->silent = false;
        log_info("collector: the aggregator at %s acknowledges", uplink_endpoint(a->link));
    }
    /* Acks name the incarnation that sent the message: after a restart the
     * spool replays the previous run's messages first. */
    bool ours = msg->incarnation == a->id.incarnation;
    char why[TEXT_MAX + 1];
    switch (msg->ack.status) {
    case ACK_STORED:
        delivery_acked(a->delivery, msg->incarnation, msg->ack.seq);
        if (ours)
            series_ack_defs(a->series, msg->ack.seq);
        break;
    case ACK_NEED_DEFS:
        break; /* below, once a round of definitions this ends is over */
    default:
        text_escape(msg->ack.error, why, sizeof why);
        log_limited(LOGL_ERROR, "rejected", "collector: the aggregator rejected message %llu "
                    "(counted, not sent again): %s", (unsigned long long)msg->ack.seq, why);
        delivery_rejected(a->delivery, msg->incarnation, msg->ack.seq);
        break;
    }
    /* The batch carrying every definition was answered: the deferred go
     * again (if it was refused, they come back NEED_DEFS for a new round). */
    if (ours && a->defs_seq && msg->ack.seq == a->defs_seq) {
        a->defs_seq = 0;
        delivery_release(a->delivery);
    }
    if (msg->ack.status == ACK_NEED_DEFS)
        s_need_defs(a, msg, ours);
}

/* TESTING ONLY: the wall clock steps of --test-clock-step that are due. */
static void s_test_clock_steps(agent_t *a)
{
    while (a->nsteps_done < a->o->ntest_clock_steps) {
        const agent_clock_step_t *st = &a->o->test_clock_steps[a->nsteps_done];
        if (ts_mono_ns() - a->started_mono < st->after_ns)
            return;
        ts_step_for_testing(st->by_ns);
        log_info("collector: TESTING: the wall clock stepped by %lld ms",
                 (long long)(st->by_ns / TS_NS_PER_MS));
        a->nsteps_done++;
    }
}

sampler_t *agent_start_sampler(const agent_opts_t *o, char *note, size_t notesz, char *err,
                               size_t errsz)
{
    sampler_opts_t so = o->sampler;
    if (o->backend == AGENT_BACKEND_AUTO || o->backend == AGENT_BACKEND_EBPF) {
        so.backend = SAMPLER_EBPF;
        sampler_t *s = sampler_new(&so, err, errsz);
        if (s)
            return s;
        snprintf(note, notesz, "ebpf: %s", err);
        if (o->backend == AGENT_BACKEND_EBPF)
            log_warn("collector: the eBPF backend is unavailable: %s; using netlink", err);
        else
            log_info("collector: the eBPF backend is unavailable (%s); using netlink", err);
    }
    so.backend = SAMPLER_NETLINK;
    if (so.tick_ns < TS_NS_PER_MS) {
        log_warn("collector: --tick %lld us is finer than netlink polling should go; using 1 ms",
                 (long long)(so.tick_ns / 1000));
        so.tick_ns = TS_NS_PER_MS;
        so.gap_ns = so.gap_ns < 5 * TS_NS_PER_MS ? 5 * TS_NS_PER_MS : so.gap_ns;
    }
    return sampler_new(&so, err, errsz);
}

/* The features that run degraded for want of a capability, from our
 * effective set and what failed here (caps.h): logged once, each with its
 * fix, and kept for every Hello. */
static void s_degraded(agent_t *a)
{
    char err[256];
    caps_t caps;
    if (caps_current(&caps, err, sizeof err) != 0) {
        log_warn("collector: cannot read our capabilities (%s): degraded features are not "
                 "reported", err);
        return;
    }
    caps_facts_t facts = {
        .ebpf_wanted = a->o->backend == AGENT_BACKEND_AUTO || a->o->backend == AGENT_BACKEND_EBPF,
        .ebpf_loaded = a->sampler && strcmp(sampler_backend(a->sampler), "ebpf") == 0,
        .owners_refused = sockowner_refused(a->o->snap.procfs)};
    a->ndegraded = caps_degraded(&caps, &facts, a->degraded, CAPS_MAX_DEGRADED);
    for (size_t i = 0; i < a->ndegraded; i++)
        log_warn("collector: degraded: %s; run with AmbientCapabilities=%s or as root",
                 a->degraded[i].text, a->degraded[i].missing);
}

static int s_start(agent_t *a)
{
    char err[256];
    const agent_opts_t *o = a->o;
    a->snap = snapshot_new(&o->snap);
    a->series = series_new(MAX_SERIES);
    if (!a->snap || !a->series) {
        log_error("collector: out of memory");
        return -1;
    }
    uplink_security_t sec = {o->cert, o->server_cert};
    delivery_opts_t dopts = {.spool_dir = o->spool_dir, .spool_size = o->spool_size};
    snprintf(err, sizeof err, "out of memory"); /* the channel's only failure */
    if (!(a->link = uplink_new(o->connect[0], o->cert ? &sec : NULL, o->spool_dir != NULL, err,
                             sizeof err)) ||
        !(a->channel = delivery_channel_new(a->link)) ||
        !(a->delivery = delivery_new(a->channel, &dopts, err, sizeof err))) {
        log_error("collector: %s", err);
        return -1;
    }
    if (!o->spool_dir)
        log_warn("collector: no --spool: batches not yet acknowledged are lost if the collector "
                 "restarts or the aggregator is away for long; pass --spool DIR");
    if (o->backend != AGENT_BACKEND_NONE &&
        !(a->sampler = agent_start_sampler(o, a->backend_note, sizeof a->backend_note, err,
                                           sizeof err))) {
        log_error("collector: %s (run with --backend none to go without burst detection)", err);
        return -1;
    }
    if (o->nprobes && !(a->probe = probe_new(o->probes, o->nprobes, err, sizeof err))) {
        log_error("collector: %s", err);
        return -1;
    }
    s_degraded(a);
    uint64_t incarnation;
    if (getrandom(&incarnation, sizeof incarnation, 0) != sizeof incarnation)
        incarnation = (uint64_t)ts_now_ns();
    a->id = (report_id_t){o->host, snapshot_boot_id(a->snap), incarnation};
    const char *saved = delivery_restore(a->delivery); /* the state file, with a spool */
    a->prev_ts = saved ? state_restore(saved, a->id.boot_id, a->series) : 0;
    if (!o->cert)
        log_warn("collector: --insecure: sending in plain text, unauthenticated");
    log_info("collector: host %s, boot %s, sending every %lld ms to %s (%s; %zu more to fail over "
             "to); burst detection: %s backend",
             o->host, a->id.boot_id, (long long)(o->interval_ns / TS_NS_PER_MS), o->connect[0],
             o->cert ? "CurveZMQ" : "plain text", o->nconnect - 1,
             a->sampler ? sampler_backend(a->sampler) : "off");
    return 0;
}

/* What systemctl status shows, with READY=1 once we serve and after a reload. */
static void s_status(agent_t *a, bool ready)
{
    char status[400];
    snprintf(status, sizeof status, "sending to %s every %lld ms, backend %s; %llu intervals sent",
             uplink_endpoint(a->link), (long long)(a->o->interval_ns / TS_NS_PER_MS),
             a->sampler ? sampler_backend(a->sampler) : "none", (unsigned long long)a->intervals);
    if (ready)
        notify_ready("%s", status);
    else
        notify_status("%s", status);
    a->last_status = ts_mono_ns();
}

/* A SIGHUP's reload (the sampler takes new burst options between two
 * ticks, under its lock), systemd's watchdog and status: every turn. */
static void s_service(agent_t *a)
{
    if (stop_take_reload() && a->o->reload) {
        notify_reloading();
        sampler_opts_t burst = a->burst;
        a->o->reload(a->o->reload_ctx, &burst);
        if (a->sampler && (burst.threshold_per_ms != a->burst.threshold_per_ms ||
                           burst.gap_ns != a->burst.gap_ns))
            sampler_set_burst(a->sampler, burst.threshold_per_ms, burst.gap_ns);
        a->burst = burst;
        if (a->ready)
            s_status(a, true);
    }
    notify_watchdog();
    if (a->ready && ts_mono_ns() - a->last_status >= STATUS_EVERY_NS)
        s_status(a, false);
}

int agent_run(const agent_opts_t *o, volatile sig_atomic_t *stop)
{
    agent_t a = {.o = o, .burst = o->sampler, .failover_ns = AGENT_FAILOVER_NS};
    int rc = 1;
    if (s_start(&a) != 0)
        goto out;
    s_send_hello(&a);
    int64_t next = ts_mono_ns();
    a.last_ack_mono = a.started_mono = a.switched_mono = a.unheld_mono = next;
    while (!*stop) {
        s_service(&a);
        s_check_failover(&a); /* every turn: it sees when nothing waits */
        s_test_clock_steps(&a);
        int64_t now = ts_mono_ns();
        if (now >= next) {
            sampler_report_t *r = a.sampler ? sampler_take(a.sampler, true) : NULL;
            if (r)
                s_hold(&a, r);
            s_send_batch(&a, r, true);
            sampler_report_destroy(&r);
            if (!a.ready) { /* the uplink is up and the first snapshot sent */
                a.ready = true;
                s_status(&a, true);
            }
            s_check_silence(&a);
            next += o->interval_ns;
            if (next < now) /* we fell behind (suspended?): skip, do not burst */
                next = now + o->interval_ns;
            continue;
        }
        int64_t wake = next, resend = now + (int64_t)delivery_tick(a.delivery) * TS_NS_PER_MS;
        wake = resend < wake ? resend : wake;
        int64_t turn = now + notify_wait_ms(TURN_MS) * TS_NS_PER_MS;
        wake = turn < wake ? turn : wake;
        if (a.nheld > 0) { /* bursts wait for the next allowed snapshot */
            int64_t allowed = a.last_snap_mono + BURST_SNAPSHOT_GAP;
            if (allowed <= now) {
                s_send_batch(&a, NULL, false);
                continue;
            }
            wake = allowed < wake ? allowed : wake;
        }
        /* One directory fsync for everything spooled since the last wait
         * (an interval's batch, the burst snapshots and definitions sent
         * with it): each message's data was synced when it was pushed. */
        delivery_sync(a.delivery);
        bool woken = false;
        msg_t *msg = uplink_recv(a.link, (int)((wake - now + 999999) / TS_NS_PER_MS),
                               a.sampler ? sampler_fd(a.sampler) : -1, &woken);
        if (msg)
            s_on_reply(&a, msg);
        codec_msg_destroy(&msg);
        if (woken) {
            sampler_report_t *r = sampler_take(a.sampler, false);
            if (r)
                s_hold(&a, r);
            sampler_report_destroy(&r);
        }
    }
    notify_stopping();
    log_info("collector: stopping after %llu intervals", (unsigned long long)a.intervals);
    rc = 0;
out:
    sampler_destroy(&a.sampler);
    probe_destroy(&a.probe);
    for (size_t i = 0; i < a.nheld; i++)
        free(a.held[i].profile);
    free(a.held);
    delivery_destroy(&a.delivery);
    delivery_channel_destroy(&a.channel);
    uplink_destroy(&a.link);
    series_destroy(&a.series);
    snapshot_destroy(&a.snap);
    return rc;
}
