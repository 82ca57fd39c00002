/* Tests aggregator/store_retention on a real SQLite file: hours of batches
 * from two hosts rolled up by minute and by hour (their delta sums equal the
 * raw ones, against a naive sum of what was stored), raw batches gone after
 * the raw retention while the rollups still answer the same totals, a late
 * batch merged into minutes and hours already rolled up, minutes rolled up
 * as they are stored (and the ones a restart or a failed group cut in two
 * left to the upkeep), and a file that stops growing once old data is
 * deleted as fast as new comes. Raw history packed into blocks per host and
 * ten minutes (store_raw.c): reads the same as the batches stored, a resend
 * of a packed batch a duplicate, a late batch packed into its block, the
 * blocks expired, and a database of unpacked batches packed a bounded step
 * at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "intake.h"
#include "store.h"
#include "store_internal.h" /* store_retention_step, to stop a step before its commit */
#include "testlib.h"
#include "ts.h"

#define SEC INT64_C(1000000000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define T0 (INT64_C(1795359600) * SEC) /* a whole hour */
#define STEP (10 * SEC)                 /* batch interval */

typedef struct {
    char dir[64], path[128];
    store_t *st;
    uint64_t seq[2], value[2];
    const gap_msg_t *gap; /* a probe gap the next batch carries, or NULL */
} fixture_t;

static const char *const s_hosts[2] = {"a", "b"};
static const series_def_t s_defs[] = {
    {1, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER, LAYER_SOCKET, false, ""},
    {2, "netdev", "eth0", "rx_packets", KIND_COUNTER, LAYER_TRAFFIC, false, ""},
};

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->st = testlib_store_new("retention", f->dir, f->path);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    testlib_store_destroy(&f->st, f->dir);
    free(f);
    return 0;
}

/* Stores host h's batch at ts with `drops` new drops and 100 packets, in
 * a transaction of its own: committed, or when !keep rolled back (the
 * batch was never stored, as when a group fails). */
static void s_batch_kept(fixture_t *f, int h, int64_t ts, int64_t drops, bool keep)
{
    uint64_t value = f->value[h], seq = f->seq[h];
    static const uint32_t ids[] = {1, 2};
    uint64_t values[2] = {f->value[h] += (uint64_t)drops, 100 * f->seq[h]};
    int64_t deltas[2] = {drops, 100};
    uint32_t flags[2] = {0, 0};
    bool first = f->seq[h] == 0;
    msg_t m = {.host = s_hosts[h], .boot_id = "boot", .incarnation = 1, .seq = ++f->seq[h],
               .sent_ns = ts, .type = MSG_TYPE_BATCH,
               .batch = {ts, ts - STEP, false, first ? 2 : 0, s_defs, 2, ids, values, deltas, flags,
                         0, NULL, 0, 0, {0}, 0, 0, f->gap ? 1 : 0, f->gap}};
    char err[256];
    size_t n;
    assert_int_equal(store_begin(f->st, err, sizeof err), 0);
    assert_int_equal(intake_store(f->st, &m, ts, &n, err, sizeof err), STORE_OK);
    if (keep) {
        assert_int_equal(store_commit(f->st, err, sizeof err), 0);
        return;
    }
    store_rollback(f->st);
    f->value[h] = value;
    f->seq[h] = seq;
}

static void s_batch(fixture_t *f, int h, int64_t ts, int64_t drops)
{
    s_batch_kept(f, h, ts, drops, true);
}

/* Runs the upkeep at `now` until it has nothing left to do. */
static void s_upkeep(fixture_t *f, const store_retention_t *r, int64_t now)
{
    char err[256];
    long n;
    int rounds = 0;
    while ((n = store_upkeep(f->st, r, now, 50 * 1000000, err, sizeof err)) > 0)
        assert_true(++rounds < 100000);
    assert_int_equal(n, 0);
}

typedef struct {
    int64_t sum;
    int rows;
} sum_t;

