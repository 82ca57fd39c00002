/* fuzz_spool: the spool's file parsers on arbitrary bytes, each input read
 * both as a message file (spool_parse_message) and as the loss counters
 * file (spool_parse_counters). A message that parses must be exactly what
 * spool_push writes for its identity and data: the target pushes it into a
 * real spool (one per process, in a mkdtemp directory under /tmp, removed
 * at exit) and compares the file byte for byte, then reads it back with
 * spool_next. Counters that parse must print and parse again to the same. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_root[64];  /* the mkdtemp directory; "" until made */
static char s_dir[96];   /* the spool, s_root/spool */
static spool_t *s_spool; /* open on s_dir */
static uint64_t s_file;  /* the number of the file the next push writes */

static void s_rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[sizeof s_dir + 256];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void s_cleanup(void)
{
    spool_destroy(&s_spool);
    if (s_root[0]) {
        s_rm_dir(s_dir);
        rmdir(s_root);
    }
}

/* The spool, opened at the first call. Aborts (not a finding: the
 * machine) when it cannot be. */
static spool_t *s_get_spool(void)
{
    if (s_spool)
        return s_spool;
    char err[512];
    snprintf(s_root, sizeof s_root, "/tmp/fuzz_spool-XXXXXX");
    if (!mkdtemp(s_root)) {
        perror("fuzz_spool: mkdtemp /tmp/fuzz_spool-XXXXXX");
        abort();
    }
    atexit(s_cleanup);
    snprintf(s_dir, sizeof s_dir, "%s/spool", s_root);
    if (!(s_spool = spool_open(s_dir, UINT64_C(1) << 32, err, sizeof err))) {
        fprintf(stderr, "fuzz_spool: %s\n", err);
        abort();
    }
    s_file = 1;
    return s_spool;
}

/* Traps unless the file spool_push writes for f is the len bytes at buf,
 * and spool_next hands the message out as f has it. */
static void s_check_written(const spool_file_t *f, const uint8_t *buf, size_t len)
{
    char err[512], path[sizeof s_dir + 32];
    spool_t *sp = s_get_spool();
    if (spool_push(sp, f->incarnation, f->seq, f->nsamples, f->data, f->len, err, sizeof err) !=
        0) {
        fprintf(stderr, "fuzz_spool: %s\n", err);
        abort(); /* the machine (a full /tmp), not the parser */
    }
    snprintf(path, sizeof path, "%s/%020" PRIu64 ".msg", s_dir, s_file++);
    uint8_t *file = malloc(len + 1);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 && file ? read(fd, file, len + 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 0)
        abort();
    if ((size_t)n != len || memcmp(file, buf, len) != 0)
        __builtin_trap(); /* the parser accepts what the writer would not write */
    free(file);
    const spool_msg_t *m = spool_next(sp);
    if (!m || m->incarnation != f->incarnation || m->seq != f->seq || m->nsamples != f->nsamples ||
        m->len != f->len || (f->len && memcmp(m->data, f->data, f->len) != 0))
        __builtin_trap();
    if (spool_ack(sp, f->incarnation, f->seq) != 1)
        __builtin_trap();
}

static void s_message(const uint8_t *buf, size_t len)
{
    spool_file_t f, h;
    memset(&f, 0xa5, sizeof f); /* everything must be written */
    const char *why = NULL;
    int rc = spool_parse_message(buf, len, &f, &why);
    int hrc = spool_parse_header(buf, len, &h);
    if (rc != 0 && rc != -1)
        __builtin_trap();
    if (rc == -1) {
        if (!why || !why[0] || f.data)
            __builtin_trap();
        /* The header's fields are kept exactly when the header is sound. */
        bool sound = strcmp(why, "bad header") != 0;
        if (sound != (hrc == 0) || (sound ? f.incarnation != h.incarnation || f.seq != h.seq ||
                                                f.nsamples != h.nsamples || f.len != h.len
                                          : f.incarnation || f.seq || f.nsamples || f.len))
            __builtin_trap();
        return;
    }
    if (hrc != 0 || len < SPOOL_HEADER_SIZE || f.len != len - SPOOL_HEADER_SIZE ||
        f.data != buf + SPOOL_HEADER_SIZE || f.incarnation != h.incarnation || f.seq != h.seq ||
        f.nsamples != h.nsamples || f.len != h.len || h.data)
        __builtin_trap();
    s_check_written(&f, buf, len);
}

static void s_counters(const char *text, size_t len)
{
    uint64_t c[4], again[4];
    memset(c, 0xa5, sizeof c);
    int rc = spool_parse_counters(text, len, c);
    if (rc == -1) {
        if (c[0] || c[1] || c[2] || c[3])
            __builtin_trap();
        return;
    }
    if (rc != 0)
        __builtin_trap();
    /* Bytes past what is looked at change nothing. */
    if (len > SPOOL_COUNTERS_MAX &&
        (spool_parse_counters(text, SPOOL_COUNTERS_MAX, again) != 0 || memcmp(c, again, sizeof c)))
        __builtin_trap();
    /* As the spool writes them: they read back the same. */
    char out[96];
    int n = snprintf(out, sizeof out, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", c[0],
                     c[1], c[2], c[3]);
    if (n <= 0 || (size_t)n >= sizeof out || spool_parse_counters(out, (size_t)n, again) != 0 ||
        memcmp(c, again, sizeof c) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan sees any read past size. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    s_message(buf, size);
    s_counters((const char *)buf, size);
    free(buf);
    return 0;
}
