/* diagnose_stored: the inputs of one host's diagnosis read from the store
 * (diagnose.h), for every caller that diagnoses what is stored: the API's
 * /api/diagnose and the drops alerts' limit and remedy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "diagnose.h"
#include "grow.h"
#include "source.h"
#include "store.h"
#include "ts.h"

#define CPUS_LOOKED 32 /* CPUs whose time one diagnosis reads: 3 series queries each */

typedef struct {
    diag_input_t in;
    diag_counter_t *counters;
    diag_setting_t *settings;
    diag_delta_t *deltas;
    diag_burst_t *bursts;
    diag_retrans_t *retrans;
    diag_gap_t *gaps;
    diag_counter_t cpu_time[3 * CPUS_LOOKED];
    size_t ccap, scap, dcap, bcap, rcap, gcap;
} gather_t;

/* Gaps a diagnosis weighs at most (the newest kept out: a host whose
 * probes see more in its range has its upstream finding from these). */
#define GATHER_MAX_GAPS 100000

static int s_counter(void *ctx, const drop_sum_t *r)
{
    gather_t *g = ctx;
    diag_counter_t *c = grow(g->counters, g->in.ncounters + 1, &g->ccap, sizeof *c, 64);
    if (!c)
        return 1;
    g->counters = c;
    c += g->in.ncounters++;
    *c = (diag_counter_t){.layer = layer_from_name(r->layer), .overlap = r->overlap,
                          .drops = r->drops, .first_ns = r->first_ns, .last_ns = r->last_ns};
    snprintf(c->source, sizeof c->source, "%s", r->source);
    snprintf(c->device, sizeof c->device, "%s", r->device);
    snprintf(c->name, sizeof c->name, "%s", r->name);
    snprintf(c->owner, sizeof c->owner, "%s", r->owner ? r->owner : "");
    return 0;
}

static int s_setting(void *ctx, const setting_row_t *r)
{
    gather_t *g = ctx;
    diag_setting_t *t = grow(g->settings, g->in.nsettings + 1, &g->scap, sizeof *t, 64);
    if (!t)
        return 1;
    g->settings = t;
    t += g->in.nsettings++;
    *t = (diag_setting_t){.ts_ns = r->ts_ns, .value = r->value};
    snprintf(t->source, sizeof t->source, "%s", r->source);
    snprintf(t->device, sizeof t->device, "%s", r->device);
    snprintf(t->name, sizeof t->name, "%s", r->name);
    return 0;
}

static int s_retrans(gather_t *g, const drop_row_t *r)
{
    diag_retrans_t *t = grow(g->retrans, g->in.nretrans + 1, &g->rcap, sizeof *t, 64);
    if (!t)
        return 1;
    g->retrans = t;
    t += g->in.nretrans++;
    *t = (diag_retrans_t){.ts_ns = r->ts_ns, .delta = r->delta};
    snprintf(t->series, sizeof t->series, "%s", r->series);
    return 0;
}

static int s_delta(void *ctx, const drop_row_t *r)
{
    gather_t *g = ctx;
    if (r->overlap)
        return counters_is_retrans(r->series) ? s_retrans(g, r) : 0;
    diag_delta_t *d = grow(g->deltas, g->in.ndeltas + 1, &g->dcap, sizeof *d, 64);
    if (!d)
        return 1;
    g->deltas = d;
    d[g->in.ndeltas++] = (diag_delta_t){r->ts_ns, layer_from_name(r->layer), r->delta};
    return 0;
}

static int s_burst(void *ctx, const burst_row_t *r)
{
    gather_t *g = ctx;
    diag_burst_t *b = grow(g->bursts, g->in.nbursts + 1, &g->bcap, sizeof *b, 64);
    if (!b)
        return 1;
    g->bursts = b;
    b += g->in.nbursts++;
    *b = (diag_burst_t){.start_ns = r->start_ns, .end_ns = r->end_ns};
    for (int l = 0; l < LAYER_COUNT; l++)
        b->drops += layer_is_drop((layer_t)l) ? r->drops[l] : 0;
    snprintf(b->iface, sizeof b->iface, "%s", r->iface);
    return 0;
}

static int s_gap(void *ctx, const gap_row_t *r)
{
    gather_t *g = ctx;
    diag_gap_t *d = grow(g->gaps, g->in.ngaps + 1, &g->gcap, sizeof *d, 64);
    if (!d)
        return 1;
    g->gaps = d;
    d += g->in.ngaps++;
    *d = (diag_gap_t){.start_ns = r->start_ns, .end_ns = r->end_ns, .missing = r->missing,
                      .first_seq = r->first_seq, .last_seq = r->last_seq,
                      .port = (uint32_t)r->port};
    snprintf(d->group, sizeof d->group, "%s", r->group);
    return 0;
}

static int s_tick_sum(void *ctx, const series_row_t *r)
{
    int64_t *sum = ctx;
    *sum += r->delta > 0 ? r->delta : 0;
    return 0;
}

/* Adds cpu ("cpuN") to the CPUs to read, once. */
static void s_want_cpu(char (*cpus)[16], size_t *n, const char *cpu)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(cpus[i], cpu) == 0)
            return;
    if (*n < CPUS_LOOKED)
        snprintf(cpus[(*n)++], sizeof cpus[0], "%.15s", cpu); /* "cpuN" */
}

