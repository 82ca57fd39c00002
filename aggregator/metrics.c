/* metrics: the Prometheus text exposition format (0.0.4). /metrics is the
 * aggregator's own health: ingest's counters (the copy the ingest thread
 * last published), the commit duration histogram, the database's size and
 * rollup lag, and the fleet's drops by layer; a few kilobytes, no query
 * but two stat()s and one row. /metrics/fleet is per host, from the
 * counters ingest keeps as it commits (never a scan of the stored rows):
 * at 10,000 hosts it is megabytes (bench_metrics.sh), so it has its own
 * endpoint and scrape interval, and the health scrape stays cheap.
 * Counters are monotonic across restarts and retention (store_tally_restore);
 * rates are left to Prometheus. */
#define _GNU_SOURCE
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

size_t metrics_escape(const char *value, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = value; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        char one[2] = {*p, '\0'};
        for (const char *e = esc ? esc : one; *e; e++, n++)
            if (n + 1 < size)
                out[n] = *e;
    }
    if (size)
        out[n < size ? n : size - 1] = '\0';
    return n;
}

/* Writes name="value", value escaped. */
static void s_label(FILE *out, const char *name, const char *value)
{
    char buf[1024]; /* host names and ifaces are at most 255 bytes: 510 escaped */
    metrics_escape(value, buf, sizeof buf);
    fprintf(out, "%s=\"%s\"", name, buf);
}

