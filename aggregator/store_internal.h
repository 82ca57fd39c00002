/* store_internal: what the files of the store share. Not for use outside
 * the store. Its files, each calling only those listed after it:
 *   store.c            the writer's entry points: open and close,
 *                      transactions, messages, the hosts' flush, upkeep
 *   store_hosts.c      the writer's per-host cache and the hosts rows
 *   store_ids.c        definitions, series names, wire-id maps
 *   store_retention.c  rollups (and their progress) and retention
 *   store_query.c      the readers' queries
 *   store_raw.c        raw history packed per host and minute, and read back
 *   store_db.c         the connection: migrations, statements, errors
 * tests/unit/check_calls.py (ctest unit/store_calls) checks that no call goes
 * the other way. */
#ifndef DROPSCOPE_STORE_INTERNAL_H
#define DROPSCOPE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "chstore.h"
#include "idmap.h"
#include "store.h"
#include "store_sample.h"
#include "strmap.h"

/* A host's batches in a time range, through batches_at (second, host_id,
 * ...): the seconds the range touches, each one seek, and none outside
 * the seconds stored. Prefix a SELECT on batches that says
 * `second IN sec AND host_id = ...` with it; lo and hi are SQL expressions
 * of the range's ends in ns. */
#define STORE_SECONDS(lo, hi)                                                                      \
    "WITH RECURSIVE sec(s) AS (SELECT max((" lo ") / 1000000000, (SELECT min(second) FROM "      \
    "batches)) UNION ALL SELECT s + 1 FROM sec WHERE s < min((" hi ") / 1000000000, (SELECT "    \
    "max(second) FROM batches))) "

/* How far the minute rollups have got (rollup_state, cached by the
 * writer): every bucket before bucket_ns is rolled up, and in bucket_ns
 * every host below next_host. A batch stored behind that is merged late. */
typedef struct {
    int64_t bucket_ns; /* INT64_MIN: nothing rolled up yet */
    int64_t next_host;
} store_rolled_t;

/* Whether a batch of host at ts lands behind the minute rollups (it is then
 * merged late). */
bool store_behind_rollups(store_t *self, int64_t host_id, int64_t ts_ns);
/* Forgets the cached progress (after a rollback): it is read again. */
void store_rollups_forget(store_t *self);
/* One bounded step of the upkeep (store_upkeep) inside the caller's
 * transaction: late batches, minute and hour rollups, expiry. The number
 * of rows done, or -1 + err. */
long store_retention_step(store_t *self, const store_retention_t *r, int64_t now_ns,
                          int64_t deadline_mono, char *err, size_t errsz);

/* A host's minute being rolled up as its batches are stored (writer). */
typedef struct store_minute store_minute_t;

/* Folds a batch just stored (its id, time and samples, STORE_PACK_VARINT) into its
 * host's minute *m, after writing the rollup of the minute before when a
 * later one begins; that rollup is written only when every batch of it
 * passed here: fresh_from is the time from which this process has stored
 * every batch (minutes before it, and after a failure, are left to the
 * upkeep). A batch for an older minute already written is merged late.
 * Call only for batches not behind the rollups' progress, inside the
 * transaction that stores them. 0, or -1 + err. */
int store_minute_add(store_t *self, store_minute_t **m, int64_t host, int64_t batch_id,
                     int64_t ts_ns, const unsigned char *blob, size_t len, int64_t fresh_from,
                     char *err, size_t errsz);
void store_minute_free(store_minute_t **m);
/* The minute m is folding (INT64_MIN before its first batch). */
int64_t store_minute_bucket(const store_minute_t *m);

/* --- the writer's state -------------------------------------------------- */

/* A host the writer has stored for. */
typedef struct {
    int64_t host_id;
    uint64_t incarnation; /* whose wire ids `ids` maps */
    bool loaded;          /* ids reflect the database */
    idmap_t ids;          /* wire id -> series */
    int64_t nseries;      /* series rows of the host */
    bool fresh;           /* it had none when loaded: its definitions need no lookup */
    bool dirty;           /* ids changed since they were last saved */
    /* The latest of what every message updates in the hosts row, written
     * once a second by store_flush_hosts rather than once per message: a
     * commit of K batches from K hosts would otherwise rewrite K pages of
     * hosts (docs/ARCHITECTURE.md, Budgets). */
    bool listed;          /* in store_t.pending */
    bool seen;            /* last_seen_ns and last_seq wait */
    int64_t last_seen_ns;
    uint64_t last_seq;
    bool delivery;        /* the batch fields below wait */
    int64_t clock_ts_ns;
    uint64_t spool_messages, spool_samples;   /* lost to the spool's bound */
    uint64_t rejected_messages, rejected_samples; /* refused by us */
    store_clock_t clock;
    store_minute_t *minute; /* the minute being rolled up (store_minute_add) */
    int64_t fresh_from;     /* its minutes from here on are folded whole */
    int64_t used_mono;      /* when a message of it was last stored (store_evict_idle) */
    uint64_t tally_gen;     /* == store_t.tally_gen: tallies[tally_ix] is its */
    size_t tally_ix;
} host_cache_t;


