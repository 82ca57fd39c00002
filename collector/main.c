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
#include <unistd.h>

#include "agent.h"
#include "delivery.h"
#include "log.h"
#include "stop.h"
#include "text.h"
#include "report.h"
#include "ts.h"
#include "version.h"

typedef struct {
    agent_opts_t agent;
    const char *backend;
    bool once, json, insecure;
} opts_t;

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: dropscope-collector --connect ENDPOINT (--cert PATH_secret --server-cert PATH |\n"
            "                           --insecure) [options]\n"
            "       dropscope-collector --once --json [--procfs DIR] [--sysfs DIR]\n"
            "\n"
            "Reads this host's packet-drop counters (/proc/net/*, netlink, ethtool, sysctls)\n"
            "and sends them to a dropscope-aggregator every interval.\n"
            "\n"
            "  --connect ENDPOINT   aggregator endpoint, e.g. tcp://10.0.0.1:7420 or ipc:///run/ds.sock\n"
            "  --cert PATH_secret   our CurveZMQ keypair (`dropscope keygen PATH`; PATH goes into\n"
            "                       the aggregator's --allow directory)\n"
            "  --server-cert PATH   the aggregator's public certificate\n"
            "  --insecure           send in plain text, unauthenticated\n"
            "  --host-name NAME     host identity (default: this machine's hostname)\n"
            "  --interval DURATION  reporting interval (default 1s; e.g. 500ms, 10s)\n"
            "  --backend B          burst detection: auto (default: ebpf where it loads, else\n"
            "                       netlink), ebpf (kernel buckets and drop reasons; root, BTF,\n"
            "                       Linux 6.6+), netlink (RTM_GETSTATS every tick), none\n"
            "  --tick DURATION      burst sampling period (default 1ms; at least 100us; below\n"
            "                       1ms only with ebpf)\n"
            "  --burst-threshold N  a tick is part of a burst at N packets per ms or more (default:\n"
            "                       a quarter of the interface's RX ring per ms, or %d when the\n"
            "                       ring size is unknown)\n"
            "  --burst-gap DURATION merge bursts separated by less than this (default 5 ticks)\n"
            "  --full-every N       send every series, changed or not, every N intervals (default 60)\n"
            "  --spool DIR          keep unacknowledged messages and the last counter values in DIR,\n"
            "                       so nothing is lost across aggregator outages and collector\n"
            "                       restarts (one collector per DIR)\n"
            "  --spool-size SIZE    bound of the spool, e.g. 64M (default); beyond it the oldest\n"
            "                       messages are dropped, counted and reported\n"
            "  --procfs DIR         root of /proc (default /proc; a fixture root disables netlink\n"
            "                       and ethtool ioctls)\n"
            "  --sysfs DIR          root of /sys (default /sys)\n"
            "  --ethtool-dir DIR    replay `ethtool -S`/`-g` output from DIR/IFACE/{statistics,ring}\n"
            "  --once               read one snapshot, print it and exit (needs --json)\n"
            "  --json               print the snapshot as JSON\n"
            "  --verbose            log debug messages\n"
            "  --test-clock-offset DURATION, --test-rtt-extra DURATION\n"
            "                       TESTING ONLY: run our clock that far ahead (e.g. 50ms, -20ms);\n"
            "                       add that much to every measured round trip to the aggregator\n"
            "  --test-clock-step AFTER:BY\n"
            "                       TESTING ONLY: AFTER running that long, step our wall clock by\n"
            "                       BY (e.g. 3s:-1h); up to %d of them\n"
            "  --help               this text\n"
            "  --version            the version, and the git commit it was built from\n",
            SAMPLER_THRESHOLD_FLOOR, AGENT_CLOCK_STEPS);
}