static int s_add(void *ctx, const series_row_t *row)
{
    sum_t *s = ctx;
    s->sum += row->delta;
    s->rows++;
    return 0;
}

/* Host h's Udp.RcvbufErrors deltas in [from, to), raw (step 0) or rolled up. */
static sum_t s_sum(fixture_t *f, int h, int64_t step_s, int64_t from, int64_t to)
{
    sum_t s = {0, 0};
    series_query_t q = {s_hosts[h], "snmp", "", "Udp.RcvbufErrors", step_s ? from : from - 1,
                        step_s ? to : to - 1, 0, step_s};
    char err[256];
    assert_int_equal(store_series(f->st, &q, s_add, &s, err, sizeof err), 0);
    return s;
}

static void test_rollups_and_expiry(void **state)
{
    fixture_t *f = *state;
    /* Three hours of batches every 10 s from two hosts; drops now and then. */
    int64_t want[2][3] = {{0}}; /* per host and hour */
    srand(3);
    const gap_msg_t gap = {"239.1.1.1", 5000, T0 + HOUR, T0 + HOUR + SEC, 5, 10, 14};
    for (int64_t ts = T0; ts < T0 + 3 * HOUR; ts += STEP)
        for (int h = 0; h < 2; h++) {
            int64_t drops = rand() % 7 == 0 ? rand() % 50 : 0;
            want[h][(ts - T0) / HOUR] += drops;
            f->gap = ts == T0 + HOUR + STEP ? &gap : NULL; /* probe gaps expire with bursts */
            s_batch(f, h, ts, drops);
        }
    f->gap = NULL;
    for (int h = 0; h < 2; h++)
        assert_int_equal(s_sum(f, h, 0, T0, T0 + HOUR).sum, want[h][0]); /* the naive view */
    /* An hour after the data: raw kept for 1 h, rollups for a day. */
    store_retention_t r = {HOUR, 24 * HOUR, 2 * MIN};
    int64_t now = T0 + 4 * HOUR;
    s_upkeep(f, &r, now);
    for (int h = 0; h < 2; h++) {
        for (int k = 0; k < 3; k++) {
            int64_t from = T0 + k * HOUR, to = from + HOUR;
            sum_t minutes = s_sum(f, h, 60, from, to), hour = s_sum(f, h, 3600, from, to);
            assert_int_equal(minutes.sum, want[h][k]);
            assert_int_equal(minutes.rows, 60);
            assert_int_equal(hour.sum, want[h][k]);
            assert_int_equal(hour.rows, 1);
        }
        /* The raw batches older than an hour are gone. */
        assert_int_equal(s_sum(f, h, 0, T0, T0 + 3 * HOUR).rows, 0);
    }
    assert_int_equal(testlib_sql_scalar(f->path, "SELECT count(*) FROM batches"), 0);
    assert_int_equal(testlib_sql_scalar(f->path, "SELECT count(*) FROM gaps"), 2);
    /* A batch of host a comes late for the first hour (a spool resent). */
    sum_t before = s_sum(f, 0, 60, T0 + 30 * MIN, T0 + 31 * MIN);
    s_batch(f, 0, T0 + 30 * MIN + 5 * SEC, 1000);
    s_upkeep(f, &r, now);
    sum_t after = s_sum(f, 0, 60, T0 + 30 * MIN, T0 + 31 * MIN);
    assert_int_equal(after.rows, 1);
    assert_int_equal(after.sum, before.sum + 1000);
    assert_int_equal(s_sum(f, 0, 3600, T0, T0 + HOUR).sum, want[0][0] + 1000);
    assert_int_equal(s_sum(f, 0, 60, T0, T0 + HOUR).sum, want[0][0] + 1000);
    assert_int_equal(s_sum(f, 1, 3600, T0, T0 + HOUR).sum, want[1][0]); /* b untouched */
    /* A day and more later the rollups are gone too. */
    s_upkeep(f, &r, T0 + 30 * HOUR);
    assert_int_equal(testlib_sql_scalar(f->path, "SELECT count(*) FROM rollups"), 0);
    assert_int_equal(testlib_sql_scalar(f->path, "SELECT count(*) FROM drops"), 0);
    assert_int_equal(testlib_sql_scalar(f->path, "SELECT count(*) FROM gaps"), 0);
}

