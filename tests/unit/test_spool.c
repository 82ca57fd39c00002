/* Tests collector/spool (the on-disk queue of unacknowledged messages): push
 * order, rewind and acks in any order; persistence across reopen whatever the
 * incarnation; the byte bound and its persisted loss counters; leftovers of a
 * crash and damaged files; in-flight accounting; bad directories; the
 * fsyncs (one per file, one per group of pushes for the directory, none for
 * deletions) and a failed directory fsync, reported and retried; the pure
 * parsers of a message file and of the counters file on every truncation and
 * every flipped byte; and a long random run against a naive in-memory
 * reference, reopens included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"
#include "testlib.h"

typedef struct {
    char root[64]; /* the mkdtemp directory */
    char dir[96];  /* the spool inside it (spool_open creates it) */
    char log[96];  /* captured stderr */
    char err[512];
} fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/ds-spool-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof f->dir, "%s/spool", f->root);
    snprintf(f->log, sizeof f->log, "%s/stderr.log", f->root);
    testlib_capture_stderr(f->log);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    testlib_restore_stderr();
    testlib_sh("rm -rf %s", f->root);
    free(f);
    return 0;
}

/* The contents of message (incarnation, seq), so that reads can be checked. */
static void s_fill(uint8_t *buf, size_t len, uint64_t incarnation, uint64_t seq)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(incarnation * 31 + seq * 7 + i);
}

static size_t s_len(uint64_t seq)
{
    return 10 + (seq * 7) % 40;
}

static uint32_t s_nsamples(uint64_t seq)
{
    return (uint32_t)(seq * 3);
}

static int s_push_len(fixture_t *f, spool_t *sp, uint64_t inc, uint64_t seq, size_t len)
{
    uint8_t buf[1024];
    assert_true(len <= sizeof buf);
    s_fill(buf, len, inc, seq);
    return spool_push(sp, inc, seq, s_nsamples(seq), buf, len, f->err, sizeof f->err);
}

static void s_push(fixture_t *f, spool_t *sp, uint64_t inc, uint64_t seq)
{
    assert_int_equal(s_push_len(f, sp, inc, seq, s_len(seq)), 0);
}

static void s_expect_len(spool_t *sp, uint64_t inc, uint64_t seq, size_t len)
{
    const spool_msg_t *m = spool_next(sp);
    assert_non_null(m);
    assert_int_equal(m->incarnation, inc);
    assert_int_equal(m->seq, seq);
    assert_int_equal(m->nsamples, s_nsamples(seq));
    assert_int_equal(m->len, len);
    uint8_t want[1024];
    s_fill(want, len, inc, seq);
    assert_memory_equal(m->data, want, len);
}

static void s_expect(spool_t *sp, uint64_t inc, uint64_t seq)
{
    s_expect_len(sp, inc, seq, s_len(seq));
}

static spool_t *s_open(fixture_t *f, uint64_t max_bytes)
{
    spool_t *sp = spool_open(f->dir, max_bytes, f->err, sizeof f->err);
    if (!sp)
        fail_msg("spool_open: %s", f->err);
    return sp;
}

static void s_msg_path(const fixture_t *f, uint64_t file, char *path, size_t size)
{
    snprintf(path, size, "%s/%020llu.msg", f->dir, (unsigned long long)file);
}

