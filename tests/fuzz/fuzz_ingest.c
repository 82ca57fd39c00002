/* fuzz_ingest: the aggregator's path for a frame, decode -> validate ->
 * store, on a real SQLite database in a mkdtemp directory under /tmp (one
 * per process, removed at exit). What validate_message passes must never
 * make the store fail (STORE_ERROR is for the database itself), and a
 * commit of what was stored must succeed. Most inputs are rolled back, so
 * that a finding usually reproduces from its input alone; every
 * COMMIT_EVERY-th is committed, so that later inputs meet stored rows
 * (resends, known series, rollups), and a fresh database every
 * REOPEN_EVERY inputs bounds its size. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "ingest_seeds.h"
#include "log.h"
#include "intake.h"
#include "store.h"
#include "validate.h"

#define COMMIT_EVERY 16
#define REOPEN_EVERY 4096
#define ERRSZ 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_dir[64];         /* the mkdtemp directory; "" until made */
static store_t *s_store;       /* the writer, on s_dir/ingest.db */
static unsigned long s_inputs; /* since the database was opened */
/* How far inputs got, printed at exit: decoded, valid, then by store_rc_t. */
static unsigned long s_decoded, s_valid, s_outcomes[STORE_ERROR + 1];

/* Closes the store and deletes every file of s_dir (the database, its WAL
 * and shared memory). */
static void s_wipe(void)
{
    store_close(&s_store);
    DIR *d = s_dir[0] ? opendir(s_dir) : NULL;
    struct dirent *e;
    char path[sizeof s_dir + 256];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", s_dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
}

static void s_cleanup(void)
{
    fprintf(stderr,
            "fuzz_ingest: %lu decoded, %lu valid; stored %lu, duplicate %lu, need_defs %lu, "
            "invalid %lu\n",
            s_decoded, s_valid, s_outcomes[STORE_OK], s_outcomes[STORE_DUPLICATE],
            s_outcomes[STORE_NEED_DEFS], s_outcomes[STORE_INVALID]);
    s_wipe();
    if (s_dir[0])
        rmdir(s_dir);
}

/* Traps unless err holds a NUL within its ERRSZ bytes. */
static void s_check_err(const char *err)
{
    if (strnlen(err, ERRSZ) == ERRSZ)
        __builtin_trap();
}

/* Opens a fresh database and stores run 1's definitions of host h1 in it,
 * committed. Aborts (not a finding: the machine) when that fails. */
static void s_open(void)
{
    char err[ERRSZ], path[sizeof s_dir + 16];
    if (!s_dir[0]) {
        snprintf(s_dir, sizeof s_dir, "/tmp/fuzz_ingest-XXXXXX");
        if (!mkdtemp(s_dir)) {
            perror("fuzz_ingest: mkdtemp /tmp/fuzz_ingest-XXXXXX");
            abort();
        }
        atexit(s_cleanup);
        log_init("fuzz_ingest", LOGL_WARN); /* not a line per migration per reopen */
    }
    s_wipe();
    snprintf(path, sizeof path, "%s/ingest.db", s_dir);
    if (!(s_store = store_open(path, true, err, sizeof err))) {
        fprintf(stderr, "fuzz_ingest: %s\n", err);
        abort();
    }
    msg_t defs = ingest_defs_batch();
    size_t samples;
    if (store_begin(s_store, err, sizeof err) != 0 ||
        intake_store(s_store, &defs, INGEST_NOW_NS, &samples, err, sizeof err) != STORE_OK ||
        store_commit(s_store, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_ingest: cannot store the definitions: %s\n", err);
        abort();
    }
    s_inputs = 0;
}

/* Decodes an exact-size copy of the input (no byte after it to read). */
static msg_t *s_decode(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return NULL;
    if (size)
        memcpy(copy, data, size);
    char err[ERRSZ];
    msg_t *msg = codec_decode(copy, size, err, sizeof err);
    free(copy); /* a decoded message owns its storage */
    return msg;
}

/* Stores a valid message in a transaction of its own, committed or rolled
 * back; traps on anything the store may not answer to a valid message. */
static void s_store_one(const msg_t *msg, bool commit)
{
    char err[ERRSZ];
    size_t samples = 0;
    if (store_begin(s_store, err, sizeof err) != 0)
        __builtin_trap();         /* the last transaction was left open */
    memset(err, 'x', sizeof err); /* the store must terminate what it writes */
    store_rc_t rc = intake_store(s_store, msg, INGEST_NOW_NS, &samples, err, sizeof err);
    s_check_err(err);
    if (rc == STORE_ERROR) {
        fprintf(stderr, "fuzz_ingest: a valid %s gets STORE_ERROR: %s\n",
                codec_type_name(msg->type), err);
        __builtin_trap();
    }
    if (rc != STORE_OK && rc != STORE_DUPLICATE && rc != STORE_NEED_DEFS && rc != STORE_INVALID &&
        rc != STORE_OVER_LIMIT)
        __builtin_trap();
    s_outcomes[rc]++;
    if ((rc != STORE_OK && samples != 0) ||
        (rc == STORE_OK && msg->type == MSG_TYPE_BATCH && samples != msg->batch.nsamples))
        __builtin_trap();
    if (!commit) {
        store_rollback(s_store);
        return;
    }
    if (store_commit(s_store, err, sizeof err) != 0 ||
        store_flush_hosts(s_store, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_ingest: commit after %s: %s\n",
                rc == STORE_OK ? "STORE_OK" : "a refusal", err);
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_store || s_inputs >= REOPEN_EVERY)
        s_open();
    s_inputs++;
    msg_t *msg = s_decode(data, size);
    if (!msg)
        return 0;
    s_decoded++;
    char err[ERRSZ];
    memset(err, 'x', sizeof err);
    int valid = validate_message(msg, &ingest_window, err, sizeof err);
    if (valid == 0) {
        s_valid++;
        s_store_one(msg, s_inputs % COMMIT_EVERY == 0);
    } else {
        s_check_err(err);
        if (valid != -1 || !err[0])
            __builtin_trap(); /* a refusal must say why */
    }
    codec_msg_destroy(&msg);
    return 0;
}
