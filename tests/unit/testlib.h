/* testlib: helpers shared by the unit tests (compiled into every one):
 * running shell steps, counting lines of a captured stderr, reading one
 * value from a SQLite file. Include after <cmocka.h>. */
#ifndef DROPSCOPE_TESTLIB_H
#define DROPSCOPE_TESTLIB_H

#include <stdint.h>

/* Runs a shell command built from fmt; the test fails if it exits non-zero. */
void testlib_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sends stderr to path (for tests that count log lines) until
 * testlib_restore_stderr. */
void testlib_capture_stderr(const char *path);
void testlib_restore_stderr(void);

/* Lines of the file at path that contain needle. */
int testlib_count_lines(const char *path, const char *needle);

/* The first column of the first row of sql run on the database at path. */
int64_t testlib_sql_scalar(const char *path, const char *sql);

#endif
