/* dropscope-fleetsim: a fleet of simulated collectors on the collector's own
 * code, for load tests and benchmarks of the aggregator (docs/ARCHITECTURE.md, Interfaces).
 * Each host (model.c) feeds a series registry (collector/series.c) as a
 * collector's snapshots do, builds its Hello and Batch messages with the
 * collector's report.c, and sends them through its own delivery
 * (collector/delivery.c: the window, acks, resends, deferrals; held in
 * memory, no spool): a hello, then one batch per interval, in real time
 * staggered over the interval, or with --replay a backlog of --seconds
 * intervals as fast as acknowledgements allow. Hosts share DEALER sockets
 * (the aggregator tells them apart by the envelope, as it does
 * collectors), and the deliveries on a socket share its channel: one
 * resend timer, which any ack on the socket resets (an aggregator working
 * through a queue longer than the timeout, a fleet's first definitions,
 * still acks something on every socket, so nothing is resent for nothing),
 * and one full queue. Few sockets, so that a full socket queue holds the
 * fleet back instead of queueing seconds of work in the aggregator, and
 * enough that each one's messages in flight fit the acks the aggregator
 * queues for one peer.
 * Progress goes to stderr every second; the totals to stdout, ending with
 * "sent_samples N". The ack latency of a batch runs from when it is made
 * (a batch waiting for a full socket is late too). Exit codes: 0 ok, 1
 * runtime failure (a batch was refused or never acknowledged), 2 bad
 * usage. */
#define _GNU_SOURCE
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "bytes.h"
#include "delivery.h"
#include "histogram.h"
#include "log.h"
#include "model.h"
#include "report.h"
#include "series.h"
#include "stop.h"
#include "ts.h"
#include "uplink.h"
#include "version.h"

#define WINDOW 8             /* batches in flight per host */
#define SOCKETS 16           /* by default; more when their hosts' windows would not fit: */
#define PIPE_MESSAGES 10000  /* acks the aggregator queues per peer (INGEST_ACK_HWM) */
#define HOST_BITS 24         /* low bits of an incarnation: the host's index */
#define DRAIN_NS (30 * TS_NS_PER_S) /* how long to wait for the last acks */
/* How often every host's delivery is ticked. Sends, acks and deferrals
 * move a delivery at once; a tick is for what waits on a clock: a full
 * socket (a thousand messages, tens of ms of the aggregator's work) or a
 * resend timeout (seconds). Ticked on every pass, 10,000 hosts' deliveries
 * took a tenth of fleetsim's CPU. */
#define TICK_NS (5 * TS_NS_PER_MS)
#define PENDING (WINDOW + 1) /* held per host: the window, and a batch of all definitions */
#define BOOT_ID "00000000-0000-4000-8000-fleetsim0000"

/* A message of a host not answered yet (as its delivery holds it), for the
 * window of batches it makes, the totals and the latency. */
typedef struct {
    uint64_t seq;
    int64_t made_mono; /* when it was made */
    uint32_t nsamples;
} pending_t;

typedef struct {
    char name[32];
    report_id_t id;         /* name, BOOT_ID, its incarnation */
    model_t *model;
    series_t *series;       /* its registry, as a collector's */
    delivery_t *delivery;   /* its window, acks and resends */
    size_t link;            /* its socket */
    uint64_t seq;           /* last seq used */
    uint64_t intervals;     /* batches made */
    int64_t start_mono;     /* when it says hello (--ramp spreads these) */
    bool started;
    int64_t next_mono;      /* real time: when the next batch is due */
    bool defs_acked;        /* a batch was stored, so its definitions are known */
    bool snapped;           /* the registry holds a snapshot no batch has reported yet */
    const burst_msg_t *burst; /* its burst (the model's), or NULL */
    bool want_all_defs;     /* ACK_NEED_DEFS: the next batch carries every definition */
    uint64_t defs_seq;      /* the batch that carries them, until it is answered */
    pending_t pending[PENDING];
    size_t npending;
} host_t;

