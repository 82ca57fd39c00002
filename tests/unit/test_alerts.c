/* Tests aggregator/alerts: the incident id is the same for the same
 * incident and differs otherwise; the Alertmanager and webhook JSON carry
 * the contract's fields and values (hosts sorted); the drops watch fires a
 * new (host, layer) pair once, not again while it drops, resolves it after
 * the quiet time, re-posts it meanwhile, never fires for squeezes, and a
 * restart on its state file neither re-fires a pair nor re-sends an
 * incident; a full queue drops its oldest event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alerts.h"
#include "ts.h"

#define S TS_NS_PER_S
#define T (INT64_C(1795305600) * S)
#define QUIET (600 * S)
#define REPOST (240 * S)

static void test_incident_id(void **state)
{
    (void)state;
    char a[48], b[48], c[48], d[48];
    alerts_incident_id(T + 123 * TS_NS_PER_MS, "web1,web2,web3", a, sizeof a);
    alerts_incident_id(T + 123 * TS_NS_PER_MS + 5, "web1,web2,web3", b, sizeof b);
    alerts_incident_id(T + 124 * TS_NS_PER_MS, "web1,web2,web3", c, sizeof c);
    alerts_incident_id(T + 123 * TS_NS_PER_MS, "web1,web2", d, sizeof d);
    assert_string_equal(a, b); /* the same incident (the same ms, the same hosts) */
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
    assert_int_equal(strncmp(a, "1795305600123-", 14), 0);
    assert_int_equal(strlen(a), 14 + 16);
}

static void test_sort_hosts(void **state)
{
    (void)state;
    char *s = alerts_sort_hosts("web3, web1, web2");
    assert_string_equal(s, "web1,web2,web3");
    free(s);
    s = alerts_sort_hosts("b,a");
    assert_string_equal(s, "a,b");
    free(s);
}

static const char *s_str(json_t *o, const char *path1, const char *key)
{
    json_t *inner = path1 ? json_object_get(o, path1) : o;
    json_t *v = json_object_get(inner, key);
    assert_non_null(v);
    return json_string_value(v);
}

static alert_t *s_incident(void)
{
    char *hosts = alerts_sort_hosts("web3, web1, web2");
    alert_t *ev = alert_new(ALERT_INCIDENT, hosts);
    free(hosts);
    alerts_incident_id(T, ev->hosts, ev->id, sizeof ev->id);
    ev->starts_ns = T;
    ev->incident_end_ns = T + 10 * TS_NS_PER_MS;
    ev->ends_ns = ev->incident_end_ns + ALERTS_INCIDENT_MARGIN_NS;
    ev->nhosts = 3;
    ev->packets = 5000;
    ev->drops = 42;
    return ev;
}

static void test_am_json(void **state)
{
    (void)state;
    alert_t *ev = s_incident();
    json_t *o = alerts_am_json(ev, "http://127.0.0.1:7421");
    assert_string_equal(s_str(o, "labels", "alertname"), "DropscopeIncident");
    assert_string_equal(s_str(o, "labels", "hosts"), "web1,web2,web3");
    assert_string_equal(s_str(o, "labels", "incident"), ev->id);
    assert_string_equal(s_str(o, "labels", "severity"), "warning");
    assert_null(json_object_get(json_object_get(o, "labels"), "period_ms"));
    assert_string_equal(s_str(o, "annotations", "summary"),
                        "3 hosts burst together at 2026-11-22T00:00:00.000Z");
    assert_string_equal(s_str(o, "annotations", "peak"), "500"); /* 5000 packets in 10 ms */
    assert_string_equal(s_str(o, "annotations", "drops"), "42");
    assert_string_equal(s_str(o, "annotations", "link"),
                        "http://127.0.0.1:7421/#/incidents?from=1795305599000000000"
                        "&to=1795305601010000000");
    assert_string_equal(s_str(o, NULL, "generatorURL"), s_str(o, "annotations", "link"));
    assert_string_equal(s_str(o, NULL, "startsAt"), "2026-11-22T00:00:00.000Z");
    assert_string_equal(s_str(o, NULL, "endsAt"), "2026-11-22T00:05:00.010Z");
    json_decref(o);
    alert_destroy(&ev);
}

