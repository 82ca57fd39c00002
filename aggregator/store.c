/* store: SQLite behind the functions of store.h; this file is the writer's
 * entry points (open and close, transactions, messages, the hosts' flush,
 * upkeep), over the layers listed in store_internal.h. Assumes one writer
 * thread storing batches of a few hundred samples, of which only drop
 * deltas and setting changes (rare) become rows of their own; readers run
 * queries on their own connections. The writer caches, per host, the map
 * from the collector's wire ids to series rows (store_ids.c), so a batch
 * costs no lookups. */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "idmap.h"
#include "log.h"
#include "store_internal.h"
#include "strmap.h"
#include "ts.h"

/* The config file's ClickHouse credentials and cluster (store_set_auth). */
static struct {
    char user[128], password[256], cluster[64];
} s_auth;

void store_set_auth(const char *user, const char *password, const char *cluster)
{
    snprintf(s_auth.user, sizeof s_auth.user, "%s", user ? user : "");
    snprintf(s_auth.password, sizeof s_auth.password, "%s", password ? password : "");
    snprintf(s_auth.cluster, sizeof s_auth.cluster, "%s", cluster ? cluster : "");
}

static store_t *s_open_clickhouse(const char *url, bool writer, bool migrate, char *err,
                                  size_t errsz)
{
    store_t *self = calloc(1, sizeof *self);
    if (!self) {
        store_errf(err, errsz, "out of memory");
        return NULL;
    }
    chstore_auth_t auth = {.user = s_auth.user[0] ? s_auth.user : NULL,
                           .password = s_auth.password[0] ? s_auth.password : NULL,
                           .cluster = s_auth.cluster};
    if (!(self->ch = chstore_open(url, &auth, writer, migrate, err, errsz))) {
        free(self);
        return NULL;
    }
    return self;
}

static store_t *s_open(const char *path, bool writer, bool migrate, char *err, size_t errsz)
{
    if (chstore_is_url(path))
        return s_open_clickhouse(path, writer, migrate, err, errsz);
    store_t *self = calloc(1, sizeof *self);
    if (!self || (writer && (!(self->hosts = strmap_new()) || !(self->names = strmap_new())))) {
        store_errf(err, errsz, "out of memory");
        if (self)
            strmap_destroy(&self->hosts);
        free(self);
        return NULL;
    }
    self->writer = writer;
    self->max_hosts = STORE_MAX_HOSTS_DEFAULT;
    self->nhosts = -1;
    self->evicted_until = INT64_MIN;
    self->tally_gen = 1;
    if (store_db_connect(self, path, err, errsz) != 0 ||
        (migrate && store_migrate(self, NULL, NULL, err, errsz) != 0))
        store_close(&self);
    return self;
}

store_t *store_open(const char *path, bool writer, char *err, size_t errsz)
{
    return s_open(path, writer, writer, err, errsz);
}

store_t *store_open_unmigrated(const char *path, char *err, size_t errsz)
{
    return s_open(path, true, false, err, errsz);
}

void store_close(store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_t *self = *self_p;
    if (self->ch) {
        chstore_close(&self->ch);
        free(self);
        *self_p = NULL;
        return;
    }
    char err[256];
    if (self->npending && store_flush_hosts(self, err, sizeof err) != 0)
        log_error("aggregator: the hosts' latest state is not saved: %s", err);
    store_db_disconnect(self);
    if (self->hosts)
        strmap_clear(self->hosts, store_host_free);
    strmap_destroy(&self->hosts);
    if (self->names)
        strmap_clear(self->names, free);
    strmap_destroy(&self->names);
    free(self->pending);
    free(self->blob);
    free(self->profile);
    free(self->tallies);
    free(self);
    *self_p = NULL;
}

int store_begin(store_t *self, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_begin(self->ch, err, errsz);
    return store_exec(self, "BEGIN IMMEDIATE", err, errsz);
}

int store_commit(store_t *self, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_commit(self->ch, err, errsz);
    if (store_exec(self, "COMMIT", err, errsz) == 0) {
        store_names_committed(self);
        return 0;
    }
    store_rollback(self);
    return -1;
}

/* --- the fleet's counters ---------------------------------------------------- */

