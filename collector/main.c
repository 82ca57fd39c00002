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
#include "config.h"
#include "delivery.h"
#include "log.h"
#include "probe.h"
#include "stop.h"
#include "text.h"
#include "report.h"
#include "ts.h"
#include "version.h"
#include "watch.h"

typedef struct {
    agent_opts_t agent;
    const char *backend;
    bool once, json, insecure;
    bool watch;                     /* --watch: view holds the rest */
    watch_opts_t view;              /* --watch and --once's table */
    bool verbose;
    probe_spec_t probes[PROBE_MAX]; /* --probe */
    int64_t test_clock_offset_ns; /* TESTING ONLY: applied once, after the parse */
} opts_t;

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: dropscope-collector --connect ENDPOINT --cert PATH_secret --server-cert PATH "
        "[options]\n"
        "   or: dropscope-collector --connect ENDPOINT --insecure [options]\n"
        "   or: dropscope-collector --watch [INTERVAL] [-a] [-j] [-H] [-c N] [--procfs DIR]\n"
        "   or: dropscope-collector --once [--json] [--procfs DIR] [--sysfs DIR]\n"
        "\n"
        "Reads this host's packet-drop counters (/proc/net/*, netlink, ethtool, sysctls)\n"
        "and sends them to a dropscope-aggregator every interval.\n"
        "\n"
        "Options:\n"
        "  --config FILE        read options from FILE first: one `key = value` a line, the\n"
        "                       keys being the long options here without the dashes\n"
        "                       (`connect = tcp://10.0.0.1:7420`, `burst-threshold = 500`),\n"
        "                       `true` or `false` for those without a value (`insecure = true`),\n"
        "                       each key once; lines starting with # are comments. The command\n"
        "                       line overrides the file; help, version, config and the\n"
        "                       single-host view's options below are not keys\n"
        "  --connect ENDPOINT   aggregator endpoint, e.g. tcp://10.0.0.1:7420 or "
        "ipc:///run/ds.sock;\n"
        "                       repeatable, up to %d: the first is used until messages wait\n"
        "                       %llds without an acknowledgement, then the next, round the\n"
        "                       list (a round without one doubles the wait, up to 60s);\n"
        "                       what waited goes to the new one\n"
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
        "                       per interface and direction, %d times its median rate of the\n"
        "                       last interval, and at least %d)\n"
        "  --burst-gap DURATION\n"
        "                       merge bursts separated by less than this (default 5 ticks)\n"
        "  --probe %s\n"
        "                       receive a multicast group (joined on the interface routed to\n"
        "                       it, else on all) or a unicast port, and count the datagrams and\n"
        "                       the gaps in their sequence number: by default an unsigned 64-bit\n"
        "                       big-endian number at offset 0 (seq=OFFSET:LEN:be|le, LEN 2, 4 or\n"
        "                       8); the socket asks for an 8 MB buffer (rcvbuf=BYTES). Gaps the\n"
        "                       host's counters do not explain were lost upstream. A unicast\n"
        "                       port takes datagrams from whoever else reads it: probe a copy.\n"
        "                       IPv4 only; repeatable, up to %d (e.g. --probe 239.1.1.1:5000)\n"
        "  --full-every N       send every series, changed or not, every N intervals (default 60)\n"
        "  --spool DIR          keep unacknowledged messages and the last counter values in DIR,\n"
        "                       so nothing is lost across aggregator outages and collector\n"
        "                       restarts (one collector per DIR)\n"
        "  --spool-size SIZE    bound of the spool, e.g. 64M (default); beyond it the oldest\n"
        "                       messages are dropped, counted and reported\n"
        "  --procfs DIR         root of /proc (default /proc; a fixture root disables netlink,\n"
        "                       sock_diag and ethtool ioctls, and Onload unless\n"
        "                       --onload-stackdump is given)\n"
        "  --sysfs DIR          root of /sys (default /sys): which IRQ lines and queues are a\n"
        "                       NIC's (class/net/IFACE/device, msi_irqs, queues/*/rps_cpus)\n"
        "  --ethtool-dir DIR    replay `ethtool -S`/`-g` output from DIR/IFACE/{statistics,ring}\n"
        "  --onload-stackdump PATH\n"
        "                       the onload_stackdump whose `lots` output gives the Onload\n"
        "                       (kernel bypass) stacks' drops and EF_* settings, run every 10s\n"
        "                       and killed after 2s (default: onload_stackdump on PATH, when\n"
        "                       --procfs is /proc); none: no Onload counters\n"
        "  --watch [INTERVAL]   this host alone, no aggregator (nothing is sent, no --connect):\n"
        "                       every INTERVAL (default 1s, at least 10ms) print the\n"
        "                       receive-path counters that moved in it, by layer from the\n"
        "                       wire to the application: drops, and softirq squeezes (a\n"
        "                       precursor), and the bursts that ended in it (peak packets\n"
        "                       per ms of an interface; --backend none: not looked for).\n"
        "                       Until SIGINT or --count\n"
        "  -a, --absolute       their values since boot instead of the changes\n"
        "  -j, --json           a JSON object a line (--watch), or the whole snapshot, every\n"
        "                       series with its value (--once)\n"
        "  -H, --no-header      no column names\n"
        "  -c, --count N        stop after N intervals\n"
        "  --once               this host alone: print the receive-path counters that are not\n"
        "                       0, once\n"
        "  --verbose            log debug messages\n"
        "  --test-clock-offset DURATION, --test-rtt-extra DURATION\n"
        "                       TESTING ONLY: run our clock that far ahead (e.g. 50ms, -20ms);\n"
        "                       add that much to every measured round trip to the aggregator\n"
        "  --test-clock-step AFTER:BY\n"
        "                       TESTING ONLY: AFTER running that long, step our wall clock by\n"
        "                       BY (e.g. 3s:-1h); up to %d of them\n"
        "  --help               this text\n"
        "  --version            the version, and the git commit it was built from\n"
        "\n"
        "SIGHUP re-reads the --config file with the same command line: changes of --verbose,\n"
        "--burst-threshold and --burst-gap apply from the next tick, a change of any other\n"
        "option is logged as needing a restart; a file that no longer reads is logged and the\n"
        "settings in use stay. SIGTERM and SIGINT stop. Under systemd (Type=notify) it reports\n"
        "readiness once its uplink is set up and the first snapshot sent, then its status and\n"
        "reloads, and pings WatchdogSec= from its main loop.\n"
        "\n"
        "Exit codes: 0 stopped when asked (or --once done), 1 runtime failure, 2 bad usage or\n"
        "--config file.\n",
        AGENT_MAX_CONNECT, (long long)(AGENT_FAILOVER_NS / TS_NS_PER_S), BURST_MEDIANS, BURST_FLOOR,
        PROBE_FORM, PROBE_MAX, AGENT_CLOCK_STEPS);
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

