/* correlate: see correlate.h. The sweep keeps the set of distinct hosts of
 * the current group in a small open array (groups are a few hosts to a few
 * thousand), so a group costs O(members * distinct hosts) in the worst case
 * and usually far less. */
#include "correlate.h"

#include <stdlib.h>
#include <string.h>

correlate_burst_t correlate_burst(const burst_msg_t *b, const clock_msg_t *clock, uint32_t host,
                                  size_t ref)
{
    int64_t shift = clock->offset_valid ? clock->offset_ns : 0;
    int64_t unc = clock->offset_valid ? clock->rtt_ns / 2
                  : clock->maxerror_ns > 0 ? clock->maxerror_ns
                                           : 1000000000;
    uint64_t drops = 0;
    for (int l = 0; l < LAYER_COUNT; l++) /* squeezes (a precursor) are no loss */
        drops += layer_is_drop((layer_t)l) ? b->drops[l] : 0;
    return (correlate_burst_t){host, b->start_ns + shift, b->end_ns + shift, unc, b->packets,
                               drops, ref};
}

static int s_by_start(const void *a, const void *b)
{
    const correlate_burst_t *x = a, *y = b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return x->host < y->host ? -1 : x->host > y->host;
}

static int s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Distinct hosts among bursts[first .. first+count): sorted, not compared
 * pairwise, so that a group of 10,000 bursts costs ~10^5 steps, not 10^8. */
static uint32_t s_hosts(const correlate_burst_t *b, size_t count, uint32_t *seen)
{
    for (size_t i = 0; i < count; i++)
        seen[i] = b[i].host;
    if (count > 1)
        qsort(seen, count, sizeof *seen, s_cmp_u32);
    uint32_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += i == 0 || seen[i] != seen[i - 1];
    return n;
}

long correlate_find(correlate_burst_t *bursts, size_t n, int64_t window_ns, unsigned min_hosts,
                    correlate_incident_t **out)
{
    *out = NULL;
    if (n > 1) /* qsort(NULL, 0) is undefined */
        qsort(bursts, n, sizeof *bursts, s_by_start);
    uint32_t *seen = malloc((n + 1) * sizeof *seen);
    correlate_incident_t *inc = malloc((n + 1) * sizeof *inc);
    if (!seen || !inc) {
        free(seen);
        free(inc);
        return -1;
    }
    long ninc = 0;
    for (size_t i = 0; i < n;) {
        const correlate_burst_t *first = &bursts[i];
        size_t j = i + 1;
        int64_t widest = first->uncertainty_ns;
        while (j < n) {
            int64_t unc = bursts[j].uncertainty_ns > widest ? bursts[j].uncertainty_ns : widest;
            if (bursts[j].start_ns - first->start_ns > window_ns + unc)
                break;
            widest = unc;
            j++;
        }
        uint32_t hosts = s_hosts(first, j - i, seen);
        if (hosts >= min_hosts) {
            correlate_incident_t *c = &inc[ninc++];
            *c = (correlate_incident_t){.first = i, .count = j - i, .start_ns = first->start_ns,
                                        .end_ns = first->end_ns, .nhosts = hosts,
                                        .uncertain = widest > window_ns};
            for (size_t k = i; k < j; k++) {
                c->packets += bursts[k].packets;
                c->drops += bursts[k].drops;
                c->end_ns = bursts[k].end_ns > c->end_ns ? bursts[k].end_ns : c->end_ns;
            }
        }
        i = j;
    }
    free(seen);
    *out = inc;
    return ninc;
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* True when gap is within 5% of period. */
static bool s_close(int64_t gap, int64_t period)
{
    int64_t d = gap > period ? gap - period : period - gap;
    return d * 20 <= period;
}

void correlate_recurrence(correlate_incident_t *inc, size_t n)
{
    if (n < 3)
        return;
    int64_t *gaps = malloc((n - 1) * sizeof *gaps);
    if (!gaps)
        return;
    for (size_t i = 1; i < n; i++)
        gaps[i - 1] = inc[i].start_ns - inc[i - 1].start_ns;
    qsort(gaps, n - 1, sizeof *gaps, s_cmp_i64);
    int64_t period = gaps[(n - 1) / 2]; /* the median gap */
    free(gaps);
    if (period <= 0)
        return;
    /* Runs of at least 3 incidents spaced by the period recur. */
    size_t run = 0;
    for (size_t i = 1; i <= n; i++) {
        bool steady = i < n && s_close(inc[i].start_ns - inc[i - 1].start_ns, period);
        if (steady) {
            run++;
            continue;
        }
        if (run >= 2)
            for (size_t k = i - run - 1; k < i; k++)
                inc[k].period_ns = period;
        run = 0;
    }
}
