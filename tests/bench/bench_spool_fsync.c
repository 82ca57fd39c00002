/* bench_spool_fsync: what making the spool durable costs a collector, at
 * 1 s and 100 ms intervals, against the collector's own CPU measured in the
 * same run. Three parts:
 *   1. the real dropscope-collector (next to this binary; --backend none, so
 *      the loop that spools, without the fast-path sampler) against a spool
 *      on the benchmark's filesystem, with no aggregator (nothing is
 *      acknowledged, the same in both runs): its CPU (utime+stime from
 *      /proc/PID/stat) with the spool synced, and with SPOOL_NOSYNC_ENV (the
 *      spool as it was before); and the sizes of the batches it wrote;
 *   2. in-process, at the same cadence and with those sizes (a full batch
 *      every 60th): the wall time of spool_push + spool_sync per batch,
 *      synced and not: the difference is what the fsyncs cost per batch;
 *   3. the other correct way for a group of pushes: syncfs(2) once, then the
 *      renames, then one directory fsync, against the spool's fdatasync per
 *      file, for groups of 1 and 4 files.
 * fsync is a no-op on tmpfs: the directory is BENCH_DIR (default /var/tmp),
 * and its filesystem is printed. Usage: bench_spool_fsync [BATCHES] (batches
 * at 100 ms per configuration, a tenth of them at 1 s; default 300: about
 * two minutes; CI runs a smoke run of 20).
 *   build/bin/bench_spool_fsync 300 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "ts.h"

typedef struct {
    double cpu_ms_per_s;      /* the collector's utime+stime per second of wall time */
    double mean_bytes;        /* its batches: mean size, and the largest (a full batch) */
    double full_bytes;
} collector_run_t;

static void s_sleep_ns(int64_t ns)
{
    struct timespec t = {ns / TS_NS_PER_S, ns % TS_NS_PER_S};
    while (nanosleep(&t, &t) < 0)
        ;
}

static double s_cpu_ms(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* Sizes of the message files in dir: their mean, and the largest. */
static void s_sizes(const char *dir, collector_run_t *r)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    double sum = 0, n = 0;
    while (d && (de = readdir(d))) {
        struct stat st;
        if (strstr(de->d_name, ".msg") && fstatat(dirfd(d), de->d_name, &st, 0) == 0) {
            sum += (double)st.st_size;
            n++;
            r->full_bytes = (double)st.st_size > r->full_bytes ? (double)st.st_size : r->full_bytes;
        }
    }
    if (d)
        closedir(d);
    r->mean_bytes = n ? sum / n : 0;
}

/* Removes the mkdtemp directory holding the spool at dir (".../spool"). */
static void s_remove_run(const char *dir)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %.*s", (int)(strlen(dir) - strlen("/spool")), dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_spool_fsync: could not remove %s\n", dir);
}

/* Runs the collector for secs seconds (after one of start-up) with a spool
 * in a new directory under base. */
