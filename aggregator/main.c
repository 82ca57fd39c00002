/* dropscope-aggregator: receives collector batches over ZeroMQ, stores them
 * in SQLite and serves the HTTP API. Exit codes: 0 ok, 1 runtime failure,
 * 2 bad usage. */
#define _GNU_SOURCE
#include <czmq.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "config.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "notify.h"
#include "stop.h"
#include "store.h"
#include "ts.h"
#include "validate.h"
#include "version.h"

typedef struct {
    const char *db;
    const char *clickhouse;    /* its URL, instead of --db */
    const char *ch_user, *ch_password, *ch_cluster; /* the config file's */
    const char *listen;
    const char *http;
    const char *cert;  /* CurveZMQ secret certificate */
    const char *allow; /* directory of admitted collectors' public certificates */
    bool insecure;
    bool verbose;
    store_retention_t retention;
    int64_t max_skew_ns;      /* how far ahead of our clock a collector's times may be */
    int64_t query_timeout_ns; /* an HTTP query running longer is stopped (503) */
    int64_t max_hosts;        /* hosts in the database; a new one beyond is refused */
    const char *alertmanager; /* Alertmanager's base URL, or NULL */
    const char *webhook;      /* the webhook's URL, or NULL */
    const char *public_url;   /* the web view's base for alerts' links, or NULL: --http */
    const char *name;         /* ours in /api/hosts, or NULL: HOSTNAME:PORT of --listen */
} opts_t;

static const struct option s_longopts[] = {{"db", required_argument, NULL, 'd'},
                                           {"listen", required_argument, NULL, 'l'},
                                           {"http", required_argument, NULL, 'H'},
                                           {"insecure", no_argument, NULL, 'I'},
                                           {"cert", required_argument, NULL, 'C'},
                                           {"allow", required_argument, NULL, 'A'},
                                           {"verbose", no_argument, NULL, 'v'},
                                           {"help", no_argument, NULL, 'h'},
                                           {"version", no_argument, NULL, 'V'},
                                           {"config", required_argument, NULL, 'K'},
                                           {"retention-raw", required_argument, NULL, 'R'},
                                           {"retention-rollups", required_argument, NULL, 'U'},
                                           {"max-skew", required_argument, NULL, 'S'},
                                           {"query-timeout", required_argument, NULL, 'Q'},
                                           {"max-hosts", required_argument, NULL, 'M'},
                                           {"alertmanager", required_argument, NULL, 'm'},
                                           {"webhook", required_argument, NULL, 'w'},
                                           {"public-url", required_argument, NULL, 'p'},
                                           {"name", required_argument, NULL, 'N'},
                                           {"clickhouse", required_argument, NULL, 'c'},
                                           {"clickhouse-user", required_argument, NULL, 'u'},
                                           {"clickhouse-password", required_argument, NULL, 'P'},
                                           {"clickhouse-cluster", required_argument, NULL, 'G'},
                                           {NULL, 0, NULL, 0}};