typedef struct {
    const char *connect, *cert, *server_cert, *prefix;
    const char *record;     /* --record FILE, or NULL */
    uint32_t hosts, sockets;
    int64_t seconds, interval_ns, ramp_ns;
    int64_t sync_every;     /* --sync-bursts: every this many intervals; 0 none */
    bool replay, insecure;
} opts_t;

typedef struct {
    opts_t o;
    host_t *hosts;
    uplink_t **links;
    delivery_channel_t **channels; /* by socket: its resend timer and full queue */
    reading_t *readings;           /* a host's step, model_series() of them */
    FILE *record;                  /* --record: every message as first sent, or NULL */
    int64_t start_mono, start_real;
    int64_t tick_mono;             /* when every delivery is ticked next */
    uint64_t sent_batches, sent_samples, acked_batches, acked_samples, need_defs, rejected;
    size_t backlog, backlog_max;   /* messages held, over the hosts */
    histogram_t latency_ms; /* ack latency of batches, ms */
    histogram_t latency_1s; /* the same, this second (for the progress line) */
    histogram_t latency_steady; /* of batches sent once every host had started */
} sim_t;

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: dropscope-fleetsim --connect ENDPOINT --hosts N --seconds S [--replay]\n"
            "                          (--insecure | --cert PATH_secret --server-cert PATH) [options]\n"
            "\n"
            "Simulates N collectors (realistic series, drops and bursts) sending to a\n"
            "dropscope-aggregator over ZeroMQ, and reports what was sent and acknowledged.\n"
            "\n"
            "  --connect ENDPOINT    the aggregator, e.g. tcp://127.0.0.1:7420 or ipc:///tmp/ds.sock\n"
            "  --hosts N             simulated hosts (1 to 16777216)\n"
            "  --seconds S           real time: run S seconds; --replay: S intervals of backlog\n"
            "  --replay              send each host's backlog as fast as acks allow (%d in flight)\n"
            "  --interval DURATION   reporting interval of every host (default 1s)\n"
            "  --ramp DURATION       start the hosts one by one over this time (default 0: at\n"
            "                        once, as after an outage of the whole fleet); latency is also\n"
            "                        reported for what was sent after the ramp\n"
            "  --sockets K           DEALER sockets the hosts share (default %d, or more so that\n"
            "                        each has at most %d messages in flight: the acks the\n"
            "                        aggregator queues for one peer)\n"
            "  --prefix NAME         host names are NAME-<index> (default sim)\n"
            "  --sync-bursts N       every N intervals, every fourth host bursts at the same\n"
            "                        instant, mid-interval (an incident of a quarter of the\n"
            "                        fleet), besides the bursts each host has on its own;\n"
            "                        in real time on the wall clock's grid, so that separate\n"
            "                        fleetsims' bursts fall together\n"
            "  --record FILE         write every message, as first sent, to FILE (a 4-byte\n"
            "                        little-endian length, then the frame): the same run can\n"
            "                        be sent to another aggregator again (tests/tools/zreplay)\n"
            "  --insecure            plain text; else --cert and --server-cert (CurveZMQ)\n"
            "  --help                this text\n"
            "  --version             the version, and the git commit it was built from\n",
            WINDOW, SOCKETS, PIPE_MESSAGES);
}

