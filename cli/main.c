/* dropscope: the command-line client of the aggregator's HTTP API. Human
 * tables by default, the API's JSON with --json. Exit codes: 0 ok,
 * 1 runtime failure (aggregator unreachable or failing), 2 bad usage. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "layer.h"
#include "table.h"
#include "ts.h"

#define DEFAULT_SERVER "http://127.0.0.1:7421"

typedef struct {
    const char *server;
    bool json;
} global_t;

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: dropscope [--server URL] COMMAND [options] [--json]\n"
            "\n"
            "Queries a dropscope aggregator (default %s, or $DROPSCOPE_SERVER).\n"
            "\n"
            "commands:\n"
            "  hosts                 one row per host: last seen, backend, series, kernel\n"
            "  drops [--host H] [--layer L] [--since 1h | --from T [--to T]] [--step 1m]\n"
            "        [--limit N]     drop deltas by host, counter and layer, oldest first\n"
            "\n"
            "  --json                print the API's JSON (arrays of objects) instead of a table\n"
            "  --help                this text\n"
            "\n"
            "Layers: nic backlog budget socket listen proto qdisc onload.\n"
            "Durations: 500ms 90s 15m 1h 7d. Times: RFC 3339 (2026-11-22T14:59:30Z) or ns since\n"
            "the epoch.\n",
            DEFAULT_SERVER);
}

static int s_bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "dropscope: <reason> (see dropscope --help)" and returns 2. */
static int s_bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("dropscope: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see dropscope --help)\n", stderr);
    va_end(ap);
    return 2;
}

static const char *s_str(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : "";
}

static long long s_int(json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

static int s_print_json(json_t *doc)
{
    json_dumpf(doc, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    return 0;
}

/* --- hosts ------------------------------------------------------------------ */

static int s_hosts(const global_t *g, int argc, char **argv)
{
    if (argc > 1)
        return s_bad_usage("hosts takes no arguments, got '%s'", argv[1]);
    int code;
    json_t *doc = client_get(g->server, "/api/hosts", &code);
    if (!doc)
        return code;
    if (g->json) {
        s_print_json(doc);
        json_decref(doc);
        return 0;
    }
    static const char *const headers[] = {"HOST", "LAST SEEN", ">AGO", "BACKEND", ">SERIES", "KERNEL", "BOOT ID"};
    table_t *t = table_new(7, headers);
    int64_t now = ts_now_ns();
    size_t i;
    json_t *h;
    json_array_foreach(doc, i, h) {
        char seen[40], ago[32], series[24];
        int64_t last = s_int(h, "last_seen_ns");
        ts_format(last, seen, sizeof seen);
        snprintf(ago, sizeof ago, "%llds", (long long)((now - last) / TS_NS_PER_S));
        snprintf(series, sizeof series, "%lld", s_int(h, "series"));
        const char *cells[] = {s_str(h, "host"), seen, ago, s_str(h, "backend"), series,
                               s_str(h, "kernel"), s_str(h, "boot_id")};
        table_add(t, cells);
    }
    table_print(t, stdout);
    if (json_array_size(doc) == 0)
        printf("(no host has reported yet: start a collector with --connect to this aggregator)\n");
    table_destroy(&t);
    json_decref(doc);
    return 0;
}

/* --- drops ------------------------------------------------------------------ */

/* Checks the drops options locally, so a typo gets a precise message
 * without a round trip, and builds the query string. */
static int s_drops_query(int argc, char **argv, char *query, size_t size)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'}, {"layer", required_argument, NULL, 'l'},
        {"since", required_argument, NULL, 's'}, {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},   {"step", required_argument, NULL, 'S'},
        {"limit", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
    static const char *const names[] = {['h'] = "host", ['l'] = "layer", ['s'] = "since",
                                        ['f'] = "from", ['t'] = "to",    ['S'] = "step",
                                        ['n'] = "limit"};
    snprintf(query, size, "/api/drops");
    bool since = false, range = false;
    int c;
    int64_t v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (!layer_is_drop(layer_from_name(optarg)))
                return s_bad_usage("--layer '%s' is not one of nic backlog budget socket listen "
                                   "proto qdisc onload", optarg);
            break;
        case 's':
        case 'S':
            if (ts_parse_duration(optarg, &v) != 0)
                return s_bad_usage("'%s' is not a duration (e.g. 90s, 15m, 1h, 7d)", optarg);
            since = since || c == 's';
            break;
        case 'f':
        case 't':
            if (ts_parse_time(optarg, &v) != 0)
                return s_bad_usage("'%s' is not a time (RFC 3339 or ns since the epoch)", optarg);
            range = true;
            break;
        case 'h':
        case 'n':
            break;
        default:
            return s_bad_usage("drops: unknown or incomplete option '%s'", argv[optind - 1]);
        }
        client_add_param(query, size, names[c], optarg);
    }
    if (optind < argc)
        return s_bad_usage("drops: unexpected argument '%s'", argv[optind]);
    if (since && range)
        return s_bad_usage("%s", "give either --since or --from/--to, not both");
    return 0;
}

