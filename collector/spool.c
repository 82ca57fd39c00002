/* spool: one file per message, named by a spool-wide counter (%020llu.msg),
 * so the directory sorted by name is push order across incarnations (whose
 * ids are random). A file is written as NNN.tmp, fdatasync'ed, then renamed
 * into place; the in-memory index (push order, with holes where acks arrived
 * out of order) holds everything but the data.
 * Durability: a host that loses power mid-incident must still deliver that
 * incident's batches after the reboot, so every message file's data is
 * durable before its rename can be (fdatasync in spool_push: a rename made
 * durable first could bring back an empty or torn file), and the renames of
 * a group of pushes share one fsync of the directory (spool_sync, which the
 * collector calls each time its loop is about to wait). Measured by
 * tests/bench/bench_spool_fsync.c (ext4 on a shared virtio disk, one
 * message per group, as an interval's batch is): 6-12 ms of wall time per
 * batch (the agent's loop waits; the sampler thread does not), and the
 * collector's CPU (--backend none) 1.3-1.4x what it is unsynced, i.e. +1.3
 * ms/s at 1 s intervals and +6.7 ms/s at 100 ms. syncfs(2) then the renames
 * measured cheaper (0.76x for one file, 0.40x for four) but writes back
 * every dirty page of the filesystem, an unbounded cost on a shared /var,
 * and its error cannot name the file that failed.
 * Deletions (acks, rejections, the bound) are not synced: a message
 * acknowledged and then brought back by a power loss is sent again, and the
 * aggregator recognises the duplicate by (host, incarnation, seq). The
 * counters file is synced like a message, so a loss it reports survives.
 * Assumes at most ~100k messages and ~64 MiB, a few hundred pushes and acks a
 * second, acks mostly for the oldest messages (found first by the linear
 * scan), and one process per directory (enforced with flock). */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "grow.h"
#include "log.h"

/* A message file: a 48-byte little-endian header, then the data.
 *   0 magic "DSPL"   4 version (u32)   8 incarnation (u64)   16 seq (u64)
 *  24 nsamples (u32) 28 data length (u32)   32 FNV-1a 64 of the data
 *  40 FNV-1a 64 of bytes 0..40, so that nsamples can be trusted when only
 *     the data is damaged. */
enum { HDR_SIZE = SPOOL_HEADER_SIZE, VERSION = 1 };
static const uint8_t s_magic[4] = {'D', 'S', 'P', 'L'};
/* The loss counters: "<dropped messages> <samples> <rejected messages>
 * <samples>\n" (a file of two numbers, from before rejections were
 * counted, reads as none rejected). */
#define DROPPED_FILE "dropped"

typedef struct {
    uint64_t file; /* the number in its name (push order); 0 marks a hole */
    uint64_t incarnation, seq;
    uint32_t nsamples;
    uint32_t len; /* bytes of data */
    bool deferred; /* skipped by spool_next until spool_release_deferred */
} entry_t;

typedef enum { READ_OK, READ_CORRUPT, READ_IOERR } read_rc_t;

struct spool {
    char *dir;          /* owned copy of the path, for messages */
    int dirfd;          /* the directory, flock'ed; files are reached with *at() */
    uint64_t max_bytes; /* bound on the data held */
    entry_t *e;         /* the index: slots [head, tail) of cap, holes included */
    size_t head, tail, cap;
    size_t held;      /* slots that are not holes */
    size_t cursor;    /* next slot spool_next looks at; those before were handed out */
    size_t in_flight; /* held slots before cursor */
    uint64_t bytes;   /* data held */
    uint64_t next_file;
    uint64_t dropped_messages, dropped_samples;   /* lost to the bound or to damage */
    uint64_t rejected_messages, rejected_samples; /* refused by the aggregator */
    uint8_t *buf; /* the message file read last: header, then data */
    size_t bufcap;
    spool_msg_t msg; /* what spool_next returned last */
    bool nosync;     /* TESTING ONLY (SPOOL_NOSYNC_ENV): the unsynced spool, for comparison */
    bool dir_dirty;  /* renamed into place since the last good spool_sync */
    uint64_t file_syncs, dir_syncs; /* fdatasyncs and directory fsyncs done (spool_stats) */
};

