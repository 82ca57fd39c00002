/* Tests collector/state (the last counter values kept across a collector
 * restart): state_parse on a document in the shape state_write makes, on
 * every prefix of it, on missing and mistyped fields, on rows the registry
 * refuses; and state_read around it: a missing or empty file is no state,
 * a damaged one is named in the error, and what state_write wrote reads
 * back the same; state_encode gives back the document it was parsed from,
 * byte for byte; state_restore continues only from a file of the same boot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "series.h"
#include "state.h"
#include "testlib.h"

#define GOOD                                                                                       \
    "{\"boot_id\":\"1a49c9d9-2ac1-48a7-8b80-153458fd76e7\",\"incarnation\":-1,\"seq\":42,"         \
    "\"ts_ns\":1795359570123456789,\"series\":[[\"netdev\",\"eth0\",\"rx_dropped\",20753,0],"      \
    "[\"sock\",\"udp:10.99.0.2:5000\",\"drops\",17,123456],"                                       \
    "[\"snmp\",\"\",\"Udp.RcvbufErrors\",9223372036854775807,0]]}"

typedef struct {
    char dir[64];
    char path[96];
    char err[512];
} fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ds-state-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/state.json", f->dir);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    testlib_sh("rm -rf %s", f->dir);
    free(f);
    return 0;
}

/* Parses a C string copied to the byte (no NUL after it). */
static int s_parse(const char *text, state_head_t *head, series_t *series, char *err, size_t errsz)
{
    size_t len;
    char *buf = testlib_exact(text, &len);
    int rc = state_parse(buf, len, head, series, err, errsz);
    free(buf);
    return rc;
}

typedef struct {
    const char *source, *device, *name;
    uint64_t value, instance;
} row_t;

static void s_collect(void *ctx, series_entry_t *e)
{
    row_t **next = ctx;
    **next = (row_t){e->source, e->device, e->name, e->value, e->instance};
    assert_true(e->present); /* restored as if seen before the first snapshot */
    (*next)++;
}

/* Traps unless series holds exactly the rows of GOOD, in order. */
static void s_expect_good_rows(series_t *series)
{
    row_t rows[8], *next = rows;
    assert_int_equal(series_count(series), 3);
    series_each(series, s_collect, &next);
    assert_string_equal(rows[0].source, "netdev");
    assert_string_equal(rows[0].device, "eth0");
    assert_string_equal(rows[0].name, "rx_dropped");
    assert_int_equal(rows[0].value, 20753);
    assert_string_equal(rows[1].device, "udp:10.99.0.2:5000");
    assert_int_equal(rows[1].value, 17);
    assert_int_equal(rows[1].instance, 123456);
    assert_string_equal(rows[2].name, "Udp.RcvbufErrors");
    assert_int_equal(rows[2].value, INT64_MAX);
}

static void s_expect_good_head(const state_head_t *head)
{
    assert_string_equal(head->boot_id, "1a49c9d9-2ac1-48a7-8b80-153458fd76e7");
    assert_int_equal(head->incarnation, UINT64_MAX); /* a u64 beyond INT64_MAX, as written */
    assert_int_equal(head->seq, 42);
    assert_int_equal(head->ts_ns, INT64_C(1795359570123456789));
}

static void test_parse_good(void **state)
{
    fixture_t *f = *state;
    state_head_t head;
    series_t *series = series_new(1000);
    assert_int_equal(s_parse(GOOD, &head, series, f->err, sizeof f->err), 0);
    s_expect_good_head(&head);
    s_expect_good_rows(series);
    series_destroy(&series);

    memset(&head, 0, sizeof head);
    assert_int_equal(s_parse(GOOD, &head, NULL, NULL, 0), 0); /* the head alone */
    s_expect_good_head(&head);
}

static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    size_t full = *(const size_t *)arg;
    char err[256] = "";
    state_head_t head;
    series_t *series = series_new(1000);
    int rc = state_parse(buf, k, &head, series, err, sizeof err);
    if (k == full) {
        assert_int_equal(rc, 0);
    } else {
        assert_int_equal(rc, -1);
        assert_non_null(strstr(err, "not a collector state file"));
    }
    series_destroy(&series);
}

static void test_parse_every_prefix(void **state)
{
    (void)state;
    size_t len = strlen(GOOD);
    testlib_every_prefix(GOOD, len, s_check_prefix, &len);
}

