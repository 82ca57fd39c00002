/* rows: see rows.h. Every form mirrors its struct field for field, in the
 * keys' order the web page, the CLI and the tests have always read. A row
 * jansson refuses (text that is not UTF-8, stored before ingest checked
 * text) is left out of its list: json_array_append_new ignores a NULL. */
#include "rows.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ts.h"

void rows_owner(json_t *row, const char *owner)
{
    if (row && owner && owner[0])
        json_object_set_new(row, "owner", json_string(owner));
}

json_t *rows_drop(const drop_row_t *d)
{
    json_t *row = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:b}", "host", d->host, "series",
                            d->series, "layer", d->layer, "ts_ns", (json_int_t)d->ts_ns, "delta",
                            (json_int_t)d->delta, "reset", d->reset, "overlap", d->overlap);
    rows_owner(row, d->owner);
    return row;
}

json_t *rows_burst_json(const burst_row_t *b, bool profile_omitted)
{
    json_t *drops = json_object(), *profile = json_array();
    int64_t total = 0;
    for (int l = 0; l < LAYER_COUNT; l++) { /* lost packets only: no squeezes (a precursor) */
        if (b->drops[l] > 0 && layer_is_drop((layer_t)l)) {
            json_object_set_new(drops, layer_name((layer_t)l), json_integer(b->drops[l]));
            total += b->drops[l];
        }
    }
    for (size_t i = 0; i < b->nprofile && !profile_omitted; i++)
        json_array_append_new(profile, json_integer(b->profile[i]));
    json_t *row =
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:o, s:I, s:o, "
                  "s:I, s:I, s:b}",
                  "host", b->host, "iface", b->iface, "direction", b->direction, "start_ns",
                  (json_int_t)b->start_ns, "end_ns", (json_int_t)b->end_ns, "corrected_start_ns",
                  (json_int_t)b->corrected_start_ns, "uncertainty_ns",
                  (json_int_t)b->uncertainty_ns, "peak_per_ms", b->peak_per_ms, "packets",
                  (json_int_t)b->packets, "bytes", (json_int_t)b->bytes, "threshold_per_ms",
                  (json_int_t)b->threshold_per_ms, "drops", drops, "drops_total", (json_int_t)total,
                  "profile", profile, "profile_start_ns", (json_int_t)b->profile_start_ns,
                  "tick_ns", (json_int_t)b->tick_ns, "profile_complete", b->profile_complete);
    if (row && profile_omitted)
        json_object_set_new(row, "profile_omitted", json_true());
    return row;
}

/* jansson's integers are signed. */
static json_t *s_u64(uint64_t v)
{
    return v <= INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
}

json_t *rows_gap(const gap_row_t *g)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o}", "host", g->host, "group",
                     g->group, "port", (json_int_t)g->port, "start_ns", (json_int_t)g->start_ns,
                     "end_ns", (json_int_t)g->end_ns, "missing", s_u64(g->missing), "first_seq",
                     s_u64(g->first_seq), "last_seq", s_u64(g->last_seq));
}

json_t *rows_burst(const burst_row_t *b, rows_cut_t *cut)
{
    return rows_burst_json(b, !rows_cut_profile(cut, b->nprofile));
}

static void s_int(json_t *obj, const char *key, int64_t v)
{
    json_object_set_new_nocheck(obj, key, json_integer(v));
}

/* Built with json_object_set rather than json_pack: an hour of a large
 * fleet has hundreds of thousands of incidents, and parsing a format
 * string per object doubled the cost. */
json_t *rows_incident(const incident_t *inc)
{
    json_t *hosts = json_array(), *members = json_array(), *row = json_object();
    for (size_t i = 0; i < inc->nhosts; i++)
        json_array_append_new(hosts, json_string(inc->hosts[i]));
    for (size_t k = 0; k < inc->nmembers; k++) {
        const incident_member_t *b = &inc->members[k];
        json_t *m = json_object();
        json_object_set_new_nocheck(m, "host", json_string(b->host));
        json_object_set_new_nocheck(m, "iface", json_string(b->iface));
        s_int(m, "start_ns", b->start_ns);
        s_int(m, "uncertainty_ns", b->uncertainty_ns);
        s_int(m, "packets", b->packets);
        s_int(m, "drops", b->drops);
        json_array_append_new(members, m);
    }
    s_int(row, "id", inc->id);
    s_int(row, "start_ns", inc->start_ns);
    s_int(row, "end_ns", inc->end_ns);
    json_object_set_new_nocheck(row, "hosts", hosts);
    s_int(row, "bursts", (int64_t)inc->nmembers);
    s_int(row, "packets", inc->packets);
    s_int(row, "drops", inc->drops);
    json_object_set_new_nocheck(
        row, "period_ms", inc->period_ns ? json_real((double)inc->period_ns / 1e6) : json_null());
    json_object_set_new_nocheck(row, "uncertain", json_boolean(inc->uncertain));
    json_object_set_new_nocheck(row, "members", members);
    return row;
}