static bool s_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Flips one byte of message file `file` at offset off. */
static void s_flip(const fixture_t *f, uint64_t file, off_t off)
{
    char path[160];
    s_msg_path(f, file, path, sizeof path);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

/* The bytes of the file at path, in a buffer malloc'd to the byte (1 when
 * empty); sets *len. The caller frees it. */
static uint8_t *s_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long size = ftell(fp);
    assert_true(size >= 0);
    rewind(fp);
    uint8_t *buf = malloc(size ? (size_t)size : 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    *len = (size_t)size;
    return buf;
}

static void test_order_rewind_ack(void **state)
{
    fixture_t *f = *state;
    spool_t *sp = s_open(f, 1 << 20);
    uint64_t bytes = 0;
    for (uint64_t s = 1; s <= 10; s++) {
        s_push(f, sp, 77, s);
        bytes += s_len(s);
    }
    for (uint64_t s = 1; s <= 10; s++)
        s_expect(sp, 77, s);
    assert_null(spool_next(sp));
    assert_int_equal(spool_in_flight(sp), 10);
    spool_rewind(sp);
    assert_int_equal(spool_in_flight(sp), 0);
    s_expect(sp, 77, 1);
    s_expect(sp, 77, 2);

    uint64_t acks[] = {7, 2, 10, 4, 1};
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(spool_ack(sp, 77, acks[k]), 1);
        bytes -= s_len(acks[k]);
    }
    assert_int_equal(spool_ack(sp, 77, 7), 0);  /* twice */
    assert_int_equal(spool_ack(sp, 78, 3), 0);  /* another incarnation */
    assert_int_equal(spool_ack(sp, 77, 99), 0); /* unknown */
    spool_stats_t st = spool_stats(sp);
    assert_int_equal(st.messages, 5);
    assert_int_equal(st.bytes, bytes);
    assert_int_equal(st.dropped_messages, 0);
    assert_int_equal(spool_in_flight(sp), 0); /* 1 and 2 were in flight, both acked */

    spool_rewind(sp);
    uint64_t left[] = {3, 5, 6, 8, 9};
    for (size_t k = 0; k < 5; k++)
        s_expect(sp, 77, left[k]);
    assert_null(spool_next(sp));
    spool_destroy(&sp);
}

static void test_persistence_in_push_order(void **state)
{
    fixture_t *f = *state;
    spool_t *sp = s_open(f, 1 << 20);
    for (uint64_t s = 1; s <= 5; s++)
        s_push(f, sp, 0xdeadbeef, s);
    s_expect(sp, 0xdeadbeef, 1);
    assert_int_equal(spool_ack(sp, 0xdeadbeef, 2), 1);
    assert_int_equal(spool_ack(sp, 0xdeadbeef, 4), 1);
    spool_destroy(&sp);

    /* A new incarnation with a smaller id and seqs starting over: still after. */
    sp = s_open(f, 1 << 20);
    assert_int_equal(spool_stats(sp).messages, 3);
    assert_int_equal(spool_in_flight(sp), 0); /* nothing is in flight after a restart */
    s_push(f, sp, 1, 1);
    s_push(f, sp, 1, 2);
    for (int round = 0; round < 2; round++) {
        s_expect(sp, 0xdeadbeef, 1);
        s_expect(sp, 0xdeadbeef, 3);
        s_expect(sp, 0xdeadbeef, 5);
        s_expect(sp, 1, 1);
        s_expect(sp, 1, 2);
        assert_null(spool_next(sp));
        spool_destroy(&sp);
        sp = s_open(f, 1 << 20);
    }
    assert_int_equal(spool_stats(sp).messages, 5);
    spool_destroy(&sp);
}

static void test_bound_drops_oldest(void **state)
{
    fixture_t *f = *state;
    spool_t *sp = s_open(f, 400); /* room for 4 messages of 100 bytes */
    for (uint64_t s = 1; s <= 10; s++)
        assert_int_equal(s_push_len(f, sp, 5, s, 100), 0);
    spool_stats_t st = spool_stats(sp);
    assert_int_equal(st.messages, 4);
    assert_int_equal(st.bytes, 400);
    assert_int_equal(st.dropped_messages, 6);
    assert_int_equal(st.dropped_samples, 3 * (1 + 2 + 3 + 4 + 5 + 6));
    assert_false(spool_holds(sp, 5, 6));
    assert_true(spool_holds(sp, 5, 7));

    /* Larger than the whole spool: refused, nothing dropped. */
    assert_int_equal(s_push_len(f, sp, 5, 11, 401), -1);
    assert_non_null(strstr(f->err, "larger than the whole spool"));
    assert_int_equal(spool_stats(sp).messages, 4);
    assert_int_equal(spool_stats(sp).dropped_messages, 6);
    spool_destroy(&sp);

    /* The counters persist; a message in flight can be dropped too. */
    sp = s_open(f, 400);
    st = spool_stats(sp);
    assert_int_equal(st.messages, 4);
    assert_int_equal(st.dropped_messages, 6);
    assert_int_equal(st.dropped_samples, 63);
    s_expect_len(sp, 5, 7, 100);
    s_expect_len(sp, 5, 8, 100);
    assert_int_equal(s_push_len(f, sp, 5, 11, 100), 0); /* drops 7 */
    assert_int_equal(spool_in_flight(sp), 1);
    assert_int_equal(spool_ack(sp, 5, 7), 0);
    s_expect_len(sp, 5, 9, 100);
    assert_int_equal(s_push_len(f, sp, 5, 12, 250), 0); /* drops 8, 9 and 10 */
    assert_int_equal(spool_in_flight(sp), 0);
    st = spool_stats(sp);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.bytes, 350);
    assert_int_equal(st.dropped_messages, 10);
    assert_int_equal(st.dropped_samples, 63 + 3 * (7 + 8 + 9 + 10));
    spool_destroy(&sp);

    /* A smaller bound than last time drops the oldest at open. */
    sp = s_open(f, 300);
    st = spool_stats(sp);
    assert_int_equal(st.messages, 1);
    assert_int_equal(st.dropped_messages, 11);
    assert_int_equal(st.dropped_samples, 63 + 3 * (7 + 8 + 9 + 10 + 11));
    s_expect_len(sp, 5, 12, 250);
    spool_destroy(&sp);
}

