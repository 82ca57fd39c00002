/* idmap: appends are O(1) (a collector defines its ids in ascending
 * order); an id below the last costs a memmove, bounded by the store's cap
 * on a host's series. */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

idmap_entry_t *idmap_put(idmap_t *self, const idmap_entry_t *entry)
{
    idmap_entry_t *at = idmap_find(self, entry->wire);
    if (at) {
        *at = *entry;
        return at;
    }
    idmap_entry_t *grown = grow(self->e, self->n + 1, &self->cap, sizeof *grown, 64);
    if (!grown)
        return NULL;
    self->e = grown;
    size_t i = self->n;
    while (i > 0 && self->e[i - 1].wire > entry->wire)
        i--;
    memmove(self->e + i + 1, self->e + i, (self->n - i) * sizeof *self->e);
    self->e[i] = *entry;
    self->n++;
    return &self->e[i];
}

void idmap_free(idmap_t *self)
{
    free(self->e);
    *self = (idmap_t){0};
}