static void test_parse_bad(void **state)
{
    fixture_t *f = *state;
    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "not json",
        "{\"boot_id\":\"b\",\"incarnation\":1,\"seq\":1,\"ts_ns\":1}", /* no series */
        "{\"boot_id\":7,\"incarnation\":1,\"seq\":1,\"ts_ns\":1,\"series\":[]}",
        "{\"boot_id\":\"b\",\"incarnation\":1.5,\"seq\":1,\"ts_ns\":1,\"series\":[]}",
        "{\"boot_id\":\"b\",\"incarnation\":1,\"seq\":1,\"ts_ns\":1,\"series\":[[\"netdev\"]]}",
        "{\"boot_id\":\"b\",\"incarnation\":1,\"seq\":1,\"ts_ns\":1,\"series\":[1]}",
        ("{\"boot_id\":\"b\",\"incarnation\":99999999999999999999,\"seq\":1,\"ts_ns\":1,"
         "\"series\":[]}"),
        "{\"boot_id\":\"b\",\"incarnation\":1,\"seq\":1,\"ts_ns\":1,\"series\":[]} trailing",
        /* a good row, then a damaged one: nothing restored */
        ("{\"boot_id\":\"b\",\"incarnation\":1,\"seq\":1,\"ts_ns\":1,\"series\":"
         "[[\"snmp\",\"\",\"Udp.InErrors\",5,0],[\"snmp\"]]}"),
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        state_head_t head;
        series_t *series = series_new(1000);
        f->err[0] = '\0';
        assert_int_equal(s_parse(bad[k], &head, series, f->err, sizeof f->err), -1);
        assert_non_null(strstr(f->err, "not a collector state file"));
        assert_int_equal(series_count(series), 0); /* all or nothing */
        char small[8];
        assert_int_equal(s_parse(bad[k], &head, series, small, sizeof small), -1);
        assert_int_equal(strlen(small), sizeof small - 1); /* cut, terminated */
        assert_int_equal(s_parse(bad[k], &head, series, NULL, 0), -1);
        series_destroy(&series);
    }
}

/* A row the registry refuses (a source the collector does not have, a
 * series given twice) is skipped; the others are restored. */
static void test_parse_skips_refused_rows(void **state)
{
    fixture_t *f = *state;
    state_head_t head;
    series_t *series = series_new(1000);
    assert_int_equal(
        s_parse("{\"boot_id\":\"b\",\"incarnation\":1,\"seq\":2,\"ts_ns\":3,\"series\":["
                "[\"nosuchsource\",\"x\",\"y\",1,0],[\"netdev\",\"eth0\",\"rx_dropped\",5,0],"
                "[\"netdev\",\"eth0\",\"rx_dropped\",6,0]]}",
                &head, series, f->err, sizeof f->err),
        0);
    assert_int_equal(head.seq, 2);
    assert_int_equal(series_count(series), 1);
    series_destroy(&series);
}

/* A boot id longer than the head holds was not written by state_write:
 * refused, not cut (cut, it could end inside a UTF-8 character, which
 * state_write could then not write back: fuzz_state's round trip). The longest
 * that fits is read whole. */
static void test_parse_boot_id_length(void **state)
{
    fixture_t *f = *state;
    char text[256], id[80];
    state_head_t head;
    memset(id, 'a', sizeof id);
    memcpy(id + 62, "\xc3\xa9", 2); /* an e acute across the cut */
    id[sizeof head.boot_id + 2] = '\0';
    snprintf(text, sizeof text,
             "{\"boot_id\":\"%s\",\"incarnation\":1,\"seq\":2,\"ts_ns\":3,\"series\":[]}", id);
    assert_int_equal(s_parse(text, &head, NULL, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "boot_id of 66 bytes"));
    id[sizeof head.boot_id - 1] = '\0';
    memset(id + 62, 'b', 1);
    snprintf(text, sizeof text,
             "{\"boot_id\":\"%s\",\"incarnation\":1,\"seq\":2,\"ts_ns\":3,\"series\":[]}", id);
    assert_int_equal(s_parse(text, &head, NULL, f->err, sizeof f->err), 0);
    assert_string_equal(head.boot_id, id);

    /* A head that is not UTF-8 (not from a state file) cannot be written. */
    series_t *series = series_new(10);
    snprintf(head.boot_id, sizeof head.boot_id, "\xff");
    assert_int_equal(state_write(f->path, &head, series, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "not UTF-8"));
    assert_int_equal(access(f->path, F_OK), -1);
    series_destroy(&series);
}

