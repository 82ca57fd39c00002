/* http: the aggregator's HTTP server (libmicrohttpd): the JSON API the CLI
 * and the web view read, /healthz and /metrics. Runs its own thread with
 * its own read-only database connection. Every query parameter is
 * validated; a bad one gets 400 and {"error": "..."}. */
#ifndef DROPSCOPE_HTTP_H
#define DROPSCOPE_HTTP_H

#include <stddef.h>

#include "ingest.h"

typedef struct http http_t;

/* Serves on listen ("HOST:PORT", numeric IPv4 or [IPv6]) reading db_path;
 * stats is read for /metrics and must outlive the server. NULL + err. */
http_t *http_new(const char *listen, const char *db_path, ingest_stats_t *stats, char *err,
                 size_t errsz);
void http_destroy(http_t **self_p);

#endif
