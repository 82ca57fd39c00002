/* dropscope-fleetsim: a fleet of simulated collectors on the real codec and
 * transport, for load tests and benchmarks of the aggregator (docs/ARCHITECTURE.md, Interfaces).
 * Each host (model.c) says hello, then sends one batch per interval: in
 * real time, staggered over the interval, or with --replay a backlog of
 * --seconds intervals as fast as acknowledgements allow (a window of
 * batches in flight per host, resent when not acknowledged in time, as a
 * collector does). Hosts share DEALER sockets (the aggregator tells them
 * apart by the envelope, as it does collectors): few, so that a full
 * socket queue holds the fleet back instead of queueing seconds of work in
 * the aggregator, and enough that each one's messages in flight fit the
 * acks the aggregator queues for one peer.
 * Progress goes to stderr every second; the totals to stdout, ending with
 * "sent_samples N". Exit codes: 0 ok, 1 runtime failure (a batch was
 * refused or never acknowledged), 2 bad usage. */
#define _GNU_SOURCE
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "histogram.h"
#include "uplink.h"
#include "log.h"
#include "model.h"
#include "stop.h"
#include "ts.h"

#define WINDOW 8             /* batches in flight per host */
#define SOCKETS 16           /* by default; more when their hosts' windows would not fit: */
#define PIPE_MESSAGES 10000  /* acks the aggregator queues per peer (INGEST_ACK_HWM) */
#define RESEND_FIRST_NS (5 * TS_NS_PER_S) /* as a collector: no ack this long, send again */
#define RESEND_MAX_NS (60 * TS_NS_PER_S)  /* backoff cap */
#define HOST_BITS 24         /* low bits of an incarnation: the host's index */
#define DRAIN_NS (30 * TS_NS_PER_S) /* how long to wait for the last acks */

typedef struct {
    uint64_t seq;
    int64_t sent_mono;  /* last sent; 0 = to be sent (new, resent, or the socket was full) */
    int64_t first_mono; /* first sent (for the ack latency) */
    size_t nsamples;
    uint8_t *buf;
    size_t len;
} flight_t;

typedef struct {
    char name[32];
    uint64_t incarnation;
    model_t *model;
    size_t link;
    uint64_t seq;           /* last seq used */
    uint64_t intervals;     /* batches made */
    int64_t start_mono;     /* when it says hello (--ramp spreads these) */
    bool started;
    int64_t next_mono;      /* real time: when the next batch is due */
    bool defs_acked;        /* a batch carrying the definitions was stored */
    flight_t flight[WINDOW];
    size_t nflight;
} host_t;

/* A socket's resend timer, as a collector keeps one for its connection:
 * armed while messages are in flight, reset by any ack. An aggregator
 * working through a queue that takes longer than the timeout to drain (a
 * fleet's first definitions) still acks something on every socket, so
 * nothing is resent for nothing; a socket whose acks stop is resent. */
typedef struct {
    size_t inflight;
    int64_t resend_at; /* monotonic; 0 = not armed */
    int64_t backoff;   /* the current resend timeout */
    bool expired;      /* in this pass */
} resend_timer_t;

typedef struct {
    const char *connect, *cert, *server_cert, *prefix;
    uint32_t hosts, sockets;
    int64_t seconds, interval_ns, ramp_ns;
    bool replay, insecure;
} opts_t;

typedef struct {
    opts_t o;
    host_t *hosts;
    uplink_t **links;
    bool *full;       /* a socket's queue was full in this pass: its hosts wait for the next */
    resend_timer_t *timers; /* by socket */
    size_t ndefs;
    const series_def_t *defs;
    int64_t start_mono, start_real;
    uint64_t sent_batches, sent_samples, acked_batches, acked_samples, need_defs, rejected;
    uint64_t send_retries, resent;
    size_t backlog, backlog_max;
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
            "  --insecure            plain text; else --cert and --server-cert (CurveZMQ)\n"
            "  --help                this text\n",
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
        case 'I': o->insecure = true; break;
        case 'C': o->cert = optarg; break;
        case 'S': o->server_cert = optarg; break;
        case 'h': s_usage(stdout); exit(0);
        case 'n':
        case 's':
        case 'k':
            n = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end || n < 1 || n > (c == 'n' ? 1 << HOST_BITS : 1000000)) {
                fprintf(stderr, "dropscope-fleetsim: --%s '%s' must be a positive integer%s\n",
                        c == 'n' ? "hosts" : c == 's' ? "seconds" : "sockets", optarg,
                        c == 'n' ? " up to 16777216" : " up to 1000000");
                return 2;
            }
            if (c == 'n')
                o->hosts = (uint32_t)n;
            else if (c == 's')
                o->seconds = n;
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