static void test_crash_leftovers(void **state)
{
    fixture_t *f = *state;
    spool_t *sp = s_open(f, 1 << 20);
    for (uint64_t s = 1; s <= 5; s++)
        s_push(f, sp, 9, s); /* files 1..5 */
    spool_destroy(&sp);

    char path[160];
    testlib_sh("echo partial > %s/00000000000000000006.tmp", f->dir);
    testlib_sh("echo 1 > %s/dropped.tmp", f->dir);
    s_flip(f, 2, 48 + 3);                                             /* a data byte */
    testlib_sh("truncate -s -1 %s/00000000000000000003.msg", f->dir); /* cut short */
    s_flip(f, 4, 24);                                                 /* nsamples, in the header */
    testlib_sh("echo garbage > %s/00000000000000000009.msg", f->dir);
    testlib_sh("echo unrelated > %s/notes.txt", f->dir);

    sp = s_open(f, 1 << 20);
    spool_stats_t st = spool_stats(sp);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.dropped_messages, 4);
    /* The header of 4 and of the garbage cannot be trusted: their samples are unknown. */
    assert_int_equal(st.dropped_samples, s_nsamples(2) + s_nsamples(3));
    snprintf(path, sizeof path, "%s/dropped.tmp", f->dir);
    assert_false(s_exists(path));
    snprintf(path, sizeof path, "%s/00000000000000000006.tmp", f->dir);
    assert_false(s_exists(path));
    uint64_t gone[] = {2, 3, 4, 9};
    for (size_t k = 0; k < 4; k++) {
        s_msg_path(f, gone[k], path, sizeof path);
        assert_false(s_exists(path));
    }
    s_msg_path(f, 5, path, sizeof path);
    assert_true(s_exists(path));
    snprintf(path, sizeof path, "%s/notes.txt", f->dir);
    assert_true(s_exists(path)); /* not ours: left alone */
    s_expect(sp, 9, 1);
    s_expect(sp, 9, 5);
    assert_null(spool_next(sp));

    /* Numbering resumes after the highest name found, even a damaged one. */
    s_push(f, sp, 9, 6);
    s_msg_path(f, 10, path, sizeof path);
    assert_true(s_exists(path));
    spool_destroy(&sp);
    assert_true(testlib_count_lines(f->log, "is damaged") >= 1);
}

static void test_damaged_while_open(void **state)
{
    fixture_t *f = *state;
    spool_t *sp = s_open(f, 1 << 20);
    for (uint64_t s = 1; s <= 4; s++)
        s_push(f, sp, 3, s);
    s_flip(f, 2, 48);
    char path[160];
    s_msg_path(f, 3, path, sizeof path);
    assert_int_equal(unlink(path), 0);
    s_expect(sp, 3, 1);
    s_expect(sp, 3, 4); /* 2 and 3 are skipped, dropped and counted */
    assert_null(spool_next(sp));
    spool_stats_t st = spool_stats(sp);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.bytes, s_len(1) + s_len(4));
    assert_int_equal(st.dropped_messages, 2);
    assert_int_equal(st.dropped_samples, s_nsamples(2) + s_nsamples(3));
    assert_int_equal(spool_in_flight(sp), 2);
    assert_false(spool_holds(sp, 3, 2));
    spool_destroy(&sp);
}

