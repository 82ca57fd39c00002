/* state: a JSON document {"boot_id", "incarnation", "seq", "ts_ns",
 * "series": [[source, device, name, value, instance], ...]}. Assumes a few
 * thousand series and one write per snapshot; no fsync, because what it
 * guards against is a collector crash (the page cache survives) and a
 * power loss brings a new boot, which invalidates the file anyway. */
#include "state.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    json_t *array;
} dump_t;

static void s_dump(void *ctx, series_entry_t *e)
{
    dump_t *d = ctx;
    if (e->present)
        json_array_append_new(d->array, json_pack("[s, s, s, I, I]", e->source, e->device,
                                                  e->name, (json_int_t)e->value,
                                                  (json_int_t)e->instance));
}

int state_write(const char *path, const state_head_t *head, series_t *series, char *err,
                size_t errsz)
{
    dump_t d = {json_array()};
    series_each(series, s_dump, &d);
    json_t *doc = json_pack("{s:s, s:I, s:I, s:I, s:o}", "boot_id", head->boot_id, "incarnation",
                            (json_int_t)head->incarnation, "seq", (json_int_t)head->seq, "ts_ns",
                            (json_int_t)head->ts_ns, "series", d.array);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = doc ? json_dump_file(doc, tmp, JSON_COMPACT) : -1;
    json_decref(doc);
    if (rc != 0 || rename(tmp, path) != 0) {
        snprintf(err, errsz, "cannot write %s: %s", rc != 0 ? tmp : path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

static int s_restore(json_t *array, series_t *series)
{
    size_t i;
    json_t *row;
    json_array_foreach(array, i, row) {
        const char *source, *device, *name;
        json_int_t value, instance;
        if (json_unpack(row, "[s, s, s, I, I]", &source, &device, &name, &value, &instance) != 0)
            return -1;
        reading_t r = {source, device, name, (uint64_t)value, (uint64_t)instance};
        series_restore(series, &r); /* an unknown source is skipped */
    }
    return 0;
}

int state_read(const char *path, state_head_t *head, series_t *series, char *err, size_t errsz)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        if (errno == ENOENT || jerr.position == 0)
            return 1;
        snprintf(err, errsz, "%s is not a collector state file: %s", path, jerr.text);
        return -1;
    }
    const char *boot_id;
    json_int_t incarnation, seq, ts;
    json_t *array;
    int rc = json_unpack(doc, "{s:s, s:I, s:I, s:I, s:o}", "boot_id", &boot_id, "incarnation",
                         &incarnation, "seq", &seq, "ts_ns", &ts, "series", &array);
    if (rc == 0) {
        *head = (state_head_t){.incarnation = (uint64_t)incarnation, .seq = (uint64_t)seq,
                               .ts_ns = (int64_t)ts};
        snprintf(head->boot_id, sizeof head->boot_id, "%s", boot_id);
        if (series)
            rc = s_restore(array, series);
    }
    if (rc != 0)
        snprintf(err, errsz, "%s is not a collector state file (fields missing)", path);
    json_decref(doc);
    return rc == 0 ? 0 : -1;
}
