/* Tests aggregator/chstore_query against a real clickhouse-server started
 * for this test (tests/tools/clickhouse-test-server.sh; skipped when it is
 * not installed). The tables are chstore_schema.c's, made here, and the
 * rows are inserted as SQL VALUES from the tables below (the writer,
 * chstore.c, is not used): three hosts with two hosts rows each, series
 * defined in two runs with an owner change, drops in several layers with
 * an overlapping series, a reset and squeezes, bursts, gaps, settings
 * changes, three minutes of samples, batches and a hello, and many natural
 * keys inserted twice. Every query's rows, order, ranges, limits, steps
 * and sums are checked against values computed here (drops against a
 * naive reference over the same table), and the deadline's error. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "chstore_internal.h"
#include "chstore_schema.h"
#include "testlib.h"
#include "ts.h"

#define DB "dsq"
#define S INT64_C(1000000000)
#define T0 (INT64_C(1699999200) * S) /* an hour's start: 2023-11-14T22:00:00Z */

/* The server of this run, and a reader on it. */
static struct {
    testlib_ch_t srv;
    clickhouse_t *ch;
    struct chstore store; /* built by hand: chstore_open is the writer's */
} s_env;

/* --- the rows inserted ------------------------------------------------------ */

typedef struct {
    const char *host;
    int64_t t_s; /* T0 + t_s seconds */
    const char *source, *device, *name, *layer;
    int64_t delta;
    int reset, overlap, twice; /* twice: inserted two times */
} s_drop_t;

/* beta loses as many packets as alpha (16, alpha's overlapping rx_dropped
 * left out) but squeezes more: it ranks first. gamma only squeezes. */
static const s_drop_t s_drops[] = {
    {"alpha", 10, "nic", "eth0", "rx_missed", "nic", 5, 0, 0, 1},
    {"alpha", 10, "softnet", "cpu0", "dropped", "backlog", 3, 0, 0, 0},
    {"alpha", 20, "nic", "eth0", "rx_dropped", "nic", 7, 0, 1, 0},
    {"alpha", 70, "nic", "eth0", "rx_missed", "nic", 2, 1, 0, 1},
    {"alpha", 70, "softnet", "cpu0", "squeezed", "budget", 4, 0, 0, 0},
    {"alpha", 130, "sock", "udp:1234", "drops", "socket", 6, 0, 0, 0},
    {"beta", 10, "nic", "eth1", "rx_missed", "nic", 16, 0, 0, 1},
    {"beta", 80, "softnet", "cpu1", "squeezed", "budget", 10, 0, 0, 0},
    {"gamma", 20, "softnet", "cpu0", "squeezed", "budget", 9, 0, 0, 1},
};
#define NDROPS (sizeof s_drops / sizeof s_drops[0])

typedef struct {
    const char *host;
    uint64_t incarnation;
    uint32_t wire_id;
    const char *source, *device, *name, *kind, *layer;
    int overlap;
    const char *owner;
    uint64_t defined_ns;
    int twice;
} s_def_t;

/* alpha's socket series changes owner in its second run, which then
 * defines it again without one (the owner known stays). */
static const s_def_t s_defs[] = {
    {"alpha", 1, 1, "nic", "eth0", "rx_missed", "counter", "nic", 0, "", 100, 1},
    {"alpha", 1, 2, "softnet", "cpu0", "dropped", "counter", "backlog", 0, "", 100, 0},
    {"alpha", 1, 3, "softnet", "cpu0", "squeezed", "counter", "budget", 0, "", 100, 0},
    {"alpha", 1, 4, "sock", "udp:1234", "drops", "counter", "socket", 0, "10/app", 100, 1},
    {"alpha", 1, 5, "nic", "eth0", "rx_dropped", "counter", "nic", 1, "", 100, 0},
    {"alpha", 2, 9, "sock", "udp:1234", "drops", "counter", "socket", 0, "20/app2", 200, 1},
    {"alpha", 2, 10, "sock", "udp:1234", "drops", "counter", "socket", 0, "", 300, 0},
    {"alpha", 2, 11, "nic", "eth0", "rx_missed", "counter", "nic", 0, "", 300, 0},
    {"beta", 1, 1, "nic", "eth1", "rx_missed", "counter", "nic", 0, "", 100, 1},
    {"beta", 1, 2, "softnet", "cpu1", "squeezed", "counter", "budget", 0, "", 100, 0},
    {"gamma", 1, 1, "softnet", "cpu0", "squeezed", "counter", "budget", 0, "", 100, 0},
};
#define NDEFS (sizeof s_defs / sizeof s_defs[0])

/* --- helpers ----------------------------------------------------------------- */

static void s_exec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void s_exec(const char *fmt, ...)
{
    char *sql = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&sql, fmt, ap);
    va_end(ap);
    assert_true(n > 0);
    char err[1024] = "";
    if (clickhouse_exec(s_env.ch, sql, err, sizeof err) != 0)
        fail_msg("%s: %s", sql, err);
    free(sql);
}

/* "{db}" of a schema statement replaced by DB, into out. */
static void s_insert_drops(void)
{
    for (size_t i = 0; i < NDROPS; i++) {
        const s_drop_t *d = &s_drops[i];
        for (int k = 0; k <= d->twice; k++)
            s_exec("INSERT INTO " DB ".drops VALUES ('%s', %" PRId64 ", '%s', '%s', '%s', '%s', "
                   "0, %" PRId64 ", %d, %d, 'stale')",
                   d->host, T0 + d->t_s * S, d->source, d->device, d->name, d->layer, d->delta,
                   d->reset, d->overlap);
    }
    for (size_t i = 0; i < NDEFS; i++) {
        const s_def_t *d = &s_defs[i];
        for (int k = 0; k <= d->twice; k++)
            s_exec("INSERT INTO " DB ".series VALUES ('%s', %" PRIu64 ", %u, '%s', '%s', '%s', "
                   "'%s', '%s', %d, '%s', %" PRIu64 ")",
                   d->host, d->incarnation, d->wire_id, d->source, d->device, d->name, d->kind,
                   d->layer, d->overlap, d->owner, d->defined_ns);
    }
}

