/* chstore_writer: the ClickHouse store's writer state, shared by chstore.c
 * (groups, commit, flush, tallies, retention) and chstore_write.c (the
 * messages and the per-host cache). Private to those two files.
 *
 * A group is staged in memory: each table's rows as RowBinary, and what
 * the messages change in the hosts' cache. A message is checked whole
 * before it changes anything (so a refused one leaves no trace); a commit
 * sends the buffers, and a rollback restores each touched host's pending
 * row from the copy taken when the group first touched it and has its
 * definitions and settings read again from ClickHouse. */
#ifndef DROPSCOPE_CHSTORE_WRITER_H
#define DROPSCOPE_CHSTORE_WRITER_H

#include "chstore_internal.h"
#include "rowbinary.h"
#include "strmap.h"

/* A host that sent this writer nothing for this long may have reported to
 * another aggregator meanwhile: its next batch is looked up in `batches`
 * even when it follows the last one stored here (chstore_write.c). */
#define CHW_RECHECK_NS (3 * INT64_C(1000000000))

/* The tables a group writes, in the order its commit inserts them:
 * `batches` last, so that a message is found stored only once the rest of
 * it is. */
enum { CHW_SERIES, CHW_SAMPLES, CHW_DROPS, CHW_SETTINGS, CHW_BURSTS, CHW_GAPS, CHW_BATCHES,
       CHW_NTABLES };

/* A wire id's definition, as the writer has it for a host's run. */
typedef struct {
    uint32_t wire;    /* the collector's id */
    uint8_t kind;     /* kind_t */
    uint8_t layer;    /* layer_t */
    bool overlap;     /* its drops are also counted by a more specific series */
    char *strings;    /* owned: "source\0device\0name\0owner\0" */
    const char *source, *device, *name, *owner; /* into strings */
} chw_def_t;

/* What this writer's messages set in a host's row since its last flush;
 * the flush merges it into the latest row in ClickHouse (chstore_write.c). */
typedef struct {
    bool seen;                   /* the fields below are set */
    int64_t first_seen_ns;       /* the earliest message received */
    int64_t last_seen_ns;        /* the latest */
    uint64_t incarnation, last_seq; /* of the last message stored */
    char *boot_id;               /* owned; of the last message */
    bool delivery;               /* the batch fields below are set */
    int64_t clock_ts_ns;         /* the batch time of the clock below */
    uint64_t spool_messages, spool_samples;       /* lost to the spool's bound */
    uint64_t rejected_messages, rejected_samples; /* refused by an aggregator */
    store_clock_t clock;
    bool hello;                  /* the hello fields below are set */
    char *backend, *kernel, *collector_version, *backend_note, *degraded; /* owned */
    int64_t ncpus, interval_ns;
} chw_pending_t;

/* A message's identity within its host. */
typedef struct {
    uint64_t incarnation, seq;
} chw_id_t;

/* A host the writer has met. */
typedef struct {
    char *name;              /* owned */
    chw_pending_t p;         /* waiting for the next flush */
    chw_pending_t saved;     /* p as it was before the group touched it */
    uint64_t group_gen;      /* == writer's group_gen: touched by the group, saved is its */
    bool new_in_group;       /* met first in the group: a rollback forgets it */
    bool counted;            /* in `hosts`, or counted in the writer's nhosts */
    bool loaded;             /* defs, settings and nseries reflect ClickHouse and the writer */
    uint64_t incarnation;    /* the run whose wire ids defs maps */
    chw_def_t *defs;         /* sorted by wire id */
    size_t ndefs, capdefs;
    strmap_t *settings;      /* "source\x1f" "device\x1f" "name" -> int64_t *, the last stored */
    int64_t nseries;         /* distinct series of the host (an upper bound, like SQLite's) */
    uint64_t stored_max;     /* the highest seq of run `incarnation` stored (hellos and
                                batches): by anyone when it was loaded, by this writer since */
    uint64_t group_max;      /* the highest seq of that run the group has staged */
    chw_id_t *gids;          /* the batches of the group, to find one sent twice in it */
    size_t ngids, capgids;
    int64_t used_mono;       /* when a message of it was last stored (chstore_evict_idle) */
    uint64_t tally_gen;      /* == writer's tally_gen: tallies[tally_ix] is its */
    size_t tally_ix;
} chw_host_t;

struct chstore_writer {
    rbw_t *buf[CHW_NTABLES];   /* the group's rows per table */
    size_t rows[CHW_NTABLES];  /* how many rows each holds */
    rbw_t *scratch;            /* the hosts' flush and retention's inserts */
    strmap_t *hosts;           /* name -> chw_host_t */
    chw_host_t **touched;      /* the hosts the group touched */
    size_t ntouched, captouched;
    bool in_group;             /* between begin and commit/rollback */
    bool group_failed;         /* a message failed with STORE_ERROR: the commit refuses */
    uint64_t group_gen;        /* bumped at every begin (never 0) */
    char name[128];            /* this aggregator's, in the rows it writes */
    uint64_t last_version;     /* the last updated_ns / defined_ns written */
    int64_t max_hosts;         /* --max-hosts */
    int64_t nhosts;            /* hosts in ClickHouse plus those admitted since; -1 unknown */
    store_limit_t last_limit;  /* behind the last STORE_OVER_LIMIT */
    store_tally_t *tallies;    /* what the group's messages add, per host */
    size_t ntallies, captallies;
    uint64_t tally_gen;        /* bumped when the tallies are forgotten (never 0) */
    store_tally_t msg_tally;   /* the share of the message being stored */
};

/* --- chstore_write.c (and chstore.c's helpers) ---------------------------------------------------- */

/* Each table's columns as its rows are written, "table (col, ...)". */
extern const char *const chw_columns[CHW_NTABLES];

/* A new version for a ReplacingMergeTree row: the wall clock in ns, or one
 * past the last one given when the clock has not moved on. */
uint64_t chw_version(chstore_writer_t *w);
/* Frees a chw_host_t (a strmap value). */
void chw_host_free(void *value);
/* --- chstore_hosts.c --- */

/* Frees what p owns and empties it. */
void chw_pending_clear(chw_pending_t *p);
/* A deep copy of p into *to (to's former strings are not freed). 0, -1
 * without memory (then some of to's strings are NULL). */
int chw_pending_copy(chw_pending_t *to, const chw_pending_t *p);

/* Writes the rows of the hosts with pending changes (a few hundred per
 * INSERT). 0, -1 + err (the rows not written stay pending). */
int chw_flush(chstore_t *self, char *err, size_t errsz);
/* sql (with "{db}") expanded and run as a RowBinary query; the answer is
 * borrowed until the next request. 0, -1 + err naming what. */
int chw_query(chstore_t *self, const char *what, const char *sql, const uint8_t **answer,
              size_t *len, char *err, size_t errsz);
/* The one UInt64 of a query's one row into *v. 0, -1 + err. */
int chw_scalar(chstore_t *self, const char *what, const char *sql, uint64_t *v, char *err,
               size_t errsz);
/* Writes fmt's prefix into err; returns where a callee's message goes
 * after it, with its room in *left (at least 1 byte). */
char *chw_tail(char *err, size_t errsz, size_t *left, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A new string of fmt; NULL without memory. */
char *chw_sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* rbw_string of a C string. */
int chw_str(rbw_t *w, const char *s);

#endif
