/* dropscope: the command-line client of the aggregator's HTTP API. Human
 * tables by default, the API's JSON with --json. Exit codes: 0 ok,
 * 1 runtime failure (aggregator unreachable or failing), 2 bad usage. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "keygen.h"
#include "layer.h"
#include "table.h"
#include "ts.h"
#include "version.h"

#define DEFAULT_SERVER "http://127.0.0.1:7421"

typedef struct {
    const char *server;
    bool json;
    bool header;         /* -H clears it */
    const char *columns; /* -o, or NULL: all */
    const char *color;   /* --color: auto, always or never */
} global_t;

static void s_usage(FILE *out)
{
    char layers[128];
    fprintf(out,
            "Usage: dropscope [--server URL] COMMAND [options] [--json]\n"
            "\n"
            "Queries a dropscope aggregator (default %s, or $DROPSCOPE_SERVER).\n"
            "\n"
            "Commands:\n"
            "  hosts                 one row per host: last seen, backend, series, kernel\n"
            "  drops [--host H] [--layer L] [--since 1h | --from T [--to T]] [--step 1m] "
            "[--limit N]\n"
            "                        drop deltas by host, counter and layer, oldest first (budget\n"
            "                        rows are squeezes, a precursor: in no drops total)\n"
            "  bursts [--host H] [--iface I] [--since 1h | --from T [--to T]] [--limit N]\n"
            "                        microbursts: start, length, peak packets/ms, packets, the\n"
            "                        drops that followed by layer, and the 1 ms profile\n"
            "  gaps [--host H] [--since 1h | --from T [--to T]] [--limit N]\n"
            "                        sequence gaps the collectors' probes (--probe) saw: group:port,\n"
            "                        start, length, the missing numbers and their count\n"
            "  timeline --from T --to T [--host H ...] [--window 2ms]\n"
            "                        drops, TCP retransmissions (retrans), bursts (with their\n"
            "                        1 ms profile), incidents, setting changes, probes' sequence\n"
            "                        gaps (seq_gap) and gaps in the data, in time order\n"
            "  diagnose HOST [--since 1h | --from T [--to T]]\n"
            "                        which layer dropped, how many, the setting that bounds it on\n"
            "                        that host, the command that addresses it, and the evidence\n"
            "  incidents [--since 1h | --from T [--to T]] [--window 2ms] [--min-hosts 2]\n"
            "                        bursts on several hosts at the same instant (clock-corrected),\n"
            "                        with the drops that followed and the period when they recur\n"
            "  series --host H --series SOURCE/DEVICE/NAME [--since 1h | --from T [--to T]] "
            "[--step 1m|1h]\n"
            "                        the stored values of one series, e.g. rate/eth0/rx_p99 (packets\n"
            "                        per tick) or sampler//lateness_p99_us (the sampler's delay);\n"
            "                        with --step, the minute or hour rollups (delta sums, last\n"
            "                        values), kept after the raw samples expire\n"
            "  explain SOURCE/DEVICE/NAME\n"
            "                        what a series counts, its layer, what bounds it and what to\n"
            "                        do when it moves, e.g. snmp//Udp.RcvbufErrors (the series of\n"
            "                        diagnose's evidence and of the web view's findings)\n"
            "  top [--since 1h | --from T [--to T]] [--limit 20]\n"
            "                        the hosts that dropped most, their drops by layer, and their\n"
            "                        squeezes (a precursor: they only break ties)\n"
            "  settings HOST [--since 1h | --from T [--to T]]\n"
            "                        the settings that bound the layers on HOST (ring sizes,\n"
            "                        rmem_max, netdev_max_backlog, ...): each value at the end of\n"
            "                        the range, since when, and its changes in the range\n"
            "  keygen [--name HOST] PATH\n"
            "                        make a CurveZMQ keypair: PATH (public) and PATH_secret; a\n"
            "                        collector with it speaks for HOST only (default: PATH's\n"
            "                        file name), which must be its --host-name\n"
            "\n"
            "Options:\n"
            "  -j, --json            print the API's JSON (arrays of objects) instead of a table\n"
            "  -H, --no-header       tables without their header line\n"
            "  -o, --columns LIST    tables with only these columns, in this order: their\n"
            "                        headers, comma-separated, any case, - for a space\n"
            "                        (e.g. -o host,last-seen)\n"
            "  --color[=WHEN]        tables' headers in bold: auto (the default: when the\n"
            "                        output is a terminal and NO_COLOR is not set), always,\n"
            "                        never\n"
            "  --help                this text\n"
            "  --version             the version, and the git commit it was built from\n"
            "\n"
            "Layers: %s.\n"
            "The budget layer counts %s, not drops.\n"
            "Durations: 500ms 90s 15m 1h 7d. Times (--from, --to): %s.\n",
            DEFAULT_SERVER, layer_path_names(layers, sizeof layers, " "), LAYER_PRECURSOR_WORDS,
            TS_WHEN_FORMS);
}

