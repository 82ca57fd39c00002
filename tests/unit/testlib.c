/* testlib: see testlib.h. Failures go through cmocka's assertions, so a
 * helper failing fails the calling test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "testlib.h"

static int s_saved_stderr = -1;

void testlib_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

void testlib_capture_stderr(const char *path)
{
    fflush(stderr);
    s_saved_stderr = dup(2);
    assert_non_null(freopen(path, "w", stderr));
}

void testlib_restore_stderr(void)
{
    if (s_saved_stderr < 0)
        return;
    fflush(stderr);
    dup2(s_saved_stderr, 2);
    close(s_saved_stderr);
    s_saved_stderr = -1;
}

int testlib_count_lines(const char *path, const char *needle)
{
    fflush(stderr);
    FILE *in = fopen(path, "r");
    char line[4096];
    int n = 0;
    while (in && fgets(line, sizeof line, in))
        n += strstr(line, needle) != NULL;
    if (in)
        fclose(in);
    return n;
}

int64_t testlib_sql_scalar(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}
