/* Tests aggregator/chstore_schema without a server: the statements that
 * create each table on one server and on a cluster, written out in full
 * for a table with a version column, a partitioned one and a view, and the
 * substitution of "{db}" and "{local}". (Servers run them in test_chstore_*
 * and in test_replication_clickhouse.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chstore_schema.h"
#include "testlib.h"

static const chstore_table_t *s_table(const char *name)
{
    for (size_t i = 0; i < chstore_ntables; i++)
        if (!strcmp(chstore_tables[i].name, name))
            return &chstore_tables[i];
    fail_msg("no table %s", name);
    return NULL;
}

/* The statements for name in database "fleet", on cluster (or NULL). */
static int s_ddl(const char *name, const char *cluster, char *stmts[2])
{
    int n = chstore_table_ddl(s_table(name), "fleet", cluster, stmts);
    assert_true(n == 1 || n == 2);
    return n;
}

static void s_free(char *stmts[2], int n)
{
    for (int k = 0; k < n; k++)
        free(stmts[k]);
}

static void test_subst(void **state)
{
    (void)state;
    char *s = chstore_subst("FROM {db}.samples{local} JOIN {db}.x {shard} {db", "fleet", "_local");
    assert_string_equal(s, "FROM fleet.samples_local JOIN fleet.x {shard} {db");
    free(s);
    s = chstore_subst("{local}{db}{local}", "d", "");
    assert_string_equal(s, "d");
    free(s);
    s = chstore_subst("", "d", "_l");
    assert_string_equal(s, "");
    free(s);
}

static void test_one_server(void **state)
{
    (void)state;
    char *st[2];
    int n = s_ddl("counts_expired", NULL, st);
    assert_int_equal(n, 1);
    assert_string_equal(st[0], "CREATE TABLE IF NOT EXISTS fleet.counts_expired (host String, "
                               "kind String, key String, direction String, day Int64, n Int64) "
                               "ENGINE = ReplacingMergeTree() ORDER BY (host, kind, key, "
                               "direction, day)");
    s_free(st, n);
    n = s_ddl("series", "", st); /* "" is one server too */
    assert_int_equal(n, 1);
    assert_non_null(strstr(st[0], "ENGINE = ReplacingMergeTree(defined_ns) ORDER BY (host, "
                                  "incarnation, wire_id)"));
    s_free(st, n);
    n = s_ddl("samples_1m_view", NULL, st);
    assert_int_equal(n, 1);
    assert_non_null(strstr(st[0], "CREATE MATERIALIZED VIEW IF NOT EXISTS fleet.samples_1m_view "
                                  "TO fleet.samples_1m AS SELECT host, "));
    assert_non_null(strstr(st[0], " FROM fleet.samples GROUP BY "));
    s_free(st, n);
}

static void test_cluster(void **state)
{
    (void)state;
    char *st[2];
    int n = s_ddl("hosts", "dropscope", st);
    assert_int_equal(n, 2);
    assert_non_null(strstr(st[0], "CREATE TABLE IF NOT EXISTS fleet.hosts_local ON CLUSTER "
                                  "dropscope (name String, "));
    assert_non_null(strstr(st[0], "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/"
                                  "{shard}/fleet/hosts', '{replica}', updated_ns) ORDER BY name"));
    assert_string_equal(st[1], "CREATE TABLE IF NOT EXISTS fleet.hosts ON CLUSTER dropscope AS "
                               "fleet.hosts_local ENGINE = Distributed(dropscope, fleet, "
                               "hosts_local, cityHash64(name))");
    s_free(st, n);
    n = s_ddl("drops", "c1", st);
    assert_int_equal(n, 2);
    assert_non_null(strstr(st[0], "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/"
                                  "{shard}/fleet/drops', '{replica}') PARTITION BY "
                                  "intDiv(ts_ns, 86400000000000) ORDER BY (host, ts_ns, "));
    assert_string_equal(st[1], "CREATE TABLE IF NOT EXISTS fleet.drops ON CLUSTER c1 AS "
                               "fleet.drops_local ENGINE = Distributed(c1, fleet, drops_local, "
                               "cityHash64(host))");
    s_free(st, n);
    n = s_ddl("samples_1h", "c1", st);
    assert_int_equal(n, 2);
    assert_non_null(strstr(st[0], "ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/"
                                  "{shard}/fleet/samples_1h', '{replica}') PARTITION BY "));
    s_free(st, n);
    /* A view fills a shard's local rollups from its local raw rows; the
     * other replica gets both by replication. */
    n = s_ddl("samples_1h_view", "c1", st);
    assert_int_equal(n, 1);
    assert_non_null(strstr(st[0], "CREATE MATERIALIZED VIEW IF NOT EXISTS fleet.samples_1h_view "
                                  "ON CLUSTER c1 TO fleet.samples_1h_local AS SELECT "));
    assert_non_null(strstr(st[0], " FROM fleet.samples_local GROUP BY "));
    s_free(st, n);
}

/* Every table has what its statements need, and each view fills a table
 * made before it. */
static void test_every_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < chstore_ntables; i++) {
        const chstore_table_t *t = &chstore_tables[i];
        if (t->view_to) {
            bool before = false;
            for (size_t j = 0; j < i; j++)
                before |= !strcmp(chstore_tables[j].name, t->view_to);
            assert_true(before);
            assert_non_null(strstr(t->view_select, "{local}"));
            continue;
        }
        assert_non_null(t->columns);
        assert_non_null(t->engine);
        assert_non_null(t->keys);
        assert_non_null(t->shard_by);
        char pat[64];
        snprintf(pat, sizeof pat, "(%s String,", t->shard_by);
        assert_ptr_equal(strstr(t->columns, pat), t->columns);
        if (t->time_column) {
            snprintf(pat, sizeof pat, "PARTITION BY intDiv(%s, 86400000000000)", t->time_column);
            assert_non_null(strstr(t->keys, pat));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subst),
        cmocka_unit_test(test_one_server),
        cmocka_unit_test(test_cluster),
        cmocka_unit_test(test_every_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
