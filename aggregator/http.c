/* http: libmicrohttpd's internal polling thread does every connection's
 * I/O and answers what is cheap itself: the page, /healthz and /metrics, on
 * its own read-only store connection. An /api/ query is handed to a
 * bounded pool of worker threads, each with its own read-only connection
 * (opened NOMUTEX: one thread each), and its HTTP connection is suspended
 * until the worker has the answer (MHD_suspend_connection, then
 * MHD_resume_connection from the worker, which MHD_USE_ITC wakes the I/O
 * thread for). So a month-long query holds one worker, never the thread
 * that answers /healthz. Every query has a deadline (store_set_deadline);
 * past it the answer is 503. A full queue answers 503 at once. Only GET is
 * served. */
#define _GNU_SOURCE
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api.h"
#include "embed.h"
#include "log.h"
#include "ts.h"

#ifdef DROPSCOPE_HAVE_WEB
/* The web view, compiled in from web/ (cmake/embed.cmake). */
extern const embed_file_t web_files[];
extern const unsigned web_files_count;
#else
/* Built with -DDROPSCOPE_WEB=OFF (no npm at build time): the page's paths
 * say so in words a browser shows, rather than a bare 404. */
static const char s_no_web[] =
    "404: this dropscope-aggregator was built without the web view (-DDROPSCOPE_WEB=OFF).\n"
    "Its JSON API is at /api/... (e.g. /api/hosts, /api/drops?since=1h), with /healthz\n"
    "and /metrics; the dropscope command reads it. For the page, build with\n"
    "-DDROPSCOPE_WEB=ON after `npm ci --prefix web`.\n";
#endif

/* Queries at once: more than the cores, so that a short query need not
 * wait for a long one, few enough that each keeps its share of the CPU and
 * of SQLite's page cache (a connection each). */
#define HTTP_WORKERS 4
#define HTTP_QUEUE 64 /* queries waiting for a worker at most; beyond, 503 */
/* What the I/O thread answers may take this long at most (/healthz waits
 * on the database: a stalled disk is answered 503, not waited for). */
#define HTTP_CHEAP_TIMEOUT_NS (TS_NS_PER_S / 2)
/* Connections: in all (well under the descriptor limit) and from one
 * address, so that a few hundred slow clients on one address (or a
 * runaway script) cannot lock everyone else out. */
#define HTTP_CONNECTIONS 512
#define HTTP_PER_IP 64
#define HTTP_IDLE_S 30     /* an idle or stalled connection is closed after this */
#define HTTP_WORKER_NICE 5 /* workers yield the CPU to the I/O thread */

/* A request's query parameters, copied out of MHD's connection so that a
 * worker reads them without touching the connection. */
typedef struct {
    api_params_t p;
    bool too_many;
    bool no_memory;
} params_t;

/* An /api/ request, from the I/O thread to a worker and back. */
typedef struct {
    struct MHD_Connection *conn; /* suspended while the job is queued or running */
    char *url;
    api_params_t params;
    api_reply_t reply; /* set by the worker */
} job_t;

typedef struct {
    http_t *http;
    pthread_t thread;
    store_t *store;            /* this worker's read-only connection */
    store_deadline_t deadline; /* of the query it runs */
} worker_t;

struct http {
    struct MHD_Daemon *daemon;
    store_t *store;            /* the I/O thread's connection: /healthz, /metrics */
    store_deadline_t deadline; /* of its requests */
    stats_board_t *stats;      /* borrowed */
    int64_t timeout_ns;        /* --query-timeout */
    pthread_mutex_t lock;      /* guards what follows */
    pthread_cond_t wake;       /* a job was queued, or stopping */
    job_t *queue[HTTP_QUEUE];  /* a ring of count jobs from head */
    size_t head, count;
    bool stopping;
    worker_t workers[HTTP_WORKERS];
    size_t nworkers;     /* started */
    uint64_t running;    /* queries being run */
    uint64_t queue_full; /* answered 503: the queue was full */
    uint64_t too_slow;   /* answered 503: past the deadline */
};

