/* chstore: the ClickHouse store's entry points (store.h's contract on
 * ClickHouse, chstore.h): open, close and migrate; the writer's groups,
 * commit and rollback; tallies; retention by day partitions. The messages
 * are chstore_write.c's, the hosts rows chstore_hosts.c's, the readers'
 * queries chstore_query.c's. Assumes one writer thread per aggregator,
 * several aggregators on one database, and ClickHouse 18.16 or newer: no
 * transactions, so a group is staged in memory and sent at its commit, one
 * INSERT per table, `batches` last. */
#define _GNU_SOURCE
#include "chstore.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "chstore_schema.h"
#include "chstore_writer.h"
#include "clickhouse.h"
#include "log.h"
#include "rowbinary.h"
#include "ts.h"

#define DAY_NS (86400 * TS_NS_PER_S)
#define UPKEEP_MAX_PARTS 64 /* expired partitions one upkeep call considers */

/* --- helpers shared by the writer's files --------------------------------------- */

uint64_t chw_version(chstore_writer_t *w)
{
    int64_t now = ts_now_ns();
    uint64_t v = now > 0 ? (uint64_t)now : 0;
    w->last_version = v > w->last_version ? v : w->last_version + 1;
    return w->last_version;
}

int chw_str(rbw_t *w, const char *s)
{
    return rbw_string(w, s ? s : "", s ? strlen(s) : 0);
}

char *chw_sqlf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    return out;
}

char *chw_tail(char *err, size_t errsz, size_t *left, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    size_t at = n < 0 ? 0 : (size_t)n < errsz ? (size_t)n : errsz - 1;
    *left = errsz - at;
    return err + at;
}

int chw_query(chstore_t *self, const char *what, const char *sql, const uint8_t **answer,
              size_t *len, char *err, size_t errsz)
{
    char *full = sql ? chstore_expand(self, sql) : NULL;
    if (!full) {
        snprintf(err, errsz, "chstore: out of memory reading %s", what);
        return -1;
    }
    size_t left;
    char *tail = chw_tail(err, errsz, &left, "chstore: cannot read %s: ", what);
    int rc = clickhouse_query(self->ch, full, answer, len, tail, left);
    free(full);
    if (rc == 0)
        err[0] = '\0';
    return rc;
}

int chw_scalar(chstore_t *self, const char *what, const char *sql, uint64_t *v, char *err,
               size_t errsz)
{
    const uint8_t *answer;
    size_t len;
    if (chw_query(self, what, sql, &answer, &len, err, errsz) != 0)
        return -1;
    rbr_t r = rbr_init(answer, len);
    if (rbr_u64(&r, v) != 0) {
        char why[256];
        rbr_error(&r, why, sizeof why);
        snprintf(err, errsz, "chstore: cannot read %s: %s", what, why);
        return -1;
    }
    return 0;
}


/* --- open, close, migrate --------------------------------------------------------- */

bool chstore_is_url(const char *target)
{
    return target && (strncasecmp(target, "http://", 7) == 0 ||
                      strncasecmp(target, "https://", 8) == 0);
}

char *chstore_expand(const chstore_t *self, const char *sql)
{
    return chstore_subst(sql, self->db, "");
}

static void s_writer_free(chstore_writer_t **w_p)
{
    chstore_writer_t *w = *w_p;
    if (!w)
        return;
    for (int t = 0; t < CHW_NTABLES; t++)
        rbw_destroy(&w->buf[t]);
    rbw_destroy(&w->scratch);
    if (w->hosts)
        strmap_clear(w->hosts, chw_host_free);
    strmap_destroy(&w->hosts);
    free(w->touched);
    free(w->tallies);
    free(w);
    *w_p = NULL;
}

static chstore_writer_t *s_writer_new(void)
{
    chstore_writer_t *w = calloc(1, sizeof *w);
    bool ok = w && (w->scratch = rbw_new()) && (w->hosts = strmap_new());
    for (int t = 0; ok && t < CHW_NTABLES; t++)
        ok = (w->buf[t] = rbw_new()) != NULL;
    if (!ok) {
        s_writer_free(&w);
        return NULL;
    }
    w->max_hosts = STORE_MAX_HOSTS_DEFAULT;
    w->nhosts = -1;
    w->group_gen = w->tally_gen = 1;
    if (gethostname(w->name, sizeof w->name - 1) != 0)
        snprintf(w->name, sizeof w->name, "aggregator");
    return w;
}

