/* grow: see grow.h. */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

void *grow(void *array, size_t need, size_t *cap, size_t size, size_t first)
{
    if (need <= *cap && array)
        return array;
    size_t want = *cap ? *cap : first ? first : 1;
    while (want < need) {
        if (want > SIZE_MAX / 2)
            return NULL;
        want *= 2;
    }
    if (size && want > SIZE_MAX / size)
        return NULL;
    void *p = realloc(array, want * size);
    if (p)
        *cap = want;
    return p;
}
