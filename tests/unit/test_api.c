/* test_api: the API's bounds on a seeded database: a capped list keeps the
 * newest rows, oldest first, and says so; a whole one does not; /api/v1/
 * pages through a list with its envelope's next, no row twice or left
 * out, and refuses a bare number for a time; a query
 * past its deadline fails as such (store_set_deadline) and the connection
 * answers again after; incidents read a bounded number of bursts and say
 * from when; a burst's profile beyond the tick budget is left out, marked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "testlib.h"

#include "api.h"
#include "incidents.h"
#include "counters.h"
#include "rows.h"
#include "source.h"
#include "store.h"
#include "ts.h"

#define S TS_NS_PER_S
#define T0 (INT64_C(1795305600) * S)
#define NDROPS 20
#define NBURSTS 12 /* of each host: they burst together, every 10 s */
#define BDROPS 2000
#define V1_DROPS 49 /* of host c */

typedef struct {
    char dir[64];
    store_t *st; /* a reader, as the HTTP workers have */
    stats_board_t *stats; /* nothing publishes: /metrics' ingest counters are 0 */
} fixture_t;

static fixture_t s_fixture; /* the tests only read it: one for the group */

static void s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* Hosts a and b; a drop of a every second from T0 + 1 s (and BDROPS of b
 * in the ms after T0, so that a query over all runs long enough for the
 * deadline to be looked at: every DEADLINE_STEPS VM steps); bursts of both
 * every 10 s from T0 + 10 s, each with a 40-tick profile. */
static int s_setup(void **state)
{
    fixture_t *f = &s_fixture;
    snprintf(f->dir, sizeof f->dir, "/tmp/test_api.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_non_null(f->stats = stats_board_new());
    char path[128], err[256], sql[1024];
    snprintf(path, sizeof path, "%s/db.sqlite", f->dir);
    store_t *w = store_open(path, true, err, sizeof err);
    assert_non_null(w);
    store_close(&w);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    s_exec(db, "BEGIN");
    s_exec(db, "INSERT INTO hosts (id, name, first_seen_ns, last_seen_ns) VALUES (1, 'a', 0, 0), "
               "(2, 'b', 0, 0)");
    s_exec(db, "INSERT INTO series_names (id, source, device, name) VALUES "
               "(1, 'snmp', '', 'Udp.RcvbufErrors')");
    s_exec(db, "INSERT INTO host_series (id, host_id, name_id, kind, layer, overlap) VALUES "
               "(1, 1, 1, 'counter', 'socket', 0)");
    for (int i = 1; i <= NDROPS; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO drops (host_id, layer, ts_ns, series_id, prev_ts_ns, "
                 "delta, overlap) VALUES (1, 'socket', %lld, 1, 0, %d, 0)",
                 (long long)(T0 + i * S), i);
        s_exec(db, sql);
    }
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k "
             "WHERE i < %d) INSERT INTO drops (host_id, layer, ts_ns, series_id, prev_ts_ns, "
             "delta, overlap) SELECT 2, 'socket', %lld + i, 1, 0, 1, 0 FROM k",
             BDROPS, (long long)T0);
    s_exec(db, sql);
    for (int i = 1; i <= NBURSTS; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO bursts (host_id, start_ns, iface, direction, end_ns, "
                 "peak_per_ms, packets, bytes, threshold_per_ms, drops_total, drops, "
                 "profile_start_ns, tick_ns, profile, profile_complete, corrected_start_ns, "
                 "uncertainty_ns) SELECT id, %lld + id * 1000, 'eth0', 'rx', %lld, 700, 2100, "
                 "210000, 256, 0, zeroblob(88), %lld, 1000000, zeroblob(160), 1, %lld + id * "
                 "1000, 1000 FROM hosts",
                 (long long)(T0 + i * 10 * S), (long long)(T0 + i * 10 * S + 3000000),
                 (long long)(T0 + i * 10 * S), (long long)(T0 + i * 10 * S));
        s_exec(db, sql);
    }
    /* A's probe gaps: five, a second apart; the last at the 64-bit end. */
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 5) "
             "INSERT INTO gaps (host_id, start_ns, grp, port, first_seq, end_ns, missing, "
             "last_seq) SELECT 1, %lld + i * %lld, '239.1.1.1', 5000, CASE i WHEN 5 THEN -3 ELSE "
             "i * 100 END, %lld + i * %lld + 1000, i, CASE i WHEN 5 THEN -1 ELSE i * 100 + i - 1 "
             "END FROM k",
             (long long)T0, (long long)S, (long long)T0, (long long)S);
    s_exec(db, sql);
    /* Host c: V1_DROPS drops of two series, two at each second from T0 +
     * 2000 s, past the range the other tests ask for. */
    s_exec(db, "INSERT INTO hosts (id, name, first_seen_ns, last_seen_ns) VALUES (3, 'c', 0, 0)");
    s_exec(db, "INSERT INTO series_names (id, source, device, name) VALUES "
               "(2, 'snmp', '', 'Udp.InErrors')");
    s_exec(db, "INSERT INTO host_series (id, host_id, name_id, kind, layer, overlap) VALUES "
               "(2, 3, 1, 'counter', 'socket', 0), (3, 3, 2, 'counter', 'socket', 0)");
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < %d) "
             "INSERT INTO drops (host_id, layer, ts_ns, series_id, prev_ts_ns, delta, overlap) "
             "SELECT 3, 'socket', %lld + i / 2 * %lld, 2 + i %% 2, 0, i + 1, 0 FROM k",
             V1_DROPS - 1, (long long)(T0 + 2000 * S), (long long)S);
    s_exec(db, sql);
    s_exec(db, "COMMIT");
    sqlite3_close(db);
    assert_non_null(f->st = store_open(path, false, err, sizeof err));
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    store_close(&s_fixture.st);
    stats_board_destroy(&s_fixture.stats);
    testlib_sh("rm -rf %s", s_fixture.dir);
    return 0;
}