static int s_bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set when a table could not print as -o asked (it said why): exit 2. */
static bool s_table_failed;

static void s_print(const table_t *t)
{
    if (table_print(t, stdout) != 0)
        s_table_failed = true;
}

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


/* --- hosts ------------------------------------------------------------------ */

static void s_hosts_table(json_t *doc)
{
    static const char *const headers[] = {"HOST",    ">SERIES", "LAST SEEN", ">AGO",
                                          "BACKEND", "KERNEL",  "BOOT ID",   ">LOST",
                                          ">REJECTED", "AGGREGATOR"};
    table_t *t = table_new(10, headers);
    int64_t now = ts_now_ns();
    size_t i;
    json_t *h;
    json_array_foreach(doc, i, h) {
        char seen[40], ago[32], series[24], lost[24], rejected[24];
        int64_t last = s_int(h, "last_seen_ns");
        ts_format(last, seen, sizeof seen);
        snprintf(ago, sizeof ago, "%llds", (long long)((now - last) / TS_NS_PER_S));
        snprintf(series, sizeof series, "%lld", s_int(h, "series"));
        /* messages lost to the spool's bound, and refused by the aggregator */
        snprintf(lost, sizeof lost, "%lld", s_int(json_object_get(h, "spool_dropped"), "messages"));
        snprintf(rejected, sizeof rejected, "%lld",
                 s_int(json_object_get(h, "spool_rejected"), "messages"));
        const char *cells[] = {s_str(h, "host"),    series,           seen,
                               ago,                 s_str(h, "backend"), s_str(h, "kernel"),
                               s_str(h, "boot_id"), lost,             rejected,
                               s_str(h, "aggregator")};
        table_add(t, cells);
    }
    s_print(t);
    if (json_array_size(doc) == 0)
        printf("(no host has reported yet: start a collector with --connect to this aggregator)\n");
    table_destroy(&t);
    /* Below the table, not in it: each names a capability and runs ~80
     * characters, too wide for a column. */
    json_array_foreach(doc, i, h) {
        size_t k;
        json_t *d;
        json_array_foreach(json_object_get(h, "degraded"), k, d) {
            const char *what = json_string_value(d);
            printf("%s: degraded: %s\n", s_str(h, "host"), what ? what : "");
        }
    }
}

/* --- drops ------------------------------------------------------------------ */

typedef enum { ARG_TEXT, ARG_LAYER, ARG_DURATION, ARG_TIME, ARG_COUNT } arg_kind_t;

typedef struct {
    const char *name; /* option name, also the query parameter */
    arg_kind_t kind;  /* how to check it here */
} arg_def_t;

/* Checks one option value; 0, or 2 after printing why not. A time is
 * put into time_ns as ns with its unit ("...ns"), now being when it is
 * read: relative times mean the same in every request of a command. */
static int s_check_arg(const arg_def_t *d, const char *value, char time_ns[24])
{
    int64_t v;
    char layers[128];
    switch (d->kind) {
    case ARG_LAYER:
        if (!layer_on_path(layer_from_name(value)))
            return s_bad_usage("--layer '%s' is not one of %s", value,
                               layer_path_names(layers, sizeof layers, " "));
        return 0;
    case ARG_DURATION:
        if (ts_parse_duration(value, &v) != 0)
            return s_bad_usage("--%s '%s' is not a duration (e.g. 90s, 15m, 1h, 7d)", d->name,
                               value);
        return 0;
    case ARG_TIME: {
        char err[512];
        if (ts_parse_when(value, ts_now_ns(), &v, err, sizeof err) != 0)
            return s_bad_usage("--%s %s", d->name, err);
        snprintf(time_ns, 24, "%lldns", (long long)v);
        return 0;
    }
    case ARG_COUNT:
        if (strspn(value, "0123456789") != strlen(value) || atoll(value) < 1)
            return s_bad_usage("--%s '%s' is not a positive number", d->name, value);
        return 0;
    default:
        return 0;
    }
}

/* Parses a query command's options (all of the form --name VALUE, from
 * `defs`), checks them locally so that a typo gets a precise message
 * without a round trip, and builds path?name=value&... in query, leaving
 * out the options named in `omit` (NULL: none); an option given several
 * times (--host a --host b) becomes one comma-separated value. 0, or 2 on
 * bad usage. */