/* Long options, and the single-host view's short ones as nstat has them
 * (-a -c -j -H): the codes of the long-only options are no letter. */
enum { OPT_CONNECT = 256, OPT_HOST_NAME, OPT_WATCH };

static const struct option s_longopts[] = {{"connect", required_argument, NULL, OPT_CONNECT},
                                           {"host-name", required_argument, NULL, OPT_HOST_NAME},
                                           {"watch", optional_argument, NULL, OPT_WATCH},
                                           {"absolute", no_argument, NULL, 'a'},
                                           {"count", required_argument, NULL, 'c'},
                                           {"no-header", no_argument, NULL, 'H'},
                                           {"interval", required_argument, NULL, 'i'},
                                           {"full-every", required_argument, NULL, 'F'},
                                           {"procfs", required_argument, NULL, 'p'},
                                           {"sysfs", required_argument, NULL, 's'},
                                           {"ethtool-dir", required_argument, NULL, 'e'},
                                           {"onload-stackdump", required_argument, NULL, 'L'},
                                           {"once", no_argument, NULL, 'o'},
                                           {"json", no_argument, NULL, 'j'},
                                           {"insecure", no_argument, NULL, 'I'},
                                           {"verbose", no_argument, NULL, 'v'},
                                           {"help", no_argument, NULL, 'h'},
                                           {"version", no_argument, NULL, 'V'},
                                           {"config", required_argument, NULL, 'K'},
                                           {"backend", required_argument, NULL, 'b'},
                                           {"tick", required_argument, NULL, 't'},
                                           {"burst-threshold", required_argument, NULL, 'T'},
                                           {"burst-gap", required_argument, NULL, 'g'},
                                           {"cert", required_argument, NULL, 'C'},
                                           {"server-cert", required_argument, NULL, 'S'},
                                           {"spool", required_argument, NULL, 'D'},
                                           {"spool-size", required_argument, NULL, 'Z'},
                                           {"test-clock-offset", required_argument, NULL, 'O'},
                                           {"test-rtt-extra", required_argument, NULL, 'R'},
                                           {"test-clock-step", required_argument, NULL, 'P'},
                                           {"probe", required_argument, NULL, 'Q'},
                                           {NULL, 0, NULL, 0}};