/* What to do about a failed write or sync, by errno. */
static const char *s_advice(int errnum)
{
    if (errnum == ENOSPC || errnum == EDQUOT)
        return "the spool keeps what it has; free space or lower --spool-size";
    if (errnum == EIO)
        return "the spool keeps what it has; the disk under --spool reports errors: see dmesg";
    return "the spool keeps what it has; check --spool";
}

static void s_encode(uint8_t *h, const entry_t *e, const uint8_t *data)
{
    memcpy(h, s_magic, 4);
    bytes_put_le(h + 4, VERSION, 4);
    bytes_put_le(h + 8, e->incarnation, 8);
    bytes_put_le(h + 16, e->seq, 8);
    bytes_put_le(h + 24, e->nsamples, 4);
    bytes_put_le(h + 28, e->len, 4);
    bytes_put_le(h + 32, bytes_fnv1a(BYTES_FNV1A_INIT, data, e->len), 8);
    bytes_put_le(h + 40, bytes_fnv1a(BYTES_FNV1A_INIT, h, 40), 8);
}

int spool_parse_header(const uint8_t *buf, size_t len, spool_file_t *out)
{
    *out = (spool_file_t){0};
    if (len < HDR_SIZE || memcmp(buf, s_magic, 4) || bytes_get_le(buf + 4, 4) != VERSION ||
        bytes_get_le(buf + 40, 8) != bytes_fnv1a(BYTES_FNV1A_INIT, buf, 40))
        return -1;
    out->incarnation = bytes_get_le(buf + 8, 8);
    out->seq = bytes_get_le(buf + 16, 8);
    out->nsamples = (uint32_t)bytes_get_le(buf + 24, 4);
    out->len = (uint32_t)bytes_get_le(buf + 28, 4);
    return 0;
}

int spool_parse_message(const uint8_t *buf, size_t len, spool_file_t *out, const char **why)
{
    if (spool_parse_header(buf, len, out) < 0)
        *why = "bad header";
    else if (len - HDR_SIZE != out->len) /* len >= HDR_SIZE here */
        *why = "truncated or overlong";
    else if (bytes_get_le(buf + 32, 8) != bytes_fnv1a(BYTES_FNV1A_INIT, buf + HDR_SIZE, out->len))
        *why = "data checksum mismatch";
    else {
        out->data = buf + HDR_SIZE;
        return 0;
    }
    return -1;
}

int spool_parse_counters(const char *text, size_t len, uint64_t counts[4])
{
    /* sscanf needs the NUL that the file's bytes lack */
    char copy[SPOOL_COUNTERS_MAX + 1];
    size_t n = len < SPOOL_COUNTERS_MAX ? len : SPOOL_COUNTERS_MAX;
    if (n)
        memcpy(copy, text, n);
    copy[n] = '\0';
    memset(counts, 0, 4 * sizeof *counts);
    int got = sscanf(copy, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &counts[0], &counts[1],
                     &counts[2], &counts[3]);
    if (got == 2 || got == 4)
        return 0;
    memset(counts, 0, 4 * sizeof *counts);
    return -1;
}

