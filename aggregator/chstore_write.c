/* chstore_write: the ClickHouse store's messages (hello, batch, heartbeat)
 * and the writer's cache of each host: its run's definitions, its
 * settings' last values, its series count, and what its messages change in
 * its hosts row until the next flush. Assumes one writer thread, groups of
 * up to a few hundred messages, and other aggregators writing the same
 * database: what another may have written is read from ClickHouse when a
 * host or a run is met (and the hosts rows again at each flush, merged
 * field by field, so that no writer's fields are lost).
 *
 * A message is checked whole (host admitted, not a duplicate, within the
 * series bound, every wire id defined) before it changes anything; only
 * then are its rows appended to the group's buffers. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chstore_writer.h"
#include "clickhouse.h"
#include "grow.h"
#include "layer.h"
#include "sample.h"
#include "ts.h"


/* --- helpers ---------------------------------------------------------------- */

/* A copy of a borrowed RowBinary string; NULL without memory. */
static char *s_dup_rb(const char *s, size_t len)
{
    return strndup(s ? s : "", s ? len : 0);
}

/* --- a host's definitions and settings ------------------------------------ */

static void s_defs_clear(chw_host_t *c)
{
    for (size_t i = 0; i < c->ndefs; i++)
        free(c->defs[i].strings);
    c->ndefs = 0;
}

/* The index of wire in c's defs, or where it would go (*found false). */
static size_t s_def_at(const chw_host_t *c, uint32_t wire, bool *found)
{
    size_t lo = 0, hi = c->ndefs;
    if (hi && c->defs[hi - 1].wire < wire)
        lo = hi; /* ids come ascending: the common case is at the end */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->defs[mid].wire < wire)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < c->ndefs && c->defs[lo].wire == wire;
    return lo;
}

static chw_def_t *s_def_find(chw_host_t *c, uint32_t wire)
{
    bool found;
    size_t at = s_def_at(c, wire, &found);
    return found ? &c->defs[at] : NULL;
}

/* Sets c's definition of d->id (owner "" keeps a known owner, as SQLite's
 * upsert does). 0, -1 without memory. */
static int s_def_put(chw_host_t *c, const store_def_t *d)
{
    bool found;
    size_t at = s_def_at(c, d->id, &found);
    const char *owner = !d->owner[0] && found ? c->defs[at].owner : d->owner;
    size_t ls = strlen(d->source), ld = strlen(d->device), ln = strlen(d->name);
    char *s = malloc(ls + ld + ln + strlen(owner) + 4);
    if (!s)
        return -1;
    strcpy(s, d->source);
    strcpy(s + ls + 1, d->device);
    strcpy(s + ls + ld + 2, d->name);
    strcpy(s + ls + ld + ln + 3, owner);
    if (!found) {
        chw_def_t *grown = grow(c->defs, c->ndefs + 1, &c->capdefs, sizeof *grown, 64);
        if (!grown) {
            free(s);
            return -1;
        }
        c->defs = grown;
        memmove(c->defs + at + 1, c->defs + at, (c->ndefs - at) * sizeof *c->defs);
        c->ndefs++;
    } else {
        free(c->defs[at].strings);
    }
    c->defs[at] = (chw_def_t){.wire = d->id, .kind = (uint8_t)d->kind, .layer = (uint8_t)d->layer,
                              .overlap = d->overlap, .strings = s, .source = s,
                              .device = s + ls + 1, .name = s + ls + ld + 2,
                              .owner = s + ls + ld + ln + 3};
    return 0;
}

/* "source\x1f" "device\x1f" "name" into key (3 * 256 bytes at least). */
static const char *s_setting_key(char *key, size_t size, const char *source, const char *device,
                                 const char *name)
{
    snprintf(key, size, "%s\x1f%s\x1f%s", source, device, name);
    return key;
}

/* Reads the definitions of c's run from `series` (every aggregator's);
 * merge: adds only the wire ids c lacks (the group's own stay). */
