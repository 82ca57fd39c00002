/* Tests aggregator/store: migrations, storing hellos and batches (drop rows,
 * settings changes, packed samples), idempotent resends, refusals that leave
 * no trace, the wire-id cache across a reopen and a rollback, and queries.
 * The tests of store.h's contract run on ClickHouse too (SQLITE_ONLY). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "embed.h"
#include "intake.h"
#include "store.h"
#include "store_internal.h"
#include "ts.h"
#include "testlib.h"

#define T0 INT64_C(1795359570000000000)

extern const embed_file_t schema_files[]; /* the migrations compiled in */
extern const unsigned schema_files_count;
#define SEC INT64_C(1000000000)

typedef struct {
    char dir[64];
    char path[128];
    store_t *st;
} fixture_t;

static const series_def_t s_defs[] = {
    {1, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER, LAYER_SOCKET, false, ""},
    {2, "netdev", "eth0", "rx_packets", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
    {3, "sysctl", "", "net.core.rmem_max", KIND_SETTING, LAYER_CONFIG, false, ""},
    {4, "sock", "udp:0.0.0.0:9999", "drops", KIND_COUNTER, LAYER_SOCKET, true, ""},
};

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->st = testlib_store_new("store", f->dir, f->path);
    *state = f;
    return 0;
}

/* The setup of a test of SQLite's tables (SQLITE_ONLY): on ClickHouse no
 * store, whose database costs seconds to make on a cluster. */
static int s_setup_sqlite(void **state)
{
    if (!testlib_clickhouse())
        return s_setup(state);
    *state = NULL;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    if (!f)
        return 0;
    testlib_store_destroy(&f->st, f->dir);
    store_close(&f->st); /* safe twice */
    free(f);
    return 0;
}

static msg_t s_batch(uint64_t incarnation, uint64_t seq, int64_t ts, size_t ndefs, size_t n,
                     const uint32_t *ids, const uint64_t *values, const int64_t *deltas,
                     const uint32_t *flags)
{
    return (msg_t){.host = "h1",
                   .boot_id = "boot-1",
                   .incarnation = incarnation,
                   .seq = seq,
                   .sent_ns = ts,
                   .type = MSG_TYPE_BATCH,
                   .batch = {ts, ts - SEC, false, ndefs, s_defs, n, ids, values, deltas, flags, 0, NULL, 0, 0, {0}, 0, 0, 0, NULL}};
}

static store_rc_t s_store(fixture_t *f, const msg_t *m, size_t *samples)
{
    char err[256];
    size_t n;
    assert_int_equal(store_begin(f->st, err, sizeof err), 0);
    store_rc_t rc = intake_store(f->st, m, m->sent_ns, samples ? samples : &n, err, sizeof err);
    assert_int_equal(store_commit(f->st, err, sizeof err), 0);
    return rc;
}

static int64_t s_scalar(fixture_t *f, const char *sql)
{
    return testlib_sql_scalar(f->path, sql);
}

/* The tests of what SQLite's tables hold (migrations, the wire-id and
 * names tables, the packing) are SQLite's own; the others, of store.h's
 * contract, run on ClickHouse too (unit/test_store@clickhouse) and look
 * only through store.h. */
#define SQLITE_ONLY()                                                                              \
    do {                                                                                           \
        if (testlib_clickhouse())                                                                  \
            skip();                                                                                \
    } while (0)

static int s_count_time(void *ctx, int64_t ts_ns)
{
    (void)ts_ns;
    (*(int64_t *)ctx)++;
    return 0;
}

/* Batches of h1 stored, through store_batch_times. */
static int64_t s_batches(fixture_t *f)
{
    char err[256];
    int64_t n = 0;
    if (store_batch_times(f->st, "h1", INT64_MIN, INT64_MAX, s_count_time, &n, err, sizeof err))
        fail_msg("store_batch_times: %s", err);
    return n;
}

typedef struct {
    int64_t rows, sum;
} drops_seen_t;

static int s_count_drop(void *ctx, const drop_row_t *row)
{
    drops_seen_t *d = ctx;
    d->rows++;
    d->sum += row->delta;
    return 0;
}

/* h1's drop rows (every layer, overlapping ones too), through store_drops. */
static drops_seen_t s_drops(fixture_t *f)
{
    char err[256];
    drops_seen_t d = {0, 0};
    drops_query_t q = {.host = "h1", .layer = LAYER_UNKNOWN, .from_ns = INT64_MIN,
                       .to_ns = INT64_MAX, .limit = 1000};
    if (store_drops(f->st, &q, s_count_drop, &d, err, sizeof err) != 0)
        fail_msg("store_drops: %s", err);
    return d;
}

/* Stores the standard first two batches: a baseline, then 15 drops. */
static void s_two_batches(fixture_t *f)
{
    static const uint32_t ids[] = {1, 2, 3, 4};
    static const uint64_t v1[] = {100, 5000, 212992, 0}, v2[] = {115, 5100, 212992, 15};
    static const int64_t d1[] = {0, 0, 0, 0}, d2[] = {15, 100, 0, 15};
    static const uint32_t f1[] = {1, 1, 1, 1}, f2[] = {0, 0, 0, 0};
    msg_t m1 = s_batch(7, 2, T0, 4, 4, ids, v1, d1, f1);
    msg_t m2 = s_batch(7, 3, T0 + SEC, 0, 4, ids, v2, d2, f2);
    size_t samples = 0;
    assert_int_equal(s_store(f, &m1, &samples), STORE_OK);
    assert_int_equal(samples, 4);
    assert_int_equal(s_store(f, &m2, &samples), STORE_OK);
}