static void test_in_flight_and_holds(void **state)
{
    fixture_t *f = *state;
    spool_t *sp = s_open(f, 1 << 20);
    for (uint64_t s = 1; s <= 5; s++)
        s_push(f, sp, 42, s);
    assert_int_equal(spool_in_flight(sp), 0);
    s_expect(sp, 42, 1);
    s_expect(sp, 42, 2);
    s_expect(sp, 42, 3);
    assert_int_equal(spool_in_flight(sp), 3);
    assert_int_equal(spool_ack(sp, 42, 2), 1); /* in flight, in the middle */
    assert_int_equal(spool_in_flight(sp), 2);
    assert_false(spool_holds(sp, 42, 2));
    assert_true(spool_holds(sp, 42, 4));
    assert_false(spool_holds(sp, 43, 4));
    assert_int_equal(spool_ack(sp, 42, 4), 1); /* not handed out yet */
    assert_int_equal(spool_in_flight(sp), 2);
    s_expect(sp, 42, 5);
    assert_int_equal(spool_in_flight(sp), 3);
    assert_null(spool_next(sp));
    spool_rewind(sp);
    s_expect(sp, 42, 1);
    s_expect(sp, 42, 3);
    assert_int_equal(spool_ack(sp, 42, 1), 1);
    assert_int_equal(spool_in_flight(sp), 1);
    s_push(f, sp, 42, 6);
    s_expect(sp, 42, 5);
    s_expect(sp, 42, 6);
    assert_null(spool_next(sp));
    assert_int_equal(spool_in_flight(sp), 3);
    spool_destroy(&sp);
}

/* The loss counters: a rejection is counted with its samples and
 * persists; a counters file from before rejections were counted (two
 * numbers) reads as none rejected. */
static void test_rejected_counted(void **state)
{
    fixture_t *f = *state;
    testlib_sh("mkdir -p %s && printf '3 7\\n' > %s/dropped", f->dir, f->dir);
    spool_t *sp = s_open(f, 1 << 20);
    spool_stats_t st = spool_stats(sp);
    assert_int_equal(st.dropped_messages, 3);
    assert_int_equal(st.dropped_samples, 7);
    assert_int_equal(st.rejected_messages, 0);
    s_push(f, sp, 42, 5);
    s_push(f, sp, 42, 6);
    assert_int_equal(spool_reject(sp, 42, 5), 1);
    assert_int_equal(spool_reject(sp, 42, 5), 0); /* once */
    spool_destroy(&sp);
    sp = s_open(f, 1 << 20);
    st = spool_stats(sp);
    assert_int_equal(st.rejected_messages, 1);
    assert_int_equal(st.rejected_samples, s_nsamples(5));
    assert_int_equal(st.dropped_messages, 3);
    assert_int_equal(st.messages, 1);
    /* a deferred message waits for the release, then goes first again */
    s_push(f, sp, 42, 7);
    s_expect(sp, 42, 6);
    assert_int_equal(spool_defer(sp, 42, 6), 1);
    assert_int_equal(spool_in_flight(sp), 0);
    s_expect(sp, 42, 7);
    assert_null(spool_next(sp));
    spool_rewind(sp); /* a resend after a timeout leaves it deferred */
    s_expect(sp, 42, 7);
    spool_release_deferred(sp);
    s_expect(sp, 42, 6);
    s_expect(sp, 42, 7);
    spool_destroy(&sp);
}

static void test_bad_directories(void **state)
{
    fixture_t *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/file", f->root);
    testlib_sh("echo x > %s", path);
    strcat(path, "/spool"); /* under a regular file: fails even as root */
    assert_null(spool_open(path, 1000, f->err, sizeof f->err));
    assert_non_null(strstr(f->err, path));
    assert_null(spool_open("/nonexistent-ds/a/b", 1000, f->err, sizeof f->err));
    assert_non_null(strstr(f->err, "/nonexistent-ds/a/b"));

    /* One collector per directory. */
    spool_t *sp = s_open(f, 1000);
    assert_null(spool_open(f->dir, 1000, f->err, sizeof f->err));
    assert_non_null(strstr(f->err, "another collector"));
    spool_destroy(&sp);
    sp = s_open(f, 1000); /* the lock went with it */
    spool_destroy(&sp);
}

/* Every file's data is synced as it is pushed; the renames of a group
 * share one directory fsync at spool_sync; deletions are not synced, and a
 * spool_sync with nothing renamed since the last costs nothing. */