/* On a cluster, with every request: inserts into a Distributed table go to
 * their shards before the answer, and each waits for two replicas
 * (insert_quorum) for 10 s at most, which is well below the request's own
 * timeout, so that the failure is the server's and says why (a shard with
 * one of two replicas down takes nothing until it is back, and collectors
 * spool meanwhile); a query whose IN or JOIN reads a Distributed table
 * reads it whole once (GLOBAL); a CREATE ... ON CLUSTER fails with the
 * servers that did not answer within 20 s. */
#define CLUSTER_SETTINGS                                                                           \
    "insert_distributed_sync=1&insert_quorum=2&insert_quorum_timeout=10000&"                     \
    "distributed_product_mode=global&distributed_ddl_task_timeout=20"

static int s_use_cluster(chstore_t *self, const char *cluster, char *err, size_t errsz)
{
    if (!*cluster)
        return 0;
    if (!clickhouse_is_identifier(cluster) || strlen(cluster) >= sizeof self->cluster) {
        snprintf(err, errsz, "chstore: clickhouse-cluster '%s' is not a cluster name (letters, "
                 "digits and '_', at most %zu, as in the servers' remote_servers)", cluster,
                 sizeof self->cluster - 1);
        return -1;
    }
    snprintf(self->cluster, sizeof self->cluster, "%s", cluster);
    return clickhouse_set_settings(self->ch, CLUSTER_SETTINGS, err, errsz);
}

chstore_t *chstore_open(const char *url, const chstore_auth_t *auth, bool writer, bool migrate,
                        char *err, size_t errsz)
{
    chstore_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "chstore: out of memory");
        return NULL;
    }
    const char *cluster = auth && auth->cluster ? auth->cluster : "";
    self->ch = clickhouse_new(url, auth ? auth->user : NULL, auth ? auth->password : NULL, err,
                              errsz);
    int rc = self->ch ? 0 : -1;
    if (rc == 0 && strlen(clickhouse_database(self->ch)) >= sizeof self->db) {
        snprintf(err, errsz, "chstore: the database name of %s is longer than %zu bytes (use a "
                 "shorter name)", url, sizeof self->db - 1);
        rc = -1;
    }
    if (rc == 0) {
        snprintf(self->db, sizeof self->db, "%s", clickhouse_database(self->ch));
        rc = s_use_cluster(self, cluster, err, errsz);
    }
    if (rc == 0 && writer && !(self->w = s_writer_new())) {
        snprintf(err, errsz, "chstore: out of memory");
        rc = -1;
    }
    if (rc == 0 && migrate)
        rc = chstore_migrate(self, NULL, NULL, err, errsz);
    if (rc != 0)
        chstore_close(&self);
    return self;
}

void chstore_close(chstore_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    chstore_t *self = *self_p;
    char err[512];
    if (self->w && self->ch) {
        if (self->w->in_group)
            chstore_rollback(self);
        if (chw_flush(self, err, sizeof err) != 0)
            log_error("aggregator: the hosts' latest state is not saved: %s", err);
    }
    s_writer_free(&self->w);
    clickhouse_destroy(&self->ch);
    free(self);
    *self_p = NULL;
}

/* The tables queries name are Distributed on a cluster and not on one
 * server. Checked before creating any: CREATE ... IF NOT EXISTS would keep
 * a table of the other kind, and rows written to it would skip the shards
 * (or the quorum). */