/* Whether irq device "IFACE:QUEUE" is a line of a NIC that dropped. */
static bool s_nic_dropped(const gather_t *g, const char *line)
{
    for (size_t i = 0; i < g->in.ncounters; i++) {
        const diag_counter_t *c = &g->counters[i];
        size_t n = strlen(c->device);
        if (c->layer == LAYER_NIC && !c->overlap && c->drops > 0 && n &&
            strncmp(line, c->device, n) == 0 && line[n] == ':')
            return true;
    }
    return false;
}

/* The time of the CPUs serving NIC interrupts (irq/.../cpu settings) or
 * whose backlog dropped, summed over the NIC and backlog drops' window,
 * into g->cpu_time: whether such a CPU was saturated while they dropped.
 * A CPU's time is a traffic counter, in the batches only: a query per
 * series, CPUS_LOOKED CPUs at most. 0, -1 + err. */
static int s_cpu_time(store_t *store, const char *host, gather_t *g, char *err, size_t errsz)
{
    int64_t first = INT64_MAX, last = INT64_MIN;
    char cpus[CPUS_LOOKED][16];
    size_t ncpus = 0;
    for (size_t i = 0; i < g->in.ncounters; i++) {
        const diag_counter_t *c = &g->counters[i];
        if ((c->layer != LAYER_NIC && c->layer != LAYER_BACKLOG) || c->overlap || c->drops <= 0)
            continue;
        first = c->first_ns < first ? c->first_ns : first;
        last = c->last_ns > last ? c->last_ns : last;
        if (source_is(c->source, SOURCE_SOFTNET))
            s_want_cpu(cpus, &ncpus, c->device);
    }
    for (size_t i = 0; i < g->in.nsettings; i++) {
        const diag_setting_t *s = &g->settings[i], *next = s + 1;
        /* store_settings: by series, then time; the line's CPU now is its
         * last value, not every CPU it was ever on */
        if (i + 1 < g->in.nsettings && strcmp(next->source, s->source) == 0 &&
            strcmp(next->device, s->device) == 0 && strcmp(next->name, s->name) == 0)
            continue;
        char cpu[32];
        snprintf(cpu, sizeof cpu, "cpu%lld", (long long)s->value);
        if (source_is(s->source, SOURCE_IRQ) && strcmp(s->name, IRQ_CPU) == 0 &&
            s_nic_dropped(g, s->device))
            s_want_cpu(cpus, &ncpus, cpu);
    }
    static const char *const names[3] = {CPU_SOFTIRQ, CPU_IRQ, CPU_TOTAL};
    for (size_t i = 0; first <= last && i < ncpus; i++) {
        for (int k = 0; k < 3; k++) {
            int64_t sum = 0;
            series_query_t q = {.host = host, .source = source_name(SOURCE_CPU),
                                .device = cpus[i], .name = names[k], .from_ns = first - 1,
                                .to_ns = last};
            if (store_series(store, &q, s_tick_sum, &sum, err, errsz) != 0)
                return -1;
            diag_counter_t *c = &g->cpu_time[g->in.ncpu_time++];
            *c = (diag_counter_t){.layer = LAYER_TRAFFIC, .drops = sum, .first_ns = first,
                                  .last_ns = last};
            snprintf(c->source, sizeof c->source, "%s", source_name(SOURCE_CPU));
            snprintf(c->device, sizeof c->device, "%s", cpus[i]);
            snprintf(c->name, sizeof c->name, "%s", names[k]);
        }
    }
    g->in.cpu_time = g->cpu_time;
    return 0;
}

diagnosis_t *diagnose_stored(struct store *store, const char *host, int64_t from_ns,
                             int64_t to_ns, bool timing, char *err, size_t errsz)
{
    gather_t g = {.in = {.host = host, .from_ns = from_ns, .to_ns = to_ns}};
    if (errsz)
        err[0] = '\0';
    int rc = store_drop_sums(store, host, from_ns, to_ns, s_counter, &g, err, errsz);
    rc = rc ? rc : store_settings(store, host, to_ns, s_setting, &g, err, errsz);
    g.in.counters = g.counters; /* complete: read by s_cpu_time and diagnose */
    g.in.settings = g.settings;
    rc = rc ? rc : s_cpu_time(store, host, &g, err, errsz);
    if (timing) {
        drops_query_t dq = {.host = host, .from_ns = from_ns, .to_ns = to_ns};
        bursts_query_t bq = {.host = host, .from_ns = from_ns - TS_NS_PER_S, .to_ns = to_ns,
                             .rx_only = true};
        rc = rc ? rc : store_drops(store, &dq, s_delta, &g, err, errsz);
        rc = rc ? rc : store_bursts(store, &bq, s_burst, &g, err, errsz);
        gaps_query_t gq = {.host = host, .from_ns = from_ns, .to_ns = to_ns,
                           .limit = GATHER_MAX_GAPS};
        rc = rc ? rc : store_gaps(store, &gq, s_gap, &g, err, errsz);
        g.in.interval_ns = g.in.ngaps ? store_host_interval(store, host) : 0;
    }
    g.in.deltas = g.deltas;
    g.in.bursts = g.bursts;
    g.in.retrans = g.retrans;
    g.in.gaps = g.gaps;
    diagnosis_t *d = rc == 0 ? diagnose(&g.in) : NULL;
    free(g.counters);
    free(g.settings);
    free(g.deltas);
    free(g.bursts);
    free(g.retrans);
    free(g.gaps);
    return d;
}