static void test_sync_batched(void **state)
{
    fixture_t *f = *state;
    unsetenv(SPOOL_NOSYNC_ENV);
    spool_t *sp = s_open(f, 1 << 20);
    spool_stats_t st = spool_stats(sp);
    assert_int_equal(st.file_syncs, 1); /* the counters file, written at open */
    assert_int_equal(st.dir_syncs, 1);  /* its rename, synced before spool_open returns */
    for (uint64_t seq = 1; seq <= 3; seq++)
        s_push(f, sp, 42, seq);
    st = spool_stats(sp);
    assert_int_equal(st.file_syncs, 4);
    assert_int_equal(st.dir_syncs, 1);
    assert_int_equal(spool_sync(sp, f->err, sizeof f->err), 0);
    assert_int_equal(spool_stats(sp).dir_syncs, 2);
    assert_int_equal(spool_sync(sp, f->err, sizeof f->err), 0);
    assert_int_equal(spool_stats(sp).dir_syncs, 2); /* nothing new */
    assert_int_equal(spool_ack(sp, 42, 1), 1);
    assert_int_equal(spool_sync(sp, f->err, sizeof f->err), 0);
    st = spool_stats(sp);
    assert_int_equal(st.file_syncs, 4); /* an ack is not synced */
    assert_int_equal(st.dir_syncs, 2);
    assert_int_equal(spool_reject(sp, 42, 2), 1); /* rewrites the counters file */
    assert_int_equal(spool_stats(sp).file_syncs, 5);
    assert_int_equal(spool_sync(sp, f->err, sizeof f->err), 0);
    assert_int_equal(spool_stats(sp).dir_syncs, 3);
    s_push(f, sp, 42, 4); /* synced by spool_destroy */
    spool_destroy(&sp);
    sp = s_open(f, 1 << 20);
    assert_int_equal(spool_stats(sp).messages, 2);
    spool_destroy(&sp);
}

/* The spool's descriptor of its directory (found through /proc/self/fd). */
static int s_dirfd(const char *dir)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int found = -1;
    while (d && found < 0 && (de = readdir(d))) {
        char link[300], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0 && (target[n] = '\0', strcmp(target, dir) == 0))
            found = atoi(de->d_name);
    }
    if (d)
        closedir(d);
    return found;
}

/* A directory fsync that fails is reported with the directory's name and
 * the reason, the messages stay held, and the next spool_sync tries again. */
static void test_sync_error(void **state)
{
    fixture_t *f = *state;
    unsetenv(SPOOL_NOSYNC_ENV);
    spool_t *sp = s_open(f, 1 << 20);
    int dirfd = s_dirfd(f->dir);
    assert_true(dirfd >= 0);
    s_push(f, sp, 42, 1);
    int saved = dup(dirfd), p[2];
    assert_int_equal(pipe(p), 0);
    assert_true(dup2(p[0], dirfd) == dirfd); /* fsync of a pipe fails: EINVAL */
    assert_int_equal(spool_sync(sp, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, f->dir));
    assert_non_null(strstr(f->err, "cannot fsync"));
    assert_non_null(strstr(f->err, "power loss"));
    assert_int_equal(spool_sync(sp, f->err, sizeof f->err), -1); /* still due */
    assert_true(dup2(saved, dirfd) == dirfd);
    close(saved);
    close(p[0]);
    close(p[1]);
    uint64_t before = spool_stats(sp).dir_syncs;
    assert_int_equal(spool_sync(sp, f->err, sizeof f->err), 0);
    assert_int_equal(spool_stats(sp).dir_syncs, before + 1);
    assert_int_equal(spool_stats(sp).messages, 1);
    s_expect(sp, 42, 1);
    spool_destroy(&sp);
}

/* The benchmark's switch: no sync at all, and a warning that says so. */
static void test_nosync_hook(void **state)
{
    fixture_t *f = *state;
    setenv(SPOOL_NOSYNC_ENV, "1", 1);
    spool_t *sp = s_open(f, 1 << 20);
    unsetenv(SPOOL_NOSYNC_ENV);
    s_push(f, sp, 42, 1);
    assert_int_equal(spool_sync(sp, f->err, sizeof f->err), 0);
    spool_stats_t st = spool_stats(sp);
    assert_int_equal(st.file_syncs, 0);
    assert_int_equal(st.dir_syncs, 0);
    spool_destroy(&sp);
    fflush(stderr);
    assert_int_equal(testlib_count_lines(f->log, "TESTING ONLY"), 1);
}

