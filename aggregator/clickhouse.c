/* clickhouse: see clickhouse.h. libcurl stays inside this file (and
 * alerts_send.c). Every request is one POST to the server's base URL with
 * the database, wait_end_of_query and, for an INSERT, the statement as
 * URL parameters; the answer is read whole into a buffer kept between
 * requests. The workload assumed is a store's: a few requests a second
 * (batched INSERTs, queries answering a page), so one handle, one kept
 * connection and no pipelining. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickhouse.h"
#include "grow.h"

#define FORM "http://HOST:PORT/?database=NAME"
#define KEEP_MAX (16u << 20) /* an answer buffer larger than this is not kept for the next */
#define SQL_SHOWN 72         /* bytes of a statement that an error quotes */
#define DB_MAX 128           /* characters of a database name: URL parameters have room */

struct clickhouse {
    CURL *curl;                 /* one handle for every request: its connection is kept */
    struct curl_slist *headers; /* credentials and "Expect:", sent with every request */
    char *base;                 /* scheme://host:port/path: where requests go, no credentials */
    char *database;             /* the URL's database= (an identifier) */
    char *settings;             /* "&name=value..." sent with every request, or NULL */
    long connect_ms, request_ms;
    uint8_t *answer; /* the last answer: len bytes in cap */
    size_t len, cap;
    const char *abandoned;          /* why s_write stopped taking the answer, or NULL */
    char curl_err[CURL_ERROR_SIZE]; /* libcurl's detail of the last failure */
};

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;

static void s_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool clickhouse_is_identifier(const char *s)
{
    if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* --- the URL ------------------------------------------------------------------- */

/* url as an error may show it: any user:password@ replaced by "...@", so a
 * refused URL does not put credentials into a log. */
static void s_redact(const char *url, char *out, size_t outsz)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *at = strchr(host, '@');
    const char *end = host + strcspn(host, "/?#");
    if (at && at < end)
        snprintf(out, outsz, "%.*s...%s", (int)(host - url), url, at);
    else
        snprintf(out, outsz, "%s", url);
}

/* The database named by query ("database=NAME", nothing else) into *db;
 * -1 with err otherwise. */
static int s_parse_query(const char *shown, const char *query, char **db, char *err, size_t errsz)
{
    if (!query || strncmp(query, "database=", 9) != 0 || strchr(query, '&')) {
        snprintf(err, errsz,
                 "clickhouse URL %s: expected exactly one parameter, database= (the form is %s)",
                 shown, FORM);
        return -1;
    }
    if (!clickhouse_is_identifier(query + 9) || strlen(query + 9) > DB_MAX) {
        snprintf(err, errsz,
                 "clickhouse URL %s: database '%s' is not a plain identifier "
                 "([A-Za-z_][A-Za-z0-9_]*, %d characters at most; the form is %s)",
                 shown, query + 9, DB_MAX, FORM);
        return -1;
    }
    *db = strdup(query + 9);
    if (!*db)
        snprintf(err, errsz, "clickhouse: out of memory");
    return *db ? 0 : -1;
}

/* Checks the URL's parts u holds and sets self->base and self->database. */
static int s_take_url(clickhouse_t *self, CURLU *u, const char *shown, char *err, size_t errsz)
{
    char *scheme = NULL, *user = NULL, *pass = NULL, *host = NULL, *port = NULL, *path = NULL,
         *query = NULL, *fragment = NULL;
    int rc = -1;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);
    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0);
    if (!scheme || !path) /* libcurl has them for any URL it parsed: no memory, then */
        snprintf(err, errsz, "clickhouse: out of memory");
    else if (user || pass)
        snprintf(err, errsz,
                 "clickhouse URL %s holds credentials: give the user and password as settings "
                 "of their own (a URL shows in logs and ps); the form is %s",
                 shown, FORM);
    else if (!host || !*host)
        snprintf(err, errsz, "clickhouse URL %s names no host (the form is %s)", shown, FORM);
    else if (fragment)
        snprintf(err, errsz, "clickhouse URL %s has a #fragment (the form is %s)", shown, FORM);
    else if (s_parse_query(shown, query, &self->database, err, errsz) == 0) {
        const char *p = port ? port : strcmp(scheme, "https") == 0 ? "8443" : "8123";
        if (asprintf(&self->base, "%s://%s:%s%s", scheme, host, p, path) < 0) {
            self->base = NULL;
            snprintf(err, errsz, "clickhouse: out of memory");
        } else {
            rc = 0;
        }
    }
    char *parts[] = {scheme, user, pass, host, port, path, query, fragment};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        curl_free(parts[i]);
    return rc;
}