static int s_load_defs(chstore_t *self, chw_host_t *c, const char *qhost, bool merge, char *err,
                       size_t errsz)
{
    char *sql = chw_sqlf("SELECT wire_id, argMax(source, defined_ns), argMax(device, defined_ns), "
                       "argMax(name, defined_ns), argMax(kind, defined_ns), argMax(layer, "
                       "defined_ns), argMax(overlap, defined_ns), argMax(owner, defined_ns) FROM "
                       "{db}.series WHERE host = %s AND incarnation = %llu GROUP BY wire_id "
                       "ORDER BY wire_id FORMAT RowBinary",
                       qhost, (unsigned long long)c->incarnation);
    const uint8_t *answer;
    size_t len;
    int rc = chw_query(self, "the run's series definitions", sql, &answer, &len, err, errsz);
    free(sql);
    if (rc != 0)
        return -1;
    if (!merge)
        s_defs_clear(c);
    rbr_t r = rbr_init(answer, len);
    while (rbr_more(&r) && rc == 0) {
        /* wire_id, source, device, name, kind, layer, overlap, owner */
        const char *f[6] = {0};
        size_t n[6] = {0};
        uint32_t wire = 0;
        uint8_t overlap = 0;
        rbr_u32(&r, &wire);
        for (int i = 0; i < 5; i++)
            rbr_string(&r, &f[i], &n[i]);
        rbr_u8(&r, &overlap);
        rbr_string(&r, &f[5], &n[5]);
        if (rbr_failed(&r))
            break;
        if (merge && s_def_find(c, wire))
            continue;
        char *s[6];
        bool ok = true;
        for (int i = 0; i < 6; i++)
            ok = (s[i] = s_dup_rb(f[i], n[i])) != NULL && ok;
        store_def_t d = {.id = wire, .source = s[0], .device = s[1], .name = s[2],
                         .kind = ok ? kind_from_name(s[3]) : KIND_UNKNOWN,
                         .layer = ok ? layer_from_name(s[4]) : LAYER_UNKNOWN,
                         .overlap = overlap != 0, .owner = s[5]};
        rc = ok && s_def_put(c, &d) == 0 ? 0 : -1;
        for (int i = 0; i < 6; i++)
            free(s[i]);
    }
    if (rc == 0 && !rbr_failed(&r))
        return 0;
    char why[256] = "out of memory";
    if (rbr_failed(&r))
        rbr_error(&r, why, sizeof why);
    snprintf(err, errsz, "chstore: cannot read the series definitions of host %s: %s", c->name,
             why);
    return -1;
}

/* Reads the last value of each of c's settings from `settings`. */
static int s_load_settings(chstore_t *self, chw_host_t *c, const char *qhost, char *err,
                           size_t errsz)
{
    char *sql = chw_sqlf("SELECT source, device, name, argMax(value, ts_ns) FROM {db}.settings "
                       "WHERE host = %s GROUP BY source, device, name FORMAT RowBinary",
                       qhost);
    const uint8_t *answer;
    size_t len;
    int rc = chw_query(self, "the host's settings", sql, &answer, &len, err, errsz);
    free(sql);
    if (rc != 0)
        return -1;
    strmap_clear(c->settings, free);
    rbr_t r = rbr_init(answer, len);
    while (rbr_more(&r) && rc == 0) {
        const char *f[3];
        size_t n[3];
        int64_t value = 0;
        for (int i = 0; i < 3; i++)
            rbr_string(&r, &f[i], &n[i]);
        if (rbr_i64(&r, &value) != 0)
            break;
        char key[3 * 260];
        snprintf(key, sizeof key, "%.*s\x1f%.*s\x1f%.*s", (int)n[0], f[0], (int)n[1], f[1],
                 (int)n[2], f[2]);
        int64_t *v = malloc(sizeof *v);
        rc = v && strmap_put(c->settings, key, v) == 0 ? 0 : -1;
        if (rc == 0)
            *v = value;
        else
            free(v);
    }
    if (rc == 0 && !rbr_failed(&r))
        return 0;
    char why[256] = "out of memory";
    if (rbr_failed(&r))
        rbr_error(&r, why, sizeof why);
    snprintf(err, errsz, "chstore: cannot read the settings of host %s: %s", c->name, why);
    return -1;
}

/* Loads what ClickHouse holds of c for run `incarnation`: whether its hosts
 * row exists, its series count, its run's definitions, its settings. */
