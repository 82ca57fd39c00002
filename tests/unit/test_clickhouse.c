/* Tests aggregator/clickhouse against a real clickhouse-server, started for
 * this test in a directory of its own (tests/tools/clickhouse-test-server.sh;
 * the tests that need it are skipped when clickhouse-server is not
 * installed): the URL's checks and their messages; the version check; a
 * database and a MergeTree table made, thousands of rows inserted as
 * RowBinary and read back as RowBinary value for value (strings to escape,
 * NUL, UTF-8 and not, empty; UInt64 above 2^63, negative Int64, Float64
 * specials, arrays), a partition dropped; clickhouse_quote's literals read
 * back byte for byte; the server's exception for a missing table and a
 * syntax error; credentials, right and wrong; a request timing out; the
 * RowBinary reader refusing every prefix of a real answer; and a stopped
 * server's message. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clickhouse.h"
#include "rowbinary.h"
#include "testlib.h"

#define NROWS 5000u
#define TS0 1700000000u /* 2023-11-14T22:13:20Z; rows a minute apart span four days */

/* The server of this run. */
static testlib_ch_t s_srv;
static char s_url[128]; /* http://127.0.0.1:PORT/?database=dstest */

static int s_setup(void **state)
{
    (void)state;
    if (testlib_ch_start(&s_srv, "clickhouse") != 0)
        return -1;
    snprintf(s_url, sizeof s_url, "http://127.0.0.1:%d/?database=dstest", s_srv.port);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    return testlib_ch_destroy(&s_srv);
}

/* A client of the test server (the database dstest), made for the test. */
static clickhouse_t *s_client(const char *user, const char *password)
{
    if (s_srv.absent)
        skip();
    assert_true(s_srv.running);
    char err[512] = "";
    clickhouse_t *ch = clickhouse_new(s_url, user, password, err, sizeof err);
    if (!ch)
        fail_msg("clickhouse_new: %s", err);
    return ch;
}

/* The answer to sql; the test fails on an error. Borrowed from ch. */
static const uint8_t *s_query(clickhouse_t *ch, const char *sql, size_t *len)
{
    const uint8_t *answer = NULL;
    char err[1024] = "";
    if (clickhouse_query(ch, sql, &answer, len, err, sizeof err) != 0)
        fail_msg("%s: %s", sql, err);
    return answer;
}

static void s_exec(clickhouse_t *ch, const char *sql)
{
    char err[1024] = "";
    if (clickhouse_exec(ch, sql, err, sizeof err) != 0)
        fail_msg("%s: %s", sql, err);
}

/* --- the URL, pure ------------------------------------------------------------- */

/* clickhouse_new refuses url, with an error holding want. */
static void s_refused(const char *url, const char *user, const char *password, const char *want)
{
    char err[512] = "";
    clickhouse_t *ch = clickhouse_new(url, user, password, err, sizeof err);
    assert_null(ch);
    if (!strstr(err, want))
        fail_msg("url %s: error \"%s\" lacks \"%s\"", url, err, want);
}

