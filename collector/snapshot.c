/* snapshot: the slow-path driver. Assumes one call per reporting interval
 * (about a second) from one thread; reuses one read buffer for every file.
 * /proc files are read whole (they are generated on read, so their size is
 * unknown in advance and a partial read would be a torn snapshot). */
#define _GNU_SOURCE
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ethtool.h"
#include "irqs.h"
#include "log.h"
#include "netdev.h"
#include "netlink.h"
#include "procfile.h"
#include "qdisc.h"
#include "snmp.h"
#include "sockdiag.h"
#include "sockets.h"
#include "sockowner.h"
#include "softnet.h"
#include "source.h"
#include "stackdump.h"
#include "strmap.h"
#include "sysctl.h"
#include "ts.h"

#define MAX_IFACES 512
#define OWNER_LOOKS 64                    /* sockets whose owner one walk of /proc looks for */
#define OWNER_LOOK_GAP (10 * TS_NS_PER_S) /* between walks */

/* A /proc file and the parser for it. */
typedef struct file_source file_source_t;
struct file_source {
    source_t source;  /* series source the file feeds */
    const char *path; /* relative to the procfs root */
    const char *arg;  /* the sockets parser's protocol, "udp" or "udp6" */
    int (*parse)(const file_source_t *f, const char *buf, size_t len, reading_fn *emit, void *ctx,
                 char *err, size_t errsz);
};

static int s_parse_netdev(const file_source_t *f, const char *b, size_t n, reading_fn *e, void *c,
                          char *err, size_t es)
{
    (void)f;
    return netdev_parse(b, n, e, c, err, es);
}

/* snmp and netstat share a format: the parser is told whose file it reads. */
static int s_parse_snmp(const file_source_t *f, const char *b, size_t n, reading_fn *e, void *c,
                        char *err, size_t es)
{
    return snmp_parse(b, n, source_name(f->source), e, c, err, es);
}

static int s_parse_snmp6(const file_source_t *f, const char *b, size_t n, reading_fn *e, void *c,
                         char *err, size_t es)
{
    (void)f;
    return snmp6_parse(b, n, e, c, err, es);
}

static int s_parse_softnet(const file_source_t *f, const char *b, size_t n, reading_fn *e,
                           void *c, char *err, size_t es)
{
    (void)f;
    return softnet_parse(b, n, e, c, err, es);
}

/* The fallback of sock_diag: only sockets that have dropped become series
 * (a busy host has thousands of quiet UDP sockets, and a socket's drop
 * count never decreases while it lives, so one that appears with drops
 * has dropped since we last looked). */
static int s_parse_sockets(const file_source_t *f, const char *b, size_t n, reading_fn *e,
                           void *c, char *err, size_t es)
{
    return sockets_parse(b, n, f->arg, 1, e, c, err, es);
}

enum { SRC_NETDEV_PROC, SRC_SNMP, SRC_NETSTAT, SRC_SNMP6, SRC_SOFTNET, SRC_UDP, SRC_UDP6, NFILES };

static const file_source_t s_files[NFILES] = {
    [SRC_NETDEV_PROC] = {SOURCE_NETDEV, "net/dev", NULL, s_parse_netdev},
    [SRC_SNMP] = {SOURCE_SNMP, "net/snmp", NULL, s_parse_snmp},
    [SRC_NETSTAT] = {SOURCE_NETSTAT, "net/netstat", NULL, s_parse_snmp},
    [SRC_SNMP6] = {SOURCE_SNMP6, "net/snmp6", NULL, s_parse_snmp6},
    [SRC_SOFTNET] = {SOURCE_SOFTNET, "net/softnet_stat", NULL, s_parse_softnet},
    [SRC_UDP] = {SOURCE_SOCK, "net/udp", "udp", s_parse_sockets},
    [SRC_UDP6] = {SOURCE_SOCK, "net/udp6", "udp6", s_parse_sockets},
};

typedef struct {
    char name[32];      /* interface name */
    uint64_t seen_gen;  /* last collect that listed it */
    bool stats_off;     /* ethtool stats unsupported on it */
    bool ring_off;      /* ethtool ring parameters unsupported on it */
    bool channels_off;  /* ethtool channel counts unsupported on it */
} iface_t;

