/* store_hosts: the writer's cache of every host it has stored for: its
 * row id, its run's wire-id map, and what each message changes in its
 * hosts row, written for all hosts at once (store_hosts_flush) rather than
 * per message; which new hosts are admitted (--max-hosts), and which idle
 * ones leave the cache. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "idmap.h"
#include "store_internal.h"
#include "strmap.h"
#include "ts.h"

void store_host_free(void *value)
{
    host_cache_t *c = value;
    idmap_free(&c->ids);
    store_minute_free(&c->minute);
    free(c);
}

/* Puts c on the list of hosts whose row has updates waiting. */
static store_rc_t s_list_pending(store_t *self, host_cache_t *c, char *err, size_t errsz)
{
    if (c->listed)
        return STORE_OK;
    host_cache_t **grown =
        grow(self->pending, self->npending + 1, &self->cappending, sizeof *grown, 1024);
    if (!grown) {
        store_errf(err, errsz, "out of memory");
        return STORE_ERROR;
    }
    self->pending = grown;
    self->pending[self->npending++] = c;
    c->listed = true;
    return STORE_OK;
}

/* Whether a host not cached may be stored: when it is in the database
 * already, or there is room for one more (--max-hosts). */
static store_rc_t s_admit(store_t *self, const char *name, char *err, size_t errsz)
{
    sqlite3_stmt *st;
    if (self->nhosts < 0) {
        if (!(st = store_stmt(self, ST_COUNT_HOSTS)) || sqlite3_step(st) != SQLITE_ROW)
            return store_db_fail(self, err, errsz);
        self->nhosts = sqlite3_column_int64(st, 0);
        self->max_host_id = sqlite3_column_int64(st, 1);
        sqlite3_reset(st);
    }
    if (self->nhosts < self->max_hosts)
        return STORE_OK;
    if (!(st = store_stmt(self, ST_HOST_FIND)))
        return store_db_fail(self, err, errsz);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    if (rc != SQLITE_DONE)
        return store_db_fail(self, err, errsz);
    store_errf(err, errsz, "the database holds %lld hosts, the most --max-hosts allows; host %s "
               "is new and refused (raise --max-hosts)", (long long)self->nhosts, name);
    self->last_limit = STORE_LIMIT_HOSTS;
    return STORE_OVER_LIMIT;
}

/* The host's cache into *c_p. A message from another run than the cached
 * one (or the first since the cache was cleared) upserts the host row and
 * (re)loads the wire-id map. */
store_rc_t store_host(store_t *self, const store_origin_t *o, host_cache_t **c_p, char *err,
                      size_t errsz)
{
    host_cache_t *c = *c_p = strmap_get(self->hosts, o->host);
    /* A run already known: its row waits for the flush (store_host_seen). */
    if (c && c->loaded && c->incarnation == o->incarnation)
        return STORE_OK;
    store_rc_t rc = c ? STORE_OK : s_admit(self, o->host, err, errsz);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = store_stmt(self, ST_HOST_UPSERT);
    if (!st)
        return store_db_fail(self, err, errsz);
    sqlite3_bind_text(st, 1, o->host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, o->boot_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, o->received_ns);
    sqlite3_bind_int64(st, 4, (int64_t)o->incarnation);
    sqlite3_bind_int64(st, 5, (int64_t)o->seq);
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_db_fail(self, err, errsz);
    int64_t host_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (host_id > self->max_host_id) { /* a new row (ids only grow) */
        self->max_host_id = host_id;
        self->nhosts++;
        self->host_inserted = true;
    }
    if (c)
        c->seen = false; /* the row has just been given this message's */
    else {
        if (!(c = calloc(1, sizeof *c)) || strmap_put(self->hosts, o->host, c) != 0) {
            free(c);
            store_errf(err, errsz, "out of memory");
            return STORE_ERROR;
        }
        /* A cache evicted earlier may have taken a partly folded minute
         * with it: from the next minute on, folds are whole again. */
        c->fresh_from = self->fresh_from > self->evicted_until ? self->fresh_from
                                                               : self->evicted_until;
    }
    *c_p = c;
    c->host_id = host_id;
    c->incarnation = o->incarnation;
    idmap_clear(&c->ids);
    if (!(st = store_stmt(self, ST_COUNT_SERIES)))
        return store_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, host_id);
    c->nseries = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    c->fresh = c->nseries == 0;
    /* A statement left on a row keeps a read snapshot open after COMMIT,
     * and no checkpoint can then get past it: the WAL would grow forever. */
    sqlite3_reset(st);
    c->loaded = store_ids_load(self, c) == 0;
    return c->loaded ? STORE_OK : store_db_fail(self, err, errsz);
}

/* Keeps the host's spool losses and clock as of this batch for the next
 * flush (a replayed older batch does not overwrite a newer clock). */
store_rc_t store_host_delivery(store_t *self, host_cache_t *c, const store_batch_t *b,
                               char *err, size_t errsz)
{
    if (c->delivery && b->ts_ns < c->clock_ts_ns)
        return STORE_OK;
    if (!c->delivery || b->spool_dropped_messages > c->spool_messages)
        c->spool_messages = b->spool_dropped_messages;
    if (!c->delivery || b->spool_dropped_samples > c->spool_samples)
        c->spool_samples = b->spool_dropped_samples;
    if (!c->delivery || b->spool_rejected_messages > c->rejected_messages)
        c->rejected_messages = b->spool_rejected_messages;
    if (!c->delivery || b->spool_rejected_samples > c->rejected_samples)
        c->rejected_samples = b->spool_rejected_samples;
    c->clock_ts_ns = b->ts_ns;
    c->clock = b->clock;
    c->delivery = true;
    return s_list_pending(self, c, err, errsz);
}

