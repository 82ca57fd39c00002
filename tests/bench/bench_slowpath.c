/* bench_slowpath: the cost of one collector slow-path snapshot (every
 * /proc/net file, netlink interface stats, sysctls, ethtool for every
 * interface, /proc/{interrupts,softirqs,stat} and the NICs' queue masks,
 * into the series registry), against a baseline measured in the
 * same run: reading the same /proc files without parsing them. docs/ARCHITECTURE.md, Budgets
 * budget: <= 1 ms per snapshot. Then the cost of one walk for socket
 * owners (every /proc/<pid>/fd link, for a socket nobody holds: the worst
 * case), which a snapshot adds at most every 10 s when a new socket drops.
 * Usage: bench_slowpath [ITERATIONS] (default 2000; CI runs a smoke run of
 * 20). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "snapshot.h"
#include "sockowner.h"
#include "ts.h"

static const char *const s_files[] = {
    "/proc/net/dev",     "/proc/net/snmp", "/proc/net/netstat", "/proc/net/snmp6",
    "/proc/net/softnet_stat", "/proc/net/udp", "/proc/net/udp6", "/proc/interrupts",
    "/proc/softirqs",    "/proc/stat",
};

static void s_read_raw(void)
{
    static char buf[1 << 20];
    for (size_t i = 0; i < sizeof s_files / sizeof s_files[0]; i++) {
        int fd = open(s_files[i], O_RDONLY);
        if (fd < 0)
            continue;
        while (read(fd, buf, sizeof buf) > 0)
            ;
        close(fd);
    }
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void s_report(const char *what, int64_t *ns, int n)
{
    qsort(ns, (size_t)n, sizeof *ns, s_cmp);
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += ns[i];
    printf("%-28s mean %7.1f us  p50 %7.1f us  p99 %7.1f us\n", what, sum / 1e3 / n,
           ns[n / 2] / 1e3, ns[n * 99 / 100] / 1e3);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    if (n < 1) {
        fprintf(stderr, "usage: bench_slowpath [ITERATIONS]\n");
        return 2;
    }
    snapshot_opts_t opts = {"/proc", "/sys", NULL};
    snapshot_t *snap = snapshot_new(&opts);
    series_t *series = series_new(50000);
    int64_t *full = calloc((size_t)n, sizeof *full), *raw = calloc((size_t)n, sizeof *raw);
    if (!snap || !series || !full || !raw)
        return 1;
    snapshot_collect(snap, series, NULL, 0); /* warm up: first sight of every series */
    for (int i = 0; i < n; i++) {
        int64_t t0 = ts_mono_ns();
        s_read_raw();
        int64_t t1 = ts_mono_ns();
        snapshot_collect(snap, series, NULL, 0);
        int64_t t2 = ts_mono_ns();
        raw[i] = t1 - t0;
        full[i] = t2 - t1;
    }
    printf("%zu series, %d iterations\n", series_count(series), n);
    s_report("baseline: read /proc files", raw, n);
    s_report("snapshot (all sources)", full, n);
    int64_t raw_sum = 0, full_sum = 0;
    for (int i = 0; i < n; i++) {
        raw_sum += raw[i];
        full_sum += full[i];
    }
    printf("ratio snapshot/baseline (mean): %.2f; budget 1000 us: %s\n",
           (double)full_sum / (double)raw_sum, full[n / 2] <= 1000000 ? "met (p50)" : "MISSED (p50)");
    int walks = n / 20 > 5 ? n / 20 : 5;
    int64_t *walk = calloc((size_t)walks, sizeof *walk);
    uint64_t nobody = UINT64_MAX;
    char owner[1][SOCKOWNER_LEN];
    for (int i = 0; walk && i < walks; i++) {
        int64_t t0 = ts_mono_ns();
        sockowner_find("/proc", &nobody, 1, owner);
        walk[i] = ts_mono_ns() - t0;
    }
    if (walk) {
        s_report("socket owner walk", walk, walks);
        printf("ratio owner walk/snapshot (p50): %.2f\n",
               (double)walk[walks / 2] / (double)full[n / 2]);
    }
    free(walk);
    free(full);
    free(raw);
    series_destroy(&series);
    snapshot_destroy(&snap);
    return 0;
}
