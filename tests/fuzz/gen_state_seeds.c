/* gen_state_seeds: writes the seed corpus of fuzz_state into the directory
 * argv[1]: the state file state_write makes after a snapshot of each
 * fixture root under argv[2] (tests/fixtures/NAME/proc, replayed ethtool
 * dumps beside it), cut to 12 and to 48 of its series: a whole one is up to
 * 20 KiB, which makes libFuzzer mutate inputs that large and run ten times
 * slower, for no code that a few dozen series do not reach. Plus a few
 * written by hand in the same shape: no series, a series of an unknown
 * source, values at the edges of their range, a boot id one byte too long.
 * Usage: gen_state_seeds DIR FIXTURES_DIR */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "seedlib.h"
#include "series.h"
#include "snapshot.h"
#include "state.h"

static const size_t s_cuts[] = {12, 48}; /* series in a seed */

typedef struct {
    series_t *to;
    size_t left; /* series still to take */
    size_t step; /* one in step, so that every source has some */
    size_t seen;
} cut_t;

static void s_cut(void *ctx, series_entry_t *e)
{
    cut_t *c = ctx;
    if (c->left == 0 || !e->present || c->seen++ % c->step != 0)
        return;
    reading_t r = {e->source, e->device, e->name, e->value, e->instance};
    if (series_restore(c->to, &r) == 0)
        c->left--;
}

/* Writes the state of n series spread over `all` to dir/state-NAME-N.json. */
static int s_write_cut(const char *dir, const char *name, const state_head_t *head, series_t *all,
                       size_t n)
{
    char path[4096], err[512];
    series_t *some = series_new(100000);
    if (!some)
        return -1;
    cut_t cut = {some, n, series_count(all) > n ? series_count(all) / n : 1, 0};
    series_each(all, s_cut, &cut);
    snprintf(path, sizeof path, "%s/state-%s-%zu.json", dir, name, n);
    int rc = state_write(path, head, some, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "gen_state_seeds: %s\n", err);
    series_destroy(&some);
    return rc;
}

/* Snapshots fixture root `name` and writes its state, cut. */
static int s_fixture(const char *dir, const char *fixtures, const char *name)
{
    char procfs[4096], ethtool[4096];
    snprintf(procfs, sizeof procfs, "%s/%s/proc", fixtures, name);
    snprintf(ethtool, sizeof ethtool, "%s/%s/ethtool", fixtures, name);
    struct stat st;
    if (stat(procfs, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0; /* not a fixture root */
    snapshot_opts_t opts = {procfs, "/nonexistent-sys", stat(ethtool, &st) == 0 ? ethtool : NULL,
                            NULL};
    snapshot_t *snap = snapshot_new(&opts);
    series_t *all = series_new(100000);
    int rc = snap && all ? 0 : -1;
    if (rc == 0) {
        int64_t ts = snapshot_collect(snap, all, NULL, 0);
        state_head_t head = {.incarnation = 0x1234abcd5678ef90u, .seq = 42, .ts_ns = ts};
        snprintf(head.boot_id, sizeof head.boot_id, "%s", snapshot_boot_id(snap));
        for (size_t k = 0; rc == 0 && k < sizeof s_cuts / sizeof s_cuts[0]; k++)
            rc = s_write_cut(dir, name, &head, all, s_cuts[k]);
    }
    series_destroy(&all);
    snapshot_destroy(&snap);
    return rc;
}

static int s_write_text(const char *dir, const char *name, const char *text)
{
    return seedlib_write("gen_state_seeds", dir, name, text, strlen(text));
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_state_seeds DIR FIXTURES_DIR\n");
        return 2;
    }
    log_init("gen_state_seeds", LOGL_ERROR); /* a fixture's gaps are not news here */
    DIR *d = opendir(argv[2]);
    if (!d) {
        fprintf(stderr, "gen_state_seeds: cannot list %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            rc |= s_fixture(argv[1], argv[2], e->d_name);
    closedir(d);
    rc |= s_write_text(argv[1], "hand-empty.json",
                       "{\"boot_id\":\"1a49c9d9-2ac1-48a7-8b80-153458fd76e7\",\"incarnation\":1,"
                       "\"seq\":1,\"ts_ns\":1795359570000000000,\"series\":[]}");
    rc |= s_write_text(argv[1], "hand-rows.json",
                       "{\"boot_id\":\"b\",\"incarnation\":-1,\"seq\":9223372036854775807,"
                       "\"ts_ns\":-9223372036854775808,\"series\":["
                       "[\"netdev\",\"eth0\",\"rx_dropped\",9223372036854775807,0],"
                       "[\"sock\",\"udp:10.99.0.2:5000\",\"drops\",3,-1],"
                       "[\"nosuchsource\",\"x\",\"y\",1,2],"
                       "[\"snmp\",\"\",\"Udp.RcvbufErrors\",-5,0]]}");
    /* one byte too long for the head, with a character across the cut */
    rc |=
        s_write_text(argv[1], "hand-long-boot-id.json",
                     "{\"boot_id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
                     "\xc3\xa9\",\"incarnation\":1,\"seq\":1,\"ts_ns\":1,\"series\":[]}");
    return rc == 0 ? 0 : 1;
}
