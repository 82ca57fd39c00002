/* dropscope-collector: reads this host's drop counters every --interval and
 * ships them to the aggregator; or, with --once --json, prints one snapshot.
 * Exit codes: 0 ok, 1 runtime failure, 2 bad usage. */
#define _GNU_SOURCE
#include <czmq.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "report.h"
#include "snapshot.h"
#include "ts.h"

#define COLLECTOR_VERSION "0.1.0"
#define MAX_SERIES 50000

typedef struct {
    const char *connect;
    const char *host;
    snapshot_opts_t snap;
    int64_t interval_ns;
    int full_every;  /* a full snapshot every N intervals */
    bool once, json, insecure;
} opts_t;

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: dropscope-collector --connect ENDPOINT --insecure [options]\n"
            "       dropscope-collector --once --json [--procfs DIR] [--sysfs DIR]\n"
            "\n"
            "Reads this host's packet-drop counters (/proc/net/*, netlink, ethtool, sysctls)\n"
            "and sends them to a dropscope-aggregator every interval.\n"
            "\n"
            "  --connect ENDPOINT   aggregator endpoint, e.g. tcp://10.0.0.1:7420 or ipc:///run/ds.sock\n"
            "  --insecure           send in plain text (required until CurveZMQ is configured)\n"
            "  --host-name NAME     host identity (default: this machine's hostname)\n"
            "  --interval DURATION  reporting interval (default 1s; e.g. 500ms, 10s)\n"
            "  --full-every N       send every series, changed or not, every N intervals (default 60)\n"
            "  --procfs DIR         root of /proc (default /proc; a fixture root disables netlink\n"
            "                       and ethtool ioctls)\n"
            "  --sysfs DIR          root of /sys (default /sys)\n"
            "  --ethtool-dir DIR    replay `ethtool -S`/`-g` output from DIR/IFACE/{statistics,ring}\n"
            "  --once               read one snapshot, print it and exit (needs --json)\n"
            "  --json               print the snapshot as JSON\n"
            "  --verbose            log debug messages\n"
            "  --help               this text\n");
}