static void s_tally_forget(store_t *self)
{
    self->ntallies = 0;
    self->tally_gen++;
}

void store_tally_each(store_t *self, void (*fn)(void *ctx, const store_tally_t *t), void *ctx)
{
    if (self->ch) {
        chstore_tally_each(self->ch, fn, ctx);
        return;
    }
    for (size_t i = 0; i < self->ntallies; i++)
        fn(ctx, &self->tallies[i]);
    s_tally_forget(self);
}

/* A burst into t: its (iface, direction) pair's count, or "other"'s once
 * STORE_TALLY_IFACES pairs are taken (a host is not worth more series). */
static void s_tally_burst(store_tally_t *t, const char *iface, bool tx, uint64_t n)
{
    size_t i = 0;
    while (i < t->nbursts && (t->bursts[i].tx != tx || strncmp(t->bursts[i].iface, iface,
                                                              sizeof t->bursts[i].iface - 1) != 0))
        i++;
    if (i == t->nbursts && i == STORE_TALLY_IFACES) {
        iface = "other";
        for (i = 0; i < t->nbursts && (t->bursts[i].tx != tx ||
                                       strcmp(t->bursts[i].iface, iface) != 0); i++)
            ;
        if (i == t->nbursts)
            i = t->nbursts - 1; /* all taken by real names: the last one takes it */
    }
    if (i == t->nbursts) {
        t->nbursts++;
        snprintf(t->bursts[i].iface, sizeof t->bursts[i].iface, "%s", iface);
        t->bursts[i].tx = tx;
        t->bursts[i].n = 0;
    }
    t->bursts[i].n += n;
}

void store_tally_add(store_tally_t *to, const store_tally_t *t)
{
    for (int l = 0; l < LAYER_COUNT; l++)
        to->path[l] += t->path[l];
    for (size_t i = 0; i < t->nbursts; i++)
        s_tally_burst(to, t->bursts[i].iface, t->bursts[i].tx, t->bursts[i].n);
    if (t->seen && (!to->seen || t->last_seen_ns > to->last_seen_ns)) {
        to->seen = true;
        to->last_seen_ns = t->last_seen_ns;
    }
    if (t->delivery) {
        to->delivery = true;
        to->clock_valid = t->clock_valid;
        to->clock_offset_ns = t->clock_offset_ns;
        to->spool_lost = t->spool_lost;
    }
}

/* The message just stored for c: its share joins c's tally. 0, -1 out of memory. */
static int s_tally_message(store_t *self, host_cache_t *c, const store_origin_t *o, bool batch)
{
    store_tally_t *m = &self->msg_tally;
    m->seen = true;
    m->last_seen_ns = o->received_ns;
    if (batch) {
        m->delivery = true;
        m->clock_valid = c->clock.offset_valid;
        m->clock_offset_ns = c->clock.offset_ns;
        m->spool_lost = c->spool_messages + c->rejected_messages;
    }
    if (c->tally_gen != self->tally_gen) {
        store_tally_t *grown = grow(self->tallies, self->ntallies + 1, &self->captallies,
                                    sizeof *grown, 64);
        if (!grown)
            return -1;
        self->tallies = grown;
        c->tally_gen = self->tally_gen;
        c->tally_ix = self->ntallies++;
        memset(&grown[c->tally_ix], 0, sizeof *grown);
        snprintf(grown[c->tally_ix].host, sizeof grown->host, "%s", o->host);
    }
    store_tally_add(&self->tallies[c->tally_ix], m);
    return 0;
}

void store_rollback(store_t *self)
{
    if (self->ch) {
        chstore_rollback(self->ch);
        return;
    }
    char err[256];
    if (sqlite3_get_autocommit(self->db) == 0)
        store_exec(self, "ROLLBACK", err, sizeof err);
    /* The caches may hold definitions, or rollup progress, that were just
     * rolled back. */
    strmap_clear(self->hosts, store_host_free);
    store_names_forget(self);
    self->npending = 0;
    s_tally_forget(self);
    store_rollups_forget(self);
    self->nhosts = -1; /* a host inserted by the group is gone again */
    /* The minutes folded so far went with the caches; a batch of them may
     * be stored already. */
    if (self->latest_ts && self->latest_ts + 1 > self->fresh_from)
        self->fresh_from = self->latest_ts + 1;
}

