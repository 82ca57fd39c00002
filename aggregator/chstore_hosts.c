/* chstore_hosts: the ClickHouse store's hosts rows. A host's row is one
 * row per flush (ReplacingMergeTree on name, version updated_ns): each
 * flush reads the latest row of every host with changes waiting and
 * writes it back with this writer's changes merged in field by field, so
 * that aggregators writing the same host in turn never lose each other's
 * fields (a hello one stored, the clock another). Assumes a flush about
 * once a second, between groups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chstore_writer.h"
#include "clickhouse.h"
#include "grow.h"

#define FLUSH_CHUNK 500 /* hosts per flush INSERT: their names make its query, under 256 KiB */

/* --- the hosts' flush ------------------------------------------------------------ */

void chw_pending_clear(chw_pending_t *p)
{
    char *owned[] = {p->boot_id, p->backend, p->kernel, p->collector_version, p->backend_note,
                     p->degraded};
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        free(owned[i]);
    memset(p, 0, sizeof *p);
}

int chw_pending_copy(chw_pending_t *to, const chw_pending_t *p)
{
    *to = *p;
    char **owned[] = {&to->boot_id, &to->backend, &to->kernel, &to->collector_version,
                      &to->backend_note, &to->degraded};
    int rc = 0;
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
        if (*owned[i] && !(*owned[i] = strdup(*owned[i])))
            rc = -1;
    return rc;
}

/* The columns of a hosts row that the flush reads and writes back (then
 * aggregator and updated_ns), with their RowBinary types: 'S' String, 'i'
 * Int64, 'u' UInt64, 'b' UInt8. */
enum { H_NAME, H_BOOT_ID, H_BACKEND, H_KERNEL, H_VERSION, H_FIRST_SEEN, H_LAST_SEEN, H_INTERVAL,
       H_INCARNATION, H_LAST_SEQ, H_NCPUS, H_SPOOL_MESSAGES, H_SPOOL_SAMPLES, H_REJECTED_MESSAGES,
       H_REJECTED_SAMPLES, H_CLOCK_TS, H_OFFSET_VALID, H_OFFSET, H_RTT, H_SYNCED, H_MAXERROR,
       H_ESTERROR, H_NOTE, H_DEGRADED, H_NCOLS };
static const struct {
    const char *name;
    char type;
} s_hcol[H_NCOLS] = {
    {"name", 'S'}, {"boot_id", 'S'}, {"backend", 'S'}, {"kernel", 'S'},
    {"collector_version", 'S'}, {"first_seen_ns", 'i'}, {"last_seen_ns", 'i'},
    {"interval_ns", 'i'}, {"incarnation", 'u'}, {"last_seq", 'u'}, {"ncpus", 'i'},
    {"spool_dropped_messages", 'i'}, {"spool_dropped_samples", 'i'},
    {"spool_rejected_messages", 'i'}, {"spool_rejected_samples", 'i'}, {"clock_ts_ns", 'i'},
    {"clock_offset_valid", 'b'}, {"clock_offset_ns", 'i'}, {"clock_rtt_ns", 'i'},
    {"clock_synced", 'b'}, {"clock_maxerror_ns", 'i'}, {"clock_esterror_ns", 'i'},
    {"backend_note", 'S'}, {"degraded", 'S'},
};

typedef struct {
    const char *s; /* a String's bytes (borrowed), n of them */
    size_t n;
    int64_t i;     /* an integer's value (UInt64 as its bit pattern) */
} hv_t;

static hv_t s_text(const char *s)
{
    return (hv_t){.s = s ? s : "", .n = s ? strlen(s) : 0};
}

/* Reads one hosts row of the flush's query into v. */
static int s_read_hrow(rbr_t *r, hv_t v[H_NCOLS])
{
    for (int k = 0; k < H_NCOLS; k++) {
        uint8_t b = 0;
        uint64_t u = 0;
        v[k] = (hv_t){0};
        switch (s_hcol[k].type) {
        case 'S': rbr_string(r, &v[k].s, &v[k].n); break;
        case 'i': rbr_i64(r, &v[k].i); break;
        case 'u': rbr_u64(r, &u); v[k].i = (int64_t)u; break;
        default: rbr_u8(r, &b); v[k].i = b; break;
        }
    }
    return rbr_failed(r) ? -1 : 0;
}

/* p merged into the latest stored row v (have: there is one), as
 * store_hosts.c's updates would have changed it: first seen the least,
 * last seen the most, the run of the latest message, the hello's fields
 * when p has one, the clock of the latest batch with the spool losses'
 * maxima. */