/* A connection's state between its first call (headers) and the request's;
 * while the request is with a worker, its job instead. */
static char s_headers_seen;

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

static enum MHD_Result s_collect(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    params_t *cp = cls;
    api_params_t *p = &cp->p;
    if (p->n == API_MAX_PARAMS) {
        cp->too_many = true;
        return MHD_NO;
    }
    p->names[p->n] = strdup(key);
    p->values[p->n] = value ? strdup(value) : NULL;
    cp->no_memory |= !p->names[p->n] || (value && !p->values[p->n]);
    p->n++;
    return MHD_YES;
}

static void s_params_free(api_params_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->names[i]);
        free(p->values[i]);
        p->names[i] = NULL;
    }
    p->n = 0;
}

/* Queues r; its body is MHD's to free from here. */
static enum MHD_Result s_reply(struct MHD_Connection *conn, const api_reply_t *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(r->body), r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r->body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", r->type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (r->truncated[0])
        MHD_add_response_header(resp, "X-Dropscope-Truncated", r->truncated);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result s_reply_error(struct MHD_Connection *conn, int status, const char *msg)
{
    api_reply_t r = api_error(status, msg);
    return s_reply(conn, &r);
}

#ifdef DROPSCOPE_HAVE_WEB
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
#endif

/* Serves "/" (the page) and "/static/NAME" from the embedded files (or,
 * built without them, the 404 that says so); returns false when url is
 * neither (the API answers it). */
static bool s_static(struct MHD_Connection *conn, const char *url, enum MHD_Result *rc)
{
    const char *name = strcmp(url, "/") == 0              ? "index.html"
                       : strncmp(url, "/static/", 8) == 0 ? url + 8
                                                          : NULL;
    if (!name)
        return false;
#ifndef DROPSCOPE_HAVE_WEB
    struct MHD_Response *none = MHD_create_response_from_buffer(
        sizeof s_no_web - 1, (void *)s_no_web, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(none, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(none, "Cache-Control", "no-cache");
    *rc = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, none);
    MHD_destroy_response(none);
#else
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
    *rc = s_reply_error(conn, 404, "no such file");
#endif
    return true;
}

/* Runs one request against store under a deadline of timeout_ns; an
 * answer cut short by it becomes the 503 that says so. */
static api_reply_t s_answer(http_t *self, store_t *store, store_deadline_t *deadline,
                            int64_t timeout_ns, const char *url, api_params_t *p)
{
    *deadline = (store_deadline_t){ts_mono_ns() + timeout_ns, false};
    api_reply_t r = api_get(store, self->stats, url, (const char *const *)p->names, api_param, p);
    deadline->mono_ns = 0;
    if (!deadline->passed)
        return r;
    free(r.body);
    pthread_mutex_lock(&self->lock);
    self->too_slow++;
    pthread_mutex_unlock(&self->lock);
    return api_too_slow(url, timeout_ns);
}

/* /metrics, with the HTTP side's own figures after the API's. */
static api_reply_t s_metrics(http_t *self, api_params_t *p)
{
    api_reply_t r =
        s_answer(self, self->store, &self->deadline, HTTP_CHEAP_TIMEOUT_NS, "/metrics", p);
    if (r.status != 200)
        return r;
    pthread_mutex_lock(&self->lock);
    uint64_t running = self->running, queued = self->count, full = self->queue_full,
             slow = self->too_slow;
    pthread_mutex_unlock(&self->lock);
    char *body = NULL;
    if (asprintf(
            &body,
            "%s# HELP dropscope_http_queries_running API queries being run by the workers.\n"
            "# TYPE dropscope_http_queries_running gauge\ndropscope_http_queries_running %llu\n"
            "# HELP dropscope_http_queries_queued API queries waiting for a worker.\n"
            "# TYPE dropscope_http_queries_queued gauge\ndropscope_http_queries_queued %llu\n"
            "# HELP dropscope_http_queue_full_total API queries answered 503 because %d "
            "were waiting.\n# TYPE dropscope_http_queue_full_total counter\n"
            "dropscope_http_queue_full_total %llu\n"
            "# HELP dropscope_http_deadline_total Requests answered 503 for running past "
            "their deadline.\n# TYPE dropscope_http_deadline_total counter\n"
            "dropscope_http_deadline_total %llu\n",
            r.body, (unsigned long long)running, (unsigned long long)queued, HTTP_QUEUE,
            (unsigned long long)full, (unsigned long long)slow) < 0)
        return r; /* out of memory: the API's part alone */
    free(r.body);
    r.body = body;
    return r;
}

static void s_job_free(job_t **job_p)
{
    job_t *job = *job_p;
    if (!job)
        return;
    s_params_free(&job->params);
    free(job->url);
    free(job->reply.body);
    free(job);
    *job_p = NULL;
}

/* Workers run below the I/O thread's priority: on a busy machine the
 * thread that answers /healthz gets the CPU first. On Linux a thread's
 * nice value is its own (setpriority on its thread id). */
static void s_lower_priority(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, (id_t)tid);
    if (errno == 0 && setpriority(PRIO_PROCESS, (id_t)tid, nice + HTTP_WORKER_NICE) != 0)
        log_debug("http: cannot lower a worker's priority: %s", strerror(errno));
}

static void *s_worker(void *arg)
{
    worker_t *w = arg;
    http_t *self = w->http;
    s_lower_priority();
    pthread_mutex_lock(&self->lock);
    for (;;) {
        while (self->count == 0 && !self->stopping)
            pthread_cond_wait(&self->wake, &self->lock);
        if (self->count == 0)
            break; /* stopping, and nothing left to answer */
        job_t *job = self->queue[self->head];
        self->head = (self->head + 1) % HTTP_QUEUE;
        self->count--;
        bool stopping = self->stopping;
        self->running++;
        pthread_mutex_unlock(&self->lock);
        job->reply = stopping ? api_error(503, "the aggregator is stopping")
                              : s_answer(self, w->store, &w->deadline, self->timeout_ns, job->url,
                                         &job->params);
        /* From here the job is the I/O thread's again: it answers and frees it. */
        MHD_resume_connection(job->conn);
        pthread_mutex_lock(&self->lock);
        self->running--;
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

/* Hands an /api/ request to the workers and suspends its connection; a
 * full queue (or a stopping server) is answered 503 at once. */
static enum MHD_Result s_enqueue(http_t *self, struct MHD_Connection *conn, const char *url,
                                 api_params_t *p, void **state)
{
    job_t *job = calloc(1, sizeof *job);
    if (!job || !(job->url = strdup(url))) {
        free(job);
        s_params_free(p);
        return s_reply_error(conn, 500, "out of memory");
    }
    job->conn = conn;
    job->params = *p;
    pthread_mutex_lock(&self->lock);
    bool queued = !self->stopping && self->count < HTTP_QUEUE;
    if (queued) {
        self->queue[(self->head + self->count) % HTTP_QUEUE] = job;
        self->count++;
        *state = job;
        MHD_suspend_connection(conn); /* before a worker can resume it */
        pthread_cond_signal(&self->wake);
    } else if (!self->stopping) {
        self->queue_full++;
    }
    bool stopping = self->stopping;
    pthread_mutex_unlock(&self->lock);
    if (queued)
        return MHD_YES;
    s_job_free(&job);
    if (stopping)
        return s_reply_error(conn, 503, "the aggregator is stopping");
    log_limited(LOGL_WARN, "http-queue-full",
                "http: %d API queries are waiting for %d workers: answering 503 until some "
                "finish",
                HTTP_QUEUE, HTTP_WORKERS);
    char msg[200];
    snprintf(msg, sizeof msg,
             "the aggregator is busy: %d queries are waiting (the limit); try "
             "again shortly, or ask for less",
             HTTP_QUEUE);
    return s_reply_error(conn, 503, msg);
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    http_t *self = cls;
    if (*state == NULL) { /* first call: headers only */
        *state = &s_headers_seen;
        return MHD_YES;
    }
    if (*state != &s_headers_seen) { /* resumed: the worker's answer is in */
        job_t *job = *state;
        *state = &s_headers_seen;
        enum MHD_Result rc = s_reply(conn, &job->reply);
        job->reply.body = NULL; /* MHD's now */
        s_job_free(&job);
        return rc;
    }
    if (*upload_size != 0) { /* a GET with a body: ignore the body */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return s_reply_error(conn, 405, "only GET is supported");
    enum MHD_Result rc;
    if (s_static(conn, url, &rc))
        return rc;
    params_t cp = {0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, s_collect, &cp);
    if (cp.too_many || cp.no_memory) {
        s_params_free(&cp.p);
        return s_reply_error(conn, cp.too_many ? 400 : 500,
                             cp.too_many ? "too many query parameters" : "out of memory");
    }
    /* /metrics/fleet reads no table, but writes every host's series: half a
     * second at 10,000 hosts (bench_metrics.sh), which /healthz must not
     * wait behind. A worker answers it, as it answers the queries. */
    if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/metrics/fleet") == 0)
        return s_enqueue(self, conn, url, &cp.p, state);
    api_reply_t r = strcmp(url, "/metrics") == 0 ? s_metrics(self, &cp.p)
                                                 : s_answer(self, self->store, &self->deadline,
                                                            HTTP_CHEAP_TIMEOUT_NS, url, &cp.p);
    s_params_free(&cp.p);
    return s_reply(conn, &r);
}

/* A connection closed: frees a job whose answer was never sent. */
static void s_completed(void *cls, struct MHD_Connection *conn, void **state,
                        enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    if (*state && *state != &s_headers_seen) {
        job_t *job = *state;
        s_job_free(&job);
    }
    *state = NULL;
}

/* Opens the stores and starts the workers. 0, -1 + err. */
static int s_workers_start(http_t *self, const char *db_path, char *err, size_t errsz)
{
    if (!(self->store = store_open(db_path, false, err, errsz)))
        return -1;
    store_set_deadline(self->store, &self->deadline);
    for (size_t i = 0; i < HTTP_WORKERS; i++) {
        worker_t *w = &self->workers[i];
        w->http = self;
        if (!(w->store = store_open(db_path, false, err, errsz)))
            return -1;
        store_set_deadline(w->store, &w->deadline);
        int rc = pthread_create(&w->thread, NULL, s_worker, w);
        if (rc != 0) {
            snprintf(err, errsz, "cannot start an HTTP worker thread: %s", strerror(rc));
            return -1;
        }
        self->nworkers++;
    }
    return 0;
}

http_t *http_new(const char *listen, const char *db_path, stats_board_t *stats,
                 int64_t query_timeout_ns, char *err, size_t errsz)
{
    struct sockaddr_storage addr;
    socklen_t addrlen;
    if (s_parse_listen(listen, &addr, &addrlen) != 0) {
        snprintf(err, errsz,
                 "--http '%s' is not HOST:PORT with a numeric address "
                 "(e.g. 127.0.0.1:7421 or [::1]:7421)",
                 listen);
        return NULL;
    }
    http_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    self->stats = stats;
    self->timeout_ns = query_timeout_ns;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    char sub[512];
    if (s_workers_start(self, db_path, sub, sizeof sub) != 0) {
        snprintf(err, errsz, "%s", sub);
        http_destroy(&self);
        return NULL;
    }
    unsigned flags =
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, s_handler, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)HTTP_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self, MHD_OPTION_END);
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
    /* The workers answer what is queued (503) and resume every connection
     * before MHD stops: it must not stop with connections suspended. */
    pthread_mutex_lock(&self->lock);
    self->stopping = true;
    pthread_cond_broadcast(&self->wake);
    pthread_mutex_unlock(&self->lock);
    for (size_t i = 0; i < self->nworkers; i++)
        pthread_join(self->workers[i].thread, NULL);
    if (self->daemon)
        MHD_stop_daemon(self->daemon);
    for (size_t i = 0; i < HTTP_WORKERS; i++)
        store_close(&self->workers[i].store);
    store_close(&self->store);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}