/* A rollup in progress: hosts already done in the current minute get a
 * batch for it merged late, the others are rolled up with theirs. */
static void test_batch_during_a_rollup(void **state)
{
    fixture_t *f = *state;
    for (int64_t ts = T0; ts < T0 + 2 * MIN; ts += STEP)
        for (int h = 0; h < 2; h++)
            s_batch(f, h, ts, 1);
    store_retention_t r = {HOUR, 24 * HOUR, 0};
    s_upkeep(f, &r, T0 + 2 * MIN);
    /* Both minutes rolled up: 6 drops each per host. */
    assert_int_equal(s_sum(f, 0, 60, T0, T0 + 2 * MIN).sum, 12);
    s_batch(f, 1, T0 + MIN + 55 * SEC, 7); /* behind the rollups */
    s_upkeep(f, &r, T0 + 2 * MIN);
    assert_int_equal(s_sum(f, 1, 60, T0 + MIN, T0 + 2 * MIN).sum, 6 + 7);
    assert_int_equal(s_sum(f, 1, 0, T0, T0 + 2 * MIN).sum, 12 + 7); /* raw kept (an hour) */
}

/* Rows of host h's minute rollups in [from, to) before any upkeep ran. */
static int64_t s_minute_rows(fixture_t *f, int h, int64_t from, int64_t to)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM rollups r JOIN hosts h ON h.id = r.host_id "
             "WHERE h.name = '%s' AND step_s = 60 AND ts_ns >= %lld AND ts_ns < %lld",
             s_hosts[h], (long long)from, (long long)to);
    return testlib_sql_scalar(f->path, sql);
}

/* Minutes are rolled up as they are stored: written when the next minute
 * begins, exact against the raw sum; a late batch for one is merged; a
 * minute that a restart or a rolled-back group cut in two is left to the
 * upkeep, which reads it back from the batches. */