static collector_run_t s_collector(const char *base, const char *interval, bool nosync, int secs)
{
    char exe[PATH_MAX], bin[PATH_MAX + 32], dir[PATH_MAX], log[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    *(strrchr(exe, '/') ? strrchr(exe, '/') : exe) = '\0';
    snprintf(bin, sizeof bin, "%s/dropscope-collector", exe);
    snprintf(dir, sizeof dir, "%s/ds-bench-spool-XXXXXX", base);
    collector_run_t r = {0};
    if (!mkdtemp(dir))
        return r;
    snprintf(log, sizeof log, "%s/collector.log", dir);
    strcat(dir, "/spool");
    pid_t pid = fork();
    if (pid == 0) {
        if (nosync)
            setenv(SPOOL_NOSYNC_ENV, "1", 1);
        else
            unsetenv(SPOOL_NOSYNC_ENV);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        execl(bin, bin, "--connect", "ipc:///nonexistent/ds-bench", "--insecure", "--host-name",
              "bench", "--backend", "none", "--interval", interval, "--spool", dir, (char *)NULL);
        _exit(127);
    }
    s_sleep_ns(TS_NS_PER_S);
    double c0 = s_cpu_ms(pid);
    int64_t t0 = ts_mono_ns();
    s_sleep_ns((int64_t)secs * TS_NS_PER_S);
    r.cpu_ms_per_s = (s_cpu_ms(pid) - c0) / ((double)(ts_mono_ns() - t0) / 1e9);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    s_sizes(dir, &r);
    s_remove_run(dir);
    return r;
}

/* Pushes n batches, one every interval_ns (a full one every 60th), each
 * followed by spool_sync as the collector does; the mean wall time of
 * push + sync in us. */
static double s_push_us(const char *base, const collector_run_t *c, int64_t interval_ns, int n,
                        bool nosync)
{
    char dir[PATH_MAX], err[512];
    snprintf(dir, sizeof dir, "%s/ds-bench-push-XXXXXX", base);
    if (!mkdtemp(dir))
        return -1;
    nosync ? setenv(SPOOL_NOSYNC_ENV, "1", 1) : unsetenv(SPOOL_NOSYNC_ENV);
    strcat(dir, "/spool");
    spool_t *sp = spool_open(dir, UINT64_C(64) << 20, err, sizeof err);
    unsetenv(SPOOL_NOSYNC_ENV);
    size_t full = (size_t)c->full_bytes, len = (size_t)c->mean_bytes;
    uint8_t *buf = calloc(1, full + 1);
    int64_t total = 0;
    for (int i = 0; sp && buf && i < n; i++) {
        for (size_t k = 0; k < full; k++)
            buf[k] = (uint8_t)(i * 31 + k);
        int64_t t0 = ts_mono_ns();
        if (spool_push(sp, 1, (uint64_t)i + 1, 100, buf, i % 60 == 59 ? full : len, err,
                       sizeof err) < 0 ||
            spool_sync(sp, err, sizeof err) < 0)
            fprintf(stderr, "bench_spool_fsync: %s\n", err);
        total += ts_mono_ns() - t0;
        spool_ack(sp, 1, (uint64_t)i + 1); /* acknowledged at once: an aggregator keeping up */
        s_sleep_ns(interval_ns);
    }
    spool_destroy(&sp);
    free(buf);
    s_remove_run(dir);
    return n ? (double)total / 1e3 / n : 0;
}

/* One group of k files written, made durable and renamed, by way of a
 * fdatasync each (use_syncfs false: the spool's way) or one syncfs; then
 * one directory fsync. Wall time in us. */
static double s_group_us(int dfd, int k, size_t len, bool use_syncfs, int round)
{
    static uint8_t buf[1 << 16];
    char tmp[64], name[64];
    int64_t t0 = ts_mono_ns();
    for (int i = 0; i < k; i++) {
        snprintf(tmp, sizeof tmp, "%d-%d.tmp", round, i);
        int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (write(fd, buf, len) < 0 || (!use_syncfs && fdatasync(fd) < 0))
            perror("bench_spool_fsync: write");
        if (use_syncfs && i == k - 1 && syncfs(fd) < 0)
            perror("bench_spool_fsync: syncfs");
        close(fd);
        snprintf(name, sizeof name, "%d-%d.msg", round, i);
        if (!use_syncfs)
            renameat(dfd, tmp, dfd, name);
    }
    for (int i = 0; use_syncfs && i < k; i++) {
        snprintf(tmp, sizeof tmp, "%d-%d.tmp", round, i);
        snprintf(name, sizeof name, "%d-%d.msg", round, i);
        renameat(dfd, tmp, dfd, name);
    }
    fsync(dfd);
    int64_t ns = ts_mono_ns() - t0;
    for (int i = 0; i < k; i++) {
        snprintf(name, sizeof name, "%d-%d.msg", round, i);
        unlinkat(dfd, name, 0);
    }
    return (double)ns / 1e3;
}

static void s_strategies(const char *base, size_t len, int rounds)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/ds-bench-group-XXXXXX", base);
    if (!mkdtemp(dir))
        return;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    for (int k = 1; k <= 4; k += 3) {
        double per_file = 0, one_syncfs = 0;
        for (int r = 0; r < rounds; r++) { /* interleaved, so both see the same disk */
            per_file += s_group_us(dfd, k, len, false, r);
            one_syncfs += s_group_us(dfd, k, len, true, r);
            s_sleep_ns(20 * TS_NS_PER_MS);
        }
        printf("group of %d: fdatasync each + dir fsync %8.0f us, syncfs + dir fsync %8.0f us "
               "(ratio %.2f)\n", k, per_file / rounds, one_syncfs / rounds, one_syncfs / per_file);
    }
    close(dfd);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 300;
    const char *base = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/var/tmp";
    struct statfs fs;
    if (statfs(base, &fs) == 0)
        printf("%s: filesystem type 0x%lx%s\n", base, (unsigned long)fs.f_type,
               fs.f_type == 0x01021994 ? " (tmpfs: fsync is a no-op, these figures mean nothing)"
               : fs.f_type == 0xEF53   ? " (ext2/3/4)"
                                       : "");
    static const struct {
        const char *arg;
        int64_t ns;
        int batches;
    } cfg[] = {{"1s", TS_NS_PER_S, 0}, {"100ms", 100 * TS_NS_PER_MS, 0}};
    for (size_t i = 0; i < 2; i++) {
        int batches = i == 0 ? (n / 10 > 2 ? n / 10 : 2) : n;
        int secs = (int)((batches * cfg[i].ns + TS_NS_PER_S - 1) / TS_NS_PER_S);
        collector_run_t with = s_collector(base, cfg[i].arg, false, secs);
        collector_run_t without = s_collector(base, cfg[i].arg, true, secs);
        double synced = s_push_us(base, &with, cfg[i].ns, batches, false);
        double unsynced = s_push_us(base, &with, cfg[i].ns, batches, true);
        double per_s = (double)TS_NS_PER_S / (double)cfg[i].ns;
        double fsync_ms_s = (synced - unsynced) * per_s / 1e3;
        printf("--interval %-5s batches %5.0f B (full %5.0f B); collector CPU %.2f ms/s synced, "
               "%.2f ms/s unsynced (ratio %.2f)\n",
               cfg[i].arg, with.mean_bytes, with.full_bytes, with.cpu_ms_per_s,
               without.cpu_ms_per_s, with.cpu_ms_per_s / without.cpu_ms_per_s);
        printf("  push+sync %.0f us/batch synced, %.0f us unsynced: fsync %.0f us/batch, "
               "%.2f ms/s of wall time = %.2f x the collector's CPU\n",
               synced, unsynced, synced - unsynced, fsync_ms_s, fsync_ms_s / with.cpu_ms_per_s);
    }
    s_strategies(base, 4096, n / 5 > 4 ? n / 5 : 4);
    return 0;
}