json_t *rows_incidents(const incidents_t *incidents)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < incidents->n; i++)
        json_array_append_new(rows, rows_incident(&incidents->incidents[i]));
    return rows;
}

/* The form of one timeline event, before its "type" and "ts_ns". */
static json_t *s_event(const timeline_event_t *ev, const char **type)
{
    json_t *row = NULL;
    switch (ev->type) {
    case TIMELINE_DROP: /* a precursor's row (budget) is a squeeze: no packet was lost */
        *type = layer_is_precursor(layer_from_name(ev->drop.layer)) ? "squeeze" : "drop";
        return rows_drop(&ev->drop);
    case TIMELINE_RETRANS: /* evidence of a loss elsewhere, with a drop row's fields */
        *type = "retrans";
        return rows_drop(&ev->drop);
    case TIMELINE_BURST:
        *type = "burst";
        return rows_burst_json(&ev->burst.row, ev->burst.profile_omitted);
    case TIMELINE_INCIDENT:
        *type = "incident";
        if ((row = rows_incident(ev->incident)))
            json_object_set_new(row, "host", json_string(ev->host));
        return row;
    case TIMELINE_SETTING:
        *type = "setting";
        return json_pack("{s:s, s:s, s:I, s:I}", "host", ev->host, "series", ev->setting.series,
                         "from", (json_int_t)ev->setting.from, "to", (json_int_t)ev->setting.to);
    case TIMELINE_SEQ_GAP:
        *type = "seq_gap";
        return rows_gap(&ev->seq_gap);
    case TIMELINE_GAP:
        *type = "gap";
        return json_pack("{s:s, s:I, s:f}", "host", ev->host, "end_ns", (json_int_t)ev->gap.end_ns,
                         "seconds", (double)(ev->gap.end_ns - ev->ts_ns) / 1e9);
    }
    return NULL;
}

json_t *rows_timeline(const timeline_t *t)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < t->n; i++) {
        const char *type = "";
        json_t *ev = s_event(&t->events[i], &type);
        if (ev) { /* a drop's "ts_ns" keeps its place: set replaces the value */
            json_object_set_new(ev, "type", json_string(type));
            json_object_set_new(ev, "ts_ns", json_integer(t->events[i].ts_ns));
        }
        json_array_append_new(rows, ev);
    }
    return rows;
}

/* What a finding counts: "drops", or "squeezes" for a precursor's (no loss). */
typedef struct {
    const char *n, *before, *after;
} s_noun_t;

static const s_noun_t s_drops_noun = {"drops", "drops_before", "drops_after"};
static const s_noun_t s_squeezes_noun = {"squeezes", "squeezes_before", "squeezes_after"};

static json_t *s_change(const diag_change_t *c, const s_noun_t *noun)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "series", c->series, "ts_ns",
                     (json_int_t)c->ts_ns, "from", (json_int_t)c->from, "to", (json_int_t)c->to,
                     noun->before, (json_int_t)c->drops_before, noun->after,
                     (json_int_t)c->drops_after);
}

static json_t *s_changes(const diag_change_t *c, size_t n, const s_noun_t *noun)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, s_change(&c[i], noun));
    return rows;
}

/* {"group", "port", "start_ns", "end_ns", "missing", "first_seq", "last_seq"} each. */
static json_t *s_diag_gaps(const diag_gap_t *g, size_t n)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o}", "group",
                                              g[i].group, "port", (json_int_t)g[i].port,
                                              "start_ns", (json_int_t)g[i].start_ns, "end_ns",
                                              (json_int_t)g[i].end_ns, "missing",
                                              s_u64(g[i].missing), "first_seq",
                                              s_u64(g[i].first_seq), "last_seq",
                                              s_u64(g[i].last_seq)));
    return rows;
}