static int s_query(int argc, char **argv, const char *path, const arg_def_t *defs,
                   const char *const *omit, char *query, size_t size)
{
    struct option longopts[16] = {{0}};
    char values[16][1024] = {{0}};
    int n = 0;
    for (; defs[n].name && n < 15; n++)
        longopts[n] = (struct option){defs[n].name, required_argument, NULL, n};
    snprintf(query, size, "%s", path);
    bool since = false, range = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c < 0 || c >= n)
            return s_bad_usage("%s: unknown or incomplete option '%s'", argv[0], argv[optind - 1]);
        char time_ns[24] = "";
        int rc = s_check_arg(&defs[c], optarg, time_ns);
        if (rc != 0)
            return rc;
        since = since || strcmp(defs[c].name, "since") == 0;
        range = range || defs[c].kind == ARG_TIME;
        size_t len = strlen(values[c]);
        snprintf(values[c] + len, sizeof values[c] - len, "%s%s", len ? "," : "",
                 time_ns[0] ? time_ns : optarg);
    }
    if (optind < argc)
        return s_bad_usage("%s: unexpected argument '%s'", argv[0], argv[optind]);
    if (since && range)
        return s_bad_usage("%s", "give either --since or --from/--to, not both");
    for (int i = 0; i < n; i++) {
        bool omitted = false;
        for (const char *const *o = omit; o && *o && !omitted; o++)
            omitted = strcmp(*o, defs[i].name) == 0;
        if (!values[i][0] || omitted)
            continue;
        char param[64]; /* --min-hosts is min_hosts in the API */
        snprintf(param, sizeof param, "%s", defs[i].name);
        for (char *p = param; *p; p++)
            *p = *p == '-' ? '_' : *p;
        client_add_param(query, size, param, values[i]);
    }
    return 0;
}

static void s_drops_table(json_t *doc)
{
    static const char *const headers[] = {"TIME", "HOST", "LAYER", ">DELTA", "SERIES"};
    table_t *t = table_new(5, headers);
    size_t i;
    json_t *d;
    json_array_foreach(doc, i, d) {
        char when[40], delta[40];
        ts_format(s_int(d, "ts_ns"), when, sizeof when);
        snprintf(delta, sizeof delta, "%lld%s", s_int(d, "delta"),
                 json_is_true(json_object_get(d, "reset")) ? " (reset)" : "");
        char series[700];
        const char *owner = s_str(d, "owner");
        snprintf(series, sizeof series, "%s%s%s%s", s_str(d, "series"), owner[0] ? " held by " : "",
                 owner, json_is_true(json_object_get(d, "overlap")) ? "  [overlaps]" : "");
        const char *cells[] = {when, s_str(d, "host"), s_str(d, "layer"), delta, series};
        table_add(t, cells);
    }
    s_print(t);
    table_destroy(&t);
    if (json_array_size(doc) == 0)
        printf("(no drops in this range)\n");
}

/* /api/v1/totals: every drop of the range by layer, not only the rows listed,
 * in the API's order (the receive path's); the squeezes apart, never in
 * the drops (the budget rows listed above are those). */
static void s_totals_text(json_t *doc)
{
    json_t *layers = json_object_get(doc, "layers"), *n;
    const char *layer;
    long long squeezes = s_int(doc, "squeezes");
    if (json_object_size(layers) == 0 && squeezes == 0)
        return;
    printf("\ntotal over the whole range: %lld drops (series marked [overlaps] also count drops "
           "counted elsewhere and are left out)\n", s_int(doc, "total"));
    json_object_foreach(layers, layer, n)
        printf("  %-8s %lld\n", layer, (long long)json_integer_value(n));
    if (squeezes)
        printf("%s: %lld\n", LAYER_PRECURSOR_WORDS, squeezes);
}

static const arg_def_t s_drops_args[] = {
    {"host", ARG_TEXT}, {"layer", ARG_LAYER}, {"since", ARG_DURATION}, {"from", ARG_TIME},
    {"to", ARG_TIME},   {"step", ARG_DURATION}, {"limit", ARG_COUNT},  {NULL, ARG_TEXT}};


/* --- bursts ----------------------------------------------------------------- */

/* Whether the locale's characters are UTF-8 (set in main): the profiles'
 * block characters would print as garbage in another. */
static bool s_utf8;

/* The profile as a line of block characters, at most `width` wide (each
 * character the highest of the ticks it covers); ASCII outside UTF-8. */
static void s_sparkline(json_t *profile, char *out, size_t size, size_t width)
{
    static const char *const blocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char *const ascii[] = {" ", "_", ".", ":", "-", "=", "+", "#", "@"};
    size_t n = json_array_size(profile), per = (n + width - 1) / (width ? width : 1);
    long long top = 1;
    for (size_t i = 0; i < n; i++)
        top = json_integer_value(json_array_get(profile, i)) > top
                  ? json_integer_value(json_array_get(profile, i))
                  : top;
    out[0] = '\0';
    for (size_t i = 0; per && i < n; i += per) {
        long long v = 0;
        for (size_t k = i; k < i + per && k < n; k++) {
            long long x = json_integer_value(json_array_get(profile, k));
            v = x > v ? x : v;
        }
        size_t level = v == 0 ? 0 : (size_t)(1 + v * 7 / top);
        strncat(out, s_utf8 ? blocks[level] : ascii[level], size - strlen(out) - 1);
    }
}