static void test_webhook_json(void **state)
{
    (void)state;
    alert_t *ev = alert_new(ALERT_DROPS, "web2");
    ev->layer = LAYER_SOCKET;
    ev->starts_ns = T;
    ev->ends_ns = T + 700 * S;
    ev->resolved = true;
    ev->drops = 1234;
    snprintf(ev->limit, sizeof ev->limit, "net.core.rmem_max = 212992");
    snprintf(ev->remedy, sizeof ev->remedy, "sysctl -w net.core.rmem_max=4194304");
    json_t *o = alerts_webhook_json(ev, "http://dropscope.example.com");
    assert_int_equal(json_integer_value(json_object_get(o, "version")), 1);
    assert_string_equal(s_str(o, NULL, "kind"), "drops");
    assert_string_equal(s_str(o, NULL, "status"), "resolved");
    assert_string_equal(s_str(o, "labels", "alertname"), "DropscopeDrops");
    assert_string_equal(s_str(o, "labels", "host"), "web2");
    assert_string_equal(s_str(o, "labels", "layer"), "socket");
    assert_string_equal(s_str(o, "labels", "severity"), "warning");
    assert_string_equal(s_str(o, "annotations", "limit"), "net.core.rmem_max = 212992");
    assert_string_equal(s_str(o, "annotations", "remedy"), "sysctl -w net.core.rmem_max=4194304");
    assert_string_equal(s_str(o, "annotations", "drops"), "1234");
    assert_non_null(
        strstr(s_str(o, "annotations", "link"), "http://dropscope.example.com/#/host/web2?from="));
    assert_string_equal(s_str(o, NULL, "starts_at"), "2026-11-22T00:00:00.000Z");
    assert_string_equal(s_str(o, NULL, "ends_at"), "2026-11-22T00:11:40.000Z");
    json_decref(o);
    alert_destroy(&ev);
}

/* What the watch emitted, copied out. */
typedef struct {
    size_t n;
    alert_t *ev[16];
} emitted_t;

static void s_emit(void *ctx, alert_t **ev_p)
{
    emitted_t *e = ctx;
    assert_true(e->n < 16);
    e->ev[e->n++] = *ev_p;
    *ev_p = NULL;
}

static void s_clear(emitted_t *e)
{
    for (size_t i = 0; i < e->n; i++)
        alert_destroy(&e->ev[i]);
    e->n = 0;
}

static void test_watch_fires_once_and_resolves(void **state)
{
    (void)state;
    char err[256];
    alerts_watch_t *w = alerts_watch_new(NULL, QUIET, REPOST, T, err, sizeof err);
    assert_non_null(w);
    emitted_t e = {0};
    alerts_watch_drops(w, "web1", LAYER_SOCKET, 10, T, s_emit, &e);
    assert_int_equal(e.n, 1);
    assert_false(e.ev[0]->resolved);
    assert_false(e.ev[0]->repost);
    assert_string_equal(e.ev[0]->hosts, "web1");
    assert_int_equal(e.ev[0]->layer, LAYER_SOCKET);
    assert_int_equal(e.ev[0]->starts_ns, T);
    s_clear(&e);
    /* More drops of the same pair: no new alert; another layer is a new pair. */
    alerts_watch_drops(w, "web1", LAYER_SOCKET, 5, T + 60 * S, s_emit, &e);
    alerts_watch_drops(w, "web1", LAYER_SOCKET, 0, T + 61 * S, s_emit, &e);
    assert_int_equal(e.n, 0);
    alerts_watch_drops(w, "web1", LAYER_NIC, 1, T + 61 * S, s_emit, &e);
    assert_int_equal(e.n, 1);
    s_clear(&e);
    /* Squeezes are not drops: never an alert. */
    alerts_watch_drops(w, "web2", LAYER_BUDGET, 1000, T + 61 * S, s_emit, &e);
    alerts_watch_drops(w, "web2", LAYER_TRAFFIC, 1000, T + 61 * S, s_emit, &e);
    assert_int_equal(e.n, 0);
    assert_int_equal(alerts_watch_active(w), 2);
    /* Within the quiet time after the last drops: re-posted, not resolved. */
    alerts_watch_tick(w, T + 60 * S + REPOST, s_emit, &e);
    assert_int_equal(e.n, 1); /* socket (posted at T); nic was posted at T + 61 s */
    assert_true(e.ev[0]->repost);
    assert_false(e.ev[0]->resolved);
    assert_int_equal(e.ev[0]->drops, 15);
    s_clear(&e);
    /* Quiet since T + 60 s for QUIET: resolved once, ends now. */
    int64_t at = T + 60 * S + QUIET;
    alerts_watch_tick(w, at, s_emit, &e);
    size_t resolved = 0;
    for (size_t i = 0; i < e.n; i++)
        if (e.ev[i]->resolved && e.ev[i]->layer == LAYER_SOCKET) {
            resolved++;
            assert_int_equal(e.ev[i]->ends_ns, at);
        }
    assert_int_equal(resolved, 1);
    s_clear(&e);
    alerts_watch_tick(w, at + S, s_emit, &e);
    for (size_t i = 0; i < e.n; i++)
        assert_int_not_equal(e.ev[i]->layer, LAYER_SOCKET);
    s_clear(&e);
    /* Resolved, the pair fires again on new drops. */
    alerts_watch_drops(w, "web1", LAYER_SOCKET, 1, at + 2 * S, s_emit, &e);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.ev[0]->starts_ns, at + 2 * S);
    s_clear(&e);
    alerts_watch_destroy(&w);
    alerts_watch_destroy(&w); /* safe twice */
}