struct snapshot {
    char *procfs;               /* owned copies of the options */
    char *sysfs;
    char *ethtool_dir;
    bool live;                  /* procfs is this machine's /proc */
    bool file_off[NFILES];      /* file sources turned off for good */
    bool *sysctl_off;           /* per sysctl_defs entry: missing here */
    netlink_t *netlink;         /* live netdev counters; NULL = use /proc/net/dev */
    qdisc_t *qdisc;             /* live qdisc counters; NULL when not live */
    ethtool_t *ethtool;         /* live NIC counters; NULL when not live */
    stackdump_t *stackdump;     /* Onload stacks; NULL when not live and not asked for */
    sockdiag_t *sockdiag;       /* live sockets; NULL = the /proc/net/udp{,6} scan */
    irqs_t *irqs;               /* the NICs' interrupt lines and the CPUs' time */
    iface_t ifaces[MAX_IFACES]; /* interfaces seen by the netdev source */
    size_t nifaces;
    iface_t *last_iface;        /* the one s_note_iface matched last */
    uint64_t gen;               /* collects so far */
    char *buf;                  /* file read buffer */
    size_t bufcap;
    char boot_id[64];
    char kernel[128];
    series_t *series;           /* the registry of the current collect */
    strmap_t *sockets;          /* socket address -> inode, this collect */
    int64_t owners_mono;        /* when /proc was last walked for socket owners */
};

/* Reads relpath under root into self->buf (NUL-terminated). Returns the
 * length, or -1 with errno set. */
static ssize_t s_read(snapshot_t *self, const char *root, const char *relpath)
{
    return procfile_read(root, relpath, &self->buf, &self->bufcap);
}

static void s_read_fact(snapshot_t *self, const char *relpath, char *out, size_t size)
{
    ssize_t n = s_read(self, self->procfs, relpath);
    if (n < 0)
        return;
    snprintf(out, size, "%.*s", (int)strcspn(self->buf, "\n"), self->buf);
}

snapshot_t *snapshot_new(const snapshot_opts_t *opts)
{
    snapshot_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->procfs = strdup(opts->procfs);
    self->sysfs = strdup(opts->sysfs);
    self->ethtool_dir = opts->ethtool_dir ? strdup(opts->ethtool_dir) : NULL;
    self->sysctl_off = calloc(sysctl_defs_count + 1, sizeof *self->sysctl_off);
    if (!self->procfs || !self->sysfs || (opts->ethtool_dir && !self->ethtool_dir) ||
        !self->sysctl_off || !(self->sockets = strmap_new()) ||
        !(self->irqs = irqs_new(opts->procfs, opts->sysfs))) {
        snapshot_destroy(&self);
        return NULL;
    }
    self->live = strcmp(opts->procfs, "/proc") == 0;
    if (self->live) {
        char err[256];
        self->netlink = netlink_new(err, sizeof err);
        if (!self->netlink)
            log_warn("collector: %s; reading interface counters from %s/net/dev instead", err,
                     self->procfs);
        if (!(self->qdisc = qdisc_new(err, sizeof err)))
            log_warn("collector: %s; qdisc counters are off", err);
        if (!(self->sockdiag = sockdiag_new(err, sizeof err)))
            log_warn("collector: %s; reading dropping UDP sockets from %s/net/udp{,6} instead "
                     "(no TCP sockets, no granted buffer sizes)", err, self->procfs);
        if (!self->ethtool_dir && !(self->ethtool = ethtool_new()))
            log_warn("collector: cannot open a socket for ethtool ioctls; NIC driver counters "
                     "and ring sizes are off");
    }
    /* Onload's stacks are this machine's: a fixture root reads them only
     * when told which tool to run (a stand-in, in tests). */
    if ((self->live || opts->onload_stackdump) &&
        !(self->stackdump = stackdump_new(opts->onload_stackdump))) {
        snapshot_destroy(&self);
        return NULL;
    }
    s_read_fact(self, "sys/kernel/random/boot_id", self->boot_id, sizeof self->boot_id);
    s_read_fact(self, "sys/kernel/osrelease", self->kernel, sizeof self->kernel);
    return self;
}