static void s_bursts_table(json_t *doc)
{
    static const char *const headers[] = {"START", "HOST", "IFACE", "DIR", ">MS", ">PEAK/MS",
                                          ">PACKETS", "DROPS", "PROFILE (1 char = max of ticks)"};
    table_t *t = table_new(9, headers);
    size_t i;
    json_t *b;
    json_array_foreach(doc, i, b) {
        char start[40], ms[24], peak[24], packets[24], drops[256] = "", spark[512];
        ts_format(s_int(b, "start_ns"), start, sizeof start);
        snprintf(ms, sizeof ms, "%.1f", (double)(s_int(b, "end_ns") - s_int(b, "start_ns")) / 1e6);
        snprintf(peak, sizeof peak, "%.0f", json_real_value(json_object_get(b, "peak_per_ms")));
        snprintf(packets, sizeof packets, "%lld", s_int(b, "packets"));
        const char *layer;
        json_t *n;
        json_object_foreach(json_object_get(b, "drops"), layer, n) {
            size_t len = strlen(drops);
            snprintf(drops + len, sizeof drops - len, "%s%s:%lld", len ? " " : "", layer,
                     (long long)json_integer_value(n));
        }
        s_sparkline(json_object_get(b, "profile"), spark, sizeof spark, 40);
        const char *cells[] = {start, s_str(b, "host"), s_str(b, "iface"), s_str(b, "direction"),
                               ms, peak, packets, drops[0] ? drops : "-", spark};
        table_add(t, cells);
    }
    s_print(t);
    table_destroy(&t);
    if (json_array_size(doc) == 0)
        printf("(no bursts in this range)\n");
}

static const arg_def_t s_bursts_args[] = {
    {"host", ARG_TEXT}, {"iface", ARG_TEXT}, {"since", ARG_DURATION}, {"from", ARG_TIME},
    {"to", ARG_TIME},   {"limit", ARG_COUNT}, {NULL, ARG_TEXT}};


/* --- gaps ------------------------------------------------------------------- */

/* A sequence number (a real above 2^63 - 1: rows.h). */
static void s_seq(json_t *row, const char *key, char *out, size_t size)
{
    json_t *v = json_object_get(row, key);
    if (json_is_integer(v))
        snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else
        snprintf(out, size, "%.0f", json_number_value(v));
}

static void s_gaps_table(json_t *doc)
{
    static const char *const headers[] = {"START", "HOST", "GROUP:PORT", ">MS", ">MISSING",
                                          "FIRST", "LAST"};
    table_t *t = table_new(7, headers);
    size_t i;
    json_t *g;
    long long sum = 0;
    json_array_foreach(doc, i, g) {
        char start[40], probe[300], ms[24], missing[24], first[32], last[32];
        ts_format(s_int(g, "start_ns"), start, sizeof start);
        snprintf(probe, sizeof probe, "%s:%lld", s_str(g, "group"), s_int(g, "port"));
        snprintf(ms, sizeof ms, "%.1f", (double)(s_int(g, "end_ns") - s_int(g, "start_ns")) / 1e6);
        s_seq(g, "missing", missing, sizeof missing);
        s_seq(g, "first_seq", first, sizeof first);
        s_seq(g, "last_seq", last, sizeof last);
        sum += s_int(g, "missing");
        const char *cells[] = {start, s_str(g, "host"), probe, ms, missing, first, last};
        table_add(t, cells);
    }
    s_print(t);
    table_destroy(&t);
    if (json_array_size(doc) == 0)
        printf("(no sequence gaps in this range)\n");
    else
        printf("%lld missing in %zu gaps\n", sum, json_array_size(doc));
}

static const arg_def_t s_gaps_args[] = {{"host", ARG_TEXT}, {"since", ARG_DURATION},
                                        {"from", ARG_TIME}, {"to", ARG_TIME},
                                        {"limit", ARG_COUNT}, {NULL, ARG_TEXT}};

/* --- series ----------------------------------------------------------------- */

static const arg_def_t s_series_args[] = {
    {"host", ARG_TEXT}, {"series", ARG_TEXT}, {"since", ARG_DURATION}, {"from", ARG_TIME},
    {"to", ARG_TIME},   {"limit", ARG_COUNT}, {"step", ARG_TEXT},      {NULL, ARG_TEXT}};

static void s_series_table(json_t *doc)
{
    static const char *const headers[] = {"TIME", ">VALUE", ">DELTA", "FLAGS"};
    table_t *t = table_new(4, headers);
    size_t i;
    json_t *row;
    json_array_foreach(doc, i, row) {
        char when[40], value[32], delta[32];
        ts_format(s_int(row, "ts_ns"), when, sizeof when);
        snprintf(value, sizeof value, "%lld", s_int(row, "value"));
        snprintf(delta, sizeof delta, "%lld", s_int(row, "delta"));
        const char *flags = json_is_true(json_object_get(row, "reset"))   ? "reset"
                            : json_is_true(json_object_get(row, "first")) ? "first"
                                                                          : "";
        const char *cells[] = {when, value, delta, flags};
        table_add(t, cells);
    }
    s_print(t);
    table_destroy(&t);
}