static int s_check_layout(chstore_t *self, char *err, size_t errsz)
{
    const uint8_t *answer;
    size_t len;
    if (chw_query(self, "the tables' engines",
                  "SELECT name, engine FROM system.tables WHERE database = '{db}' AND engine "
                  "NOT IN ('View', 'MaterializedView') FORMAT RowBinary",
                  &answer, &len, err, errsz) != 0)
        return -1;
    rbr_t r = rbr_init(answer, len);
    bool cluster = self->cluster[0] != '\0';
    while (rbr_more(&r)) {
        const char *name, *engine;
        size_t nn, en;
        rbr_string(&r, &name, &nn);
        if (rbr_string(&r, &engine, &en) != 0)
            break;
        bool local = nn > strlen(CHSTORE_LOCAL) &&
                     !memcmp(name + nn - strlen(CHSTORE_LOCAL), CHSTORE_LOCAL, strlen(CHSTORE_LOCAL));
        bool distributed = en == 11 && !memcmp(engine, "Distributed", 11);
        if (local || distributed == cluster)
            continue;
        snprintf(err, errsz, "chstore: database %s was made %s, and its table %.*s is %.*s: %s",
                 self->db, cluster ? "on one server" : "on a cluster", (int)nn, name, (int)en,
                 engine, cluster ? "a cluster needs a database of its own (give another "
                 "database= in the URL)" : "give clickhouse-cluster, as when it was made");
        return -1;
    }
    if (!rbr_failed(&r))
        return 0;
    rbr_error(&r, err, errsz);
    return -1;
}

int chstore_migrate(chstore_t *self, store_progress_fn *progress, void *ctx, char *err,
                    size_t errsz)
{
    if (clickhouse_check_version(self->ch, err, errsz) != 0)
        return -1;
    char sql[256], *tail;
    size_t left;
    snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS %s%s%s", self->db,
             self->cluster[0] ? " ON CLUSTER " : "", self->cluster);
    tail = chw_tail(err, errsz, &left, "chstore: cannot create database %s: ", self->db);
    if (clickhouse_exec_nodb(self->ch, sql, tail, left) != 0 ||
        s_check_layout(self, err, errsz) != 0)
        return -1;
    for (size_t i = 0; i < chstore_ntables; i++) {
        const chstore_table_t *t = &chstore_tables[i];
        if (progress)
            progress(ctx, &(store_migration_t){.name = t->name, .index = (int)i + 1,
                                               .count = (int)chstore_ntables});
        char *ddl[2];
        int n = chstore_table_ddl(t, self->db, self->cluster, ddl), rc = n < 0 ? -1 : 0;
        tail = chw_tail(err, errsz, &left, "chstore: cannot create %s.%s: ", self->db, t->name);
        if (n < 0)
            snprintf(tail, left, "out of memory");
        for (int k = 0; k < n; k++) {
            if (rc == 0)
                rc = clickhouse_exec(self->ch, ddl[k], tail, left);
            free(ddl[k]);
        }
        if (rc != 0)
            return -1;
    }
    err[0] = '\0';
    return 0;
}

/* --- groups ------------------------------------------------------------------------ */

static void s_tally_forget(chstore_writer_t *w)
{
    w->ntallies = 0;
    w->tally_gen++;
}

static void s_buffers_reset(chstore_writer_t *w)
{
    for (int t = 0; t < CHW_NTABLES; t++) {
        rbw_reset(w->buf[t]);
        w->rows[t] = 0;
    }
    w->ntouched = 0;
}

int chstore_begin(chstore_t *self, char *err, size_t errsz)
{
    chstore_writer_t *w = self->w;
    if (!w || w->in_group) {
        snprintf(err, errsz, "chstore: %s", w ? "a group is already open (commit or roll it back "
                 "first)" : "a reader cannot store (open the store as the writer)");
        return -1;
    }
    s_buffers_reset(w);
    w->group_gen++;
    w->in_group = true;
    w->group_failed = false;
    return 0;
}

/* A rollback's undo of one host: forgotten when the group met it first,
 * else its pending row restored and its definitions read again. */
static bool s_undo_host(void *ctx, void *value)
{
    chstore_writer_t *w = ctx;
    chw_host_t *c = value;
    if (c->group_gen != w->group_gen)
        return true;
    if (c->new_in_group) {
        chw_host_free(c);
        return false;
    }
    chw_pending_clear(&c->p);
    c->p = c->saved;
    memset(&c->saved, 0, sizeof c->saved);
    c->loaded = false;
    c->group_gen = 0;
    return true;
}

void chstore_rollback(chstore_t *self)
{
    chstore_writer_t *w = self->w;
    if (!w || !w->in_group)
        return;
    strmap_retain(w->hosts, s_undo_host, w);
    s_buffers_reset(w);
    s_tally_forget(w);
    w->nhosts = -1; /* a host the group admitted is gone again */
    w->in_group = false;
    w->group_failed = false;
}