static void s_merge(hv_t v[H_NCOLS], bool have, const chw_host_t *c)
{
    const chw_pending_t *p = &c->p;
    v[H_NAME] = s_text(c->name);
    if (p->seen) {
        if (!have || p->first_seen_ns < v[H_FIRST_SEEN].i)
            v[H_FIRST_SEEN].i = p->first_seen_ns;
        if (!have || p->last_seen_ns >= v[H_LAST_SEEN].i) {
            v[H_LAST_SEEN].i = p->last_seen_ns;
            v[H_BOOT_ID] = s_text(p->boot_id);
            v[H_INCARNATION].i = (int64_t)p->incarnation;
            v[H_LAST_SEQ].i = (int64_t)p->last_seq;
        }
    }
    if (p->hello) {
        v[H_BACKEND] = s_text(p->backend);
        v[H_KERNEL] = s_text(p->kernel);
        v[H_VERSION] = s_text(p->collector_version);
        v[H_NOTE] = s_text(p->backend_note);
        v[H_DEGRADED] = s_text(p->degraded);
        v[H_NCPUS].i = p->ncpus;
        v[H_INTERVAL].i = p->interval_ns;
    }
    if (p->delivery && (!have || p->clock_ts_ns >= v[H_CLOCK_TS].i)) {
        const uint64_t mine[] = {p->spool_messages, p->spool_samples, p->rejected_messages,
                                 p->rejected_samples};
        for (int k = 0; k < 4; k++)
            if (!have || (int64_t)mine[k] > v[H_SPOOL_MESSAGES + k].i)
                v[H_SPOOL_MESSAGES + k].i = (int64_t)mine[k];
        v[H_CLOCK_TS].i = p->clock_ts_ns;
        v[H_OFFSET_VALID].i = p->clock.offset_valid;
        v[H_OFFSET].i = p->clock.offset_ns;
        v[H_RTT].i = p->clock.rtt_ns;
        v[H_SYNCED].i = p->clock.synced;
        v[H_MAXERROR].i = p->clock.maxerror_ns;
        v[H_ESTERROR].i = p->clock.esterror_ns;
    }
}

static void s_write_hrow(chstore_writer_t *w, const hv_t v[H_NCOLS])
{
    rbw_t *b = w->scratch;
    for (int k = 0; k < H_NCOLS; k++) {
        switch (s_hcol[k].type) {
        case 'S': rbw_string(b, v[k].s, v[k].n); break;
        case 'i': rbw_i64(b, v[k].i); break;
        case 'u': rbw_u64(b, (uint64_t)v[k].i); break;
        default: rbw_u8(b, (uint8_t)v[k].i); break;
        }
    }
    chw_str(b, w->name);
    rbw_u64(b, chw_version(w));
}

static int s_cmp_host(const void *a, const void *b)
{
    return strcmp((*(chw_host_t *const *)a)->name, (*(chw_host_t *const *)b)->name);
}

/* A name of the answer, (s, n), against a host's. */
typedef struct {
    const char *s;
    size_t n;
} name_key_t;

static int s_cmp_name(const void *key, const void *host)
{
    const name_key_t *k = key;
    const char *name = (*(chw_host_t *const *)host)->name;
    int cmp = strncmp(k->s, name, k->n);
    return cmp ? cmp : -(name[k->n] != '\0');
}

/* The index of the chunk's host named (s, n), or nhosts (hosts sorted by name). */
static size_t s_chunk_find(chw_host_t **hosts, size_t nhosts, const char *s, size_t n)
{
    name_key_t key = {s, n};
    chw_host_t **at = bsearch(&key, hosts, nhosts, sizeof *hosts, s_cmp_name);
    return at ? (size_t)(at - hosts) : nhosts;
}

/* The SQL of the latest rows of the chunk's hosts; NULL without memory. */
static char *s_latest_sql(chw_host_t **hosts, size_t n)
{
    size_t cap = 4096 + 40 * H_NCOLS, len = 0;
    for (size_t i = 0; i < n; i++)
        cap += 4 * strlen(hosts[i]->name) + 4;
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    len += (size_t)snprintf(sql, cap, "SELECT name");
    for (int k = 1; k < H_NCOLS; k++)
        len += (size_t)snprintf(sql + len, cap - len,
                                k == H_FIRST_SEEN ? ", min(%s)" : ", argMax(%s, updated_ns)",
                                s_hcol[k].name);
    len += (size_t)snprintf(sql + len, cap - len, " FROM {db}.hosts WHERE name IN (");
    for (size_t i = 0; i < n; i++) {
        if (i)
            sql[len++] = ',';
        clickhouse_quote(hosts[i]->name, sql + len, cap - len);
        len += strlen(sql + len);
    }
    snprintf(sql + len, cap - len, ") GROUP BY name FORMAT RowBinary");
    return sql;
}

