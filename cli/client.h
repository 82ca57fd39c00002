/* client: the CLI's HTTP GET against the aggregator's API (libcurl). */
#ifndef DROPSCOPE_CLIENT_H
#define DROPSCOPE_CLIENT_H

#include <jansson.h>

/* GETs server + path_and_query (an /api/v1/ request) and parses the JSON
 * reply. Returns the envelope's data (the caller decrefs it), or NULL
 * after printing a one-line error on stderr; *exit_code is then 1
 * (unreachable, server failure) or 2 (the server refused the request as
 * bad usage). */
json_t *client_get(const char *server, const char *path_and_query, int *exit_code);

/* Appends "&name=value" (URL-escaped) to the query in buf. */
void client_add_param(char *buf, size_t size, const char *name, const char *value);

#endif
