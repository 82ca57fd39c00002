/* store_ids: a host's series, as its collector's wire ids name them: the
 * definitions turned into host_series rows (their names interned
 * fleet-wide in series_names), and each collector run's map from wire ids
 * to series kept as one incarnation_ids row, from which the writer's cache
 * is rebuilt after a restart or a rollback. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "store_internal.h"
#include "strmap.h"

#define NAMES_CACHED 65536 /* series names the writer keeps ids of (a fleet uses a few thousand) */

/* A wire-id map record in incarnation_ids.ids: little-endian
 * {u32 local_id, u8 layer, u8 kind, u8 overlap, u8 zero, i64 series_id}. */
#define ID_RECORD 16

/* Whether a mapped wire id is defined as d defines it. */
static bool s_alike(const idmap_entry_t *e, const store_def_t *d)
{
    return e->layer == d->layer && e->kind == d->kind && e->overlap == d->overlap;
}

/* Maps wire id `local` of c to a series. 0, or -1 out of range or memory. */
static int s_map(host_cache_t *c, uint32_t local, int64_t series_id, layer_t layer, kind_t kind,
                 bool overlap)
{
    idmap_entry_t e = {series_id, 0, local, (uint8_t)layer, (uint8_t)kind, overlap, false};
    return local < STORE_MAX_WIRE_ID && idmap_put(&c->ids, &e) ? 0 : -1;
}

/* Fills c->ids from a stored map (n records at p). 0, -1 without memory or
 * on a wire id out of range. */
static int s_decode_ids(host_cache_t *c, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++, p += ID_RECORD) {
        if (s_map(c, (uint32_t)bytes_get_le(p, 4), (int64_t)bytes_get_le(p + 8, 8), (layer_t)p[4],
                  (kind_t)p[5], p[6] != 0) != 0)
            return -1;
    }
    return 0;
}

/* Fills c->ids from the stored map of c's incarnation (or, for data from
 * before migration 007, its series_ids rows). 0, -1 on a database error. */
