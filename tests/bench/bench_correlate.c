/* bench_correlate: incidents over one hour of bursts from a fleet (budget
 * in docs/ARCHITECTURE.md: 10,000 hosts, <= 1 s). Each host bursts PER_HOUR times at
 * random (default 6); every 10 s, 50 hosts burst together (an incident).
 * Random bursts of different hosts within 2 ms of each other are
 * incidents too: at 60 per host per hour that is 145k of them. Measured:
 * (a) correlate_find + correlate_recurrence on the array, against a baseline
 * in the same run: sorting the same array alone (the floor of any
 * sort-and-sweep); (b) the whole query, incidents_find on a SQLite file
 * holding the bursts (reading the rows included).
 * Usage: bench_correlate [HOSTS [PER_HOUR]] (default 10000 6; CI runs 20) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "correlate.h"
#include "incidents.h"
#include "intake.h"
#include "rows.h"
#include "store.h"
#include "ts.h"

#define MS INT64_C(1000000)
#define HOUR (3600 * TS_NS_PER_S)

static int s_cmp(const void *a, const void *b)
{
    const correlate_burst_t *x = a, *y = b;
    return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* The synthetic hour: per host ~60 random bursts, plus a 50-host incident every 10 s. */
static size_t s_generate(int hosts, int per_hour, int64_t t0, correlate_burst_t **out)
{
    size_t n = (size_t)hosts * (size_t)per_hour + 360 * 50, k = 0;
    correlate_burst_t *b = calloc(n, sizeof *b);
    srand(1);
    for (int h = 0; h < hosts; h++)
        for (int i = 0; i < per_hour; i++)
            b[k++] = (correlate_burst_t){(uint32_t)h, t0 + (int64_t)(rand() % 3600000) * MS, 0,
                                         100000, 300, 0, 0};
    for (int inc = 0; inc < 360; inc++)
        for (int m = 0; m < 50; m++)
            b[k++] = (correlate_burst_t){(uint32_t)((inc * 50 + m) % hosts),
                                         t0 + inc * 10 * TS_NS_PER_S + rand() % MS, 0, 100000,
                                         300, 10, 0};
    for (size_t i = 0; i < k; i++)
        b[i].end_ns = b[i].start_ns + MS;
    *out = b;
    return k;
}

/* Stores the bursts as batches of a few hosts' collectors would. */
static int s_fill(store_t *st, const correlate_burst_t *b, size_t n, int hosts)
{
    char err[256], name[32];
    burst_msg_t *msgs = calloc(n, sizeof *msgs);
    size_t *count = calloc((size_t)hosts, sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[b[i].host]++;
    burst_msg_t **per = calloc((size_t)hosts, sizeof *per);
    size_t *fill = calloc((size_t)hosts, sizeof *fill), off = 0;
    for (int h = 0; h < hosts; h++) {
        per[h] = msgs + off;
        off += count[h];
    }
    for (size_t i = 0; i < n; i++)
        per[b[i].host][fill[b[i].host]++] =
            (burst_msg_t){.iface = "eth0", .start_ns = b[i].start_ns, .end_ns = b[i].end_ns,
                          .peak_per_ms = 300, .packets = 300, .threshold_per_ms = 100,
                          .tick_ns = MS};
    store_begin(st, err, sizeof err);
    for (int h = 0; h < hosts; h++) {
        snprintf(name, sizeof name, "host%05d", h);
        msg_t m = {.host = name, .boot_id = "b", .incarnation = 1, .seq = 1, .sent_ns = 1,
                   .type = MSG_TYPE_BATCH};
        m.batch = (batch_t){.ts_ns = b[0].start_ns + HOUR, .prev_ts_ns = b[0].start_ns,
                            .nbursts = count[h], .bursts = per[h],
                            .clock = {.offset_valid = true, .rtt_ns = 200000}};
        size_t samples;
        if (intake_store(st, &m, 1, &samples, err, sizeof err) != STORE_OK) {
            fprintf(stderr, "bench_correlate: %s\n", err);
            return -1;
        }
    }
    int rc = store_commit(st, err, sizeof err);
    free(msgs);
    free(count);
    free(per);
    free(fill);
    return rc;
}

static int s_count(void *ctx, const burst_start_t *row)
{
    (void)row;
    (*(size_t *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    int hosts = argc > 1 ? atoi(argv[1]) : 10000;
    int per_hour = argc > 2 ? atoi(argv[2]) : 6;
    if (hosts < 2 || per_hour < 0) {
        fprintf(stderr, "usage: bench_correlate [HOSTS [PER_HOUR]]\n");
        return 2;
    }
    int64_t t0 = INT64_C(1795359570000000000);
    correlate_burst_t *b, *copy;
    size_t n = s_generate(hosts, per_hour, t0, &b);
    copy = malloc(n * sizeof *copy);
    memcpy(copy, b, n * sizeof *b);
    int64_t a = ts_mono_ns();
    qsort(copy, n, sizeof *copy, s_cmp);
    int64_t sort_ns = ts_mono_ns() - a;
    memcpy(copy, b, n * sizeof *b);
    correlate_incident_t *inc;
    a = ts_mono_ns();
    long ni = correlate_find(copy, n, 2 * MS, 2, &inc);
    correlate_recurrence(inc, (size_t)ni);
    int64_t corr_ns = ts_mono_ns() - a;
    printf("%d hosts, %zu bursts in an hour: %ld incidents\n", hosts, n, ni);
    printf("baseline: sort only            %8.1f ms\n", sort_ns / 1e6);
    printf("correlate + recurrence         %8.1f ms  (ratio %.2f)\n", corr_ns / 1e6,
           (double)corr_ns / (double)(sort_ns ? sort_ns : 1));
    free(inc);

    char dir[] = "/tmp/ds-bench-corr-XXXXXX", path[64], err[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/db.sqlite", dir);
    store_t *st = store_open(path, true, err, sizeof err);
    if (!st || s_fill(st, b, n, hosts) != 0)
        return 1;
    store_close(&st);
    st = store_open(path, false, err, sizeof err);
    size_t rows_read = 0;
    a = ts_mono_ns();
    store_burst_starts(st, t0 - 1, t0 + HOUR, 0, s_count, &rows_read, err, sizeof err);
    printf("reading the %zu burst starts alone: %.1f ms\n", rows_read, (ts_mono_ns() - a) / 1e6);
    incidents_query_t q = {t0 - 1, t0 + HOUR, 2 * MS, 2, INT64_MAX, 0};
    a = ts_mono_ns();
    incidents_t *found = incidents_find(st, &q, NULL, err, sizeof err);
    json_t *rows = found ? rows_incidents(found) : NULL; /* what /api/incidents builds */
    incidents_destroy(&found);
    int64_t query_ns = ts_mono_ns() - a;
    printf("incidents over the hour from SQLite (read + group + JSON objects): %.1f ms, %zu "
           "incidents; budget 1000 ms: %s\n", query_ns / 1e6, json_array_size(rows),
           query_ns <= TS_NS_PER_S ? "met" : "MISSED");
    json_decref(rows);
    store_close(&st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    free(b);
    free(copy);
    return 0;
}