static int s_parse_url(clickhouse_t *self, const char *url, char *err, size_t errsz)
{
    char shown[512];
    s_redact(url, shown, sizeof shown);
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
        snprintf(err, errsz, "clickhouse URL %s is not http:// or https:// (the form is %s)", shown,
                 FORM);
        return -1;
    }
    CURLU *u = curl_url();
    if (!u) {
        snprintf(err, errsz, "clickhouse: out of memory");
        return -1;
    }
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    int rc = -1;
    if (uc != CURLUE_OK)
        snprintf(err, errsz, "clickhouse URL %s cannot be parsed: %s (the form is %s)", shown,
                 curl_url_strerror(uc), FORM);
    else
        rc = s_take_url(self, u, shown, err, errsz);
    curl_url_cleanup(u);
    return rc;
}

/* --- the object ---------------------------------------------------------------- */

static size_t s_write(char *ptr, size_t size, size_t n, void *ctx)
{
    clickhouse_t *self = ctx;
    size_t bytes = size * n;
    if (bytes > CLICKHOUSE_MAX_ANSWER - self->len) {
        self->abandoned = "it passed the most an answer may hold (ask for fewer rows or columns)";
        return 0; /* libcurl stops the transfer */
    }
    uint8_t *answer = grow(self->answer, self->len + bytes, &self->cap, 1, 65536);
    if (!answer) {
        self->abandoned = "out of memory for it";
        return 0;
    }
    self->answer = answer;
    memcpy(self->answer + self->len, ptr, bytes);
    self->len += bytes;
    return bytes;
}

/* True when s has a byte that cannot go into an HTTP header value. */
static bool s_has_control(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* h with line appended; NULL (h freed) without memory. */
static struct curl_slist *s_append(struct curl_slist *h, const char *line)
{
    struct curl_slist *more = curl_slist_append(h, line);
    if (!more)
        curl_slist_free_all(h);
    return more;
}

/* The credential headers, and "Expect:" (libcurl would otherwise wait for
 * a 100 Continue before sending a large body). */
static int s_headers(clickhouse_t *self, const char *user, const char *password, char *err,
                     size_t errsz)
{
    if (s_has_control(user) || s_has_control(password)) {
        snprintf(err, errsz,
                 "clickhouse: the %s given holds a control character (a line break?): "
                 "it cannot be sent in an HTTP header; check the setting",
                 s_has_control(user) ? "user name" : "password");
        return -1;
    }
    char line[1024];
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (h && (user || password)) {
        snprintf(line, sizeof line, "X-ClickHouse-User: %s", user ? user : "default");
        h = s_append(h, line);
    }
    if (h && password) {
        snprintf(line, sizeof line, "X-ClickHouse-Key: %s", password);
        h = s_append(h, line);
        explicit_bzero(line, sizeof line);
    }
    if (!h)
        snprintf(err, errsz, "clickhouse: out of memory");
    self->headers = h;
    return h ? 0 : -1;
}

clickhouse_t *clickhouse_new(const char *url, const char *user, const char *password, char *err,
                             size_t errsz)
{
    pthread_once(&s_curl_once, s_curl_init);
    clickhouse_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "clickhouse: out of memory");
        return NULL;
    }
    if (s_parse_url(self, url, err, errsz) < 0 || s_headers(self, user, password, err, errsz) < 0)
        goto fail;
    if (!(self->curl = curl_easy_init())) {
        snprintf(err, errsz, "clickhouse: cannot start libcurl (out of memory?)");
        goto fail;
    }
    CURL *c = self->curl;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, self->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, self);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, self->curl_err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for name lookups */
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "dropscope-aggregator");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    clickhouse_set_timeout_ms(self, CLICKHOUSE_CONNECT_TIMEOUT_MS, CLICKHOUSE_REQUEST_TIMEOUT_MS);
    return self;
fail:
    clickhouse_destroy(&self);
    return NULL;
}

void clickhouse_destroy(clickhouse_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    clickhouse_t *self = *self_p;
    if (self->curl)
        curl_easy_cleanup(self->curl);
    curl_slist_free_all(self->headers); /* after the handle: it may point at them */
    free(self->base);
    free(self->database);
    free(self->settings);
    free(self->answer);
    free(self);
    *self_p = NULL;
}