/* Parses "123", "500K", "64M", "1G" into bytes; 0, or -1 below 64K or bad. */
static int s_parse_size(const char *text, uint64_t *bytes)
{
    char *end;
    unsigned long long n = strtoull(text, &end, 10);
    int shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : *end == '\0' ? 0 : -1;
    if (end == text || shift < 0 || (shift && end[1] != '\0') || n > (UINT64_MAX >> 30))
        return -1;
    *bytes = (uint64_t)n << shift;
    return *bytes >= (64u << 10) ? 0 : -1;
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
        {"version", no_argument, NULL, 'V'},
        {"backend", required_argument, NULL, 'b'},  {"tick", required_argument, NULL, 't'},
        {"burst-threshold", required_argument, NULL, 'T'},
        {"burst-gap", required_argument, NULL, 'g'}, {"cert", required_argument, NULL, 'C'},
        {"server-cert", required_argument, NULL, 'S'}, {"spool", required_argument, NULL, 'D'},
        {"spool-size", required_argument, NULL, 'Z'},
        {"test-clock-offset", required_argument, NULL, 'O'},
        {"test-rtt-extra", required_argument, NULL, 'R'},
        {"test-clock-step", required_argument, NULL, 'P'}, {NULL, 0, NULL, 0}};
    *o = (opts_t){.agent = {.snap = {"/proc", "/sys", NULL},
                            .interval_ns = TS_NS_PER_S,
                            .full_every = 60,
                            .spool_size = DELIVERY_SPOOL_SIZE,
                            .sampler = {.tick_ns = TS_NS_PER_MS, .margin_ns = 10 * TS_NS_PER_MS}},
                  .backend = "auto"};
    agent_opts_t *a = &o->agent;
    int64_t gap_ns = 0;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': a->connect = optarg; break;
        case 'H': a->host = optarg; break;
        case 'p': a->snap.procfs = optarg; break;
        case 's': a->snap.sysfs = optarg; break;
        case 'e': a->snap.ethtool_dir = optarg; break;
        case 'b': o->backend = optarg; break;
        case 'C': a->cert = optarg; break;
        case 'D': a->spool_dir = optarg; break;
        case 'O': {
            int64_t offset;
            if (ts_parse_signed_duration(optarg, &offset) != 0) {
                fprintf(stderr, "dropscope-collector: --test-clock-offset '%s' is not a duration (e.g. 50ms or -50ms)\n", optarg);
                return 2;
            }
            ts_set_offset_for_testing(offset);
            break;
        }
        case 'P': {
            char after[64];
            const char *colon = strchr(optarg, ':');
            agent_clock_step_t *st = &a->test_clock_steps[a->ntest_clock_steps];
            if (!colon || colon - optarg >= (long)sizeof after ||
                a->ntest_clock_steps == AGENT_CLOCK_STEPS ||
                (snprintf(after, sizeof after, "%.*s", (int)(colon - optarg), optarg),
                 ts_parse_duration(after, &st->after_ns) != 0) ||
                ts_parse_signed_duration(colon + 1, &st->by_ns) != 0) {
                fprintf(stderr, "dropscope-collector: --test-clock-step '%s' is not AFTER:BY (e.g. "
                                "3s:-1h), or more than %d were given\n", optarg, AGENT_CLOCK_STEPS);
                return 2;
            }
            a->ntest_clock_steps++;
            break;
        }
        case 'R':
            if (ts_parse_duration(optarg, &a->test_rtt_extra_ns) != 0) {
                fprintf(stderr, "dropscope-collector: --test-rtt-extra '%s' is not a duration (e.g. 20ms)\n", optarg);
                return 2;
            }
            break;
        case 'Z':
            if (s_parse_size(optarg, &a->spool_size) != 0) {
                fprintf(stderr, "dropscope-collector: --spool-size '%s' is not a size of at least 64K (e.g. 500K, 64M, 1G)\n", optarg);
                return 2;
            }
            break;
        case 'S': a->server_cert = optarg; break;
        case 't':
            if (ts_parse_duration(optarg, &a->sampler.tick_ns) != 0 || a->sampler.tick_ns < 100000) {
                fprintf(stderr, "dropscope-collector: --tick '%s' is not a duration of at least 100us (e.g. 1ms)\n", optarg);
                return 2;
            }
            break;
        case 'g':
            if (ts_parse_duration(optarg, &gap_ns) != 0) {
                fprintf(stderr, "dropscope-collector: --burst-gap '%s' is not a duration (e.g. 5ms)\n", optarg);
                return 2;
            }
            break;
        case 'T': {
            char *end;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (*optarg < '1' || *optarg > '9' || *end || n == 0 || n > 100000000) {
                fprintf(stderr, "dropscope-collector: --burst-threshold '%s' must be a number of packets per ms from 1 to 100000000\n", optarg);
                return 2;
            }
            a->sampler.threshold_per_ms = n;
            break;
        }
        case 'o': o->once = true; break;
        case 'j': o->json = true; break;
        case 'I': o->insecure = true; break;
        case 'v': log_init("dropscope-collector", LOGL_DEBUG); break;
        case 'h': s_usage(stdout); exit(0);
        case 'V': version_print(stdout, "dropscope-collector"); exit(0);
        case 'i':
            if (ts_parse_duration(optarg, &a->interval_ns) != 0 || a->interval_ns < 10 * TS_NS_PER_MS) {
                fprintf(stderr, "dropscope-collector: --interval '%s' is not a duration of at least 10ms (e.g. 1s)\n", optarg);
                return 2;
            }
            break;
        case 'F':
            a->full_every = atoi(optarg);
            if (a->full_every < 1) {
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
    a->sampler.gap_ns = gap_ns ? gap_ns : 5 * a->sampler.tick_ns;
    static const char *const backends[] = {[AGENT_BACKEND_NONE] = "none",
                                           [AGENT_BACKEND_AUTO] = "auto",
                                           [AGENT_BACKEND_NETLINK] = "netlink",
                                           [AGENT_BACKEND_EBPF] = "ebpf"};
    size_t b = 0;
    while (b < sizeof backends / sizeof backends[0] && strcmp(o->backend, backends[b]) != 0)
        b++;
    if (b == sizeof backends / sizeof backends[0]) {
        fprintf(stderr, "dropscope-collector: --backend '%s' is not one of auto, ebpf, netlink, "
                        "none\n", o->backend);
        return 2;
    }
    a->backend = (agent_backend_t)b;
    if (!o->once && !a->connect) {
        fprintf(stderr, "dropscope-collector: --connect ENDPOINT is required (or --once --json)\n");
        return 2;
    }
    if (!o->once && o->insecure && (a->cert || a->server_cert)) {
        fprintf(stderr, "dropscope-collector: --insecure turns CurveZMQ off; do not combine it "
                        "with --cert/--server-cert\n");
        return 2;
    }
    if (!o->once && !o->insecure && (!a->cert || !a->server_cert)) {
        fprintf(stderr, "dropscope-collector: CurveZMQ needs --cert PATH_secret and --server-cert "
                        "PATH (make keys with `dropscope keygen PATH`), or pass --insecure to "
                        "send in plain text\n");
        return 2;
    }
    return 0;
}