static void test_destroy_is_safe(void **state)
{
    fixture_t *f = *state;
    spool_destroy(NULL);
    spool_t *sp = NULL;
    spool_destroy(&sp);
    sp = s_open(f, 1000);
    spool_destroy(&sp);
    assert_null(sp);
    spool_destroy(&sp);
}

/* --- against a naive reference ------------------------------------------- */

typedef struct {
    uint64_t inc, seq;
    size_t len;
    bool handed;
    bool deferred;
} ref_msg_t;

typedef struct {
    ref_msg_t m[2048];
    size_t n;
    uint64_t bytes, dropped, dropped_samples, rejected, rejected_samples;
} ref_t;

static uint64_t s_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void s_ref_remove(ref_t *r, size_t i)
{
    r->bytes -= r->m[i].len;
    memmove(&r->m[i], &r->m[i + 1], (r->n - i - 1) * sizeof r->m[0]);
    r->n--;
}

static void s_ref_push(ref_t *r, uint64_t inc, uint64_t seq, size_t len, uint64_t max)
{
    r->m[r->n++] = (ref_msg_t){inc, seq, len, false, false};
    r->bytes += len;
    while (r->bytes > max) {
        r->dropped++;
        r->dropped_samples += s_nsamples(r->m[0].seq);
        s_ref_remove(r, 0);
    }
}

static void s_ref_check(const ref_t *r, spool_t *sp)
{
    spool_stats_t st = spool_stats(sp);
    assert_int_equal(st.messages, r->n);
    assert_int_equal(st.bytes, r->bytes);
    assert_int_equal(st.dropped_messages, r->dropped);
    assert_int_equal(st.dropped_samples, r->dropped_samples);
    assert_int_equal(st.rejected_messages, r->rejected);
    assert_int_equal(st.rejected_samples, r->rejected_samples);
    size_t handed = 0;
    for (size_t i = 0; i < r->n; i++)
        handed += r->m[i].handed;
    assert_int_equal(spool_in_flight(sp), handed);
}

static void s_ref_next(ref_t *r, spool_t *sp)
{
    size_t i = 0;
    while (i < r->n && (r->m[i].handed || r->m[i].deferred))
        i++;
    if (i == r->n) {
        assert_null(spool_next(sp));
        return;
    }
    r->m[i].handed = true;
    s_expect_len(sp, r->m[i].inc, r->m[i].seq, r->m[i].len);
}

/* An ack, a rejection (counted) or a deferral (NEED_DEFS) of a message. */
static void s_ref_ack(ref_t *r, spool_t *sp, uint64_t *x)
{
    if (r->n == 0 || s_rand(x) % 8 == 0) {
        assert_int_equal(spool_ack(sp, 12345, s_rand(x)), 0);
        assert_int_equal(spool_reject(sp, 12345, s_rand(x)), 0);
        return;
    }
    size_t i = s_rand(x) % r->n;
    if (s_rand(x) % 2) /* favour the in-flight ones, as the aggregator would */
        i = i % (spool_in_flight(sp) ? spool_in_flight(sp) : 1);
    ref_msg_t *m = &r->m[i];
    uint64_t kind = s_rand(x) % 10;
    if (kind == 0) {
        assert_int_equal(spool_defer(sp, m->inc, m->seq), !m->deferred);
        m->deferred = true;
        m->handed = false;
        return;
    }
    if (kind == 1) {
        assert_int_equal(spool_reject(sp, m->inc, m->seq), 1);
        r->rejected++;
        r->rejected_samples += s_nsamples(m->seq);
    } else {
        assert_int_equal(spool_ack(sp, m->inc, m->seq), 1);
    }
    s_ref_remove(r, i);
}