/* Queues one encoded message of host h; it goes out now or at a later try. */
static void s_fly(sim_t *sim, host_t *h, uint64_t seq, uint8_t *buf, size_t len, size_t nsamples)
{
    h->flight[h->nflight++] = (flight_t){seq, 0, 0, nsamples, buf, len};
    sim->timers[h->link].inflight++;
    sim->backlog++;
    sim->backlog_max = sim->backlog > sim->backlog_max ? sim->backlog : sim->backlog_max;
}

/* Sends what host h has not sent yet, and, as a collector does, all it
 * has in flight again when no ack came for the resend timeout (an ack can
 * be lost with its connection, or refused by a full pipe); stops at a full
 * socket queue. */
static void s_flush(sim_t *sim, host_t *h, int64_t now)
{
    char err[256];
    resend_timer_t *t = &sim->timers[h->link];
    if (t->inflight && !t->resend_at)
        t->resend_at = now + t->backoff;
    for (size_t i = 0; i < h->nflight && !sim->full[h->link]; i++) {
        flight_t *f = &h->flight[i];
        if (f->sent_mono)
            continue;
        if (uplink_send(sim->links[h->link], f->buf, f->len, err, sizeof err) != 0) {
            sim->send_retries++;
            sim->full[h->link] = true; /* trying its other hosts now would only burn CPU */
            return;
        }
        f->sent_mono = now;
        f->first_mono = f->first_mono ? f->first_mono : now;
    }
}

static msg_t s_envelope(const sim_t *sim, const host_t *h, uint64_t seq, msg_type_t type)
{
    (void)sim;
    return (msg_t){.host = h->name, .boot_id = "00000000-0000-4000-8000-fleetsim0000",
                   .incarnation = h->incarnation, .seq = seq, .sent_ns = ts_now_ns(), .type = type};
}

static int s_hello(sim_t *sim, host_t *h)
{
    msg_t m = s_envelope(sim, h, ++h->seq, MSG_TYPE_HELLO);
    m.hello = (hello_t){"fleetsim", "6.18.0-sim", "netlink", 8, sim->o.interval_ns, ts_now_ns(), ""};
    uint8_t *buf;
    size_t len;
    char err[256];
    if (codec_encode(&m, &buf, &len, err, sizeof err) != 0) {
        log_error("fleetsim: cannot encode a hello: %s", err);
        return -1;
    }
    s_fly(sim, h, m.seq, buf, len, 0);
    return 0;
}

/* Makes and queues host h's next batch (its data time is the start plus
 * the number of intervals made so far). */
static int s_batch(sim_t *sim, host_t *h)
{
    int64_t iv = sim->o.interval_ns;
    int64_t base = sim->o.replay ? sim->start_real - sim->o.seconds * iv : sim->start_real;
    int64_t ts = base + (int64_t)(h->intervals + 1) * iv;
    model_batch_t mb;
    bool full = h->intervals % 60 == 0;
    model_step(h->model, ts, iv, full, &mb);
    msg_t m = s_envelope(sim, h, ++h->seq, MSG_TYPE_BATCH);
    m.batch = (batch_t){.ts_ns = ts,
                        .prev_ts_ns = h->intervals ? ts - iv : 0,
                        .full = full,
                        .ndefs = h->defs_acked ? 0 : sim->ndefs,
                        .defs = sim->defs,
                        .nsamples = mb.nsamples,
                        .series = mb.series,
                        .values = mb.values,
                        .deltas = mb.deltas,
                        .flags = mb.flags,
                        .nbursts = mb.nbursts,
                        .bursts = mb.bursts,
                        /* a clock as good as NTP on a LAN: 0.2 ms round trips */
                        .clock = {true, 0, 200000, true, TS_NS_PER_MS, 100000}};
    uint8_t *buf;
    size_t len;
    char err[256];
    if (codec_encode(&m, &buf, &len, err, sizeof err) != 0) {
        log_error("fleetsim: cannot encode a batch: %s", err);
        return -1;
    }
    h->intervals++;
    s_fly(sim, h, m.seq, buf, len, mb.nsamples);
    sim->sent_batches++;
    sim->sent_samples += mb.nsamples;
    return 0;
}