/* --- writing ---------------------------------------------------------------- */

/* Checks every sample against the definitions and packs them into
 * self->blob (STORE_PACK_VARINT, self->bloblen bytes). */
static store_rc_t s_pack(store_t *self, host_cache_t *c, const store_batch_t *b, char *err,
                         size_t errsz)
{
    if (store_blob(self, b->nsamples * STORE_SAMPLE_MAX + 1) != 0) {
        store_errf(err, errsz, "out of memory packing %zu samples", b->nsamples);
        return STORE_ERROR;
    }
    unsigned char *out = self->blob;
    uint32_t prev = 0;
    for (size_t i = 0; i < b->nsamples; i++) {
        uint32_t local = b->series[i];
        const idmap_entry_t *info = idmap_find(&c->ids, local);
        if (!info) {
            store_errf(err, errsz, "sample %zu refers to undefined series id %u", i, local);
            return STORE_NEED_DEFS;
        }
        if (info->kind == KIND_COUNTER && b->deltas[i] < 0) {
            store_errf(err, errsz, "counter series %u has a negative delta %lld", local,
                  (long long)b->deltas[i]);
            return STORE_INVALID;
        }
        store_sample_t smp = {(uint32_t)info->series_id, b->flags[i], b->values[i], b->deltas[i]};
        out = store_pack(out, &prev, &smp);
    }
    self->bloblen = (size_t)(out - self->blob);
    return STORE_OK;
}

/* Inserts the batch row (self->blob holds its samples); STORE_DUPLICATE
 * when it is a resend. *id receives its rowid. */
static store_rc_t s_insert_batch(store_t *self, host_cache_t *c, const store_origin_t *o,
                                 const store_batch_t *b, int64_t *id, char *err, size_t errsz)
{
    /* Only a batch behind the rollups can be in a packed block (store_raw.c). */
    if (store_behind_rollups(self, c->host_id, b->ts_ns)) {
        int packed = store_raw_has(self, c->host_id, b->ts_ns, (int64_t)o->incarnation,
                                   (int64_t)o->seq, err, errsz);
        if (packed)
            return packed > 0 ? STORE_DUPLICATE : STORE_ERROR;
    }
    sqlite3_stmt *st = store_stmt(self, ST_BATCH);
    if (!st)
        return store_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, (int64_t)o->incarnation);
    sqlite3_bind_int64(st, 3, (int64_t)o->seq);
    sqlite3_bind_int64(st, 4, b->ts_ns);
    sqlite3_bind_int64(st, 5, b->prev_ts_ns);
    sqlite3_bind_int64(st, 6, o->received_ns);
    sqlite3_bind_int64(st, 7, (int64_t)b->nsamples);
    sqlite3_bind_blob(st, 8, self->blob, (int)self->bloblen, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_db_fail(self, err, errsz);
    if (sqlite3_changes(self->db) == 0)
        return STORE_DUPLICATE;
    *id = sqlite3_last_insert_rowid(self->db);
    return STORE_OK;
}

/* Folds a stored batch (self->blob, still) into its host's minute, or
 * marks it late when its minute is rolled up already. Last of a batch's
 * steps: the fold lives in memory, and only the whole group's rollback
 * (which drops it with the caches) can undo it now. */
static store_rc_t s_fold_batch(store_t *self, host_cache_t *c, const store_batch_t *b, int64_t id,
                               char *err, size_t errsz)
{
    if (b->ts_ns > self->latest_ts)
        self->latest_ts = b->ts_ns;
    if (!store_behind_rollups(self, c->host_id, b->ts_ns))
        return store_minute_add(self, &c->minute, c->host_id, id, b->ts_ns, self->blob,
                                self->bloblen, c->fresh_from, err, errsz) == 0 ? STORE_OK
                                                                                  : STORE_ERROR;
    /* Its minute is rolled up already: the upkeep merges it in. */
    sqlite3_stmt *st = store_stmt(self, ST_LATE);
    if (!st)
        return store_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, id);
    return sqlite3_step(st) == SQLITE_DONE ? STORE_OK : store_db_fail(self, err, errsz);
}