static void test_against_reference(void **state)
{
    fixture_t *f = *state;
    const uint64_t max = 24000; /* ~300 held: the index fills, squeezes and grows */
    uint64_t x = 88172645463325252ULL, inc = 1000, seq = 0;
    ref_t *r = calloc(1, sizeof *r);
    /* The index against the reference, not durability (test_sync_*): its
     * thousands of fdatasyncs took 5 s of a 13 s run, and far more on a
     * busy disk. The switch is read at each spool_open, reopens included. */
    setenv(SPOOL_NOSYNC_ENV, "1", 1);
    spool_t *sp = s_open(f, max);
    for (int op = 0; op < 20000; op++) {
        uint64_t pick = s_rand(&x) % 100;
        if (pick < 40) {
            size_t len = s_rand(&x) % 160;
            assert_true(r->n < sizeof r->m / sizeof r->m[0]);
            assert_int_equal(s_push_len(f, sp, inc, ++seq, len), 0);
            s_ref_push(r, inc, seq, len, max);
        } else if (pick < 70) {
            s_ref_next(r, sp);
        } else if (pick < 92) {
            s_ref_ack(r, sp, &x);
        } else if (pick < 99 || op < 10000) { /* no reopen at first: let the index fill */
            bool release = s_rand(&x) % 4 == 0;
            if (release)
                spool_release_deferred(sp);
            else
                spool_rewind(sp);
            for (size_t i = 0; i < r->n; i++) {
                r->m[i].handed = false;
                r->m[i].deferred = r->m[i].deferred && !release;
            }
        } else {
            spool_destroy(&sp);
            sp = s_open(f, max);
            for (size_t i = 0; i < r->n; i++)
                r->m[i].handed = r->m[i].deferred = false; /* not kept across restarts */
            inc = s_rand(&x); /* a new, random incarnation; seqs start over */
            seq = 0;
        }
        s_ref_check(r, sp);
    }
    spool_destroy(&sp);
    free(r);
    unsetenv(SPOOL_NOSYNC_ENV);
}

/* Parses the first n bytes of file (copied to the byte, so that ASan sees
 * any read past n); returns its verdict, with the reason in *why. */
static int s_parse_prefix(const uint8_t *file, size_t n, spool_file_t *out, const char **why)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, file, n);
    *why = NULL;
    int rc = spool_parse_message(copy, n, out, why);
    if (rc == 0)
        assert_ptr_equal(out->data, copy + SPOOL_HEADER_SIZE);
    else
        assert_null(out->data);
    free(copy);
    out->data = NULL; /* it pointed into the copy */
    return rc;
}

/* spool_parse_message on files that spool_push wrote: sound whole; every
 * shorter prefix and one byte more are truncated or overlong (a bad header
 * when shorter than one); every flipped byte is caught, and only a flip in
 * the data leaves the header's sample count trusted. */
static void test_parse_message(void **state)
{
    fixture_t *f = *state;
    spool_t *sp = s_open(f, 1 << 20);
    s_push(f, sp, 77, 5);                             /* file 1 */
    assert_int_equal(s_push_len(f, sp, 78, 6, 0), 0); /* file 2: no data */
    spool_destroy(&sp);

    char path[160];
    size_t len;
    s_msg_path(f, 2, path, sizeof path);
    uint8_t *empty = s_slurp(path, &len);
    assert_int_equal(len, SPOOL_HEADER_SIZE);
    spool_file_t out;
    const char *why;
    assert_int_equal(s_parse_prefix(empty, len, &out, &why), 0);
    assert_int_equal(out.incarnation, 78);
    assert_int_equal(out.len, 0);
    free(empty);

    s_msg_path(f, 1, path, sizeof path);
    uint8_t *file = s_slurp(path, &len);
    assert_int_equal(len, SPOOL_HEADER_SIZE + s_len(5));
    uint8_t *copy = malloc(len);
    memcpy(copy, file, len);
    assert_int_equal(spool_parse_message(copy, len, &out, &why), 0);
    assert_int_equal(out.incarnation, 77);
    assert_int_equal(out.seq, 5);
    assert_int_equal(out.nsamples, s_nsamples(5));
    assert_int_equal(out.len, s_len(5));
    assert_ptr_equal(out.data, copy + SPOOL_HEADER_SIZE);
    uint8_t want[1024];
    s_fill(want, s_len(5), 77, 5);
    assert_memory_equal(out.data, want, s_len(5));
    assert_int_equal(spool_parse_header(copy, SPOOL_HEADER_SIZE, &out), 0);
    assert_int_equal(out.seq, 5);
    assert_null(out.data);
    free(copy);

    for (size_t n = 0; n < len; n++) {
        assert_int_equal(s_parse_prefix(file, n, &out, &why), -1);
        bool header = n >= SPOOL_HEADER_SIZE;
        assert_string_equal(why, header ? "truncated or overlong" : "bad header");
        assert_int_equal(out.nsamples, header ? s_nsamples(5) : 0);
        assert_int_equal(spool_parse_header(file, n, &out), header ? 0 : -1);
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, file, len);
    longer[len] = 0;
    assert_int_equal(s_parse_prefix(longer, len + 1, &out, &why), -1);
    assert_string_equal(why, "truncated or overlong");
    free(longer);

    for (size_t k = 0; k < len; k++) {
        file[k] ^= 0x5a;
        assert_int_equal(s_parse_prefix(file, len, &out, &why), -1);
        bool data = k >= SPOOL_HEADER_SIZE;
        assert_string_equal(why, data ? "data checksum mismatch" : "bad header");
        assert_int_equal(out.nsamples, data ? s_nsamples(5) : 0);
        file[k] ^= 0x5a;
    }
    assert_int_equal(s_parse_prefix(file, len, &out, &why), 0);
    free(file);
}