/* The options a reload applies (s_apply); any other change needs a restart. */
static const char *const s_reloadable[] = {"verbose",       "max-skew",          "max-hosts",
                                           "retention-raw", "retention-rollups", NULL};

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: dropscope-aggregator --db PATH --cert PATH_secret --allow DIR [options]\n"
        "   or: dropscope-aggregator --db PATH --insecure [options]\n"
        "   or: dropscope-aggregator --config FILE [options]\n"
        "\n"
        "Receives drop counters from dropscope collectors, keeps them in a SQLite file and\n"
        "serves the JSON API that the dropscope CLI reads.\n"
        "\n"
        "Options:\n"
        "  --config FILE      read options from FILE first: one `key = value` a line, the keys\n"
        "                     being the long options here without the dashes (`max-skew = 10m`),\n"
        "                     `true` or `false` for those without a value (`insecure = true`),\n"
        "                     each key once; lines starting with # are comments. The command\n"
        "                     line overrides the file; help, version and config are not keys\n"
        "  --db PATH          SQLite database file (created and migrated if needed)\n"
        "  --clickhouse URL   store in ClickHouse instead, e.g.\n"
        "                     http://127.0.0.1:8123/?database=dropscope (the database and\n"
        "                     its tables are created if needed; several aggregators may share\n"
        "                     it). The config file, never the command line, may give\n"
        "                     `clickhouse-user` and `clickhouse-password`\n"
        "  --clickhouse-cluster NAME\n"
        "                     the ClickHouse servers are the cluster NAME of their\n"
        "                     remote_servers: tables replicated (ZooKeeper) and sharded by\n"
        "                     host, each insert kept by two replicas before it is\n"
        "                     acknowledged (docs/CLICKHOUSE.md)\n"
        "  --listen ENDPOINT  ZeroMQ endpoint for collectors (default tcp://0.0.0.0:7420;\n"
        "                     ipc:///path works too)\n"
        "  --http HOST:PORT   HTTP API address (default 127.0.0.1:7421)\n"
        "  --cert PATH_secret\n"
        "                     our CurveZMQ keypair (`dropscope keygen PATH` writes PATH and\n"
        "                     PATH_secret; give PATH to collectors as --server-cert)\n"
        "  --allow DIR        admit only collectors whose public certificate is in DIR\n"
        "                     (re-read when it changes, and on SIGHUP)\n"
        "  --insecure         accept plain-text collectors from anyone who can connect\n"
        "  --retention-raw DURATION\n"
        "                     keep every batch this long (default 14d); older data lives on\n"
        "                     in the minute and hour rollups\n"
        "  --retention-rollups DURATION\n"
        "                     keep rollups, drops and bursts this long (default 396d, about\n"
        "                     13 months)\n"
        "  --max-skew DURATION\n"
        "                     refuse (ACK_REJECTED) messages whose times are more than this\n"
        "                     ahead of our clock (default 1d); times older than\n"
        "                     --retention-raw are refused too\n"
        "  --query-timeout DURATION\n"
        "                     stop an HTTP API query that runs longer and answer 503 with\n"
        "                     what to narrow (default 10s); /healthz and /metrics are\n"
        "                     answered apart from queries, and never wait for them\n"
        "  --max-hosts N      refuse (ACK_REJECTED) messages of new hosts once the database\n"
        "                     holds N (default %d): a stream of made-up host names\n"
        "                     cannot grow the database and the caches without bound\n"
        "  --alertmanager URL\n"
        "                     post alerts to the Alertmanager at URL (API v2, e.g.\n"
        "                     http://127.0.0.1:9093): DropscopeIncident for each fleet\n"
        "                     incident found live, DropscopeDrops when a host starts\n"
        "                     dropping at a layer (docs/ALERTS.md)\n"
        "  --webhook URL      post the same events to URL, one JSON object each\n"
        "                     (docs/ALERTS.md)\n"
        "  --public-url URL   the web view's address in alerts' links, when people open\n"
        "                     another than --http (e.g. https://dropscope.example.com)\n"
        "  --name NAME        this aggregator's name, shown in /api/hosts for the hosts\n"
        "                     whose latest message it stored (collectors that list several\n"
        "                     aggregators with --connect fail over between them; default:\n"
        "                     this machine's hostname and the --listen port, HOST:7420);\n"
        "                     of the aggregators on one ClickHouse, the least name alive\n"
        "                     reports the fleet's live incidents (docs/CLICKHOUSE.md)\n"
        "  --verbose          log debug messages\n"
        "  --help             this text\n"
        "  --version          the version, and the git commit it was built from\n"
        "\n"
        "SIGHUP re-reads the --config file with the same command line: changes of\n"
        "--verbose, --max-skew, --max-hosts, --retention-raw and --retention-rollups apply at\n"
        "once, the --allow directory is re-read, and a change of any other option is logged\n"
        "as needing a restart; a file that no longer reads is logged and the settings in use\n"
        "stay. SIGTERM and SIGINT stop. Under systemd (Type=notify) it reports readiness\n"
        "once the collectors' socket and the HTTP API are bound, then its status and\n"
        "reloads, and pings WatchdogSec= from its ingest loop.\n"
        "\n"
        "Exit codes: 0 stopped when asked, 1 runtime failure, 2 bad usage or --config file.\n",
        STORE_MAX_HOSTS_DEFAULT);
}

/* Parses the config's argv (the --config file's options, then the command
 * line's) into o, without side effects, so a reload can parse again.
 * 0, or 2 with the reason in err. */