int chstore_commit(chstore_t *self, char *err, size_t errsz)
{
    chstore_writer_t *w = self->w;
    if (!w || !w->in_group) {
        snprintf(err, errsz, "chstore: commit without a group (call chstore_begin first)");
        return -1;
    }
    if (w->group_failed) {
        snprintf(err, errsz, "chstore: a message of the group failed: nothing of it is stored");
        chstore_rollback(self);
        return -1;
    }
    for (int t = 0; t < CHW_NTABLES; t++) {
        if (!w->rows[t])
            continue;
        size_t left;
        char *tail = chw_tail(err, errsz, &left, "chstore: cannot insert %zu rows into %s.%.*s "
                              "(nothing of the group is acknowledged): ", w->rows[t], self->db,
                              (int)strcspn(chw_columns[t], " "), chw_columns[t]);
        if (clickhouse_insert(self->ch, chw_columns[t], rbw_data(w->buf[t]), rbw_len(w->buf[t]),
                              tail, left) == 0)
            continue;
        chstore_rollback(self);
        return -1;
    }
    for (size_t i = 0; i < w->ntouched; i++) {
        chw_host_t *c = w->touched[i];
        chw_pending_clear(&c->saved);
        c->new_in_group = false;
        c->stored_max = c->group_max > c->stored_max ? c->group_max : c->stored_max;
    }
    s_buffers_reset(w);
    w->in_group = false;
    return 0;
}

int chstore_flush_hosts(chstore_t *self, char *err, size_t errsz)
{
    if (!self->w || self->w->in_group) {
        snprintf(err, errsz, "chstore: the hosts are flushed by the writer between groups");
        return -1;
    }
    return chw_flush(self, err, errsz);
}

store_limit_t chstore_last_limit(const chstore_t *self)
{
    return self->w ? self->w->last_limit : STORE_LIMIT_SERIES;
}

void chstore_set_max_hosts(chstore_t *self, int64_t max_hosts)
{
    if (self->w)
        self->w->max_hosts = max_hosts;
}

void chstore_set_name(chstore_t *self, const char *name)
{
    if (self->w && name)
        snprintf(self->w->name, sizeof self->w->name, "%s", name);
}

typedef struct {
    int64_t since; /* caches unused since before this go */
} evict_t;

static bool s_keep_cache(void *ctx, void *value)
{
    const evict_t *e = ctx;
    const chw_host_t *c = value;
    if (c->p.seen || c->p.delivery || c->p.hello || c->used_mono >= e->since)
        return true;
    chw_host_free(value);
    return false;
}

size_t chstore_evict_idle(chstore_t *self, int64_t now_mono_ns, int64_t idle_ns)
{
    if (!self->w)
        return 0;
    if (!self->w->in_group) /* a group holds pointers to its hosts */
        strmap_retain(self->w->hosts, s_keep_cache, &(evict_t){now_mono_ns - idle_ns});
    return strmap_size(self->w->hosts);
}

/* --- the fleet's counters ------------------------------------------------------------ */

void chstore_tally_each(chstore_t *self, void (*fn)(void *ctx, const store_tally_t *t), void *ctx)
{
    chstore_writer_t *w = self->w;
    if (!w)
        return;
    for (size_t i = 0; i < w->ntallies; i++)
        fn(ctx, &w->tallies[i]);
    s_tally_forget(w);
}

/* What is stored of the counters, each data row read once by its natural
 * key (a row written twice counts once), plus what retention expired. */
/* The days retention counted (their marker) are left out of the rows: a
 * restore between a day's count and its DROP PARTITION counts it once. */
#define COUNTED(table)                                                                             \
    "(SELECT day FROM {db}.counts_expired WHERE kind = 'expired' AND key = '" table "')"