static void test_minutes_at_ingest(void **state)
{
    fixture_t *f = *state;
    int64_t want[2][6] = {{0}};
    srand(5);
    for (int64_t ts = T0; ts < T0 + 3 * MIN; ts += STEP)
        for (int h = 0; h < 2; h++) {
            int64_t drops = rand() % 40;
            want[h][(ts - T0) / MIN] += drops;
            s_batch(f, h, ts, drops);
        }
    for (int h = 0; h < 2; h++) {
        /* Minutes 0 and 1 are written, the open minute 2 is not yet. */
        assert_int_equal(s_minute_rows(f, h, T0, T0 + 2 * MIN), 2);
        assert_int_equal(s_minute_rows(f, h, T0 + 2 * MIN, T0 + 3 * MIN), 0);
        for (int k = 0; k < 2; k++)
            assert_int_equal(s_sum(f, h, 60, T0 + k * MIN, T0 + (k + 1) * MIN).sum, want[h][k]);
    }
    /* Host a: a late batch for minute 0, already written. */
    s_batch(f, 0, T0 + 25 * SEC, 500);
    want[0][0] += 500;
    /* The aggregator restarts in the middle of minute 3. */
    for (int64_t ts = T0 + 3 * MIN; ts < T0 + 3 * MIN + 30 * SEC; ts += STEP)
        for (int h = 0; h < 2; h++) {
            want[h][3] += 2;
            s_batch(f, h, ts, 2);
        }
    store_close(&f->st);
    char err[256];
    assert_non_null(f->st = store_open(f->path, true, err, sizeof err));
    for (int64_t ts = T0 + 3 * MIN + 30 * SEC; ts < T0 + 5 * MIN; ts += STEP)
        for (int h = 0; h < 2; h++) {
            want[h][(ts - T0) / MIN] += 3;
            s_batch(f, h, ts, 3);
        }
    /* A group with host b's batch of minute 5 fails: the batch is not
     * stored, and the folded minute that held it is not written. */
    for (int64_t ts = T0 + 5 * MIN; ts < T0 + 5 * MIN + 30 * SEC; ts += STEP)
        for (int h = 0; h < 2; h++) {
            want[h][5] += 4;
            s_batch(f, h, ts, 4);
        }
    s_batch_kept(f, 1, T0 + 5 * MIN + 30 * SEC, 900, false);
    for (int64_t ts = T0 + 5 * MIN + 30 * SEC; ts < T0 + 7 * MIN; ts += STEP)
        for (int h = 0; h < 2; h++) {
            if (ts < T0 + 6 * MIN)
                want[h][5] += 1;
            s_batch(f, h, ts, ts < T0 + 6 * MIN);
        }
    /* Minute 3 (cut by the restart) and 5 (by the failure) wait for the
     * upkeep; minute 4 was written as it was stored. */
    for (int h = 0; h < 2; h++) {
        assert_int_equal(s_minute_rows(f, h, T0 + 3 * MIN, T0 + 4 * MIN), 0);
        assert_int_equal(s_minute_rows(f, h, T0 + 4 * MIN, T0 + 5 * MIN), 1);
        assert_int_equal(s_minute_rows(f, h, T0 + 5 * MIN, T0 + 6 * MIN), 0);
    }
    store_retention_t r = {HOUR, 24 * HOUR, MIN};
    s_upkeep(f, &r, T0 + 8 * MIN);
    for (int h = 0; h < 2; h++)
        for (int k = 0; k < 6; k++) {
            sum_t m = s_sum(f, h, 60, T0 + k * MIN, T0 + (k + 1) * MIN);
            assert_int_equal(m.rows, 1);
            assert_int_equal(m.sum, want[h][k]);
            assert_int_equal(m.sum, s_sum(f, h, 0, T0 + k * MIN, T0 + (k + 1) * MIN).sum);
        }
}

/* A host idle long enough leaves the writer's cache, with the minute it
 * was folding: when it comes back within that minute, the fold must not
 * write the minute from its later batches alone; the upkeep rolls it up
 * from every batch. */
static void test_evicted_host_minute(void **state)
{
    fixture_t *f = *state;
    s_batch(f, 0, T0, 3);
    s_batch(f, 0, T0 + 10 * SEC, 4);
    char err[256];
    assert_int_equal(store_evict_idle(f->st, ts_mono_ns() + 1, 0), 1); /* its row waits */
    assert_int_equal(store_flush_hosts(f->st, err, sizeof err), 0);
    assert_int_equal(store_evict_idle(f->st, ts_mono_ns() + 1, 0), 0); /* idle: gone */
    s_batch(f, 0, T0 + 20 * SEC, 5);
    s_batch(f, 0, T0 + MIN, 6); /* the next minute: minute 0 is done */
    assert_int_equal(s_minute_rows(f, 0, T0, T0 + MIN), 0); /* not from a part */
    store_retention_t r = STORE_RETENTION_DEFAULT;
    s_upkeep(f, &r, T0 + 10 * MIN);
    assert_int_equal(s_sum(f, 0, 60, T0, T0 + MIN).sum, 3 + 4 + 5);
    /* A host that sent something since is kept. */
    assert_int_equal(store_flush_hosts(f->st, err, sizeof err), 0);
    assert_int_equal(store_evict_idle(f->st, ts_mono_ns(), 60 * SEC), 1);
}

static long s_file_size(const fixture_t *f)
{
    struct stat st;
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    long size = stat(f->path, &st) == 0 ? (long)st.st_size : 0;
    return size + (stat(wal, &st) == 0 ? (long)st.st_size : 0);
}