/* Parses a counters text copied to the byte (no NUL after it). */
static int s_counters(const char *text, uint64_t counts[4])
{
    size_t len;
    char *buf = testlib_exact(text, &len);
    int rc = spool_parse_counters(buf, len, counts);
    free(buf);
    return rc;
}

/* spool_parse_counters: four numbers, or two (none rejected); anything
 * else is damaged and reads as zero; and it reads what the spool writes. */
static void test_parse_counters(void **state)
{
    fixture_t *f = *state;
    uint64_t c[4];
    assert_int_equal(s_counters("1 2 3 4\n", c), 0);
    assert_true(c[0] == 1 && c[1] == 2 && c[2] == 3 && c[3] == 4);
    assert_int_equal(s_counters("18446744073709551615 7 0 9", c), 0); /* no newline */
    assert_true(c[0] == UINT64_MAX && c[1] == 7 && c[2] == 0 && c[3] == 9);
    assert_int_equal(s_counters("3 7\n", c), 0);
    assert_true(c[0] == 3 && c[1] == 7 && c[2] == 0 && c[3] == 0);
    static const char *const bad[] = {"",          "\n",        "3\n",    "1 2 3\n",
                                      "garbage\n", "x 1 2 3 4", "1 x 3 4"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        memset(c, 0xff, sizeof c);
        assert_int_equal(s_counters(bad[k], c), -1);
        assert_true(c[0] == 0 && c[1] == 0 && c[2] == 0 && c[3] == 0);
    }
    /* Only the first SPOOL_COUNTERS_MAX bytes count: a number past them is not seen. */
    char pad[SPOOL_COUNTERS_MAX + 16];
    memset(pad, ' ', sizeof pad);
    memcpy(pad + SPOOL_COUNTERS_MAX - 4, "1 2 3", 5);
    assert_int_equal(spool_parse_counters(pad, sizeof pad, c), 0);
    assert_true(c[0] == 1 && c[1] == 2 && c[2] == 0);
    assert_int_equal(spool_parse_counters(NULL, 0, c), -1);
    assert_int_equal(spool_parse_counters("5\0 6 7 8", 9, c), -1); /* a NUL ends the text */
    assert_int_equal(spool_parse_counters("5 6\0 7 8", 9, c), 0);
    assert_true(c[0] == 5 && c[1] == 6 && c[2] == 0 && c[3] == 0);

    /* What the spool wrote after a loss and a rejection. */
    spool_t *sp = s_open(f, 100);
    for (uint64_t s = 1; s <= 3; s++)
        assert_int_equal(s_push_len(f, sp, 4, s, 60), 0); /* drops 1 and 2 */
    assert_int_equal(spool_reject(sp, 4, 3), 1);
    spool_stats_t st = spool_stats(sp);
    spool_destroy(&sp);
    char path[160];
    snprintf(path, sizeof path, "%s/dropped", f->dir);
    size_t len;
    uint8_t *text = s_slurp(path, &len);
    assert_int_equal(spool_parse_counters((const char *)text, len, c), 0);
    free(text);
    assert_int_equal(c[0], st.dropped_messages);
    assert_int_equal(c[1], st.dropped_samples);
    assert_int_equal(c[2], st.rejected_messages);
    assert_int_equal(c[3], st.rejected_samples);
    assert_int_equal(c[0], 2);
    assert_int_equal(c[2], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_rewind_ack, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_persistence_in_push_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bound_drops_oldest, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_crash_leftovers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_while_open, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_in_flight_and_holds, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rejected_counted, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_directories, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_is_safe, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sync_batched, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sync_error, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_nosync_hook, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_parse_message, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_parse_counters, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_against_reference, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