/* GET path over the seeded range with limit (and host, unless NULL): the
 * answer's rows, its reply in *r. */
static json_t *s_get(fixture_t *f, const char *path, const char *limit, const char *host,
                     api_reply_t *r)
{
    stats_board_t *stats = s_fixture.stats;
    char from[32], to[32];
    snprintf(from, sizeof from, "%lld", (long long)T0);
    snprintf(to, sizeof to, "%lld", (long long)(T0 + 1000 * S));
    testlib_params_t p = {{"from", "to", "limit", host ? "host" : NULL, NULL},
                          {from, to, limit, host}};
    *r = api_get(f->st, stats, path, p.names, testlib_param, &p);
    assert_int_equal(r->status, 200);
    json_t *doc = json_loads(r->body, 0, NULL);
    assert_non_null(doc);
    free(r->body);
    return doc;
}

static void test_capped_keeps_newest(void **state)
{
    (void)state;
    fixture_t *f = &s_fixture;
    api_reply_t r;
    json_t *rows = s_get(f, "/api/drops", "5", "a", &r);
    assert_int_equal(json_array_size(rows), 5);
    for (size_t i = 0; i < 5; i++) /* the newest five, oldest first */
        assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, i), "ts_ns")),
                         T0 + (NDROPS - 4 + (int64_t)i) * S);
    assert_non_null(strstr(r.truncated, "limit (more than 5 rows: the newest 5 kept"));
    json_decref(rows);

    rows = s_get(f, "/api/drops", "20", "a", &r); /* exactly all: whole */
    assert_int_equal(json_array_size(rows), NDROPS);
    assert_string_equal(r.truncated, "");
    json_decref(rows);

    rows =
        s_get(f, "/api/bursts", "3", NULL, &r); /* both hosts' last burst, and one of b's before */
    assert_int_equal(json_array_size(rows), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 2), "start_ns")),
                     T0 + NBURSTS * 10 * S + 2000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "start_ns")),
                     T0 + (NBURSTS - 1) * 10 * S + 2000);
    assert_non_null(strstr(r.truncated, "limit (more than 3 rows"));
    json_decref(rows);

    rows = s_get(f, "/api/gaps", "2", "a", &r); /* the newest two of five, oldest first */
    assert_int_equal(json_array_size(rows), 2);
    json_t *g = json_array_get(rows, 0);
    assert_int_equal(json_integer_value(json_object_get(g, "start_ns")), T0 + 4 * S);
    assert_int_equal(json_integer_value(json_object_get(g, "first_seq")), 400);
    assert_int_equal(json_integer_value(json_object_get(g, "last_seq")), 403);
    assert_int_equal(json_integer_value(json_object_get(g, "missing")), 4);
    assert_string_equal(json_string_value(json_object_get(g, "group")), "239.1.1.1");
    assert_int_equal(json_object_size(g), 8); /* host, group, port, start, end, three counts */
    g = json_array_get(rows, 1); /* numbers past 2^63 - 1: reals, never negative */
    assert_true(json_is_real(json_object_get(g, "last_seq")));
    assert_true(json_real_value(json_object_get(g, "last_seq")) == 18446744073709551615.0);
    assert_non_null(strstr(r.truncated, "limit (more than 2 rows"));
    json_decref(rows);
    rows = s_get(f, "/api/gaps", "10", "b", &r);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);

    rows = s_get(f, "/api/incidents", "2", NULL, &r); /* the last two of 12 */
    assert_int_equal(json_array_size(rows), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 1), "id")), NBURSTS);
    assert_non_null(strstr(r.truncated, "limit (more than 2 rows"));
    json_decref(rows);
}