/* Gives drop deltas and setting changes their own rows. */
static store_rc_t s_insert_events(store_t *self, host_cache_t *c, const store_batch_t *b,
                                  char *err, size_t errsz)
{
    for (size_t i = 0; i < b->nsamples; i++) {
        idmap_entry_t *info = idmap_find(&c->ids, b->series[i]); /* s_pack checked it */
        bool reset = (b->flags[i] & SAMPLE_RESET) != 0;
        sqlite3_stmt *st;
        if (info->kind == KIND_COUNTER && layer_on_path(info->layer) && (b->deltas[i] || reset)) {
            if (!(st = store_stmt(self, ST_DROP)))
                return store_db_fail(self, err, errsz);
            sqlite3_bind_int64(st, 1, c->host_id);
            sqlite3_bind_text(st, 2, layer_name(info->layer), -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, b->ts_ns);
            sqlite3_bind_int64(st, 4, info->series_id);
            sqlite3_bind_int64(st, 5, b->prev_ts_ns);
            sqlite3_bind_int64(st, 6, b->deltas[i]);
            sqlite3_bind_int(st, 7, reset);
            sqlite3_bind_int(st, 8, info->overlap);
            if (!info->overlap && b->deltas[i] > 0)
                self->msg_tally.path[info->layer] += (uint64_t)b->deltas[i];
        } else if (info->kind == KIND_SETTING) {
            /* Settings are sent in every full batch and rarely change. */
            if (info->setting_known && info->setting == (int64_t)b->values[i])
                continue;
            info->setting_known = true;
            info->setting = (int64_t)b->values[i];
            if (!(st = store_stmt(self, ST_SETTING)))
                return store_db_fail(self, err, errsz);
            sqlite3_bind_int64(st, 1, c->host_id);
            sqlite3_bind_int64(st, 2, info->series_id);
            sqlite3_bind_int64(st, 3, b->ts_ns);
            sqlite3_bind_int64(st, 4, (int64_t)b->values[i]);
        } else {
            continue;
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_db_fail(self, err, errsz);
    }
    return STORE_OK;
}

static store_rc_t s_insert_burst(store_t *self, host_cache_t *c, const store_burst_t *b,
                                 char *err, size_t errsz)
{
    unsigned char drops[LAYER_COUNT * 8];
    uint64_t total = 0;
    for (int l = 0; l < LAYER_COUNT; l++) {
        bytes_put_le(drops + 8 * l, b->drops[l], 8);
        total += b->drops[l];
    }
    /* Not in self->blob, which holds the batch's samples until its fold. */
    uint32_t *grown = grow(self->profile, b->nprofile, &self->capprofile, sizeof *grown, 256);
    if (!grown) {
        store_errf(err, errsz, "out of memory packing a %zu-tick profile", b->nprofile);
        return STORE_ERROR;
    }
    self->profile = grown;
    for (size_t i = 0; i < b->nprofile; i++)
        bytes_put_le((unsigned char *)(self->profile + i), b->profile[i], 4);
    sqlite3_stmt *st = store_stmt(self, ST_BURST);
    if (!st)
        return store_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, b->start_ns);
    sqlite3_bind_text(st, 3, b->iface, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, b->tx ? "tx" : "rx", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, b->end_ns);
    sqlite3_bind_double(st, 6, b->peak_per_ms);
    sqlite3_bind_int64(st, 7, (int64_t)b->packets);
    sqlite3_bind_int64(st, 8, (int64_t)b->bytes);
    sqlite3_bind_int64(st, 9, (int64_t)b->threshold_per_ms);
    sqlite3_bind_int64(st, 10, (int64_t)total);
    sqlite3_bind_blob(st, 11, drops, sizeof drops, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, b->profile_start_ns);
    sqlite3_bind_int64(st, 13, b->tick_ns);
    sqlite3_bind_blob(st, 14, self->profile, (int)(b->nprofile * 4), SQLITE_STATIC);
    sqlite3_bind_int(st, 15, b->profile_complete);
    sqlite3_bind_int64(st, 16, b->corrected_start_ns);
    sqlite3_bind_int64(st, 17, b->uncertainty_ns);
    s_tally_burst(&self->msg_tally, b->iface, b->tx, 1);
    return sqlite3_step(st) == SQLITE_DONE ? STORE_OK : store_db_fail(self, err, errsz);
}