static void test_url_errors(void **state)
{
    (void)state;
    const char *form = "http://HOST:PORT/?database=NAME";
    s_refused("http://127.0.0.1:8123/", NULL, NULL, "database=");
    s_refused("http://127.0.0.1:8123/", NULL, NULL, form);
    s_refused("http://127.0.0.1:8123/?db=x", NULL, NULL, "exactly one parameter, database=");
    s_refused("http://127.0.0.1:8123/?database=x&foo=1", NULL, NULL, "exactly one parameter");
    s_refused("ftp://127.0.0.1:8123/?database=x", NULL, NULL, "is not http:// or https://");
    s_refused("127.0.0.1:8123/?database=x", NULL, NULL, form);
    s_refused("http://127.0.0.1:8123/?database=1abc", NULL, NULL,
              "database '1abc' is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*");
    s_refused("http://127.0.0.1:8123/?database=a;DROP", NULL, NULL, "not a plain identifier");
    s_refused("http://127.0.0.1:8123/?database=", NULL, NULL, "not a plain identifier");
    char url[256];
    snprintf(url, sizeof url, "http://h/?database=%0129d", 0); /* 129 characters */
    url[strlen("http://h/?database=")] = 'd';
    s_refused(url, NULL, NULL, "128 characters at most");
    s_refused("http://127.0.0.1:99999/?database=x", NULL, NULL, "cannot be parsed");
    s_refused("http://127.0.0.1:8123/?database=x#top", NULL, NULL, "#fragment");
    s_refused("http://127.0.0.1:8123/?database=x", "bob\r\nX-Evil: 1", NULL,
              "user name given holds");
    s_refused("http://127.0.0.1:8123/?database=x", "bob", "pw\n", "password given holds");

    /* Credentials in the URL are refused, and not repeated in the message. */
    char err[512] = "";
    assert_null(
        clickhouse_new("http://bob:s3cret@db1:8123/?database=x", NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "holds credentials"));
    assert_null(strstr(err, "s3cret"));
    assert_null(clickhouse_new("tcp://bob:s3cret@db1:9000/", NULL, NULL, err, sizeof err));
    assert_null(strstr(err, "s3cret"));

    clickhouse_t *ch = clickhouse_new("HTTPS://db1/?database=_drops2", "u", "p", err, sizeof err);
    assert_non_null(ch);
    assert_string_equal(clickhouse_database(ch), "_drops2");
    clickhouse_destroy(&ch);
    assert_null(ch);
    clickhouse_destroy(&ch); /* safe twice */
    clickhouse_destroy(NULL);
}

static void test_quote(void **state)
{
    (void)state;
    static const struct {
        const char *in, *literal;
    } cases[] = {
        {"", "''"},
        {"it's a\\b\n\x01\x7f", "'it\\'s a\\\\b\\x0A\\x01\\x7F'"},
        {"h\xc3\xa9", "'h\xc3\xa9'"}, /* UTF-8 as it is */
        {"a'b", "'a\\'b'"},
    };
    char out[64];
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        assert_int_equal(clickhouse_quote(cases[k].in, out, sizeof out), 0);
        assert_string_equal(out, cases[k].literal);
        char *dup = clickhouse_quote_dup(cases[k].in);
        assert_string_equal(dup, cases[k].literal);
        free(dup);
    }
    /* Too small: nothing half-quoted. "'abc'" needs 6 bytes. */
    assert_int_equal(clickhouse_quote("abc", out, 5), -1);
    assert_string_equal(out, "");
    assert_int_equal(clickhouse_quote("abc", out, 6), 0);
    assert_string_equal(out, "'abc'");

    assert_true(clickhouse_is_identifier("drops_1m"));
    assert_true(clickhouse_is_identifier("_x"));
    assert_false(clickhouse_is_identifier(""));
    assert_false(clickhouse_is_identifier("1x"));
    assert_false(clickhouse_is_identifier("a-b"));
    assert_false(clickhouse_is_identifier("a b"));
    assert_false(clickhouse_is_identifier(NULL));
}

static void test_version_ok(void **state)
{
    (void)state;
    char err[256] = "";
    assert_int_equal(clickhouse_version_ok(18, 16, err, sizeof err), 0);
    assert_int_equal(clickhouse_version_ok(18, 17, err, sizeof err), 0);
    assert_int_equal(clickhouse_version_ok(19, 1, err, sizeof err), 0);
    assert_int_equal(clickhouse_version_ok(24, 3, err, sizeof err), 0);
    assert_int_equal(clickhouse_version_ok(18, 14, err, sizeof err), -1);
    assert_string_equal(err, "clickhouse-server 18.14 is too old: dropscope needs 18.16 or newer "
                             "(upgrade clickhouse-server)");
    assert_int_equal(clickhouse_version_ok(1, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "1.1 is too old"));
}

/* --- against the server ----------------------------------------------------------- */

static void test_version(void **state)
{
    (void)state;
    clickhouse_t *ch = s_client(NULL, NULL);
    char err[512] = "";
    int major = -1, minor = -1;
    assert_int_equal(clickhouse_version(ch, &major, &minor, err, sizeof err), 0);
    print_message("clickhouse-server %d.%d\n", major, minor);
    assert_true(major > 18 || (major == 18 && minor >= 16));
    assert_int_equal(clickhouse_check_version(ch, err, sizeof err), 0);
    clickhouse_destroy(&ch);
}