static void test_migrated(void **state)
{
    SQLITE_ONLY();
    fixture_t *f = *state;
    /* Every embedded migration applied, numbered 1..n. */
    assert_int_equal(s_scalar(f, "PRAGMA user_version"), schema_files_count);
    sqlite3 *db;
    sqlite3_open(f->path, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* Reopening an up-to-date database applies nothing and keeps data. */
    s_two_batches(f);
    store_close(&f->st);
    char err[256];
    assert_non_null(f->st = store_open(f->path, true, err, sizeof err));
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM batches"), 2);
}

/* After its commits the writer holds no read snapshot, so a checkpoint can
 * copy the whole WAL back (a statement left on a row once pinned it, and
 * the WAL grew without bound). */
static void test_checkpoint_not_pinned(void **state)
{
    SQLITE_ONLY();
    fixture_t *f = *state;
    s_two_batches(f);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(PASSIVE)", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int busy = sqlite3_column_int(st, 0), log = sqlite3_column_int(st, 1),
        done = sqlite3_column_int(st, 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(busy, 0);
    assert_true(log > 0);
    assert_int_equal(done, log);
}

/* A hello's degraded features (collector/caps.h), stored one a line. */
static const char *const s_degraded[] = {
    "socket owners: only this user's processes (uid 65534) are named (needs CAP_SYS_PTRACE)",
    "ebpf backend: not loaded (needs CAP_BPF), using netlink"};

static void test_hello_and_batches(void **state)
{
    SQLITE_ONLY();
    fixture_t *f = *state;
    msg_t hello = {.host = "h1", .boot_id = "boot-1", .incarnation = 7, .seq = 1,
                   .sent_ns = T0 - SEC, .type = MSG_TYPE_HELLO,
                   .hello = {"0.1.0", "6.18.44", "netlink", 2, SEC, T0 - 2 * SEC,
                             "ebpf: the kernel has no BTF", 2, s_degraded}};
    assert_int_equal(s_store(f, &hello, NULL), STORE_OK);
    s_two_batches(f);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM hosts"), 1);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM hosts WHERE backend = 'netlink' AND "
                                 "backend_note = 'ebpf: the kernel has no BTF'"), 1);
    assert_int_equal(s_scalar(f, "SELECT ncpus FROM hosts"), 2);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM hosts WHERE degraded = 'socket owners: "
                                 "only this user''s processes (uid 65534) are named (needs "
                                 "CAP_SYS_PTRACE)' || char(10) || 'ebpf backend: not loaded "
                                 "(needs CAP_BPF), using netlink'"), 1);
    /* What every message changes in its host's row waits for the flush:
     * the row holds the hello's seq until then. */
    assert_int_equal(s_scalar(f, "SELECT last_seq FROM hosts"), 1);
    char err[256];
    assert_int_equal(store_flush_hosts(f->st, err, sizeof err), 0);
    assert_int_equal(s_scalar(f, "SELECT last_seq FROM hosts"), 3);
    assert_int_equal(s_scalar(f, "SELECT last_seen_ns FROM hosts"), T0 + SEC);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM series"), 4);
    /* Drop rows only for drop-layer counters with a delta: the traffic
     * counter and the baseline do not get one. */
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM drops"), 2);
    assert_int_equal(s_scalar(f, "SELECT sum(delta) FROM drops WHERE layer = 'socket'"), 30);
    assert_int_equal(s_scalar(f, "SELECT ts_ns FROM drops LIMIT 1"), T0 + SEC);
    assert_int_equal(s_scalar(f, "SELECT prev_ts_ns FROM drops LIMIT 1"), T0);
    /* The setting is recorded once: its value did not change. */
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM settings"), 1);
    assert_int_equal(s_scalar(f, "SELECT value FROM settings"), 212992);
    /* Every sample is in the packed blob, as varints (STORE_PACK_VARINT):
     * series id step (zigzag), flags, value, delta (zigzag). Series 1..4:
     * 115/15, 5100 (EC 27)/100 (zigzag 200: C8 01), 212992 (80 80 0D)/0,
     * 15/15 (zigzag 30: 1E). */
    assert_int_equal(s_scalar(f, "SELECT nsamples FROM batches WHERE seq = 3"), 4);
    assert_int_equal(s_scalar(f, "SELECT packing FROM batches WHERE seq = 3"), 1);
    assert_int_equal(s_scalar(f, "SELECT hex(samples) = '0200731E' || '0200EC27C801' || "
                                 "'020080800D00' || '02000F1E' FROM batches WHERE seq = 3"), 1);
}

static void test_resend_is_idempotent(void **state)
{
    fixture_t *f = *state;
    s_two_batches(f);
    static const uint32_t ids[] = {1};
    static const uint64_t v[] = {115};
    static const int64_t d[] = {15};
    static const uint32_t fl[] = {0};
    msg_t again = s_batch(7, 3, T0 + SEC, 0, 1, ids, v, d, fl);
    assert_int_equal(s_store(f, &again, NULL), STORE_DUPLICATE);
    assert_int_equal(s_batches(f), 2);
    assert_int_equal(s_drops(f).sum, 30);
}