static int s_parse(config_t *cfg, void *opts, char *err, size_t errsz)
{
    opts_t *o = opts;
    int argc = config_argc(cfg);
    char **argv = config_argv(cfg);
    *o = (opts_t){.listen = "tcp://0.0.0.0:7420",
                  .http = "127.0.0.1:7421",
                  .retention = STORE_RETENTION_DEFAULT,
                  .max_skew_ns = VALIDATE_SKEW_DEFAULT_NS,
                  .query_timeout_ns = HTTP_QUERY_TIMEOUT_DEFAULT_NS,
                  .max_hosts = STORE_MAX_HOSTS_DEFAULT};
    int c;
    optind = 0; /* glibc: a fresh parse (a reload parses again) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", s_longopts, NULL)) != -1) {
        int at = optind - 1; /* the element holding the option, or its argument */
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'c': o->clickhouse = optarg; break;
        case 'G': o->ch_cluster = optarg; break;
        case 'u':
        case 'P':
            if (!config_where(cfg, at)[0])
                return config_fail(cfg, at, err, errsz,
                                   "--%s belongs in the --config file (mode 0600), never on "
                                   "the command line, where every user's ps shows it",
                                   c == 'u' ? "clickhouse-user" : "clickhouse-password");
            *(c == 'u' ? &o->ch_user : &o->ch_password) = optarg;
            break;
        case 'l': o->listen = optarg; break;
        case 'H': o->http = optarg; break;
        case 'I': o->insecure = true; break;
        case 'C': o->cert = optarg; break;
        case 'A': o->allow = optarg; break;
        case 'K': break; /* read before the parse (config_path) */
        case 'N':
            if (!optarg[0] || strlen(optarg) > 127)
                return config_fail(cfg, at, err, errsz,
                                   "--name '%s' must be 1 to 127 bytes (e.g. agg1.example.com)",
                                   optarg);
            o->name = optarg;
            break;
        case 'v': o->verbose = true; break;
        case 'R':
        case 'U': {
            int64_t *v = c == 'R' ? &o->retention.raw_ns : &o->retention.rollup_ns;
            if (ts_parse_duration(optarg, v) != 0 || *v < TS_NS_PER_S * 60)
                return config_fail(cfg, at, err, errsz,
                                   "--%s '%s' is not a duration of a minute or "
                                   "more (e.g. 14d)",
                                   c == 'R' ? "retention-raw" : "retention-rollups", optarg);
            break;
        }
        case 'S':
            if (ts_parse_duration(optarg, &o->max_skew_ns) != 0 || o->max_skew_ns < TS_NS_PER_S)
                return config_fail(cfg, at, err, errsz,
                                   "--max-skew '%s' is not a duration of a "
                                   "second or more (e.g. 1d, 10m)",
                                   optarg);
            break;
        case 'Q':
            if (ts_parse_duration(optarg, &o->query_timeout_ns) != 0 ||
                o->query_timeout_ns < TS_NS_PER_MS || o->query_timeout_ns > 3600 * TS_NS_PER_S)
                return config_fail(cfg, at, err, errsz,
                                   "--query-timeout '%s' is not a duration "
                                   "from 1ms to 1h (e.g. 10s)",
                                   optarg);
            break;
        case 'M': {
            char *end;
            long long n = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end || n < 1 || n > INT32_MAX)
                return config_fail(cfg, at, err, errsz,
                                   "--max-hosts '%s' is not a number of hosts "
                                   "from 1 to %d",
                                   optarg, INT32_MAX);
            o->max_hosts = n;
            break;
        }
        case 'm':
        case 'w':
        case 'p':
            if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0)
                return config_fail(cfg, at, err, errsz,
                                   "--%s '%s' is not an http:// or https:// URL (e.g. %s)",
                                   c == 'm' ? "alertmanager" : c == 'w' ? "webhook" : "public-url",
                                   optarg, c == 'm' ? "http://127.0.0.1:9093"
                                           : c == 'w' ? "http://127.0.0.1:8080/hook"
                                                      : "https://dropscope.example.com");
            *(c == 'm' ? &o->alertmanager : c == 'w' ? &o->webhook : &o->public_url) = optarg;
            break;
        case 'h': s_usage(stdout); exit(0);
        case 'V': version_print(stdout, "dropscope-aggregator"); exit(0);
        default:
            return config_fail(cfg, at, err, errsz,
                               "unknown or incomplete option '%s' (see --help)", argv[at]);
        }
    }
    if (optind < argc)
        return config_fail(cfg, -1, err, errsz, "unexpected argument '%s' (see --help)",
                           argv[optind]);
    if (!o->db == !o->clickhouse)
        return config_fail(cfg, -1, err, errsz,
                           "give either --db PATH (e.g. --db ./var/dropscope.db) or --clickhouse "
                           "URL (e.g. http://127.0.0.1:8123/?database=dropscope)");
    if (o->retention.rollup_ns < o->retention.raw_ns)
        return config_fail(cfg, -1, err, errsz,
                           "--retention-rollups must be at least "
                           "--retention-raw (rollups outlive the raw data they sum up)");
    if (o->insecure && (o->cert || o->allow))
        return config_fail(cfg, -1, err, errsz,
                           "--insecure turns CurveZMQ off; do not combine it "
                           "with --cert/--allow");
    if (!o->insecure && (!o->cert || !o->allow))
        return config_fail(cfg, -1, err, errsz,
                           "CurveZMQ needs --cert PATH_secret and --allow DIR "
                           "(make keys with `dropscope keygen PATH`), or pass --insecure to accept "
                           "plain text");
    return 0;
}