static int s_count(void *ctx, const drop_row_t *row)
{
    (void)row;
    (*(int *)ctx)++;
    return 0;
}

static void test_deadline(void **state)
{
    (void)state;
    fixture_t *f = &s_fixture;
    store_deadline_t d = {ts_mono_ns() - 1, false}; /* already past */
    store_set_deadline(f->st, &d);
    drops_query_t q = {.from_ns = 0, .to_ns = INT64_MAX};
    char err[256] = "";
    int n = 0;
    assert_int_equal(store_drops(f->st, &q, s_count, &n, err, sizeof err), -1);
    assert_true(d.passed);
    assert_non_null(strstr(err, "deadline"));
    d = (store_deadline_t){ts_mono_ns() + 60 * S, false}; /* far: the same connection answers */
    n = 0;
    assert_int_equal(store_drops(f->st, &q, s_count, &n, err, sizeof err), 0);
    assert_int_equal(n, NDROPS + BDROPS + V1_DROPS);
    assert_false(d.passed);
    store_set_deadline(f->st, NULL);

    api_reply_t r = api_too_slow("/api/timeline", 2500 * TS_NS_PER_MS);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "/api/timeline took longer than 2.5 s (the limit, "
                                   "--query-timeout); narrow the range"));
    free(r.body);
}

static void test_incidents_bounded(void **state)
{
    (void)state;
    fixture_t *f = &s_fixture;
    char err[256];
    rows_cut_t cut = ROWS_CUT_INIT;
    /* 24 bursts, 7 at most: the newest 8 are read (the 8th says there were
     * more), the oldest of them (a's 9th) is dropped, as its peer may be
     * beyond the bound, and b's 9th stays alone: three incidents */
    incidents_query_t q = {T0, T0 + 1000 * S, 2 * TS_NS_PER_MS, 2, 100, 7};
    incidents_t *found = incidents_find(f->st, &q, &cut, err, sizeof err);
    assert_non_null(found);
    assert_int_equal(found->n, 3);
    assert_int_equal(cut.bursts_from_ns, T0 + (NBURSTS - 3) * 10 * S + 1000);
    assert_int_equal(cut.bursts_read, 7);
    assert_false(cut.limit);
    char words[512];
    rows_cut_words(&cut, 100, 1000, words, sizeof words);
    assert_non_null(strstr(words, "bursts (more bursts than the 7 newest read, after "));
    incidents_destroy(&found);
}