/* One row of the table, as made by s_row from its id alone. */
typedef struct {
    uint32_t id, ts;
    uint64_t u;
    int64_t i;
    double f;
    char s[1100];
    size_t slen;
    uint32_t a[5];
    size_t na;
} row_t;

#define LIT(x)                                                                                     \
    {                                                                                              \
        x, sizeof x - 1                                                                            \
    }
static const struct {
    const char *s;
    size_t len;
} S_SPECIAL[] = {
    LIT(""),
    LIT("'"),
    LIT("\\"),
    LIT("it's a \\'quoted\\' \"word\""),
    LIT("tab\there\nnew line\r\n"),
    LIT("nul\0inside"),
    LIT("h\xc3\xa9llo w\xc3\xb6rld \xe2\x98\x83 \xf0\x9f\x98\x80"), /* UTF-8, up to 4 bytes */
    LIT("''''"),
    LIT("\xff\xfe not UTF-8 \x80"),
    LIT("'); DROP TABLE rows; --"),
};
#define NSPECIAL (sizeof S_SPECIAL / sizeof *S_SPECIAL)

static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return x;
}

static void s_row(uint32_t id, row_t *r)
{
    static const double special[] = {
        -0.0, INFINITY, -INFINITY, 1.7976931348623157e308, 2.2250738585072014e-308, 4.9e-324, NAN};
    memset(r, 0, sizeof *r);
    r->id = id;
    r->ts = TS0 + id * 60u;
    const uint64_t u[] = {UINT64_MAX - id, (UINT64_C(1) << 63) + id * UINT64_C(2654435761), id,
                          s_mix(id + 1)};
    r->u = u[id % 4];
    const int64_t i[] = {-(int64_t)id * 1000003, INT64_MIN + id, INT64_MAX - id, -1};
    r->i = i[id % 4];
    r->f = id < sizeof special / sizeof *special ? special[id] : (double)id * -0.37 + 1e-9 * id;
    if (id < NSPECIAL) {
        memcpy(r->s, S_SPECIAL[id].s, S_SPECIAL[id].len);
        r->slen = S_SPECIAL[id].len;
    } else {
        /* "row N", then id % 40 bytes of any value; every 997th a long one */
        int n = snprintf(r->s, sizeof r->s, "row %u ", id);
        size_t extra = id % 997 == 0 ? 1000 : id % 40;
        uint64_t x = s_mix(id);
        for (size_t k = 0; k < extra; k++, x = s_mix(x))
            r->s[n + k] = (char)(x & 0xff);
        r->slen = (size_t)n + extra;
    }
    r->na = id % 6;
    for (size_t k = 0; k < r->na; k++)
        r->a[k] = id * (uint32_t)k + (uint32_t)k;
}

static void s_write_row(rbw_t *w, const row_t *r)
{
    rbw_u32(w, r->id);
    rbw_u32(w, r->ts); /* DateTime */
    rbw_u64(w, r->u);
    rbw_i64(w, r->i);
    rbw_f64(w, r->f);
    rbw_string(w, r->s, r->slen);
    rbw_array_len(w, r->na);
    for (size_t k = 0; k < r->na; k++)
        rbw_u32(w, r->a[k]);
}

/* Reads one row (id, ts, u, i, f, s, a) into *r; false when the reader
 * failed. */
static bool s_read_row(rbr_t *rd, row_t *r)
{
    const char *s = NULL;
    uint64_t na = 0;
    memset(r, 0, sizeof *r);
    rbr_u32(rd, &r->id);
    rbr_u32(rd, &r->ts);
    rbr_u64(rd, &r->u);
    rbr_i64(rd, &r->i);
    rbr_f64(rd, &r->f);
    if (rbr_string(rd, &s, &r->slen) == 0 && r->slen <= sizeof r->s)
        memcpy(r->s, s, r->slen);
    if (rbr_array_len(rd, &na) == 0 && na <= 5)
        r->na = (size_t)na;
    for (size_t k = 0; k < r->na; k++)
        rbr_u32(rd, &r->a[k]);
    return !rbr_failed(rd) && na <= 5;
}