static const char *const s_restore_sql[] = {
    "SELECT host, layer, toInt64(sum(n)) FROM (SELECT host, layer, greatest(any(delta), "
    "toInt64(0)) AS n FROM {db}.drops WHERE overlap = 0 AND intDiv(ts_ns, 86400000000000) NOT IN "
    COUNTED("drops") " GROUP BY host, ts_ns, source, device, name, layer UNION ALL SELECT host, "
    "key AS layer, any(n) AS n FROM {db}.counts_expired WHERE kind = 'drops' GROUP BY host, key, "
    "direction, day) GROUP BY host, layer FORMAT RowBinary",
    "SELECT host, iface, direction, toInt64(sum(n)) FROM (SELECT host, iface, direction, "
    "toInt64(1) AS n FROM {db}.bursts WHERE intDiv(start_ns, 86400000000000) NOT IN "
    COUNTED("bursts") " GROUP BY host, start_ns, iface, direction UNION ALL SELECT host, key AS "
    "iface, direction, any(n) AS n FROM {db}.counts_expired WHERE kind = 'bursts' GROUP BY host, "
    "key, direction, day) GROUP BY host, iface, direction FORMAT RowBinary",
    "SELECT name, argMax(last_seen_ns, updated_ns), argMax(clock_offset_valid, updated_ns), "
    "argMax(clock_offset_ns, updated_ns), argMax(spool_dropped_messages + "
    "spool_rejected_messages, updated_ns) FROM {db}.hosts GROUP BY name FORMAT RowBinary",
};

/* One row of restore query q into *t. */
static void s_restore_row(rbr_t *r, int q, store_tally_t *t)
{
    const char *s = NULL, *key = NULL, *dir = NULL;
    size_t n = 0, nkey = 0, ndir = 0;
    int64_t v = 0, offset = 0, lost = 0;
    uint8_t valid = 0;
    rbr_string(r, &s, &n);
    snprintf(t->host, sizeof t->host, "%.*s", (int)n, s ? s : "");
    if (q == 2) {
        rbr_i64(r, &v);
        rbr_u8(r, &valid);
        rbr_i64(r, &offset);
        rbr_i64(r, &lost);
        *t = (store_tally_t){.seen = v > 0, .last_seen_ns = v, .delivery = true,
                             .clock_valid = valid != 0, .clock_offset_ns = offset,
                             .spool_lost = lost > 0 ? (uint64_t)lost : 0};
        snprintf(t->host, sizeof t->host, "%.*s", (int)n, s ? s : "");
        return;
    }
    rbr_string(r, &key, &nkey);
    if (q == 1)
        rbr_string(r, &dir, &ndir);
    rbr_i64(r, &v);
    if (rbr_failed(r))
        return;
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)nkey, key);
    if (q == 0) {
        t->path[layer_from_name(name)] = v > 0 ? (uint64_t)v : 0;
        return;
    }
    t->nbursts = 1;
    snprintf(t->bursts[0].iface, sizeof t->bursts[0].iface, "%.31s", name);
    t->bursts[0].tx = ndir == 2 && memcmp(dir, "tx", 2) == 0;
    t->bursts[0].n = v > 0 ? (uint64_t)v : 0;
}

int chstore_tally_restore(chstore_t *self, void (*fn)(void *ctx, const store_tally_t *t),
                          void *ctx, char *err, size_t errsz)
{
    for (int q = 0; q < 3; q++) {
        const uint8_t *answer;
        size_t len;
        if (chw_query(self, "the stored counters", s_restore_sql[q], &answer, &len, err, errsz) !=
            0)
            return -1;
        rbr_t r = rbr_init(answer, len);
        while (rbr_more(&r)) {
            store_tally_t t = {0};
            s_restore_row(&r, q, &t);
            if (!rbr_failed(&r))
                fn(ctx, &t);
        }
        if (rbr_failed(&r)) {
            char why[256];
            rbr_error(&r, why, sizeof why);
            snprintf(err, errsz, "chstore: cannot read the stored counters: %s", why);
            return -1;
        }
    }
    return 0;
}

/* --- retention ------------------------------------------------------------------------ */

/* A day partition of a table, expired. */
typedef struct {
    const chstore_table_t *table;
    int64_t day;
} expired_t;

/* What the drops or bursts of a day's partition counted, per host and key,
 * each row read once by its natural key: (host, key, direction, n). */
#define COUNT_DROPS_SQL                                                                            \
    "SELECT host, layer, '', toInt64(sum(n)) FROM (SELECT host, layer, greatest(any(delta), "    \
    "toInt64(0)) AS n FROM {db}.drops WHERE intDiv(ts_ns, 86400000000000) = %lld AND overlap = " \
    "0 GROUP BY host, ts_ns, source, device, name, layer) GROUP BY host, layer FORMAT RowBinary"