void snapshot_destroy(snapshot_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    snapshot_t *self = *self_p;
    netlink_destroy(&self->netlink);
    qdisc_destroy(&self->qdisc);
    ethtool_destroy(&self->ethtool);
    stackdump_destroy(&self->stackdump);
    sockdiag_destroy(&self->sockdiag);
    irqs_destroy(&self->irqs);
    free(self->procfs);
    free(self->sysfs);
    free(self->ethtool_dir);
    free(self->sysctl_off);
    strmap_destroy(&self->sockets);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

const char *snapshot_boot_id(const snapshot_t *self)
{
    return self->boot_id;
}

const char *snapshot_kernel(const snapshot_t *self)
{
    return self->kernel;
}

/* Remembers the interfaces the netdev source names, for ethtool. Readings
 * of one interface arrive together, so the last match is checked first. */
static void s_note_iface(snapshot_t *self, const char *name)
{
    iface_t *ifc = self->last_iface;
    for (size_t i = 0; !(ifc && strcmp(ifc->name, name) == 0); i++) {
        if (i == self->nifaces) {
            if (self->nifaces == MAX_IFACES)
                return;
            ifc = &self->ifaces[self->nifaces++];
            snprintf(ifc->name, sizeof ifc->name, "%s", name);
            break;
        }
        ifc = &self->ifaces[i];
    }
    ifc->seen_gen = self->gen;
    self->last_iface = ifc;
}

/* Several sockets can share an address (SO_REUSEPORT groups, a port bound
 * by many processes). The first one listed keeps the plain name; the others
 * become "udp:ADDR:PORT#INODE", so each keeps a series of its own instead
 * of taking turns on one (which would look like a restart every time).
 * Onload's sockets alike (their instance: stack and socket number), and two
 * stacks of one name. */
static void s_emit_sock(snapshot_t *self, const reading_t *r)
{
    uintptr_t inode = (uintptr_t)strmap_get(self->sockets, r->device);
    if (inode == 0) {
        strmap_put(self->sockets, r->device, (void *)(uintptr_t)r->instance);
    } else if (inode != r->instance) {
        char device[160];
        snprintf(device, sizeof device, "%s#%llu", r->device, (unsigned long long)r->instance);
        reading_t renamed = *r;
        renamed.device = device;
        series_observe(self->series, &renamed);
        return;
    }
    series_observe(self->series, r);
}

static void s_emit(void *ctx, const reading_t *r)
{
    snapshot_t *self = ctx;
    if (source_is(r->source, SOURCE_NETDEV))
        s_note_iface(self, r->device);
    if (source_is(r->source, SOURCE_SOCK) || source_is(r->source, SOURCE_ONLOAD))
        s_emit_sock(self, r);
    else
        series_observe(self->series, r);
}

/* Reads and parses one file; true when every line of it was trusted (or
 * the file is off for good, so it can hide no series). */
static bool s_collect_file(snapshot_t *self, int i)
{
    const file_source_t *f = &s_files[i];
    if (self->file_off[i])
        return true;
    ssize_t n = s_read(self, self->procfs, f->path);
    if (n < 0) {
        self->file_off[i] = procfile_failed(self->procfs, f->path, source_name(f->source));
        return false;
    }
    char err[256] = "";
    int problems = f->parse(f, self->buf, (size_t)n, s_emit, self, err, sizeof err);
    if (problems > 0)
        procfile_problems(self->procfs, f->path, problems, err);
    return problems == 0;
}

static void s_collect_netdev(snapshot_t *self)
{
    if (!self->netlink) {
        if (s_collect_file(self, SRC_NETDEV_PROC))
            series_source_ok(self->series, SOURCE_NETDEV);
        return;
    }
    char err[256];
    if (netlink_read_links(self->netlink, s_emit, self, err, sizeof err) == 0)
        series_source_ok(self->series, SOURCE_NETDEV);
    else
        log_limited(LOGL_WARN, "netlink", "collector: %s; retrying next interval", err);
}

/* sock_diag when the kernel grants it; the /proc scan otherwise, from the
 * first refusal on (one log line), and for replayed fixture roots. */
static void s_collect_sockets(snapshot_t *self)
{
    char err[256];
    if (self->sockdiag) {
        int rc = sockdiag_read(self->sockdiag, s_emit, self, NULL, err, sizeof err);
        if (rc == SOCKDIAG_OK) {
            series_source_ok(self->series, SOURCE_SOCK);
            return;
        }
        if (rc == SOCKDIAG_RETRY) {
            log_limited(LOGL_WARN, "sockdiag", "collector: %s; retrying next interval", err);
            return;
        }
        log_warn("collector: %s; reading dropping UDP sockets from %s/net/udp{,6} from now on "
                 "(no TCP sockets, no granted buffer sizes)", err, self->procfs);
        sockdiag_destroy(&self->sockdiag);
        strmap_clear(self->sockets, NULL);
    }
    bool udp_ok = s_collect_file(self, SRC_UDP);
    if (s_collect_file(self, SRC_UDP6) && udp_ok)
        series_source_ok(self->series, SOURCE_SOCK);
}

static void s_collect_qdisc(snapshot_t *self)
{
    char err[256];
    if (!self->qdisc)
        return;
    if (qdisc_read(self->qdisc, s_emit, self, err, sizeof err) == 0)
        series_source_ok(self->series, SOURCE_QDISC);
    else
        log_limited(LOGL_WARN, "qdisc", "collector: %s; retrying next interval", err);
}

/* Onload: at most every STACKDUMP_GAP_NS; between runs its series keep
 * their values (the source is not "read", so nothing of it is gone). */
static void s_collect_onload(snapshot_t *self)
{
    if (self->stackdump && stackdump_collect(self->stackdump, false, s_emit, self) == 1)
        series_source_ok(self->series, SOURCE_ONLOAD);
}

static void s_collect_sysctls(snapshot_t *self)
{
    for (size_t i = 0; i < sysctl_defs_count; i++) {
        const sysctl_def_t *def = &sysctl_defs[i];
        if (self->sysctl_off[i])
            continue;
        ssize_t n = s_read(self, self->procfs, def->path);
        if (n < 0) {
            /* Child network namespaces lack the global ones (docs/COUNTERS.md,
             * Global versus per namespace). */
            if (errno == ENOENT || errno == EACCES || errno == EPERM) {
                log_debug("collector: %s/%s: %s; not reported", self->procfs, def->path,
                          strerror(errno));
                self->sysctl_off[i] = true;
            }
            continue;
        }
        char err[256] = "";
        if (sysctl_parse(self->buf, (size_t)n, def, s_emit, self, err, sizeof err) > 0)
            procfile_problems(self->procfs, def->path, 1, err);
    }
}

/* Live ethtool: a device that does not support a request is skipped from
 * then on; other errors are retried. */
static void s_ethtool_live(snapshot_t *self, iface_t *ifc)
{
    char err[256];
    if (!ifc->stats_off) {
        int rc = ethtool_read_stats(self->ethtool, ifc->name, s_emit, self, err, sizeof err);
        if (rc == -2)
            log_debug("collector: %s; no driver counters for %s", err, ifc->name);
        else if (rc < 0)
            log_limited(LOGL_WARN, ifc->name, "collector: %s; retrying next interval", err);
        ifc->stats_off = rc == -2;
    }
    if (!ifc->ring_off) {
        int rc = ethtool_read_ring(self->ethtool, ifc->name, s_emit, self, err, sizeof err);
        if (rc == -2)
            log_debug("collector: %s; no ring sizes for %s", err, ifc->name);
        ifc->ring_off = rc == -2;
    }
    if (!ifc->channels_off) {
        int rc = ethtool_read_channels(self->ethtool, ifc->name, s_emit, self, err, sizeof err);
        if (rc == -2)
            log_debug("collector: %s; no channel counts for %s", err, ifc->name);
        ifc->channels_off = rc == -2;
    }
}

/* Replayed ethtool dumps: the files that exist are parsed, others skipped. */
static void s_ethtool_replay(snapshot_t *self, iface_t *ifc)
{
    static const char *const files[2] = {"statistics", "ring"};
    for (int f = 0; f < 2; f++) {
        char rel[128];
        snprintf(rel, sizeof rel, "%s/%s", ifc->name, files[f]);
        ssize_t n = s_read(self, self->ethtool_dir, rel);
        if (n < 0)
            continue;
        char err[256] = "";
        int problems = f == 0 ? ethtool_stats_parse(self->buf, (size_t)n, ifc->name, s_emit,
                                                    self, err, sizeof err)
                              : ethtool_ring_parse(self->buf, (size_t)n, ifc->name, s_emit,
                                                   self, err, sizeof err);
        if (problems > 0)
            procfile_problems(self->ethtool_dir, rel, problems, err);
    }
}

static void s_collect_ethtool(snapshot_t *self)
{
    for (size_t i = 0; i < self->nifaces; i++) {
        iface_t *ifc = &self->ifaces[i];
        if (ifc->seen_gen != self->gen || strcmp(ifc->name, "lo") == 0)
            continue;
        if (self->ethtool_dir)
            s_ethtool_replay(self, ifc);
        else if (self->ethtool)
            s_ethtool_live(self, ifc);
    }
}

static void s_source_ok(void *ctx, source_t source)
{
    snapshot_t *self = ctx;
    series_source_ok(self->series, source);
}

typedef struct {
    series_entry_t *e[OWNER_LOOKS];
    uint64_t inode[OWNER_LOOKS];
    size_t n;
} owner_looks_t;

static void s_want_owner(void *ctx, series_entry_t *e)
{
    owner_looks_t *w = ctx;
    if (w->n < OWNER_LOOKS && e->present && e->instance && e->owner_of != e->instance &&
        source_is(e->source, SOURCE_SOCK)) {
        w->e[w->n] = e;
        w->inode[w->n++] = e->instance;
    }
}

/* Names the processes holding dropping sockets not looked up yet: one walk
 * of /proc for all of them, at most every OWNER_LOOK_GAP, as it costs a
 * readlink per open file on the host. */
static void s_find_owners(snapshot_t *self, series_t *series)
{
    int64_t now = ts_mono_ns();
    if (self->owners_mono && now - self->owners_mono < OWNER_LOOK_GAP)
        return;
    owner_looks_t w = {.n = 0};
    series_each(series, s_want_owner, &w);
    if (!w.n)
        return;
    self->owners_mono = now;
    char owner[OWNER_LOOKS][SOCKOWNER_LEN];
    sockowner_find(self->procfs, w.inode, w.n, owner);
    for (size_t i = 0; i < w.n; i++)
        series_set_owner(series, w.e[i], owner[i][0] ? owner[i] : NULL);
}

int64_t snapshot_collect(snapshot_t *self, series_t *series, const reading_t *extra,
                         size_t nextra)
{
    int64_t ts = ts_now_ns();
    self->series = series;
    self->gen++;
    self->last_iface = NULL;
    strmap_clear(self->sockets, NULL);
    s_read_fact(self, "sys/kernel/random/boot_id", self->boot_id, sizeof self->boot_id);
    series_begin(series, self->boot_id);
    s_collect_netdev(self);
    for (int i = SRC_SNMP; i <= SRC_SOFTNET; i++)
        if (s_collect_file(self, i))
            series_source_ok(series, s_files[i].source);
    s_collect_sockets(self);
    s_collect_sysctls(self);
    s_collect_ethtool(self);
    s_collect_qdisc(self);
    s_collect_onload(self);
    irqs_collect(self->irqs, s_emit, self, s_source_ok);
    for (size_t i = 0; i < nextra; i++) {
        series_observe(series, &extra[i]);
        if (i == 0 || strcmp(extra[i].source, extra[i - 1].source) != 0)
            series_source_ok(series, source_from_name(extra[i].source));
    }
    series_end(series);
    s_find_owners(self, series);
    self->series = NULL;
    return ts;
}