/* The latest stored rows of n hosts (sorted by name) into v, have[i] set
 * for those that have one. The strings are borrowed from the answer:
 * valid until the next request. 0, -1 + err. */
static int s_read_latest(chstore_t *self, chw_host_t **hosts, size_t n, hv_t (*v)[H_NCOLS],
                         bool *have, char *err, size_t errsz)
{
    char *sql = s_latest_sql(hosts, n);
    const uint8_t *answer;
    size_t len;
    int rc = chw_query(self, "the hosts' latest rows", sql, &answer, &len, err, errsz);
    free(sql);
    if (rc != 0)
        return -1;
    rbr_t r = rbr_init(answer, len);
    while (rbr_more(&r)) {
        hv_t row[H_NCOLS];
        size_t at = s_read_hrow(&r, row) == 0
                        ? s_chunk_find(hosts, n, row[H_NAME].s, row[H_NAME].n)
                        : n;
        if (at < n) {
            memcpy(v[at], row, sizeof row);
            have[at] = true;
        }
    }
    if (!rbr_failed(&r))
        return 0;
    size_t left;
    rbr_error(&r, chw_tail(err, errsz, &left, "chstore: cannot read the hosts' latest rows: "),
              left);
    return -1;
}

/* "hosts (name, ..., aggregator, updated_ns)" into out. */
static void s_insert_columns(char *out, size_t size)
{
    size_t len = (size_t)snprintf(out, size, "hosts (");
    for (int k = 0; k < H_NCOLS && len < size; k++)
        len += (size_t)snprintf(out + len, size - len, "%s, ", s_hcol[k].name);
    if (len < size)
        snprintf(out + len, size - len, "aggregator, updated_ns)");
}

/* Merges and writes the rows of n hosts (sorted by name) in one INSERT;
 * their pending changes are cleared once it succeeded. 0, -1 + err. */
static int s_flush_chunk(chstore_t *self, chw_host_t **hosts, size_t n, char *err, size_t errsz)
{
    chstore_writer_t *w = self->w;
    bool *have = calloc(n, sizeof *have);
    hv_t(*v)[H_NCOLS] = have ? calloc(n, sizeof *v) : NULL;
    if (!v) {
        free(have);
        snprintf(err, errsz, "chstore: out of memory flushing %zu hosts", n);
        return -1;
    }
    int rc = s_read_latest(self, hosts, n, v, have, err, errsz);
    rbw_reset(w->scratch);
    for (size_t i = 0; i < n && rc == 0; i++) {
        s_merge(v[i], have[i], hosts[i]);
        s_write_hrow(w, v[i]);
    }
    if (rc == 0 && rbw_failed(w->scratch)) {
        snprintf(err, errsz, "chstore: out of memory flushing %zu hosts", n);
        rc = -1;
    }
    if (rc == 0) {
        char columns[1024];
        size_t left;
        s_insert_columns(columns, sizeof columns);
        char *tail = chw_tail(err, errsz, &left, "chstore: cannot write %zu hosts rows: ", n);
        rc = clickhouse_insert(self->ch, columns, rbw_data(w->scratch), rbw_len(w->scratch), tail,
                               left);
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        chw_pending_clear(&hosts[i]->p);
    if (rc == 0)
        err[0] = '\0';
    free(have);
    free(v);
    return rc;
}

typedef struct {
    chw_host_t **hosts; /* those with pending changes */
    size_t n, cap;
    bool oom;
} pending_list_t;

static bool s_list_pending(void *ctx, void *value)
{
    pending_list_t *l = ctx;
    chw_host_t *c = value;
    if (!(c->p.seen || c->p.delivery || c->p.hello))
        return true;
    chw_host_t **grown = grow(l->hosts, l->n + 1, &l->cap, sizeof *grown, 64);
    if (grown) {
        l->hosts = grown;
        l->hosts[l->n++] = c;
    }
    l->oom = l->oom || !grown;
    return true;
}

int chw_flush(chstore_t *self, char *err, size_t errsz)
{
    pending_list_t l = {0};
    strmap_retain(self->w->hosts, s_list_pending, &l);
    int rc = l.oom ? -1 : 0;
    if (l.oom)
        snprintf(err, errsz, "chstore: out of memory listing the hosts to flush");
    if (l.n)
        qsort(l.hosts, l.n, sizeof *l.hosts, s_cmp_host);
    for (size_t i = 0; i < l.n && rc == 0; i += FLUSH_CHUNK)
        rc = s_flush_chunk(self, l.hosts + i, l.n - i < FLUSH_CHUNK ? l.n - i : FLUSH_CHUNK, err,
                           errsz);
    free(l.hosts);
    return rc;
}