static void test_read_missing_empty_damaged(void **state)
{
    fixture_t *f = *state;
    state_head_t head;
    assert_int_equal(state_read(f->path, &head, NULL, f->err, sizeof f->err), 1);
    testlib_sh("touch %s", f->path);
    assert_int_equal(state_read(f->path, &head, NULL, f->err, sizeof f->err), 1);
    testlib_sh("printf '{\"boot_id\":' > %s", f->path);
    assert_int_equal(state_read(f->path, &head, NULL, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, f->path));
    assert_non_null(strstr(f->err, "is not a collector state file"));
    testlib_sh("rm %s && mkdir %s", f->path, f->path); /* cannot be read as a file */
    assert_int_equal(state_read(f->path, &head, NULL, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, f->path));
}

/* What state_write wrote, state_read reads back the same, in the same order. */
static void test_write_read_round_trip(void **state)
{
    fixture_t *f = *state;
    state_head_t head;
    series_t *series = series_new(1000);
    assert_int_equal(s_parse(GOOD, &head, series, f->err, sizeof f->err), 0);
    assert_int_equal(state_write(f->path, &head, series, f->err, sizeof f->err), 0);
    series_destroy(&series);

    state_head_t again;
    memset(&again, 0, sizeof again);
    series = series_new(1000);
    assert_int_equal(state_read(f->path, &again, series, f->err, sizeof f->err), 0);
    s_expect_good_head(&again);
    s_expect_good_rows(series);
    series_destroy(&series);
}

/* Parsed and encoded again, a document comes back byte for byte, and
 * state_write writes exactly what state_encode makes. */
static void test_encode_round_trip(void **state)
{
    fixture_t *f = *state;
    state_head_t head;
    series_t *series = series_new(1000);
    assert_int_equal(s_parse(GOOD, &head, series, f->err, sizeof f->err), 0);
    size_t len;
    char *text = state_encode(&head, series, &len, f->err, sizeof f->err);
    assert_non_null(text);
    assert_int_equal(len, strlen(GOOD));
    assert_memory_equal(text, GOOD, len);
    assert_int_equal(state_write(f->path, &head, series, f->err, sizeof f->err), 0);
    FILE *fp = fopen(f->path, "rb");
    assert_non_null(fp);
    char file[1024];
    size_t n = fread(file, 1, sizeof file, fp);
    fclose(fp);
    assert_int_equal(n, len);
    assert_memory_equal(file, text, len);
    free(text);
    series_destroy(&series);
}

static void s_value_of(void *ctx, series_entry_t *e)
{
    uint64_t *values = ctx;
    values[e->id - 1] = e->value;
}

/* A restarted collector continues from a state file of its own boot, and
 * from nothing else: a missing one, another boot's, a damaged one. */
static void test_restore(void **state)
{
    fixture_t *f = *state;
    char log[128];
    snprintf(log, sizeof log, "%s/stderr.log", f->dir);
    testlib_capture_stderr(log);
    series_t *series = series_new(1000);
    assert_int_equal(state_restore(f->path, "1a49c9d9-2ac1-48a7-8b80-153458fd76e7", series), 0);

    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    fputs(GOOD, fp);
    fclose(fp);
    assert_int_equal(state_restore(f->path, "another-boot", series), 0);
    assert_int_equal(series_count(series), 0);
    assert_int_equal(testlib_count_lines(log, "is from another boot"), 1);

    assert_int_equal(state_restore(f->path, "1a49c9d9-2ac1-48a7-8b80-153458fd76e7", series),
                     1795359570123456789);
    assert_int_equal(series_count(series), 3);
    uint64_t values[3];
    series_each(series, s_value_of, values);
    assert_int_equal(values[0], 20753);
    assert_int_equal(values[1], 17);
    assert_int_equal(values[2], 9223372036854775807);
    assert_int_equal(testlib_count_lines(log, "continuing from the 3 counters"), 1);
    series_destroy(&series);

    testlib_sh("printf '{\"boot_id\":' > %s", f->path);
    series = series_new(1000);
    assert_int_equal(state_restore(f->path, "1a49c9d9-2ac1-48a7-8b80-153458fd76e7", series), 0);
    assert_int_equal(series_count(series), 0);
    assert_int_equal(testlib_count_lines(log, "starting from a new baseline"), 2);
    testlib_restore_stderr();
    series_destroy(&series);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_good, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_parse_every_prefix, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_parse_bad, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_parse_skips_refused_rows, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_parse_boot_id_length, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_read_missing_empty_damaged, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_write_read_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_encode_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_restore, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