/* Reads up to n bytes; returns how many (fewer at end of file), -1 on error. */
static ssize_t s_read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int s_write_full(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int s_reserve(spool_t *self, size_t n)
{
    if (n <= self->bufcap)
        return 0;
    uint8_t *p = realloc(self->buf, n);
    if (!p)
        return -1;
    self->buf = p;
    self->bufcap = n;
    return 0;
}

/* Reads an open message file into self->buf: the header, then the data it
 * announces and one byte more, so that an overlong file shows, but never
 * more than the file holds, so that a damaged length costs no memory. Sets
 * *have to the bytes read; -1 with errno on an I/O error. */
static int s_read_bytes(spool_t *self, int fd, size_t *have)
{
    struct stat st;
    spool_file_t f;
    ssize_t n;
    if (s_reserve(self, HDR_SIZE) < 0) {
        errno = ENOMEM;
        return -1;
    }
    if ((n = s_read_full(fd, self->buf, HDR_SIZE)) < 0 || fstat(fd, &st) < 0)
        return -1;
    *have = (size_t)n;
    if (spool_parse_header(self->buf, *have, &f) < 0)
        return 0; /* judged on the header alone */
    uint64_t rest = (uint64_t)st.st_size > *have ? (uint64_t)st.st_size - *have : 0;
    size_t want = (size_t)(rest < f.len ? rest : f.len) + 1;
    if (s_reserve(self, HDR_SIZE + want) < 0) {
        errno = ENOMEM;
        return -1;
    }
    if ((n = s_read_full(fd, self->buf + HDR_SIZE, want)) < 0)
        return -1;
    *have += (size_t)n;
    return 0;
}

/* Reads message `file` into e and self->buf (its data at HDR_SIZE), checking
 * it whole. READ_CORRUPT sets *why and keeps e->nsamples only when the header
 * was sound; READ_IOERR leaves errno. */
static read_rc_t s_read(spool_t *self, uint64_t file, entry_t *e, const char **why)
{
    char name[32];
    snprintf(name, sizeof name, "%020" PRIu64 ".msg", file);
    *e = (entry_t){.file = file};
    int fd = openat(self->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *why = "vanished";
        return errno == ENOENT ? READ_CORRUPT : READ_IOERR;
    }
    size_t have = 0;
    int rc = s_read_bytes(self, fd, &have);
    int saved = errno;
    close(fd);
    errno = saved;
    if (rc < 0)
        return READ_IOERR;
    spool_file_t f;
    rc = spool_parse_message(self->buf, have, &f, why);
    *e = (entry_t){file, f.incarnation, f.seq, f.nsamples, f.len, false};
    return rc == 0 ? READ_OK : READ_CORRUPT;
}

/* Makes fd's data durable. An error here is final: after a failed
 * writeback Linux may mark the pages clean, so a second fdatasync could
 * succeed without the data ever reaching the disk. */
static int s_sync_file(spool_t *self, int fd)
{
    if (self->nosync)
        return 0;
    self->file_syncs++;
    return fdatasync(fd);
}

/* Writes a then b into tmp, makes them durable, then renames tmp to name,
 * so that a crash leaves either the whole file or none, and a power loss
 * never a renamed file without its data; the rename itself is durable
 * after the next spool_sync. -1 with errno. */
static int s_write_file(spool_t *self, const char *tmp, const char *name, const uint8_t *a,
                        size_t alen, const uint8_t *b, size_t blen)
{
    int fd = openat(self->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = s_write_full(fd, a, alen) < 0 || s_write_full(fd, b, blen) < 0 ||
                     s_sync_file(self, fd) < 0
                 ? -1
                 : 0;
    int saved = errno;
    if (close(fd) < 0 && rc == 0) { /* e.g. a quota reported late */
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && renameat(self->dirfd, tmp, self->dirfd, name) < 0) {
        rc = -1;
        saved = errno;
    }
    if (rc < 0) {
        unlinkat(self->dirfd, tmp, 0);
        errno = saved;
    } else {
        self->dir_dirty = true;
    }
    return rc;
}

/* Writes the loss counters. */
static int s_save_dropped(spool_t *self, char *err, size_t errsz)
{
    char text[96];
    int n = snprintf(text, sizeof text, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                     self->dropped_messages, self->dropped_samples, self->rejected_messages,
                     self->rejected_samples);
    if (s_write_file(self, DROPPED_FILE ".tmp", DROPPED_FILE, (const uint8_t *)text, (size_t)n,
                     NULL, 0) < 0) {
        int saved = errno;
        snprintf(err, errsz, "spool: cannot write %s/" DROPPED_FILE ": %s (%s)", self->dir,
                 strerror(saved), s_advice(saved));
        errno = saved;
        return -1;
    }
    return 0;
}

/* Adds to one pair of loss counters (dropped or rejected) and saves them all. */
static void s_count(spool_t *self, uint64_t *messages, uint64_t *samples, uint64_t nmessages,
                    uint64_t nsamples)
{
    char err[512];
    *messages += nmessages;
    *samples += nsamples;
    if (s_save_dropped(self, err, sizeof err) < 0)
        log_limited(LOGL_WARN, "spool:dropped", "%s", err);
}

static void s_count_dropped(spool_t *self, uint64_t messages, uint64_t samples)
{
    s_count(self, &self->dropped_messages, &self->dropped_samples, messages, samples);
}

/* Forgets slot i and deletes its file. The index is never moved here, so
 * callers may go on walking it. */
static int s_remove(spool_t *self, size_t i)
{
    entry_t *e = &self->e[i];
    char name[32];
    snprintf(name, sizeof name, "%020" PRIu64 ".msg", e->file);
    int rc = unlinkat(self->dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
    if (rc < 0)
        log_limited(LOGL_WARN, "spool:unlink",
                    "spool: cannot delete %s/%s: %s (it will be sent again after a restart)",
                    self->dir, name, strerror(errno));
    self->bytes -= e->len;
    self->held--;
    if (i < self->cursor && !e->deferred) /* a deferred one is not in flight */
        self->in_flight--;
    e->file = 0;
    while (self->head < self->tail && self->e[self->head].file == 0)
        self->head++;
    if (self->cursor < self->head)
        self->cursor = self->head;
    return rc;
}

/* Deletes a message that cannot be read back and counts it as lost. */
static void s_drop_corrupt(spool_t *self, size_t i, const char *why)
{
    log_limited(LOGL_WARN, "spool:corrupt",
                "spool: %s/%020" PRIu64 ".msg is damaged (%s); deleted, counted as dropped",
                self->dir, self->e[i].file, why);
    uint32_t nsamples = self->e[i].nsamples;
    s_remove(self, i);
    s_count_dropped(self, 1, nsamples);
}

/* Room for one more slot at tail: squeezes the holes out, or grows. */
static int s_make_slot(spool_t *self)
{
    if (self->tail < self->cap)
        return 0;
    if (self->cap > 0 && self->tail - self->held >= self->cap / 4) { /* amortised O(1) */
        size_t w = 0, cursor = 0;
        for (size_t r = self->head; r < self->tail; r++) {
            if (r == self->cursor)
                cursor = w;
            if (self->e[r].file)
                self->e[w++] = self->e[r];
        }
        self->cursor = self->cursor >= self->tail ? w : cursor;
        self->head = 0;
        self->tail = w;
        return 0;
    }
    entry_t *e = grow(self->e, self->tail + 1, &self->cap, sizeof *e, 256);
    if (!e)
        return -1;
    self->e = e;
    return 0;
}

/* Drops the oldest messages while the data held exceeds max_bytes. They are
 * counted after they are deleted: a crash in between loses the count, but
 * never reports a loss that did not happen. */
static void s_enforce_bound(spool_t *self)
{
    uint64_t messages = 0, samples = 0;
    for (size_t i = self->head; i < self->tail && self->bytes > self->max_bytes; i++) {
        if (self->e[i].file == 0)
            continue;
        messages++;
        samples += self->e[i].nsamples;
        s_remove(self, i);
    }
    if (messages == 0)
        return;
    log_limited(LOGL_WARN, "spool:bound",
                "spool: %s is full (--spool-size %" PRIu64 " bytes): "
                "dropped the %" PRIu64 " oldest unacknowledged messages (%" PRIu64 " samples); "
                "is the aggregator reachable?",
                self->dir, self->max_bytes, messages, samples);
    s_count_dropped(self, messages, samples);
}

static int s_by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The number in a message file's name, or 0 if it is not one. */
static uint64_t s_msg_number(const char *name)
{
    if (strlen(name) != 24 || strcmp(name + 20, ".msg") != 0 || strspn(name, "0123456789") != 20)
        return 0;
    uint64_t file = strtoull(name, NULL, 10);
    return file == UINT64_MAX ? 0 : file; /* saturated: not one of ours */
}

/* Reads the loss counters; a missing file is zero, a damaged one is logged. */
static void s_load_dropped(spool_t *self)
{
    int fd = openat(self->dirfd, DROPPED_FILE, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    uint8_t text[SPOOL_COUNTERS_MAX];
    ssize_t n = s_read_full(fd, text, sizeof text);
    close(fd);
    uint64_t c[4];
    if (spool_parse_counters((const char *)text, n > 0 ? (size_t)n : 0, c) < 0)
        log_warn("spool: %s/" DROPPED_FILE " is damaged; the count of lost messages starts again",
                 self->dir);
    self->dropped_messages = c[0];
    self->dropped_samples = c[1];
    self->rejected_messages = c[2];
    self->rejected_samples = c[3];
}

/* Adds message `file` to the index; a damaged one is dropped. */
static int s_load_one(spool_t *self, uint64_t file, char *err, size_t errsz)
{
    const char *why = NULL;
    entry_t e;
    read_rc_t r = s_read(self, file, &e, &why);
    if (r == READ_IOERR || s_make_slot(self) < 0) {
        snprintf(err, errsz, "spool: cannot read %s/%020" PRIu64 ".msg: %s", self->dir, file,
                 r == READ_IOERR ? strerror(errno) : "out of memory");
        return -1;
    }
    self->e[self->tail++] = e;
    self->held++;
    self->bytes += e.len;
    if (r == READ_CORRUPT)
        s_drop_corrupt(self, self->tail - 1, why);
    return 0;
}

/* Loads the message files in name order, which is push order (the names
 * have one width), and deletes the temporary files of interrupted writes. */
static int s_load(spool_t *self, char *err, size_t errsz)
{
    struct dirent **names;
    int n = scandir(self->dir, &names, NULL, s_by_name);
    if (n < 0) {
        snprintf(err, errsz, "spool: cannot list %s: %s", self->dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    self->next_file = 1;
    s_load_dropped(self);
    for (int k = 0; k < n; k++) {
        const char *name = names[k]->d_name;
        size_t len = strlen(name);
        uint64_t file = s_msg_number(name);
        if (len > 4 && strcmp(name + len - 4, ".tmp") == 0)
            unlinkat(self->dirfd, name, 0);
        if (file && rc == 0)
            rc = s_load_one(self, file, err, errsz);
        if (file >= self->next_file) /* a damaged one too: its name is not reused */
            self->next_file = file + 1;
        free(names[k]);
    }
    free(names);
    return rc;
}

/* Saves the counters at open, which proves the directory writable. A full
 * disk is only logged: the spool can still resend what it has, and acks
 * free space. */
static int s_save_at_open(spool_t *self, char *err, size_t errsz)
{
    if (s_save_dropped(self, err, errsz) == 0)
        return 0;
    if (errno != ENOSPC && errno != EDQUOT)
        return -1;
    log_warn("%s", err);
    return 0;
}

/* Syncs the parent of a directory just made: until then a power loss can
 * take the new directory, and every message in it, away. */
static int s_sync_parent(spool_t *self, char *err, size_t errsz)
{
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", self->dir);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    if (!slash)
        snprintf(parent, sizeof parent, ".");
    else
        slash[slash == parent] = '\0'; /* "/spool" has the parent "/" */
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 || (!self->nosync && fsync(fd) < 0) ? -1 : 0;
    if (rc < 0)
        snprintf(err, errsz, "spool: cannot fsync %s, the parent of the new %s: %s (%s)", parent,
                 self->dir, strerror(errno), s_advice(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Creates, opens and locks the directory. */
static int s_open_dir(spool_t *self, char *err, size_t errsz)
{
    bool made = mkdir(self->dir, 0700) == 0;
    if (!made && errno != EEXIST) {
        snprintf(err, errsz, "spool: cannot create %s: %s (pick a writable --spool)", self->dir,
                 strerror(errno));
        return -1;
    }
    if (made && s_sync_parent(self, err, errsz) < 0)
        return -1;
    self->dirfd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (self->dirfd < 0) {
        snprintf(err, errsz, "spool: cannot open %s: %s (pick a writable --spool)", self->dir,
                 strerror(errno));
        return -1;
    }
    if (flock(self->dirfd, LOCK_EX | LOCK_NB) < 0) { /* never blocks, so no EINTR */
        snprintf(err, errsz, "spool: cannot lock %s: %s (is another collector using it?)",
                 self->dir, strerror(errno));
        return -1;
    }
    return 0;
}

spool_t *spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errsz)
{
    spool_t *self = calloc(1, sizeof *self);
    if (!self || !(self->dir = strdup(dir))) {
        snprintf(err, errsz, "spool: out of memory");
        free(self);
        return NULL;
    }
    self->dirfd = -1;
    self->max_bytes = max_bytes;
    if ((self->nosync = getenv(SPOOL_NOSYNC_ENV) != NULL))
        log_warn("spool: TESTING ONLY: %s is set, so %s is never fsynced; a power loss can lose "
                 "batches nobody acknowledged (unset it)", SPOOL_NOSYNC_ENV, dir);
    if (s_open_dir(self, err, errsz) < 0 || s_load(self, err, errsz) < 0 ||
        s_save_at_open(self, err, errsz) < 0) {
        spool_destroy(&self);
        return NULL;
    }
    s_enforce_bound(self);
    if (spool_sync(self, err, errsz) < 0)
        log_warn("%s", err); /* kept dirty: the next spool_sync tries again */
    if (self->held)
        log_info("spool: %zu unacknowledged messages (%" PRIu64 " bytes) in %s, to be sent again",
                 self->held, self->bytes, self->dir);
    return self;
}

void spool_destroy(spool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    spool_t *self = *self_p;
    char err[512];
    if (self->dirfd >= 0 && spool_sync(self, err, sizeof err) < 0)
        log_error("%s", err);
    if (self->dirfd >= 0)
        close(self->dirfd); /* releases the lock */
    free(self->e);
    free(self->buf);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

int spool_push(spool_t *self, uint64_t incarnation, uint64_t seq, uint32_t nsamples,
               const uint8_t *data, size_t len, char *err, size_t errsz)
{
    if (len > self->max_bytes || len > UINT32_MAX) {
        snprintf(err, errsz,
                 "spool: a message of %zu bytes is larger than the whole spool "
                 "(--spool-size %" PRIu64 " bytes); not kept (raise --spool-size)",
                 len, self->max_bytes);
        return -1;
    }
    if (s_make_slot(self) < 0) {
        snprintf(err, errsz, "spool: out of memory for the index of %s", self->dir);
        return -1;
    }
    entry_t e = {self->next_file, incarnation, seq, nsamples, (uint32_t)len, false};
    char tmp[32], name[32];
    snprintf(tmp, sizeof tmp, "%020" PRIu64 ".tmp", e.file);
    snprintf(name, sizeof name, "%020" PRIu64 ".msg", e.file);
    uint8_t h[HDR_SIZE];
    s_encode(h, &e, data);
    /* Written before making room, so that a failed write drops nothing. */
    if (s_write_file(self, tmp, name, h, HDR_SIZE, data, len) < 0) {
        snprintf(err, errsz, "spool: cannot write %s/%s: %s (%s)", self->dir, name, strerror(errno),
                 s_advice(errno));
        return -1;
    }
    self->next_file++;
    self->e[self->tail++] = e;
    self->held++;
    self->bytes += len;
    s_enforce_bound(self);
    return 0;
}

int spool_sync(spool_t *self, char *err, size_t errsz)
{
    if (!self->dir_dirty || self->nosync)
        return 0;
    self->dir_syncs++;
    if (fsync(self->dirfd) < 0) {
        int saved = errno;
        snprintf(err, errsz,
                 "spool: cannot fsync the directory %s: %s (the messages written since its last "
                 "sync are held and sent, but may not survive a power loss; %s)",
                 self->dir, strerror(saved), s_advice(saved));
        errno = saved;
        return -1;
    }
    self->dir_dirty = false;
    return 0;
}

const spool_msg_t *spool_next(spool_t *self)
{
    while (self->cursor < self->tail) {
        size_t i = self->cursor;
        if (self->e[i].file == 0 || self->e[i].deferred) {
            self->cursor++;
            continue;
        }
        const char *why = NULL;
        entry_t got;
        read_rc_t r = s_read(self, self->e[i].file, &got, &why);
        if (r == READ_IOERR) {
            log_limited(LOGL_WARN, "spool:read", "spool: cannot read %s/%020" PRIu64 ".msg: %s",
                        self->dir, self->e[i].file, strerror(errno));
            return NULL;
        }
        if (r == READ_OK && (got.incarnation != self->e[i].incarnation ||
                             got.seq != self->e[i].seq || got.len != self->e[i].len)) {
            r = READ_CORRUPT;
            why = "not the message indexed";
        }
        if (r == READ_CORRUPT) {
            s_drop_corrupt(self, i, why);
            continue;
        }
        self->cursor++;
        self->in_flight++;
        self->msg =
            (spool_msg_t){got.incarnation, got.seq, got.nsamples, self->buf + HDR_SIZE, got.len};
        return &self->msg;
    }
    return NULL;
}

void spool_rewind(spool_t *self)
{
    self->cursor = self->head;
    self->in_flight = 0;
}

/* The slot holding (incarnation, seq), or SIZE_MAX. */
static size_t s_find(const spool_t *self, uint64_t incarnation, uint64_t seq)
{
    for (size_t i = self->head; i < self->tail; i++) {
        const entry_t *e = &self->e[i];
        if (e->file && e->incarnation == incarnation && e->seq == seq)
            return i;
    }
    return SIZE_MAX;
}

int spool_ack(spool_t *self, uint64_t incarnation, uint64_t seq)
{
    size_t i = s_find(self, incarnation, seq);
    if (i == SIZE_MAX)
        return 0;
    return s_remove(self, i) < 0 ? -1 : 1;
}

size_t spool_in_flight_before(const spool_t *self, uint64_t incarnation, uint64_t seq)
{
    size_t n = 0;
    for (size_t i = self->head; i < self->tail && i < self->cursor; i++) {
        const entry_t *e = &self->e[i];
        if (e->file && e->incarnation == incarnation && e->seq == seq)
            return n;
        n += e->file && !e->deferred;
    }
    return 0;
}

int spool_reject(spool_t *self, uint64_t incarnation, uint64_t seq)
{
    size_t i = s_find(self, incarnation, seq);
    if (i == SIZE_MAX)
        return 0;
    uint32_t nsamples = self->e[i].nsamples;
    int rc = s_remove(self, i);
    s_count(self, &self->rejected_messages, &self->rejected_samples, 1, nsamples);
    return rc < 0 ? -1 : 1;
}

int spool_defer(spool_t *self, uint64_t incarnation, uint64_t seq)
{
    size_t i = s_find(self, incarnation, seq);
    if (i == SIZE_MAX || self->e[i].deferred)
        return 0;
    self->e[i].deferred = true;
    if (i < self->cursor)
        self->in_flight--;
    return 1;
}

void spool_release_deferred(spool_t *self)
{
    for (size_t i = self->head; i < self->tail; i++)
        self->e[i].deferred = false;
    spool_rewind(self);
}

bool spool_holds(const spool_t *self, uint64_t incarnation, uint64_t seq)
{
    return s_find(self, incarnation, seq) != SIZE_MAX;
}

spool_stats_t spool_stats(const spool_t *self)
{
    return (spool_stats_t){self->held,           self->bytes,
                           self->dropped_messages, self->dropped_samples,
                           self->rejected_messages, self->rejected_samples,
                           self->file_syncs,       self->dir_syncs};
}

size_t spool_in_flight(const spool_t *self)
{
    return self->in_flight;
}