/* The options a --config file may give more than once: the probes of the
 * file and of the command line add up; a --connect on the command line
 * replaces the file's list (s_parse). */
static const char *const s_repeatable[] = {"probe", "connect", NULL};

/* The options a reload applies (agent_reload_fn); any other change needs a restart. */
static const char *const s_reloadable[] = {"verbose", "burst-threshold", "burst-gap", NULL};

/* --watch's INTERVAL into o->view. 0, or config_fail's code + err. */
static int s_watch_interval(config_t *cfg, int at, const char *text, opts_t *o, char *err,
                            size_t errsz)
{
    if (ts_parse_duration(text, &o->view.interval_ns) == 0 &&
        o->view.interval_ns >= 10 * TS_NS_PER_MS)
        return 0;
    return config_fail(cfg, at, err, errsz,
                       "--watch '%s': the interval is a duration of at least 10ms (e.g. 1s, "
                       "500ms)", text);
}

/* Parses the config's argv (the --config file's options, then the command
 * line's) into o, without side effects, so a reload can parse again.
 * 0, or 2 with the reason in err. */
static int s_parse(config_t *cfg, void *opts, char *err, size_t errsz)
{
    opts_t *o = opts;
    int argc = config_argc(cfg);
    char **argv = config_argv(cfg);
    *o = (opts_t){.agent = {.snap = {"/proc", "/sys", NULL, NULL},
                            .interval_ns = TS_NS_PER_S,
                            .full_every = 60,
                            .spool_size = DELIVERY_SPOOL_SIZE,
                            .sampler = {.tick_ns = TS_NS_PER_MS, .margin_ns = 10 * TS_NS_PER_MS}},
                  .backend = "auto",
                  .view = {.header = true}};
    agent_opts_t *a = &o->agent;
    a->probes = o->probes;
    int64_t gap_ns = 0;
    int c, rc, backend_at = -1;
    bool connect_cli = false; /* a --connect of the command line was met */
    optind = 0; /* glibc: a fresh parse (a reload parses again) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ac:jH", s_longopts, NULL)) != -1) {
        int at = optind - 1; /* the element holding the option, or its argument */
        switch (c) {
        case OPT_CONNECT:
            /* The command line's list replaces the file's (it comes after). */
            if (!config_where(cfg, at)[0] && !connect_cli) {
                a->nconnect = 0;
                connect_cli = true;
            }
            if (a->nconnect == AGENT_MAX_CONNECT)
                return config_fail(cfg, at, err, errsz, "--connect '%s': at most %d aggregators",
                                   optarg, AGENT_MAX_CONNECT);
            a->connect[a->nconnect++] = optarg;
            break;
        case OPT_HOST_NAME: a->host = optarg; break;
        case OPT_WATCH:
            o->watch = true;
            if (optarg && (rc = s_watch_interval(cfg, at, optarg, o, err, errsz)) != 0)
                return rc;
            break;
        case 'a': o->view.absolute = true; break;
        case 'H': o->view.header = false; break;
        case 'c': {
            char *end;
            o->view.count = strtol(optarg, &end, 10);
            if (*optarg < '1' || *optarg > '9' || *end || o->view.count <= 0)
                return config_fail(cfg, at, err, errsz,
                                   "--count '%s' must be a positive number of intervals", optarg);
            break;
        }
        case 'p': a->snap.procfs = optarg; break;
        case 's': a->snap.sysfs = optarg; break;
        case 'e': a->snap.ethtool_dir = optarg; break;
        case 'L':
            if (!optarg[0])
                return config_fail(cfg, at, err, errsz,
                                   "--onload-stackdump '' is empty (give the path of "
                                   "onload_stackdump, or none)");
            a->snap.onload_stackdump = optarg;
            break;
        case 'b': o->backend = optarg, backend_at = at; break;
        case 'C': a->cert = optarg; break;
        case 'D': a->spool_dir = optarg; break;
        case 'O':
            if (ts_parse_signed_duration(optarg, &o->test_clock_offset_ns) != 0)
                return config_fail(
                    cfg, at, err, errsz,
                    "--test-clock-offset '%s' is not a duration (e.g. 50ms or -50ms)", optarg);
            break;
        case 'P': {
            char after[64];
            const char *colon = strchr(optarg, ':');
            agent_clock_step_t *st = &a->test_clock_steps[a->ntest_clock_steps];
            if (!colon || colon - optarg >= (long)sizeof after ||
                a->ntest_clock_steps == AGENT_CLOCK_STEPS ||
                (snprintf(after, sizeof after, "%.*s", (int)(colon - optarg), optarg),
                 ts_parse_duration(after, &st->after_ns) != 0) ||
                ts_parse_signed_duration(colon + 1, &st->by_ns) != 0)
                return config_fail(cfg, at, err, errsz,
                                   "--test-clock-step '%s' is not AFTER:BY (e.g. "
                                   "3s:-1h), or more than %d were given",
                                   optarg, AGENT_CLOCK_STEPS);
            a->ntest_clock_steps++;
            break;
        }
        case 'R':
            if (ts_parse_duration(optarg, &a->test_rtt_extra_ns) != 0)
                return config_fail(cfg, at, err, errsz,
                                   "--test-rtt-extra '%s' is not a duration (e.g. 20ms)", optarg);
            break;
        case 'Z':
            if (s_parse_size(optarg, &a->spool_size) != 0)
                return config_fail(
                    cfg, at, err, errsz,
                    "--spool-size '%s' is not a size of at least 64K (e.g. 500K, 64M, 1G)", optarg);
            break;
        case 'S': a->server_cert = optarg; break;
        case 'Q':
            if (a->nprobes == PROBE_MAX)
                return config_fail(cfg, at, err, errsz, "--probe '%s': at most %d probes", optarg,
                                   PROBE_MAX);
            if (probe_parse(optarg, &o->probes[a->nprobes], err, errsz) != 0)
                return config_fail(cfg, at, err, errsz, "%s", err);
            for (size_t i = 0; i < a->nprobes; i++) /* one series name, two sockets */
                if (o->probes[i].port == o->probes[a->nprobes].port &&
                    strcmp(o->probes[i].group, o->probes[a->nprobes].group) == 0)
                    return config_fail(cfg, at, err, errsz,
                                       "--probe '%s': %s:%u is probed already (once on the "
                                       "command line or in --config is enough)",
                                       optarg, o->probes[i].group, o->probes[i].port);
            a->nprobes++;
            break;
        case 't':
            if (ts_parse_duration(optarg, &a->sampler.tick_ns) != 0 || a->sampler.tick_ns < 100000)
                return config_fail(cfg, at, err, errsz,
                                   "--tick '%s' is not a duration of at least 100us (e.g. 1ms)",
                                   optarg);
            break;
        case 'g':
            if (ts_parse_duration(optarg, &gap_ns) != 0)
                return config_fail(cfg, at, err, errsz,
                                   "--burst-gap '%s' is not a duration (e.g. 5ms)", optarg);
            break;
        case 'T': {
            char *end;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (*optarg < '1' || *optarg > '9' || *end || n == 0 || n > 100000000)
                return config_fail(
                    cfg, at, err, errsz,
                    "--burst-threshold '%s' must be a number of packets per ms from 1 to 100000000",
                    optarg);
            a->sampler.threshold_per_ms = n;
            break;
        }
        case 'o': o->once = true; break;
        case 'j': o->json = true; break;
        case 'I': o->insecure = true; break;
        case 'v': o->verbose = true; break;
        case 'K': break; /* read before the parse (config_path) */
        case 'h': s_usage(stdout); exit(0);
        case 'V': version_print(stdout, "dropscope-collector"); exit(0);
        case 'i':
            if (ts_parse_duration(optarg, &a->interval_ns) != 0 ||
                a->interval_ns < 10 * TS_NS_PER_MS)
                return config_fail(cfg, at, err, errsz,
                                   "--interval '%s' is not a duration of at least 10ms (e.g. 1s)",
                                   optarg);
            break;
        case 'F':
            a->full_every = atoi(optarg);
            if (a->full_every < 1)
                return config_fail(cfg, at, err, errsz,
                                   "--full-every '%s' must be a positive integer", optarg);
            break;
        default:
            return config_fail(cfg, at, err, errsz,
                               "unknown or incomplete option '%s' (see --help)", argv[at]);
        }
    }
    /* --watch 500ms as well as --watch=500ms (getopt takes only the latter) */
    if (optind < argc && o->watch && !o->view.interval_ns) {
        if ((rc = s_watch_interval(cfg, optind, argv[optind], o, err, errsz)) != 0)
            return rc;
        optind++;
    }
    if (optind < argc)
        return config_fail(cfg, -1, err, errsz, "unexpected argument '%s' (see --help)",
                           argv[optind]);
    if (o->watch && !o->view.interval_ns)
        o->view.interval_ns = TS_NS_PER_S;
    if (o->once && o->watch)
        return config_fail(cfg, -1, err, errsz, "--once or --watch: one of them");
    if (!o->once && !o->watch && (o->json || o->view.absolute || o->view.count || !o->view.header))
        return config_fail(cfg, -1, err, errsz,
                           "-a, -j, -H and -c go with --watch (or -j and -H with --once): they "
                           "choose what it prints");
    if (o->once && (o->view.absolute || o->view.count))
        return config_fail(cfg, -1, err, errsz,
                           "-a and -c go with --watch (--once prints values, once)");
    a->sampler.gap_ns = gap_ns ? gap_ns : 5 * a->sampler.tick_ns;
    static const char *const backends[] = {[AGENT_BACKEND_NONE] = "none",
                                           [AGENT_BACKEND_AUTO] = "auto",
                                           [AGENT_BACKEND_NETLINK] = "netlink",
                                           [AGENT_BACKEND_EBPF] = "ebpf"};
    size_t b = 0;
    while (b < sizeof backends / sizeof backends[0] && strcmp(o->backend, backends[b]) != 0)
        b++;
    if (b == sizeof backends / sizeof backends[0])
        return config_fail(cfg, backend_at, err, errsz,
                           "--backend '%s' is not one of auto, ebpf, netlink, "
                           "none",
                           o->backend);
    a->backend = (agent_backend_t)b;
    bool local = o->once || o->watch; /* nothing is sent */
    if (!local && !a->nconnect)
        return config_fail(cfg, -1, err, errsz,
                           "--connect ENDPOINT is required (or --watch or --once: this host "
                           "alone)");
    if (!local && o->insecure && (a->cert || a->server_cert))
        return config_fail(cfg, -1, err, errsz,
                           "--insecure turns CurveZMQ off; do not combine it "
                           "with --cert/--server-cert");
    if (!local && !o->insecure && (!a->cert || !a->server_cert))
        return config_fail(cfg, -1, err, errsz,
                           "CurveZMQ needs --cert PATH_secret and --server-cert "
                           "PATH (make keys with `dropscope keygen PATH`), or pass --insecure to "
                           "send in plain text");
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