static int s_load(chstore_t *self, chw_host_t *c, uint64_t incarnation, char *err, size_t errsz)
{
    char *qhost = clickhouse_quote_dup(c->name);
    char *sql = qhost ? chw_sqlf("SELECT (SELECT count() FROM {db}.hosts WHERE name = %s) * "
                               "4294967296 + (SELECT uniqExact(source, device, name) FROM "
                               "{db}.series WHERE host = %s) FORMAT RowBinary",
                               qhost, qhost)
                      : NULL;
    uint64_t v = 0;
    c->incarnation = incarnation;
    c->group_max = 0; /* the group's highest seq was another run's */
    int rc = chw_scalar(self, "the host's row and series count", sql, &v, err, errsz);
    free(sql);
    if (rc == 0) {
        c->counted = c->counted || v >= UINT64_C(4294967296);
        c->nseries = (int64_t)(v & 0xffffffffu);
        rc = s_load_defs(self, c, qhost, false, err, errsz);
    }
    if (rc == 0)
        rc = s_load_settings(self, c, qhost, err, errsz);
    if (rc == 0) {
        sql = qhost ? chw_sqlf("SELECT max(seq) FROM {db}.batches WHERE host = %s AND "
                               "incarnation = %llu FORMAT RowBinary",
                               qhost, (unsigned long long)incarnation)
                    : NULL;
        rc = chw_scalar(self, "the run's last batch stored", sql, &c->stored_max, err, errsz);
        free(sql);
    }
    free(qhost);
    c->loaded = rc == 0;
    return rc;
}

/* --- the host cache ---------------------------------------------------------- */

void chw_host_free(void *value)
{
    chw_host_t *c = value;
    if (!c)
        return;
    chw_pending_clear(&c->p);
    chw_pending_clear(&c->saved);
    s_defs_clear(c);
    free(c->defs);
    if (c->settings)
        strmap_clear(c->settings, free);
    strmap_destroy(&c->settings);
    free(c->gids);
    free(c->name);
    free(c);
}

/* Whether a host not met yet may be stored: it has a hosts row already,
 * or there is room for one more (--max-hosts). */
static store_rc_t s_admit(chstore_t *self, chw_host_t *c, char *err, size_t errsz)
{
    chstore_writer_t *w = self->w;
    if (w->nhosts < 0) {
        uint64_t n;
        if (chw_scalar(self, "the number of hosts",
                       "SELECT uniqExact(name) FROM {db}.hosts FORMAT RowBinary", &n, err,
                       errsz) != 0)
            return STORE_ERROR;
        w->nhosts = (int64_t)n;
    }
    if (c->counted || w->nhosts < w->max_hosts)
        return STORE_OK;
    snprintf(err, errsz, "the database holds %lld hosts, the most --max-hosts allows; host %s "
             "is new and refused (raise --max-hosts)", (long long)w->nhosts, c->name);
    w->last_limit = STORE_LIMIT_HOSTS;
    return STORE_OVER_LIMIT;
}

/* The cache of o's host into *c_p: made and loaded when met first, its
 * run's definitions loaded when the message is of another run. */
static store_rc_t s_host(chstore_t *self, const store_origin_t *o, chw_host_t **c_p, char *err,
                         size_t errsz)
{
    chstore_writer_t *w = self->w;
    chw_host_t *c = *c_p = strmap_get(w->hosts, o->host);
    if (c && c->loaded && c->incarnation == o->incarnation)
        return STORE_OK;
    bool made = false;
    if (!c) {
        if (!(c = calloc(1, sizeof *c)) || !(c->name = strdup(o->host)) ||
            !(c->settings = strmap_new())) {
            chw_host_free(c);
            snprintf(err, errsz, "chstore: out of memory for host %s", o->host);
            return STORE_ERROR;
        }
        made = true;
    }
    store_rc_t rc = s_load(self, c, o->incarnation, err, errsz) == 0 ? STORE_OK : STORE_ERROR;
    if (rc == STORE_OK && made)
        rc = s_admit(self, c, err, errsz);
    if (rc == STORE_OK && made) {
        if (strmap_put(w->hosts, o->host, c) != 0) {
            snprintf(err, errsz, "chstore: out of memory for host %s", o->host);
            rc = STORE_ERROR;
        }
        c->new_in_group = true;
        c->group_gen = 0;
    }
    if (rc != STORE_OK && made)
        chw_host_free(c);
    *c_p = rc == STORE_OK ? c : NULL;
    return rc;
}

/* The group is about to change c: its pending row is saved for a rollback
 * the first time. -1 without memory. */
static int s_touch(chstore_writer_t *w, chw_host_t *c)
{
    if (c->group_gen == w->group_gen)
        return 0;
    chw_host_t **grown = grow(w->touched, w->ntouched + 1, &w->captouched, sizeof *grown, 64);
    if (!grown)
        return -1;
    w->touched = grown;
    w->touched[w->ntouched++] = c;
    chw_pending_clear(&c->saved);
    c->group_gen = w->group_gen;
    c->ngids = 0;
    c->group_max = 0;
    return chw_pending_copy(&c->saved, &c->p);
}