/* hosts: a first and a latest row per host (alpha's latest twice). */
static void s_insert_hosts(void)
{
    static const char *const names[] = {"gamma", "alpha", "beta"};
    for (int h = 0; h < 3; h++)
        for (int v = 1; v <= 2 + (h == 1); v++) {
            int ver = v > 2 ? 2 : v;
            s_exec("INSERT INTO " DB ".hosts VALUES ('%s', 'boot%d', 'be%d', 'k%d', 'cv%d', "
                   "%" PRId64 ", %" PRId64 ", %" PRId64 ", %d, %d, %d, %d, %d, %d, %d, %d, %d, "
                   "%d, %d, %d, %d, %d, 'note%d', 'deg%d', 'agg', %d)",
                   names[h], ver, ver, ver, ver, T0 + ver * S, T0 + ver * 100 * S, ver * S + h,
                   ver * 10, ver * 20, ver * 4, ver, ver + 1, ver + 2, ver + 3, ver + 4, ver == 2,
                   ver * 5, ver * 6, ver == 1, ver * 7, ver * 8, ver, ver, ver);
        }
}

/* Bursts, gaps, settings, batches. */
static void s_insert_events(void)
{
    /* host, iface, direction, start_s, corrected offset ms; alpha's first twice */
    static const struct {
        const char *host, *iface, *dir;
        int start_s, corr_ms, twice;
    } b[] = {{"alpha", "eth0", "rx", 10, 1, 1},
             {"alpha", "eth0", "tx", 20, -1, 0},
             {"beta", "eth1", "rx", 20, 5, 0},
             {"alpha", "eth1", "rx", 30, 2, 0},
             {"gamma", "eth0", "rx", 20, 500, 0}};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        for (int k = 0; k <= b[i].twice; k++) {
            int64_t start = T0 + b[i].start_s * S;
            s_exec("INSERT INTO " DB ".bursts VALUES ('%s', '%s', '%s', %" PRId64 ", %" PRId64
                   ", %zu.5, %zu, %zu, 50, [0, %zu, 0, 3], %zu, %" PRId64 ", 1000000, [%zu, 7, "
                   "9], 1, %" PRId64 ", %zu)",
                   b[i].host, b[i].iface, b[i].dir, start, start + S / 2, i, 100 + i, 6400 + i, i,
                   i + 3, start - S / 1000, i, start + b[i].corr_ms * (S / 1000), 100 + i);
        }
    /* gaps: (host, group, port, start_s, first_seq); alpha's first twice */
    s_exec("INSERT INTO " DB ".gaps VALUES ('alpha', '239.1.1.1', 5000, %" PRId64 ", %" PRId64
           ", 4, 100, 103), ('alpha', '239.1.1.1', 5000, %" PRId64 ", %" PRId64 ", 4, 100, 103), "
           "('beta', '239.1.1.2', 5001, %" PRId64 ", %" PRId64 ", 2, 5, 6), ('alpha', "
           "'239.1.1.1', 5000, %" PRId64 ", %" PRId64 ", 1, 200, 200)",
           T0 + 10 * S, T0 + 11 * S, T0 + 10 * S, T0 + 11 * S, T0 + 10 * S, T0 + 12 * S,
           T0 + 40 * S, T0 + 41 * S);
    s_exec("INSERT INTO " DB ".settings VALUES ('alpha', 'sysctl', '-', 'rmem_max', %" PRId64
           ", 100), ('alpha', 'sysctl', '-', 'rmem_max', %" PRId64 ", 200), ('alpha', 'sysctl', "
           "'-', 'rmem_max', %" PRId64 ", 200), ('alpha', 'sysctl', '-', 'rmem_max', %" PRId64
           ", 300), ('alpha', 'ethtool', 'eth0', 'rx_ring', %" PRId64 ", 512), ('beta', "
           "'sysctl', '-', 'rmem_max', %" PRId64 ", 7)",
           T0, T0 + 50 * S, T0 + 50 * S, T0 + 150 * S, T0, T0);
    /* a hello at 15 s is no batch; seq 2 twice; two batches at 20 s */
    s_exec("INSERT INTO " DB ".batches VALUES ('alpha', 1, 1, 'hello', %" PRId64 ", 0, 0, 'a', 0), "
           "('alpha', 1, 2, 'batch', %" PRId64 ", 0, 0, 'a', 1), ('alpha', 1, 2, 'batch', %" PRId64
           ", 0, 0, 'b', 1), ('alpha', 1, 3, 'batch', %" PRId64 ", 0, 0, 'a', 1), ('alpha', 1, 4, "
           "'batch', %" PRId64 ", 0, 0, 'a', 1), ('alpha', 2, 1, 'batch', %" PRId64
           ", 0, 0, 'a', 1), ('beta', 1, 2, 'batch', %" PRId64 ", 0, 0, 'a', 1)",
           T0 + 15 * S, T0 + 10 * S, T0 + 10 * S, T0 + 20 * S, T0 + 20 * S, T0 + 30 * S,
           T0 + 25 * S);
}

/* alpha's rx_missed every 10 s from 5 s to 175 s: value 10 i, delta 10,
 * SAMPLE_FIRST first, SAMPLE_RESET at 65 s; beta's a few, twice (its
 * rollups are not checked: a view sums what it is given). */
