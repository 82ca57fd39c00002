/* testlib: see testlib.h. Failures go through cmocka's assertions, so a
 * helper failing fails the calling test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
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

void testlib_write(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
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

/* With DROPSCOPE_TEST_CLICKHOUSE_DIR set (ctest's @clickhouse runs), the
 * URL of a database of this test's own on the server started there, into
 * path; exits 77 (skipped) when that server is not running. */
static void s_clickhouse_target(const char *chdir, const char *tag, char path[128])
{
    char ports[256];
    snprintf(ports, sizeof ports, "%s/ports", chdir);
    FILE *in = fopen(ports, "r");
    unsigned port = 0;
    if (!in || fscanf(in, "%u", &port) != 1) {
        fprintf(stderr, "SKIP: no ClickHouse test server (%s: nothing read): is clickhouse-server "
                "installed? (deploy/install-deps.sh)\n", ports);
        exit(77);
    }
    fclose(in);
    static unsigned n;
    snprintf(path, 128, "http://127.0.0.1:%u/?database=t_%s_%d_%u", port, tag, (int)getpid(), n++);
}

store_t *testlib_store_new(const char *tag, char dir[64], char path[128])
{
    snprintf(dir, 64, "/tmp/ds-%s-XXXXXX", tag);
    assert_non_null(mkdtemp(dir));
    const char *chdir = getenv("DROPSCOPE_TEST_CLICKHOUSE_DIR");
    if (chdir && *chdir) {
        s_clickhouse_target(chdir, tag, path);
        store_set_auth(NULL, NULL, getenv("DROPSCOPE_TEST_CLICKHOUSE_CLUSTER"));
    }
    else
        snprintf(path, 128, "%s/db.sqlite", dir);
    char err[256];
    store_t *store = store_open(path, true, err, sizeof err);
    if (!store)
        fail_msg("store_open %s: %s", path, err);
    return store;
}

#define CH_SCRIPT TOOLS_DIR "/clickhouse-test-server.sh"

int testlib_ch_start(testlib_ch_t *srv, const char *tag)
{
    *srv = (testlib_ch_t){.port = 0};
    snprintf(srv->dir, sizeof srv->dir, "/tmp/ds-%s-XXXXXX", tag);
    if (!mkdtemp(srv->dir))
        return -1;
    char cmd[256], line[64] = "";
    /* CLICKHOUSE_TEST_OWNER: the server goes with this process, even if it crashes */
    snprintf(cmd, sizeof cmd, "CLICKHOUSE_TEST_OWNER=%d %s start %s", (int)getpid(), CH_SCRIPT,
             srv->dir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    int status = pclose(p);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        srv->absent = true;
        print_message("clickhouse-server is not installed (deploy/install-deps.sh): the tests "
                      "against it are skipped\n");
        return 0;
    }
    srv->running = true; /* whatever the status: stop what may run */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || (srv->port = atoi(line)) <= 0) {
        testlib_ch_destroy(srv); /* cmocka runs no group teardown after a failed setup */
        return -1;
    }
    return 0;
}

int testlib_ch_stop(testlib_ch_t *srv)
{
    if (!srv->running)
        return 0;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "%s stop %s", CH_SCRIPT, srv->dir);
    srv->running = false;
    return system(cmd) == 0 ? 0 : -1;
}

int testlib_ch_destroy(testlib_ch_t *srv)
{
    int rc = testlib_ch_stop(srv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", srv->dir);
    if (srv->dir[0] && system(cmd) != 0)
        rc = -1;
    srv->dir[0] = '\0';
    return rc;
}

bool testlib_clickhouse(void)
{
    const char *chdir = getenv("DROPSCOPE_TEST_CLICKHOUSE_DIR");
    return chdir && *chdir;
}

void testlib_store_destroy(store_t **store_p, const char *dir)
{
    store_close(store_p);
    testlib_sh("rm -rf %s", dir);
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

void testlib_collect(void *ctx, const reading_t *r)
{
    testlib_collect_t *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->e = realloc(c->e, c->cap * sizeof *c->e);
        assert_non_null(c->e);
    }
    testlib_entry_t *e = &c->e[c->n++];
    snprintf(e->key, sizeof e->key, "%s/%s", r->device, r->name);
    snprintf(e->source, sizeof e->source, "%s", r->source);
    e->value = r->value;
    e->instance = r->instance;
}

void testlib_count_readings(void *ctx, const reading_t *r)
{
    (void)r;
    (*(size_t *)ctx)++;
}

void testlib_collect_reset(testlib_collect_t *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}

const testlib_entry_t *testlib_find(const testlib_collect_t *c, const char *device,
                                    const char *name)
{
    char key[160];
    snprintf(key, sizeof key, "%s/%s", device, name);
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0)
            return &c->e[i];
    return NULL;
}