/* A message of c stored: it was seen (its row waits for the flush). */
static int s_seen(chw_host_t *c, const store_origin_t *o)
{
    chw_pending_t *p = &c->p;
    if (!p->seen || o->received_ns < p->first_seen_ns)
        p->first_seen_ns = o->received_ns;
    if (!p->seen || o->received_ns > p->last_seen_ns)
        p->last_seen_ns = o->received_ns;
    p->incarnation = o->incarnation;
    p->last_seq = o->seq;
    p->seen = true;
    c->used_mono = ts_mono_ns();
    if (p->boot_id && strcmp(p->boot_id, o->boot_id) == 0)
        return 0;
    free(p->boot_id);
    return (p->boot_id = strdup(o->boot_id)) ? 0 : -1;
}

/* Keeps a batch's spool losses and clock (a replayed older batch does not
 * overwrite a newer clock), as store_hosts.c does. */
static void s_delivery(chw_pending_t *p, const store_batch_t *b)
{
    if (p->delivery && b->ts_ns < p->clock_ts_ns)
        return;
    uint64_t *mine[] = {&p->spool_messages, &p->spool_samples, &p->rejected_messages,
                        &p->rejected_samples};
    const uint64_t theirs[] = {b->spool_dropped_messages, b->spool_dropped_samples,
                               b->spool_rejected_messages, b->spool_rejected_samples};
    for (int i = 0; i < 4; i++)
        if (!p->delivery || theirs[i] > *mine[i])
            *mine[i] = theirs[i];
    p->clock_ts_ns = b->ts_ns;
    p->clock = b->clock;
    p->delivery = true;
}

/* --- the rows ------------------------------------------------------------------ */

const char *const chw_columns[CHW_NTABLES] = {
    [CHW_SERIES] = "series (host, incarnation, wire_id, source, device, name, kind, layer, "
                   "overlap, owner, defined_ns)",
    [CHW_SAMPLES] = "samples (host, source, device, name, ts_ns, value, delta, flags)",
    [CHW_DROPS] = "drops (host, ts_ns, source, device, name, layer, prev_ts_ns, delta, reset, "
                  "overlap, owner)",
    [CHW_SETTINGS] = "settings (host, source, device, name, ts_ns, value)",
    [CHW_BURSTS] = "bursts (host, iface, direction, start_ns, end_ns, peak_per_ms, packets, "
                   "bytes, threshold_per_ms, drops, drops_total, profile_start_ns, tick_ns, "
                   "profile, profile_complete, corrected_start_ns, uncertainty_ns)",
    [CHW_GAPS] = "gaps (host, group_addr, port, start_ns, end_ns, missing, first_seq, last_seq)",
    [CHW_BATCHES] = "batches (host, incarnation, seq, kind, ts_ns, prev_ts_ns, received_ns, "
                    "aggregator, nsamples)",
};

/* The table's buffer, counting one more row. */
static rbw_t *s_row(chstore_writer_t *w, int table)
{
    w->rows[table]++;
    return w->buf[table];
}

static void s_row_names(rbw_t *b, const char *host, const chw_def_t *d)
{
    chw_str(b, host);
    chw_str(b, d->source);
    chw_str(b, d->device);
    chw_str(b, d->name);
}

static void s_row_series(chstore_writer_t *w, const chw_host_t *c, const chw_def_t *d)
{
    rbw_t *b = s_row(w, CHW_SERIES);
    chw_str(b, c->name);
    rbw_u64(b, c->incarnation);
    rbw_u32(b, d->wire);
    chw_str(b, d->source);
    chw_str(b, d->device);
    chw_str(b, d->name);
    chw_str(b, kind_name((kind_t)d->kind));
    chw_str(b, layer_name((layer_t)d->layer));
    rbw_u8(b, d->overlap);
    chw_str(b, d->owner);
    rbw_u64(b, chw_version(w));
}