/* --- incidents ------------------------------------------------------------- */

static const arg_def_t s_incidents_args[] = {
    {"since", ARG_DURATION}, {"from", ARG_TIME},     {"to", ARG_TIME},
    {"window", ARG_DURATION}, {"min-hosts", ARG_COUNT}, {"limit", ARG_COUNT},
    {NULL, ARG_TEXT}};

static void s_incidents_table(json_t *doc)
{
    static const char *const headers[] = {">ID", "START", ">MS", ">HOSTS", ">BURSTS", ">PACKETS",
                                          ">DROPS", ">PERIOD", "HOST NAMES"};
    table_t *t = table_new(9, headers);
    size_t i;
    json_t *c;
    json_array_foreach(doc, i, c) {
        char id[16], start[40], ms[24], nhosts[16], bursts[16], packets[24], drops[24],
            period[24] = "-", names[512] = "";
        snprintf(id, sizeof id, "%lld", s_int(c, "id"));
        ts_format(s_int(c, "start_ns"), start, sizeof start);
        snprintf(ms, sizeof ms, "%.1f", (double)(s_int(c, "end_ns") - s_int(c, "start_ns")) / 1e6);
        json_t *hosts = json_object_get(c, "hosts");
        snprintf(nhosts, sizeof nhosts, "%zu", json_array_size(hosts));
        snprintf(bursts, sizeof bursts, "%lld", s_int(c, "bursts"));
        snprintf(packets, sizeof packets, "%lld", s_int(c, "packets"));
        snprintf(drops, sizeof drops, "%lld", s_int(c, "drops"));
        if (json_is_number(json_object_get(c, "period_ms")))
            snprintf(period, sizeof period, "%.0fms",
                     json_number_value(json_object_get(c, "period_ms")));
        size_t k;
        json_t *h;
        json_array_foreach(hosts, k, h) {
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s", k ? "," : "", json_string_value(h));
        }
        if (json_is_true(json_object_get(c, "uncertain"))) {
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, " (uncertain: clocks)");
        }
        const char *cells[] = {id, start, ms, nhosts, bursts, packets, drops, period, names};
        table_add(t, cells);
    }
    s_print(t);
    table_destroy(&t);
    if (json_array_size(doc) == 0)
        printf("(no incidents in this range)\n");
}

/* --- diagnose ----------------------------------------------------------------- */

/* A range and nothing else (diagnose, settings). */
static const arg_def_t s_range_args[] = {
    {"since", ARG_DURATION}, {"from", ARG_TIME}, {"to", ARG_TIME}, {NULL, ARG_TEXT}};

/* One finding: `noun` is "drops", or "squeezes" for a precursor's. */
static void s_finding_text(json_t *doc, json_t *f, const char *noun)
{
    char first[40], last[40];
    ts_format(s_int(f, "first_ns"), first, sizeof first);
    ts_format(s_int(f, "last_ns"), last, sizeof last);
    if (strcmp(s_str(f, "layer"), "upstream") == 0)
        printf("%s: %lld packets lost upstream (before this host: its probes saw gaps, no layer "
               "of the host dropped), %s .. %s\n", s_str(doc, "host"), s_int(f, noun), first,
               last);
    else if (strcmp(noun, "drops") == 0)
        printf("%s: %lld drops at the %s layer, %s .. %s\n", s_str(doc, "host"), s_int(f, noun),
               s_str(f, "layer"), first, last);
    else
        printf("%s: warning, %lld %s at the %s layer, %s .. %s\n", s_str(doc, "host"),
               s_int(f, noun), LAYER_PRECURSOR_WORDS, s_str(f, "layer"), first, last);
    printf("  limit:    %s\n  remedy:   %s\n", s_str(f, "limit"), s_str(f, "remedy"));
    json_t *ev = json_object_get(f, "evidence");
    size_t k;
    json_t *c;
    json_array_foreach(json_object_get(ev, "counters"), k, c)
        printf("  %s %s%s%s %lld%s\n", k ? "         " : "evidence:", s_str(c, "series"),
               s_str(c, "owner")[0] ? " held by " : "", s_str(c, "owner"), s_int(c, noun),
               json_is_true(json_object_get(c, "overlap")) ? " (overlaps)" : "");
    if (s_int(ev, "bursts_before") > 0)
        printf("            %lld bursts in the second before or during the %s\n",
               s_int(ev, "bursts_before"), noun);
    bool none = json_array_size(json_object_get(ev, "counters")) == 0;
    json_array_foreach(json_object_get(ev, "gaps"), k, c) {
        char lo[32], hi[32];
        s_seq(c, "first_seq", lo, sizeof lo);
        s_seq(c, "last_seq", hi, sizeof hi);
        printf("  %s the probe of %s:%lld missed %lld (sequence %s..%s)\n",
               none && k == 0 ? "evidence:" : "         ", s_str(c, "group"), s_int(c, "port"),
               s_int(c, "missing"), lo, hi);
    }
    if (json_is_string(json_object_get(f, "resolved")))
        printf("  resolved: %s\n", s_str(f, "resolved"));
}