/* Once per collector run, so a statement prepared for it alone: the
 * writer's prepared set is for what every batch does. The features are
 * text (validate.c), so a newline cannot be inside one. */
store_rc_t store_host_degraded(store_t *self, const host_cache_t *c, const store_hello_t *h,
                               char *err, size_t errsz)
{
    size_t len = 1;
    for (size_t i = 0; i < h->ndegraded; i++)
        len += strlen(h->degraded[i]) + 1;
    char *lines = malloc(len), *at = lines;
    if (!lines) {
        snprintf(err, errsz, "out of memory for %zu degraded features", h->ndegraded);
        return STORE_ERROR;
    }
    *at = '\0';
    for (size_t i = 0; i < h->ndegraded; i++)
        at += sprintf(at, "%s%s", i ? "\n" : "", h->degraded[i]);
    sqlite3_stmt *st =
        store_prepare(self, "UPDATE hosts SET degraded = ?2 WHERE id = ?1", err, errsz);
    store_rc_t rc = STORE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, c->host_id);
        sqlite3_bind_text(st, 2, lines, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? STORE_OK : store_db_fail(self, err, errsz);
        sqlite3_finalize(st);
    }
    free(lines);
    return rc;
}

static int s_flush_host(store_t *self, host_cache_t *c)
{
    sqlite3_stmt *st;
    if (c->seen) {
        if (!(st = store_stmt(self, ST_HOST_SEEN)))
            return -1;
        sqlite3_bind_int64(st, 1, c->host_id);
        sqlite3_bind_int64(st, 2, c->last_seen_ns);
        sqlite3_bind_int64(st, 3, (int64_t)c->incarnation);
        sqlite3_bind_int64(st, 4, (int64_t)c->last_seq);
        sqlite3_bind_text(st, 5, self->name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            return -1;
        c->seen = false;
    }
    if (c->delivery) {
        if (!(st = store_stmt(self, ST_HOST_DELIVERY)))
            return -1;
        sqlite3_bind_int64(st, 1, c->host_id);
        sqlite3_bind_int64(st, 2, (int64_t)c->spool_messages);
        sqlite3_bind_int64(st, 3, (int64_t)c->spool_samples);
        sqlite3_bind_int64(st, 4, c->clock_ts_ns);
        sqlite3_bind_int(st, 5, c->clock.offset_valid);
        sqlite3_bind_int64(st, 6, c->clock.offset_ns);
        sqlite3_bind_int64(st, 7, c->clock.rtt_ns);
        sqlite3_bind_int(st, 8, c->clock.synced);
        sqlite3_bind_int64(st, 9, c->clock.maxerror_ns);
        sqlite3_bind_int64(st, 10, c->clock.esterror_ns);
        sqlite3_bind_int64(st, 11, (int64_t)c->rejected_messages);
        sqlite3_bind_int64(st, 12, (int64_t)c->rejected_samples);
        if (sqlite3_step(st) != SQLITE_DONE)
            return -1;
        c->delivery = false;
    }
    c->listed = false;
    return 0;
}

int store_hosts_flush(store_t *self)
{
    for (size_t i = 0; i < self->npending; i++)
        if (s_flush_host(self, self->pending[i]) != 0)
            return -1;
    self->npending = 0;
    return 0;
}

/* A message stored: the host was seen (written by the next flush). */
store_rc_t store_host_seen(store_t *self, host_cache_t *c, const store_origin_t *o, char *err,
                           size_t errsz)
{
    if (!c->seen || o->received_ns > c->last_seen_ns)
        c->last_seen_ns = o->received_ns;
    c->used_mono = ts_mono_ns();
    c->last_seq = o->seq;
    c->seen = true;
    return s_list_pending(self, c, err, errsz);
}

store_limit_t store_last_limit(const store_t *self)
{
    if (self->ch)
        return chstore_last_limit(self->ch);
    return self->last_limit;
}

void store_set_max_hosts(store_t *self, int64_t max_hosts)
{
    if (self->ch) {
        chstore_set_max_hosts(self->ch, max_hosts);
        return;
    }
    self->max_hosts = max_hosts;
}

void store_set_name(store_t *self, const char *name)
{
    if (self->ch) {
        chstore_set_name(self->ch, name);
        return;
    }
    snprintf(self->name, sizeof self->name, "%s", name);
}

typedef struct {
    store_t *store;
    int64_t since; /* caches unused since before this go */
} evict_t;

static bool s_keep_cache(void *ctx, void *value)
{
    evict_t *e = ctx;
    host_cache_t *c = value;
    if (c->listed || c->used_mono >= e->since)
        return true;
    /* Its minute in progress goes with it: the upkeep rolls that one up. */
    if (c->minute) {
        int64_t next = store_minute_bucket(c->minute) + 60 * TS_NS_PER_S;
        e->store->evicted_until = next > e->store->evicted_until ? next : e->store->evicted_until;
    }
    store_host_free(c);
    return false;
}

size_t store_evict_idle(store_t *self, int64_t now_mono_ns, int64_t idle_ns)
{
    if (self->ch)
        return chstore_evict_idle(self->ch, now_mono_ns, idle_ns);
    evict_t e = {self, now_mono_ns - idle_ns};
    strmap_retain(self->hosts, s_keep_cache, &e);
    return strmap_size(self->hosts);
}