static void s_row_burst(chstore_writer_t *w, const char *host, const store_burst_t *u)
{
    rbw_t *b = s_row(w, CHW_BURSTS);
    chw_str(b, host);
    chw_str(b, u->iface);
    chw_str(b, u->tx ? "tx" : "rx");
    rbw_i64(b, u->start_ns);
    rbw_i64(b, u->end_ns);
    rbw_f64(b, u->peak_per_ms);
    rbw_i64(b, (int64_t)u->packets);
    rbw_i64(b, (int64_t)u->bytes);
    rbw_i64(b, (int64_t)u->threshold_per_ms);
    rbw_array_len(b, LAYER_COUNT);
    uint64_t total = 0;
    for (int l = 0; l < LAYER_COUNT; l++) {
        rbw_i64(b, (int64_t)u->drops[l]);
        total += u->drops[l];
    }
    rbw_i64(b, (int64_t)total);
    rbw_i64(b, u->profile_start_ns);
    rbw_i64(b, u->tick_ns);
    rbw_array_len(b, u->nprofile);
    for (size_t i = 0; i < u->nprofile; i++)
        rbw_u32(b, u->profile[i]);
    rbw_u8(b, u->profile_complete);
    rbw_i64(b, u->corrected_start_ns);
    rbw_i64(b, u->uncertainty_ns);
}

static void s_row_gap(chstore_writer_t *w, const char *host, const store_gap_t *g)
{
    rbw_t *b = s_row(w, CHW_GAPS);
    chw_str(b, host);
    chw_str(b, g->group);
    rbw_u32(b, g->port);
    rbw_i64(b, g->start_ns);
    rbw_i64(b, g->end_ns);
    rbw_u64(b, g->missing);
    rbw_u64(b, g->first_seq);
    rbw_u64(b, g->last_seq);
}

/* The message's identity (a hello's time is when it arrived). */
static void s_row_batch(chstore_writer_t *w, const store_origin_t *o, const store_batch_t *bt)
{
    rbw_t *b = s_row(w, CHW_BATCHES);
    chw_str(b, o->host);
    rbw_u64(b, o->incarnation);
    rbw_u64(b, o->seq);
    chw_str(b, bt ? "batch" : "hello");
    rbw_i64(b, bt ? bt->ts_ns : o->received_ns);
    rbw_i64(b, bt ? bt->prev_ts_ns : 0);
    rbw_i64(b, o->received_ns);
    chw_str(b, w->name);
    rbw_u32(b, bt ? (uint32_t)bt->nsamples : 0);
}

/* A sample's drop row (drop and precursor layers' counters: a non-zero
 * delta or a reset, as store.c) or setting row (first report or change). */
static int s_row_event(chstore_writer_t *w, chw_host_t *c, const chw_def_t *d,
                       const store_batch_t *bt, size_t i)
{
    bool reset = (bt->flags[i] & SAMPLE_RESET) != 0;
    if (d->kind == KIND_COUNTER && layer_on_path((layer_t)d->layer) && (bt->deltas[i] || reset)) {
        rbw_t *b = s_row(w, CHW_DROPS);
        chw_str(b, c->name);
        rbw_i64(b, bt->ts_ns);
        chw_str(b, d->source);
        chw_str(b, d->device);
        chw_str(b, d->name);
        chw_str(b, layer_name((layer_t)d->layer));
        rbw_i64(b, bt->prev_ts_ns);
        rbw_i64(b, bt->deltas[i]);
        rbw_u8(b, reset);
        rbw_u8(b, d->overlap);
        chw_str(b, d->owner);
        if (!d->overlap && bt->deltas[i] > 0)
            w->msg_tally.path[d->layer] += (uint64_t)bt->deltas[i];
        return 0;
    }
    if (d->kind != KIND_SETTING)
        return 0;
    char key[3 * 260];
    s_setting_key(key, sizeof key, d->source, d->device, d->name);
    int64_t *last = strmap_get(c->settings, key), value = (int64_t)bt->values[i];
    if (last && *last == value)
        return 0; /* settings are sent in every full batch and rarely change */
    if (!last && (!(last = malloc(sizeof *last)) || strmap_put(c->settings, key, last) != 0)) {
        free(last);
        return -1;
    }
    *last = value;
    rbw_t *b = s_row(w, CHW_SETTINGS);
    s_row_names(b, c->name, d);
    rbw_i64(b, bt->ts_ns);
    rbw_i64(b, value);
    return 0;
}

/* --- checking a batch before it changes anything ---------------------------- */

static int s_cmp_def(const void *key, const void *def)
{
    uint32_t wire = *(const uint32_t *)key, id = ((const store_def_t *)def)->id;
    return wire < id ? -1 : wire > id;
}