void clickhouse_set_timeout_ms(clickhouse_t *self, long connect_ms, long request_ms)
{
    if (connect_ms > 0)
        self->connect_ms = connect_ms;
    if (request_ms > 0)
        self->request_ms = request_ms;
    curl_easy_setopt(self->curl, CURLOPT_CONNECTTIMEOUT_MS, self->connect_ms);
    curl_easy_setopt(self->curl, CURLOPT_TIMEOUT_MS, self->request_ms);
}

const char *clickhouse_database(const clickhouse_t *self)
{
    return self->database;
}

/* --- requests ------------------------------------------------------------------ */

/* What an error quotes of a statement: its start on one line. */
static void s_shown_sql(const char *sql, char *out, size_t outsz)
{
    size_t n = 0, i = 0;
    for (; sql[i] && n + 4 < outsz && i < SQL_SHOWN; i++) {
        unsigned char c = (unsigned char)sql[i];
        if (c <= ' ' && (n == 0 || out[n - 1] == ' '))
            continue; /* runs of white space (and line breaks) as one space */
        out[n++] = c < ' ' ? ' ' : (char)c;
    }
    if (sql[i])
        out[n++] = '.', out[n++] = '.', out[n++] = '.';
    out[n] = '\0';
}

/* The server's exception in the answer, on one line: runs of white space
 * as one space (18.16's syntax errors quote the statement across lines,
 * before the reason), bytes that are not printable as '?', and without
 * 18.16's ", e.what() = DB::Exception" tail. */
static void s_exception(const uint8_t *body, size_t len, char *out, size_t outsz)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < outsz; i++) {
        unsigned char c = body[i];
        if (c <= ' ' && (n == 0 || out[n - 1] == ' '))
            continue;
        out[n++] = c <= ' ' ? ' ' : c < 0x7f || c >= 0x80 ? (char)c : '?';
    }
    while (n && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    char *tail = strstr(out, ", e.what() = DB::Exception");
    if (tail)
        *tail = '\0';
    /* "Code: N, e.displayText() = DB::Exception: what" says "Code: N, what" */
    static const char noise[] = "e.displayText() = DB::Exception: ";
    char *at = strstr(out, noise);
    if (at)
        memmove(at, at + sizeof noise - 1, strlen(at + sizeof noise - 1) + 1);
    if (!*out)
        snprintf(out, outsz, "(the server said nothing more)");
}

static const char *s_curl_hint(CURLcode rc)
{
    switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return "check the server's certificate, and that the port serves https";
    case CURLE_OPERATION_TIMEDOUT:
        return "is clickhouse-server running and listening there, and not overloaded? "
               "a slow query needs a longer request timeout";
    default: return "is clickhouse-server running and listening there?";
    }
}

/* True when the server refused the credentials: by the HTTP status, or by
 * the exception's code where a release answers them otherwise (192 unknown
 * user, 193 wrong password, 194 password required, 516 authentication
 * failed, as current releases say). */
static bool s_auth_failed(long status, const char *exception)
{
    const char *code = strstr(exception, "Code: ");
    int n = code ? atoi(code + 6) : 0;
    return status == 401 || status == 403 || n == 192 || n == 193 || n == 194 || n == 516;
}

/* Says why a request about `what` failed, into err. */
static void s_failure(clickhouse_t *self, CURLcode rc, long status, const char *what, char *err,
                      size_t errsz)
{
    if (rc == CURLE_WRITE_ERROR && self->abandoned) {
        snprintf(err, errsz,
                 "clickhouse at %s: the answer to \"%s\" was abandoned after %zu bytes: %s",
                 self->base, what, self->len, self->abandoned);
    } else if (rc != CURLE_OK) {
        snprintf(err, errsz, "cannot reach clickhouse at %s for \"%s\": %s (%s)", self->base, what,
                 self->curl_err[0] ? self->curl_err : curl_easy_strerror(rc), s_curl_hint(rc));
    } else {
        char exception[2048]; /* whole, so that 18.16's tail is found and cut */
        s_exception(self->answer, self->len, exception, sizeof exception);
        snprintf(err, errsz, "clickhouse at %s refused \"%s\" (HTTP %ld): %s%s", self->base, what,
                 status, exception,
                 s_auth_failed(status, exception)
                     ? " (check the ClickHouse user and password the aggregator was given)"
                     : "");
    }
}

