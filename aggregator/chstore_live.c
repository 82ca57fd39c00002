/* chstore_live: what the aggregators that share a ClickHouse store need to
 * report each live incident once (fleetlive.h): a sign of life from each
 * (`aggregators`, the least name alive leads) and the incidents reported
 * (`live_incidents`). Small rows, a few a second for the whole fleet. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chstore_internal.h"
#include "rowbinary.h"

/* Inserts the rows in w into table ("name (columns)") of self's database. */
static int s_insert(chstore_t *self, const char *table, rbw_t *w, char *err, size_t errsz)
{
    if (rbw_failed(w)) {
        snprintf(err, errsz, "clickhouse: out of memory for a row of %s", table);
        return -1;
    }
    char target[256];
    snprintf(target, sizeof target, "%s.%s", self->db, table);
    return clickhouse_insert(self->ch, target, rbw_data(w), rbw_len(w), err, errsz);
}

int chstore_live_beat(chstore_t *self, const char *name, int64_t now_ns, int64_t alive_ns,
                      char *leader, size_t leadersz, char *err, size_t errsz)
{
    rbw_t *w = rbw_new();
    if (!w) {
        snprintf(err, errsz, "clickhouse: out of memory for a row of aggregators");
        return -1;
    }
    rbw_string(w, name, strlen(name));
    rbw_u64(w, (uint64_t)now_ns);
    int rc = s_insert(self, "aggregators (name, seen_ns)", w, err, errsz);
    rbw_destroy(&w);
    if (rc != 0)
        return -1;
    /* A replica that has not got our own row yet still counts us. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT min(name) FROM %s.aggregators WHERE seen_ns > %lld FORMAT RowBinary",
             self->db, (long long)(now_ns - alive_ns));
    const uint8_t *answer;
    size_t len;
    if (chstore_select(self, sql, &answer, &len, err, errsz) != 0)
        return -1;
    rbr_t r = rbr_init(answer, len);
    const char *least; /* "" when no row (min of nothing) */
    size_t n;
    if (rbr_string(&r, &least, &n) != 0) {
        rbr_error(&r, err, errsz);
        return -1;
    }
    size_t mine = strlen(name);
    int cmp = memcmp(least, name, n < mine ? n : mine);
    bool other = n > 0 && (cmp < 0 || (cmp == 0 && n < mine));
    snprintf(leader, leadersz, "%.*s", other ? (int)n : (int)mine, other ? least : name);
    return 0;
}

int chstore_live_reported(chstore_t *self, int64_t *start_ns, char *err, size_t errsz)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT max(start_ns) FROM %s.live_incidents FORMAT RowBinary",
             self->db);
    const uint8_t *answer;
    size_t len;
    if (chstore_select(self, sql, &answer, &len, err, errsz) != 0)
        return -1;
    rbr_t r = rbr_init(answer, len);
    if (rbr_i64(&r, start_ns) != 0) {
        rbr_error(&r, err, errsz);
        return -1;
    }
    return 0;
}

int chstore_live_report(chstore_t *self, const char *id, int64_t start_ns, const char *hosts,
                        const char *name, int64_t now_ns, char *err, size_t errsz)
{
    rbw_t *w = rbw_new();
    if (!w) {
        snprintf(err, errsz, "clickhouse: out of memory for a row of live_incidents");
        return -1;
    }
    rbw_i64(w, start_ns);
    rbw_string(w, id, strlen(id));
    rbw_string(w, hosts, strlen(hosts));
    rbw_string(w, name, strlen(name));
    rbw_i64(w, now_ns);
    int rc = s_insert(self, "live_incidents (start_ns, id, hosts, aggregator, reported_ns)", w,
                      err, errsz);
    rbw_destroy(&w);
    return rc;
}
