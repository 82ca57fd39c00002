/* http: libmicrohttpd with one internal thread (MHD_USE_INTERNAL_POLLING_
 * THREAD), so the read-only store connection is only ever used from that
 * thread. Only GET is served. */
#define _GNU_SOURCE
#include "http.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api.h"
#include "embed.h"
#include "log.h"

/* The web view, compiled in from web/ (cmake/embed.cmake). */
extern const embed_file_t web_files[];
extern const unsigned web_files_count;

#define MAX_PARAMS 32

struct http {
    struct MHD_Daemon *daemon;
    store_t *store;        /* read-only connection, used by the MHD thread */
    ingest_stats_t *stats; /* borrowed */
};

/* Parses "A.B.C.D:PORT" or "[v6]:PORT" into addr. 0 ok, -1 bad. */
static int s_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535 || colon[1] == '\0')
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    size_t hl = strlen(host);
    if (host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) != 1)
            return -1;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return 0;
    }
    if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
        return -1;
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    *len = sizeof *v4;
    return 0;
}

typedef struct {
    const char *names[MAX_PARAMS + 1];
    size_t n;
    bool too_many;
} names_t;

static enum MHD_Result s_collect_name(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    (void)value;
    names_t *names = cls;
    if (names->n == MAX_PARAMS) {
        names->too_many = true;
        return MHD_NO;
    }
    names->names[names->n++] = key;
    return MHD_YES;
}

static const char *s_param(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result s_reply(struct MHD_Connection *conn, int status, const char *type, char *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static const char *s_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (dot && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    return "application/octet-stream";
}

/* Serves "/" (the page) and "/static/NAME" from the embedded files; returns
 * MHD_NO when url is neither (the API answers it). */
static bool s_static(struct MHD_Connection *conn, const char *url, enum MHD_Result *rc)
{
    const char *name = strcmp(url, "/") == 0 ? "index.html"
                       : strncmp(url, "/static/", 8) == 0 ? url + 8
                                                          : NULL;
    if (!name)
        return false;
    for (unsigned i = 0; i < web_files_count; i++) {
        if (strcmp(web_files[i].name, name) != 0)
            continue;
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            web_files[i].size, (void *)web_files[i].data, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Content-Type", s_content_type(name));
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        *rc = MHD_queue_response(conn, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return true;
    }
    *rc = s_reply(conn, 404, "application/json", strdup("{\"error\":\"no such file\"}"));
    return true;
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    http_t *self = cls;
    if (*state == NULL) { /* first call: headers only */
        *state = self;
        return MHD_YES;
    }
    if (*upload_size != 0) { /* a GET with a body: ignore the body */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return s_reply(conn, 405, "application/json",
                       strdup("{\"error\":\"only GET is supported\"}"));
    enum MHD_Result rc;
    if (s_static(conn, url, &rc))
        return rc;
    names_t names = {0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, s_collect_name, &names);
    if (names.too_many)
        return s_reply(conn, 400, "application/json",
                       strdup("{\"error\":\"too many query parameters\"}"));
    api_reply_t r = api_get(self->store, self->stats, url, names.names, s_param, conn);
    return s_reply(conn, r.status, r.type, r.body);
}

http_t *http_new(const char *listen, const char *db_path, ingest_stats_t *stats, char *err,
                 size_t errsz)
{
    struct sockaddr_storage addr;
    socklen_t addrlen;
    if (s_parse_listen(listen, &addr, &addrlen) != 0) {
        snprintf(err, errsz, "--http '%s' is not HOST:PORT with a numeric address "
                 "(e.g. 127.0.0.1:7421 or [::1]:7421)", listen);
        return NULL;
    }
    http_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    self->stats = stats;
    char sub[512];
    if (!(self->store = store_open(db_path, false, sub, sizeof sub))) {
        snprintf(err, errsz, "%s", sub);
        free(self);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon(flags, 0, NULL, NULL, s_handler, self, MHD_OPTION_SOCK_ADDR,
                                    (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                                    MHD_OPTION_END);
    if (!self->daemon) {
        snprintf(err, errsz, "cannot serve HTTP on %s (is the port in use? pick another --http)",
                 listen);
        http_destroy(&self);
        return NULL;
    }
    return self;
}

void http_destroy(http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon(self->daemon);
    store_close(&self->store);
    free(self);
    *self_p = NULL;
}
