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

#include "http.h"
#include "ingest.h"
#include "log.h"
#include "stop.h"
#include "store.h"
#include "ts.h"
#include "validate.h"
#include "version.h"

typedef struct {
    const char *db;
    const char *listen;
    const char *http;
    const char *cert;  /* CurveZMQ secret certificate */
    const char *allow; /* directory of admitted collectors' public certificates */
    bool insecure;
    store_retention_t retention;
    int64_t max_skew_ns; /* how far ahead of our clock a collector's times may be */
    int64_t query_timeout_ns; /* an HTTP query running longer is stopped (503) */
    int64_t max_hosts; /* hosts in the database; a new one beyond is refused */
} opts_t;

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: dropscope-aggregator --db PATH (--cert PATH_secret --allow DIR | --insecure)\n"
            "                            [options]\n"
            "\n"
            "Receives drop counters from dropscope collectors, keeps them in a SQLite file and\n"
            "serves the JSON API that the dropscope CLI reads.\n"
            "\n"
            "  --db PATH          SQLite database file (created and migrated if needed)\n"
            "  --listen ENDPOINT  ZeroMQ endpoint for collectors (default tcp://0.0.0.0:7420;\n"
            "                     ipc:///path works too)\n"
            "  --http HOST:PORT   HTTP API address (default 127.0.0.1:7421)\n"
            "  --cert PATH_secret our CurveZMQ keypair (`dropscope keygen PATH` writes PATH and\n"
            "                     PATH_secret; give PATH to collectors as --server-cert)\n"
            "  --allow DIR        admit only collectors whose public certificate is in DIR\n"
            "                     (re-read when it changes)\n"
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
            "  --verbose          log debug messages\n"
            "  --help             this text\n"
            "  --version          the version, and the git commit it was built from\n",
            STORE_MAX_HOSTS_DEFAULT);
}

