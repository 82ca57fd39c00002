/* Tests aggregator/rowbinary without a server: the writer's bytes for each
 * type against ClickHouse's encoding written out by hand (little-endian
 * widths, LEB128 lengths up to 10 bytes); the reader reads back random
 * sequences of typed values as written; refuses overlong and oversized
 * lengths, and every prefix of a valid buffer; a failure sticks and leaves
 * the value untouched. (test_clickhouse reads real server answers.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rowbinary.h"
#include "testlib.h"

static void s_assert_bytes(const rbw_t *w, const char *hex)
{
    char got[512] = "";
    for (size_t i = 0; i < rbw_len(w) && 3 * i + 3 < sizeof got; i++)
        snprintf(got + 3 * i, 4, "%02x ", rbw_data(w)[i]);
    size_t n = strlen(got);
    if (n)
        got[n - 1] = '\0';
    assert_string_equal(got, hex);
}

static void test_writer_bytes(void **state)
{
    (void)state;
    rbw_t *w = rbw_new();
    assert_non_null(w);
    rbw_u8(w, 0xab);
    rbw_u16(w, 0x1234);
    rbw_u32(w, 0xdeadbeef);
    s_assert_bytes(w, "ab 34 12 ef be ad de");
    rbw_reset(w);
    rbw_u64(w, UINT64_C(0x0102030405060708));
    rbw_i64(w, -2);
    s_assert_bytes(w, "08 07 06 05 04 03 02 01 fe ff ff ff ff ff ff ff");
    rbw_reset(w);
    rbw_f64(w, 1.0);
    rbw_f64(w, -0.0);
    s_assert_bytes(w, "00 00 00 00 00 00 f0 3f 00 00 00 00 00 00 00 80");
    rbw_reset(w);
    rbw_string(w, "", 0);
    rbw_string(w, "a\0'", 3);
    rbw_array_len(w, 127);
    rbw_array_len(w, 128);
    rbw_array_len(w, 300);
    s_assert_bytes(w, "00 03 61 00 27 7f 80 01 ac 02");
    rbw_reset(w);
    rbw_array_len(w, UINT64_MAX);
    s_assert_bytes(w, "ff ff ff ff ff ff ff ff ff 01");
    assert_false(rbw_failed(w));
    rbw_destroy(&w);
    assert_null(w);
    rbw_destroy(&w);
    rbw_destroy(NULL);
}

/* One value of a random sequence: its type and its bits. */
typedef struct {
    int type; /* 0 u8, 1 u16, 2 u32, 3 u64, 4 i64, 5 f64, 6 string, 7 Array(UInt8) */
    uint64_t v;
    char s[300];
    size_t len;
} value_t;

static uint64_t s_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void s_random(uint64_t *x, value_t *v)
{
    v->type = (int)(s_next(x) % 8);
    int shift = (int)(s_next(x) % 64);
    v->v = s_next(x) >> shift; /* small and large values alike */
    v->len = v->type == 6 ? (size_t)(s_next(x) % sizeof v->s) : 0;
    for (size_t i = 0; i < v->len; i++)
        v->s[i] = (char)s_next(x);
}

static void s_write(rbw_t *w, const value_t *v)
{
    double d;
    switch (v->type) {
    case 0: rbw_u8(w, (uint8_t)v->v); break;
    case 1: rbw_u16(w, (uint16_t)v->v); break;
    case 2: rbw_u32(w, (uint32_t)v->v); break;
    case 3: rbw_u64(w, v->v); break;
    case 4: rbw_i64(w, (int64_t)v->v); break;
    case 5: memcpy(&d, &v->v, sizeof d), rbw_f64(w, d); break;
    case 6: rbw_string(w, v->s, v->len); break;
    default: /* an Array(UInt8) of up to 3 elements */
        rbw_array_len(w, v->v % 4);
        for (uint8_t k = 0; k < v->v % 4; k++)
            rbw_u8(w, k);
        break;
    }
}

/* Reads v's type back: -1 when the reader refuses, else 0 with the value
 * checked against v. */
