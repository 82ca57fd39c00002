/* allowlist: see allowlist.h. Certificates are loaded as zauth loads them
 * (every regular file not named *_secret), from the top of the directory
 * only: a certificate in a subdirectory, which zauth would admit, speaks
 * for no host here (refused, never admitted by mistake). A change is
 * noticed with inotify, which costs nothing while nothing changes; walking
 * the directory to compare modification times cost ~90 ms a look with
 * 10,000 certificates, too much for the ingest thread every second. A
 * change is a full re-read (zcert_load of every file). Without inotify,
 * the directory is re-read every 10 s. */
#include "allowlist.h"

#include <czmq.h>
#include <dirent.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "log.h"
#include "strmap.h"
#include "text.h"
#include "ts.h"

#define LOOK_EVERY_NS TS_NS_PER_S          /* how often pending changes are read */
#define REREAD_BLIND_NS (10 * TS_NS_PER_S) /* without inotify */

struct allowlist {
    char *dir;         /* the --allow directory */
    strmap_t *hosts;   /* public key (Z85) -> host name (owned copy) */
    int inotify;       /* watches dir; -1 without inotify */
    int64_t looked_at; /* monotonic: the last look for changes */
    int64_t read_at;   /* monotonic: the last read of the directory */
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

/* Adds the certificate at path, when it is one (not a secret). */
static void s_add(allowlist_t *self, const char *path)
{
    size_t len = strlen(path);
    struct stat st;
    if ((len >= 7 && strcmp(path + len - 7, "_secret") == 0) || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return;
    zcert_t *cert = zcert_load(path);
    if (!cert)
        return;
    char *host = strdup(s_cert_host(cert, path));
    if (!host || strmap_put(self->hosts, zcert_public_txt(cert), host) != 0) {
        free(host);
        log_limited(LOGL_ERROR, "allowlist:oom", "aggregator: out of memory reading %s", path);
    }
    zcert_destroy(&cert);
}

/* Reads every certificate of the directory again. */
static void s_read(allowlist_t *self, int64_t now_mono_ns)
{
    self->read_at = now_mono_ns;
    DIR *dir = opendir(self->dir);
    if (!dir) {
        log_limited(LOGL_ERROR, "allowlist:gone", "aggregator: cannot read the --allow directory "
                    "%s: %s; keeping the keys read last", self->dir, strerror(errno));
        return;
    }
    strmap_clear(self->hosts, s_free);
    struct dirent *de;
    char path[4096];
    while ((de = readdir(dir))) {
        snprintf(path, sizeof path, "%s/%s", self->dir, de->d_name);
        s_add(self, path);
    }
    closedir(dir);
}

allowlist_t *allowlist_new(const char *dir, char *err, size_t errsz)
{
    allowlist_t *self = calloc(1, sizeof *self);
    if (self)
        self->inotify = -1;
    if (!self || !(self->dir = strdup(dir)) || !(self->hosts = strmap_new())) {
        snprintf(err, errsz, "out of memory reading the --allow directory %s", dir);
        allowlist_destroy(&self);
        return NULL;
    }
    self->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    uint32_t events = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
                      IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
    if (self->inotify >= 0 && inotify_add_watch(self->inotify, dir, events) < 0) {
        close(self->inotify);
        self->inotify = -1;
    }
    if (self->inotify < 0)
        log_warn("aggregator: cannot watch the --allow directory %s (%s); it is read again every "
                 "10 s", dir, strerror(errno));
    s_read(self, ts_mono_ns());
    self->looked_at = self->read_at;
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
    if (self->inotify >= 0)
        close(self->inotify);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

/* True when inotify reported anything since the last call (the events
 * themselves do not matter: any change means a new read). */
static bool s_changed(allowlist_t *self)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool changed = false;
    while (read(self->inotify, buf, sizeof buf) > 0)
        changed = true;
    return changed;
}

void allowlist_refresh(allowlist_t *self, int64_t now_mono_ns)
{
    if (now_mono_ns - self->looked_at < LOOK_EVERY_NS)
        return;
    self->looked_at = now_mono_ns;
    bool changed = self->inotify >= 0 && s_changed(self);
    if (!changed && (self->inotify >= 0 || now_mono_ns - self->read_at < REREAD_BLIND_NS))
        return;
    size_t before = strmap_size(self->hosts);
    s_read(self, now_mono_ns);
    if (changed || strmap_size(self->hosts) != before)
        log_info("aggregator: the --allow directory %s changed: %zu certificates", self->dir,
                 strmap_size(self->hosts));
}

const char *allowlist_host(const allowlist_t *self, const char *key)
{
    return strmap_get(self->hosts, key);
}

size_t allowlist_size(const allowlist_t *self)
{
    return strmap_size(self->hosts);
}