static void s_assert_row(const row_t *got, uint32_t id)
{
    row_t want;
    s_row(id, &want);
    assert_int_equal(got->id, id);
    assert_int_equal(got->ts, want.ts);
    assert_true(got->u == want.u);
    assert_true(got->i == want.i);
    assert_memory_equal(&got->f, &want.f, sizeof got->f); /* bit for bit: -0.0, NaN */
    assert_int_equal(got->slen, want.slen);
    assert_memory_equal(got->s, want.s, want.slen);
    assert_int_equal(got->na, want.na);
    for (size_t k = 0; k < want.na; k++)
        assert_int_equal(got->a[k], want.a[k]);
}

#define COLUMNS "id, ts, u, i, f, s, a"

static void s_insert(clickhouse_t *ch, rbw_t *w, uint32_t from, uint32_t to)
{
    row_t r;
    rbw_reset(w);
    for (uint32_t id = from; id < to; id++) {
        s_row(id, &r);
        s_write_row(w, &r);
    }
    assert_false(rbw_failed(w));
    char err[1024] = "";
    if (clickhouse_insert(ch, "rows (" COLUMNS ")", rbw_data(w), rbw_len(w), err,
                          sizeof err) != 0)
        fail_msg("insert: %s", err);
}

/* Makes dstest.rows with NROWS rows, inserted in two requests. */
static void s_make_table(clickhouse_t *ch)
{
    char err[512] = "";
    const char *mkdb = "CREATE DATABASE IF NOT EXISTS dstest";
    assert_int_equal(clickhouse_exec_nodb(ch, mkdb, err, sizeof err), 0);
    assert_int_equal(clickhouse_exec_nodb(ch, mkdb, err, sizeof err), 0); /* and again */
    s_exec(ch, "DROP TABLE IF EXISTS rows");
    s_exec(ch, "CREATE TABLE rows (id UInt32, ts DateTime, u UInt64, i Int64, f Float64, "
               "s String, a Array(UInt32)) "
               "ENGINE = MergeTree() PARTITION BY toYYYYMMDD(ts) ORDER BY id");
    rbw_t *w = rbw_new();
    assert_non_null(w);
    s_insert(ch, w, 0, NROWS / 2);
    s_insert(ch, w, NROWS / 2, NROWS); /* the same handle and connection */
    rbw_destroy(&w);
    assert_null(w);
}

/* The first column, a UInt32 or UInt64 (bytes 4 or 8), of the one row of sql. */
static uint64_t s_scalar(clickhouse_t *ch, const char *sql, int bytes)
{
    size_t len;
    const uint8_t *answer = s_query(ch, sql, &len);
    rbr_t rd = rbr_init(answer, len);
    uint64_t n = 0;
    uint32_t n32 = 0;
    assert_int_equal(bytes == 4 ? rbr_u32(&rd, &n32) : rbr_u64(&rd, &n), 0);
    assert_false(rbr_more(&rd));
    return bytes == 4 ? n32 : n;
}

static void test_roundtrip(void **state)
{
    (void)state;
    clickhouse_t *ch = s_client(NULL, NULL);
    s_make_table(ch);
    size_t len;
    const uint8_t *answer =
        s_query(ch, "SELECT " COLUMNS " FROM rows ORDER BY id FORMAT RowBinary", &len);
    rbr_t rd = rbr_init(answer, len);
    uint32_t n = 0;
    for (row_t r; rbr_more(&rd); n++) {
        assert_true(s_read_row(&rd, &r));
        s_assert_row(&r, n);
    }
    assert_false(rbr_failed(&rd));
    assert_int_equal(n, NROWS);

    /* The first day's partition dropped (ALTER through clickhouse_exec). */
    uint64_t day = s_scalar(ch, "SELECT toYYYYMMDD(min(ts)) FROM rows FORMAT RowBinary", 4);
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT count() FROM rows WHERE toYYYYMMDD(ts) = %" PRIu64 " FORMAT RowBinary", day);
    uint64_t in_day = s_scalar(ch, sql, 8);
    assert_true(in_day > 0 && in_day < NROWS);
    snprintf(sql, sizeof sql, "ALTER TABLE rows DROP PARTITION %" PRIu64, day);
    s_exec(ch, sql);
    assert_int_equal(s_scalar(ch, "SELECT count() FROM rows FORMAT RowBinary", 8), NROWS - in_day);
    clickhouse_destroy(&ch);
}