static void s_diagnose_text(json_t *doc)
{
    json_t *findings = json_object_get(doc, "findings");
    json_t *precursors = json_object_get(doc, "precursors");
    if (json_array_size(findings) == 0)
        printf("%s: no drops in this range\n", s_str(doc, "host"));
    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f) {
        printf("%s", i ? "\n" : "");
        s_finding_text(doc, f, "drops");
    }
    json_array_foreach(precursors, i, f) {
        printf("\n");
        s_finding_text(doc, f, "squeezes");
    }
}

/* --- timeline ----------------------------------------------------------------- */

static const arg_def_t s_timeline_args[] = {
    {"host", ARG_TEXT}, {"since", ARG_DURATION}, {"from", ARG_TIME}, {"to", ARG_TIME},
    {"window", ARG_DURATION}, {"limit", ARG_COUNT}, {NULL, ARG_TEXT}};

/* One line of detail per event type. */
static void s_event_detail(json_t *e, char *out, size_t size)
{
    const char *type = s_str(e, "type");
    if (strcmp(type, "drop") == 0 || strcmp(type, "squeeze") == 0 ||
        strcmp(type, "retrans") == 0) {
        snprintf(out, size, "%s +%lld (%s)%s", s_str(e, "series"), s_int(e, "delta"),
                 s_str(e, "layer"), json_is_true(json_object_get(e, "overlap")) ? " [overlaps]" : "");
    } else if (strcmp(type, "burst") == 0) {
        char spark[512];
        s_sparkline(json_object_get(e, "profile"), spark, sizeof spark, 30);
        snprintf(out, size, "%s %s %lld packets, peak %.0f/ms, %lld drops  %s", s_str(e, "iface"),
                 s_str(e, "direction"), s_int(e, "packets"),
                 json_real_value(json_object_get(e, "peak_per_ms")), s_int(e, "drops_total"),
                 spark);
    } else if (strcmp(type, "incident") == 0) {
        snprintf(out, size, "incident %lld: %zu hosts, %lld bursts, %lld drops",
                 s_int(e, "id"), json_array_size(json_object_get(e, "hosts")),
                 s_int(e, "bursts"), s_int(e, "drops"));
    } else if (strcmp(type, "seq_gap") == 0) {
        char first[32], last[32];
        s_seq(e, "first_seq", first, sizeof first);
        s_seq(e, "last_seq", last, sizeof last);
        snprintf(out, size, "probe %s:%lld missed %lld (%s..%s)", s_str(e, "group"),
                 s_int(e, "port"), s_int(e, "missing"), first, last);
    } else if (strcmp(type, "setting") == 0) {
        snprintf(out, size, "%s %lld -> %lld", s_str(e, "series"), s_int(e, "from"),
                 s_int(e, "to"));
    } else {
        snprintf(out, size, "no data for %.1f s",
                 json_real_value(json_object_get(e, "seconds")));
    }
}

static void s_timeline_table(json_t *doc)
{
    static const char *const headers[] = {"TIME", "HOST", "TYPE", "WHAT"};
    table_t *t = table_new(4, headers);
    size_t i;
    json_t *e;
    json_array_foreach(doc, i, e) {
        char when[40], what[1024];
        ts_format(s_int(e, "ts_ns"), when, sizeof when);
        s_event_detail(e, what, sizeof what);
        const char *cells[] = {when, s_str(e, "host"), s_str(e, "type"), what};
        table_add(t, cells);
    }
    s_print(t);
    table_destroy(&t);
    if (json_array_size(doc) == 0)
        printf("(nothing happened in this range)\n");
}

/* --- commands ---------------------------------------------------------------- */

static const arg_def_t s_no_args[] = {{NULL, ARG_TEXT}};

static void s_explain_text(json_t *doc)
{
    const char *layer = s_str(doc, "layer");
    bool drop = json_is_true(json_object_get(doc, "drop"));
    bool precursor = json_is_true(json_object_get(doc, "precursor"));
    printf("%s: %s %s of the %s layer%s%s\n", s_str(doc, "series"),
           drop ? "a drop" : precursor ? "a precursor" : "a", s_str(doc, "kind"), layer,
           precursor ? " (it counts squeezes: no packet is lost, it is not in any drops total)"
                     : "",
           json_is_true(json_object_get(doc, "overlap"))
               ? " (overlap: its drops are counted by a more specific series too, so totals "
                 "leave it out)"
               : "");
    printf("  meaning:  %s\n", s_str(doc, "meaning"));
    if (drop || precursor) {
        printf("  bound by: %s\n", s_str(doc, "setting"));
        printf("  remedy:   %s\n", s_str(doc, "remedy"));
    }
    printf("  more:     docs/COUNTERS.md, %s\n", layer);
}