static int s_once(const opts_t *o, const char *host)
{
    snapshot_t *snap = snapshot_new(&o->agent.snap);
    series_t *series = series_new(100000);
    int rc = 1;
    if (snap && series) {
        int64_t ts = snapshot_collect(snap, series, NULL, 0);
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

int main(int argc, char **argv)
{
    log_init("dropscope-collector", LOGL_INFO);
    opts_t o;
    int rc = s_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    char hostname[256] = "", clean[TEXT_MAX + 1];
    if (!o.agent.host) { /* the machine's name: sent escaped if it must be */
        gethostname(hostname, sizeof hostname - 1);
        if (text_escape_name(hostname, clean, sizeof clean))
            fprintf(stderr, "dropscope-collector: this machine's name is not a host name as "
                            "dropscope takes them (letters, digits and . _ - : @ + # [ ] %%); "
                            "reporting as %s (pass --host-name to choose)\n", clean);
        o.agent.host = clean;
    }
    if (!o.agent.host[0] || !text_is_name(o.agent.host)) {
        text_escape(o.agent.host, clean, sizeof clean);
        fprintf(stderr, "dropscope-collector: --host-name '%s' is not a host name: 1 to %d of "
                        "letters, digits and . _ - : @ + # [ ] %%\n", clean, TEXT_MAX);
        return 2;
    }
    if (o.once)
        return s_once(&o, o.agent.host);
    zsys_handler_set(NULL); /* our own handlers, not czmq's */
    return agent_run(&o.agent, stop_install());
}
