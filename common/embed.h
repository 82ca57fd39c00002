/* embed: files compiled into a binary at build time (cmake/embed.cmake),
 * so a deployed binary needs nothing from the source tree: the SQL
 * migrations now, the web view's files later. */
#ifndef DROPSCOPE_EMBED_H
#define DROPSCOPE_EMBED_H

#include <stddef.h>

typedef struct {
    const char *name; /* file name without directory */
    const char *data; /* NUL-terminated contents */
    size_t size;      /* bytes, without the NUL */
} embed_file_t;

#endif