/* --- top, settings ---------------------------------------------------------- */

static const arg_def_t s_top_args[] = {{"since", ARG_DURATION},
                                       {"from", ARG_TIME},
                                       {"to", ARG_TIME},
                                       {"limit", ARG_COUNT},
                                       {NULL, ARG_TEXT}};

static void s_top_table(json_t *doc)
{
    static const char *const headers[] = {"HOST", ">DROPS", ">SQUEEZES", "BY LAYER"};
    table_t *t = table_new(4, headers);
    size_t i;
    json_t *h;
    json_array_foreach(doc, i, h) {
        char drops[24], squeezes[24], layers[512] = "";
        snprintf(drops, sizeof drops, "%lld", s_int(h, "drops"));
        snprintf(squeezes, sizeof squeezes, "%lld", s_int(h, "squeezes"));
        const char *layer;
        json_t *n;
        size_t len = 0;
        json_object_foreach(json_object_get(h, "layers"), layer, n) {
            if (len < sizeof layers)
                len += (size_t)snprintf(layers + len, sizeof layers - len, "%s%s %lld",
                                        len ? ", " : "", layer,
                                        (long long)json_integer_value(n));
        }
        const char *cells[] = {s_str(h, "host"), drops, squeezes, layers};
        table_add(t, cells);
    }
    s_print(t);
    if (json_array_size(doc) == 0)
        printf("(no host dropped or squeezed in this range)\n");
    table_destroy(&t);
}

static void s_settings_table(json_t *doc)
{
    static const char *const headers[] = {"SETTING", ">VALUE", "SINCE", "CHANGES IN THE RANGE"};
    table_t *t = table_new(4, headers);
    size_t i;
    json_t *row;
    json_array_foreach(doc, i, row) {
        char value[24], since[40], changes[512] = "";
        snprintf(value, sizeof value, "%lld", s_int(row, "value"));
        ts_format(s_int(row, "since_ns"), since, sizeof since);
        size_t k, len = 0;
        json_t *c;
        json_array_foreach(json_object_get(row, "changes"), k, c) {
            char when[40];
            if (len < sizeof changes)
                len += (size_t)snprintf(changes + len, sizeof changes - len,
                                        "%s%s %lld -> %lld", len ? ", " : "",
                                        ts_format(s_int(c, "ts_ns"), when, sizeof when),
                                        s_int(c, "from"), s_int(c, "to"));
        }
        const char *cells[] = {s_str(row, "series"), value, since, changes};
        table_add(t, cells);
    }
    s_print(t);
    table_destroy(&t);
}

typedef struct {
    const char *name;
    const char *path;            /* API endpoint */
    const arg_def_t *args;       /* its options, checked here first */
    void (*table)(json_t *doc);  /* human output */
    const char *positional;      /* query parameter of a required first argument, or NULL */
    const char *example;         /* of the arguments, for the error when it is missing */
    const char *totals;          /* an endpoint whose answer follows the table, or NULL */
    bool events;                 /* a list of events: asked oldest first, as tables read */
} command_t;

static const command_t s_commands[] = {
    {"hosts", "/api/v1/hosts", s_no_args, s_hosts_table, NULL, NULL, NULL, false},
    {"drops", "/api/v1/drops", s_drops_args, s_drops_table, NULL, NULL, "/api/v1/totals", true},
    {"bursts", "/api/v1/bursts", s_bursts_args, s_bursts_table, NULL, NULL, NULL, true},
    {"gaps", "/api/v1/gaps", s_gaps_args, s_gaps_table, NULL, NULL, NULL, true},
    {"series", "/api/v1/series", s_series_args, s_series_table, NULL, NULL, NULL, false},
    {"incidents", "/api/v1/incidents", s_incidents_args, s_incidents_table, NULL, NULL, NULL,
     true},
    {"diagnose", "/api/v1/diagnose", s_range_args, s_diagnose_text, "host", "web1 --since 1h",
     NULL, false},
    {"timeline", "/api/v1/timeline", s_timeline_args, s_timeline_table, NULL, NULL, NULL, false},
    {"explain", "/api/v1/explain", s_no_args, s_explain_text, "series", "snmp//Udp.RcvbufErrors",
     NULL, false},
    {"top", "/api/v1/top", s_top_args, s_top_table, NULL, NULL, NULL, false},
    {"settings", "/api/v1/settings", s_range_args, s_settings_table, "host", "web1 --since 1d",
     NULL, false},
};