static void test_profile_budget(void **state)
{
    (void)state;
    uint32_t ticks[40] = {0};
    burst_row_t b = {
        .host = "a", .iface = "eth0", .direction = "rx", .nprofile = 40, .profile = ticks};
    rows_cut_t cut = ROWS_CUT_INIT;
    cut.ticks_left = 50;
    json_t *first = rows_burst(&b, &cut), *second = rows_burst(&b, &cut);
    assert_int_equal(json_array_size(json_object_get(first, "profile")), 40);
    assert_null(json_object_get(first, "profile_omitted"));
    assert_int_equal(json_array_size(json_object_get(second, "profile")), 0);
    assert_true(json_is_true(json_object_get(second, "profile_omitted")));
    assert_true(cut.profiles);
    assert_int_equal(cut.ticks_left, 10);
    json_decref(first);
    json_decref(second);
}

/* /api/totals sums every drop of the range, however many rows a list of
 * them would be cut to: host a's 20 deltas 1..20, host b's 2,000 ones. */
static void test_totals(void **state)
{
    (void)state;
    api_reply_t r;
    json_t *doc = s_get(&s_fixture, "/api/drops", "7", "a", &r);
    assert_int_equal(json_array_size(doc), 7); /* a capped list: its sum would be 14+..+20 */
    json_decref(doc);
    stats_board_t *stats = s_fixture.stats;
    char from[32], to[32];
    snprintf(from, sizeof from, "%lld", (long long)T0);
    snprintf(to, sizeof to, "%lld", (long long)(T0 + 1000 * S));
    testlib_params_t p = {{"from", "to", "host", NULL}, {from, to, "a"}};
    r = api_get(s_fixture.st, stats, "/api/totals", p.names, testlib_param, &p);
    assert_int_equal(r.status, 200);
    doc = json_loads(r.body, 0, NULL);
    free(r.body);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), NDROPS * (NDROPS + 1) / 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "layers"), "socket")),
                     NDROPS * (NDROPS + 1) / 2);
    json_decref(doc);
    p.names[2] = NULL; /* every host */
    r = api_get(s_fixture.st, stats, "/api/totals", p.names, testlib_param, &p);
    doc = json_loads(r.body, 0, NULL);
    free(r.body);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")),
                     NDROPS * (NDROPS + 1) / 2 + BDROPS);
    json_decref(doc);
    p.names[2] = "limit"; /* a list's parameter, not a total's */
    p.values[2] = "7";
    r = api_get(s_fixture.st, stats, "/api/totals", p.names, testlib_param, &p);
    assert_int_equal(r.status, 400);
    free(r.body);
}

/* /api/explain: the counter reference of a series, as `dropscope explain`
 * and the web view show it; a name that is not source/device/name is a 400
 * that shows the form. */
static void test_explain(void **state)
{
    (void)state;
    stats_board_t *stats = s_fixture.stats;
    testlib_params_t p = {{"series", NULL}, {"snmp//Udp.RcvbufErrors"}};
    api_reply_t r = api_get(s_fixture.st, stats, "/api/explain", p.names, testlib_param, &p);
    assert_int_equal(r.status, 200);
    json_t *doc = json_loads(r.body, 0, NULL);
    free(r.body);
    assert_string_equal(json_string_value(json_object_get(doc, "layer")), "socket");
    assert_string_equal(json_string_value(json_object_get(doc, "device")), "");
    assert_true(json_is_true(json_object_get(doc, "drop")));
    assert_true(json_is_false(json_object_get(doc, "overlap")));
    assert_non_null(strstr(json_string_value(json_object_get(doc, "meaning")), "receive buffer"));
    assert_non_null(strstr(json_string_value(json_object_get(doc, "setting")), "rmem_max"));
    assert_non_null(strstr(json_string_value(json_object_get(doc, "remedy")), "rmem_max"));
    json_decref(doc);
    p.values[0] = "softnet/cpu3/flow_limit_count";
    r = api_get(s_fixture.st, stats, "/api/explain", p.names, testlib_param, &p);
    doc = json_loads(r.body, 0, NULL);
    free(r.body);
    assert_string_equal(json_string_value(json_object_get(doc, "layer")), "backlog");
    assert_string_equal(json_string_value(json_object_get(doc, "device")), "cpu3");
    assert_true(json_is_true(json_object_get(doc, "overlap")));
    assert_non_null(strstr(json_string_value(json_object_get(doc, "setting")),
                           "netdev_max_backlog"));
    json_decref(doc);
    p.values[0] = "Udp.RcvbufErrors";
    r = api_get(s_fixture.st, stats, "/api/explain", p.names, testlib_param, &p);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "source/device/name"));
    free(r.body);
}

