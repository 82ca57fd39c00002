/* idmap: a host's map from the collector's wire series ids to what the
 * store knows of each series. Memory is proportional to the ids really
 * defined, whatever their values (a wire id of 2^20 - 1 costs one entry,
 * not a table of a million): entries sorted by wire id, found at their own
 * index when the ids are dense from 0 (every honest collector's), else by
 * binary search. */
#ifndef DROPSCOPE_IDMAP_H
#define DROPSCOPE_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t series_id; /* the series row */
    int64_t setting;   /* a setting's latest stored value, when setting_known */
    uint32_t wire;     /* the collector's id */
    uint8_t layer, kind;
    bool overlap;       /* its drops are also counted by a more specific series */
    bool setting_known;
} idmap_entry_t;

typedef struct {
    idmap_entry_t *e; /* sorted by wire */
    size_t n, cap;
} idmap_t;

/* The entry of wire id `wire`, or NULL. */
static inline idmap_entry_t *idmap_find(idmap_t *self, uint32_t wire)
{
    if (wire < self->n && self->e[wire].wire == wire)
        return &self->e[wire];
    size_t lo = 0, hi = self->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->e[mid].wire < wire)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < self->n && self->e[lo].wire == wire ? &self->e[lo] : NULL;
}

/* Sets the entry of entry->wire (added, or replacing the one there).
 * The entry, or NULL when out of memory. */
idmap_entry_t *idmap_put(idmap_t *self, const idmap_entry_t *entry);

/* Forgets every entry (keeps the room). */
static inline void idmap_clear(idmap_t *self)
{
    self->n = 0;
}

void idmap_free(idmap_t *self);

#endif
