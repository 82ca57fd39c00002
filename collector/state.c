/* state: a JSON document {"boot_id", "incarnation", "seq", "ts_ns",
 * "series": [[source, device, name, value, instance], ...]}. Assumes a few
 * thousand series and one encoding per snapshot. state_write does not fsync,
 * because what the file guards against is a collector crash (the page cache
 * survives) and a power loss brings a new boot, which invalidates the file
 * anyway; the collector's own commits go through delivery.c, for the same
 * reason without fsync either. */
#include "state.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "log.h"
#include "ts.h"

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

char *state_encode(const state_head_t *head, series_t *series, size_t *len_p, char *err,
                   size_t errsz)
{
    dump_t d = {json_array()};
    series_each(series, s_dump, &d);
    json_t *doc = json_pack("{s:s, s:I, s:I, s:I, s:o}", "boot_id", head->boot_id, "incarnation",
                            (json_int_t)head->incarnation, "seq", (json_int_t)head->seq, "ts_ns",
                            (json_int_t)head->ts_ns, "series", d.array);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) { /* jansson packs only UTF-8 */
        snprintf(err, errsz, "cannot encode the counter state: out of memory, or a boot id "
                 "that is not UTF-8");
        return NULL;
    }
    *len_p = strlen(text);
    return text;
}

int state_write(const char *path, const state_head_t *head, series_t *series, char *err,
                size_t errsz)
{
    size_t len;
    char why[256];
    char *text = state_encode(head, series, &len, why, sizeof why);
    if (!text) {
        snprintf(err, errsz, "%s (writing %s)", why, path);
        return -1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    int rc = fp && fwrite(text, 1, len, fp) == len ? 0 : -1;
    if (fp && fclose(fp) != 0)
        rc = -1;
    free(text);
    if (rc != 0 || rename(tmp, path) != 0) {
        snprintf(err, errsz, "cannot write %s: %s", rc != 0 ? tmp : path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* Restores every row, or none: a damaged row anywhere refuses the file
 * before the registry is touched, so the caller's new baseline is clean. */
static int s_restore(json_t *array, series_t *series)
{
    size_t i;
    json_t *row;
    for (int apply = 0; apply < 2; apply++)
        json_array_foreach(array, i, row) {
            const char *source, *device, *name;
            json_int_t value, instance;
            if (json_unpack(row, "[s, s, s, I, I]", &source, &device, &name, &value, &instance))
                return -1;
            reading_t r = {source, device, name, (uint64_t)value, (uint64_t)instance};
            if (apply)
                series_restore(series, &r); /* an unknown source is skipped */
        }
    return 0;
}

int state_parse(const char *buf, size_t len, state_head_t *head, series_t *series, char *err,
                size_t errsz)
{
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, 0, &jerr);
    if (!doc) {
        snprintf(err, errsz, "not a collector state file: %s", jerr.text);
        return -1;
    }
    const char *boot_id;
    json_int_t incarnation, seq, ts;
    json_t *array;
    int rc = json_unpack(doc, "{s:s, s:I, s:I, s:I, s:o}", "boot_id", &boot_id, "incarnation",
                         &incarnation, "seq", &seq, "ts_ns", &ts, "series", &array);
    /* A boot id too long for the head was not written by state_write. It is
     * refused, not cut: a cut can split a UTF-8 character, and state_write
     * would then refuse the head it was given back. */
    if (rc == 0 && strlen(boot_id) >= sizeof head->boot_id) {
        snprintf(err, errsz, "not a collector state file (a boot_id of %zu bytes)",
                 strlen(boot_id));
        json_decref(doc);
        return -1;
    }
    if (rc == 0) {
        *head = (state_head_t){.incarnation = (uint64_t)incarnation, .seq = (uint64_t)seq,
                               .ts_ns = (int64_t)ts};
        snprintf(head->boot_id, sizeof head->boot_id, "%s", boot_id);
        if (series)
            rc = s_restore(array, series);
    }
    if (rc != 0)
        snprintf(err, errsz, "not a collector state file (fields missing)");
    json_decref(doc);
    return rc == 0 ? 0 : -1;
}

/* The whole file at path in a new malloc'd buffer (the caller frees it),
 * its size in *len; NULL with errno when it cannot be read. */
static char *s_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        char *more = grow(buf, n + 4096, &cap, 1, 16384);
        if (!more) {
            free(buf);
            fclose(fp);
            errno = ENOMEM;
            return NULL;
        }
        buf = more;
        n += got = fread(buf + n, 1, cap - n, fp);
    } while (got > 0);
    int failed = ferror(fp), saved = errno;
    fclose(fp);
    if (failed) {
        free(buf);
        errno = saved;
        return NULL;
    }
    *len = n;
    return buf;
}

int state_read(const char *path, state_head_t *head, series_t *series, char *err, size_t errsz)
{
    size_t len = 0;
    char *buf = s_slurp(path, &len);
    if (!buf && errno == ENOENT)
        return 1;
    if (!buf) {
        snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char why[256];
    /* An empty file was created but never written: as good as none. */
    int rc = len == 0 ? 1 : state_parse(buf, len, head, series, why, sizeof why);
    free(buf);
    if (rc < 0)
        snprintf(err, errsz, "%s is %s", path, why);
    return rc;
}

int64_t state_restore(const char *path, const char *boot_id, series_t *series)
{
    char err[512], when[40];
    state_head_t head;
    int rc = state_read(path, &head, NULL, err, sizeof err);
    if (rc < 0)
        log_warn("collector: %s; starting from a new baseline", err);
    if (rc != 0)
        return 0;
    if (strcmp(head.boot_id, boot_id) != 0) {
        log_info("collector: %s is from another boot; starting from a new baseline", path);
        return 0;
    }
    if (state_read(path, &head, series, err, sizeof err) != 0) {
        log_warn("collector: %s; starting from a new baseline", err);
        return 0;
    }
    log_info("collector: continuing from the %zu counters read at %s by the previous run; drops "
             "since then are counted",
             series_count(series), ts_format(head.ts_ns, when, sizeof when));
    return head.ts_ns;
}