/* Our name when --name is not given: the hostname, and the port of a tcp://
 * --listen, so that two aggregators on one machine differ. */
static void s_default_name(const char *listen, char *name, size_t size)
{
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    const char *port = strncmp(listen, "tcp://", 6) == 0 ? strrchr(listen, ':') : NULL;
    snprintf(name, size, "%s%s", host, port && port > listen + 5 ? port : "");
}

/* What a reload (SIGHUP, on the ingest thread) reads again and changes. */
typedef struct {
    config_reload_t config;
    opts_t *o; /* the options in use */
    ingest_t *ingest;
    store_t *store;
} reload_t;

/* The options s_reloadable names, from o; at the start and on a reload. */
static void s_apply(reload_t *r, const opts_t *o)
{
    log_set_level(o->verbose ? LOGL_DEBUG : LOGL_INFO);
    r->o->verbose = o->verbose;
    r->o->retention = o->retention;
    r->o->max_skew_ns = o->max_skew_ns;
    r->o->max_hosts = o->max_hosts;
    ingest_set_retention(r->ingest, &o->retention);
    ingest_set_max_skew(r->ingest, o->max_skew_ns);
    store_set_max_hosts(r->store, o->max_hosts);
}

static void s_reload(void *ctx)
{
    reload_t *r = ctx;
    opts_t o;
    if (!config_reload(&r->config, &o))
        return;
    s_apply(r, &o);
    if (r->o->allow)
        ingest_reload_allow(r->ingest);
}

/* store_migrate's progress: posted for /healthz, and to systemd, which
 * then waits for READY=1 beyond its start timeout while migrations run. */
static void s_on_migration(void *ctx, const store_migration_t *m)
{
    stats_migration_t posted = {
        .index = m->index, .count = m->count, .started_ns = ts_now_ns() - m->elapsed_ns};
    snprintf(posted.name, sizeof posted.name, "%s", m->name);
    stats_set_migration(ctx, &posted);
    notify_progress(3 * STORE_PROGRESS_NS / TS_NS_PER_S, "migrating the database: %d of %d (%s)",
                    m->index, m->count, m->name);
}

/* The alert senders and their watch, when --alertmanager or --webhook is
 * given; the watch's state lives beside a SQLite database (DB.alerts). On
 * ClickHouse it is kept in memory: the live incidents reported are in the
 * store, and a restart raises the drops alerts still firing again. */
static int s_alerts_start(const opts_t *o, stats_board_t *stats, alerts_watch_t **watch,
                          alerts_t **alerts, char *err, size_t errsz)
{
    if (!o->alertmanager && !o->webhook)
        return 0;
    char state[4096], link[512];
    snprintf(state, sizeof state, "%s.alerts", o->db ? o->db : "");
    if (o->public_url)
        snprintf(link, sizeof link, "%.*s", (int)strcspn(o->public_url, "#"), o->public_url);
    else
        snprintf(link, sizeof link, "http://%s", o->http);
    size_t n = strlen(link);
    while (n > 8 && link[n - 1] == '/')
        link[--n] = '\0';
    alerts_config_t cfg = {.alertmanager = o->alertmanager, .webhook = o->webhook,
                           .link_base = link, .db = o->db ? o->db : o->clickhouse};
    if (!(*watch = alerts_watch_new(o->db ? state : NULL, ALERTS_QUIET_NS, ALERTS_REPOST_NS,
                                    ts_now_ns(), err, errsz)) ||
        !(*alerts = alerts_new(&cfg, stats, err, errsz)))
        return -1;
    log_info("aggregator: alerts go to%s%s%s%s (state in %s, %zu drops alerts active)",
             o->alertmanager ? " Alertmanager " : "", o->alertmanager ? o->alertmanager : "",
             o->webhook ? " webhook " : "", o->webhook ? o->webhook : "",
             o->db ? state : "memory only", alerts_watch_active(*watch));
    return 0;
}