static json_t *s_finding(const diag_finding_t *f, const s_noun_t *noun)
{
    json_t *counters = json_array();
    for (size_t i = 0; i < f->evidence.ncounters; i++) {
        const diag_drops_t *c = &f->evidence.counters[i];
        json_t *row = json_pack("{s:s, s:I, s:b}", "series", c->series, noun->n,
                                (json_int_t)c->drops, "overlap", c->overlap);
        rows_owner(row, c->owner);
        json_array_append_new(counters, row);
    }
    json_t *changes = s_changes(f->evidence.setting_changes, f->evidence.nsetting_changes, noun);
    json_t *row = json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:{s:o, s:I, s:o}, s:s?}", "layer",
                     layer_name(f->layer), noun->n, (json_int_t)f->drops, "first_ns",
                     (json_int_t)f->first_ns, "last_ns", (json_int_t)f->last_ns, "limit", f->limit,
                     "remedy", f->remedy, "evidence", "counters", counters, "bursts_before",
                     (json_int_t)f->evidence.bursts_before, "setting_changes", changes, "resolved",
                     f->resolved[0] ? f->resolved : NULL);
    if (row && f->evidence.ngaps) /* the probes' gaps it explains */
        json_object_set_new(json_object_get(row, "evidence"), "gaps",
                            s_diag_gaps(f->evidence.gaps, f->evidence.ngaps));
    if (row && f->evidence.cpu[0]) /* the busiest CPU serving the drops, when known */
        json_object_set_new(json_object_get(row, "evidence"), "cpu",
                            json_pack("{s:s, s:I}", "name", f->evidence.cpu, "softirq_irq_pct",
                                      (json_int_t)f->evidence.cpu_pct));
    return row;
}

json_t *rows_diagnosis(const diagnosis_t *d)
{
    json_t *findings = json_array(), *precursors = json_array();
    for (size_t i = 0; i < d->nfindings; i++)
        json_array_append_new(findings, s_finding(&d->findings[i], &s_drops_noun));
    for (size_t i = 0; i < d->nprecursors; i++)
        json_array_append_new(precursors, s_finding(&d->precursors[i], &s_squeezes_noun));
    return json_pack("{s:s, s:I, s:I, s:o, s:o, s:o}", "host", d->host, "from_ns",
                     (json_int_t)d->from_ns, "to_ns", (json_int_t)d->to_ns, "findings", findings,
                     "precursors", precursors, "changes",
                     s_changes(d->changes, d->nchanges, &s_drops_noun));
}

/* Room for one more row in n; sets the cut and says stop when there is none. */
static bool s_room(rows_newest_t *n)
{
    if ((int64_t)json_array_size(n->rows) < n->limit)
        return true;
    n->cut->limit = true;
    return false;
}

int rows_newest_drop(void *ctx, const drop_row_t *d)
{
    rows_newest_t *n = ctx;
    return s_room(n) ? json_array_append_new(n->rows, rows_drop(d)) != 0 : 1;
}

int rows_newest_burst(void *ctx, const burst_row_t *b)
{
    rows_newest_t *n = ctx;
    return s_room(n) ? json_array_append_new(n->rows, rows_burst(b, n->cut)) != 0 : 1;
}

int rows_newest_gap(void *ctx, const gap_row_t *g)
{
    rows_newest_t *n = ctx;
    return s_room(n) ? json_array_append_new(n->rows, rows_gap(g)) != 0 : 1;
}

void rows_reverse(json_t *rows)
{
    size_t n = json_array_size(rows);
    for (size_t i = 0; i < n / 2; i++) {
        json_t *a = json_incref(json_array_get(rows, i));
        json_t *b = json_incref(json_array_get(rows, n - 1 - i));
        json_array_set_new(rows, i, b);
        json_array_set_new(rows, n - 1 - i, a);
    }
}

/* Appends a clause to buf, "; " after the one before. */
static void s_clause(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_clause(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strnlen(buf, size);
    if (len && len + 2 < size)
        len += (size_t)snprintf(buf + len, size - len, "; ");
    va_list ap;
    va_start(ap, fmt);
    if (len < size)
        vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

void rows_cut_words(const rows_cut_t *cut, int64_t limit, int64_t max_limit, char *buf, size_t size)
{
    buf[0] = '\0';
    if (cut->limit)
        s_clause(buf, size,
                 "limit (more than %lld rows: the newest %lld kept; narrow the range or "
                 "raise limit, up to %lld)",
                 (long long)limit, (long long)limit, (long long)max_limit);
    if (cut->bursts_from_ns) {
        char when[40];
        s_clause(buf, size,
                 "bursts (more bursts than the %lld newest read, after %s: incidents "
                 "before then left out; narrow the range)",
                 (long long)cut->bursts_read, ts_format(cut->bursts_from_ns, when, sizeof when));
    }
    if (cut->profiles)
        s_clause(buf, size,
                 "profiles (over %d profile ticks: older bursts have profile_omitted "
                 "true; narrow the range to see them)",
                 ROWS_PROFILE_TICKS);
}
