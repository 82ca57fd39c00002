/* client: one curl easy handle per request; replies are small enough
 * (bounded by the API's limit) to collect in memory. An answer the
 * aggregator capped (X-Dropscope-Truncated) is used, with a warning. */
#include "client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *data;
    size_t len;
} body_t;

static size_t s_write(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    body_t *b = ctx;
    size_t n = size * nmemb;
    char *data = realloc(b->data, b->len + n + 1);
    if (!data)
        return 0;
    memcpy(data + b->len, ptr, n);
    b->data = data;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

#define TRUNCATED_HEADER "X-Dropscope-Truncated:"

/* Keeps the value of X-Dropscope-Truncated, if the answer has one. */
static size_t s_header(char *line, size_t size, size_t nmemb, void *ctx)
{
    char *truncated = ctx; /* 1024 bytes */
    size_t n = size * nmemb, k = strlen(TRUNCATED_HEADER);
    if (n > k && strncasecmp(line, TRUNCATED_HEADER, k) == 0) {
        const char *v = line + k;
        size_t len = n - k;
        while (len && (*v == ' ' || *v == '\t'))
            v++, len--;
        while (len && (v[len - 1] == '\r' || v[len - 1] == '\n'))
            len--;
        snprintf(truncated, 1024, "%.*s", (int)len, v);
    }
    return n;
}

json_t *client_get(const char *server, const char *path_and_query, int *exit_code)
{
    char url[4096];
    snprintf(url, sizeof url, "%s%s", server, path_and_query);
    CURL *curl = curl_easy_init();
    body_t body = {NULL, 0};
    json_t *doc = NULL;
    *exit_code = 1;
    if (!curl) {
        fprintf(stderr, "dropscope: cannot initialise libcurl\n");
        return NULL;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    char truncated[1024] = "";
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, truncated);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "dropscope: cannot reach the aggregator at %s: %s (is it running, and "
                "is its --http address this one? give another with --server URL or "
                "DROPSCOPE_SERVER=URL)\n", server, curl_easy_strerror(rc));
        goto out;
    }
    json_error_t jerr;
    doc = body.data ? json_loads(body.data, 0, &jerr) : NULL;
    if (status != 200) {
        const char *msg = doc ? json_string_value(json_object_get(doc, "error")) : NULL;
        fprintf(stderr, "dropscope: the aggregator answered %ld: %s\n", status,
                msg ? msg : (body.data ? body.data : "(no body)"));
        *exit_code = status >= 400 && status < 500 ? 2 : 1;
        json_decref(doc);
        doc = NULL;
    } else if (!doc) {
        fprintf(stderr, "dropscope: the aggregator at %s sent a reply that is not JSON: %s\n",
                server, jerr.text);
    } else {
        json_t *envelope = doc;
        if (!(doc = json_incref(json_object_get(envelope, "data"))))
            fprintf(stderr, "dropscope: the aggregator at %s answered without the versioned "
                    "API's envelope (is it older than this client?)\n", server);
        else if (truncated[0])
            fprintf(stderr, "dropscope: warning: the answer is incomplete: %s\n", truncated);
        json_decref(envelope);
    }
out:
    free(body.data);
    return doc;
}

void client_add_param(char *buf, size_t size, const char *name, const char *value)
{
    char *escaped = curl_easy_escape(NULL, value, 0);
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s=%s", strchr(buf, '?') ? "&" : "?", name,
             escaped ? escaped : "");
    curl_free(escaped);
}