/* Parses argv into opts; returns 0, or 2 after printing a one-line reason. */
static int s_parse(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {
        {"connect", required_argument, NULL, 'c'},  {"host-name", required_argument, NULL, 'H'},
        {"interval", required_argument, NULL, 'i'}, {"full-every", required_argument, NULL, 'F'},
        {"procfs", required_argument, NULL, 'p'},   {"sysfs", required_argument, NULL, 's'},
        {"ethtool-dir", required_argument, NULL, 'e'}, {"once", no_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},           {"insecure", no_argument, NULL, 'I'},
        {"verbose", no_argument, NULL, 'v'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *o = (opts_t){.snap = {"/proc", "/sys", NULL}, .interval_ns = TS_NS_PER_S, .full_every = 60};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->connect = optarg; break;
        case 'H': o->host = optarg; break;
        case 'p': o->snap.procfs = optarg; break;
        case 's': o->snap.sysfs = optarg; break;
        case 'e': o->snap.ethtool_dir = optarg; break;
        case 'o': o->once = true; break;
        case 'j': o->json = true; break;
        case 'I': o->insecure = true; break;
        case 'v': log_init("dropscope-collector", LOGL_DEBUG); break;
        case 'h': s_usage(stdout); exit(0);
        case 'i':
            if (ts_parse_duration(optarg, &o->interval_ns) != 0 || o->interval_ns < 10 * TS_NS_PER_MS) {
                fprintf(stderr, "dropscope-collector: --interval '%s' is not a duration of at least 10ms (e.g. 1s)\n", optarg);
                return 2;
            }
            break;
        case 'F':
            o->full_every = atoi(optarg);
            if (o->full_every < 1) {
                fprintf(stderr, "dropscope-collector: --full-every '%s' must be a positive integer\n", optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "dropscope-collector: unknown or incomplete option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "dropscope-collector: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (o->once != o->json) {
        fprintf(stderr, "dropscope-collector: --once and --json go together (one JSON snapshot)\n");
        return 2;
    }
    if (!o->once && !o->connect) {
        fprintf(stderr, "dropscope-collector: --connect ENDPOINT is required (or --once --json)\n");
        return 2;
    }
    if (!o->once && !o->insecure) {
        fprintf(stderr, "dropscope-collector: CurveZMQ keys are not supported by this build yet; "
                        "pass --insecure to send in plain text\n");
        return 2;
    }
    return 0;
}

static int s_once(const opts_t *o, const char *host)
{
    snapshot_t *snap = snapshot_new(&o->snap);
    series_t *series = series_new(MAX_SERIES);
    int rc = 1;
    if (snap && series) {
        int64_t ts = snapshot_collect(snap, series);
        report_id_t id = {host, snapshot_boot_id(snap), 0};
        char *text = report_json(series, &id, ts);
        if (text) {
            puts(text);
            free(text);
            rc = 0;
        }
    }
    series_destroy(&series);
    snapshot_destroy(&snap);
    return rc;
}

typedef struct {
    const opts_t *o;
    report_id_t id;
    link_t *link;
    snapshot_t *snap;
    series_t *series;
    uint64_t seq;          /* last seq sent */
    uint64_t intervals;    /* batches sent */
    int64_t prev_ts;       /* time of the previous snapshot */
    uint64_t send_failures;
    int64_t last_ack_mono; /* when the aggregator last acknowledged anything */
    bool silent;           /* we have warned that acks stopped */
} daemon_t;

static void s_send(daemon_t *d, uint8_t *buf, size_t len, const char *what)
{
    char err[256];
    if (link_send(d->link, buf, len, err, sizeof err) != 0) {
        d->send_failures++;
        log_limited(LOGL_WARN, "send", "collector: %s %llu not sent: %s", what,
                    (unsigned long long)d->seq, err);
    }
    free(buf);
}

static void s_send_hello(daemon_t *d)
{
    hello_t hello = {COLLECTOR_VERSION, snapshot_kernel(d->snap), "none",
                     (uint32_t)sysconf(_SC_NPROCESSORS_ONLN), d->o->interval_ns, ts_now_ns()};
    uint8_t *buf;
    size_t len;
    char err[256];
    d->seq++;
    if (report_hello(&d->id, d->seq, &hello, &buf, &len, err, sizeof err) == 0)
        s_send(d, buf, len, "hello");
    else
        log_error("collector: cannot encode hello: %s", err);
}

static void s_send_batch(daemon_t *d)
{
    int64_t ts = snapshot_collect(d->snap, d->series);
    bool full = d->intervals % (uint64_t)d->o->full_every == 0;
    uint8_t *buf;
    size_t len, nsamples;
    char err[256];
    d->seq++;
    report_batch_t rb = {d->seq, ts, d->prev_ts, full, NULL, 0};
    if (report_batch(d->series, &d->id, &rb, &buf, &len, &nsamples, err, sizeof err) == 0)
        s_send(d, buf, len, "batch");
    else
        log_error("collector: cannot encode batch %llu: %s", (unsigned long long)d->seq, err);
    log_debug("collector: batch %llu: %zu samples, %zu bytes%s", (unsigned long long)d->seq,
              nsamples, len, full ? " (full)" : "");
    d->prev_ts = ts;
    d->intervals++;
}

/* Warns once when the aggregator has not acknowledged anything for a
 * while (it is down, unreachable, or the endpoint is wrong). */
static void s_check_silence(daemon_t *d)
{
    int64_t quiet = ts_mono_ns() - d->last_ack_mono;
    int64_t limit = 10 * d->o->interval_ns > 10 * TS_NS_PER_S ? 10 * d->o->interval_ns
                                                               : 10 * TS_NS_PER_S;
    if (!d->silent && quiet > limit) {
        d->silent = true;
        log_warn("collector: no acknowledgement from the aggregator at %s for %lld s (is it "
                 "running and reachable? batches wait in memory, up to 1000)",
                 d->o->connect, (long long)(quiet / TS_NS_PER_S));
    }
}

static void s_on_reply(daemon_t *d, msg_t *msg)
{
    if (msg->type != MSG_TYPE_ACK) {
        log_limited(LOGL_WARN, "reply", "collector: unexpected %s from the aggregator; ignored",
                    codec_type_name(msg->type));
        return;
    }
    d->last_ack_mono = ts_mono_ns();
    if (d->silent) {
        d->silent = false;
        log_info("collector: the aggregator at %s acknowledges again", d->o->connect);
    }
    if (msg->ack.status == ACK_STORED) {
        series_ack_defs(d->series, msg->ack.seq);
    } else if (msg->ack.status == ACK_NEED_DEFS) {
        log_warn("collector: the aggregator lost our series definitions (batch %llu not stored); "
                 "resending them", (unsigned long long)msg->ack.seq);
        series_unack_defs(d->series);
    } else {
        log_limited(LOGL_ERROR, "rejected", "collector: the aggregator rejected message %llu: %s",
                    (unsigned long long)msg->ack.seq, msg->ack.error);
    }
}

static int s_daemon(const opts_t *o, const char *host)
{
    char err[256];
    daemon_t d = {.o = o};
    d.snap = snapshot_new(&o->snap);
    d.series = series_new(MAX_SERIES);
    d.link = link_new(o->connect, err, sizeof err);
    if (!d.snap || !d.series || !d.link) {
        log_error("collector: %s", d.link ? "out of memory" : err);
        goto out;
    }
    uint64_t incarnation;
    if (getrandom(&incarnation, sizeof incarnation, 0) != sizeof incarnation)
        incarnation = (uint64_t)ts_now_ns();
    d.id = (report_id_t){host, snapshot_boot_id(d.snap), incarnation};
    log_info("collector: host %s, boot %s, sending every %lld ms to %s (plain text: --insecure)",
             host, d.id.boot_id, (long long)(o->interval_ns / TS_NS_PER_MS), o->connect);
    s_send_hello(&d);
    int64_t next = ts_mono_ns();
    d.last_ack_mono = next;
    while (!s_stop) {
        int64_t now = ts_mono_ns();
        if (now >= next) {
            s_send_batch(&d);
            s_check_silence(&d);
            next += o->interval_ns;
            if (next < now) /* we fell behind (suspended?): skip, do not burst */
                next = now + o->interval_ns;
            continue;
        }
        msg_t *msg = link_recv(d.link, (int)((next - now + 999999) / TS_NS_PER_MS));
        if (msg)
            s_on_reply(&d, msg);
        codec_msg_destroy(&msg);
    }
    log_info("collector: stopping after %llu batches", (unsigned long long)d.intervals);
out:
    link_destroy(&d.link);
    series_destroy(&d.series);
    snapshot_destroy(&d.snap);
    return s_stop ? 0 : 1;
}

int main(int argc, char **argv)
{
    log_init("dropscope-collector", LOGL_INFO);
    opts_t o;
    int rc = s_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    char hostname[256] = "";
    if (!o.host) {
        gethostname(hostname, sizeof hostname - 1);
        o.host = hostname;
    }
    if (!o.host[0] || strlen(o.host) > CODEC_MAX_STRING) {
        fprintf(stderr, "dropscope-collector: host name '%s' must be 1 to %d characters (pass --host-name)\n",
                o.host, CODEC_MAX_STRING);
        return 2;
    }
    if (o.once)
        return s_once(&o, o.host);
    zsys_handler_set(NULL); /* our own handlers below, not czmq's */
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return s_daemon(&o, o.host);
}
