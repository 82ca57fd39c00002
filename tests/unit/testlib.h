/* testlib: helpers shared by the unit tests (compiled into every one):
 * running shell steps, counting lines of a captured stderr, a throwaway
 * ClickHouse server for a group of tests, reading one
 * value from a SQLite file; and for the text parsers' tests, a collecting
 * emit callback, fixture buffers malloc'd to the byte (no NUL after them, so
 * ASan sees any read past len) and the every-prefix loop. Include after
 * <cmocka.h>. */
#ifndef DROPSCOPE_TESTLIB_H
#define DROPSCOPE_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reading.h"

/* Runs a shell command built from fmt; the test fails if it exits non-zero. */
void testlib_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes text to dir/rel (replacing it); the test fails if it cannot. */
void testlib_write(const char *dir, const char *rel, const char *text);

/* Sends stderr to path (for tests that count log lines) until
 * testlib_restore_stderr. */
void testlib_capture_stderr(const char *path);
void testlib_restore_stderr(void);

/* Lines of the file at path that contain needle. */
int testlib_count_lines(const char *path, const char *needle);

/* A throwaway clickhouse-server for a group of tests
 * (tests/tools/clickhouse-test-server.sh), stopped with this process even
 * if it crashes. */
typedef struct {
    char dir[64]; /* its directory */
    bool running; /* started, not yet stopped */
    bool absent;  /* clickhouse-server is not installed: the tests skip */
    int port;     /* its HTTP port */
} testlib_ch_t;

/* Starts one in a new directory under /tmp named after tag. 0 when it
 * answers, and when clickhouse-server is not installed (absent set, and
 * said); -1 when it did not start (what ran is stopped and removed). */
int testlib_ch_start(testlib_ch_t *srv, const char *tag);
/* Stops it, if it runs (its directory stays). 0, or -1. */
int testlib_ch_stop(testlib_ch_t *srv);
/* Stops it and removes its directory. 0, or -1. */
int testlib_ch_destroy(testlib_ch_t *srv);

/* The first column of the first row of sql run on the database at path. */
int64_t testlib_sql_scalar(const char *path, const char *sql);

/* A writer store on a new database (path) in a new directory (dir) under
 * /tmp, named after tag: a SQLite file in dir, or in the runs on
 * ClickHouse a database of its own there (testlib_clickhouse);
 * testlib_store_destroy closes it and removes dir. */
struct store;
struct store *testlib_store_new(const char *tag, char dir[64], char path[128]);
void testlib_store_destroy(struct store **store_p, const char *dir);
/* True in the runs on ClickHouse (ctest's unit/NAME@clickhouse, and
 * unit/NAME@cluster with DROPSCOPE_TEST_CLICKHOUSE_CLUSTER naming the
 * cluster): the store testlib_store_new opens is a database of the test's
 * own on the server (a cluster's first node) that ctest's fixture started;
 * SQL on a SQLite file does not apply. */
bool testlib_clickhouse(void);

/* --- collecting readings ------------------------------------------------ */

/* One reading as testlib_collect kept it. */
typedef struct {
    char key[160];     /* "device/name" */
    char source[16];   /* reading_t.source */
    uint64_t value;    /* reading_t.value */
    uint64_t instance; /* reading_t.instance */
} testlib_entry_t;

/* Every reading emitted, in emission order. Start it as {0}; release it
 * with testlib_collect_reset. */
typedef struct {
    testlib_entry_t *e; /* n entries in cap slots; owned */
    size_t n, cap;
} testlib_collect_t;

/* A reading_fn: appends r to the testlib_collect_t at ctx. */
void testlib_collect(void *ctx, const reading_t *r);

/* A reading_fn: counts readings into the size_t at ctx. */
void testlib_count_readings(void *ctx, const reading_t *r);

/* Frees the entries and empties c, ready for the next parse. */
void testlib_collect_reset(testlib_collect_t *c);

/* The first reading device/name, or NULL; borrowed from c. */
const testlib_entry_t *testlib_find(const testlib_collect_t *c, const char *device,
                                    const char *name);

/* The value (instance) of the first reading device/name; the test fails if
 * there is none. */
uint64_t testlib_value(const testlib_collect_t *c, const char *device, const char *name);
uint64_t testlib_instance(const testlib_collect_t *c, const char *device, const char *name);

/* The number of readings of device. */
size_t testlib_count_device(const testlib_collect_t *c, const char *device);

/* --- exact-size buffers ------------------------------------------------- */

/* Reads FIXTURES_DIR/rel (the environment's $FIXTURES_DIR first, for a
 * copy of the fixtures another user can read) into a malloc'd buffer of
 * exactly its size, with no NUL after it; sets *len. The caller frees it.
 * Fails the test if the file cannot be read. */
char *testlib_load(const char *rel, size_t *len);

/* Asserts that got holds exactly the lines of the fixture file expected,
 * in any order: "source device name value", and " instance" after it when
 * with_instance. */
void testlib_assert_lines(const testlib_collect_t *got, const char *expected, bool with_instance);

/* --- namespaces --------------------------------------------------------- */

/* As root: true, nothing done. Otherwise enters a user namespace in which
 * the test is root (its uid and gid mapped to 0) with a network namespace
 * of its own, so that a live network test can set up interfaces and
 * qdiscs unprivileged. Must run before any thread starts. False, with a
 * message naming `who`, when the kernel refuses (the live tests skip). */
bool testlib_userns(const char *who);

/* Brings up lo in the calling thread's network namespace (a new one has
 * it down); fails the test if the kernel refuses. */
void testlib_lo_up(void);

/* Copies the n bytes at buf into a malloc'd buffer of exactly n bytes (1 if
 * n is 0, so it is never NULL). The caller frees it. */
char *testlib_copy(const char *buf, size_t n);

/* Copies a C string without its NUL, as testlib_copy; sets *len. */
char *testlib_exact(const char *s, size_t *len);

/* Called with one prefix of a buffer, k bytes long, and the loop's arg. */
typedef void(testlib_prefix_fn)(const char *buf, size_t k, void *arg);

/* Calls check on every prefix of [full, full + len), k = 0 to len in order,
 * each in a fresh testlib_copy freed afterwards. */
void testlib_every_prefix(const char *full, size_t len, testlib_prefix_fn *check, void *arg);

/* Query parameters for api_get as name=value pairs, NULL-ended, and the
 * api_param_fn that reads them (ctx: a testlib_params_t). */
typedef struct {
    const char *names[8];
    const char *values[8];
} testlib_params_t;
const char *testlib_param(void *ctx, const char *name);

#endif