#define COUNT_BURSTS_SQL                                                                           \
    "SELECT host, iface, direction, toInt64(count()) FROM (SELECT host, iface, direction FROM "   \
    "{db}.bursts WHERE intDiv(start_ns, 86400000000000) = %lld GROUP BY host, start_ns, iface, "  \
    "direction) GROUP BY host, iface, direction FORMAT RowBinary"

/* Adds what the drops or bursts (which 0 or 1) of a day counted into
 * counts_expired, with a marker row (kind 'expired', key the table) in the
 * same INSERT (one block: both or neither). A day whose marker is there
 * was counted already, by an upkeep that stopped before its DROP
 * PARTITION, and is not counted again; two aggregators counting the same
 * day at once write the same rows, which are read once (the restore's
 * GROUP BY day), and the restore leaves a marked day's rows out. */
static int s_carry(chstore_t *self, int which, int64_t day, char *err, size_t errsz)
{
    static const char *const kind[2] = {"drops", "bursts"};
    char *sql = chw_sqlf("SELECT count() FROM {db}.counts_expired WHERE kind = 'expired' AND key "
                         "= '%s' AND day = %lld FORMAT RowBinary",
                         kind[which], (long long)day);
    uint64_t done = 0;
    int rc = chw_scalar(self, "what retention counted", sql, &done, err, errsz);
    free(sql);
    if (rc != 0 || done)
        return rc;
    const uint8_t *answer;
    size_t len;
    char *count = which ? chw_sqlf(COUNT_BURSTS_SQL, (long long)day)
                        : chw_sqlf(COUNT_DROPS_SQL, (long long)day);
    rc = chw_query(self, "the counts of an expired day", count, &answer, &len, err, errsz);
    free(count);
    if (rc != 0)
        return -1;
    rbw_t *b = self->w->scratch;
    rbw_reset(b);
    rbr_t r = rbr_init(answer, len);
    while (rbr_more(&r)) {
        const char *s[3] = {0};
        size_t n[3] = {0};
        int64_t v = 0;
        for (int i = 0; i < 3; i++)
            rbr_string(&r, &s[i], &n[i]);
        if (rbr_i64(&r, &v) != 0)
            break;
        rbw_string(b, s[0], n[0]);
        chw_str(b, kind[which]);
        rbw_string(b, s[1], n[1]);
        rbw_string(b, s[2], n[2]);
        rbw_i64(b, day);
        rbw_i64(b, v);
    }
    chw_str(b, "");
    chw_str(b, "expired");
    chw_str(b, kind[which]);
    chw_str(b, "");
    rbw_i64(b, day);
    rbw_i64(b, 1);
    size_t left;
    char *tail = chw_tail(err, errsz, &left, "chstore: cannot count the %s of expired day %lld: ",
                          kind[which], (long long)day);
    if (rbr_failed(&r))
        rbr_error(&r, tail, left);
    else if (rbw_failed(b))
        snprintf(tail, left, "out of memory");
    else if (clickhouse_insert(self->ch, "counts_expired (host, kind, key, direction, day, n)",
                               rbw_data(b), rbw_len(b), tail, left) == 0)
        return 0;
    return -1;
}

/* Where the database's parts are listed: the server's system.parts, or on
 * a cluster every shard's (one replica of each: the data once). */
static void s_parts_table(const chstore_t *self, char *out, size_t outsz)
{
    if (self->cluster[0])
        snprintf(out, outsz, "cluster('%s', system, parts)", self->cluster);
    else
        snprintf(out, outsz, "system.parts");
}

/* The expired day partitions of every partitioned table, oldest first, up
 * to UPKEEP_MAX_PARTS, into ex. Their count, or -1 + err. */