static void s_drops_table(json_t *doc)
{
    static const char *const headers[] = {"TIME", "HOST", "LAYER", ">DELTA", "SERIES"};
    table_t *t = table_new(5, headers);
    long long totals[LAYER_COUNT] = {0};
    size_t i;
    json_t *d;
    json_array_foreach(doc, i, d) {
        char when[40], delta[40];
        ts_format(s_int(d, "ts_ns"), when, sizeof when);
        snprintf(delta, sizeof delta, "%lld%s", s_int(d, "delta"),
                 json_is_true(json_object_get(d, "reset")) ? " (reset)" : "");
        char series[600];
        snprintf(series, sizeof series, "%s%s", s_str(d, "series"),
                 json_is_true(json_object_get(d, "overlap")) ? "  [overlaps]" : "");
        const char *cells[] = {when, s_str(d, "host"), s_str(d, "layer"), delta, series};
        table_add(t, cells);
        if (!json_is_true(json_object_get(d, "overlap")))
            totals[layer_from_name(s_str(d, "layer"))] += s_int(d, "delta");
    }
    table_print(t, stdout);
    table_destroy(&t);
    if (json_array_size(doc) == 0) {
        printf("(no drops in this range)\n");
        return;
    }
    printf("\ntotal by layer (series marked [overlaps] also count drops counted elsewhere and "
           "are left out):\n");
    for (int l = 0; l < LAYER_COUNT; l++)
        if (totals[l])
            printf("  %-8s %lld\n", layer_name((layer_t)l), totals[l]);
}

static int s_drops(const global_t *g, int argc, char **argv)
{
    char query[2048];
    int rc = s_drops_query(argc, argv, query, sizeof query);
    if (rc != 0)
        return rc;
    json_t *doc = client_get(g->server, query, &rc);
    if (!doc)
        return rc;
    if (g->json)
        s_print_json(doc);
    else
        s_drops_table(doc);
    json_decref(doc);
    return 0;
}

/* --- main ------------------------------------------------------------------- */

/* Takes the global options (--server, --json, --help) wherever they appear,
 * removing them from argv; returns the new argc, or -1 on bad usage. */
static int s_globals(int argc, char **argv, global_t *g)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            g->json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            exit(0);
        } else if (strcmp(argv[i], "--server") == 0) {
            if (i + 1 >= argc)
                return -1;
            g->server = argv[++i];
        } else if (strncmp(argv[i], "--server=", 9) == 0) {
            g->server = argv[i] + 9;
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    return out;
}

int main(int argc, char **argv)
{
    const char *env = getenv("DROPSCOPE_SERVER");
    global_t g = {env && *env ? env : DEFAULT_SERVER, false};
    argc = s_globals(argc - 1, argv + 1, &g);
    argv++;
    if (argc < 0)
        return s_bad_usage("%s", "--server needs a URL, e.g. http://127.0.0.1:7421");
    if (argc == 0) {
        s_usage(stderr);
        return 2;
    }
    if (strncmp(g.server, "http://", 7) != 0 && strncmp(g.server, "https://", 8) != 0)
        return s_bad_usage("--server '%s' must start with http:// or https://", g.server);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (strcmp(argv[0], "hosts") == 0)
        rc = s_hosts(&g, argc, argv);
    else if (strcmp(argv[0], "drops") == 0)
        rc = s_drops(&g, argc, argv);
    else
        rc = s_bad_usage("unknown command '%s' (commands: hosts, drops)", argv[0]);
    curl_global_cleanup();
    return rc;
}
