/* api: answers the JSON API's GET requests from the store. Kept apart from
 * the HTTP server so that each endpoint is a pure function of (query
 * parameters, database) that unit tests can call without a socket. */
#ifndef DROPSCOPE_API_H
#define DROPSCOPE_API_H

#include "ingest.h"
#include "store.h"

/* Looks up a query parameter by name; NULL when absent. */
typedef const char *(api_param_fn)(void *ctx, const char *name);

typedef struct {
    int status;         /* HTTP status */
    const char *type;   /* content type (static) */
    char *body;         /* malloc'd; the caller frees it */
} api_reply_t;

/* Answers GET `path`. `names` is the NULL-terminated list of parameter
 * names present in the request (to refuse unknown ones); `param` looks up
 * values. Never fails: errors become 4xx/5xx replies with a JSON error. */
api_reply_t api_get(store_t *store, ingest_stats_t *stats, const char *path,
                    const char *const *names, api_param_fn *param, void *ctx);

#endif
