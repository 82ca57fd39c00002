/* benchlib: what the C benchmarks share: a run's latencies summarised the
 * same way in each (mean, p50, p99), so their lines compare. */
#ifndef DROPSCOPE_BENCHLIB_H
#define DROPSCOPE_BENCHLIB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline int benchlib_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts the n latencies at ns (nanoseconds), prints what's mean, p50 and
 * p99 in microseconds, and returns the mean in nanoseconds. */
static inline double benchlib_report(const char *what, int64_t *ns, int n)
{
    qsort(ns, (size_t)n, sizeof *ns, benchlib_cmp);
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += ns[i];
    printf("%-34s mean %8.1f us  p50 %8.1f us  p99 %8.1f us\n", what, sum / 1e3 / n,
           ns[n / 2] / 1e3, ns[n * 99 / 100] / 1e3);
    return (double)sum / n;
}

#endif