static int s_parse(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {
        {"connect", required_argument, NULL, 'c'},  {"hosts", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 's'},  {"replay", no_argument, NULL, 'r'},
        {"interval", required_argument, NULL, 'i'}, {"sockets", required_argument, NULL, 'k'},
        {"prefix", required_argument, NULL, 'p'},   {"insecure", no_argument, NULL, 'I'},
        {"cert", required_argument, NULL, 'C'},     {"server-cert", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},           {"ramp", required_argument, NULL, 'R'},
        {"version", no_argument, NULL, 'V'},        {"record", required_argument, NULL, 'o'},
        {"sync-bursts", required_argument, NULL, 'B'},
        {NULL, 0, NULL, 0}};
    *o = (opts_t){.interval_ns = TS_NS_PER_S, .prefix = "sim"};
    long long n;
    char *end;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->connect = optarg; break;
        case 'r': o->replay = true; break;
        case 'p': o->prefix = optarg; break;
        case 'o': o->record = optarg; break;
        case 'I': o->insecure = true; break;
        case 'C': o->cert = optarg; break;
        case 'S': o->server_cert = optarg; break;
        case 'h': s_usage(stdout); exit(0);
        case 'V': version_print(stdout, "dropscope-fleetsim"); exit(0);
        case 'B':
        case 'n':
        case 's':
        case 'k':
            n = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end || n < 1 || n > (c == 'n' ? 1 << HOST_BITS : 1000000)) {
                fprintf(stderr, "dropscope-fleetsim: --%s '%s' must be a positive integer%s\n",
                        c == 'n' ? "hosts" : c == 's' ? "seconds" : c == 'B' ? "sync-bursts" : "sockets", optarg,
                        c == 'n' ? " up to 16777216" : " up to 1000000");
                return 2;
            }
            if (c == 'n')
                o->hosts = (uint32_t)n;
            else if (c == 's')
                o->seconds = n;
            else if (c == 'B')
                o->sync_every = n;
            else
                o->sockets = (uint32_t)n;
            break;
        case 'R':
            if (ts_parse_duration(optarg, &o->ramp_ns) != 0) {
                fprintf(stderr, "dropscope-fleetsim: --ramp '%s' is not a duration (e.g. 30s)\n",
                        optarg);
                return 2;
            }
            break;
        case 'i':
            if (ts_parse_duration(optarg, &o->interval_ns) != 0 || o->interval_ns < TS_NS_PER_MS) {
                fprintf(stderr, "dropscope-fleetsim: --interval '%s' is not a duration of 1ms or "
                                "more (e.g. 1s)\n", optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "dropscope-fleetsim: unknown or incomplete option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (!o->connect || !o->hosts || !o->seconds) {
        fprintf(stderr, "dropscope-fleetsim: --connect, --hosts and --seconds are required (see --help)\n");
        return 2;
    }
    if (o->insecure == (o->cert && o->server_cert)) {
        fprintf(stderr, "dropscope-fleetsim: pass either --insecure or both --cert PATH_secret and "
                        "--server-cert PATH\n");
        return 2;
    }
    if (!o->sockets) { /* few, so that a full socket holds the fleet back, yet each pipe fits its hosts' windows */
        uint64_t fit = ((uint64_t)o->hosts * WINDOW + PIPE_MESSAGES - 1) / PIPE_MESSAGES;
        o->sockets = fit > SOCKETS ? (uint32_t)fit : SOCKETS;
    }
    o->sockets = o->sockets > o->hosts ? o->hosts : o->sockets;
    return 0;
}

/* Hands host h's message to its delivery, which sends it now or when the
 * window and the socket let it. */
static int s_send(sim_t *sim, host_t *h, uint8_t **buf_p, size_t len, size_t nsamples)
{
    if (h->npending < PENDING)
        h->pending[h->npending++] = (pending_t){h->seq, ts_mono_ns(), (uint32_t)nsamples};
    sim->backlog++;
    sim->backlog_max = sim->backlog > sim->backlog_max ? sim->backlog : sim->backlog_max;
    uint8_t prefix[4];
    bytes_put_le(prefix, len, 4);
    if (sim->record && (fwrite(prefix, 4, 1, sim->record) != 1 ||
                        fwrite(*buf_p, len, 1, sim->record) != 1)) {
        fprintf(stderr, "dropscope-fleetsim: cannot write to --record %s: %s; no longer "
                        "recording\n", sim->o.record, strerror(errno));
        fclose(sim->record);
        sim->record = NULL;
    }
    return delivery_send(h->delivery, h->id.incarnation, h->seq, (uint32_t)nsamples, buf_p, len,
                         NULL, 0);
}

