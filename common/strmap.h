/* strmap: a string-keyed hash map of borrowed pointers, for caches such as
 * the aggregator's per-host state. Keys are copied; values are not owned. */
#ifndef DROPSCOPE_STRMAP_H
#define DROPSCOPE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strmap strmap_t;

strmap_t *strmap_new(void);
/* Frees the map and its key copies (not the values); safe on NULL/twice. */
void strmap_destroy(strmap_t **self_p);
/* The value stored under key, or NULL. */
void *strmap_get(const strmap_t *self, const char *key);
/* Stores value under key (replacing any). 0, or -1 when out of memory. */
int strmap_put(strmap_t *self, const char *key, void *value);
/* Keeps the entries for which keep(ctx, value) is true and removes the
 * others (keep frees what it must). O(size of the map). */
void strmap_retain(strmap_t *self, bool (*keep)(void *ctx, void *value), void *ctx);
/* Calls fn on every value, then empties the map. */
void strmap_clear(strmap_t *self, void (*fn)(void *value));
size_t strmap_size(const strmap_t *self);

#endif