/* POSTs body (len bytes) to the base URL with the URL parameters params;
 * the answer is left in self->answer. what names the request in errors. */
static int s_request(clickhouse_t *self, const char *params, const void *body, size_t len,
                     const char *what, char *err, size_t errsz)
{
    char *url;
    if (asprintf(&url, "%s?%s%s", self->base, params, self->settings ? self->settings : "") < 0) {
        snprintf(err, errsz, "clickhouse: out of memory");
        return -1;
    }
    if (self->cap > KEEP_MAX) { /* one large answer does not pin its memory */
        free(self->answer);
        self->answer = NULL;
        self->cap = 0;
    }
    self->len = 0;
    self->abandoned = NULL;
    self->curl_err[0] = '\0';
    curl_easy_setopt(self->curl, CURLOPT_URL, url);
    curl_easy_setopt(self->curl, CURLOPT_POSTFIELDS, len ? body : "");
    curl_easy_setopt(self->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = curl_easy_perform(self->curl);
    long status = 0;
    curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(self->curl, CURLOPT_POSTFIELDS, ""); /* body is the caller's */
    free(url);
    if (rc == CURLE_OK && status == 200)
        return 0;
    s_failure(self, rc, status, what, err, errsz);
    return -1;
}

/* A statement (the body) with the database or without. */
static int s_statement(clickhouse_t *self, const char *sql, bool with_db, char *err, size_t errsz)
{
    char what[SQL_SHOWN + 8], params[256];
    s_shown_sql(sql, what, sizeof what);
    if (with_db)
        snprintf(params, sizeof params, "database=%s&wait_end_of_query=1", self->database);
    else
        snprintf(params, sizeof params, "wait_end_of_query=1");
    return s_request(self, params, sql, strlen(sql), what, err, errsz);
}

int clickhouse_exec(clickhouse_t *self, const char *sql, char *err, size_t errsz)
{
    return s_statement(self, sql, true, err, errsz);
}

int clickhouse_exec_nodb(clickhouse_t *self, const char *sql, char *err, size_t errsz)
{
    return s_statement(self, sql, false, err, errsz);
}

static int s_query(clickhouse_t *self, const char *sql, bool with_db, const uint8_t **answer,
                   size_t *len, char *err, size_t errsz)
{
    if (s_statement(self, sql, with_db, err, errsz) < 0)
        return -1;
    /* a NUL after the answer, so that a text FORMAT reads as a string */
    uint8_t *buf = grow(self->answer, self->len + 1, &self->cap, 1, 65536);
    if (!buf) {
        snprintf(err, errsz, "clickhouse: out of memory for the answer to a query");
        return -1;
    }
    self->answer = buf;
    buf[self->len] = '\0';
    *answer = buf;
    *len = self->len;
    return 0;
}

int clickhouse_query(clickhouse_t *self, const char *sql, const uint8_t **answer, size_t *len,
                     char *err, size_t errsz)
{
    return s_query(self, sql, true, answer, len, err, errsz);
}

/* True when settings is "name=value" pairs joined by '&', names
 * identifiers and values of letters, digits and "._:-". */
static bool s_settings_ok(const char *settings)
{
    for (const char *p = settings; *p;) {
        size_t name = strcspn(p, "=&");
        if (p[name] != '=' || name == 0 || name >= 128)
            return false;
        char buf[128];
        memcpy(buf, p, name);
        buf[name] = '\0';
        if (!clickhouse_is_identifier(buf))
            return false;
        p += name + 1;
        size_t value =
            strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-");
        if (value == 0 || (p[value] != '&' && p[value] != '\0'))
            return false;
        p += value + (p[value] == '&');
    }
    return true;
}

int clickhouse_set_settings(clickhouse_t *self, const char *settings, char *err, size_t errsz)
{
    if (!settings)
        settings = "";
    if (!s_settings_ok(settings)) {
        snprintf(err, errsz,
                 "clickhouse: settings '%s' are not name=value pairs joined by '&' "
                 "(e.g. insert_quorum=2)",
                 settings);
        return -1;
    }
    char *copy = NULL;
    if (*settings && asprintf(&copy, "&%s", settings) < 0) {
        snprintf(err, errsz, "clickhouse: out of memory");
        return -1;
    }
    free(self->settings);
    self->settings = copy;
    return 0;
}

int clickhouse_insert(clickhouse_t *self, const char *table_and_columns, const uint8_t *rowbinary,
                      size_t len, char *err, size_t errsz)
{
    char sql[512], what[SQL_SHOWN + 8];
    snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT RowBinary", table_and_columns);
    s_shown_sql(sql, what, sizeof what);
    char *escaped = curl_easy_escape(self->curl, sql, 0);
    char *params = NULL;
    int rc = -1;
    if (escaped && asprintf(&params, "database=%s&wait_end_of_query=1&query=%s", self->database,
                            escaped) >= 0)
        rc = s_request(self, params, rowbinary, len, what, err, errsz);
    else
        snprintf(err, errsz, "clickhouse: out of memory");
    curl_free(escaped);
    free(params);
    return rc;
}

/* --- the version ----------------------------------------------------------------- */

int clickhouse_version(clickhouse_t *self, int *major, int *minor, char *err, size_t errsz)
{
    const uint8_t *answer;
    size_t len;
    /* without the database: the check comes before it is made */
    if (s_query(self, "SELECT version() FORMAT TabSeparated", false, &answer, &len, err, errsz) < 0)
        return -1;
    char text[64];
    snprintf(text, sizeof text, "%s", (const char *)answer);
    text[strcspn(text, "\r\n")] = '\0';
    if (sscanf(text, "%d.%d", major, minor) != 2 || *major < 0 || *minor < 0) {
        snprintf(err, errsz,
                 "clickhouse at %s answered version() with '%s', not MAJOR.MINOR...: is it "
                 "a ClickHouse server?",
                 self->base, text);
        return -1;
    }
    return 0;
}

int clickhouse_version_ok(int major, int minor, char *err, size_t errsz)
{
    if (major > CLICKHOUSE_MIN_MAJOR ||
        (major == CLICKHOUSE_MIN_MAJOR && minor >= CLICKHOUSE_MIN_MINOR))
        return 0;
    snprintf(err, errsz,
             "clickhouse-server %d.%d is too old: dropscope needs %d.%d or newer "
             "(upgrade clickhouse-server)",
             major, minor, CLICKHOUSE_MIN_MAJOR, CLICKHOUSE_MIN_MINOR);
    return -1;
}

int clickhouse_check_version(clickhouse_t *self, char *err, size_t errsz)
{
    int major, minor;
    if (clickhouse_version(self, &major, &minor, err, errsz) < 0)
        return -1;
    char why[256];
    if (clickhouse_version_ok(major, minor, why, sizeof why) < 0) {
        snprintf(err, errsz, "clickhouse at %s: %s", self->base, why);
        return -1;
    }
    return 0;
}

/* --- SQL text ------------------------------------------------------------------ */

/* Appends k bytes to out as far as outsz allows, counting them all in *n. */
static void s_put(char *out, size_t outsz, size_t *n, const char *bytes, size_t k)
{
    for (size_t i = 0; i < k; i++, (*n)++)
        if (*n < outsz)
            out[*n] = bytes[i];
}

/* Writes the literal of s into out as far as outsz allows; returns the
 * bytes it needs, its NUL included. */
static size_t s_quote(const char *s, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    s_put(out, outsz, &n, "'", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[4] = {'\\', (char)*p, 'x', 'x'};
        if (*p == '\\' || *p == '\'') {
            s_put(out, outsz, &n, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            /* \xHH: read by every ClickHouse; a raw NUL ends 18.16's parse */
            esc[1] = 'x', esc[2] = hex[*p >> 4], esc[3] = hex[*p & 15];
            s_put(out, outsz, &n, esc, 4);
        } else {
            s_put(out, outsz, &n, esc + 1, 1);
        }
    }
    s_put(out, outsz, &n, "'", 2); /* the quote and the NUL */
    return n;
}

int clickhouse_quote(const char *s, char *out, size_t outsz)
{
    if (s_quote(s, NULL, 0) > outsz) {
        if (outsz)
            out[0] = '\0'; /* never a literal cut open */
        return -1;
    }
    s_quote(s, out, outsz);
    return 0;
}

char *clickhouse_quote_dup(const char *s)
{
    size_t need = s_quote(s, NULL, 0);
    char *out = malloc(need);
    if (out)
        s_quote(s, out, need);
    return out;
}