static int s_hello(sim_t *sim, host_t *h)
{
    hello_t hello = {"fleetsim", "6.18.0-sim", "netlink", 8, sim->o.interval_ns, ts_now_ns(), "",
                     0,          NULL};
    uint8_t *buf;
    size_t len;
    char err[256];
    if (report_hello(&h->id, ++h->seq, &hello, &buf, &len, err, sizeof err) != 0) {
        log_error("fleetsim: cannot encode a hello: %s", err);
        return -1;
    }
    return s_send(sim, h, &buf, len, 0);
}

/* Host h's next snapshot, into its registry, as a collector reads its
 * sources; its burst, if any, waits in h->burst for the batch. */
static void s_snapshot(sim_t *sim, host_t *h, int64_t ts)
{
    size_t n = model_step(h->model, ts, sim->o.interval_ns, sim->readings, &h->burst);
    int64_t step = ts / sim->o.interval_ns;
    if (sim->o.sync_every && ts > 0 && step % sim->o.sync_every == 0 && (h - sim->hosts) % 4 == 0)
        h->burst = model_burst_at(h->model, ts - sim->o.interval_ns / 2);
    series_begin(h->series, BOOT_ID);
    for (size_t i = 0; i < n; i++)
        series_observe(h->series, &sim->readings[i]);
    series_end(h->series);
    h->snapped = true;
}

/* Makes and sends host h's next batch (its data time is the start plus
 * the number of intervals made so far), as a collector's interval does:
 * a snapshot into the registry, then report_batch. */
static int s_batch(sim_t *sim, host_t *h)
{
    int64_t iv = sim->o.interval_ns;
    int64_t base = sim->o.replay ? sim->start_real - sim->o.seconds * iv : sim->start_real;
    int64_t ts = base + (int64_t)(h->intervals + 1) * iv;
    if (!h->snapped)
        s_snapshot(sim, h, ts);
    h->snapped = false;
    const burst_msg_t *burst = h->burst;
    spool_stats_t lost = delivery_stats(h->delivery);
    report_batch_t rb = {.seq = ++h->seq,
                         .ts_ns = ts,
                         .prev_ts_ns = h->intervals ? ts - iv : 0,
                         .full = h->intervals % 60 == 0,
                         .all_defs = h->want_all_defs,
                         .bursts = burst,
                         .nbursts = burst ? 1 : 0,
                         .spool_dropped_messages = lost.dropped_messages,
                         .spool_dropped_samples = lost.dropped_samples,
                         .spool_rejected_messages = lost.rejected_messages,
                         .spool_rejected_samples = lost.rejected_samples,
                         /* a clock as good as NTP on a LAN: 0.2 ms round trips */
                         .clock = {true, 0, 200000, true, TS_NS_PER_MS, 100000}};
    if (h->want_all_defs) {
        h->want_all_defs = false;
        h->defs_seq = rb.seq;
    }
    uint8_t *buf;
    size_t len, nsamples;
    char err[256];
    if (report_batch(h->series, &h->id, &rb, &buf, &len, &nsamples, err, sizeof err) != 0) {
        log_error("fleetsim: cannot encode a batch: %s", err);
        return -1;
    }
    h->intervals++;
    sim->sent_batches++;
    sim->sent_samples += nsamples;
    return s_send(sim, h, &buf, len, nsamples);
}

/* Message seq of host h is answered for good: out of the backlog, and, a
 * stored batch, into the totals. */
static void s_done(sim_t *sim, host_t *h, uint64_t seq, bool stored)
{
    sim->backlog--;
    size_t i = 0;
    while (i < h->npending && h->pending[i].seq != seq)
        i++;
    if (i == h->npending)
        return;
    pending_t p = h->pending[i];
    h->pending[i] = h->pending[--h->npending];
    if (!stored || seq == 1) /* a hello */
        return;
    h->defs_acked = true;
    sim->acked_batches++;
    sim->acked_samples += p.nsamples;
    int64_t ms = (ts_mono_ns() - p.made_mono) / TS_NS_PER_MS;
    uint32_t v = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    histogram_add(&sim->latency_ms, v, 1, false);
    histogram_add(&sim->latency_1s, v, 1, false);
    if (p.made_mono >= sim->start_mono + sim->o.ramp_ns)
        histogram_add(&sim->latency_steady, v, 1, false);
}