static void test_file_stops_growing(void **state)
{
    fixture_t *f = *state;
    /* Keep raw data 30 min and rollups 2 h; add an hour every cycle. */
    store_retention_t r = {30 * MIN, 2 * HOUR, MIN};
    long sizes[8];
    for (int cycle = 0; cycle < 8; cycle++) {
        int64_t start = T0 + cycle * HOUR;
        for (int64_t ts = start; ts < start + HOUR; ts += STEP)
            for (int h = 0; h < 2; h++)
                s_batch(f, h, ts, 3);
        s_upkeep(f, &r, start + HOUR);
        sizes[cycle] = s_file_size(f);
    }
    print_message("file size by cycle: %ld %ld %ld %ld %ld %ld %ld %ld\n", sizes[0], sizes[1],
                  sizes[2], sizes[3], sizes[4], sizes[5], sizes[6], sizes[7]);
    /* Once old data goes as fast as new comes, freed pages are reused. */
    assert_true(sizes[7] <= sizes[4] + sizes[4] / 10);
    assert_true(testlib_sql_scalar(f->path, "SELECT count(*) FROM batches") <= 2 * (30 * 6 + 6));
}

/* --- raw history packed (store_raw.c) ------------------------------------ */

#define BLOCK (10 * MIN) /* STORE_RAW_BLOCK_NS */

/* What was stored of a host's batches: time, value and delta of each series. */
typedef struct {
    int64_t ts[2048];
    uint64_t value[2][2048];
    int64_t delta[2][2048];
    int n;
} kept_t;

/* s_batch, noting what it stored in k. */
static void s_batch_noted(fixture_t *f, kept_t *k, int h, int64_t ts, int64_t drops)
{
    s_batch(f, h, ts, drops);
    int at = k->n++;
    /* a late one goes in its place: k stays in time order */
    for (; at > 0 && k->ts[at - 1] > ts; at--) {
        k->ts[at] = k->ts[at - 1];
        for (int j = 0; j < 2; j++) {
            k->value[j][at] = k->value[j][at - 1];
            k->delta[j][at] = k->delta[j][at - 1];
        }
    }
    k->ts[at] = ts;
    k->value[0][at] = f->value[h];
    k->delta[0][at] = drops;
    k->value[1][at] = 100 * (f->seq[h] - 1);
    k->delta[1][at] = 100;
}

typedef struct {
    const kept_t *k;
    int series, next;
    int64_t from, to;
} expect_t;

static int s_expect_row(void *ctx, const series_row_t *row)
{
    expect_t *e = ctx;
    while (e->next < e->k->n && e->k->ts[e->next] <= e->from)
        e->next++;
    assert_true(e->next < e->k->n && e->k->ts[e->next] <= e->to);
    assert_int_equal(row->ts_ns, e->k->ts[e->next]);
    assert_int_equal(row->value, e->k->value[e->series][e->next]);
    assert_int_equal(row->delta, e->k->delta[e->series][e->next]);
    e->next++;
    return 0;
}

/* Host h's raw rows of both series in (from, to] are exactly k's there. */
static void s_expect_raw(fixture_t *f, const kept_t *k, int h, int64_t from, int64_t to)
{
    static const char *const names[2][3] = {{"snmp", "", "Udp.RcvbufErrors"},
                                            {"netdev", "eth0", "rx_packets"}};
    for (int j = 0; j < 2; j++) {
        expect_t e = {k, j, 0, from, to};
        series_query_t q = {s_hosts[h], names[j][0], names[j][1], names[j][2], from, to, 0, 0};
        char err[256];
        assert_int_equal(store_series(f->st, &q, s_expect_row, &e, err, sizeof err), 0);
        int want = 0;
        for (int i = 0; i < k->n; i++)
            want += k->ts[i] > from && k->ts[i] <= to;
        int got = 0;
        for (int i = 0; i < e.next; i++)
            got += k->ts[i] > from && k->ts[i] <= to;
        assert_int_equal(got, want);
    }
}

static int s_note_time(void *ctx, int64_t ts)
{
    kept_t *k = ctx;
    k->ts[k->n++] = ts;
    return 0;
}