static store_rc_t s_insert_gap(store_t *self, const host_cache_t *c, const store_gap_t *g,
                               char *err, size_t errsz)
{
    sqlite3_stmt *st = store_stmt(self, ST_GAP);
    if (!st)
        return store_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, g->start_ns);
    sqlite3_bind_text(st, 3, g->group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, g->port);
    sqlite3_bind_int64(st, 5, (int64_t)g->first_seq); /* the bit pattern: read back as u64 */
    sqlite3_bind_int64(st, 6, g->end_ns);
    sqlite3_bind_int64(st, 7, (int64_t)g->missing);
    sqlite3_bind_int64(st, 8, (int64_t)g->last_seq);
    return sqlite3_step(st) == SQLITE_DONE ? STORE_OK : store_db_fail(self, err, errsz);
}

int store_flush_hosts(store_t *self, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_flush_hosts(self->ch, err, errsz);
    if (!self->npending)
        return 0;
    if (store_begin(self, err, errsz) != 0)
        return -1;
    if (store_hosts_flush(self) != 0) {
        store_errf(err, errsz, "database: %s", sqlite3_errmsg(self->db));
        store_rollback(self);
        return -1;
    }
    return store_commit(self, err, errsz);
}

static store_rc_t s_store_batch(store_t *self, host_cache_t *c, const store_origin_t *o,
                                const store_batch_t *b, char *err, size_t errsz)
{
    store_rc_t rc = STORE_OK;
    /* The first definitions of a run: a restarted collector's are usually
     * those of its previous run, whose map then serves as it is. */
    int64_t hash = b->ndefs && c->ids.n == 0 ? store_defs_hash(b) : 0;
    bool reused = hash && !c->fresh && store_ids_reuse(self, c, b, hash);
    for (size_t i = 0; i < b->ndefs && rc == STORE_OK && !reused; i++)
        rc = store_define(self, c, &b->defs[i], err, errsz);
    /* Saved with the hash when it is exactly the first definitions; a map
     * that grew later is saved without (it no longer matches them). */
    if (rc == STORE_OK && (hash || c->dirty))
        rc = store_ids_save(self, c, hash, err, errsz);
    c->dirty = false;
    if (rc == STORE_OK)
        rc = s_pack(self, c, b, err, errsz);
    int64_t id = 0;
    if (rc == STORE_OK)
        rc = s_insert_batch(self, c, o, b, &id, err, errsz);
    if (rc == STORE_OK)
        rc = s_insert_events(self, c, b, err, errsz);
    for (size_t i = 0; i < b->nbursts && rc == STORE_OK; i++)
        rc = s_insert_burst(self, c, &b->bursts[i], err, errsz);
    for (size_t i = 0; i < b->ngaps && rc == STORE_OK; i++)
        rc = s_insert_gap(self, c, &b->gaps[i], err, errsz);
    if (rc == STORE_OK)
        rc = s_fold_batch(self, c, b, id, err, errsz);
    if (rc == STORE_OK)
        rc = store_host_delivery(self, c, b, err, errsz);
    return rc;
}

