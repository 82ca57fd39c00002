/* chstore_internal: what the files of the ClickHouse store share. Not for
 * use outside it. Its files, each calling only those listed after it:
 *   chstore.c         open, close, migrate; the writer: groups, messages,
 *                     the hosts' flush, tallies, retention
 *   chstore_query_events.c  the readers' queries over a range of events:
 *                     drops, bursts, gaps
 *   chstore_query.c   the readers' other queries (hosts, series, settings,
 *                     batches), the deadline, ping; their SQL and rows
 *   chstore_live.c    the live incidents' leader and record (fleetlive.h)
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

/* --- the readers' queries (chstore_query.c), shared with chstore_query_events.c --- */

/* The latest definition of each series of the hosts a WHERE after it
 * selects ("%s" the database; GROUP BY host, source, device, name to
 * follow): every run's wire ids of it read once by argMax, its kind, layer
 * and overlap the latest, and its owner, as SQLite's host_series.owner,
 * the latest that was not "" (a definition without one keeps the one
 * known). */
#define CHSTORE_SERIES_INFO                                                                        \
    "SELECT host, source, device, name, argMax(kind, defined_ns) AS s_kind, "                      \
    "argMax(layer, defined_ns) AS s_layer, argMax(overlap, defined_ns) AS s_overlap, "             \
    "argMaxIf(owner, defined_ns, owner != '') AS s_owner FROM %s.series"

/* A statement built piece by piece: start it as {.buf = NULL}; a failure
 * (memory) sticks, and chstore_run reports it. */
typedef struct {
    char *buf;
    size_t len, cap;
    bool failed;
} chstore_sql_t;

void chstore_sql_add(chstore_sql_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a string literal (clickhouse_quote): every caller's string goes so. */
void chstore_sql_lit(chstore_sql_t *sb, const char *s);
/* Appends " AND column = 'value'" when value is not NULL. */
void chstore_sql_eq(chstore_sql_t *sb, const char *column, const char *value);
/* Appends " LIMIT n" when n > 0 (none: every row). */
void chstore_sql_limit(chstore_sql_t *sb, int64_t n);

#define CHSTORE_ROW_STR 12
#define CHSTORE_ROW_NUM 24

/* One row of an answer as chstore_run read it, valid during the emit. */
typedef struct {
    const char *s[CHSTORE_ROW_STR]; /* its strings in order, NUL-terminated copies in text */
    int64_t n[CHSTORE_ROW_NUM];     /* its integers in order (UInt64 as their bits) */
    double f;                       /* its Float64 (one at most) */
    int64_t drops[LAYER_COUNT];     /* its Array(Int64), by layer (longer ones cut) */
    uint32_t *profile;              /* its Array(UInt32), nprofile of them */
    size_t nprofile, profile_cap;
    char *text; /* room for the strings */
    size_t text_cap;
} chstore_row_t;

/* The caller's callback and context, whichever row type it takes. */
typedef struct {
    union {
        int (*host)(void *ctx, const host_row_t *row);
        int (*top)(void *ctx, const char *host, const char *layer, int64_t drops);
        int (*drop)(void *ctx, const drop_row_t *row);
        int (*burst)(void *ctx, const burst_row_t *row);
        int (*start)(void *ctx, const burst_start_t *row);
        int (*gap)(void *ctx, const gap_row_t *row);
        int (*info)(void *ctx, const series_info_t *row);
        int (*sample)(void *ctx, const series_row_t *row);
        int (*sum)(void *ctx, const drop_sum_t *row);
        int (*setting)(void *ctx, const setting_row_t *row);
        int (*time)(void *ctx, int64_t ts_ns);
        int64_t *totals;
    } fn;
    void *ctx;
} chstore_call_t;

/* Hands one row read to the caller's callback: 0 to go on. */
typedef int chstore_emit_fn(chstore_call_t *call, const chstore_row_t *row);

/* Runs the SELECT sb built (adding its FORMAT, and freeing it) under the
 * deadline, and calls emit with each row of its answer, read by types:
 * 's' String, 'l' Int64, 'q' UInt64, 'w' UInt32, 'b' UInt8 (into n),
 * 'f' Float64, 'A' Array(Int64) (drops), 'P' Array(UInt32) (profile).
 * The answer is copied first: an emit may query self again. 0, -1 + err. */
int chstore_run(chstore_t *self, chstore_sql_t *sb, const char *types, chstore_emit_fn *emit,
                chstore_call_t *call, char *err, size_t errsz);

#endif