/* /api/vocabulary: the words the other answers use, as common/ defines
 * them (a client keeps no copy): the drop layers in path order with their
 * text, the sources, and the duration units with what each parses to. */
static void test_vocabulary(void **state)
{
    (void)state;
    testlib_params_t p = {{NULL}, {NULL}};
    api_reply_t r =
        api_get(s_fixture.st, s_fixture.stats, "/api/vocabulary", p.names, testlib_param, &p);
    assert_int_equal(r.status, 200);
    json_t *doc = json_loads(r.body, 0, NULL), *v;
    free(r.body);
    json_t *layers = json_object_get(doc, "layers");
    assert_int_equal(json_array_size(layers), LAYER_NPATH);
    size_t i;
    json_array_foreach(layers, i, v) {
        counter_text_t t = counters_layer_text(layer_path[i]);
        assert_string_equal(json_string_value(json_object_get(v, "name")),
                            layer_name(layer_path[i]));
        /* budget, and only budget, is marked: its counts are squeezes, not drops */
        assert_int_equal(json_is_true(json_object_get(v, "precursor")),
                         layer_path[i] == LAYER_BUDGET);
        assert_string_equal(json_string_value(json_object_get(v, "setting")), t.setting);
        assert_string_equal(json_string_value(json_object_get(v, "remedy")), t.remedy);
        assert_true(strlen(json_string_value(json_object_get(v, "meaning"))) > 5);
    }
    assert_string_equal(json_string_value(json_object_get(doc, "squeezes")),
                        "squeezes (softirq budget ran out: a precursor, not a loss)");
    json_t *sources = json_object_get(doc, "sources");
    assert_int_equal(json_array_size(sources), SOURCE_COUNT - 1);
    json_array_foreach(sources, i, v)
        assert_int_equal(source_from_name(json_string_value(v)), (source_t)(i + 1));
    json_t *units = json_object_get(doc, "durations");
    assert_true(json_array_size(units) >= 6);
    json_array_foreach(units, i, v) { /* "1<unit>" is what the parameters take it to be */
        char text[16];
        int64_t ns = 0;
        snprintf(text, sizeof text, "1%s", json_string_value(json_object_get(v, "unit")));
        assert_int_equal(ts_parse_duration(text, &ns), 0);
        assert_int_equal(ns, json_integer_value(json_object_get(v, "ns")));
    }
    json_decref(doc);
    p = (testlib_params_t){{"layer", NULL}, {"nic"}};
    r = api_get(s_fixture.st, s_fixture.stats, "/api/vocabulary", p.names, testlib_param, &p);
    assert_int_equal(r.status, 400);
    free(r.body);
    /* and a layer that is not one is refused with the vocabulary's list */
    p = (testlib_params_t){{"layer", NULL}, {"ring"}};
    r = api_get(s_fixture.st, s_fixture.stats, "/api/totals", p.names, testlib_param, &p);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "(nic, budget, backlog, qdisc, proto, listen, socket, onload)"));
    free(r.body);
}

/* GET a /api/v1/ request written as a URL (its values need no unescaping):
 * the envelope, status 200 checked. */
static json_t *s_get_url(const char *url)
{
    char copy[512], *query;
    snprintf(copy, sizeof copy, "%s", url);
    testlib_params_t p = {{NULL}, {NULL}};
    if ((query = strchr(copy, '?'))) {
        *query++ = '\0';
        size_t n = 0;
        for (char *save = NULL, *kv = strtok_r(query, "&", &save); kv && n < 7;
             kv = strtok_r(NULL, "&", &save), n++) {
            char *eq = strchr(kv, '=');
            assert_non_null(eq);
            *eq = '\0';
            p.names[n] = kv;
            p.values[n] = eq + 1;
        }
    }
    api_reply_t r = api_get(s_fixture.st, s_fixture.stats, copy, p.names, testlib_param, &p);
    if (r.status != 200)
        fail_msg("%s: %d %s", url, r.status, r.body);
    json_t *doc = json_loads(r.body, 0, NULL);
    free(r.body);
    assert_non_null(doc);
    return doc;
}