static void test_refusals_leave_no_trace(void **state)
{
    fixture_t *f = *state;
    s_two_batches(f);
    static const uint32_t unknown[] = {9}, one[] = {1};
    static const uint64_t v[] = {120};
    static const int64_t d[] = {5}, neg[] = {-5};
    static const uint32_t fl[] = {0};
    msg_t m = s_batch(7, 4, T0 + 2 * SEC, 0, 1, unknown, v, d, fl);
    assert_int_equal(s_store(f, &m, NULL), STORE_NEED_DEFS);
    m = s_batch(7, 5, T0 + 2 * SEC, 0, 1, one, v, neg, fl);
    assert_int_equal(s_store(f, &m, NULL), STORE_INVALID);
    /* A new incarnation must define its series again. */
    m = s_batch(8, 1, T0 + 3 * SEC, 0, 1, one, v, d, fl);
    assert_int_equal(s_store(f, &m, NULL), STORE_NEED_DEFS);
    assert_int_equal(s_batches(f), 2);
    assert_int_equal(s_drops(f).rows, 2);
    /* The rest of the same transaction stands. */
    m = s_batch(7, 7, T0 + 4 * SEC, 0, 1, one, v, d, fl);
    assert_int_equal(s_store(f, &m, NULL), STORE_OK);
    assert_int_equal(s_batches(f), 3);
}

/* A message whose drop or burst rows clash with rows another message
 * stored is refused alone (STORE_INVALID, not a database failure that
 * would roll back its whole group), and the rows stored first stand. */
static void test_rows_never_overwritten(void **state)
{
    SQLITE_ONLY();
    fixture_t *f = *state;
    s_two_batches(f);
    static const uint32_t one[] = {1};
    static const uint64_t v[] = {999};
    static const int64_t d[] = {884};
    static const uint32_t fl[] = {0};
    msg_t forged = s_batch(7, 9, T0 + SEC, 0, 1, one, v, d, fl); /* batch 3's time, another seq */
    char err[256];
    size_t n;
    assert_int_equal(store_begin(f->st, err, sizeof err), 0);
    assert_int_equal(intake_store(f->st, &forged, T0, &n, err, sizeof err), STORE_INVALID);
    assert_non_null(strstr(err, "refused by the database"));
    /* the rest of the transaction goes on */
    msg_t next = s_batch(7, 10, T0 + 5 * SEC, 0, 1, one, v, d, fl);
    assert_int_equal(intake_store(f->st, &next, T0, &n, err, sizeof err), STORE_OK);
    assert_int_equal(store_commit(f->st, err, sizeof err), 0);
    assert_int_equal(s_scalar(f, "SELECT delta FROM drops WHERE ts_ns = 1795359571000000000 AND "
                                 "layer = 'socket' AND overlap = 0"), 15);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM batches"), 3);
    /* A burst at the start, interface and direction of one stored. */
    burst_msg_t b = {.iface = "eth0", .start_ns = T0 + 2 * SEC, .end_ns = T0 + 2 * SEC + 1000000,
                     .peak_per_ms = 500, .packets = 500};
    msg_t m = s_batch(7, 11, T0 + 6 * SEC, 0, 0, one, v, d, fl);
    m.batch.nbursts = 1;
    m.batch.bursts = &b;
    assert_int_equal(s_store(f, &m, NULL), STORE_OK);
    b.packets = 1;
    m.seq = 12;
    assert_int_equal(s_store(f, &m, NULL), STORE_INVALID);
    assert_int_equal(s_scalar(f, "SELECT packets FROM bursts"), 500);
}

typedef struct {
    gap_row_t rows[8];
    char groups[8][16];
    size_t n;
} gaps_seen_t;

static int s_gap_row(void *ctx, const gap_row_t *r)
{
    gaps_seen_t *g = ctx;
    assert_true(g->n < 8);
    snprintf(g->groups[g->n], sizeof g->groups[0], "%s", r->group);
    g->rows[g->n] = *r;
    g->rows[g->n].group = g->groups[g->n];
    g->n++;
    return 0;
}

/* A probe's gaps are stored with their batch, read back whole (a 64-bit
 * sequence number above 2^63 too), by host and range, oldest or newest
 * first; the same gap carried again is stored once. */
static void test_gaps_stored(void **state)
{
    fixture_t *f = *state;
    s_two_batches(f);
    static const uint32_t one[] = {1};
    static const uint64_t v[] = {115};
    static const int64_t d[] = {0};
    static const uint32_t fl[] = {0};
    gap_msg_t gaps[] = {{"239.1.1.1", 5000, T0 + SEC, T0 + SEC + 1000, 20, 1000, 1019},
                        {"239.1.1.1", 5000, T0 + 2 * SEC, T0 + 2 * SEC, 3, UINT64_MAX - 2,
                         UINT64_MAX}};
    msg_t m = s_batch(7, 4, T0 + 2 * SEC, 0, 1, one, v, d, fl);
    m.batch.ngaps = 2;
    m.batch.gaps = gaps;
    assert_int_equal(s_store(f, &m, NULL), STORE_OK);
    assert_int_equal(s_store(f, &m, NULL), STORE_DUPLICATE);
    m.seq = 5; /* another batch carrying the second again */
    m.batch.ts_ns = m.sent_ns = T0 + 3 * SEC;
    m.batch.prev_ts_ns = T0 + 2 * SEC;
    m.batch.gaps = &gaps[1];
    m.batch.ngaps = 1;
    assert_int_equal(s_store(f, &m, NULL), STORE_OK);
    char err[256];
    gaps_seen_t seen = {.n = 0};
    gaps_query_t q = {.host = "h1", .from_ns = T0, .to_ns = T0 + 10 * SEC};
    assert_int_equal(store_gaps(f->st, &q, s_gap_row, &seen, err, sizeof err), 0);
    assert_int_equal(seen.n, 2); /* the one carried twice, once */
    assert_string_equal(seen.groups[0], "239.1.1.1");
    assert_int_equal(seen.rows[0].port, 5000);
    assert_int_equal(seen.rows[0].missing, 20);
    assert_int_equal(seen.rows[0].first_seq, 1000);
    assert_true(seen.rows[1].last_seq == UINT64_MAX);
    assert_true(seen.rows[1].first_seq == UINT64_MAX - 2);
    seen.n = 0;
    q.limit = 1;
    assert_int_equal(store_gaps_newest(f->st, &q, s_gap_row, &seen, err, sizeof err), 0);
    assert_int_equal(seen.n, 1);
    assert_true(seen.rows[0].start_ns == T0 + 2 * SEC);
    seen.n = 0;
    q = (gaps_query_t){.host = "h2", .from_ns = T0, .to_ns = T0 + 10 * SEC};
    assert_int_equal(store_gaps(f->st, &q, s_gap_row, &seen, err, sizeof err), 0);
    assert_int_equal(seen.n, 0);
    q = (gaps_query_t){.from_ns = T0 + SEC, .to_ns = T0 + 10 * SEC}; /* (from, to] */
    assert_int_equal(store_gaps(f->st, &q, s_gap_row, &seen, err, sizeof err), 0);
    assert_int_equal(seen.n, 1);
}