/* An ack, handled as the collector's agent does: a stored batch
 * acknowledges the definitions it carried; ACK_NEED_DEFS defers the batch
 * until one carrying every definition is answered. */
static void s_on_ack(sim_t *sim, const msg_t *msg)
{
    uint64_t index = msg->incarnation & ((1u << HOST_BITS) - 1);
    if (msg->type != MSG_TYPE_ACK || index >= sim->o.hosts ||
        sim->hosts[index].id.incarnation != msg->incarnation)
        return;
    host_t *h = &sim->hosts[index];
    uint64_t seq = msg->ack.seq;
    switch (msg->ack.status) {
    case ACK_STORED:
        if (delivery_acked(h->delivery, msg->incarnation, seq)) {
            series_ack_defs(h->series, seq);
            s_done(sim, h, seq, true);
        }
        break;
    case ACK_NEED_DEFS:
        break; /* below, once a round of definitions this ends is over */
    default:
        if (delivery_rejected(h->delivery, msg->incarnation, seq)) {
            sim->rejected++;
            log_limited(LOGL_ERROR, "rejected", "fleetsim: %s batch %llu rejected: %s", h->name,
                        (unsigned long long)seq, msg->ack.error);
            s_done(sim, h, seq, false);
        }
        break;
    }
    if (h->defs_seq && seq == h->defs_seq) {
        h->defs_seq = 0;
        delivery_release(h->delivery);
    }
    if (msg->ack.status == ACK_NEED_DEFS) {
        sim->need_defs++;
        delivery_defer(h->delivery, msg->incarnation, seq);
        if (!h->defs_seq && !h->want_all_defs) {
            series_unack_defs(h->series);
            h->want_all_defs = true;
        }
    }
}

static void s_receive(sim_t *sim)
{
    for (size_t l = 0; l < sim->o.sockets; l++) {
        msg_t *msg;
        bool woken;
        while ((msg = uplink_recv(sim->links[l], 0, -1, &woken))) {
            s_on_ack(sim, msg);
            codec_msg_destroy(&msg);
        }
    }
}

static void s_progress(sim_t *sim)
{
    histogram_summary_t s = histogram_take(&sim->latency_1s);
    fprintf(stderr, "fleetsim: %5.1f s  %llu batches sent, %llu acked, %.2fM samples, backlog %zu, "
                    "ack p99 %u ms\n",
            (double)(ts_mono_ns() - sim->start_mono) / 1e9, (unsigned long long)sim->sent_batches,
            (unsigned long long)sim->acked_batches, (double)sim->acked_samples / 1e6, sim->backlog,
            s.p99);
}

/* Host h has a batch to make: in real time its interval came, in a replay
 * its backlog is not all made. */
static bool s_due(const sim_t *sim, const host_t *h, int64_t now)
{
    return sim->o.replay ? h->intervals < (uint64_t)sim->o.seconds : now >= h->next_mono;
}

/* One pass over the hosts: new batches where they are due and fit the
 * window, and, every TICK_NS, what their deliveries have waiting. */
static int s_make(sim_t *sim, int64_t now, bool sending)
{
    bool tick = now >= sim->tick_mono;
    if (tick)
        sim->tick_mono = now + TICK_NS;
    for (uint32_t i = 0; i < sim->o.hosts; i++) {
        host_t *h = &sim->hosts[i];
        if (!h->started) {
            if (!sending || now < h->start_mono)
                continue;
            if (s_hello(sim, h) != 0)
                return -1;
            h->started = true;
        }
        /* Like a collector: the definitions ride on the first batches until
         * one is stored, then the window opens. A batch of every definition
         * goes whatever the window: the deferred batches wait for it. A host
         * makes all it may at once, while its registry is in the cache: one
         * batch a visit, the registry's share of a batch took twice as long
         * (2,000 hosts, whose registries take 110 MB: 19 us against 9 us),
         * CPU taken from the aggregator under test on a shared machine. */
        while (sending && s_due(sim, h, now) &&
               (h->npending < (h->defs_acked ? WINDOW : 2) || h->want_all_defs)) {
            if (s_batch(sim, h) != 0)
                return -1;
            h->next_mono += sim->o.interval_ns;
        }
        if (tick)
            delivery_tick(h->delivery);
    }
    return 0;
}