int main(int argc, char **argv)
{
    log_init("dropscope-aggregator", LOGL_INFO);
    char err[512];
    opts_t o;
    reload_t reload = {.o = &o};
    int rc = config_start(&reload.config, "dropscope-aggregator", argc, argv, s_longopts,
                          s_reloadable, NULL, s_parse, &o);
    if (rc != 0)
        return rc;
    log_init("dropscope-aggregator", o.verbose ? LOGL_DEBUG : LOGL_INFO);
    zsys_handler_set(NULL); /* our own handlers, not czmq's */
    volatile sig_atomic_t *stop = stop_install();

    stats_board_t *stats = stats_board_new();
    /* The store's path or URL: readers (HTTP, alerts) open it too. */
    const char *target = o.db ? o.db : o.clickhouse;
    store_set_auth(o.ch_user, o.ch_password, o.ch_cluster);
    store_t *store = store_open_unmigrated(target, err, sizeof err);
    ingest_t *ingest = NULL;
    http_t *http = NULL;
    alerts_watch_t *watch = NULL;
    alerts_t *alerts = NULL;
    reload.store = store;
    rc = 1;
    if (!stats || !store) {
        log_error("aggregator: %s", stats ? err : "out of memory");
        goto out;
    }
    /* The HTTP API first: while the schema migrates (minutes, on a large
     * database) /healthz answers "migrating" rather than nothing. */
    ingest_security_t sec = {o.cert, o.allow};
    if (!(http = http_new(o.http, target, stats, o.query_timeout_ns, err, sizeof err)) ||
        store_migrate(store, s_on_migration, stats, err, sizeof err) != 0) {
        log_error("aggregator: %s", err);
        goto out;
    }
    stats_set_migration(stats, NULL);
    char name[128];
    s_default_name(o.listen, name, sizeof name);
    store_set_name(store, o.name ? o.name : name);
    if (!(ingest = ingest_new(o.listen, o.insecure ? NULL : &sec, store, stats, err, sizeof err))) {
        log_error("aggregator: %s", err);
        goto out;
    }
    reload.ingest = ingest;
    if (s_alerts_start(&o, stats, &watch, &alerts, err, sizeof err) != 0) {
        log_error("aggregator: %s", err);
        goto out;
    }
    ingest_set_alerts(ingest, watch, alerts);
    if (store_shared(store) &&
        ingest_share_live(ingest, target, o.name ? o.name : name, err, sizeof err) != 0) {
        log_error("aggregator: %s", err);
        goto out;
    }
    s_apply(&reload, &o); /* log level, retention, skew, host bound */
    ingest_set_reload(ingest, s_reload, &reload);
    if (o.insecure)
        log_warn("aggregator: --insecure: collectors connect in plain text, anyone who can "
                 "reach %s can store data, and any peer can claim any host",
                 o.listen);
    log_info("aggregator: %s, storing in %s, collectors connect to %s (%s), HTTP API on "
             "http://%s/", o.name ? o.name : name, target, o.listen,
             o.insecure ? "plain text" : "CurveZMQ, allow-list", o.http);
    /* Both sockets are bound: collectors can connect, the API answers. */
    notify_ready("serving: collectors on %s, HTTP API on http://%s/", o.listen, o.http);
    ingest_run(ingest, stop);
    notify_stopping();
    log_info("aggregator: stopping");
    rc = 0;
out:
    http_destroy(&http);
    ingest_destroy(&ingest);
    alerts_destroy(&alerts); /* after ingest: nothing queues any more */
    alerts_watch_destroy(&watch);
    store_close(&store);
    stats_board_destroy(&stats);
    config_stop(&reload.config);
    return rc;
}