/* Every string through clickhouse_quote reads back byte for byte. */
static void test_quote_roundtrip(void **state)
{
    (void)state;
    clickhouse_t *ch = s_client(NULL, NULL);
    char all[256];
    for (int c = 1; c < 256; c++)
        all[c - 1] = (char)c;
    all[255] = '\0';
    const char *cases[] = {"",
                           "'",
                           "\\",
                           "\\'",
                           "'\\",
                           "a\\'b",
                           "it's",
                           "\n\t\r",
                           "\x01\x1f\x7f",
                           "h\xc3\xa9llo \xf0\x9f\x98\x80",
                           "\xff",
                           "'); DROP TABLE rows; --",
                           all};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char *lit = clickhouse_quote_dup(cases[k]);
        char *sql;
        assert_true(asprintf(&sql, "SELECT %s FORMAT RowBinary", lit) > 0);
        size_t len;
        const uint8_t *answer = s_query(ch, sql, &len);
        rbr_t rd = rbr_init(answer, len);
        const char *s;
        size_t slen;
        assert_int_equal(rbr_string(&rd, &s, &slen), 0);
        assert_false(rbr_more(&rd));
        assert_int_equal(slen, strlen(cases[k]));
        assert_memory_equal(s, cases[k], slen);
        free(sql);
        free(lit);
    }
    clickhouse_destroy(&ch);
}

static void test_server_errors(void **state)
{
    (void)state;
    clickhouse_t *ch = s_client(NULL, NULL);
    char err[1024] = "";
    uint8_t row[4] = {1, 0, 0, 0};
    assert_int_equal(clickhouse_insert(ch, "nope (x)", row, sizeof row, err, sizeof err), -1);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "refused \"INSERT INTO nope (x) FORMAT RowBinary\""));
    assert_non_null(strstr(err, "Code: 60"));
    assert_non_null(strstr(err, "nope"));
    assert_null(strchr(err, '\n'));

    /* A syntax error: 18.16 quotes the statement across lines; one line here. */
    assert_int_equal(clickhouse_exec(ch, "SELEKT 1\nFROM x", err, sizeof err), -1);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "Code: 62"));
    assert_null(strchr(err, '\n'));
    assert_null(strstr(err, "e.what()"));

    /* Settings: refused when malformed, passed on with every request when not. */
    assert_int_equal(clickhouse_set_settings(ch, "a b=1", err, sizeof err), -1);
    assert_non_null(strstr(err, "not name=value pairs"));
    assert_int_equal(clickhouse_set_settings(ch, "no_such_setting_x=1", err, sizeof err), 0);
    assert_int_equal(clickhouse_exec(ch, "SELECT 1", err, sizeof err), -1);
    assert_non_null(strstr(err, "no_such_setting_x"));
    const uint8_t *answer;
    size_t len;
    assert_int_equal(clickhouse_set_settings(ch, "max_threads=3", err, sizeof err), 0);
    assert_int_equal(clickhouse_query(ch, "SELECT value FROM system.settings WHERE name = "
                                          "'max_threads' FORMAT TabSeparated",
                                      &answer, &len, err, sizeof err),
                     0);
    assert_string_equal((const char *)answer, "3\n");
    clickhouse_destroy(&ch);
}

static void test_auth(void **state)
{
    (void)state;
    clickhouse_t *ch = s_client("auth_user", "auth-password");
    const uint8_t *answer;
    size_t len;
    char err[1024] = "";
    assert_int_equal(
        clickhouse_query(ch, "SELECT 1 FORMAT TabSeparated", &answer, &len, err, sizeof err), 0);
    assert_int_equal(len, 2);
    assert_string_equal((const char *)answer, "1\n"); /* a NUL after the answer */
    clickhouse_destroy(&ch);

    ch = s_client("auth_user", "not-the-password");
    assert_int_equal(
        clickhouse_query(ch, "SELECT 1 FORMAT TabSeparated", &answer, &len, err, sizeof err), -1);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "password"));
    assert_non_null(strstr(err, "check the ClickHouse user and password the aggregator was given"));
    assert_null(strstr(err, "not-the-password"));
    clickhouse_destroy(&ch);

    ch = s_client("no_such_user", NULL);
    assert_int_equal(
        clickhouse_query(ch, "SELECT 1 FORMAT TabSeparated", &answer, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "no_such_user"));
    assert_non_null(strstr(err, "check the ClickHouse user and password"));
    clickhouse_destroy(&ch);
}