/* An ack: frees its message, or queues it again after a NEED_DEFS. */
static void s_on_ack(sim_t *sim, const msg_t *msg)
{
    uint64_t index = msg->incarnation & ((1u << HOST_BITS) - 1);
    if (msg->type != MSG_TYPE_ACK || index >= sim->o.hosts ||
        sim->hosts[index].incarnation != msg->incarnation)
        return;
    host_t *h = &sim->hosts[index];
    size_t i = 0;
    while (i < h->nflight && h->flight[i].seq != msg->ack.seq)
        i++;
    if (i == h->nflight)
        return; /* a duplicate ack */
    flight_t *f = &h->flight[i];
    sim->timers[h->link] = (resend_timer_t){sim->timers[h->link].inflight - 1, 0, RESEND_FIRST_NS,
                                            false};
    if (msg->ack.status == ACK_NEED_DEFS) { /* send the definitions again with this batch's data */
        sim->need_defs++;
        h->defs_acked = false;
        f->sent_mono = 0;
        return;
    }
    if (msg->ack.status == ACK_REJECTED) {
        sim->rejected++;
        log_limited(LOGL_ERROR, "rejected", "fleetsim: %s batch %llu rejected: %s", h->name,
                    (unsigned long long)f->seq, msg->ack.error);
    } else if (f->nsamples || f->seq > 1) {
        h->defs_acked = true;
        sim->acked_batches++;
        sim->acked_samples += f->nsamples;
        int64_t ms = (ts_mono_ns() - f->first_mono) / TS_NS_PER_MS;
        uint32_t v = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
        histogram_add(&sim->latency_ms, v, 1, false);
        histogram_add(&sim->latency_1s, v, 1, false);
        if (f->first_mono >= sim->start_mono + sim->o.ramp_ns)
            histogram_add(&sim->latency_steady, v, 1, false);
    }
    free(f->buf);
    h->flight[i] = h->flight[--h->nflight];
    sim->backlog--;
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

/* One pass over the hosts: new batches where they are due and fit the window. */
/* Sockets whose resend timer expired: everything their hosts have in
 * flight goes again, and the timeout doubles. */
static void s_expire(sim_t *sim, int64_t now)
{
    bool any = false;
    for (size_t l = 0; l < sim->o.sockets; l++) {
        resend_timer_t *t = &sim->timers[l];
        t->expired = t->resend_at && now >= t->resend_at;
        any |= t->expired;
        if (t->expired)
            *t = (resend_timer_t){t->inflight, 0, t->backoff * 2 > RESEND_MAX_NS ? RESEND_MAX_NS
                                                                                  : t->backoff * 2,
                                  true};
    }
    for (uint32_t i = 0; any && i < sim->o.hosts; i++) {
        host_t *h = &sim->hosts[i];
        for (size_t k = 0; sim->timers[h->link].expired && k < h->nflight; k++)
            if (h->flight[k].sent_mono) {
                h->flight[k].sent_mono = 0;
                sim->resent++;
            }
    }
}

static int s_make(sim_t *sim, int64_t now, bool sending)
{
    s_expire(sim, now);
    memset(sim->full, 0, sim->o.sockets * sizeof *sim->full);
    for (uint32_t i = 0; i < sim->o.hosts; i++) {
        host_t *h = &sim->hosts[i];
        if (!h->started) {
            if (!sending || now < h->start_mono)
                continue;
            if (s_hello(sim, h) != 0)
                return -1;
            h->started = true;
        }
        bool due = sim->o.replay ? h->intervals < (uint64_t)sim->o.seconds : now >= h->next_mono;
        /* Like a collector: the definitions ride on one batch until it is
         * stored, then the window opens. */
        size_t window = h->defs_acked ? WINDOW : 2;
        if (sending && due && h->nflight < window) {
            if (s_batch(sim, h) != 0)
                return -1;
            h->next_mono += sim->o.interval_ns;
        }
        s_flush(sim, h, now);
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

static int s_setup(sim_t *sim)
{
    char err[256];
    uint64_t base;
    if (getrandom(&base, sizeof base, 0) != sizeof base)
        base = (uint64_t)ts_now_ns();
    sim->defs = model_defs(&sim->ndefs);
    sim->hosts = calloc(sim->o.hosts, sizeof *sim->hosts);
    sim->links = calloc(sim->o.sockets, sizeof *sim->links);
    sim->full = calloc(sim->o.sockets, sizeof *sim->full);
    sim->timers = calloc(sim->o.sockets, sizeof *sim->timers);
    if (!sim->hosts || !sim->links || !sim->full || !sim->timers)
        return -1;
    uplink_security_t sec = {sim->o.cert, sim->o.server_cert};
    for (size_t l = 0; l < sim->o.sockets; l++)
        if (!(sim->links[l] = uplink_new(sim->o.connect, sim->o.insecure ? NULL : &sec, false, err,
                                       sizeof err))) {
            log_error("fleetsim: %s", err);
            return -1;
        }
    for (size_t l = 0; l < sim->o.sockets; l++)
        sim->timers[l].backoff = RESEND_FIRST_NS;
    sim->start_mono = ts_mono_ns();
    sim->start_real = ts_now_ns();
    for (uint32_t i = 0; i < sim->o.hosts; i++) {
        host_t *h = &sim->hosts[i];
        snprintf(h->name, sizeof h->name, "%s-%u", sim->o.prefix, i);
        h->incarnation = (base << HOST_BITS) | i;
        h->link = i % sim->o.sockets;
        /* Real time: the hosts' sends spread evenly over an interval (and
         * their starts over the ramp). */
        double share = (double)i / sim->o.hosts;
        h->start_mono = sim->start_mono + (int64_t)(share * (double)sim->o.ramp_ns);
        h->next_mono = h->start_mono + (int64_t)(share * (double)sim->o.interval_ns);
        if (!(h->model = model_new(base + i)))
            return -1;
    }
    return 0;
}

static void s_teardown(sim_t *sim)
{
    for (uint32_t i = 0; sim->hosts && i < sim->o.hosts; i++) {
        for (size_t f = 0; f < sim->hosts[i].nflight; f++)
            free(sim->hosts[i].flight[f].buf);
        model_destroy(&sim->hosts[i].model);
    }
    for (size_t l = 0; sim->links && l < sim->o.sockets; l++)
        uplink_destroy(&sim->links[l]);
    free(sim->hosts);
    free(sim->links);
    free(sim->full);
    free(sim->timers);
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
    printf("mode %s\nhosts %u\nseconds %.3f\nsent_batches %llu\nacked_batches %llu\n"
           "acked_samples %llu\nneed_defs %llu\nrejected %llu\nsend_retries %llu\nresent %llu\n"
           "samples_per_s %.0f\nack_latency_p50_ms %u\nack_latency_p99_ms %u\n"
           "ack_latency_max_ms %u\nafter_ramp_ack_latency_p50_ms %u\n"
           "after_ramp_ack_latency_p99_ms %u\nbacklog_max %zu\nbacklog_end %zu\nsent_samples %llu\n",
           sim.o.replay ? "replay" : "realtime", sim.o.hosts, elapsed,
           (unsigned long long)sim.sent_batches, (unsigned long long)sim.acked_batches,
           (unsigned long long)sim.acked_samples, (unsigned long long)sim.need_defs,
           (unsigned long long)sim.rejected, (unsigned long long)sim.send_retries,
           (unsigned long long)sim.resent,
           (double)sim.acked_samples / elapsed, lat.p50, lat.p99, lat.max, steady.p50, steady.p99,
           sim.backlog_max,
           sim.backlog, (unsigned long long)sim.sent_samples);
    s_teardown(&sim);
    return rc != 0 || sim.rejected ? 1 : 0;
}
