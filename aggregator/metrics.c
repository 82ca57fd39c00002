/* metrics: /metrics, the aggregator's health in Prometheus text format:
 * ingest's counters and gauges (the copy the ingest thread last published), the database's size and rollup lag, and the fleet's
 * drops by layer (a scan of every drop row: on a large store it may run
 * past the caller's deadline, and is then left out with a comment). */
#define _GNU_SOURCE
#include "metrics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "ts.h"
#include "version.h"

/* A metric family's header; its samples follow. */
static void s_family(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void s_metric(FILE *out, const char *name, const char *type, const char *help, uint64_t v)
{
    s_family(out, name, type, help);
    fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

/* A label value, quoted, its quotes and backslashes escaped (JSON's string
 * escapes are a superset of the exposition format's); NULL out of memory. */
static char *s_label(const char *value)
{
    json_t *label = json_string(value);
    char *quoted = label ? json_dumps(label, JSON_ENCODE_ANY) : NULL;
    json_decref(label);
    return quoted;
}

api_reply_t metrics_get(store_t *store, stats_board_t *board)
{
    char *body = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&body, &size);
    if (!out)
        return api_error(500, "out of memory");
    stats_t copy;
    stats_read(board, &copy);
    const stats_t *s = &copy;
    char *version = s_label(version_string());
    s_family(out, "dropscope_build_info", "gauge",
             "The aggregator's version (--version) as a label; the value is always 1.");
    fprintf(out, "dropscope_build_info{version=%s} 1\n", version ? version : "\"?\"");
    free(version);
    s_metric(out, "dropscope_samples_stored_total", "counter",
             "Samples committed to the database since the aggregator started.", s->samples_stored);
    s_metric(out, "dropscope_batches_stored_total", "counter", "Batches committed.", s->batches);
    s_metric(out, "dropscope_messages_received_total", "counter",
             "ZeroMQ messages received from collectors.", s->messages);
    s_metric(out, "dropscope_duplicates_total", "counter",
             "Resent messages that were already stored (acknowledged, not stored again).",
             s->duplicates);
    s_metric(out, "dropscope_decode_errors_total", "counter",
             "Frames dropped because they were not a valid message.", s->decode_errors);
    s_metric(out, "dropscope_rejects_total", "counter",
             "Messages refused with ACK_REJECTED for breaking a rule (the reason is logged and "
             "sent back).",
             s->rejected);
    s_metric(out, "dropscope_identity_rejects_total", "counter",
             "Of those, messages that claimed a host their CurveZMQ key does not speak for (or "
             "whose key was revoked).",
             s->identity_rejected);
    s_metric(out, "dropscope_need_defs_total", "counter",
             "Batches refused because they named undefined series.", s->need_defs);
    s_metric(out, "dropscope_commit_failures_total", "counter",
             "Transactions rolled back; their messages were not acknowledged.", s->commit_failures);
    s_metric(out, "dropscope_commits_total", "counter", "Transactions committed.", s->commits);
    s_metric(out, "dropscope_incidents_total", "counter",
             "Incidents found live as bursts arrived (2 ms window, 2 hosts or more).",
             s->incidents);
    s_metric(out, "dropscope_auth_failures_total", "counter",
             "Collector connections refused by CurveZMQ (key not allowed, or plain text).",
             s->auth_failures);
    s_metric(out, "dropscope_ingest_samples_per_second", "gauge",
             "Samples stored per second over the last 10 s.", s->samples_per_s);
    s_metric(out, "dropscope_commit_latency_p50_microseconds", "gauge",
             "Median commit latency over the last 10 s.", s->commit_p50_us);
    s_metric(out, "dropscope_commit_latency_p99_microseconds", "gauge",
             "99th percentile commit latency over the last 10 s.", s->commit_p99_us);
    s_metric(out, "dropscope_commit_latency_max_microseconds", "gauge",
             "Longest commit over the last 10 s.", s->commit_max_us);
    s_metric(out, "dropscope_ingest_queue_depth", "gauge",
             "Messages that were waiting when the last group was stored (512 at most: more wait "
             "when it is 512).",
             s->group_messages);
    s_metric(out, "dropscope_upkeep_rows_total", "counter",
             "Rows rolled up, merged or expired by the rollups and retention.", s->upkeep_rows);
    s_metric(out, "dropscope_upkeep_failures_total", "counter",
             "Steps of rollups and retention that failed and were retried.", s->upkeep_failures);
    s_metric(out, "dropscope_database_bytes", "gauge", "Size of the database file and its WAL.",
             (uint64_t)store_file_bytes(store));
    int64_t rolled = store_rolled_until(store, 60);
    s_metric(out, "dropscope_rollups_behind_seconds", "gauge",
             "How far the minute rollups are behind now (0 before the first).",
             rolled == INT64_MIN ? 0 : (uint64_t)((ts_now_ns() - rolled) / TS_NS_PER_S));
    s_metric(out, "dropscope_host_caches", "gauge",
             "Hosts whose state the writer holds in memory (a host silent for 10 min leaves).",
             s->host_caches);
    s_family(out, "dropscope_acks_unsent_total", "counter",
             "Acknowledgements of stored messages that could not be sent (the sender resends, "
             "and gets a duplicate's ack).");
    fprintf(out, "dropscope_acks_unsent_total{reason=\"pipe_full\"} %llu\n"
                 "dropscope_acks_unsent_total{reason=\"disconnected\"} %llu\n",
            (unsigned long long)s->acks_unsent_full, (unsigned long long)s->acks_unsent_gone);
    s_family(out, "dropscope_limit_hits_total", "counter",
             "Messages refused, or bursts not correlated live, by a bound on what one peer can "
             "cost.");
    for (int l = 0; l < STATS_LIMIT_COUNT; l++)
        fprintf(out, "dropscope_limit_hits_total{limit=\"%s\"} %llu\n",
                stats_limit_name((stats_limit_t)l), (unsigned long long)s->limit_hits[l]);
    s_family(out, "dropscope_decode_errors_by_peer_total", "counter",
             "Frames dropped as not a valid message, by peer address.");
    for (size_t i = 0; i < s->npeers; i++) {
        char *peer = s_label(s->peers[i].peer);
        fprintf(out, "dropscope_decode_errors_by_peer_total{peer=%s} %llu\n", peer ? peer : "\"?\"",
                (unsigned long long)s->peers[i].errors);
        free(peer);
    }
    int64_t totals[LAYER_COUNT];
    char err[256];
    if (store_drop_totals(store, NULL, totals, err, sizeof err) == 0) {
        s_family(out, "dropscope_fleet_drops_total", "counter",
                 "Packets dropped across the fleet by layer (overlapping counters left out).");
        for (int l = LAYER_NIC; l < LAYER_COUNT; l++)
            if (layer_is_drop((layer_t)l))
                fprintf(out, "dropscope_fleet_drops_total{layer=\"%s\"} %lld\n",
                        layer_name((layer_t)l), (long long)totals[l]);
    } else { /* a scan of every drop: on a large store it can run past its deadline */
        fprintf(out, "# dropscope_fleet_drops_total left out: %s\n", err);
    }
    fclose(out);
    return (api_reply_t){.status = 200, .type = "text/plain; version=0.0.4", .body = body};
}