static store_rc_t s_store_hello(store_t *self, const host_cache_t *c, const store_hello_t *h,
                                char *err, size_t errsz)
{
    sqlite3_stmt *st = store_stmt(self, ST_HELLO);
    if (!st)
        return store_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_text(st, 2, h->backend, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, h->kernel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, h->collector_version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, h->ncpus);
    sqlite3_bind_int64(st, 6, h->interval_ns);
    sqlite3_bind_text(st, 7, h->backend_note ? h->backend_note : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_db_fail(self, err, errsz);
    return store_host_degraded(self, c, h, err, errsz);
}

/* Stores one message of origin: its hello, its batch, or neither (a
 * heartbeat), in a savepoint so that a failure undoes it alone. */
static store_rc_t s_message(store_t *self, const store_origin_t *o, const store_hello_t *hello,
                            const store_batch_t *batch, char *err, size_t errsz)
{
    err[0] = '\0';
    self->host_inserted = false;
    memset(&self->msg_tally, 0, sizeof self->msg_tally);
    if (store_run(self, ST_SAVEPOINT, err, errsz) != 0)
        return STORE_ERROR;
    host_cache_t *c;
    store_rc_t rc = store_host(self, o, &c, err, errsz);
    if (rc == STORE_OK && hello)
        rc = s_store_hello(self, c, hello, err, errsz);
    else if (rc == STORE_OK && batch)
        rc = s_store_batch(self, c, o, batch, err, errsz);
    char sub[256];
    if (rc == STORE_OK) {
        if (store_run(self, ST_RELEASE, sub, sizeof sub) == 0) {
            rc = store_host_seen(self, c, o, err, errsz);
            if (rc == STORE_OK && s_tally_message(self, c, o, batch != NULL) != 0) {
                store_errf(err, errsz, "out of memory");
                rc = STORE_ERROR;
            }
            return rc;
        }
        store_errf(err, errsz, "database: %s", sub);
        return STORE_ERROR;
    }
    /* Undo this message only; the rest of the transaction stands. */
    store_run(self, ST_ROLLBACK_TO, sub, sizeof sub);
    store_run(self, ST_RELEASE, sub, sizeof sub);
    store_names_forget(self);
    if (c)
        c->loaded = false;
    if (self->host_inserted)
        self->nhosts = -1; /* its row went with the rest: count again */
    return rc;
}

store_rc_t store_hello(store_t *self, const store_origin_t *origin, const store_hello_t *hello,
                       char *err, size_t errsz)
{
    if (self->ch)
        return chstore_hello(self->ch, origin, hello, err, errsz);
    return s_message(self, origin, hello, NULL, err, errsz);
}

store_rc_t store_batch(store_t *self, const store_origin_t *origin, const store_batch_t *batch,
                       size_t *samples, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_batch(self->ch, origin, batch, samples, err, errsz);
    store_rc_t rc = s_message(self, origin, NULL, batch, err, errsz);
    *samples = rc == STORE_OK ? batch->nsamples : 0;
    return rc;
}

store_rc_t store_heartbeat(store_t *self, const store_origin_t *origin, char *err, size_t errsz)
{
    if (self->ch)
        return chstore_heartbeat(self->ch, origin, err, errsz);
    return s_message(self, origin, NULL, NULL, err, errsz);
}

long store_upkeep(store_t *self, const store_retention_t *r, int64_t now_ns, int64_t budget_ns,
                  char *err, size_t errsz)
{
    if (self->ch)
        return chstore_upkeep(self->ch, r, now_ns, budget_ns, err, errsz);
    if (store_begin(self, err, errsz) != 0)
        return -1;
    long done = store_retention_step(self, r, now_ns, ts_mono_ns() + budget_ns, err, errsz);
    if (done < 0) {
        store_rollback(self);
        return -1;
    }
    return store_commit(self, err, errsz) == 0 ? done : -1;
}

bool store_shared(const store_t *self)
{
    return self->ch != NULL;
}

static int s_not_shared(char *err, size_t errsz)
{
    store_errf(err, errsz, "a SQLite store has one aggregator: nothing to share");
    return -1;
}

int store_live_beat(store_t *self, const char *name, int64_t now_ns, int64_t alive_ns,
                    char *leader, size_t leadersz, char *err, size_t errsz)
{
    if (!self->ch)
        return s_not_shared(err, errsz);
    return chstore_live_beat(self->ch, name, now_ns, alive_ns, leader, leadersz, err, errsz);
}

int store_live_reported(store_t *self, int64_t *start_ns, char *err, size_t errsz)
{
    if (!self->ch)
        return s_not_shared(err, errsz);
    return chstore_live_reported(self->ch, start_ns, err, errsz);
}

int store_live_report(store_t *self, const char *id, int64_t start_ns, const char *hosts,
                      const char *name, int64_t now_ns, char *err, size_t errsz)
{
    if (!self->ch)
        return s_not_shared(err, errsz);
    return chstore_live_report(self->ch, id, start_ns, hosts, name, now_ns, err, errsz);
}