static void s_insert_samples(void)
{
    for (int i = 0; i < 18; i++)
        s_exec("INSERT INTO " DB ".samples VALUES ('alpha', 'nic', 'eth0', 'rx_missed', %" PRId64
               ", %d, 10, %d)",
               T0 + (5 + 10 * i) * S, 10 * i,
               i == 0   ? SAMPLE_FIRST
               : i == 6 ? SAMPLE_RESET
                        : 0);
    s_exec("INSERT INTO " DB ".samples VALUES ('alpha', 'nic', 'eth0', 'rx_dropped', %" PRId64
           ", 1, 1, 0)",
           T0 + 5 * S);
    for (int k = 0; k < 2; k++)
        s_exec("INSERT INTO " DB ".samples VALUES ('beta', 'nic', 'eth1', 'rx_missed', %" PRId64
               ", 1, 1, 0), ('beta', 'nic', 'eth1', 'rx_missed', %" PRId64 ", 2, 1, 0)",
               T0 + 5 * S, T0 + 15 * S);
}

static int s_setup(void **state)
{
    (void)state;
    if (testlib_ch_start(&s_env.srv, "chquery") != 0)
        return -1;
    if (s_env.srv.absent)
        return 0;
    char url[128], err[1024] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/?database=" DB, s_env.srv.port);
    if (!(s_env.ch = clickhouse_new(url, NULL, NULL, err, sizeof err)))
        return -1;
    if (clickhouse_exec_nodb(s_env.ch, "CREATE DATABASE IF NOT EXISTS " DB, err, sizeof err) != 0)
        return print_error("%s\n", err), -1;
    for (size_t i = 0; i < chstore_ntables; i++) {
        char *ddl[2];
        int n = chstore_table_ddl(&chstore_tables[i], DB, NULL, ddl), rc = n == 1 ? 0 : -1;
        if (rc == 0)
            rc = clickhouse_exec(s_env.ch, ddl[0], err, sizeof err);
        for (int k = 0; k < n; k++)
            free(ddl[k]);
        if (rc != 0)
            return print_error("%s\n", err), -1;
    }
    /* No merges: the rows stored twice stay twice (and the hosts' first
     * rows stay), so that the queries are seen to read each key once
     * whatever ClickHouse has merged. */
    if (clickhouse_exec(s_env.ch, "SYSTEM STOP MERGES", err, sizeof err) != 0)
        return print_error("%s\n", err), -1;
    s_env.store = (struct chstore){.ch = s_env.ch, .db = DB};
    s_insert_drops();
    s_insert_hosts();
    s_insert_events();
    s_insert_samples();
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    clickhouse_destroy(&s_env.ch);
    return testlib_ch_destroy(&s_env.srv);
}

static chstore_t *s_store(void)
{
    if (s_env.srv.absent)
        skip();
    assert_non_null(s_env.ch);
    s_env.store.deadline = NULL;
    return &s_env.store;
}

/* Rows a callback saw, as text lines: what the checks compare. */
typedef struct {
    char *text;
    size_t len, cap;
    int stop_after; /* > 0: the callback stops after that many rows */
    int n;
} s_seen_t;