/* The reading device/name; fails the test if there is none. */
static const testlib_entry_t *s_get(const testlib_collect_t *c, const char *device,
                                    const char *name)
{
    const testlib_entry_t *e = testlib_find(c, device, name);
    if (!e)
        fail_msg("no reading %s/%s", device, name);
    return e;
}

uint64_t testlib_value(const testlib_collect_t *c, const char *device, const char *name)
{
    return s_get(c, device, name)->value;
}

uint64_t testlib_instance(const testlib_collect_t *c, const char *device, const char *name)
{
    return s_get(c, device, name)->instance;
}

size_t testlib_count_device(const testlib_collect_t *c, const char *device)
{
    size_t k = 0, dl = strlen(device);
    for (size_t i = 0; i < c->n; i++)
        if (strncmp(c->e[i].key, device, dl) == 0 && c->e[i].key[dl] == '/')
            k++;
    return k;
}

char *testlib_load(const char *rel, size_t *len)
{
    const char *dir = getenv("FIXTURES_DIR") ? getenv("FIXTURES_DIR") : FIXTURES_DIR;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(sz > 0 ? (size_t)sz : 1);
    assert_non_null(buf);
    *len = fread(buf, 1, (size_t)sz, f);
    fclose(f);
    assert_int_equal(*len, (size_t)sz);
    return buf;
}

char *testlib_copy(const char *buf, size_t n)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, buf, n);
    return copy;
}

char *testlib_exact(const char *s, size_t *len)
{
    *len = strlen(s);
    return testlib_copy(s, *len);
}

void testlib_every_prefix(const char *full, size_t len, testlib_prefix_fn *check, void *arg)
{
    for (size_t k = 0; k <= len; k++) {
        char *buf = testlib_copy(full, k);
        check(buf, k, arg);
        free(buf);
    }
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void testlib_assert_lines(const testlib_collect_t *got, const char *expected, bool with_instance)
{
    size_t len;
    char *raw = testlib_load(expected, &len), *text = malloc(len + 1);
    assert_non_null(text);
    memcpy(text, raw, len);
    text[len] = '\0';
    free(raw);
    char **want = calloc(len + 1, sizeof *want), **have = calloc(got->n + 1, sizeof *have);
    assert_true(want && have);
    size_t nwant = 0;
    for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        want[nwant++] = line;
    for (size_t i = 0; i < got->n; i++) {
        const testlib_entry_t *e = &got->e[i];
        const char *slash = strrchr(e->key, '/');
        assert_non_null(slash);
        have[i] = malloc(256);
        assert_non_null(have[i]);
        int n = snprintf(have[i], 256, "%s %.*s %s %llu", e->source, (int)(slash - e->key), e->key,
                         slash + 1, (unsigned long long)e->value);
        if (with_instance)
            snprintf(have[i] + n, 256 - (size_t)n, " %llu", (unsigned long long)e->instance);
    }
    qsort(want, nwant, sizeof *want, s_cmp_str);
    qsort(have, got->n, sizeof *have, s_cmp_str);
    for (size_t i = 0; i < nwant && i < got->n; i++)
        assert_string_equal(have[i], want[i]);
    assert_int_equal(got->n, nwant);
    for (size_t i = 0; i < got->n; i++)
        free(have[i]);
    free(have);
    free(want);
    free(text);
}

/* Writes one line to a /proc file; 0 or -1. */
static int s_put(const char *path, const char *line)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : write(fd, line, strlen(line));
    if (fd >= 0)
        close(fd);
    return n == (ssize_t)strlen(line) ? 0 : -1;
}

bool testlib_userns(const char *who)
{
    if (geteuid() == 0)
        return true;
    char uid[32], gid[32];
    snprintf(uid, sizeof uid, "0 %u 1", (unsigned)geteuid());
    snprintf(gid, sizeof gid, "0 %u 1", (unsigned)getegid());
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0 || s_put("/proc/self/uid_map", uid) != 0 ||
        s_put("/proc/self/setgroups", "deny") != 0 || s_put("/proc/self/gid_map", gid) != 0) {
        fprintf(stderr, "%s: no user namespace of our own (%s): the live tests skip (allow them: "
                "sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)\n", who,
                strerror(errno));
        return false;
    }
    return true;
}

const char *testlib_param(void *ctx, const char *name)
{
    const testlib_params_t *p = ctx;
    for (int i = 0; p->names[i]; i++)
        if (strcmp(p->names[i], name) == 0)
            return p->values[i];
    return NULL;
}

void testlib_lo_up(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags |= IFF_UP;
    assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
    close(fd);
}
