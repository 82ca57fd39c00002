/* chstore_schema: the tables of the ClickHouse store (chstore.h), in the
 * order chstore_migrate creates them. */
#ifndef DROPSCOPE_CHSTORE_SCHEMA_H
#define DROPSCOPE_CHSTORE_SCHEMA_H

#include <stddef.h>

typedef struct {
    const char *name;        /* the table's (or view's) */
    const char *ddl;         /* CREATE ... IF NOT EXISTS, "{db}" for the database */
    const char *time_column; /* its partitions are UTC days of this column; NULL: unpartitioned */
} chstore_table_t;

extern const chstore_table_t chstore_tables[];
extern const size_t chstore_ntables;

#endif