/* The commit duration histogram: cumulative buckets, in seconds. */
static void s_commits(FILE *out, const stats_t *s)
{
    s_family(out, "dropscope_commit_duration_seconds", "histogram",
             "Time to commit one group of messages (one SQLite transaction), since start.");
    uint64_t n = 0;
    for (int i = 0; i < STATS_COMMIT_BUCKETS; i++) {
        n += s->commit_le[i];
        if (i == STATS_COMMIT_BUCKETS - 1)
            fprintf(out, "dropscope_commit_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                    (unsigned long long)n);
        else
            fprintf(out, "dropscope_commit_duration_seconds_bucket{le=\"%g\"} %llu\n",
                    stats_commit_bounds[i], (unsigned long long)n);
    }
    fprintf(out,
            "dropscope_commit_duration_seconds_sum %.9f\n"
            "dropscope_commit_duration_seconds_count %llu\n",
            (double)s->commit_ns / 1e9, (unsigned long long)n);
}

/* The fleet's drops by layer and squeezes: the hosts' counters summed. */
static void s_fleet_totals(FILE *out, stats_board_t *board)
{
    store_tally_t total;
    stats_fleet_total(board, &total);
    s_family(out, "dropscope_fleet_drops_total", "counter",
             "Packets dropped across the fleet by layer (overlapping counters left out), since "
             "the oldest stored drop.");
    uint64_t squeezes = 0;
    for (int l = LAYER_NIC; l < LAYER_COUNT; l++) {
        if (layer_is_drop((layer_t)l))
            fprintf(out, "dropscope_fleet_drops_total{layer=\"%s\"} %llu\n", layer_name((layer_t)l),
                    (unsigned long long)total.path[l]);
        else if (layer_is_precursor((layer_t)l))
            squeezes += total.path[l];
    }
    s_metric(out, "dropscope_fleet_squeezes_total", "counter",
             "Times a softirq ran out of budget with packets still queued, across the fleet (a "
             "precursor of drops, not a loss).",
             squeezes);
}

/* The alert senders' counters (stats_alerts_t), by receiver. */
static void s_alerts(FILE *out, stats_board_t *board)
{
    static const char *const receivers[STATS_ALERT_RECEIVERS] = {"alertmanager", "webhook"};
    stats_alerts_t a;
    stats_alerts_read(board, &a);
    s_family(out, "dropscope_alerts_sent_total", "counter",
             "Alert events delivered (answered 2xx), by receiver (--alertmanager, --webhook).");
    for (int r = 0; r < STATS_ALERT_RECEIVERS; r++)
        fprintf(out, "dropscope_alerts_sent_total{receiver=\"%s\"} %llu\n", receivers[r],
                (unsigned long long)a.sent[r]);
    s_family(out, "dropscope_alerts_failed_total", "counter",
             "Attempts to deliver an alert event that failed (each retry counts), by receiver.");
    for (int r = 0; r < STATS_ALERT_RECEIVERS; r++)
        fprintf(out, "dropscope_alerts_failed_total{receiver=\"%s\"} %llu\n", receivers[r],
                (unsigned long long)a.failed[r]);
    s_metric(out, "dropscope_alerts_dropped_total", "counter",
             "Alert events dropped unsent: a receiver's queue was full (its oldest goes).",
             a.dropped);
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
    s_family(out, "dropscope_build_info", "gauge",
             "The aggregator's version (--version) as a label; the value is always 1.");
    fputs("dropscope_build_info{", out);
    s_label(out, "version", version_string());
    fputs("} 1\n", out);
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
    s_commits(out, s);
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
    int64_t packed = store_rolled_until(store, 0);
    s_metric(out, "dropscope_raw_packing_behind_seconds", "gauge",
             "How far the packing of raw history into blocks of ten minutes is behind the minute "
             "rollups (under ten minutes in steady state; more while a database from before is "
             "packed; 0 before the first block or on ClickHouse).",
             rolled == INT64_MIN || packed == INT64_MIN || packed > rolled
                 ? 0
                 : (uint64_t)((rolled - packed) / TS_NS_PER_S));
    s_metric(out, "dropscope_host_caches", "gauge",
             "Hosts whose state the writer holds in memory (a host silent for 10 min leaves).",
             s->host_caches);
    s_family(out, "dropscope_acks_unsent_total", "counter",
             "Acknowledgements of stored messages that could not be sent (the sender resends, "
             "and gets a duplicate's ack).");
    fprintf(out,
            "dropscope_acks_unsent_total{reason=\"pipe_full\"} %llu\n"
            "dropscope_acks_unsent_total{reason=\"disconnected\"} %llu\n",
            (unsigned long long)s->acks_unsent_full, (unsigned long long)s->acks_unsent_gone);
    s_family(out, "dropscope_limit_hits_total", "counter",
             "Messages refused, or bursts not correlated live, by a bound on what one peer can "
             "cost.");
    for (int l = 0; l < STATS_LIMIT_COUNT; l++)
        fprintf(out, "dropscope_limit_hits_total{limit=\"%s\"} %llu\n",
                stats_limit_name((stats_limit_t)l), (unsigned long long)s->limit_hits[l]);
    s_alerts(out, board);
    s_family(out, "dropscope_decode_errors_by_peer_total", "counter",
             "Frames dropped as not a valid message, by peer address.");
    for (size_t i = 0; i < s->npeers; i++) {
        fputs("dropscope_decode_errors_by_peer_total{", out);
        s_label(out, "peer", s->peers[i].peer);
        fprintf(out, "} %llu\n", (unsigned long long)s->peers[i].errors);
    }
    s_fleet_totals(out, board);
    fclose(out);
    return (api_reply_t){.status = 200, .type = "text/plain; version=0.0.4", .body = body};
}

/* One host's samples of every family, in the order of s_fleet_families. */
static void s_fleet_host(FILE *out, const store_tally_t *h, int family)
{
    char host[1024];
    metrics_escape(h->host, host, sizeof host);
    uint64_t squeezes = 0;
    switch (family) {
    case 0:
        for (int l = LAYER_NIC; l < LAYER_COUNT; l++)
            if (layer_is_drop((layer_t)l))
                fprintf(out, "dropscope_host_drops_total{host=\"%s\",layer=\"%s\"} %llu\n", host,
                        layer_name((layer_t)l), (unsigned long long)h->path[l]);
        break;
    case 1:
        for (int l = LAYER_NIC; l < LAYER_COUNT; l++)
            if (layer_is_precursor((layer_t)l))
                squeezes += h->path[l];
        fprintf(out, "dropscope_host_squeezes_total{host=\"%s\"} %llu\n", host,
                (unsigned long long)squeezes);
        break;
    case 2:
        for (size_t i = 0; i < h->nbursts; i++) {
            fprintf(out, "dropscope_host_bursts_total{host=\"%s\",", host);
            s_label(out, "iface", h->bursts[i].iface);
            fprintf(out, ",direction=\"%s\"} %llu\n", h->bursts[i].tx ? "tx" : "rx",
                    (unsigned long long)h->bursts[i].n);
        }
        break;
    case 3:
        if (h->seen)
            fprintf(out, "dropscope_host_last_seen_timestamp_seconds{host=\"%s\"} %.3f\n", host,
                    (double)h->last_seen_ns / 1e9);
        break;
    case 4:
        if (h->delivery && h->clock_valid)
            fprintf(out, "dropscope_host_clock_offset_seconds{host=\"%s\"} %.6f\n", host,
                    (double)h->clock_offset_ns / 1e9);
        break;
    case 5:
        fprintf(out, "dropscope_host_spool_lost_messages_total{host=\"%s\"} %llu\n", host,
                (unsigned long long)h->spool_lost);
        break;
    }
}

api_reply_t metrics_fleet_get(stats_board_t *board)
{
    static const char *const families[][3] = {
        {"dropscope_host_drops_total", "counter",
         "Packets the host dropped, by layer (overlapping counters left out; squeezes are not "
         "drops), since the oldest stored drop."},
        {"dropscope_host_squeezes_total", "counter",
         "Times the host's softirq ran out of budget with packets still queued "
         "(softnet time_squeeze): a precursor of drops, not a loss."},
        {"dropscope_host_bursts_total", "counter",
         "Microbursts the host's collector reported, by interface and direction."},
        {"dropscope_host_last_seen_timestamp_seconds", "gauge",
         "When the host's latest message arrived (Unix time, the aggregator's clock)."},
        {"dropscope_host_clock_offset_seconds", "gauge",
         "The aggregator's clock minus the host's, as its collector last measured it."},
        {"dropscope_host_spool_lost_messages_total", "counter",
         "Messages the host's collector lost: dropped by its full spool, or refused by the "
         "aggregator (cumulative, as the collector counts them)."}};
    store_tally_t *hosts;
    size_t n = stats_fleet_copy(board, &hosts);
    char *body = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&body, &size);
    if (!out) {
        free(hosts);
        return api_error(500, "out of memory");
    }
    for (int f = 0; f < (int)(sizeof families / sizeof families[0]); f++) {
        s_family(out, families[f][0], families[f][1], families[f][2]);
        for (size_t i = 0; i < n; i++)
            s_fleet_host(out, &hosts[i], f);
    }
    s_metric(out, "dropscope_fleet_hosts", "gauge", "Hosts in /metrics/fleet.", n);
    fclose(out);
    free(hosts);
    return (api_reply_t){.status = 200, .type = "text/plain; version=0.0.4", .body = body};
}