/* The writer's statements, prepared once (store_stmt). */
enum {
    ST_HOST_UPSERT, ST_HELLO, ST_NAME_FIND, ST_NAME_INSERT, ST_SERIES_FIND, ST_SERIES_INSERT,
    ST_SERIES_UPSERT, ST_SAVE_IDS, ST_REUSE_IDS, ST_LOAD_IDS,
    ST_LOAD_OLD_IDS, ST_COUNT_SERIES, ST_BATCH, ST_LATE, ST_DROP, ST_SETTING, ST_BURST, ST_GAP,
    ST_HOST_DELIVERY, ST_HOST_SEEN, ST_COUNT_HOSTS, ST_HOST_FIND, ST_SAVEPOINT, ST_RELEASE,
    ST_ROLLBACK_TO, NSTMT
};

struct store {
    chstore_t *ch;             /* on ClickHouse: every store_* goes there; nothing below is used */
    sqlite3 *db;
    bool writer;
    sqlite3_stmt *stmt[NSTMT]; /* prepared lazily */
    strmap_t *hosts;           /* writer: host name -> host_cache_t */
    strmap_t *names;           /* writer: "source\x1fdevice\x1fname" -> series_names.id (int64_t *) */
    host_cache_t **pending;    /* writer: hosts whose row has updates waiting */
    size_t npending, cappending;
    unsigned char *blob;       /* writer: packed samples buffer */
    size_t blobcap, bloblen;
    uint32_t *profile;         /* writer: a burst's profile, little-endian */
    size_t capprofile;
    store_rolled_t rolled;     /* writer: the minute rollups' progress */
    int64_t fresh_from;        /* writer: every batch from this time on was stored by us */
    int64_t latest_ts;         /* writer: the latest batch time stored */
    int64_t evicted_until;     /* writer: minutes before this may have lost their fold */
    uint64_t packed_batches;   /* writer: batches rows packed into raw blocks (store_raw.c) */
    int64_t max_hosts;         /* writer: --max-hosts */
    char name[128];            /* writer: this aggregator's --name, into each host row */
    int64_t nhosts, max_host_id; /* writer: rows of hosts, and the largest id (-1: not read) */
    store_limit_t last_limit;  /* writer: behind the last STORE_OVER_LIMIT */
    bool host_inserted;        /* writer: the message being stored added a host row */
    bool name_inserted;        /* writer: the transaction added a series_names row */
    bool rolled_known;         /* rolled has been read from rollup_state */
    store_tally_t *tallies;    /* writer: what the transaction's messages add, per host */
    size_t ntallies, captallies;
    uint64_t tally_gen;        /* writer: bumped when the tallies are forgotten (never 0) */
    store_tally_t msg_tally;   /* writer: the share of the message being stored */
};

/* --- store_db.c ----------------------------------------------------------- */

/* Opens self->db at path (self->writer: read-write, WAL; store_migrate
 * comes next). 0, or -1 + err. */
