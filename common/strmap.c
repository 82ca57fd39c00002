/* strmap: open addressing with linear probing, load <= 1/2, FNV-1a. No
 * deletion of single keys: a removal rebuilds the table (strmap_retain, a
 * pass over a cache now and then), which keeps probing simple. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

typedef struct {
    char *key;   /* NULL = empty */
    void *value;
} slot_t;

struct strmap {
    slot_t *slots;
    size_t nslots; /* power of two */
    size_t count;
};

static uint64_t s_hash(const char *s)
{
    return bytes_fnv1a(BYTES_FNV1A_INIT, s, strlen(s));
}

strmap_t *strmap_new(void)
{
    strmap_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->nslots = 64;
    self->slots = calloc(self->nslots, sizeof *self->slots);
    if (!self->slots) {
        free(self);
        return NULL;
    }
    return self;
}

void strmap_destroy(strmap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    strmap_clear(*self_p, NULL);
    free((*self_p)->slots);
    free(*self_p);
    *self_p = NULL;
}

static slot_t *s_find(slot_t *slots, size_t nslots, const char *key)
{
    for (size_t i = s_hash(key) & (nslots - 1);; i = (i + 1) & (nslots - 1))
        if (!slots[i].key || strcmp(slots[i].key, key) == 0)
            return &slots[i];
}

void *strmap_get(const strmap_t *self, const char *key)
{
    return s_find(self->slots, self->nslots, key)->value;
}

static int s_grow(strmap_t *self)
{
    size_t nslots = self->nslots * 2;
    slot_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->nslots; i++)
        if (self->slots[i].key)
            *s_find(slots, nslots, self->slots[i].key) = self->slots[i];
    free(self->slots);
    self->slots = slots;
    self->nslots = nslots;
    return 0;
}

int strmap_put(strmap_t *self, const char *key, void *value)
{
    if ((self->count + 1) * 2 > self->nslots && s_grow(self) != 0)
        return -1;
    slot_t *slot = s_find(self->slots, self->nslots, key);
    if (!slot->key) {
        if (!(slot->key = strdup(key)))
            return -1;
        self->count++;
    }
    slot->value = value;
    return 0;
}

void strmap_retain(strmap_t *self, bool (*keep)(void *ctx, void *value), void *ctx)
{
    slot_t *slots = calloc(self->nslots, sizeof *slots);
    if (!slots)
        return; /* nothing removed: the caller tries again later */
    self->count = 0;
    for (size_t i = 0; i < self->nslots; i++) {
        if (!self->slots[i].key)
            continue;
        if (keep(ctx, self->slots[i].value)) {
            *s_find(slots, self->nslots, self->slots[i].key) = self->slots[i];
            self->count++;
        } else {
            free(self->slots[i].key);
        }
    }
    free(self->slots);
    self->slots = slots;
}

void strmap_clear(strmap_t *self, void (*fn)(void *value))
{
    for (size_t i = 0; i < self->nslots; i++) {
        if (!self->slots[i].key)
            continue;
        if (fn)
            fn(self->slots[i].value);
        free(self->slots[i].key);
        self->slots[i] = (slot_t){NULL, NULL};
    }
    self->count = 0;
}

size_t strmap_size(const strmap_t *self)
{
    return self->count;
}