static void test_ids_survive_reopen_not_rollback(void **state)
{
    SQLITE_ONLY();
    fixture_t *f = *state;
    s_two_batches(f);
    char err[256];
    store_close(&f->st);
    assert_non_null(f->st = store_open(f->path, true, err, sizeof err));
    static const uint32_t one[] = {1};
    static const uint64_t v[] = {130};
    static const int64_t d[] = {15};
    static const uint32_t fl[] = {0};
    /* After a restart, ids defined by committed batches still resolve. */
    msg_t m = s_batch(7, 4, T0 + 2 * SEC, 0, 1, one, v, d, fl);
    assert_int_equal(s_store(f, &m, NULL), STORE_OK);
    /* Definitions of a rolled-back transaction are forgotten. */
    m = s_batch(9, 1, T0 + 3 * SEC, 4, 1, one, v, d, fl);
    size_t n;
    assert_int_equal(store_begin(f->st, err, sizeof err), 0);
    assert_int_equal(intake_store(f->st, &m, m.sent_ns, &n, err, sizeof err), STORE_OK);
    store_rollback(f->st);
    m = s_batch(9, 2, T0 + 4 * SEC, 0, 1, one, v, d, fl);
    assert_int_equal(s_store(f, &m, NULL), STORE_NEED_DEFS);
    /* One row per collector run holds its map, however many series it has. */
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM incarnation_ids"), 1);
    assert_int_equal(s_scalar(f, "SELECT length(ids) FROM incarnation_ids"), 4 * 16);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM series_ids"), 0);
}

/* Hosts share their series names: one series_names row per name, one
 * narrow host_series row per host and series, and the series view shows
 * what each host defined. */
static void test_names_shared(void **state)
{
    SQLITE_ONLY();
    fixture_t *f = *state;
    s_two_batches(f);
    static const uint32_t ids[] = {1, 2, 3, 4};
    static const uint64_t v[] = {100, 5000, 212992, 0};
    static const int64_t d[] = {0, 0, 0, 0};
    static const uint32_t fl[] = {1, 1, 1, 1};
    msg_t m = s_batch(3, 1, T0, 4, 4, ids, v, d, fl);
    m.host = "h2";
    assert_int_equal(s_store(f, &m, NULL), STORE_OK);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM series_names"), 4);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM host_series"), 8);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM series s JOIN hosts h ON h.id = s.host_id "
                                 "WHERE h.name = 'h2' AND s.source = 'sock' AND s.device = "
                                 "'udp:0.0.0.0:9999' AND s.name = 'drops' AND s.kind = 'counter' "
                                 "AND s.layer = 'socket' AND s.overlap = 1"), 1);
}

/* A name inserted by a message that is then refused, or by a group that
 * is rolled back, is gone from the database: the writer must not keep its
 * id (the next host would point at a name that does not exist, or at
 * whatever name takes the id next). */
static void test_names_rolled_back(void **state)
{
    SQLITE_ONLY();
    fixture_t *f = *state;
    static const uint32_t ids[] = {1, 2, 3, 4}, unknown[] = {9};
    static const uint64_t v[] = {100, 5000, 212992, 0};
    static const int64_t d[] = {0, 0, 0, 0};
    static const uint32_t fl[] = {1, 1, 1, 1};
    msg_t m = s_batch(7, 1, T0, 4, 1, unknown, v, d, fl);
    assert_int_equal(s_store(f, &m, NULL), STORE_NEED_DEFS);
    char err[256];
    size_t n;
    m = s_batch(8, 1, T0, 4, 4, ids, v, d, fl);
    m.host = "h2";
    assert_int_equal(store_begin(f->st, err, sizeof err), 0);
    assert_int_equal(intake_store(f->st, &m, T0, &n, err, sizeof err), STORE_OK);
    store_rollback(f->st);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM series_names"), 0);
    /* Another name first, so that a stale id would now name it. */
    static const series_def_t other = {1, "snmp", "", "Udp.InErrors", KIND_COUNTER, LAYER_PROTO,
                                       true, ""};
    m = s_batch(9, 1, T0, 1, 1, ids, v, d, fl);
    m.host = "h3";
    m.batch.defs = &other;
    assert_int_equal(s_store(f, &m, NULL), STORE_OK);
    m = s_batch(7, 2, T0, 4, 4, ids, v, d, fl);
    assert_int_equal(s_store(f, &m, NULL), STORE_OK);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM series_names"), 5);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM host_series"), 5);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM series"), 5);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM series s JOIN hosts h ON h.id = s.host_id "
                                 "WHERE h.name = 'h1' AND s.name = 'Udp.RcvbufErrors' AND "
                                 "s.layer = 'socket'"), 1);
}

/* Migration 014 moves the names of a database's series into series_names
 * and keeps every series' id and columns, as the view shows them. */