int store_db_connect(store_t *self, const char *path, char *err, size_t errsz);
/* Finalizes the statements and closes the connection. */
void store_db_disconnect(store_t *self);
/* The connection (borrowed). */
sqlite3 *store_db(store_t *self);
/* Runs SQL without results (sqlite3_exec). 0, or -1 + err. */
int store_exec(store_t *self, const char *sql, char *err, size_t errsz);
/* Statement `which`, prepared on first use, reset and unbound; NULL on failure. */
sqlite3_stmt *store_stmt(store_t *self, int which);
/* Runs statement `which`, which returns no rows. 0, or -1 + err. */
int store_run(store_t *self, int which, char *err, size_t errsz);
/* Prepares a one-off statement; NULL + err. */
sqlite3_stmt *store_prepare(store_t *self, const char *sql, char *err, size_t errsz);
/* The failure of the last statement as a store_rc_t, with err. */
store_rc_t store_db_fail(store_t *self, char *err, size_t errsz);
/* Grows self->blob to `need` bytes. 0, or -1 out of memory. */
int store_blob(store_t *self, size_t need);
/* vsnprintf into err. */
void store_errf(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* --- store_raw.c ---------------------------------------------------------- */

/* The span of one raw block (schema/019), from a multiple of it. Ten
 * minutes rather than one: a busy host's minute (~8 KB packed) spills
 * from its B-tree page into overflow pages, the last of them part empty,
 * and each block repeats its batch columns and zstd's tables; measured by
 * bench_queries (75 busy counters at 1 s): 1.98 bytes a sample in
 * blocks of a minute, 1.86 in blocks of ten. */
#define STORE_RAW_BLOCK_S 600
#define STORE_RAW_BLOCK_NS (STORE_RAW_BLOCK_S * INT64_C(1000000000))

/* Packs host's batches rows of the block at bucket into its raw block
 * (merged with the block there is), deleting the rows: every row of the
 * block not waiting in rollup_late. The rows packed, or -1 + err. Inside
 * the caller's transaction. */
long store_raw_pack(store_t *self, int64_t host, int64_t bucket, char *err, size_t errsz);
/* Whether the batch (incarnation, seq) of host at ts_ns is packed in its
 * minute's block already (a resend of it is a duplicate). 1, 0, or -1 + err. */
int store_raw_has(store_t *self, int64_t host, int64_t ts_ns, int64_t incarnation, int64_t seq,
                  char *err, size_t errsz);

/* A host's raw batches in (from_ns, to_ns], blocks and rows merged, in time order. */
typedef struct store_raw store_raw_t;
store_raw_t *store_raw_open(store_t *self, int64_t host, int64_t from_ns, int64_t to_ns, char *err,
                            size_t errsz);
/* The next batch: its time and samples (valid until the next call). 1, 0 at
 * the end, -1 on an error (store_raw_close tells it). */
int store_raw_next(store_raw_t *r, int64_t *ts_ns, const store_sample_t **samples, size_t *n);
/* Ends the reading; -1 + err when it failed. */
int store_raw_close(store_raw_t **r_p, char *err, size_t errsz);

/* --- store_ids.c ---------------------------------------------------------- */

/* Fills c->ids from the stored map of c's run. 0, -1 on a database error. */
int store_ids_load(store_t *self, host_cache_t *c);
/* A hash of a batch's definitions (never 0). */
int64_t store_defs_hash(const store_batch_t *b);
/* Takes a previous run's map with the same first definitions as c's; true when it did. */
bool store_ids_reuse(store_t *self, host_cache_t *c, const store_batch_t *b, int64_t hash);
/* Saves c's map as its run's row, with the hash of its first definitions (or 0). */
store_rc_t store_ids_save(store_t *self, const host_cache_t *c, int64_t defs_hash, char *err,
                          size_t errsz);
/* Stores definition d of host c and maps its wire id. */
store_rc_t store_define(store_t *self, host_cache_t *c, const store_def_t *d, char *err,
                        size_t errsz);
/* Empties the names cache when a name in it may be rolled back. */
void store_names_forget(store_t *self);
/* The names inserted so far are committed: no rollback can take them now. */
void store_names_committed(store_t *self);

/* --- store_hosts.c -------------------------------------------------------- */

/* The cache of o's host into *c_p, its row upserted and its run's map
 * loaded when the message is of another run than the cached one. */
store_rc_t store_host(store_t *self, const store_origin_t *o, host_cache_t **c_p, char *err,
                      size_t errsz);
/* Keeps a batch's spool losses and clock for the next flush. */
store_rc_t store_host_delivery(store_t *self, host_cache_t *c, const store_batch_t *b,
                               char *err, size_t errsz);
/* A message of c stored: it was seen (written by the next flush). */
store_rc_t store_host_seen(store_t *self, host_cache_t *c, const store_origin_t *o, char *err,
                           size_t errsz);
/* Writes a hello's degraded features into c's row, one a line. */
store_rc_t store_host_degraded(store_t *self, const host_cache_t *c, const store_hello_t *h,
                               char *err, size_t errsz);
/* Writes every waiting hosts row, inside the caller's transaction. 0, -1. */
int store_hosts_flush(store_t *self);
/* Frees a host_cache_t (a strmap value). */
void store_host_free(void *value);

#endif