int store_ids_load(store_t *self, host_cache_t *c)
{
    sqlite3_stmt *st = store_stmt(self, ST_LOAD_IDS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, (int64_t)c->incarnation);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = s_decode_ids(c, sqlite3_column_blob(st, 0),
                          (size_t)sqlite3_column_bytes(st, 0) / ID_RECORD);
        sqlite3_reset(st);
        return rc;
    }
    if (rc != SQLITE_DONE || !(st = store_stmt(self, ST_LOAD_OLD_IDS)))
        return -1;
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, (int64_t)c->incarnation);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (s_map(c, (uint32_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                  layer_from_name((const char *)sqlite3_column_text(st, 3)),
                  kind_from_name((const char *)sqlite3_column_text(st, 2)),
                  sqlite3_column_int(st, 4) != 0) != 0)
            return -1;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Empties the names cache when it may hold a name whose row is being
 * rolled back. */
void store_names_forget(store_t *self)
{
    if (!self->name_inserted)
        return;
    strmap_clear(self->names, free);
    self->name_inserted = false;
}

void store_names_committed(store_t *self)
{
    self->name_inserted = false;
}

/* The series_names id of d's name into *id, inserting the name when the
 * fleet has not used it before. The validator admits no control
 * characters, so the key's separators cannot occur inside a field. */
static store_rc_t s_name_id(store_t *self, const store_def_t *d, int64_t *id, char *err,
                            size_t errsz)
{
    char key[3 * 256 + 3], *k = key;
    for (const char *const *field = (const char *const[]){d->source, d->device, d->name, NULL};
         *field; field++) {
        size_t n = strnlen(*field, 255); /* the validator's bound */
        memcpy(k, *field, n);
        k += n;
        *k++ = '\x1f'; /* snprintf here was 2% of a fleet's first definitions */
    }
    k[-1] = '\0';
    const int64_t *cached = strmap_get(self->names, key);
    if (cached) {
        *id = *cached;
        return STORE_OK;
    }
    *id = 0;
    for (int which = ST_NAME_FIND; which <= ST_NAME_INSERT && !*id; which++) {
        sqlite3_stmt *st = store_stmt(self, which);
        if (!st)
            return store_db_fail(self, err, errsz);
        sqlite3_bind_text(st, 1, d->source, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d->device, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, d->name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        else if (rc == SQLITE_DONE && which == ST_NAME_INSERT) {
            *id = sqlite3_last_insert_rowid(self->db);
            self->name_inserted = true;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return store_db_fail(self, err, errsz);
    }
    /* Only a cache: a fleet of hostile names empties it rather than growing it. */
    if (strmap_size(self->names) >= NAMES_CACHED)
        strmap_clear(self->names, free);
    int64_t *value = malloc(sizeof *value);
    if (!value || strmap_put(self->names, key, value) != 0) {
        free(value);
        store_errf(err, errsz, "out of memory");
        return STORE_ERROR;
    }
    *value = *id;
    return STORE_OK;
}

store_rc_t store_define(store_t *self, host_cache_t *c, const store_def_t *d, char *err,
                           size_t errsz)
{
    if (c->nseries >= STORE_MAX_SERIES_PER_HOST) {
        store_errf(err, errsz, "host has %d series, the most one host may define; refusing "
                   "%s/%s/%s (a collector defines a few hundred)", STORE_MAX_SERIES_PER_HOST,
                   d->source, d->device, d->name);
        self->last_limit = STORE_LIMIT_SERIES;
        return STORE_OVER_LIMIT;
    }
    /* Definitions ride along until a batch carrying them is acknowledged:
     * one this run has already given, alike, changes nothing. */
    const idmap_entry_t *known = idmap_find(&c->ids, d->id);
    if (known && s_alike(known, d) && !d->owner[0])
        return STORE_OK;
    int64_t name_id, series_id = 0;
    store_rc_t named = s_name_id(self, d, &name_id, err, errsz);
    if (named != STORE_OK)
        return named;
    /* A series the host has already defined alike needs no write. A host
     * without series when it was loaded (its first run) needs no lookup,
     * and a plain insert: an upsert's RETURNING costs a temporary table
     * per row, which made a fleet's first definitions 3x slower. */
    const int steps[2][2] = {{ST_SERIES_FIND, ST_SERIES_UPSERT}, {ST_SERIES_INSERT, ST_SERIES_UPSERT}};
    for (int step = 0; step < 2 && !series_id; step++) {
        int which = steps[c->fresh][step];
        sqlite3_stmt *st = store_stmt(self, which);
        if (!st)
            return store_db_fail(self, err, errsz);
        sqlite3_bind_int64(st, 1, c->host_id);
        sqlite3_bind_int64(st, 2, name_id);
        sqlite3_bind_text(st, 3, kind_name(d->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, layer_name(d->layer), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, d->overlap);
        sqlite3_bind_text(st, 6, d->owner, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            series_id = sqlite3_column_int64(st, 0);
        else if (rc == SQLITE_DONE && which == ST_SERIES_INSERT && sqlite3_changes(self->db))
            series_id = sqlite3_last_insert_rowid(self->db);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && (which == ST_SERIES_UPSERT || rc != SQLITE_DONE))
            return store_db_fail(self, err, errsz);
    }
    if (!known)
        c->nseries++; /* an upper bound: a redefinition may reuse a row */
    if (s_map(c, d->id, series_id, d->layer, d->kind, d->overlap) != 0) {
        store_errf(err, errsz, "out of memory");
        return STORE_ERROR;
    }
    c->dirty = true;
    return STORE_OK;
}

/* FNV-1a over a batch's definitions (strings with their terminators, so
 * that fields cannot run into each other), never 0. */
int64_t store_defs_hash(const store_batch_t *b)
{
    uint64_t h = BYTES_FNV1A_INIT;
    for (size_t i = 0; i < b->ndefs; i++) {
        const store_def_t *d = &b->defs[i];
        int32_t ints[4] = {(int32_t)d->id, d->kind, d->layer, d->overlap};
        h = bytes_fnv1a(h, ints, sizeof ints);
        for (const char *const *str = (const char *const[]){d->source, d->device, d->name, d->owner, NULL};
             *str; str++)
            h = bytes_fnv1a(h, *str, strlen(*str) + 1);
    }
    return (int64_t)(h ? h : 1);
}

/* A run of this host with the same first definitions: its map, when it
 * holds exactly this batch's ids, becomes c's. True when it did. */
bool store_ids_reuse(store_t *self, host_cache_t *c, const store_batch_t *b, int64_t hash)
{
    sqlite3_stmt *st = store_stmt(self, ST_REUSE_IDS);
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, hash);
    bool ok = sqlite3_step(st) == SQLITE_ROW &&
              (size_t)sqlite3_column_bytes(st, 0) == b->ndefs * ID_RECORD &&
              s_decode_ids(c, sqlite3_column_blob(st, 0), b->ndefs) == 0;
    sqlite3_reset(st);
    for (size_t i = 0; ok && i < b->ndefs; i++) {
        const idmap_entry_t *e = idmap_find(&c->ids, b->defs[i].id);
        ok = e && s_alike(e, &b->defs[i]);
    }
    if (!ok) /* not a match: start from nothing again */
        idmap_clear(&c->ids);
    return ok;
}

/* Saves c's wire-id map as its incarnation's one row. */
store_rc_t store_ids_save(store_t *self, const host_cache_t *c, int64_t defs_hash, char *err,
                             size_t errsz)
{
    size_t n = c->ids.n;
    if (store_blob(self, n * ID_RECORD) != 0) {
        store_errf(err, errsz, "out of memory");
        return STORE_ERROR;
    }
    unsigned char *p = self->blob;
    for (size_t i = 0; i < n; i++) {
        const idmap_entry_t *e = &c->ids.e[i];
        bytes_put_le(p, e->wire, 4);
        p[4] = e->layer;
        p[5] = e->kind;
        p[6] = e->overlap;
        p[7] = 0;
        bytes_put_le(p + 8, (uint64_t)e->series_id, 8);
        p += ID_RECORD;
    }
    sqlite3_stmt *st = store_stmt(self, ST_SAVE_IDS);
    if (!st)
        return store_db_fail(self, err, errsz);
    sqlite3_bind_int64(st, 1, c->host_id);
    sqlite3_bind_int64(st, 2, (int64_t)c->incarnation);
    sqlite3_bind_blob(st, 3, self->blob, (int)(n * ID_RECORD), SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, defs_hash);
    return sqlite3_step(st) == SQLITE_DONE ? STORE_OK : store_db_fail(self, err, errsz);
}
