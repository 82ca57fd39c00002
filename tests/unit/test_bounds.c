/* Tests the bounds on what one peer can cost the aggregator: the compact
 * wire-id map (a huge wire id costs one entry, ids out of order are kept
 * sorted), the store's cap on hosts (--max-hosts) and on one host's series,
 * and the live-incident buffer's window and its forgetting of host names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "idmap.h"
#include "live.h"
#include "intake.h"
#include "store.h"
#include "testlib.h"
#include "validate.h"

#define SEC INT64_C(1000000000)
#define T0 INT64_C(1795359570000000000)

static void test_idmap(void **state)
{
    (void)state;
    idmap_t m = {0};
    /* Dense ids, as a collector gives them: each at its own index. */
    for (uint32_t w = 0; w < 300; w++)
        assert_non_null(idmap_put(&m, &(idmap_entry_t){.series_id = 1000 + w, .wire = w}));
    for (uint32_t w = 0; w < 300; w++)
        assert_int_equal(idmap_find(&m, w)->series_id, 1000 + w);
    assert_null(idmap_find(&m, 300));
    /* The largest wire id costs one entry; ids below the last are put in order. */
    assert_non_null(idmap_put(&m, &(idmap_entry_t){.series_id = 7, .wire = VALIDATE_MAX_ID - 1}));
    assert_non_null(idmap_put(&m, &(idmap_entry_t){.series_id = 8, .wire = 5000}));
    assert_int_equal(m.n, 302);
    assert_true(m.cap < 1024);
    assert_int_equal(idmap_find(&m, VALIDATE_MAX_ID - 1)->series_id, 7);
    assert_int_equal(idmap_find(&m, 5000)->series_id, 8);
    for (size_t i = 1; i < m.n; i++)
        assert_true(m.e[i - 1].wire < m.e[i].wire);
    /* A redefinition replaces. */
    assert_non_null(idmap_put(&m, &(idmap_entry_t){.series_id = 9, .wire = 5000}));
    assert_int_equal(m.n, 302);
    assert_int_equal(idmap_find(&m, 5000)->series_id, 9);
    /* A map whose ids are not dense from 0 is searched. */
    idmap_clear(&m);
    for (uint32_t w = 1; w < 200; w += 2)
        idmap_put(&m, &(idmap_entry_t){.series_id = w, .wire = w});
    for (uint32_t w = 0; w < 200; w++)
        assert_true(w % 2 ? idmap_find(&m, w) && idmap_find(&m, w)->series_id == w
                          : idmap_find(&m, w) == NULL);
    idmap_free(&m);
}

typedef struct {
    char dir[64], path[128];
    store_t *st;
} fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->st = testlib_store_new("bounds", f->dir, f->path);
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

/* Stores host's batch defining one counter at wire id `wire` and sampling
 * it; returns the outcome, with err. */
static store_rc_t s_delta(fixture_t *f, const char *host, uint32_t wire, int64_t ts,
                          int64_t delta, char *err, size_t errsz)
{
    series_def_t def = {wire, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER, LAYER_SOCKET, false, ""};
    uint32_t ids[] = {wire}, flags[] = {0};
    uint64_t values[] = {42};
    int64_t deltas[] = {delta};
    msg_t m = {.host = host, .boot_id = "boot", .incarnation = 1, .seq = 1, .sent_ns = ts,
               .type = MSG_TYPE_BATCH,
               .batch = {ts, 0, true, 1, &def, 1, ids, values, deltas, flags, 0, NULL, 0, 0, {0},
                         0, 0, 0, NULL}};
    size_t n;
    assert_int_equal(store_begin(f->st, err, errsz), 0);
    store_rc_t rc = intake_store(f->st, &m, ts, &n, err, errsz);
    assert_int_equal(store_commit(f->st, err, errsz), 0);
    return rc;
}

static store_rc_t s_one(fixture_t *f, const char *host, uint32_t wire, int64_t ts, char *err,
                        size_t errsz)
{
    return s_delta(f, host, wire, ts, 0, err, errsz);
}

static void test_huge_wire_id(void **state)
{
    fixture_t *f = *state;
    char err[256];
    assert_int_equal(s_one(f, "h1", VALIDATE_MAX_ID - 1, T0, err, sizeof err), STORE_OK);
    /* The stored map holds one record of 16 bytes, not a table up to the id. */
    assert_int_equal(testlib_sql_scalar(f->path, "SELECT length(ids) FROM incarnation_ids"), 16);
    /* Reloaded after a reopen, the id still maps. */
    store_close(&f->st);
    assert_non_null(f->st = store_open(f->path, true, err, sizeof err));
    uint32_t ids[] = {VALIDATE_MAX_ID - 1}, flags[] = {0};
    uint64_t values[] = {43};
    int64_t deltas[] = {1};
    msg_t m = {.host = "h1", .boot_id = "boot", .incarnation = 1, .seq = 2, .sent_ns = T0 + SEC,
               .type = MSG_TYPE_BATCH,
               .batch = {T0 + SEC, T0, false, 0, NULL, 1, ids, values, deltas, flags, 0, NULL, 0,
                         0, {0}, 0, 0, 0, NULL}};
    size_t n;
    assert_int_equal(store_begin(f->st, err, sizeof err), 0);
    assert_int_equal(intake_store(f->st, &m, T0 + SEC, &n, err, sizeof err), STORE_OK);
    assert_int_equal(store_commit(f->st, err, sizeof err), 0);
    assert_int_equal(testlib_sql_scalar(f->path, "SELECT sum(delta) FROM drops"), 1);
}