static int64_t s_count(fixture_t *f, const char *table)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return testlib_sql_scalar(f->path, sql);
}

/* Stores a batch of `host`'s run `inc`, number seq, taken at ts, both
 * series sampled at v (defined, in the order defs gives, when seq is 1):
 * the store's answer. */
static store_rc_t s_store(fixture_t *f, const char *host, const series_def_t defs[2], uint64_t inc,
                          uint64_t seq, int64_t ts, uint64_t v)
{
    static const uint32_t ids[] = {1, 2};
    uint64_t values[2] = {v, v};
    int64_t deltas[2] = {1, 1};
    uint32_t flags[2] = {0, 0};
    msg_t m = {.host = host, .boot_id = "boot", .incarnation = inc, .seq = seq, .sent_ns = ts,
               .type = MSG_TYPE_BATCH,
               .batch = {ts, ts - STEP, false, seq == 1 ? 2 : 0, defs, 2, ids, values, deltas,
                         flags, 0, NULL, 0, 0, {0}, 0, 0, 0, NULL}};
    char err[256];
    size_t n;
    assert_int_equal(store_begin(f->st, err, sizeof err), 0);
    store_rc_t rc = intake_store(f->st, &m, ts, &n, err, sizeof err);
    assert_int_equal(store_commit(f->st, err, sizeof err), 0);
    return rc;
}

static void test_raw_packed(void **state)
{
    fixture_t *f = *state;
    static kept_t k[2];
    memset(k, 0, sizeof k);
    srand(11);
    for (int64_t ts = T0; ts < T0 + 35 * MIN; ts += STEP)
        for (int h = 0; h < 2; h++)
            s_batch_noted(f, &k[h], h, ts, rand() % 5 == 0 ? rand() % 1000 : 0);
    /* Rolled up to minute 34: blocks 0-10, 10-20 and 20-30 min are packed. */
    store_retention_t r = {HOUR, 24 * HOUR, MIN};
    s_upkeep(f, &r, T0 + 35 * MIN);
    assert_int_equal(store_rolled_until(f->st, 0), T0 + 3 * BLOCK);
    assert_int_equal(s_count(f, "raw_blocks"), 2 * 3);
    assert_int_equal(s_count(f, "batches"), 2 * 5 * 6); /* minutes 30-35 */
    for (int h = 0; h < 2; h++) {
        s_expect_raw(f, &k[h], h, T0 - 1, T0 + HOUR);
        s_expect_raw(f, &k[h], h, T0 + 5 * MIN + 3 * SEC, T0 + 32 * MIN); /* blocks and rows */
        s_expect_raw(f, &k[h], h, T0 + 10 * MIN, T0 + 10 * MIN + 30 * SEC); /* a block's start */
        kept_t times = {.n = 0};
        char err[256];
        assert_int_equal(store_batch_times(f->st, s_hosts[h], T0 - 1, T0 + HOUR, s_note_time,
                                           &times, err, sizeof err), 0);
        assert_int_equal(times.n, k[h].n);
        assert_memory_equal(times.ts, k[h].ts, sizeof *times.ts * (size_t)times.n);
    }
    /* A resend of a packed batch (host a's 7th, at T0 + 60 s) is a duplicate. */
    assert_int_equal(s_store(f, "a", s_defs, 1, 7, T0 + 6 * STEP, 0), STORE_DUPLICATE);
    assert_int_equal(s_count(f, "batches"), 2 * 5 * 6);
    /* A batch never stored comes late for a packed block: it is merged
     * into its minute and into the block, where it reads in its place. */
    sum_t minute = s_sum(f, 1, 60, T0 + 5 * MIN, T0 + 6 * MIN);
    s_batch_noted(f, &k[1], 1, T0 + 5 * MIN + 5 * SEC, 77);
    assert_int_equal(s_count(f, "batches"), 2 * 5 * 6 + 1);
    s_expect_raw(f, &k[1], 1, T0 - 1, T0 + HOUR);
    s_upkeep(f, &r, T0 + 35 * MIN);
    assert_int_equal(s_count(f, "batches"), 2 * 5 * 6);
    assert_int_equal(s_count(f, "raw_blocks"), 2 * 3);
    assert_int_equal(s_sum(f, 1, 60, T0 + 5 * MIN, T0 + 6 * MIN).sum, minute.sum + 77);
    s_expect_raw(f, &k[1], 1, T0 - 1, T0 + HOUR);
    s_expect_raw(f, &k[0], 0, T0 - 1, T0 + HOUR);
    /* Its resend is a duplicate too. */
    assert_int_equal(s_store(f, "b", s_defs, 1, f->seq[1], T0 + 5 * MIN + 5 * SEC, 0),
                     STORE_DUPLICATE);
    /* A spool's worth of late batches for one packed block: packed into it
     * together once merged (raw_late), reading right before and after. */
    for (int64_t ts = T0 + 10 * MIN + 5 * SEC; ts < T0 + 15 * MIN; ts += STEP)
        s_batch_noted(f, &k[0], 0, ts, 3);
    assert_int_equal(s_count(f, "batches"), 2 * 5 * 6 + 30);
    s_expect_raw(f, &k[0], 0, T0 - 1, T0 + HOUR);
    s_upkeep(f, &r, T0 + 35 * MIN);
    assert_int_equal(s_count(f, "batches"), 2 * 5 * 6);
    assert_int_equal(s_count(f, "raw_late"), 0);
    assert_int_equal(s_count(f, "raw_blocks"), 2 * 3);
    s_expect_raw(f, &k[0], 0, T0 - 1, T0 + HOUR);
    /* Past the raw retention the blocks go with the rows. */
    s_upkeep(f, &r, T0 + 35 * MIN + HOUR + BLOCK);
    assert_int_equal(s_count(f, "raw_blocks"), 0);
    assert_int_equal(s_count(f, "batches"), 0);
}

