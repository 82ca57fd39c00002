/* bench_allowlist: what the identity check's allow-list costs the ingest
 * thread with CERTS collector certificates in --allow (default 10,000).
 * Measured: (a) a look for changes when nothing changed (once a second on
 * the ingest thread), against a baseline in the same run: walking the
 * directory with czmq's zdir, which is how czmq's own certificate store
 * notices a change (on every lookup); (b) the read after one certificate
 * is added (a full re-read); (c) a lookup of a key.
 * Usage: bench_allowlist [CERTS] (default 10000; CI runs 20) */
#define _GNU_SOURCE
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>

#include "allowlist.h"
#include "ts.h"

static double s_ms(int64_t ns)
{
    return (double)ns / 1e6;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    if (n < 1) {
        fprintf(stderr, "usage: bench_allowlist [CERTS]\n");
        return 2;
    }
    char dir[] = "/tmp/bench_allowlist-XXXXXX", path[4096];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    zcert_t *probe = NULL;
    for (int i = 0; i < n; i++) {
        zcert_t *c = zcert_new();
        zcert_set_meta(c, "name", "host%05d", i);
        snprintf(path, sizeof path, "%s/host%05d", dir, i);
        zcert_save_public(c, path);
        if (i == n / 2)
            probe = zcert_dup(c);
        zcert_destroy(&c);
    }
    sleep(1); /* nothing pending for inotify but what the bench does */
    char err[256];
    int64_t t0 = ts_mono_ns();
    allowlist_t *a = allowlist_new(dir, err, sizeof err);
    int64_t load = ts_mono_ns() - t0;
    if (!a) {
        fprintf(stderr, "bench_allowlist: %s\n", err);
        return 1;
    }
    int64_t now = ts_mono_ns(), look = INT64_MAX, walk = INT64_MAX;
    for (int k = 1; k <= 5; k++) { /* the best of five, for both */
        t0 = ts_mono_ns();
        allowlist_refresh(a, now + k * 2 * TS_NS_PER_S);
        int64_t t1 = ts_mono_ns();
        zdir_t *z = zdir_new(dir, NULL);
        int64_t t2 = ts_mono_ns();
        zdir_destroy(&z);
        look = t1 - t0 < look ? t1 - t0 : look;
        walk = t2 - t1 < walk ? t2 - t1 : walk;
    }
    zcert_t *added = zcert_new();
    zcert_set_meta(added, "name", "added");
    snprintf(path, sizeof path, "%s/added", dir);
    zcert_save_public(added, path);
    t0 = ts_mono_ns();
    allowlist_refresh(a, now + 20 * TS_NS_PER_S);
    int64_t reread = ts_mono_ns() - t0;
    int lookups = 100000;
    t0 = ts_mono_ns();
    for (int i = 0; i < lookups; i++)
        if (!allowlist_host(a, zcert_public_txt(probe)))
            return 1;
    int64_t lookup = (ts_mono_ns() - t0) / lookups;
    const char *host = allowlist_host(a, zcert_public_txt(added));
    if (allowlist_size(a) != (size_t)n + 1 || !host || strcmp(host, "added") != 0) {
        fprintf(stderr, "bench_allowlist: after the change: %zu certificates, the new key speaks "
                "for %s\n", allowlist_size(a), host ? host : "nobody");
        return 1;
    }
    printf("certificates %d\n", n);
    printf("load_ms %.1f\n", s_ms(load));
    printf("look_unchanged_us %.1f (baseline: a zdir walk %.1f ms; ratio %.5f)\n", look / 1e3,
           s_ms(walk), (double)look / (double)walk);
    printf("reread_after_change_ms %.1f\n", s_ms(reread));
    printf("lookup_ns %lld\n", (long long)lookup);
    zcert_destroy(&added);
    zcert_destroy(&probe);
    allowlist_destroy(&a);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
