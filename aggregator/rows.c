/* rows: see rows.h. */
#include "rows.h"

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

json_t *rows_burst(const burst_row_t *b)
{
    json_t *drops = json_object(), *profile = json_array();
    int64_t total = 0;
    for (int l = 0; l < LAYER_COUNT; l++) {
        if (b->drops[l] > 0)
            json_object_set_new(drops, layer_name((layer_t)l), json_integer(b->drops[l]));
        total += b->drops[l];
    }
    for (size_t i = 0; i < b->nprofile; i++)
        json_array_append_new(profile, json_integer(b->profile[i]));
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:o, s:I, s:o, "
                     "s:I, s:I, s:b}",
                     "host", b->host, "iface", b->iface, "direction", b->direction, "start_ns",
                     (json_int_t)b->start_ns, "end_ns", (json_int_t)b->end_ns,
                     "corrected_start_ns", (json_int_t)b->corrected_start_ns, "uncertainty_ns",
                     (json_int_t)b->uncertainty_ns, "peak_per_ms", b->peak_per_ms, "packets",
                     (json_int_t)b->packets, "bytes", (json_int_t)b->bytes, "threshold_per_ms",
                     (json_int_t)b->threshold_per_ms, "drops", drops, "drops_total",
                     (json_int_t)total, "profile", profile, "profile_start_ns",
                     (json_int_t)b->profile_start_ns, "tick_ns", (json_int_t)b->tick_ns,
                     "profile_complete", b->profile_complete);
}