static void test_names_migrated(void **state)
{
    SQLITE_ONLY();
    (void)state;
    char dir[] = "/tmp/test_store_014.XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/db.sqlite", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (unsigned i = 0; i < schema_files_count && atoi(schema_files[i].name) <= 13; i++)
        assert_int_equal(sqlite3_exec(db, schema_files[i].data, NULL, NULL, NULL), SQLITE_OK);
    static const char old[] =
        "PRAGMA user_version = 13;"
        "INSERT INTO hosts (id, name, first_seen_ns, last_seen_ns) VALUES (1, 'a', 0, 0), "
        "(2, 'b', 0, 0);"
        "INSERT INTO series (id, host_id, source, device, name, kind, layer, overlap, owner) "
        "VALUES (10, 1, 'snmp', '', 'Udp.RcvbufErrors', 'counter', 'socket', 0, ''), "
        "(11, 1, 'sock', 'udp:0.0.0.0:9999', 'drops', 'counter', 'socket', 1, 'app[7]'), "
        "(20, 2, 'snmp', '', 'Udp.RcvbufErrors', 'counter', 'socket', 0, ''), "
        "(25, 2, 'sysctl', '', 'net.core.rmem_max', 'setting', 'config', 0, '');";
    assert_int_equal(sqlite3_exec(db, old, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[256];
    store_t *st = store_open(path, true, err, sizeof err);
    assert_non_null(st);
    store_close(&st);
    assert_int_equal(testlib_sql_scalar(path, "PRAGMA user_version"), schema_files_count);
    assert_int_equal(testlib_sql_scalar(path, "SELECT count(*) FROM series_names"), 3);
    assert_int_equal(testlib_sql_scalar(path, "SELECT count(*) FROM series"), 4);
    assert_int_equal(testlib_sql_scalar(
        path, "SELECT count(*) FROM series WHERE (id, host_id, source, device, name, kind, layer, "
              "overlap, owner) IN (VALUES (10, 1, 'snmp', '', 'Udp.RcvbufErrors', 'counter', "
              "'socket', 0, ''), (11, 1, 'sock', 'udp:0.0.0.0:9999', 'drops', 'counter', "
              "'socket', 1, 'app[7]'), (20, 2, 'snmp', '', 'Udp.RcvbufErrors', 'counter', "
              "'socket', 0, ''), (25, 2, 'sysctl', '', 'net.core.rmem_max', 'setting', "
              "'config', 0, ''))"), 4);
    testlib_sh("rm -rf %s", dir);
}

/* A run stored before migration 007 has its map in series_ids rows. */
static void test_ids_from_before_007(void **state)
{
    SQLITE_ONLY();
    fixture_t *f = *state;
    s_two_batches(f);
    store_close(&f->st);
    testlib_sh("sqlite3 %s \"INSERT INTO series_ids SELECT h.id, 7, s.id, s.id FROM hosts h, "
               "series s WHERE s.host_id = h.id; DELETE FROM incarnation_ids\"", f->path);
    char err[256];
    assert_non_null(f->st = store_open(f->path, true, err, sizeof err));
    static const uint32_t ids[] = {1, 2};
    static const uint64_t v[] = {130, 6000};
    static const int64_t d[] = {15, 900};
    static const uint32_t fl[] = {0, 0};
    msg_t m = s_batch(7, 4, T0 + 2 * SEC, 0, 2, ids, v, d, fl);
    assert_int_equal(s_store(f, &m, NULL), STORE_OK);
    assert_int_equal(s_scalar(f, "SELECT sum(delta) FROM drops WHERE layer = 'socket'"), 30 + 15);
}

typedef struct {
    int n;
    drop_row_t rows[16];
    char text[16][3][64];
} rows_t;

static int s_collect(void *ctx, const drop_row_t *row)
{
    rows_t *r = ctx;
    if (r->n == 16)
        return 1;
    r->rows[r->n] = *row;
    snprintf(r->text[r->n][0], 64, "%s", row->host);
    snprintf(r->text[r->n][1], 64, "%s", row->series);
    snprintf(r->text[r->n][2], 64, "%s", row->layer);
    r->n++;
    return 0;
}

static int s_count_hosts(void *ctx, const host_row_t *row)
{
    assert_string_equal(row->name, "h1");
    assert_string_equal(row->boot_id, "boot-1");
    assert_int_equal(row->nseries, 4);
    assert_int_equal(row->last_seq, 3);
    assert_string_equal(row->aggregator, "agg-1"); /* the writer's store_set_name */
    (*(int *)ctx)++;
    return 0;
}

/* The varint packing against the fixed one on the extremes: every field
 * at 0 and at its limits, series ids going down as well as up; a record
 * cut short ends the reading. */
static void test_sample_packing(void **state)
{
    (void)state;
    const store_sample_t in[] = {
        {1, 0, 0, 0},
        {UINT32_MAX, UINT32_MAX, UINT64_MAX, INT64_MAX},
        {2, 1, 1, INT64_MIN},
        {2, 3, 127, -1},
        {0, 0, 128, 64},
    };
    size_t n = sizeof in / sizeof in[0];
    unsigned char packed[5 * STORE_SAMPLE_MAX], fixed[5 * 24];
    unsigned char *end = packed;
    uint32_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        end = store_pack(end, &prev, &in[i]);
        bytes_put_le(fixed + 24 * i, in[i].series_id, 4);
        bytes_put_le(fixed + 24 * i + 4, in[i].flags, 4);
        bytes_put_le(fixed + 24 * i + 8, in[i].value, 8);
        bytes_put_le(fixed + 24 * i + 16, (uint64_t)in[i].delta, 8);
    }
    /* {1,0,0,0} is 4 bytes; the limits take 5 + 5 + 10 + 10. */
    assert_int_equal(packed[0], 2);
    assert_true(end - packed <= (long)(n * STORE_SAMPLE_MAX));
    for (int packing = STORE_PACK_FIXED; packing <= STORE_PACK_VARINT; packing++) {
        store_unpack_t u = packing == STORE_PACK_VARINT
                               ? store_unpack(packed, (size_t)(end - packed), packing)
                               : store_unpack(fixed, sizeof fixed, packing);
        store_sample_t out;
        for (size_t i = 0; i < n; i++) {
            assert_true(store_unpack_next(&u, &out));
            assert_int_equal(out.series_id, in[i].series_id);
            assert_int_equal(out.flags, in[i].flags);
            assert_true(out.value == in[i].value);
            assert_true(out.delta == in[i].delta);
        }
        assert_false(store_unpack_next(&u, &out));
    }
    /* Cut inside the second record: the first reads, then nothing. */
    store_unpack_t u = store_unpack(packed, 7, STORE_PACK_VARINT);
    store_sample_t out;
    assert_true(store_unpack_next(&u, &out));
    assert_false(store_unpack_next(&u, &out));
    assert_false(store_unpack_next(&u, &out));
    u = store_unpack(fixed, 30, STORE_PACK_FIXED);
    assert_true(store_unpack_next(&u, &out));
    assert_false(store_unpack_next(&u, &out));
}

typedef struct {
    int n;
    uint64_t value[8];
    int64_t delta[8];
} samples_t;

static int s_value_delta(void *ctx, const series_row_t *row)
{
    samples_t *c = ctx;
    if (c->n < 8) {
        c->value[c->n] = row->value;
        c->delta[c->n++] = row->delta;
    }
    return 0;
}

/* Batches stored before 012 (24-byte records, packing 0) read as before,
 * next to new ones. */
static void test_fixed_packing_still_read(void **state)
{
    SQLITE_ONLY();
    fixture_t *f = *state;
    s_two_batches(f);
    /* Series 2 (rx_packets) at 5300 (+200), as a database from before 012 holds it. */
    testlib_sh("sqlite3 %s \"INSERT INTO batches (host_id, incarnation, seq, ts_ns, prev_ts_ns, "
               "received_ns, nsamples, samples, packing) VALUES (1, 7, 4, %lld, %lld, 0, 1, "
               "X'0200000000000000B414000000000000C800000000000000', 0)\"",
               f->path, (long long)(T0 + 2 * SEC), (long long)(T0 + SEC));
    series_query_t q = {.host = "h1", .source = "netdev", .device = "eth0", .name = "rx_packets",
                        .from_ns = T0 - 1, .to_ns = T0 + 2 * SEC};
    char err[256];
    samples_t c = {0};
    assert_int_equal(store_series(f->st, &q, s_value_delta, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 3);
    assert_true(c.value[0] == 5000 && c.value[1] == 5100 && c.value[2] == 5300);
    assert_true(c.delta[1] == 100 && c.delta[2] == 200);
}

static int s_sample_times(void *ctx, const series_row_t *row)
{
    int64_t *t = ctx;
    t[++t[0]] = row->ts_ns;
    return 0;
}

/* A host's raw samples are found a second at a time (batches_at): ranges
 * that end inside a second, that span empty seconds, and that reach far
 * past the stored data (the walk stops at the stored seconds: from 0 it
 * would otherwise take 1.8e9 seeks). */
static void test_series_ranges(void **state)
{
    fixture_t *f = *state;
    static const uint32_t ids[] = {2};
    static const uint64_t v[] = {1000};
    static const int64_t d[] = {10};
    static const uint32_t fl[] = {0};
    const int64_t ts[] = {T0 + SEC / 2, T0 + 2 * SEC - 1, T0 + 5 * SEC, T0 + 9 * SEC};
    for (int i = 0; i < 4; i++) {
        msg_t m = s_batch(7, (uint64_t)i + 2, ts[i], i ? 0 : 4, 1, ids, v, d, fl);
        assert_int_equal(s_store(f, &m, NULL), STORE_OK);
    }
    /* Another host's batches in the same seconds are not its. */
    msg_t other = s_batch(8, 2, T0 + SEC / 2 + 1, 4, 1, ids, v, d, fl);
    other.host = "h2";
    assert_int_equal(s_store(f, &other, NULL), STORE_OK);
    const struct {
        int64_t from, to;
        int n, first;
    } cases[] = {
        {T0, T0 + 2 * SEC, 2, 0},              /* (from, to]: both of the first two seconds */
        {T0 + SEC / 2, T0 + 5 * SEC, 2, 1},    /* from is exclusive, to inclusive */
        {T0 + 2 * SEC - 1, T0 + 5 * SEC - 1, 0, 0}, /* empty seconds between */
        {0, INT64_MAX, 4, 0},                  /* everything, quickly */
        {T0 + 9 * SEC, INT64_MAX, 0, 0},
    };
    char err[256];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t got[8] = {0};
        series_query_t q = {.host = "h1", .source = "netdev", .device = "eth0",
                            .name = "rx_packets", .from_ns = cases[c].from, .to_ns = cases[c].to};
        int64_t t0 = ts_mono_ns();
        assert_int_equal(store_series(f->st, &q, s_sample_times, got, err, sizeof err), 0);
        assert_true(ts_mono_ns() - t0 < SEC);
        assert_int_equal(got[0], cases[c].n);
        for (int i = 0; i < cases[c].n; i++)
            assert_int_equal(got[1 + i], ts[cases[c].first + i]);
    }
}

static void test_queries(void **state)
{
    fixture_t *f = *state;
    store_set_name(f->st, "agg-1");
    s_two_batches(f);
    char err[256];
    rows_t r = {0};
    drops_query_t q = {.host = "h1", .layer = LAYER_SOCKET, .from_ns = T0, .to_ns = T0 + SEC};
    assert_int_equal(store_drops(f->st, &q, s_collect, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.text[0][1], "snmp//Udp.RcvbufErrors");
    assert_string_equal(r.text[0][2], "socket");
    assert_int_equal(r.rows[0].delta, 15);
    assert_int_equal(r.rows[0].ts_ns, T0 + SEC);
    assert_false(r.rows[0].overlap);
    assert_string_equal(r.text[1][1], "sock/udp:0.0.0.0:9999/drops");
    assert_true(r.rows[1].overlap);
    /* The range is (from, to]: a range ending before the delta is empty. */
    r.n = 0;
    q.to_ns = T0 + SEC - 1;
    assert_int_equal(store_drops(f->st, &q, s_collect, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 0);
    /* Another layer, another host: nothing. */
    q = (drops_query_t){.layer = LAYER_NIC, .from_ns = 0, .to_ns = T0 * 2};
    assert_int_equal(store_drops(f->st, &q, s_collect, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 0);
    q = (drops_query_t){.host = "nobody", .from_ns = 0, .to_ns = T0 * 2};
    assert_int_equal(store_drops(f->st, &q, s_collect, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 0);
    assert_false(store_host_known(f->st, "nobody"));
    assert_true(store_host_known(f->st, "h1"));
    /* Buckets of a minute sum per series; limit caps rows. */
    q = (drops_query_t){.from_ns = 0, .to_ns = T0 * 2, .step_ns = 60 * SEC, .limit = 1};
    assert_int_equal(store_drops(f->st, &q, s_collect, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.rows[0].ts_ns % (60 * SEC), 0);
    assert_int_equal(r.rows[0].delta, 15);
    int hosts = 0;
    assert_int_equal(store_flush_hosts(f->st, err, sizeof err), 0);
    assert_int_equal(store_hosts(f->st, s_count_hosts, &hosts, err, sizeof err), 0);
    assert_int_equal(hosts, 1);
    int64_t totals[LAYER_COUNT];
    assert_int_equal(store_drop_totals(f->st, NULL, totals, err, sizeof err), 0);
    assert_int_equal(totals[LAYER_SOCKET], 15); /* the overlapping sock series left out */
    assert_int_equal(totals[LAYER_NIC], 0);
}

static void test_reader_sees_writer(void **state)
{
    fixture_t *f = *state;
    s_two_batches(f);
    char err[256];
    store_t *reader = store_open(f->path, false, err, sizeof err);
    assert_non_null(reader);
    assert_true(store_host_known(reader, "h1"));
    store_close(&reader);
    assert_null(store_open("/nonexistent-dir/x.db", true, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/x.db"));
}

typedef struct {
    int n;
    char what[8][96]; /* "host layer" or "source/device/name" */
    int64_t drops[8];
} sums_t;

static int s_top_row(void *ctx, const char *host, const char *layer, int64_t drops)
{
    sums_t *c = ctx;
    if (c->n < 8) {
        snprintf(c->what[c->n], sizeof c->what[0], "%s %s", host, layer);
        c->drops[c->n++] = drops;
    }
    return 0;
}

static int s_sum_row(void *ctx, const drop_sum_t *row)
{
    sums_t *c = ctx;
    if (c->n < 8) {
        snprintf(c->what[c->n], sizeof c->what[0], "%s/%s/%s", row->source, row->device,
                 row->name);
        c->drops[c->n++] = row->drops;
    }
    return 0;
}

/* A sum of deltas beyond int64 (rows stored before ingest bounded a delta
 * to 2^48, or very many rows) saturates at INT64_MAX: SQLite's sum()
 * failed with "integer overflow" instead, and with it every /healthz,
 * /metrics, /api/top and diagnose until the rows expired. Sums of an
 * ordinary size stay exact. */
static void test_sums_saturate(void **state)
{
    SQLITE_ONLY();
    fixture_t *f = *state;
    s_two_batches(f); /* the socket counter's 15 drops at T0 + 1 s */
    /* Four deltas of 2^62 more on it, T0 + 2..5 s; on the NIC layer (any
     * series will do) 2^48 - 1 and 2^48 + 3, whose sum needs more than
     * 49 bits but is still exact. */
    testlib_sh("sqlite3 %s \"INSERT INTO drops (host_id, layer, ts_ns, series_id, prev_ts_ns, "
               "delta, overlap) SELECT 1, 'socket', %lld + k * %lld, 1, 0, 4611686018427387904, "
               "0 FROM (SELECT 2 AS k UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5); "
               "INSERT INTO drops (host_id, layer, ts_ns, series_id, prev_ts_ns, delta, overlap) "
               "VALUES (1, 'nic', %lld, 2, 0, 281474976710655, 0), "
               "(1, 'nic', %lld, 2, 0, 281474976710659, 0)\"",
               f->path, (long long)T0, (long long)SEC, (long long)(T0 + 2 * SEC),
               (long long)(T0 + 3 * SEC));
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM drops"), 8);
    const int64_t nic = INT64_C(562949953421314); /* 2^49 + 2 */
    char err[256] = "";
    int64_t totals[LAYER_COUNT];
    if (store_drop_totals(f->st, NULL, totals, err, sizeof err) != 0)
        fail_msg("store_drop_totals: %s", err);
    assert_true(totals[LAYER_SOCKET] == INT64_MAX);
    assert_true(totals[LAYER_NIC] == nic);
    sums_t top = {0};
    if (store_top_droppers(f->st, 0, INT64_MAX, 10, s_top_row, &top, err, sizeof err) != 0)
        fail_msg("store_top_droppers: %s", err);
    assert_int_equal(top.n, 2);
    assert_string_equal(top.what[0], "h1 socket");
    assert_true(top.drops[0] == INT64_MAX);
    assert_string_equal(top.what[1], "h1 nic");
    assert_true(top.drops[1] == nic);
    /* One minute holds them all (T0 is 30 s into its minute). */
    rows_t r = {0};
    drops_query_t q = {.host = "h1", .layer = LAYER_SOCKET, .from_ns = 0, .to_ns = INT64_MAX,
                       .step_ns = 60 * SEC};
    if (store_drops(f->st, &q, s_collect, &r, err, sizeof err) != 0)
        fail_msg("store_drops: %s", err);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.text[0][1], "snmp//Udp.RcvbufErrors");
    assert_true(r.rows[0].delta == INT64_MAX);
    assert_string_equal(r.text[1][1], "sock/udp:0.0.0.0:9999/drops");
    assert_int_equal(r.rows[1].delta, 15);
    r.n = 0;
    q.layer = LAYER_NIC;
    assert_int_equal(store_drops(f->st, &q, s_collect, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 1);
    assert_true(r.rows[0].delta == nic);
    sums_t sums = {0};
    if (store_drop_sums(f->st, "h1", 0, INT64_MAX, s_sum_row, &sums, err, sizeof err) != 0)
        fail_msg("store_drop_sums: %s", err);
    assert_int_equal(sums.n, 3); /* by layer, then most first */
    assert_string_equal(sums.what[0], "netdev/eth0/rx_packets");
    assert_true(sums.drops[0] == nic);
    assert_string_equal(sums.what[1], "snmp//Udp.RcvbufErrors");
    assert_true(sums.drops[1] == INT64_MAX);
    assert_string_equal(sums.what[2], "sock/udp:0.0.0.0:9999/drops");
    assert_int_equal(sums.drops[2], 15);
}

/* Equal sums come in the order of names, whichever was stored first:
 * counters of one layer (the diagnosis lists them in this order) and the
 * top droppers (the cut at limit). The two stores must give the same
 * answers; they did not: SQLite kept the order of definition. */
static void test_sums_tie_by_name(void **state)
{
    fixture_t *f = *state;
    static const series_def_t defs[] = {
        {1, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER, LAYER_SOCKET, false, ""},
        {2, "netstat", "", "TcpExt.TCPRcvQDrop", KIND_COUNTER, LAYER_SOCKET, true, ""},
    };
    static const uint32_t ids[] = {1, 2}, f1[] = {1, 1}, f2[] = {0, 0};
    static const uint64_t v1[] = {10, 10}, v2[] = {17, 17};
    static const int64_t d1[] = {0, 0}, d2[] = {7, 7};
    static const char *const hosts[] = {"h2", "h1"};
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 2; i++) {
            msg_t m = s_batch(7, 2 + i, T0 + i * SEC, i ? 0 : 2, 2, ids, i ? v2 : v1,
                              i ? d2 : d1, i ? f2 : f1);
            m.host = hosts[h];
            m.batch.defs = defs;
            assert_int_equal(s_store(f, &m, NULL), STORE_OK);
        }
    char err[256] = "";
    sums_t sums = {0};
    if (store_drop_sums(f->st, "h1", 0, INT64_MAX, s_sum_row, &sums, err, sizeof err) != 0)
        fail_msg("store_drop_sums: %s", err);
    assert_int_equal(sums.n, 2);
    assert_string_equal(sums.what[0], "netstat//TcpExt.TCPRcvQDrop");
    assert_string_equal(sums.what[1], "snmp//Udp.RcvbufErrors");
    assert_int_equal(sums.drops[0], 7);
    assert_int_equal(sums.drops[1], 7);
    sums_t top = {0};
    if (store_top_droppers(f->st, 0, INT64_MAX, 1, s_top_row, &top, err, sizeof err) != 0)
        fail_msg("store_top_droppers: %s", err);
    assert_int_equal(top.n, 1);
    assert_string_equal(top.what[0], "h1 socket");
    assert_int_equal(top.drops[0], 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrated, s_setup_sqlite, s_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_not_pinned, s_setup_sqlite, s_teardown),
        cmocka_unit_test_setup_teardown(test_hello_and_batches, s_setup_sqlite, s_teardown),
        cmocka_unit_test_setup_teardown(test_resend_is_idempotent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refusals_leave_no_trace, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rows_never_overwritten, s_setup_sqlite, s_teardown),
        cmocka_unit_test_setup_teardown(test_gaps_stored, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ids_survive_reopen_not_rollback, s_setup_sqlite, s_teardown),
        cmocka_unit_test_setup_teardown(test_ids_from_before_007, s_setup_sqlite, s_teardown),
        cmocka_unit_test_setup_teardown(test_names_shared, s_setup_sqlite, s_teardown),
        cmocka_unit_test_setup_teardown(test_names_rolled_back, s_setup_sqlite, s_teardown),
        cmocka_unit_test(test_names_migrated),
        cmocka_unit_test_setup_teardown(test_queries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_series_ranges, s_setup, s_teardown),
        cmocka_unit_test(test_sample_packing),
        cmocka_unit_test_setup_teardown(test_fixed_packing_still_read, s_setup_sqlite, s_teardown),
        cmocka_unit_test_setup_teardown(test_reader_sees_writer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sums_saturate, s_setup_sqlite, s_teardown),
        cmocka_unit_test_setup_teardown(test_sums_tie_by_name, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
