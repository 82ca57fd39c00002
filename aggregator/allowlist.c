/* allowlist: see allowlist.h. A change is found as czmq's own certificate
 * store finds it (zdir: newest modification time, file count, total size),
 * which costs a stat per certificate: ~10 ms a second for 10,000 hosts.
 * Certificates are loaded the way zauth loads them (every regular file not
 * named *_secret, subdirectories too), so the two never disagree on who is
 * admitted. */
#include "allowlist.h"

#include <czmq.h>

#include "log.h"
#include "strmap.h"
#include "text.h"
#include "ts.h"

struct allowlist {
    char *dir;          /* the --allow directory */
    strmap_t *hosts;    /* public key (Z85) -> host name (owned copy) */
    int64_t looked_at;  /* monotonic time of the last look */
    time_t modified;    /* what the directory looked like at the last read */
    size_t count;
    off_t size;
};

static void s_free(void *value)
{
    free(value);
}

/* The host a certificate names; "" (with a warning) when none or not a name. */
static const char *s_cert_host(zcert_t *cert, const char *path)
{
    const char *name = zcert_meta(cert, "name");
    if (name && name[0] && text_is_name(name))
        return name;
    log_warn("aggregator: %s names no host (or not a valid one): its collector's messages are "
             "refused; add `name = \"HOST\"` under `metadata` in it, or make a new key with "
             "`dropscope keygen --name HOST PATH`", path);
    return "";
}

static void s_load(allowlist_t *self, zdir_t *dir)
{
    strmap_clear(self->hosts, s_free);
    zfile_t **files = zdir_flatten(dir);
    for (size_t i = 0; files && files[i]; i++) {
        const char *path = zfile_filename(files[i], NULL);
        size_t len = strlen(path);
        if (!zfile_is_regular(files[i]) || (len >= 7 && strcmp(path + len - 7, "_secret") == 0))
            continue;
        zcert_t *cert = zcert_load(path);
        if (!cert)
            continue;
        char *host = strdup(s_cert_host(cert, path));
        if (!host || strmap_put(self->hosts, zcert_public_txt(cert), host) != 0) {
            free(host);
            log_limited(LOGL_ERROR, "allowlist:oom", "aggregator: out of memory reading %s", path);
        }
        zcert_destroy(&cert);
    }
    zdir_flatten_free(&files);
    /* Modification times are in whole seconds: a file changed again in the
     * second it was read in would look unchanged, so a fresh one is read
     * again at the next look. */
    self->modified = zdir_modified(dir) >= time(NULL) - 1 ? 0 : zdir_modified(dir);
    self->count = zdir_count(dir);
    self->size = zdir_cursize(dir);
}

allowlist_t *allowlist_new(const char *dir, char *err, size_t errsz)
{
    allowlist_t *self = calloc(1, sizeof *self);
    zdir_t *z = zdir_new(dir, NULL);
    if (!self || !(self->dir = strdup(dir)) || !(self->hosts = strmap_new()) || !z) {
        snprintf(err, errsz, "cannot read the --allow directory %s", dir);
        zdir_destroy(&z);
        allowlist_destroy(&self);
        return NULL;
    }
    s_load(self, z);
    zdir_destroy(&z);
    self->looked_at = ts_mono_ns();
    return self;
}

void allowlist_destroy(allowlist_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    allowlist_t *self = *self_p;
    if (self->hosts)
        strmap_clear(self->hosts, s_free);
    strmap_destroy(&self->hosts);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

void allowlist_refresh(allowlist_t *self, int64_t now_mono_ns)
{
    if (now_mono_ns - self->looked_at < TS_NS_PER_S)
        return;
    self->looked_at = now_mono_ns;
    zdir_t *dir = zdir_new(self->dir, NULL);
    if (!dir) {
        log_limited(LOGL_ERROR, "allowlist:gone", "aggregator: the --allow directory %s is gone; "
                    "keeping the keys read last", self->dir);
        return;
    }
    if (zdir_modified(dir) != self->modified || zdir_count(dir) != self->count ||
        zdir_cursize(dir) != self->size) {
        bool recheck = self->modified == 0; /* read in the second it changed */
        s_load(self, dir);
        log_msg(recheck ? LOGL_DEBUG : LOGL_INFO, "aggregator: the --allow directory %s changed: "
                "%zu certificates", self->dir, strmap_size(self->hosts));
    }
    zdir_destroy(&dir);
}

const char *allowlist_host(const allowlist_t *self, const char *key)
{
    return strmap_get(self->hosts, key);
}

size_t allowlist_size(const allowlist_t *self)
{
    return strmap_size(self->hosts);
}