/* Host c's range on /api/v1/ (times with their unit), limit rows a page. */
static json_t *s_v1_drops(int limit)
{
    char url[256];
    snprintf(url, sizeof url, "/api/v1/drops?host=c&from=@%lld&to=%llds&limit=%d",
             (long long)(T0 / S + 1500), (long long)(T0 / S + 3000), limit);
    return s_get_url(url);
}

/* The versioned API's envelope and pages: 49 rows of host c asked 5 at a
 * time are 5, truncated, with a next; asked 100 at a time, all 49, whole;
 * following next (pages of 5 and of 3, which cut a second's two rows
 * apart) gives the 49 newest first, none twice, none left out. Times come
 * also as RFC 3339, to the ns. */
static void test_v1_pages(void **state)
{
    (void)state;
    json_t *whole = s_v1_drops(100), *data = json_object_get(whole, "data");
    assert_int_equal(json_array_size(data), V1_DROPS);
    assert_false(json_is_true(json_object_get(whole, "truncated")));
    assert_true(json_is_null(json_object_get(whole, "next")));
    assert_true(json_is_null(json_object_get(whole, "truncated_reason")));
    json_t *newest = json_array_get(data, 0);
    int64_t ts = json_integer_value(json_object_get(newest, "ts_ns"));
    assert_int_equal(ts, T0 + 2000 * S + (V1_DROPS - 1) / 2 * S); /* newest first */
    char when[TS_EXACT_SIZE];
    assert_string_equal(json_string_value(json_object_get(newest, "ts_time")),
                        ts_format_exact(ts, when, sizeof when));
    for (int size = 5; size >= 3; size -= 2) {
        json_t *page = s_v1_drops(size), *got = json_array();
        assert_int_equal(json_array_size(json_object_get(page, "data")), size);
        assert_true(json_is_true(json_object_get(page, "truncated")));
        assert_non_null(strstr(json_string_value(json_object_get(page, "truncated_reason")),
                               "limit"));
        for (int pages = 1;; pages++) {
            json_array_extend(got, json_object_get(page, "data"));
            const char *next = json_string_value(json_object_get(page, "next"));
            if (!next) {
                assert_int_equal(pages, (V1_DROPS + size - 1) / size);
                break;
            }
            json_t *after = s_get_url(next);
            json_decref(page);
            page = after;
        }
        json_decref(page);
        if (!json_equal(got, data))
            fail_msg("pages of %d are not the whole list: %s", size, json_dumps(got, 0));
        json_decref(got);
    }
    json_decref(whole);
}

/* Times as people write them; a bare number, whose unit is unknown, is
 * refused on /api/v1/ with the forms (on /api/ it is ns, as before); the
 * versioned API's own parameters are refused on /api/. */
static void test_v1_refusals(void **state)
{
    (void)state;
    static const char *const refused[][2] = {
        {"/api/v1/drops", "from"}, {"/api/drops", "order"}, {"/api/v1/drops", "cursor"}};
    const char *values[] = {"1796317200", "oldest", "12x"};
    for (size_t i = 0; i < 3; i++) {
        testlib_params_t p = {{refused[i][1], NULL}, {values[i]}};
        api_reply_t r = api_get(s_fixture.st, s_fixture.stats, refused[i][0], p.names,
                                testlib_param, &p);
        assert_int_equal(r.status, 400);
        const char *want[] = {"RFC 3339 (", "ask /api/v1/drops", "copy the answer's next"};
        if (!strstr(r.body, want[i]))
            fail_msg("%s?%s=%s: %s", refused[i][0], refused[i][1], values[i], r.body);
        free(r.body);
    }
    json_t *doc = s_get_url("/api/v1/vocabulary"); /* an object: in the envelope too */
    assert_true(json_is_object(json_object_get(doc, "data")));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capped_keeps_newest),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_incidents_bounded),
        cmocka_unit_test(test_profile_budget),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_totals),
        cmocka_unit_test(test_vocabulary),
        cmocka_unit_test(test_v1_pages),
        cmocka_unit_test(test_v1_refusals),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