/* Sends until the run is over (or *stop), then waits up to DRAIN_NS for
 * the last acks. 0 when everything sent was acknowledged. */
static int s_run(sim_t *sim, volatile sig_atomic_t *stop)
{
    int64_t end = sim->start_mono + sim->o.ramp_ns + sim->o.seconds * sim->o.interval_ns;
    int64_t next_report = sim->start_mono, stopped = 0;
    uint64_t total = (uint64_t)sim->o.seconds * sim->o.hosts;
    for (;;) {
        int64_t now = ts_mono_ns();
        bool sending = !*stop && (sim->o.replay ? sim->sent_batches < total : now < end);
        if (!sending && !stopped)
            stopped = now;
        if (s_make(sim, now, sending) != 0)
            return 1;
        s_receive(sim);
        if (now >= next_report) {
            s_progress(sim);
            next_report += TS_NS_PER_S;
        }
        if (!sending && sim->backlog == 0)
            return 0;
        if (stopped && now - stopped > DRAIN_NS)
            break;
        struct timespec nap = {0, 200000};
        nanosleep(&nap, NULL);
    }
    log_error("fleetsim: %zu messages were never acknowledged", sim->backlog);
    return 1;
}

/* Host i, with its first snapshot taken: the first sight of every series
 * is what costs a registry most (255 inserts, 0.3 ms a host here), and is
 * done before the run starts rather than taken from the aggregator's share
 * of the machine. Its time does not matter: a first step has no burst. */
static int s_setup_host(sim_t *sim, host_t *h, uint32_t i, uint64_t base)
{
    char err[256];
    snprintf(h->name, sizeof h->name, "%s-%u", sim->o.prefix, i);
    h->id = (report_id_t){h->name, BOOT_ID, (base << HOST_BITS) | i};
    h->link = i % sim->o.sockets;
    delivery_opts_t dopts = {.window = WINDOW};
    if (!(h->model = model_new(base + i)) || !(h->series = series_new(model_series()))) {
        log_error("fleetsim: out of memory for host %u", i);
        return -1;
    }
    if (!(h->delivery = delivery_new(sim->channels[h->link], &dopts, err, sizeof err))) {
        log_error("fleetsim: %s", err);
        return -1;
    }
    s_snapshot(sim, h, 0);
    return 0;
}

static int s_setup(sim_t *sim)
{
    char err[256];
    uint64_t base;
    if (getrandom(&base, sizeof base, 0) != sizeof base)
        base = (uint64_t)ts_now_ns();
    sim->hosts = calloc(sim->o.hosts, sizeof *sim->hosts);
    sim->links = calloc(sim->o.sockets, sizeof *sim->links);
    sim->channels = calloc(sim->o.sockets, sizeof *sim->channels);
    sim->readings = calloc(model_series(), sizeof *sim->readings);
    if (!sim->hosts || !sim->links || !sim->channels || !sim->readings)
        return -1;
    if (sim->o.record && !(sim->record = fopen(sim->o.record, "wb"))) {
        log_error("fleetsim: cannot create --record %s: %s", sim->o.record, strerror(errno));
        return -1;
    }
    uplink_security_t sec = {sim->o.cert, sim->o.server_cert};
    for (size_t l = 0; l < sim->o.sockets; l++) {
        if (!(sim->links[l] = uplink_new(sim->o.connect, sim->o.insecure ? NULL : &sec, false, err,
                                         sizeof err))) {
            log_error("fleetsim: %s", err);
            return -1;
        }
        if (!(sim->channels[l] = delivery_channel_new(sim->links[l])))
            return -1;
    }
    for (uint32_t i = 0; i < sim->o.hosts; i++)
        if (s_setup_host(sim, &sim->hosts[i], i, base) != 0)
            return -1;
    sim->start_mono = ts_mono_ns();
    /* In real time, on the interval grid of the wall clock: the
     * synchronized bursts of separate fleetsims (each to its own
     * aggregator) fall together. Not a replay's: two replays a moment
     * apart would send the same hosts' rows at the same times. */
    sim->start_real = ts_now_ns();
    if (!sim->o.replay)
        sim->start_real -= sim->start_real % sim->o.interval_ns;
    for (uint32_t i = 0; i < sim->o.hosts; i++) {
        /* Real time: the hosts' sends spread evenly over an interval (and
         * their starts over the ramp). */
        host_t *h = &sim->hosts[i];
        double share = (double)i / sim->o.hosts;
        h->start_mono = sim->start_mono + (int64_t)(share * (double)sim->o.ramp_ns);
        h->next_mono = h->start_mono + (int64_t)(share * (double)sim->o.interval_ns);
    }
    return 0;
}

