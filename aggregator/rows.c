/* rows: see rows.h. */
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

json_t *rows_burst(const burst_row_t *b, rows_cut_t *cut)
{
    bool omit = cut && b->nprofile > cut->ticks_left;
    if (omit)
        cut->profiles = true;
    else if (cut)
        cut->ticks_left -= b->nprofile;
    json_t *drops = json_object(), *profile = json_array();
    int64_t total = 0;
    for (int l = 0; l < LAYER_COUNT; l++) {
        if (b->drops[l] > 0)
            json_object_set_new(drops, layer_name((layer_t)l), json_integer(b->drops[l]));
        total += b->drops[l];
    }
    for (size_t i = 0; i < b->nprofile && !omit; i++)
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
    if (row && omit)
        json_object_set_new(row, "profile_omitted", json_true());
    return row;
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
