/* chstore_schema: the tables of the ClickHouse store (chstore.h), in the
 * order chstore_migrate creates them, and the statements that create them
 * on one server or on a cluster. */
#ifndef DROPSCOPE_CHSTORE_SCHEMA_H
#define DROPSCOPE_CHSTORE_SCHEMA_H

#include <stddef.h>

typedef struct {
    const char *name;        /* the table's (or view's), as queries name it */
    const char *columns;     /* "(name Type, ...)"; NULL for a view */
    const char *engine;      /* MergeTree family: "ReplacingMergeTree", ... */
    const char *engine_args; /* its arguments (a version column), or NULL */
    const char *keys;        /* "[PARTITION BY ...] ORDER BY ..." */
    const char *shard_by;    /* the host's column: a cluster puts a host's rows on one shard */
    const char *time_column; /* its partitions are UTC days of this column; NULL: unpartitioned */
    const char *view_to;     /* a materialized view: the table it fills, */
    const char *view_select; /* from this SELECT ("{db}", "{local}" as chstore_subst's) */
} chstore_table_t;

extern const chstore_table_t chstore_tables[];
extern const size_t chstore_ntables;

/* The suffix of the tables that hold a cluster's rows (the replicated
 * ones, each behind a Distributed table of the plain name). */
#define CHSTORE_LOCAL "_local"

/* text with every "{db}" replaced by db and every "{local}" by local, in a
 * new string (the caller frees it); NULL without memory. */
char *chstore_subst(const char *text, const char *db, const char *local);

/* The statements that create t in database db if missing: one on a single
 * server (cluster NULL or ""); on a cluster, its replicated table then the
 * Distributed one in front (a view: one, between the replicated tables).
 * Into stmts (the caller frees each); their count, or -1 without memory. */
int chstore_table_ddl(const chstore_table_t *t, const char *db, const char *cluster,
                      char *stmts[2]);

#endif