static int s_read(rbr_t *r, const value_t *v)
{
    uint64_t got = 0, want = v->v;
    int rc;
    switch (v->type) {
    case 0: {
        uint8_t x = 0;
        rc = rbr_u8(r, &x), got = x, want = (uint8_t)v->v;
        break;
    }
    case 1: {
        uint16_t x = 0;
        rc = rbr_u16(r, &x), got = x, want = (uint16_t)v->v;
        break;
    }
    case 2: {
        uint32_t x = 0;
        rc = rbr_u32(r, &x), got = x, want = (uint32_t)v->v;
        break;
    }
    case 3: rc = rbr_u64(r, &got); break;
    case 4: {
        int64_t x = 0;
        rc = rbr_i64(r, &x), got = (uint64_t)x;
        break;
    }
    case 5: {
        double x = 0;
        rc = rbr_f64(r, &x), memcpy(&got, &x, sizeof got); /* bit for bit */
        break;
    }
    case 6: {
        const char *s = NULL;
        size_t len = 0;
        if ((rc = rbr_string(r, &s, &len)) == 0) {
            assert_int_equal(len, v->len);
            assert_memory_equal(s, v->s, len);
        }
        return rc;
    }
    default:
        rc = rbr_array_len(r, &got), want = v->v % 4;
        for (uint8_t k = 0, x = 0; rc == 0 && k < got; k++)
            if ((rc = rbr_u8(r, &x)) == 0)
                assert_int_equal(x, k);
        break;
    }
    if (rc == 0)
        assert_true(got == want);
    return rc;
}

#define NVALUES 64

/* A random sequence and the length of its bytes. */
typedef struct {
    value_t values[NVALUES];
    size_t len;
} sequence_t;

/* Every prefix shorter than the whole is refused somewhere; the whole reads back. */
static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    const sequence_t *seq = arg;
    rbr_t r = rbr_init(buf, k);
    int rc = 0;
    for (size_t i = 0; i < NVALUES && rc == 0; i++)
        rc = s_read(&r, &seq->values[i]);
    assert_int_equal(rc, k < seq->len ? -1 : 0);
    assert_int_equal(rbr_failed(&r), k < seq->len);
    assert_false(rbr_more(&r));
}

static void test_random_roundtrip(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252u;
    rbw_t *w = rbw_new();
    sequence_t *t = malloc(sizeof *t);
    assert_non_null(t);
    for (int round = 0; round < 50; round++) {
        rbw_reset(w);
        for (size_t i = 0; i < NVALUES; i++) {
            s_random(&x, &t->values[i]);
            s_write(w, &t->values[i]);
        }
        assert_false(rbw_failed(w));
        t->len = rbw_len(w);
        if (round < 5) /* every prefix of a few: O(len^2) reads */
            testlib_every_prefix((const char *)rbw_data(w), t->len, s_check_prefix, t);
        else
            s_check_prefix((const char *)rbw_data(w), t->len, t);
    }
    free(t);
    rbw_destroy(&w);
}

static void test_reader_refusals(void **state)
{
    (void)state;
    uint64_t n = 7;
    char err[256];
    /* The largest LEB128, then one with a bit past 64, then 11 bytes. */
    const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    rbr_t r = rbr_init(max, sizeof max);
    assert_int_equal(rbr_array_len(&r, &n), -1); /* UINT64_MAX elements in 0 bytes */
    const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    r = rbr_init(over, sizeof over);
    assert_int_equal(rbr_array_len(&r, &n), -1);
    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    r = rbr_init(eleven, sizeof eleven);
    assert_int_equal(rbr_array_len(&r, &n), -1);
    assert_int_equal(n, 7); /* untouched */

    /* A string longer than what is left; the failure sticks. */
    const uint8_t str[] = {0x05, 'a', 'b', 'c', 0x01};
    r = rbr_init(str, sizeof str);
    const char *s = NULL;
    size_t len = 99;
    assert_int_equal(rbr_string(&r, &s, &len), -1);
    assert_null(s);
    assert_int_equal(len, 99);
    uint8_t u8 = 42;
    assert_int_equal(rbr_u8(&r, &u8), -1); /* a byte is there, but the reader failed */
    assert_int_equal(u8, 42);
    assert_true(rbr_failed(&r));
    assert_false(rbr_more(&r));
    rbr_error(&r, err, sizeof err);
    assert_string_equal(err, "RowBinary answer cut short or not as expected: cannot read a String "
                             "(its length, then its bytes) at byte 1 of 5 (the answer was "
                             "truncated, or the SELECT's column types differ from those read)");

    /* An array count within the bytes left is taken. */
    const uint8_t arr[] = {0x02, 0x01, 0x02};
    r = rbr_init(arr, sizeof arr);
    assert_int_equal(rbr_array_len(&r, &n), 0);
    assert_int_equal(n, 2);
    assert_true(rbr_more(&r));
    rbr_error(&r, err, sizeof err);
    assert_non_null(strstr(err, "without error"));

    r = rbr_init(NULL, 0); /* an empty answer: no rows */
    assert_false(rbr_more(&r));
    assert_false(rbr_failed(&r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_bytes),
        cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_reader_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