static void s_teardown(sim_t *sim)
{
    for (uint32_t i = 0; sim->hosts && i < sim->o.hosts; i++) {
        delivery_destroy(&sim->hosts[i].delivery);
        series_destroy(&sim->hosts[i].series);
        model_destroy(&sim->hosts[i].model);
    }
    for (size_t l = 0; sim->links && l < sim->o.sockets; l++) {
        if (sim->channels)
            delivery_channel_destroy(&sim->channels[l]);
        uplink_destroy(&sim->links[l]);
    }
    free(sim->hosts);
    free(sim->links);
    free(sim->channels);
    free(sim->readings);
    if (sim->record && fclose(sim->record) != 0)
        log_error("fleetsim: cannot finish --record %s: %s", sim->o.record, strerror(errno));
}

int main(int argc, char **argv)
{
    log_init("dropscope-fleetsim", LOGL_INFO);
    sim_t sim = {0};
    int rc = s_parse(argc, argv, &sim.o);
    if (rc != 0)
        return rc;
    zsys_handler_set(NULL);
    volatile sig_atomic_t *stop = stop_install();
    rc = s_setup(&sim) == 0 ? s_run(&sim, stop) : 1;
    double elapsed = (double)(ts_mono_ns() - sim.start_mono) / 1e9;
    histogram_summary_t lat = histogram_take(&sim.latency_ms);
    histogram_summary_t steady = histogram_take(&sim.latency_steady);
    delivery_channel_stats_t ch = {0};
    for (size_t l = 0; sim.channels && l < sim.o.sockets; l++) {
        delivery_channel_stats_t one = sim.channels[l] ? delivery_channel_stats(sim.channels[l])
                                                       : (delivery_channel_stats_t){0};
        ch.send_failures += one.send_failures;
        ch.resent += one.resent;
    }
    printf("mode %s\nhosts %u\nseconds %.3f\nsent_batches %llu\nacked_batches %llu\n"
           "acked_samples %llu\nneed_defs %llu\nrejected %llu\nsend_retries %llu\nresent %llu\n"
           "samples_per_s %.0f\nack_latency_p50_ms %u\nack_latency_p99_ms %u\n"
           "ack_latency_max_ms %u\nafter_ramp_ack_latency_p50_ms %u\n"
           "after_ramp_ack_latency_p99_ms %u\nbacklog_max %zu\nbacklog_end %zu\nsent_samples %llu\n",
           sim.o.replay ? "replay" : "realtime", sim.o.hosts, elapsed,
           (unsigned long long)sim.sent_batches, (unsigned long long)sim.acked_batches,
           (unsigned long long)sim.acked_samples, (unsigned long long)sim.need_defs,
           (unsigned long long)sim.rejected, (unsigned long long)ch.send_failures,
           (unsigned long long)ch.resent, (double)sim.acked_samples / elapsed, lat.p50, lat.p99,
           lat.max, steady.p50, steady.p99, sim.backlog_max, sim.backlog,
           (unsigned long long)sim.sent_samples);
    s_teardown(&sim);
    return rc != 0 || sim.rejected ? 1 : 0;
}