/* The batch's definition of wire id (its defs ascend), or NULL. */
static const store_def_t *s_batch_def(const store_batch_t *b, uint32_t wire)
{
    const store_def_t *d = b->ndefs ? bsearch(&wire, b->defs, b->ndefs, sizeof *b->defs,
                                              s_cmp_def)
                                    : NULL;
    for (size_t i = 0; !d && i < b->ndefs; i++) /* not ascending after all */
        if (b->defs[i].id == wire)
            d = &b->defs[i];
    return d;
}

/* Whether (incarnation, seq) is already stored: earlier in the group, or
 * by any aggregator (`batches`). A collector numbers its messages one by
 * one, so the message right after the highest of its run known stored here
 * (stored_max, or the group's) is new without asking ClickHouse, as long as
 * the host has not been away from this writer for CHW_RECHECK_NS: that is
 * the common case, where a query per batch would cost a round trip each.
 * Anything else is asked about: a seq at or below that is a resend (after
 * a failover, or a lost ack), one further on follows messages stored
 * elsewhere, and a host back after a while may have been elsewhere (a
 * collector fails over only after AGENT_FAILOVER_NS without an ack, longer
 * than CHW_RECHECK_NS). */
static store_rc_t s_duplicate(chstore_t *self, const chw_host_t *c, const store_origin_t *o,
                              char *err, size_t errsz)
{
    if (c->group_gen == self->w->group_gen)
        for (size_t i = 0; i < c->ngids; i++)
            if (c->gids[i].incarnation == o->incarnation && c->gids[i].seq == o->seq)
                return STORE_DUPLICATE;
    uint64_t known = c->group_gen == self->w->group_gen && c->group_max > c->stored_max
                         ? c->group_max
                         : c->stored_max;
    if (o->incarnation == c->incarnation && o->seq == known + 1 &&
        ts_mono_ns() - c->used_mono < CHW_RECHECK_NS)
        return STORE_OK;
    char *qhost = clickhouse_quote_dup(o->host);
    char *sql = qhost ? chw_sqlf("SELECT count() FROM {db}.batches WHERE host = %s AND "
                               "incarnation = %llu AND seq = %llu AND kind = 'batch' "
                               "FORMAT RowBinary",
                               qhost, (unsigned long long)o->incarnation,
                               (unsigned long long)o->seq)
                      : NULL;
    uint64_t n = 0;
    int rc = chw_scalar(self, "whether the batch is stored", sql, &n, err, errsz);
    free(sql);
    free(qhost);
    return rc != 0 ? STORE_ERROR : n ? STORE_DUPLICATE : STORE_OK;
}

/* The series bound, counted as store_ids.c counts it: each definition of
 * a wire id the run has not defined may be a new series. */
static store_rc_t s_check_defs(chstore_t *self, chw_host_t *c, const store_batch_t *b, char *err,
                               size_t errsz)
{
    int64_t n = c->nseries;
    for (size_t i = 0; i < b->ndefs; i++) {
        const store_def_t *d = &b->defs[i];
        if (n >= STORE_MAX_SERIES_PER_HOST) {
            snprintf(err, errsz, "host has %d series, the most one host may define; refusing "
                     "%s/%s/%s (a collector defines a few hundred)", STORE_MAX_SERIES_PER_HOST,
                     d->source, d->device, d->name);
            self->w->last_limit = STORE_LIMIT_SERIES;
            return STORE_OVER_LIMIT;
        }
        if (!s_def_find(c, d->id) && (i == 0 || b->defs[i - 1].id != d->id))
            n++;
    }
    return STORE_OK;
}

/* Every sample's wire id defined (by the batch or the run), and no
 * counter going back. The run's definitions are read again once when one
 * is missing: another aggregator may have stored them meanwhile. */
