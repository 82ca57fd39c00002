/* bench_slowpath: the cost of one collector slow-path snapshot (every
 * /proc/net file, netlink interface stats, sysctls, ethtool for every
 * interface, /proc/{interrupts,softirqs,stat} and the NICs' queue masks,
 * into the series registry), against a baseline measured in the
 * same run: reading the same /proc files without parsing them. docs/ARCHITECTURE.md, Budgets
 * budget: <= 1 ms per snapshot. Then the cost of one walk for socket
 * owners (every /proc/<pid>/fd link, for a socket nobody holds: the worst
 * case), which a snapshot adds at most every 10 s when a new socket drops.
 * With ROOT, also the IRQ and CPU sources alone (irqs_collect) on ROOT/proc
 * and ROOT/sys, in CPU time: tests/fixtures/synthetic-128cpu-mlx5-i40e is
 * a 128-CPU host with 130 NIC lines, whose /proc/interrupts is 210 KB.
 * Usage: bench_slowpath [ITERATIONS [ROOT]] (default 2000; CI runs a smoke
 * run of 20). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"
#include "irqs.h"
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

static int64_t s_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * INT64_C(1000000000) + t.tv_nsec;
}

static void s_count(void *ctx, const reading_t *r)
{
    (void)r;
    (*(size_t *)ctx)++;
}

static void s_ok(void *ctx, source_t source)
{
    (void)ctx;
    (void)source;
}

/* irqs_collect on root/proc and root/sys, n times after a first (which
 * reads sysfs too: it is read again every 10 s). */
static void s_bench_irqs(const char *root, int n)
{
    char proc[4096], sys[4096];
    snprintf(proc, sizeof proc, "%s/proc", root);
    snprintf(sys, sizeof sys, "%s/sys", root);
    irqs_t *irqs = irqs_new(proc, sys);
    int64_t *cpu = calloc((size_t)n, sizeof *cpu);
    size_t readings = 0;
    if (!irqs || !cpu)
        return;
    irqs_collect(irqs, s_count, &readings, s_ok);
    for (int i = 0; i < n; i++) {
        readings = 0;
        int64_t t0 = s_cpu_ns();
        irqs_collect(irqs, s_count, &readings, s_ok);
        cpu[i] = s_cpu_ns() - t0;
    }
    printf("irq and cpu sources of %s: %zu readings\n", root, readings);
    benchlib_report("irqs_collect (CPU time)", cpu, n);
    free(cpu);
    irqs_destroy(&irqs);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    if (n < 1) {
        fprintf(stderr, "usage: bench_slowpath [ITERATIONS [ROOT]]\n");
        return 2;
    }
    snapshot_opts_t opts = {"/proc", "/sys", NULL, "none"}; /* Onload: bench_onload */
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
    benchlib_report("baseline: read /proc files", raw, n);
    benchlib_report("snapshot (all sources)", full, n);
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
        benchlib_report("socket owner walk", walk, walks);
        printf("ratio owner walk/snapshot (p50): %.2f\n",
               (double)walk[walks / 2] / (double)full[n / 2]);
    }
    free(walk);
    if (argc > 2)
        s_bench_irqs(argv[2], n);
    free(full);
    free(raw);
    series_destroy(&series);
    snapshot_destroy(&snap);
    return 0;
}