/* The reader with exactly the SELECT's columns refuses every prefix of a
 * real answer: one that stops at a row's end is refused too, since the
 * rows asked for are not all there. */
#define PREFIX_ROWS 40

static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    size_t full = *(size_t *)arg;
    rbr_t rd = rbr_init(buf, k);
    row_t r;
    bool ok = true;
    for (uint32_t n = 0; n < PREFIX_ROWS; n++)
        ok = s_read_row(&rd, &r) && ok;
    if (k < full) {
        assert_false(ok);
        assert_true(rbr_failed(&rd));
        char err[256];
        rbr_error(&rd, err, sizeof err);
        assert_non_null(strstr(err, "cut short"));
    } else {
        assert_true(ok);
        assert_false(rbr_more(&rd));
        assert_int_equal(r.id, PREFIX_ROWS - 1);
    }
}

static void test_reader_prefixes(void **state)
{
    (void)state;
    clickhouse_t *ch = s_client(NULL, NULL);
    size_t len;
    /* The table's column types, made up by the server: no table needed. */
    const uint8_t *answer =
        s_query(ch,
                "SELECT toUInt32(number), toDateTime(1700000000 + number), "
                "bitNot(toUInt64(number)), -toInt64(number), number / 7, "
                "concat('row ', toString(number), ' \\'quoted\\''), range(toUInt32(number % 4)) "
                "FROM system.numbers LIMIT 40 FORMAT RowBinary", /* PREFIX_ROWS */
                &len);
    char *copy = testlib_copy((const char *)answer, len);
    clickhouse_destroy(&ch); /* the answer was the client's: the copy outlives it */
    testlib_every_prefix(copy, len, s_check_prefix, &len);
    free(copy);
}

/* A server that accepts the connection (the kernel's backlog) and never
 * answers: the request's timeout ends it, whatever the machine's speed. */
static void test_timeout(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t salen = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
    char url[96], err[512] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/?database=x", ntohs(sa.sin_port));
    clickhouse_t *ch = clickhouse_new(url, NULL, NULL, err, sizeof err);
    assert_non_null(ch);
    clickhouse_set_timeout_ms(ch, 0, 300);
    assert_int_equal(clickhouse_exec(ch, "SELECT 1", err, sizeof err), -1);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "timed out"));
    assert_non_null(strstr(err, "is clickhouse-server running and listening there"));
    char where[64];
    snprintf(where, sizeof where, "127.0.0.1:%d/", ntohs(sa.sin_port));
    assert_non_null(strstr(err, where));
    clickhouse_destroy(&ch);
    close(fd);
}

/* Last: stops the server under a client whose connection is kept alive. */
static void test_stopped_server(void **state)
{
    (void)state;
    clickhouse_t *ch = s_client(NULL, NULL);
    char err[512] = "", where[64];
    assert_int_equal(clickhouse_exec(ch, "SELECT 1", err, sizeof err), 0);
    assert_int_equal(testlib_ch_stop(&s_srv), 0);
    assert_int_equal(clickhouse_exec(ch, "SELECT 1", err, sizeof err), -1);
    print_message("%s\n", err);
    snprintf(where, sizeof where, "cannot reach clickhouse at http://127.0.0.1:%d/", s_srv.port);
    assert_non_null(strstr(err, where));
    assert_non_null(strstr(err, "\"SELECT 1\""));
    assert_non_null(strstr(err, "(is clickhouse-server running and listening there?)"));
    clickhouse_destroy(&ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_errors),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_version_ok),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_quote_roundtrip),
        cmocka_unit_test(test_server_errors),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_reader_prefixes),
        cmocka_unit_test(test_stopped_server),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