/* Checks the command's options, asks the API, prints a table or the JSON. */
static int s_run(const global_t *g, const command_t *c, int argc, char **argv)
{
    char query[2048];
    const char *positional = NULL;
    if (c->positional) {
        if (argc < 2 || argv[1][0] == '-')
            return s_bad_usage("%s needs a %s first (e.g. dropscope %s %s)", c->name,
                               c->positional, c->name, c->example);
        positional = argv[1];
        argv[1] = argv[0]; /* drop it from what getopt sees */
        argc--;
        argv++;
    }
    int rc = s_query(argc, argv, c->path, c->args, NULL, query, sizeof query);
    if (rc != 0)
        return rc;
    if (positional)
        client_add_param(query, sizeof query, c->positional, positional);
    if (c->events)
        client_add_param(query, sizeof query, "order", "oldest");
    json_t *doc = client_get(g->server, query, &rc);
    if (!doc)
        return rc;
    if (g->json) {
        json_dumpf(doc, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    } else {
        c->table(doc);
    }
    json_decref(doc);
    if (s_table_failed)
        return 2;
    if (g->json || !c->totals)
        return 0;
    /* The same range, host and layer; step and limit shape a list only. */
    static const char *const list_only[] = {"step", "limit", NULL};
    if ((rc = s_query(argc, argv, c->totals, c->args, list_only, query, sizeof query)) != 0 ||
        !(doc = client_get(g->server, query, &rc)))
        return rc;
    s_totals_text(doc);
    json_decref(doc);
    return 0;
}

/* --- keygen ----------------------------------------------------------------- */

/* keygen [--name HOST] PATH, the option before or after PATH. */
static int s_keygen(int argc, char **argv)
{
    const char *path = NULL, *host = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0) {
            if (i + 1 >= argc)
                return s_bad_usage("%s", "keygen --name needs a HOST, e.g. --name web1");
            host = argv[++i];
        } else if (strncmp(argv[i], "--name=", 7) == 0) {
            host = argv[i] + 7;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return s_bad_usage("keygen has no option '%s' (keygen [--name HOST] PATH)", argv[i]);
        } else if (path) {
            return s_bad_usage("keygen takes one PATH, not '%s' and '%s' (writes PATH and "
                               "PATH_secret)", path, argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path || !path[0])
        return s_bad_usage("%s", "keygen needs a PATH (writes PATH and PATH_secret), e.g. "
                           "dropscope keygen --name web1 /etc/dropscope/web1");
    return keygen_run(path, host);
}

/* --- main ------------------------------------------------------------------- */

/* Takes the global options (--server, --json, --help, --version) wherever they appear,
 * removing them from argv; returns the new argc, or -1 on bad usage. */
static int s_globals(int argc, char **argv, global_t *g)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
            g->json = true;
        } else if (strcmp(argv[i], "--no-header") == 0 || strcmp(argv[i], "-H") == 0) {
            g->header = false;
        } else if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--columns") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return -2;
            g->columns = argv[++i];
        } else if (strncmp(argv[i], "--columns=", 10) == 0) {
            g->columns = argv[i] + 10;
        } else if (strcmp(argv[i], "--color") == 0 || strcmp(argv[i], "--colour") == 0) {
            g->color = "always";
        } else if (strncmp(argv[i], "--color=", 8) == 0 || strncmp(argv[i], "--colour=", 9) == 0) {
            g->color = strchr(argv[i], '=') + 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            exit(0);
        } else if (strcmp(argv[i], "--version") == 0) {
            version_print(stdout, "dropscope");
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
    setlocale(LC_CTYPE, "");
    s_utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    const char *env = getenv("DROPSCOPE_SERVER");
    global_t g = {.server = env && *env ? env : DEFAULT_SERVER, .header = true, .color = "auto"};
    argc = s_globals(argc - 1, argv + 1, &g);
    argv++;
    if (argc == -2)
        return s_bad_usage("%s", "-o needs the columns, e.g. -o host,drops (the headers of the "
                                 "table, any case)");
    if (argc < 0)
        return s_bad_usage("%s", "--server needs a URL, e.g. http://127.0.0.1:7421");
    bool bold;
    if (strcmp(g.color, "auto") == 0) {
        const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");
        bold = isatty(STDOUT_FILENO) && !(no_color && *no_color) && !(term && !strcmp(term, "dumb"));
    } else if (strcmp(g.color, "always") == 0 || strcmp(g.color, "never") == 0) {
        bold = g.color[0] == 'a';
    } else {
        return s_bad_usage("--color '%s' must be auto, always or never", g.color);
    }
    table_set_style(g.header, bold, g.columns);
    if (argc == 0) {
        s_usage(stderr);
        return 2;
    }
    if (strncmp(g.server, "http://", 7) != 0 && strncmp(g.server, "https://", 8) != 0)
        return s_bad_usage("--server '%s' must start with http:// or https://", g.server);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(argv[0], "keygen") == 0)
        return s_keygen(argc, argv);
    int rc = -1;
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (strcmp(argv[0], s_commands[i].name) == 0)
            rc = s_run(&g, &s_commands[i], argc, argv);
    if (rc < 0)
        rc = s_bad_usage("unknown command '%s' (commands: hosts, drops, bursts, gaps, incidents, "
                         "diagnose, timeline, series, explain, keygen)", argv[0]);
    curl_global_cleanup();
    return rc;
}
