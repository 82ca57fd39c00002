/* grow: the one way growable arrays get room. Capacity doubles (from
 * `first`), so n appends cost O(n) copies in all. */
#ifndef DROPSCOPE_GROW_H
#define DROPSCOPE_GROW_H

#include <stddef.h>

/* array (of *cap elements of `size` bytes) with room for `need` elements:
 * array itself when it has it, else reallocated, with *cap updated (a NULL
 * array is always allocated, even for need 0). NULL only without memory or
 * when the size would overflow, array and *cap intact. */
void *grow(void *array, size_t need, size_t *cap, size_t size, size_t first);

#endif