static int s_count_rows(void *ctx, const series_row_t *row)
{
    (void)row;
    (*(int *)ctx)++;
    return 0;
}

/* A run that took an earlier run's series with its wire ids the other way
 * round samples them in descending series id: packed all the same. */
static void test_raw_packed_any_order(void **state)
{
    fixture_t *f = *state;
    const series_def_t reversed[2] = {{1, "netdev", "eth0", "rx_packets", KIND_COUNTER,
                                       LAYER_TRAFFIC, false, ""},
                                      {2, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER,
                                       LAYER_SOCKET, false, ""}};
    uint64_t seq = 0, v = 0;
    for (int64_t ts = T0; ts < T0 + 5 * MIN; ts += STEP)
        assert_int_equal(s_store(f, "c", s_defs, 1, ++seq, ts, ++v), STORE_OK);
    seq = 0;
    for (int64_t ts = T0 + 5 * MIN; ts < T0 + 25 * MIN; ts += STEP)
        assert_int_equal(s_store(f, "c", reversed, 2, ++seq, ts, ++v), STORE_OK);
    store_retention_t r = {HOUR, 24 * HOUR, MIN};
    s_upkeep(f, &r, T0 + 25 * MIN);
    assert_int_equal(s_count(f, "raw_blocks"), 2);
    for (int j = 0; j < 2; j++) {
        series_query_t q = {"c", s_defs[j].source, s_defs[j].device, s_defs[j].name, T0 - 1,
                            T0 + HOUR, 0, 0};
        int rows = 0;
        char err[256];
        assert_int_equal(store_series(f->st, &q, s_count_rows, &rows, err, sizeof err), 0);
        assert_int_equal(rows, 25 * 6);
    }
    /* A damaged block: a read of its range says which, a late batch for
     * it stays a row, and the upkeep goes on. */
    char err[256], sql[128];
    snprintf(sql, sizeof sql, "UPDATE raw_blocks SET block = x'0102' WHERE ts_ns = %lld",
             (long long)(T0 + BLOCK));
    assert_int_equal(store_exec(f->st, sql, err, sizeof err), 0);
    assert_int_equal(s_store(f, "c", reversed, 2, ++seq, T0 + 12 * MIN + 5 * SEC, ++v),
                     STORE_OK);
    s_upkeep(f, &r, T0 + 25 * MIN);
    assert_int_equal(s_count(f, "raw_late"), 0);
    assert_int_equal(s_count(f, "batches"), 5 * 6 + 1);
    series_query_t q = {"c", "snmp", "", "Udp.RcvbufErrors", T0 + 10 * MIN, T0 + 11 * MIN, 0, 0};
    int rows = 0;
    assert_int_equal(store_series(f->st, &q, s_count_rows, &rows, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not unpack"));
    q = (series_query_t){"c", "snmp", "", "Udp.RcvbufErrors", T0 - 1, T0 + 9 * MIN, 0, 0};
    assert_int_equal(store_series(f->st, &q, s_count_rows, &rows, err, sizeof err), 0);
    assert_int_equal(rows, 9 * 6 + 1);
}

/* A database whose batches were never packed (from before 019) is packed
 * oldest first, a bounded step at a time, and reads the same throughout. */
static void test_raw_packing_in_steps(void **state)
{
    fixture_t *f = *state;
    static kept_t k[2];
    memset(k, 0, sizeof k);
    for (int64_t ts = T0; ts < T0 + 3 * HOUR; ts += STEP)
        for (int h = 0; h < 2; h++)
            s_batch_noted(f, &k[h], h, ts, (ts / SEC) % 7);
    store_retention_t r = {24 * HOUR, 48 * HOUR, MIN};
    char err[256];
    /* A step that never commits (the aggregator killed in it) leaves the
     * rows as they were, and nothing packed. */
    assert_int_equal(store_begin(f->st, err, sizeof err), 0);
    assert_true(store_retention_step(f->st, &r, T0 + 3 * HOUR + 2 * MIN, ts_mono_ns() + 50000000,
                                     err, sizeof err) > 0);
    assert_true(store_rolled_until(f->st, 0) > T0); /* packed, in the transaction */
    store_rollback(f->st);
    assert_int_equal(store_rolled_until(f->st, 0), INT64_MIN);
    assert_int_equal(s_count(f, "raw_blocks"), 0);
    assert_int_equal(s_count(f, "batches"), 2 * 3 * 360);
    int64_t last = INT64_MIN;
    int steps = 0;
    /* Half a millisecond a step: a block or two of one host each. A step
     * can do nothing at all when the rest of the upkeep took its time (a
     * slow machine, ASan): steps go on until the packing is done. */
    while (store_rolled_until(f->st, 0) < T0 + 3 * HOUR) {
        assert_true(store_upkeep(f->st, &r, T0 + 3 * HOUR + 2 * MIN, 500000, err, sizeof err) >= 0);
        int64_t packed = store_rolled_until(f->st, 0);
        assert_true(packed >= last);
        last = packed;
        if (++steps % 7 == 0)
            s_expect_raw(f, &k[steps % 2], steps % 2, T0 - 1, T0 + 4 * HOUR);
        assert_true(steps < 100000);
    }
    s_upkeep(f, &r, T0 + 3 * HOUR + 2 * MIN); /* the last hosts of the last block */
    print_message("packed 3 h of 2 hosts in %d steps of the upkeep\n", steps);
    assert_true(steps > 3);
    assert_int_equal(store_rolled_until(f->st, 0), T0 + 3 * HOUR);
    assert_int_equal(s_count(f, "raw_blocks"), 2 * 18);
    assert_int_equal(s_count(f, "batches"), 0);
    for (int h = 0; h < 2; h++)
        s_expect_raw(f, &k[h], h, T0 - 1, T0 + 4 * HOUR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollups_and_expiry, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_batch_during_a_rollup, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_evicted_host_minute, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_minutes_at_ingest, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_file_stops_growing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_raw_packed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_raw_packing_in_steps, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_raw_packed_any_order, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
