/* chstore_internal: what the files of the ClickHouse store share. Not for
 * use outside it. Its files, each calling only those listed after it:
 *   chstore.c         open, close, migrate; the writer: groups, messages,
 *                     the hosts' flush, tallies, retention
 *   chstore_query.c   the readers' queries, the deadline, ping
 *   chstore_schema.c  the tables */
#ifndef DROPSCOPE_CHSTORE_INTERNAL_H
#define DROPSCOPE_CHSTORE_INTERNAL_H

#include "chstore.h"
#include "clickhouse.h"

typedef struct chstore_writer chstore_writer_t; /* chstore.c's */

struct chstore {
    clickhouse_t *ch;            /* one connection, used by one thread at a time */
    char db[64];                 /* the database's name (an identifier) */
    char cluster[64];            /* "" on a single server */
    chstore_writer_t *w;         /* the writer's state; NULL on a reader */
    store_deadline_t *deadline;  /* borrowed (chstore_set_deadline); NULL: none */
};

/* Runs a SELECT (its FORMAT in sql) under the deadline: its answer as
 * clickhouse_query's, valid until the next request. -1 + err, with
 * "stopped at its deadline" and deadline->passed set when that stopped it. */
int chstore_select(chstore_t *self, const char *sql, const uint8_t **answer, size_t *len,
                   char *err, size_t errsz);

/* sql with every "{db}" replaced by the database's name, in a new string
 * (the caller frees it); NULL without memory. */
char *chstore_expand(const chstore_t *self, const char *sql);

#endif
