/* gen_spool_seeds: writes the seed corpus of fuzz_spool into the directory
 * argv[1]: message files as spool_push writes them (empty, small, a few
 * kilobytes, identities at the edges of their ranges) and loss counters
 * files, of four numbers as the spool writes them and of two as it wrote
 * them before rejections were counted. Usage: gen_spool_seeds DIR */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "seedlib.h"
#include "spool.h"

/* Copies the file at from to to. 0, or -1 after saying why on stderr. */
static int s_copy(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[4096];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "gen_spool_seeds: cannot copy %s to %s: %s\n", from, to, strerror(errno));
    return rc;
}

static int s_write_text(const char *dir, const char *name, const char *text)
{
    return seedlib_write("gen_spool_seeds", dir, name, text, strlen(text));
}

/* Pushes the seed messages into a spool at tmp/spool (a bound of 8 KiB
 * drops the oldest, so that the counters file holds losses), rejects one,
 * and copies every file of it into dir. */
static int s_spool_files(const char *tmp, const char *dir)
{
    char spool[256], err[512], from[512], to[4096];
    static uint8_t data[4000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    snprintf(spool, sizeof spool, "%s/spool", tmp);
    spool_t *sp = spool_open(spool, 8192, err, sizeof err);
    if (!sp) {
        fprintf(stderr, "gen_spool_seeds: %s\n", err);
        return -1;
    }
    static const struct {
        uint64_t incarnation, seq;
        uint32_t nsamples;
        size_t len;
    } msgs[] = {{7, 4, 4000, 4000}, /* dropped for the room the third after it needs */
                {7, 5, 64, 4000},
                {1, 1, 0, 0},
                {0x1234abcd5678ef90, 2, 3, 1},
                {7, 3, 120, 300},
                {UINT64_MAX, UINT64_MAX, UINT32_MAX, 48},
                {7, 6, 2, 17}}; /* rejected */
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < sizeof msgs / sizeof msgs[0]; k++)
        if (spool_push(sp, msgs[k].incarnation, msgs[k].seq, msgs[k].nsamples, data, msgs[k].len,
                       err, sizeof err) != 0) {
            fprintf(stderr, "gen_spool_seeds: %s\n", err);
            rc = -1;
        }
    spool_reject(sp, 7, 6);
    spool_destroy(&sp);
    DIR *d = rc == 0 ? opendir(spool) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(from, sizeof from, "%s/%s", spool, e->d_name);
            snprintf(to, sizeof to, "%s/spool-%s", dir, e->d_name);
            rc |= s_copy(from, to);
            unlink(from);
        }
    if (d)
        closedir(d);
    rmdir(spool);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_spool_seeds DIR\n");
        return 2;
    }
    log_init("gen_spool_seeds", LOGL_ERROR); /* the bound's drops are the point, not news */
    char tmp[] = "/tmp/gen_spool_seeds-XXXXXX";
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "gen_spool_seeds: mkdtemp %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    int rc = s_spool_files(tmp, argv[1]);
    rmdir(tmp);
    rc |= s_write_text(argv[1], "counters-2", "3 7\n") |
          s_write_text(argv[1], "counters-4", "12 345 6 78\n") |
          s_write_text(argv[1], "counters-max",
                       "18446744073709551615 18446744073709551615 0 18446744073709551615\n");
    return rc == 0 ? 0 : 1;
}
