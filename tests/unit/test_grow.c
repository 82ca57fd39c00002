/* Tests common/grow: the first allocation, doubling, a need beyond twice
 * the capacity, the array kept when it has room, room for nothing, and
 * sizes that would overflow refused with the array and capacity intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "grow.h"

static void test_doubles_from_first(void **state)
{
    (void)state;
    size_t cap = 0;
    int *a = grow(NULL, 1, &cap, sizeof *a, 4);
    assert_non_null(a);
    assert_int_equal(cap, 4);
    for (int i = 0; i < 4; i++)
        a[i] = i;
    assert_ptr_equal(grow(a, 4, &cap, sizeof *a, 4), a); /* room enough */
    assert_int_equal(cap, 4);
    a = grow(a, 5, &cap, sizeof *a, 4);
    assert_non_null(a);
    assert_int_equal(cap, 8);
    for (int i = 0; i < 4; i++) /* the contents move with it */
        assert_int_equal(a[i], i);
    a = grow(a, 33, &cap, sizeof *a, 4); /* several doublings at once */
    assert_non_null(a);
    assert_int_equal(cap, 64);
    a[32] = 7;
    free(a);
}

/* Room for nothing is still an array: NULL means out of memory to callers
 * (the collector once logged "out of memory; 0 bursts lost" every interval). */
static void test_need_zero(void **state)
{
    (void)state;
    size_t cap = 0;
    int *a = grow(NULL, 0, &cap, sizeof *a, 8);
    assert_non_null(a);
    assert_int_equal(cap, 8);
    assert_ptr_equal(grow(a, 0, &cap, sizeof *a, 8), a);
    free(a);
}

static void test_overflow_refused(void **state)
{
    (void)state;
    size_t cap = 0;
    char *a = grow(NULL, 10, &cap, 1, 16);
    assert_non_null(a);
    assert_int_equal(cap, 16);
    assert_null(grow(a, SIZE_MAX, &cap, 1, 16));
    assert_null(grow(a, SIZE_MAX / 4, &cap, 8, 16)); /* count fits, bytes do not */
    assert_int_equal(cap, 16);
    a[15] = 1; /* still ours */
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles_from_first),
        cmocka_unit_test(test_need_zero),
        cmocka_unit_test(test_overflow_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
