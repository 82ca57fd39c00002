/* api: answers the JSON API's GET requests from the store. Kept apart from
 * the HTTP server so that each endpoint is a pure function of (query
 * parameters, database) that unit tests can call without a socket. */
#ifndef DROPSCOPE_API_H
#define DROPSCOPE_API_H

#include "stats.h"
#include "store.h"

/* Looks up a query parameter by name; NULL when absent. */
typedef const char *(api_param_fn)(void *ctx, const char *name);

#define API_MAX_PARAMS 32 /* query parameters a request may have */

/* A request's query parameters as parallel arrays (http.c copies them out
 * of libmicrohttpd's connection; the fuzz target splits its input). */
typedef struct {
    char *names[API_MAX_PARAMS + 1]; /* NULL-terminated: api_get's names */
    char *values[API_MAX_PARAMS];    /* NULL for a name without "=" */
    size_t n;
} api_params_t;

/* An api_param_fn over the api_params_t at ctx: name's first value. */
const char *api_param(void *ctx, const char *name);

typedef struct {
    int status;         /* HTTP status */
    const char *type;   /* content type (static) */
    char *body;         /* malloc'd; the caller frees it */
    char truncated[512]; /* "" when whole, else the X-Dropscope-Truncated header's value:
                            "reason (what was kept and what to do)", joined by "; " */
} api_reply_t;

/* Answers GET `path`. `names` is the NULL-terminated list of parameter
 * names present in the request (to refuse unknown ones); `param` looks up
 * values. Never fails: errors become 4xx/5xx replies with a JSON error. */
api_reply_t api_get(store_t *store, stats_board_t *stats, const char *path,
                    const char *const *names, api_param_fn *param, void *ctx);

/* The answer to a request to path stopped at its deadline, timeout_ns
 * after it started (503, with what to do). */
api_reply_t api_too_slow(const char *path, int64_t timeout_ns);

/* An answer of status with {"error": msg}. */
api_reply_t api_error(int status, const char *msg);

#endif