static store_rc_t s_check_samples(chstore_t *self, chw_host_t *c, const store_batch_t *b,
                                  char *err, size_t errsz)
{
    bool reloaded = false;
    for (size_t i = 0; i < b->nsamples; i++) {
        uint32_t wire = b->series[i];
        const store_def_t *bd = s_batch_def(b, wire);
        const chw_def_t *cd = bd ? NULL : s_def_find(c, wire);
        if (!bd && !cd && !reloaded) {
            reloaded = true;
            char *qhost = clickhouse_quote_dup(c->name);
            int rc = qhost ? s_load_defs(self, c, qhost, true, err, errsz) : -1;
            free(qhost);
            if (rc != 0)
                return STORE_ERROR;
            i--;
            continue;
        }
        if (!bd && !cd) {
            snprintf(err, errsz, "sample %zu refers to undefined series id %u", i, wire);
            return STORE_NEED_DEFS;
        }
        kind_t kind = bd ? bd->kind : (kind_t)cd->kind;
        if (kind == KIND_COUNTER && b->deltas[i] < 0) {
            snprintf(err, errsz, "counter series %u has a negative delta %lld", wire,
                     (long long)b->deltas[i]);
            return STORE_INVALID;
        }
    }
    return STORE_OK;
}

/* --- storing a checked message ------------------------------------------------- */

/* The batch's definitions into c's run (and `series` when new or changed:
 * one the run has given alike, without an owner, changes nothing). */
static int s_define(chstore_writer_t *w, chw_host_t *c, const store_batch_t *b)
{
    for (size_t i = 0; i < b->ndefs; i++) {
        const store_def_t *d = &b->defs[i];
        const chw_def_t *known = s_def_find(c, d->id);
        if (known && known->kind == d->kind && known->layer == d->layer &&
            known->overlap == d->overlap && !d->owner[0])
            continue;
        if (!known)
            c->nseries++; /* an upper bound: a redefinition may name a series it has */
        if (s_def_put(c, d) != 0)
            return -1;
        s_row_series(w, c, s_def_find(c, d->id));
    }
    return 0;
}

/* A checked batch's rows into the group's buffers. -1 without memory. */
static int s_write_batch(chstore_writer_t *w, chw_host_t *c, const store_origin_t *o,
                         const store_batch_t *b)
{
    if (s_define(w, c, b) != 0)
        return -1;
    for (size_t i = 0; i < b->nsamples; i++) {
        const chw_def_t *d = s_def_find(c, b->series[i]); /* s_check_samples checked it */
        rbw_t *r = s_row(w, CHW_SAMPLES);
        s_row_names(r, c->name, d);
        rbw_i64(r, b->ts_ns);
        rbw_u64(r, b->values[i]);
        rbw_i64(r, b->deltas[i]);
        rbw_u32(r, b->flags[i]);
        if (s_row_event(w, c, d, b, i) != 0)
            return -1;
    }
    for (size_t i = 0; i < b->nbursts; i++) {
        s_row_burst(w, c->name, &b->bursts[i]);
        /* one burst counted as store_tally_add counts them (iface pairs, "other") */
        store_tally_t one = {.nbursts = 1};
        snprintf(one.bursts[0].iface, sizeof one.bursts[0].iface, "%s", b->bursts[i].iface);
        one.bursts[0].tx = b->bursts[i].tx;
        one.bursts[0].n = 1;
        store_tally_add(&w->msg_tally, &one);
    }
    for (size_t i = 0; i < b->ngaps; i++)
        s_row_gap(w, c->name, &b->gaps[i]);
    s_row_batch(w, o, b);
    chw_id_t *grown = grow(c->gids, c->ngids + 1, &c->capgids, sizeof *grown, 8);
    if (!grown)
        return -1;
    c->gids = grown;
    c->gids[c->ngids].incarnation = o->incarnation;
    c->gids[c->ngids++].seq = o->seq;
    s_delivery(&c->p, b);
    return 0;
}

/* A hello's fields wait for the flush; its identity goes to `batches`. */
static int s_write_hello(chstore_writer_t *w, chw_host_t *c, const store_origin_t *o,
                         const store_hello_t *h)
{
    chw_pending_t *p = &c->p;
    size_t len = 1;
    for (size_t i = 0; i < h->ndegraded; i++)
        len += strlen(h->degraded[i]) + 1;
    char *lines = malloc(len), *at = lines;
    if (!lines)
        return -1;
    *at = '\0';
    for (size_t i = 0; i < h->ndegraded; i++) /* text: no newline inside one (validate.c) */
        at += sprintf(at, "%s%s", i ? "\n" : "", h->degraded[i]);
    free(p->degraded);
    p->degraded = lines;
    char **to[] = {&p->backend, &p->kernel, &p->collector_version, &p->backend_note};
    const char *from[] = {h->backend, h->kernel, h->collector_version,
                          h->backend_note ? h->backend_note : ""};
    for (int i = 0; i < 4; i++) {
        free(*to[i]);
        if (!(*to[i] = strdup(from[i] ? from[i] : "")))
            return -1;
    }
    p->ncpus = h->ncpus;
    p->interval_ns = h->interval_ns;
    p->hello = true;
    s_row_batch(w, o, NULL);
    return 0;
}

