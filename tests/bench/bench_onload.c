/* bench_onload: the cost of the Onload source, which runs every
 * STACKDUMP_GAP_NS (10 s). Input: a host of 4 stacks of 200 dropping UDP
 * sockets each (the oflow fixture's stack `md` with its first socket
 * repeated on 200 ports), about what a market-data host runs. Measures the
 * parse alone, the parse into a series registry (what a snapshot does),
 * and whole runs (posix_spawn of a stand-in onload_stackdump that cats the
 * input, reading its output, parsing) against the spawn of one that prints
 * nothing. A real onload_stackdump costs more than the stand-in's cat: it
 * maps each stack and reads its processes under /proc (not measurable
 * here, no Onload). Usage: bench_onload [ITERATIONS] (default 200; CI runs
 * a smoke run of 20). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onload.h"
#include "series.h"
#include "stackdump.h"
#include "ts.h"

#define STACKS 4
#define SOCKETS 200

static char *s_load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[*len] = '\0';
    return buf;
}

/* The host's `lots` output into out (open_memstream). */
static int s_build(const char *fixture, FILE *out)
{
    size_t len;
    char *text = s_load(fixture, &len);
    if (!text)
        return -1;
    char *stack2 = strstr(text, "ci_netif_dump_to_logger: stack=2");
    char *sock = strstr(text, "\nUDP 1:3 ");
    char *stats = strstr(text, "-------------------- ci_netif_stats: 1");
    if (!stack2 || !sock || !stats) {
        free(text);
        return -1;
    }
    while (stack2 > text && stack2[-1] != '=') /* back to the "=====" line's end */
        stack2--;
    stack2 = memrchr(text, '\n', (size_t)(stack2 - text)) + 1;
    sock++;
    char *body = strchr(sock, '\n') + 1; /* the socket's lines after its header */
    char *end = strstr(body, "\n------------------------------------------------------------\n");
    end += 62;
    for (int k = 0; k < STACKS; k++) {
        fprintf(out, "%.*s", (int)(sock - text), text);
        for (int i = 0; i < SOCKETS; i++) {
            fprintf(out, "UDP 1:%d lcl=239.1.%d.%d:%d rmt=0.0.0.0:0 UDP\n", 3 + i, k, i, 31001 + i);
            fprintf(out, "%.*s", (int)(end - body), body);
        }
        fprintf(out, "%.*s", (int)(stack2 - stats), stats);
    }
    free(text);
    return 0;
}

static void s_count(void *ctx, const reading_t *r)
{
    (void)r;
    ++*(size_t *)ctx;
}

static void s_observe(void *ctx, const reading_t *r)
{
    series_observe(ctx, r);
}

/* CPU time of this process and its waited-for children so far, in ns. */
static int64_t s_cpu_ns(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    int64_t us = 0;
    const struct rusage *r[2] = {&self, &kids};
    for (int i = 0; i < 2; i++)
        us += (int64_t)(r[i]->ru_utime.tv_sec + r[i]->ru_stime.tv_sec) * 1000000 +
              r[i]->ru_utime.tv_usec + r[i]->ru_stime.tv_usec;
    return us * 1000;
}

static void s_report(const char *what, int64_t ns, int n)
{
    printf("%-42s %8.2f ms per run (wall), at most %.3f%% of a core at one run per 10 s\n", what,
           ns / 1e6 / n, 100.0 * ns / n / (double)STACKDUMP_GAP_NS);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    const char *fix = getenv("FIXTURES_DIR") ? getenv("FIXTURES_DIR") : FIXTURES_DIR;
    char path[4096], tool[128], empty[128], input[128];
    char *buf = NULL;
    size_t len = 0, readings = 0;
    snprintf(path, sizeof path, "%s/onload-stackdump/oflow.txt", fix);
    FILE *out = open_memstream(&buf, &len);
    if (n < 1 || !out || s_build(path, out) != 0) {
        fprintf(stderr, "usage: bench_onload [ITERATIONS] (reads %s)\n", path);
        return 2;
    }
    fclose(out);
    onload_parse(buf, len, s_count, &readings, NULL, 0);
    printf("input: %d stacks x %d sockets, %zu bytes, %zu readings; %d iterations\n", STACKS,
           SOCKETS, len, readings, n);

    int64_t t0 = ts_mono_ns();
    for (int i = 0; i < n; i++) {
        size_t k = 0;
        onload_parse(buf, len, s_count, &k, NULL, 0);
    }
    s_report("parse", ts_mono_ns() - t0, n);

    series_t *series = series_new(100000);
    t0 = ts_mono_ns();
    for (int i = 0; i < n; i++) {
        series_begin(series, "boot");
        onload_parse(buf, len, s_observe, series, NULL, 0);
        series_end(series);
    }
    s_report("parse into the series registry", ts_mono_ns() - t0, n);
    series_destroy(&series);

    /* stand-ins: one that cats the input, one that prints nothing */
    snprintf(input, sizeof input, "/tmp/bench_onload.%d.txt", (int)getpid());
    snprintf(tool, sizeof tool, "/tmp/bench_onload.%d.sh", (int)getpid());
    snprintf(empty, sizeof empty, "/tmp/bench_onload.%d.empty.sh", (int)getpid());
    FILE *f = fopen(input, "w"), *t = fopen(tool, "w"), *e = fopen(empty, "w");
    if (!f || !t || !e)
        return 1;
    fwrite(buf, 1, len, f);
    fprintf(t, "#!/bin/sh\nexec cat %s\n", input);
    fprintf(e, "#!/bin/sh\nexit 0\n");
    fclose(f);
    fclose(t);
    fclose(e);
    chmod(tool, 0700);
    chmod(empty, 0700);
    stackdump_t *run = stackdump_new(tool), *nothing = stackdump_new(empty);
    int64_t spawn = 0, whole = 0, cpu_spawn = 0, cpu_whole = 0;
    int runs = n < 100 ? n : 100, ok = 0;
    for (int i = 0; i < runs; i++) {
        size_t k = 0;
        t0 = ts_mono_ns();
        int64_t c0 = s_cpu_ns();
        stackdump_collect(nothing, true, s_count, &k);
        int64_t t1 = ts_mono_ns(), c1 = s_cpu_ns();
        ok += stackdump_collect(run, true, s_count, &k) == 1 && k == readings;
        spawn += t1 - t0;
        whole += ts_mono_ns() - t1;
        cpu_spawn += c1 - c0;
        cpu_whole += s_cpu_ns() - c1;
    }
    s_report("spawn of a stand-in that prints nothing", spawn, runs);
    s_report("run: spawn + read + parse (stand-in cat)", whole, runs);
    printf("CPU (collector + tool): %.2f ms a spawn, %.2f ms a run: %.3f%% of a core at one run "
           "per 10 s\n",
           cpu_spawn / 1e6 / runs, cpu_whole / 1e6 / runs,
           100.0 * cpu_whole / runs / (double)STACKDUMP_GAP_NS);
    stackdump_destroy(&run);
    stackdump_destroy(&nothing);
    unlink(input);
    unlink(tool);
    unlink(empty);
    free(buf);
    if (ok != runs) {
        fprintf(stderr, "bench_onload: %d of %d runs read the whole input\n", ok, runs);
        return 1;
    }
    return 0;
}