static void test_max_hosts(void **state)
{
    fixture_t *f = *state;
    char err[256];
    store_set_max_hosts(f->st, 2);
    assert_int_equal(s_one(f, "a", 1, T0, err, sizeof err), STORE_OK);
    assert_int_equal(s_one(f, "b", 1, T0, err, sizeof err), STORE_OK);
    assert_int_equal(s_one(f, "c", 1, T0, err, sizeof err), STORE_OVER_LIMIT);
    assert_int_equal(store_last_limit(f->st), STORE_LIMIT_HOSTS);
    assert_non_null(strstr(err, "--max-hosts"));
    /* Known hosts go on, also once their caches are gone. */
    assert_int_equal(store_flush_hosts(f->st, err, sizeof err), 0);
    store_evict_idle(f->st, INT64_MAX, 0);
    assert_int_equal(s_one(f, "a", 2, T0 + SEC, err, sizeof err), STORE_OK);
    assert_int_equal(testlib_sql_scalar(f->path, "SELECT count(*) FROM hosts"), 2);
    /* The count is read again after a reopen: still full. */
    store_close(&f->st);
    assert_non_null(f->st = store_open(f->path, true, err, sizeof err));
    store_set_max_hosts(f->st, 2);
    assert_int_equal(s_one(f, "d", 1, T0, err, sizeof err), STORE_OVER_LIMIT);
    store_set_max_hosts(f->st, 3);
    assert_int_equal(s_one(f, "d", 1, T0, err, sizeof err), STORE_OK);
}

/* A new host whose message is refused leaves no row, and is not counted. */
static void test_refused_host_not_counted(void **state)
{
    fixture_t *f = *state;
    char err[256];
    store_set_max_hosts(f->st, 1);
    /* A counter going backwards: refused after the host row was inserted. */
    assert_int_equal(s_delta(f, "bad", 1, T0, -1, err, sizeof err), STORE_INVALID);
    assert_int_equal(testlib_sql_scalar(f->path, "SELECT count(*) FROM hosts"), 0);
    assert_int_equal(s_one(f, "good", 1, T0, err, sizeof err), STORE_OK);
}

static void s_ignore(void *ctx, const live_incident_t *inc)
{
    (void)inc;
    ++*(int *)ctx;
}

static void test_live_window(void **state)
{
    (void)state;
    live_t *live = live_new(2 * 1000000, 2);
    clock_msg_t clock = {true, 0, 200000, true, 1000000, 100000};
    int64_t now = T0;
    burst_msg_t b = {.iface = "eth0", .start_ns = now + 3600 * SEC, .end_ns = now + 3600 * SEC + 1,
                     .packets = 100};
    /* An hour ahead, or an hour ago: not held (it would never settle, or
     * has long settled). */
    assert_int_equal(live_add(live, "h", &b, &clock, now), LIVE_OUTSIDE);
    b.start_ns = now - 3600 * SEC;
    assert_int_equal(live_add(live, "h", &b, &clock, now), LIVE_OUTSIDE);
    b.tx = true;
    assert_int_equal(live_add(live, "h", &b, &clock, now), LIVE_SKIPPED);
    b.tx = false;
    /* 5,000 bursts under as many host names; all held now. */
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "h-%d", i);
        b.start_ns = now - SEC + i * 1000;
        assert_int_equal(live_add(live, name, &b, &clock, now), LIVE_ADDED);
    }
    live_commit(live);
    assert_int_equal(live_hosts(live), 5000);
    /* A minute later they are forgotten, and so are their names. */
    int reported = 0;
    live_scan(live, now + 60 * SEC, s_ignore, &reported);
    assert_int_equal(live_bursts(live), 0);
    assert_int_equal(live_hosts(live), 0);
    /* A name still in use keeps its number. */
    b.start_ns = now + 60 * SEC;
    assert_int_equal(live_add(live, "h-7", &b, &clock, now + 60 * SEC), LIVE_ADDED);
    assert_int_equal(live_hosts(live), 1);
    live_destroy(&live);
}

/* Bursts join the live incidents once their group is committed: a scan
 * before the commit neither reports nor loses them, and a group rolled
 * back takes its bursts with it. */
static void test_live_commit(void **state)
{
    (void)state;
    live_t *live = live_new(2 * 1000000, 2);
    clock_msg_t clock = {true, 0, 200000, true, 1000000, 100000};
    int64_t now = T0;
    burst_msg_t b = {.iface = "eth0", .start_ns = now, .end_ns = now + 1000000, .packets = 100};
    int reported = 0;
    assert_int_equal(live_add(live, "a", &b, &clock, now), LIVE_ADDED);
    assert_int_equal(live_add(live, "b", &b, &clock, now), LIVE_ADDED);
    live_abandon(live); /* the group rolled back */
    live_scan(live, now + 5 * SEC, s_ignore, &reported);
    assert_int_equal(reported, 0);
    assert_int_equal(live_bursts(live), 0);
    assert_int_equal(live_add(live, "a", &b, &clock, now), LIVE_ADDED);
    assert_int_equal(live_add(live, "b", &b, &clock, now), LIVE_ADDED);
    live_scan(live, now + 5 * SEC, s_ignore, &reported); /* its group still open */
    assert_int_equal(reported, 0);
    assert_int_equal(live_bursts(live), 2);
    live_commit(live);
    live_scan(live, now + 5 * SEC, s_ignore, &reported);
    assert_int_equal(reported, 1);
    live_destroy(&live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idmap),
        cmocka_unit_test_setup_teardown(test_huge_wire_id, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_max_hosts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refused_host_not_counted, s_setup, s_teardown),
        cmocka_unit_test(test_live_window),
        cmocka_unit_test(test_live_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