static int s_line(s_seen_t *seen, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int s_line(s_seen_t *seen, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    if (seen->len + (size_t)n + 2 > seen->cap) {
        seen->cap = (seen->len + (size_t)n + 2) * 2;
        seen->text = realloc(seen->text, seen->cap);
        assert_non_null(seen->text);
    }
    seen->len += (size_t)snprintf(seen->text + seen->len, seen->cap - seen->len, "%s\n", buf);
    seen->n++;
    return seen->stop_after > 0 && seen->n >= seen->stop_after;
}

/* Checks what seen holds against want and empties it. */
static void s_expect(s_seen_t *seen, const char *want)
{
    const char *got = seen->text ? seen->text : "";
    if (strcmp(got, want) != 0)
        fail_msg("got:\n%s\nwanted:\n%s", got, want);
    free(seen->text);
    *seen = (s_seen_t){.text = NULL};
}

/* --- drops against a naive reference ----------------------------------------- */

/* The latest definition of a series: its overlap, and its latest owner
 * that is not "" (SQLite keeps a known owner over a definition without). */
static void s_def_of(const char *host, const s_drop_t *d, int *overlap, const char **owner)
{
    uint64_t latest = 0, owned = 0;
    *overlap = 0;
    *owner = "";
    for (size_t i = 0; i < NDEFS; i++) {
        const s_def_t *f = &s_defs[i];
        if (strcmp(f->host, host) || strcmp(f->source, d->source) || strcmp(f->device, d->device) ||
            strcmp(f->name, d->name))
            continue;
        if (f->defined_ns >= latest)
            latest = f->defined_ns, *overlap = f->overlap;
        if (f->owner[0] && f->defined_ns >= owned)
            owned = f->defined_ns, *owner = f->owner;
    }
}

/* One row of the reference: a drop, or a step's bucket of them. */
typedef struct {
    const s_drop_t *d;
    char series[96];
    int64_t t, delta, latest;
    int reset;
} s_ref_t;

static int s_newest;

static int s_cmp_ref(const void *a, const void *b)
{
    const s_ref_t *x = a, *y = b;
    int c = x->t < y->t ? -1 : x->t > y->t;
    if (!c)
        c = strcmp(x->d->host, y->d->host);
    if (!c)
        c = strcmp(x->series, y->series);
    return s_newest ? -c : c;
}

/* The reference's rows of q, oldest or newest first, as s_drop_line's. */
static void s_ref_drops(const drops_query_t *q, bool newest, s_seen_t *want)
{
    s_ref_t refs[NDROPS];
    size_t n = 0;
    for (size_t i = 0; i < NDROPS; i++) {
        const s_drop_t *d = &s_drops[i];
        int64_t ts = T0 + d->t_s * S, t = q->step_ns > 0 ? ts / q->step_ns * q->step_ns : ts;
        if (ts <= q->from_ns || ts > q->to_ns || (q->host && strcmp(q->host, d->host)) ||
            (q->layer != LAYER_UNKNOWN && strcmp(layer_name(q->layer), d->layer)))
            continue;
        char series[96];
        snprintf(series, sizeof series, "%s/%s/%s", d->source, d->device, d->name);
        size_t k = 0;
        while (k < n && !(q->step_ns > 0 && refs[k].t == t && !strcmp(refs[k].series, series) &&
                          !strcmp(refs[k].d->host, d->host)))
            k++;
        if (k == n)
            refs[n++] = (s_ref_t){.d = d, .t = t, .latest = INT64_MIN};
        snprintf(refs[k].series, sizeof refs[k].series, "%s", series);
        refs[k].delta += d->delta;
        refs[k].reset |= d->reset;
        if (ts > refs[k].latest)
            refs[k].latest = ts, refs[k].d = d; /* the bucket's layer is its latest row's */
    }
    s_newest = newest;
    qsort(refs, n, sizeof *refs, s_cmp_ref);
    for (size_t k = 0; k < n && (q->limit <= 0 || (int64_t)k < q->limit); k++) {
        int overlap;
        const char *owner;
        s_def_of(refs[k].d->host, refs[k].d, &overlap, &owner);
        s_line(want, "%s %s %s %" PRId64 " %" PRId64 " r%d o%d [%s]", refs[k].d->host,
               refs[k].series, refs[k].d->layer, refs[k].t, refs[k].delta, refs[k].reset, overlap,
               owner);
    }
}

static int s_drop_line(void *ctx, const drop_row_t *r)
{
    return s_line(ctx, "%s %s %s %" PRId64 " %" PRId64 " r%d o%d [%s]", r->host, r->series,
                  r->layer, r->ts_ns, r->delta, r->reset, r->overlap, r->owner);
}

/* chstore_drops and chstore_drops_newest of q match the reference. */
static void s_check_drops(const drops_query_t *q)
{
    char err[1024] = "";
    for (int newest = 0; newest < 2; newest++) {
        s_seen_t got = {.text = NULL}, want = {.text = NULL};
        int rc = newest ? chstore_drops_newest(s_store(), q, s_drop_line, &got, err, sizeof err)
                        : chstore_drops(s_store(), q, s_drop_line, &got, err, sizeof err);
        if (rc != 0)
            fail_msg("%s", err);
        s_ref_drops(q, newest, &want);
        assert_true(want.n > 0 || q->limit < 0); /* every case below has rows */
        s_expect(&got, want.text);
        free(want.text);
    }
}

static void test_drops(void **state)
{
    (void)state;
    const int64_t all_from = T0, all_to = T0 + 200 * S;
    const drops_query_t qs[] = {
        {.from_ns = all_from, .to_ns = all_to},
        {.from_ns = T0 + 10 * S, .to_ns = T0 + 70 * S}, /* (10, 70]: 10 out, 70 in */
        {.host = "alpha", .from_ns = all_from, .to_ns = all_to},
        {.layer = LAYER_BUDGET, .from_ns = all_from, .to_ns = all_to},
        {.host = "alpha", .layer = LAYER_NIC, .from_ns = all_from, .to_ns = all_to},
        {.from_ns = all_from, .to_ns = all_to, .limit = 3},
        {.from_ns = all_from, .to_ns = all_to, .step_ns = 60 * S},
        {.from_ns = all_from, .to_ns = all_to, .step_ns = 3600 * S, .limit = 4},
        {.host = "alpha", .from_ns = all_from, .to_ns = all_to, .step_ns = 60 * S, .limit = 2},
    };
    /* the rows stored twice are there twice */
    size_t stored = 0;
    for (size_t i = 0; i < NDROPS; i++)
        stored += 1 + (size_t)s_drops[i].twice;
    const uint8_t *answer;
    size_t len;
    char err[512];
    assert_int_equal(chstore_select(s_store(), "SELECT count() FROM " DB ".drops FORMAT RowBinary",
                                    &answer, &len, err, sizeof err),
                     0);
    assert_int_equal(len, 8);
    assert_int_equal(answer[0], stored);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        s_check_drops(&qs[i]);

    /* A few rows written out, so that the reference is checked too: each
     * drop once (alpha's rx_missed was stored twice), the socket series'
     * owner its latest definition's that named one, not the drop row's. */
    s_seen_t got = {.text = NULL};
    drops_query_t q = {.host = "alpha", .from_ns = T0 + 60 * S, .to_ns = all_to};
    assert_int_equal(chstore_drops(s_store(), &q, s_drop_line, &got, err, sizeof err), 0);
    char want[1024];
    snprintf(want, sizeof want,
             "alpha nic/eth0/rx_missed nic %" PRId64 " 2 r1 o0 []\n"
             "alpha softnet/cpu0/squeezed budget %" PRId64 " 4 r0 o0 []\n"
             "alpha sock/udp:1234/drops socket %" PRId64 " 6 r0 o0 [20/app2]\n",
             T0 + 70 * S, T0 + 70 * S, T0 + 130 * S);
    s_expect(&got, want);
    q = (drops_query_t){.from_ns = T0, .to_ns = T0 + 20 * S, .step_ns = 60 * S};
    assert_int_equal(chstore_drops(s_store(), &q, s_drop_line, &got, err, sizeof err), 0);
    snprintf(want, sizeof want,
             "alpha nic/eth0/rx_dropped nic %1$" PRId64 " 7 r0 o1 []\n"
             "alpha nic/eth0/rx_missed nic %1$" PRId64 " 5 r0 o0 []\n"
             "alpha softnet/cpu0/dropped backlog %1$" PRId64 " 3 r0 o0 []\n"
             "beta nic/eth1/rx_missed nic %1$" PRId64 " 16 r0 o0 []\n"
             "gamma softnet/cpu0/squeezed budget %1$" PRId64 " 9 r0 o0 []\n",
             T0);
    s_expect(&got, want);
    /* the callback stops the rows */
    got.stop_after = 2;
    q = (drops_query_t){.from_ns = all_from, .to_ns = all_to};
    assert_int_equal(chstore_drops(s_store(), &q, s_drop_line, &got, err, sizeof err), 0);
    assert_int_equal(got.n, 2);
    free(got.text);
}

static int s_top_line(void *ctx, const char *host, const char *layer, int64_t drops)
{
    return s_line(ctx, "%s %s %" PRId64, host, layer, drops);
}

static void test_top_droppers(void **state)
{
    (void)state;
    s_seen_t got = {.text = NULL};
    char err[512];
    /* beta and alpha lost 16 each (alpha's overlapping rx_dropped left
     * out): beta's 10 squeezes beat alpha's 4; gamma only squeezed. Each
     * host's layers most first; rows stored twice counted once. */
    assert_int_equal(
        chstore_top_droppers(s_store(), T0, T0 + 200 * S, 0, s_top_line, &got, err, sizeof err), 0);
    s_expect(&got, "beta nic 16\nbeta budget 10\nalpha nic 7\nalpha socket 6\nalpha budget 4\n"
                   "alpha backlog 3\ngamma budget 9\n");
    assert_int_equal(
        chstore_top_droppers(s_store(), T0, T0 + 200 * S, 2, s_top_line, &got, err, sizeof err), 0);
    s_expect(&got, "beta nic 16\nbeta budget 10\nalpha nic 7\nalpha socket 6\nalpha budget 4\n"
                   "alpha backlog 3\n");
    /* (10, 70]: alpha lost 2 (rx_missed at 70), gamma squeezed 9, alpha 4 */
    assert_int_equal(chstore_top_droppers(s_store(), T0 + 10 * S, T0 + 70 * S, 0, s_top_line, &got,
                                          err, sizeof err),
                     0);
    s_expect(&got, "alpha budget 4\nalpha nic 2\ngamma budget 9\n");
    assert_int_equal(chstore_top_droppers(s_store(), T0 + 500 * S, T0 + 600 * S, 0, s_top_line,
                                          &got, err, sizeof err),
                     0);
    s_expect(&got, "");
}

static void test_totals_and_sums(void **state)
{
    (void)state;
    char err[512];
    int64_t totals[LAYER_COUNT];
    assert_int_equal(chstore_drop_totals(s_store(), NULL, totals, err, sizeof err), 0);
    int64_t want[LAYER_COUNT] = {[LAYER_NIC] = 5 + 2 + 16,
                                 [LAYER_BACKLOG] = 3,
                                 [LAYER_BUDGET] = 4 + 10 + 9,
                                 [LAYER_SOCKET] = 6};
    assert_memory_equal(totals, want, sizeof want);
    drops_query_t q = {
        .host = "alpha", .layer = LAYER_NIC, .from_ns = T0 + 10 * S, .to_ns = T0 + 70 * S};
    assert_int_equal(chstore_drop_totals(s_store(), &q, totals, err, sizeof err), 0);
    int64_t want2[LAYER_COUNT] = {[LAYER_NIC] = 2};
    assert_memory_equal(totals, want2, sizeof want2);
}

static int s_sum_line(void *ctx, const drop_sum_t *r)
{
    return s_line(ctx, "%s/%s/%s %s o%d %" PRId64 " %" PRId64 " %" PRId64 " n%" PRId64 " [%s]",
                  r->source, r->device, r->name, r->layer, r->overlap, r->drops,
                  (r->first_ns - T0) / S, (r->last_ns - T0) / S, r->deltas, r->owner);
}

static void test_drop_sums(void **state)
{
    (void)state;
    s_seen_t got = {.text = NULL};
    char err[512];
    /* by layer, then most first (rx_dropped and rx_missed tie: by name);
     * rx_missed's two deltas stored twice each count once */
    assert_int_equal(
        chstore_drop_sums(s_store(), "alpha", T0, T0 + 200 * S, s_sum_line, &got, err, sizeof err),
        0);
    s_expect(&got, "softnet/cpu0/dropped backlog o0 3 10 10 n1 []\n"
                   "softnet/cpu0/squeezed budget o0 4 70 70 n1 []\n"
                   "nic/eth0/rx_dropped nic o1 7 20 20 n1 []\n"
                   "nic/eth0/rx_missed nic o0 7 10 70 n2 []\n"
                   "sock/udp:1234/drops socket o0 6 130 130 n1 [20/app2]\n");
    assert_int_equal(chstore_drop_sums(s_store(), "alpha", T0 + 10 * S, T0 + 70 * S, s_sum_line,
                                       &got, err, sizeof err),
                     0);
    s_expect(&got, "softnet/cpu0/squeezed budget o0 4 70 70 n1 []\n"
                   "nic/eth0/rx_dropped nic o1 7 20 20 n1 []\n"
                   "nic/eth0/rx_missed nic o0 2 70 70 n1 []\n");
    assert_int_equal(
        chstore_drop_sums(s_store(), "nobody", T0, T0 + 200 * S, s_sum_line, &got, err, sizeof err),
        0);
    s_expect(&got, "");
}

/* --- bursts and gaps ---------------------------------------------------------------- */

static int s_burst_line(void *ctx, const burst_row_t *r)
{
    char profile[64] = "";
    for (size_t i = 0, n = 0; i < r->nprofile; i++)
        n += (size_t)snprintf(profile + n, sizeof profile - n, "%s%u", i ? "," : "", r->profile[i]);
    /* host ids: a number per host, the same on every row of it */
    int64_t id = r->host_id;
    assert_true(id > 0 && id < (INT64_C(1) << 53));
    static int64_t seen[3];
    int h = r->host[0] == 'a' ? 0 : r->host[0] == 'b' ? 1 : 2;
    if (seen[h])
        assert_int_equal(seen[h], id);
    seen[h] = id;
    return s_line(ctx,
                  "%s %s %s %" PRId64 " +%" PRId64 " %.1f %" PRId64 " %" PRId64 " %" PRId64
                  " d%" PRId64 ",%" PRId64 ",%" PRId64 " p%" PRId64 " t%" PRId64
                  " [%s] c%d %" PRId64 " u%" PRId64,
                  r->host, r->iface, r->direction, (r->start_ns - T0) / S, r->end_ns - r->start_ns,
                  r->peak_per_ms, r->packets, r->bytes, r->threshold_per_ms, r->drops[1],
                  r->drops[3], r->drops[4], r->start_ns - r->profile_start_ns, r->tick_ns, profile,
                  r->profile_complete, r->corrected_start_ns - r->start_ns, r->uncertainty_ns);
}

/* The burst rows of s_insert_events, by index. */
static const char *const s_burst_rows[] = {
    "alpha eth0 rx 10 +500000000 0.5 100 6400 50 d0,3,0 p1000000 t1000000 [0,7,9] c1 1000000 u100",
    "alpha eth0 tx 20 +500000000 1.5 101 6401 50 d1,3,0 p1000000 t1000000 [1,7,9] c1 -1000000 u101",
    "beta eth1 rx 20 +500000000 2.5 102 6402 50 d2,3,0 p1000000 t1000000 [2,7,9] c1 5000000 u102",
    "alpha eth1 rx 30 +500000000 3.5 103 6403 50 d3,3,0 p1000000 t1000000 [3,7,9] c1 2000000 u103",
    ("gamma eth0 rx 20 +500000000 4.5 104 6404 50 d4,3,0 p1000000 t1000000 [4,7,9] c1 500000000 "
     "u104"), /* one string */
};

/* The rows of s_burst_rows named by order (indexes, -1 ends), as text. */
static void s_burst_want(const int *order, s_seen_t *want)
{
    for (; *order >= 0; order++)
        s_line(want, "%s", s_burst_rows[*order]);
}

static void s_check_bursts(const bursts_query_t *q, bool newest, const int *order)
{
    s_seen_t got = {.text = NULL}, want = {.text = NULL};
    char err[512];
    int rc = newest ? chstore_bursts_newest(s_store(), q, s_burst_line, &got, err, sizeof err)
                    : chstore_bursts(s_store(), q, s_burst_line, &got, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    s_burst_want(order, &want);
    s_expect(&got, want.text ? want.text : "");
    free(want.text);
}

static void test_bursts(void **state)
{
    (void)state;
    const int64_t from = T0, to = T0 + 100 * S;
    /* by start, then host (alpha's tx and beta and gamma at 20 s), then iface */
    s_check_bursts(&(bursts_query_t){.from_ns = from, .to_ns = to}, false,
                   (const int[]){0, 1, 2, 4, 3, -1});
    s_check_bursts(&(bursts_query_t){.from_ns = from, .to_ns = to}, true,
                   (const int[]){3, 4, 2, 1, 0, -1});
    s_check_bursts(&(bursts_query_t){.from_ns = from, .to_ns = to, .limit = 2}, true,
                   (const int[]){3, 4, -1});
    s_check_bursts(&(bursts_query_t){.from_ns = from, .to_ns = to, .limit = 2}, false,
                   (const int[]){0, 1, -1});
    s_check_bursts(&(bursts_query_t){.host = "alpha", .from_ns = from, .to_ns = to}, false,
                   (const int[]){0, 1, 3, -1});
    s_check_bursts(&(bursts_query_t){.iface = "eth0", .from_ns = from, .to_ns = to}, false,
                   (const int[]){0, 1, 4, -1});
    s_check_bursts(&(bursts_query_t){.rx_only = true, .from_ns = from, .to_ns = to}, false,
                   (const int[]){0, 2, 4, 3, -1});
    /* (10, 20]: a start at 10 s is out, at 20 s in */
    s_check_bursts(&(bursts_query_t){.from_ns = T0 + 10 * S, .to_ns = T0 + 20 * S}, false,
                   (const int[]){1, 2, 4, -1});
}

static int s_start_line(void *ctx, const burst_start_t *r)
{
    return s_line(ctx, "%s %s %" PRId64 " +%" PRId64 " u%" PRId64 " %" PRId64 " %" PRId64, r->host,
                  r->iface, r->corrected_start_ns - T0, r->end_ns - r->corrected_start_ns,
                  r->uncertainty_ns, r->packets, r->drops_total);
}

static void test_burst_starts(void **state)
{
    (void)state;
    s_seen_t got = {.text = NULL};
    char err[512];
    /* received bursts only, by corrected start (gamma's 0.5 s late puts it
     * after beta's), newest first; the end on the corrected clock too */
    assert_int_equal(
        chstore_burst_starts(s_store(), T0, T0 + 100 * S, 0, s_start_line, &got, err, sizeof err),
        0);
    s_expect(&got, "alpha eth1 30002000000 +500000000 u103 103 6\n"
                   "gamma eth0 20500000000 +500000000 u104 104 7\n"
                   "beta eth1 20005000000 +500000000 u102 102 5\n"
                   "alpha eth0 10001000000 +500000000 u100 100 3\n");
    /* the range is on the corrected clock: (10.001 s, 20.5 s] */
    assert_int_equal(chstore_burst_starts(s_store(), T0 + 10001000000, T0 + 20500000000, 1,
                                          s_start_line, &got, err, sizeof err),
                     0);
    s_expect(&got, "gamma eth0 20500000000 +500000000 u104 104 7\n");
}

static int s_gap_line(void *ctx, const gap_row_t *r)
{
    return s_line(ctx,
                  "%s %s:%" PRId64 " %" PRId64 "-%" PRId64 " m%" PRIu64 " %" PRIu64 "..%" PRIu64,
                  r->host, r->group, r->port, (r->start_ns - T0) / S, (r->end_ns - T0) / S,
                  r->missing, r->first_seq, r->last_seq);
}

static void test_gaps(void **state)
{
    (void)state;
    s_seen_t got = {.text = NULL};
    char err[512];
    gaps_query_t q = {.from_ns = T0, .to_ns = T0 + 100 * S};
    const char *all = "alpha 239.1.1.1:5000 10-11 m4 100..103\n"
                      "beta 239.1.1.2:5001 10-12 m2 5..6\n"
                      "alpha 239.1.1.1:5000 40-41 m1 200..200\n";
    assert_int_equal(chstore_gaps(s_store(), &q, s_gap_line, &got, err, sizeof err), 0);
    s_expect(&got, all);
    assert_int_equal(chstore_gaps_newest(s_store(), &q, s_gap_line, &got, err, sizeof err), 0);
    s_expect(&got, "alpha 239.1.1.1:5000 40-41 m1 200..200\n"
                   "beta 239.1.1.2:5001 10-12 m2 5..6\n"
                   "alpha 239.1.1.1:5000 10-11 m4 100..103\n");
    q.limit = 1;
    assert_int_equal(chstore_gaps_newest(s_store(), &q, s_gap_line, &got, err, sizeof err), 0);
    s_expect(&got, "alpha 239.1.1.1:5000 40-41 m1 200..200\n");
    q = (gaps_query_t){.host = "alpha", .from_ns = T0 + 10 * S, .to_ns = T0 + 40 * S};
    assert_int_equal(chstore_gaps(s_store(), &q, s_gap_line, &got, err, sizeof err), 0);
    s_expect(&got, "alpha 239.1.1.1:5000 40-41 m1 200..200\n");
}

/* --- hosts, series, settings, batches ------------------------------------------- */

static int s_host_line(void *ctx, const host_row_t *h)
{
    return s_line(
        ctx,
        "%s %s %s %s %s f%" PRId64 " l%" PRId64 " i%" PRId64 " inc%" PRIu64 " seq%" PRIu64
        " cpu%" PRId64 " ns%" PRId64 " sd%" PRId64 ",%" PRId64 " ct%" PRId64 " v%d o%" PRId64
        " r%" PRId64 " s%d me%" PRId64 " ee%" PRId64 " [%s] sr%" PRId64 ",%" PRId64 " [%s]",
        h->name, h->boot_id, h->backend, h->kernel, h->collector_version,
        (h->first_seen_ns - T0) / S, (h->last_seen_ns - T0) / S, h->interval_ns, h->incarnation,
        h->last_seq, h->ncpus, h->nseries, h->spool_dropped_messages, h->spool_dropped_samples,
        h->clock_ts_ns, h->clock.offset_valid, h->clock.offset_ns, h->clock.rtt_ns, h->clock.synced,
        h->clock.maxerror_ns, h->clock.esterror_ns, h->backend_note, h->spool_rejected_messages,
        h->spool_rejected_samples, h->degraded);
}

static void test_hosts(void **state)
{
    (void)state;
    s_seen_t got = {.text = NULL};
    char err[512];
    /* by name; every column the latest row's but first_seen, the least;
     * nseries the host's series by name, over both runs */
    if (chstore_hosts(s_store(), s_host_line, &got, err, sizeof err) != 0)
        fail_msg("%s", err);
    s_expect(&got, "alpha boot2 be2 k2 cv2 f1 l200 i2000000001 inc20 seq40 cpu8 ns5 sd2,3 ct6 v1 "
                   "o10 r12 s0 me14 ee16 [note2] sr4,5 [deg2]\n"
                   "beta boot2 be2 k2 cv2 f1 l200 i2000000002 inc20 seq40 cpu8 ns2 sd2,3 ct6 v1 "
                   "o10 r12 s0 me14 ee16 [note2] sr4,5 [deg2]\n"
                   "gamma boot2 be2 k2 cv2 f1 l200 i2000000000 inc20 seq40 cpu8 ns1 sd2,3 ct6 v1 "
                   "o10 r12 s0 me14 ee16 [note2] sr4,5 [deg2]\n");
    got.stop_after = 1;
    assert_int_equal(chstore_hosts(s_store(), s_host_line, &got, err, sizeof err), 0);
    assert_int_equal(got.n, 1);
    free(got.text);

    assert_true(chstore_host_known(s_store(), "beta"));
    assert_false(chstore_host_known(s_store(), "nobody"));
    assert_false(chstore_host_known(s_store(), "al'pha")); /* quoted, not SQL */
    assert_int_equal(chstore_host_interval(s_store(), "alpha"), 2000000001);
    assert_int_equal(chstore_host_interval(s_store(), "nobody"), 0);
}

static int s_info_line(void *ctx, const series_info_t *r)
{
    return s_line(ctx, "%s/%s/%s %s %s o%d [%s]", r->source, r->device, r->name, r->kind, r->layer,
                  r->overlap, r->owner);
}

static int s_sample_line(void *ctx, const series_row_t *r)
{
    return s_line(ctx, "%" PRId64 " v%" PRIu64 " d%" PRId64 " f%u", (r->ts_ns - T0) / S, r->value,
                  r->delta, r->flags);
}

/* chstore_series of host's nic rx_missed (eth0 for alpha, eth1 for beta)
 * over T0 + from_s .. T0 + to_s gives want. */
static void s_check_series(const char *host, int from_s, int to_s, int64_t step_s, int64_t limit,
                           const char *want)
{
    series_query_t q = {.host = host,
                        .source = "nic",
                        .device = host[0] == 'a' ? "eth0" : "eth1",
                        .name = "rx_missed",
                        .from_ns = T0 + from_s * S,
                        .to_ns = T0 + to_s * S,
                        .step_s = step_s,
                        .limit = limit};
    s_seen_t got = {.text = NULL};
    char err[512];
    if (chstore_series(s_store(), &q, s_sample_line, &got, err, sizeof err) != 0)
        fail_msg("%s", err);
    s_expect(&got, want);
}

static void test_series(void **state)
{
    (void)state;
    s_seen_t got = {.text = NULL};
    char err[512];
    assert_int_equal(chstore_series_list(s_store(), "alpha", s_info_line, &got, err, sizeof err),
                     0);
    s_expect(&got, "nic/eth0/rx_dropped counter nic o1 []\n"
                   "nic/eth0/rx_missed counter nic o0 []\n"
                   "sock/udp:1234/drops counter socket o0 [20/app2]\n"
                   "softnet/cpu0/dropped counter backlog o0 []\n"
                   "softnet/cpu0/squeezed counter budget o0 []\n");
    assert_true(chstore_series_known(s_store(), "alpha", "sock", "udp:1234", "drops"));
    assert_false(chstore_series_known(s_store(), "beta", "sock", "udp:1234", "drops"));

    /* raw samples in (25 s, 65 s]: 35, 45, 55 and 65 (the reset) */
    s_check_series("alpha", 25, 65, 0, 0,
                   "35 v30 d10 f0\n45 v40 d10 f0\n55 v50 d10 f0\n65 v60 d10 f2\n");
    s_check_series("alpha", 25, 65, 0, 2, "35 v30 d10 f0\n45 v40 d10 f0\n");
    /* minutes starting in [0, 180 s): each the sum, the last value, the flags or-ed */
    s_check_series("alpha", 0, 180, 60, 0, "0 v50 d60 f1\n60 v110 d60 f2\n120 v170 d60 f0\n");
    s_check_series("alpha", 60, 120, 60, 0, "60 v110 d60 f2\n"); /* [60, 120) */
    s_check_series("alpha", 0, 3600, 3600, 0, "0 v170 d180 f3\n");
    s_check_series("alpha", 1, 3600, 3600, 0, ""); /* the hour starts before 1 s */
    /* beta's samples were stored twice: read once */
    s_check_series("beta", 0, 100, 0, 0, "5 v1 d1 f0\n15 v2 d1 f0\n");
    s_check_series("beta", 0, 100, 10, 0, ""); /* no such rollup: no rows, as SQLite */
}

static int s_setting_line(void *ctx, const setting_row_t *r)
{
    return s_line(ctx, "%s/%s/%s %" PRId64 " =%" PRId64, r->source, r->device, r->name,
                  (r->ts_ns - T0) / S, r->value);
}

static int s_time_line(void *ctx, int64_t ts_ns)
{
    return s_line(ctx, "%" PRId64, (ts_ns - T0) / S);
}

static void test_settings_and_batches(void **state)
{
    (void)state;
    s_seen_t got = {.text = NULL};
    char err[512];
    /* by series, then time; up to 150 s inclusive; the change at 50 s once */
    assert_int_equal(
        chstore_settings(s_store(), "alpha", T0 + 150 * S, s_setting_line, &got, err, sizeof err),
        0);
    s_expect(&got, "ethtool/eth0/rx_ring 0 =512\nsysctl/-/rmem_max 0 =100\n"
                   "sysctl/-/rmem_max 50 =200\nsysctl/-/rmem_max 150 =300\n");
    assert_int_equal(
        chstore_settings(s_store(), "alpha", T0 + 149 * S, s_setting_line, &got, err, sizeof err),
        0);
    s_expect(&got, "ethtool/eth0/rx_ring 0 =512\nsysctl/-/rmem_max 0 =100\n"
                   "sysctl/-/rmem_max 50 =200\n");
    /* batches only (the hello at 15 s is not one), each once, in (10, 30] */
    assert_int_equal(chstore_batch_times(s_store(), "alpha", T0 + 10 * S, T0 + 30 * S, s_time_line,
                                         &got, err, sizeof err),
                     0);
    s_expect(&got, "20\n20\n30\n");
    assert_int_equal(chstore_batch_times(s_store(), "alpha", T0, T0 + 30 * S, s_time_line, &got,
                                         err, sizeof err),
                     0);
    s_expect(&got, "10\n20\n20\n30\n");
}

/* --- the deadline ------------------------------------------------------------------- */

static void test_deadline(void **state)
{
    (void)state;
    chstore_t *st = s_store();
    s_seen_t got = {.text = NULL};
    char err[512] = "";
    assert_int_equal(chstore_ping(st, err, sizeof err), 0);

    /* a deadline ahead: the queries run with it (SETTINGS before FORMAT) */
    store_deadline_t d = {.mono_ns = ts_mono_ns() + 600 * S};
    chstore_set_deadline(st, &d);
    assert_int_equal(chstore_ping(st, err, sizeof err), 0);
    gaps_query_t q = {.from_ns = T0, .to_ns = T0 + 100 * S, .limit = 1};
    assert_int_equal(chstore_gaps(st, &q, s_gap_line, &got, err, sizeof err), 0);
    assert_int_equal(got.n, 1);
    free(got.text);
    got = (s_seen_t){.text = NULL};
    assert_false(d.passed);

    /* one passed: refused before it is sent */
    d.mono_ns = 1;
    assert_int_equal(chstore_gaps(st, &q, s_gap_line, &got, err, sizeof err), -1);
    assert_non_null(strstr(err, "stopped at its deadline"));
    assert_true(d.passed);
    assert_int_equal(got.n, 0);
    assert_false(chstore_host_known(st, "alpha")); /* the queries without an err fail too */

    /* one the server stops: sleep(3) runs past the 1 s it was given (or
     * the deadline passes before it is sent: the same error) */
    d = (store_deadline_t){.mono_ns = ts_mono_ns() + S / 2};
    const uint8_t *answer;
    size_t len;
    assert_int_equal(
        chstore_select(st, "SELECT sleep(3) FORMAT RowBinary", &answer, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "stopped at its deadline"));
    assert_true(d.passed);

    /* without one, an error is the server's */
    chstore_set_deadline(st, NULL);
    assert_int_equal(chstore_select(st, "SELECT nope FROM " DB ".hosts FORMAT RowBinary", &answer,
                                    &len, err, sizeof err),
                     -1);
    assert_null(strstr(err, "deadline"));
    assert_non_null(strstr(err, "nope"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drops),
        cmocka_unit_test(test_top_droppers),
        cmocka_unit_test(test_totals_and_sums),
        cmocka_unit_test(test_drop_sums),
        cmocka_unit_test(test_bursts),
        cmocka_unit_test(test_burst_starts),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_settings_and_batches),
        cmocka_unit_test(test_deadline),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
