/* http: the aggregator's HTTP server (libmicrohttpd): the JSON API the CLI
 * and the web view read, /healthz and /metrics. Its I/O thread answers the
 * cheap requests itself; /api/ queries run on a bounded pool of workers,
 * each with its own read-only database connection and a deadline per
 * query, so a slow query never holds up /healthz. Every query parameter
 * is validated; a bad one gets 400 and {"error": "..."}. */
#ifndef DROPSCOPE_HTTP_H
#define DROPSCOPE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

typedef struct http http_t;

#define HTTP_QUERY_TIMEOUT_DEFAULT_NS (INT64_C(10) * 1000000000) /* --query-timeout */

/* Serves on listen ("HOST:PORT", numeric IPv4 or [IPv6]) reading db_path;
 * stats is read for /metrics and must outlive the server. A query running
 * longer than query_timeout_ns is stopped and answered 503. NULL + err. */
http_t *http_new(const char *listen, const char *db_path, stats_board_t *stats,
                 int64_t query_timeout_ns, char *err, size_t errsz);
void http_destroy(http_t **self_p);

#endif