/* The host name to send: --host-name, else this machine's (escaped if it
 * must be; clean holds it). 0, or 2 after printing why it cannot be. */
static int s_host(agent_opts_t *a, char clean[TEXT_MAX + 1])
{
    char hostname[256] = "";
    if (!a->host) {
        gethostname(hostname, sizeof hostname - 1);
        if (text_escape_name(hostname, clean, TEXT_MAX + 1))
            fprintf(stderr,
                    "dropscope-collector: this machine's name is not a host name as "
                    "dropscope takes them (letters, digits and . _ - : @ + # [ ] %%); "
                    "reporting as %s (pass --host-name to choose)\n",
                    clean);
        a->host = clean;
    }
    if (!a->host[0] || !text_is_name(a->host)) {
        text_escape(a->host, clean, TEXT_MAX + 1);
        fprintf(stderr,
                "dropscope-collector: --host-name '%s' is not a host name: 1 to %d of "
                "letters, digits and . _ - : @ + # [ ] %%\n",
                clean, TEXT_MAX);
        return 2;
    }
    return 0;
}

/* A reload (SIGHUP, on the agent's thread): the burst options into *burst
 * for the sampler, the log level here. */
static void s_reload(void *ctx, sampler_opts_t *burst)
{
    config_reload_t *r = ctx;
    opts_t o;
    if (!config_reload(r, &o))
        return;
    log_set_level(o.verbose ? LOGL_DEBUG : LOGL_INFO);
    /* Without --burst-gap the gap is 5 ticks of the tick that runs, not of
     * a --tick the file may have changed (which needs a restart). */
    char *gap = config_value(r->applied, "burst-gap");
    burst->threshold_per_ms = o.agent.sampler.threshold_per_ms;
    burst->gap_ns = gap ? o.agent.sampler.gap_ns : 5 * burst->tick_ns;
    free(gap);
}

