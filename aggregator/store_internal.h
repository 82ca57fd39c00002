/* store_internal: what the two halves of the store module share: the
 * writer (store.c: open, migrations, storing messages) and the queries
 * (store_query.c). Not for use outside the store. */
#ifndef DROPSCOPE_STORE_INTERNAL_H
#define DROPSCOPE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>

#include "store.h"

#define STORE_SAMPLE_RECORD 24 /* bytes per packed sample in batches.samples */

/* The connection (borrowed). */
sqlite3 *store_db(store_t *self);

/* vsnprintf into err. */
void store_errf(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