static long s_expired(chstore_t *self, const store_retention_t *r, int64_t now_ns,
                      expired_t *ex, char *err, size_t errsz)
{
    const uint8_t *answer;
    size_t len;
    char parts[128];
    s_parts_table(self, parts, sizeof parts);
    char *sql = chw_sqlf("SELECT replaceRegexpOne(table, '" CHSTORE_LOCAL "$', '') AS t, partition "
                         "FROM %s WHERE database = '{db}' AND active GROUP BY t, partition "
                         "ORDER BY partition, t FORMAT RowBinary", parts);
    int rc = chw_query(self, "the table partitions", sql, &answer, &len, err, errsz);
    free(sql);
    if (rc != 0)
        return -1;
    long n = 0;
    rbr_t rd = rbr_init(answer, len);
    while (rbr_more(&rd) && n < UPKEEP_MAX_PARTS) {
        const char *t, *p;
        size_t tn, pn;
        rbr_string(&rd, &t, &tn);
        if (rbr_string(&rd, &p, &pn) != 0)
            break;
        char part[32];
        snprintf(part, sizeof part, "%.*s", (int)(pn < 31 ? pn : 31), p);
        for (size_t i = 0; i < chstore_ntables; i++) {
            const chstore_table_t *tb = &chstore_tables[i];
            if (!tb->time_column || strlen(tb->name) != tn || memcmp(tb->name, t, tn) != 0)
                continue;
            bool raw = !strcmp(tb->name, "samples") || !strcmp(tb->name, "batches");
            int64_t keep = raw ? r->raw_ns : r->rollup_ns, day = strtoll(part, NULL, 10);
            if ((day + 1) * DAY_NS <= now_ns - keep) /* wholly older */
                ex[n++] = (expired_t){tb, day};
        }
    }
    if (!rbr_failed(&rd))
        return n;
    rbr_error(&rd, err, errsz);
    return -1;
}

long chstore_upkeep(chstore_t *self, const store_retention_t *r, int64_t now_ns,
                    int64_t budget_ns, char *err, size_t errsz)
{
    if (!self->w) {
        snprintf(err, errsz, "chstore: upkeep is the writer's");
        return -1;
    }
    int64_t deadline = ts_mono_ns() + budget_ns;
    expired_t ex[UPKEEP_MAX_PARTS];
    long n = s_expired(self, r, now_ns, ex, err, errsz), done = 0;
    for (long i = 0; i < n && (done == 0 || ts_mono_ns() < deadline); i++) {
        const char *name = ex[i].table->name;
        int which = !strcmp(name, "drops") ? 0 : !strcmp(name, "bursts") ? 1 : -1;
        if (which >= 0 && s_carry(self, which, ex[i].day, err, errsz) != 0)
            return -1;
        char sql[256];
        size_t left;
        snprintf(sql, sizeof sql, "ALTER TABLE %s.%s%s%s DROP PARTITION %lld", self->db, name,
                 self->cluster[0] ? CHSTORE_LOCAL " ON CLUSTER " : "", self->cluster,
                 (long long)ex[i].day);
        char *tail = chw_tail(err, errsz, &left, "chstore: cannot drop expired day %lld of "
                              "%s.%s: ", (long long)ex[i].day, self->db, name);
        if (clickhouse_exec(self->ch, sql, tail, left) != 0)
            return -1;
        done++;
    }
    return n < 0 ? -1 : done;
}

int64_t chstore_file_bytes(chstore_t *self)
{
    /* `bytes`: 18.16's name, an alias of bytes_on_disk in current releases.
     * Under the caller's deadline (/metrics answers in bounded time). */
    char sql[384], err[512], parts[128];
    s_parts_table(self, parts, sizeof parts);
    snprintf(sql, sizeof sql, "SELECT toUInt64(sum(bytes)) FROM %s WHERE database = '%s' AND "
             "active FORMAT RowBinary", parts, self->db);
    const uint8_t *answer;
    size_t len;
    uint64_t v = 0;
    if (chstore_select(self, sql, &answer, &len, err, sizeof err) != 0)
        return 0;
    rbr_t r = rbr_init(answer, len);
    return rbr_u64(&r, &v) == 0 ? (int64_t)v : 0;
}

int64_t chstore_rolled_until(chstore_t *self, int64_t step_s)
{
    (void)self;
    /* Materialized views roll every insert up as it commits: every bucket
     * is complete up to now, the current one for what has arrived. */
    int64_t now = ts_now_ns(), step = step_s * TS_NS_PER_S;
    return step > 0 ? now - ((now % step) + step) % step : now;
}