static void test_watch_survives_restart(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_alerts.XXXXXX", path[64], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/db.alerts", dir);
    emitted_t e = {0};
    alerts_watch_t *w = alerts_watch_new(path, QUIET, REPOST, T, err, sizeof err);
    assert_non_null(w);
    alerts_watch_drops(w, "web1", LAYER_SOCKET, 10, T, s_emit, &e);
    assert_true(alerts_watch_incident(w, "1795305600000-00000000000000aa", T));
    assert_false(alerts_watch_incident(w, "1795305600000-00000000000000aa", T));
    assert_int_equal(e.n, 1);
    s_clear(&e);
    alerts_watch_destroy(&w);
    /* The restart: the same incident is not new, the pair does not fire again. */
    w = alerts_watch_new(path, QUIET, REPOST, T + 30 * S, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(alerts_watch_active(w), 1);
    assert_false(alerts_watch_incident(w, "1795305600000-00000000000000aa", T + 30 * S));
    assert_true(alerts_watch_incident(w, "1795305600000-00000000000000bb", T + 30 * S));
    alerts_watch_drops(w, "web1", LAYER_SOCKET, 3, T + 31 * S, s_emit, &e);
    alerts_watch_tick(w, T + 32 * S, s_emit, &e);
    assert_int_equal(e.n, 0);
    /* and it resolves from what the file kept, its drops summed over both runs. */
    alerts_watch_tick(w, T + 31 * S + QUIET, s_emit, &e);
    assert_int_equal(e.n, 1);
    assert_true(e.ev[0]->resolved);
    assert_int_equal(e.ev[0]->starts_ns, T);
    assert_int_equal(e.ev[0]->drops, 13);
    s_clear(&e);
    alerts_watch_destroy(&w);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_queue_drops_oldest(void **state)
{
    (void)state;
    alerts_queue_t *q = alerts_queue_new(3);
    assert_non_null(q);
    const char *names[] = {"h1", "h2", "h3", "h4", "h5"};
    int dropped = 0;
    for (int i = 0; i < 5; i++) {
        alert_t *ev = alert_new(ALERT_DROPS, names[i]);
        dropped += alerts_queue_push(q, &ev);
        assert_null(ev); /* taken */
    }
    assert_int_equal(dropped, 2);
    assert_int_equal(alerts_queue_size(q), 3);
    for (int i = 2; i < 5; i++) {
        alert_t *ev = alerts_queue_pop(q);
        assert_string_equal(ev->hosts, names[i]); /* the oldest two went */
        alert_destroy(&ev);
    }
    assert_null(alerts_queue_pop(q));
    alert_t *ev = alert_new(ALERT_DROPS, "left");
    alerts_queue_push(q, &ev);
    alerts_queue_destroy(&q); /* frees what is left */
    alerts_queue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_id),
        cmocka_unit_test(test_sort_hosts),
        cmocka_unit_test(test_am_json),
        cmocka_unit_test(test_webhook_json),
        cmocka_unit_test(test_watch_fires_once_and_resolves),
        cmocka_unit_test(test_watch_survives_restart),
        cmocka_unit_test(test_queue_drops_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