/* The message just stored for c: its share joins c's tally. -1 without memory. */
static int s_tally_message(chstore_writer_t *w, chw_host_t *c, const store_origin_t *o,
                           bool batch)
{
    store_tally_t *m = &w->msg_tally;
    m->seen = true;
    m->last_seen_ns = o->received_ns;
    if (batch) {
        m->delivery = true;
        m->clock_valid = c->p.clock.offset_valid;
        m->clock_offset_ns = c->p.clock.offset_ns;
        m->spool_lost = c->p.spool_messages + c->p.rejected_messages;
    }
    if (c->tally_gen != w->tally_gen) {
        store_tally_t *grown =
            grow(w->tallies, w->ntallies + 1, &w->captallies, sizeof *grown, 64);
        if (!grown)
            return -1;
        w->tallies = grown;
        c->tally_gen = w->tally_gen;
        c->tally_ix = w->ntallies++;
        memset(&grown[c->tally_ix], 0, sizeof *grown);
        snprintf(grown[c->tally_ix].host, sizeof grown->host, "%s", o->host);
    }
    store_tally_add(&w->tallies[c->tally_ix], m);
    return 0;
}

/* Checks a message whole, then stages it: a hello, a batch, or neither (a
 * heartbeat). Anything but STORE_OK leaves no trace; STORE_ERROR (out of
 * memory while staging, or ClickHouse unreachable) fails the group. */
static store_rc_t s_message(chstore_t *self, const store_origin_t *o, const store_hello_t *hello,
                            const store_batch_t *batch, char *err, size_t errsz)
{
    chstore_writer_t *w = self->w;
    err[0] = '\0';
    if (!w || !w->in_group) {
        snprintf(err, errsz, "chstore: a message stored outside a group (call chstore_begin "
                 "first)%s", w ? "" : " or on a reader");
        return STORE_ERROR;
    }
    chw_host_t *c;
    store_rc_t rc = s_host(self, o, &c, err, errsz);
    if (rc == STORE_OK && batch)
        rc = s_duplicate(self, c, o, err, errsz);
    if (rc == STORE_OK && batch)
        rc = s_check_defs(self, c, batch, err, errsz);
    if (rc == STORE_OK && batch)
        rc = s_check_samples(self, c, batch, err, errsz);
    if (rc != STORE_OK) {
        w->group_failed = w->group_failed || rc == STORE_ERROR;
        return rc;
    }
    memset(&w->msg_tally, 0, sizeof w->msg_tally);
    int fail = s_touch(w, c);
    if (!fail && hello)
        fail = s_write_hello(w, c, o, hello);
    else if (!fail && batch)
        fail = s_write_batch(w, c, o, batch);
    if (!fail)
        fail = s_seen(c, o);
    if (!fail && (hello || batch) && o->incarnation == c->incarnation && o->seq > c->group_max)
        c->group_max = o->seq;
    if (!fail)
        fail = s_tally_message(w, c, o, batch != NULL);
    for (int t = 0; t < CHW_NTABLES && !fail; t++)
        fail = rbw_failed(w->buf[t]);
    if (fail) {
        snprintf(err, errsz, "chstore: out of memory staging a message of host %s", o->host);
        w->group_failed = true;
        return STORE_ERROR;
    }
    if (!c->counted) {
        c->counted = true; /* its hosts row comes with the next flush */
        w->nhosts++;
    }
    return STORE_OK;
}

store_rc_t chstore_hello(chstore_t *self, const store_origin_t *origin, const store_hello_t *hello,
                         char *err, size_t errsz)
{
    return s_message(self, origin, hello, NULL, err, errsz);
}

store_rc_t chstore_batch(chstore_t *self, const store_origin_t *origin,
                         const store_batch_t *batch, size_t *samples, char *err, size_t errsz)
{
    store_rc_t rc = s_message(self, origin, NULL, batch, err, errsz);
    *samples = rc == STORE_OK ? batch->nsamples : 0;
    return rc;
}

store_rc_t chstore_heartbeat(chstore_t *self, const store_origin_t *origin, char *err,
                             size_t errsz)
{
    return s_message(self, origin, NULL, NULL, err, errsz);
}