int main(int argc, char **argv)
{
    log_init("dropscope-collector", LOGL_INFO);
    char clean[TEXT_MAX + 1];
    opts_t o;
    config_reload_t reload;
    int rc = config_start(&reload, "dropscope-collector", argc, argv, s_longopts, s_reloadable,
                          s_repeatable,
                          s_parse, &o);
    if (rc != 0)
        return rc;
    /* At a terminal (--watch, --once) only what goes wrong is logged. */
    log_init("dropscope-collector", o.verbose  ? LOGL_DEBUG
                                    : o.watch || o.once ? LOGL_WARN
                                                        : LOGL_INFO);
    if (o.test_clock_offset_ns)
        ts_set_offset_for_testing(o.test_clock_offset_ns);
    if (s_host(&o.agent, clean) != 0) {
        rc = 2;
    } else if (o.watch || (o.once && !o.json)) {
        signal(SIGPIPE, SIG_IGN); /* `| head`: a failed write ends it */
        o.view.json = o.json;
        rc = watch_run(&o.agent, o.agent.host, &o.view, stop_install(), stdout);
    } else if (o.once) {
        rc = s_once(&o, o.agent.host);
    } else {
        o.agent.reload = s_reload;
        o.agent.reload_ctx = &reload;
        zsys_handler_set(NULL); /* our own handlers, not czmq's */
        rc = agent_run(&o.agent, stop_install());
    }
    config_stop(&reload);
    return rc;
}
