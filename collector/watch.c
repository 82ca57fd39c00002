/* watch: the registry's path counters as rows, their table and JSON lines,
 * and the loop. */
#include "watch.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ts.h"

typedef struct {
    bool absolute;
    watch_row_t *rows;
    size_t n, cap;
    bool failed;
} collect_t;

static void s_collect(void *ctx, series_entry_t *e)
{
    collect_t *c = ctx;
    if (!e->present || e->cls.kind != KIND_COUNTER || !layer_on_path(e->cls.layer))
        return;
    int64_t n = c->absolute ? (int64_t)e->value : e->delta;
    if (n == 0 || c->failed)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        watch_row_t *grown = realloc(c->rows, cap * sizeof *grown);
        if (!grown) {
            c->failed = true;
            return;
        }
        c->rows = grown;
        c->cap = cap;
    }
    watch_row_t *r = &c->rows[c->n++];
    r->layer = e->cls.layer;
    r->n = n;
    r->overlap = e->cls.overlap;
    snprintf(r->series, sizeof r->series, "%s/%s/%s", e->source, e->device, e->name);
}

static int s_path_rank(layer_t layer)
{
    for (int i = 0; i < LAYER_NPATH; i++)
        if (layer_path[i] == layer)
            return i;
    return LAYER_NPATH;
}

static int s_by_layer(const void *a, const void *b)
{
    const watch_row_t *x = a, *y = b;
    int lx = s_path_rank(x->layer), ly = s_path_rank(y->layer);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->series, y->series);
}

watch_row_t *watch_rows(series_t *series, bool absolute, size_t *n)
{
    collect_t c = {.absolute = absolute};
    series_each(series, s_collect, &c);
    if (c.failed) {
        free(c.rows);
        *n = SIZE_MAX;
        return NULL;
    }
    if (c.n > 1)
        qsort(c.rows, c.n, sizeof *c.rows, s_by_layer);
    *n = c.n;
    return c.rows;
}

static int s_print_json(FILE *out, const watch_opts_t *o, const char *host, int64_t ts_ns,
                        int64_t span_ns, const watch_row_t *rows, size_t n,
                        const sampler_burst_t *bursts, size_t nbursts)
{
    char when[40];
    json_t *counters = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(counters,
                              json_pack("{s:s, s:s, s:I, s:b}", "layer", layer_name(rows[i].layer),
                                        "series", rows[i].series, o->absolute ? "value" : "delta",
                                        (json_int_t)rows[i].n, "overlap", rows[i].overlap));
    json_t *doc = json_pack("{s:s, s:s, s:I, s:o}", "host", host, "ts",
                            ts_format(ts_ns, when, sizeof when), "ts_ns", (json_int_t)ts_ns,
                            "counters", counters);
    if (doc && span_ns > 0)
        json_object_set_new(doc, "interval_ns", json_integer(span_ns));
    json_t *list = doc && span_ns > 0 ? json_array() : NULL;
    for (size_t i = 0; list && i < nbursts; i++) {
        const sampler_burst_t *b = &bursts[i];
        json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:I, s:f, s:I}", "iface", b->iface,
                                              "direction", b->tx ? "tx" : "rx", "start_ns",
                                              (json_int_t)b->ev.start_ns, "end_ns",
                                              (json_int_t)b->ev.end_ns, "peak_per_ms",
                                              b->ev.peak_per_ms, "packets",
                                              (json_int_t)b->ev.packets));
    }
    if (list)
        json_object_set_new(doc, "bursts", list);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    int rc = text && fprintf(out, "%s\n", text) >= 0 ? 0 : -1;
    free(text);
    return rc;
}