static int s_parse(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},   {"listen", required_argument, NULL, 'l'},
        {"http", required_argument, NULL, 'H'}, {"insecure", no_argument, NULL, 'I'},
        {"cert", required_argument, NULL, 'C'}, {"allow", required_argument, NULL, 'A'},
        {"verbose", no_argument, NULL, 'v'},    {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"retention-raw", required_argument, NULL, 'R'},
        {"retention-rollups", required_argument, NULL, 'U'},
        {"max-skew", required_argument, NULL, 'S'},
        {"query-timeout", required_argument, NULL, 'Q'},
        {"max-hosts", required_argument, NULL, 'M'},
        {NULL, 0, NULL, 0}};
    *o = (opts_t){NULL,  "tcp://0.0.0.0:7420",     "127.0.0.1:7421",        NULL, NULL,
                  false, STORE_RETENTION_DEFAULT, VALIDATE_SKEW_DEFAULT_NS,
                  HTTP_QUERY_TIMEOUT_DEFAULT_NS, STORE_MAX_HOSTS_DEFAULT};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'H': o->http = optarg; break;
        case 'I': o->insecure = true; break;
        case 'C': o->cert = optarg; break;
        case 'A': o->allow = optarg; break;
        case 'v': log_init("dropscope-aggregator", LOGL_DEBUG); break;
        case 'R':
        case 'U': {
            int64_t *v = c == 'R' ? &o->retention.raw_ns : &o->retention.rollup_ns;
            if (ts_parse_duration(optarg, v) != 0 || *v < TS_NS_PER_S * 60) {
                fprintf(stderr, "dropscope-aggregator: --%s '%s' is not a duration of a minute or "
                                "more (e.g. 14d)\n", c == 'R' ? "retention-raw" : "retention-rollups",
                        optarg);
                return 2;
            }
            break;
        }
        case 'S':
            if (ts_parse_duration(optarg, &o->max_skew_ns) != 0 || o->max_skew_ns < TS_NS_PER_S) {
                fprintf(stderr, "dropscope-aggregator: --max-skew '%s' is not a duration of a "
                                "second or more (e.g. 1d, 10m)\n", optarg);
                return 2;
            }
            break;
        case 'Q':
            if (ts_parse_duration(optarg, &o->query_timeout_ns) != 0 ||
                o->query_timeout_ns < TS_NS_PER_MS || o->query_timeout_ns > 3600 * TS_NS_PER_S) {
                fprintf(stderr, "dropscope-aggregator: --query-timeout '%s' is not a duration "
                                "from 1ms to 1h (e.g. 10s)\n", optarg);
                return 2;
            }
            break;
        case 'M': {
            char *end;
            long long n = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end || n < 1 || n > INT32_MAX) {
                fprintf(stderr, "dropscope-aggregator: --max-hosts '%s' is not a number of hosts "
                                "from 1 to %d\n", optarg, INT32_MAX);
                return 2;
            }
            o->max_hosts = n;
            break;
        }
        case 'h': s_usage(stdout); exit(0);
        case 'V': version_print(stdout, "dropscope-aggregator"); exit(0);
        default:
            fprintf(stderr, "dropscope-aggregator: unknown or incomplete option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "dropscope-aggregator: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (!o->db) {
        fprintf(stderr, "dropscope-aggregator: --db PATH is required (e.g. --db ./var/dropscope.db)\n");
        return 2;
    }
    if (o->retention.rollup_ns < o->retention.raw_ns) {
        fprintf(stderr, "dropscope-aggregator: --retention-rollups must be at least "
                        "--retention-raw (rollups outlive the raw data they sum up)\n");
        return 2;
    }
    if (o->insecure && (o->cert || o->allow)) {
        fprintf(stderr, "dropscope-aggregator: --insecure turns CurveZMQ off; do not combine it "
                        "with --cert/--allow\n");
        return 2;
    }
    if (!o->insecure && (!o->cert || !o->allow)) {
        fprintf(stderr, "dropscope-aggregator: CurveZMQ needs --cert PATH_secret and --allow DIR "
                        "(make keys with `dropscope keygen PATH`), or pass --insecure to accept "
                        "plain text\n");
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    log_init("dropscope-aggregator", LOGL_INFO);
    opts_t o;
    int rc = s_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    zsys_handler_set(NULL); /* our own handlers, not czmq's */
    volatile sig_atomic_t *stop = stop_install();

    char err[512];
    stats_board_t *stats = stats_board_new();
    store_t *store = store_open(o.db, true, err, sizeof err);
    ingest_t *ingest = NULL;
    http_t *http = NULL;
    rc = 1;
    if (!stats || !store) {
        log_error("aggregator: %s", stats ? err : "out of memory");
        goto out;
    }
    ingest_security_t sec = {o.cert, o.allow};
    if (!(ingest = ingest_new(o.listen, o.insecure ? NULL : &sec, store, stats, err, sizeof err)) ||
        !(http = http_new(o.http, o.db, stats, o.query_timeout_ns, err, sizeof err))) {
        log_error("aggregator: %s", err);
        goto out;
    }
    ingest_set_retention(ingest, &o.retention);
    ingest_set_max_skew(ingest, o.max_skew_ns);
    store_set_max_hosts(store, o.max_hosts);
    if (o.insecure)
        log_warn("aggregator: --insecure: collectors connect in plain text, anyone who can "
                 "reach %s can store data, and any peer can claim any host", o.listen);
    log_info("aggregator: storing in %s, collectors connect to %s (%s), HTTP API on http://%s/",
             o.db, o.listen, o.insecure ? "plain text" : "CurveZMQ, allow-list", o.http);
    ingest_run(ingest, stop);
    log_info("aggregator: stopping");
    rc = 0;
out:
    http_destroy(&http);
    ingest_destroy(&ingest);
    store_close(&store);
    stats_board_destroy(&stats);
    return rc;
}