static int s_print_table(FILE *out, const watch_opts_t *o, const char *host, int64_t ts_ns,
                         int64_t span_ns, const watch_row_t *rows, size_t n,
                         const sampler_burst_t *bursts, size_t nbursts)
{
    char when[40];
    ts_format(ts_ns, when, sizeof when);
    if (span_ns > 0)
        fprintf(out, "# %s %s: %s in the last %.3f s\n", when, host,
                o->absolute ? "counters (values)" : "drops", (double)span_ns / 1e9);
    else
        fprintf(out, "# %s %s: counters since boot (values)\n", when, host);
    if (n == 0 && nbursts == 0)
        fprintf(out, "# none moved\n");
    else if (o->header)
        fprintf(out, "%-9s %14s  %s\n", "LAYER", o->absolute || !span_ns ? "VALUE" : "DELTA",
                "COUNTER");
    for (size_t i = 0; i < n; i++) {
        const watch_row_t *r = &rows[i];
        fprintf(out, "%-9s %14lld  %s%s\n", layer_name(r->layer), (long long)r->n, r->series,
                layer_is_precursor(r->layer) ? "  (squeezes: a precursor, not drops)"
                : r->overlap                 ? "  (overlaps another counter of its layer)"
                                             : "");
    }
    for (size_t i = 0; i < nbursts; i++) {
        const sampler_burst_t *b = &bursts[i];
        ts_format(b->ev.start_ns, when, sizeof when);
        fprintf(out, "burst     %s %s at %s: %llu packets in %.1f ms, peak %.0f per ms\n", b->iface,
                b->tx ? "tx" : "rx", when, (unsigned long long)b->ev.packets,
                (double)(b->ev.end_ns - b->ev.start_ns) / 1e6, b->ev.peak_per_ms);
    }
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int watch_print(FILE *out, const watch_opts_t *o, const char *host, int64_t ts_ns,
                int64_t span_ns, const watch_row_t *rows, size_t n,
                const sampler_burst_t *bursts, size_t nbursts)
{
    if (o->json) {
        int rc = s_print_json(out, o, host, ts_ns, span_ns, rows, n, bursts, nbursts);
        return rc == 0 && fflush(out) == 0 ? 0 : -1;
    }
    return s_print_table(out, o, host, ts_ns, span_ns, rows, n, bursts, nbursts);
}

/* Sleeps until the monotonic time `until`, a tenth of a second at a time,
 * or until *stop. */
static void s_sleep_until(int64_t until, volatile sig_atomic_t *stop)
{
    for (int64_t now = ts_mono_ns(); now < until && !*stop; now = ts_mono_ns()) {
        int64_t left = until - now < TS_NS_PER_S / 10 ? until - now : TS_NS_PER_S / 10;
        struct timespec t = {left / TS_NS_PER_S, left % TS_NS_PER_S};
        nanosleep(&t, NULL);
    }
}

/* The bursts that ended since the last take, or none without a sampler. */
static sampler_report_t *s_bursts(sampler_t *sampler)
{
    return sampler ? sampler_take(sampler, true) : NULL;
}

int watch_run(const agent_opts_t *agent, const char *host, const watch_opts_t *o,
              volatile sig_atomic_t *stop, FILE *out)
{
    snapshot_t *snap = snapshot_new(&agent->snap);
    series_t *series = series_new(100000);
    sampler_t *sampler = NULL;
    int rc = 1;
    if (!snap || !series)
        goto out;
    if (o->interval_ns > 0 && agent->backend != AGENT_BACKEND_NONE) {
        char note[300], err[256];
        if (!(sampler = agent_start_sampler(agent, note, sizeof note, err, sizeof err)))
            log_warn("collector: bursts are not shown: %s (--backend none: not looked for)",
                     err);
    }
    /* The first read is the baseline of the deltas (or the values once). */
    int64_t ts = snapshot_collect(snap, series, NULL, 0), last = ts;
    int64_t next = ts_mono_ns() + o->interval_ns;
    sampler_report_t *early = s_bursts(sampler); /* ended before the baseline */
    sampler_report_destroy(&early);
    for (long printed = 0; !*stop && (o->count == 0 || printed < o->count); printed++) {
        if (o->interval_ns > 0) {
            s_sleep_until(next, stop);
            if (*stop)
                break;
            next += o->interval_ns;
            ts = snapshot_collect(snap, series, NULL, 0);
        }
        size_t n;
        watch_row_t *rows = watch_rows(series, o->absolute || o->interval_ns == 0, &n);
        if (n == SIZE_MAX)
            goto out;
        sampler_report_t *r = s_bursts(sampler);
        int wrote = watch_print(out, o, host, ts, o->interval_ns ? ts - last : 0, rows, n,
                                r ? r->bursts : NULL, r ? r->nbursts : 0);
        sampler_report_destroy(&r);
        free(rows);
        if (wrote != 0)
            goto out;
        last = ts;
        if (o->interval_ns == 0)
            break;
    }
    rc = 0;
out:
    sampler_destroy(&sampler);
    series_destroy(&series);
    snapshot_destroy(&snap);
    return rc;
}
