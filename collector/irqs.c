/* irqs: the IRQ and CPU sources of the snapshot. The parsers (irq.c,
 * cpustat.c) emit a NIC line's count per CPU; this module reduces them to
 * two series a line, so that a 128-CPU host with 64 queues reports 128
 * series for its lines instead of 8,192 (docs/ARCHITECTURE.md, Series).
 * Assumes one call per interval from one thread. The sysfs map (which IRQ
 * lines and queues belong to which NIC) and the masks are read again every
 * RESCAN_NS: interfaces and their queues rarely change, and a 64-queue
 * NIC has 128 mask files (a few microseconds each). */
#define _GNU_SOURCE
#include "irqs.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpustat.h"
#include "grow.h"
#include "irq.h"
#include "log.h"
#include "procfile.h"
#include "ts.h"

#define MAX_NICS 64    /* interfaces with a device whose IRQ lines are looked for */
#define MAX_LINES 4096 /* NIC IRQ lines followed (64 NICs of 64 queues) */
#define RESCAN_NS (10 * TS_NS_PER_S)

enum { F_INTERRUPTS, F_SOFTIRQS, F_STAT, NFILES };

static const char *const s_paths[NFILES] = {"interrupts", "softirqs", "stat"};

/* A NIC IRQ line: its non-zero counts at the previous read. */
typedef struct {
    char device[128]; /* "IFACE:QUEUE" */
    uint16_t *cpu;    /* CPU ids, in the header's order */
    uint32_t *count;  /* their counts */
    size_t n, cpucap, countcap;
    int served;   /* the CPU that served it last; -1 none yet */
    uint64_t gen; /* the last collect that listed it */
} line_t;

struct irqs {
    char *procfs, *sysfs;     /* owned copies of the roots */
    bool off[NFILES];         /* files turned off for good */
    bool sysfs_off;           /* class/net unreadable: no NIC is known */
    irq_nic_t nics[MAX_NICS]; /* interfaces with a device */
    size_t nnics;
    irq_msi_t *msi; /* their msi_irqs */
    size_t nmsi, msicap;
    int64_t scan_mono; /* when sysfs was last read; 0 never */
    line_t *lines;     /* the lines seen, in no order */
    size_t nlines, linecap;
    line_t *cur;                    /* the line whose counts arrive now; NULL none */
    uint16_t now_cpu[IRQ_MAX_CPUS]; /* the current line's counts this read */
    uint32_t now_count[IRQ_MAX_CPUS];
    size_t nnow;
    uint64_t gen;
    reading_fn *emit; /* the caller's, during a collect */
    void *ctx;
    char *buf; /* file read buffer */
    size_t bufcap;
};

irqs_t *irqs_new(const char *procfs, const char *sysfs)
{
    irqs_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->procfs = strdup(procfs);
    self->sysfs = strdup(sysfs);
    if (!self->procfs || !self->sysfs)
        irqs_destroy(&self);
    return self;
}

void irqs_destroy(irqs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    irqs_t *self = *self_p;
    for (size_t i = 0; i < self->nlines; i++) {
        free(self->lines[i].cpu);
        free(self->lines[i].count);
    }
    free(self->lines);
    free(self->msi);
    free(self->procfs);
    free(self->sysfs);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

/* --- the sysfs map --------------------------------------------------------- */

/* Adds the IRQ numbers listed in directory rel (msi_irqs) for nic. */
static bool s_scan_msi(irqs_t *self, const char *rel, size_t nic)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", self->sysfs, rel);
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        unsigned long irq = strtoul(de->d_name, &end, 10);
        if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || irq > UINT32_MAX)
            continue;
        irq_msi_t *m = grow(self->msi, self->nmsi + 1, &self->msicap, sizeof *m, 64);
        if (!m)
            break;
        self->msi = m;
        self->msi[self->nmsi++] = (irq_msi_t){(unsigned)irq, nic};
    }
    closedir(d);
    return true;
}

/* The interfaces with a device (a NIC; virtual ones have no IRQ line), the
 * name of that device, and its msi_irqs (a virtio device's are its PCI
 * function's, one level up). */
static void s_scan(irqs_t *self)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/class/net", self->sysfs);
    DIR *d = opendir(path);
    self->nnics = self->nmsi = 0;
    if (!d) {
        if (!self->sysfs_off)
            log_info("collector: cannot list %s: %s; interrupt lines are not mapped to "
                     "interfaces, RPS/XPS masks are off",
                     path, strerror(errno));
        self->sysfs_off = true;
        return;
    }
    self->sysfs_off = false; /* listed again: the masks are read and retired again */
    struct dirent *de;
    while ((de = readdir(d))) {
        if (self->nnics == MAX_NICS) {
            log_limited(LOGL_INFO, "irqs:nics",
                        "collector: more than %d network devices in %s/class/net; the "
                        "interrupt lines of the others are not mapped",
                        MAX_NICS, self->sysfs);
            break;
        }
        char rel[512], link[256];
        if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof self->nics[0].iface)
            continue;
        snprintf(path, sizeof path, "%s/class/net/%s/device", self->sysfs, de->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        irq_nic_t *nic = &self->nics[self->nnics];
        const char *base = strrchr(link, '/');
        snprintf(nic->iface, sizeof nic->iface, "%s", de->d_name);
        snprintf(nic->dev, sizeof nic->dev, "%.63s", base ? base + 1 : link);
        snprintf(rel, sizeof rel, "class/net/%s/device/msi_irqs", de->d_name);
        if (!s_scan_msi(self, rel, self->nnics) && strncmp(nic->dev, "virtio", 6) == 0) {
            snprintf(rel, sizeof rel, "class/net/%s/device/../msi_irqs", de->d_name);
            s_scan_msi(self, rel, self->nnics);
        }
        self->nnics++;
    }
    closedir(d);
}

/* --- interrupt lines ------------------------------------------------------- */

static line_t *s_line(irqs_t *self, const char *device)
{
    for (size_t i = 0; i < self->nlines; i++)
        if (strcmp(self->lines[i].device, device) == 0)
            return &self->lines[i];
    if (self->nlines == MAX_LINES)
        return NULL;
    line_t *l = grow(self->lines, self->nlines + 1, &self->linecap, sizeof *l, 64);
    if (!l)
        return NULL;
    self->lines = l;
    l += self->nlines++;
    *l = (line_t){.served = -1};
    snprintf(l->device, sizeof l->device, "%s", device);
    return l;
}

/* The previous count of line l on cpu (0 when it had none). */
static uint32_t s_before(const line_t *l, uint16_t cpu)
{
    for (size_t k = 0; k < l->n; k++)
        if (l->cpu[k] == cpu)
            return l->count[k];
    return 0;
}

/* Emits the current line's interrupts and serving CPU, and keeps its
 * counts for the next read. */
static void s_finish(irqs_t *self)
{
    line_t *l = self->cur;
    if (!l)
        return;
    self->cur = NULL;
    uint32_t sum = 0, best = 0; /* the kernel's counts are u32: so is their sum */
    int best_cpu = -1;
    for (size_t k = 0; k < self->nnow; k++) {
        uint32_t grew = self->now_count[k] - s_before(l, self->now_cpu[k]); /* wraps too */
        sum += self->now_count[k];
        if (grew > best) {
            best = grew;
            best_cpu = self->now_cpu[k];
        }
    }
    if (best_cpu >= 0)
        l->served = best_cpu;
    uint16_t *cpu = grow(l->cpu, self->nnow, &l->cpucap, sizeof *cpu, 4);
    if (cpu)
        l->cpu = cpu;
    uint32_t *count = cpu ? grow(l->count, self->nnow, &l->countcap, sizeof *count, 4) : NULL;
    if (count) { /* else the next read compares with older counts: still increases */
        l->count = count;
        memcpy(l->cpu, self->now_cpu, self->nnow * sizeof *cpu);
        memcpy(l->count, self->now_count, self->nnow * sizeof *count);
        l->n = self->nnow;
    }
    reading_t r = {.source = source_name(SOURCE_IRQ),
                   .device = l->device,
                   .name = IRQ_INTERRUPTS,
                   .value = sum};
    self->emit(self->ctx, &r);
    if (l->served >= 0) {
        r.name = IRQ_CPU;
        r.value = (uint64_t)l->served;
        self->emit(self->ctx, &r);
    }
}

/* A line's count on one CPU, from irq_interrupts_parse (device "IFACE:QUEUE",
 * name "cpuN"): gathered until the next line's first count. */
static void s_count(void *ctx, const reading_t *r)
{
    irqs_t *self = ctx;
    if (!self->cur || strcmp(self->cur->device, r->device) != 0) {
        s_finish(self);
        if (!(self->cur = s_line(self, r->device)))
            return;
        self->cur->gen = self->gen;
        self->nnow = 0;
    }
    unsigned long cpu = strtoul(r->name + 3, NULL, 10);
    if (self->nnow < IRQ_MAX_CPUS && cpu < IRQ_MAX_CPUS) {
        self->now_cpu[self->nnow] = (uint16_t)cpu;
        self->now_count[self->nnow++] = (uint32_t)r->value;
    }
}

/* Forgets the lines the last read did not list (an interface removed). */
static void s_forget(irqs_t *self)
{
    for (size_t i = 0; i < self->nlines;) {
        line_t *l = &self->lines[i];
        if (l->gen == self->gen) {
            i++;
            continue;
        }
        free(l->cpu);
        free(l->count);
        *l = self->lines[--self->nlines];
    }
}

/* --- the files ------------------------------------------------------------- */

/* Reads and parses procfs file f; true when read completely. */
static bool s_file(irqs_t *self, int f)
{
    if (self->off[f])
        return false;
    ssize_t n = procfile_read(self->procfs, s_paths[f], &self->buf, &self->bufcap);
    if (n < 0) {
        self->off[f] = procfile_failed(self->procfs, s_paths[f], f == F_INTERRUPTS ? "irq" : "cpu");
        return false;
    }
    char err[256] = "";
    int problems = 0;
    if (f == F_INTERRUPTS) {
        irq_map_t map = {self->nics, self->nnics, self->msi, self->nmsi};
        problems = irq_interrupts_parse(self->buf, (size_t)n, &map, s_count, self, err, sizeof err);
        s_finish(self);
        s_forget(self);
    } else if (f == F_SOFTIRQS) {
        problems = irq_softirqs_parse(self->buf, (size_t)n, self->emit, self->ctx, err, sizeof err);
    } else {
        problems = cpustat_parse(self->buf, (size_t)n, self->emit, self->ctx, err, sizeof err);
    }
    if (problems > 0)
        procfile_problems(self->procfs, s_paths[f], problems, err);
    return problems == 0;
}

/* The rps_cpus or xps_cpus of each rx-N or tx-N queue of nic. */
static void s_masks(irqs_t *self, const irq_nic_t *nic)
{
    char rel[512];
    snprintf(rel, sizeof rel, "%s/class/net/%s/queues", self->sysfs, nic->iface);
    DIR *d = opendir(rel);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        bool rx = strncmp(de->d_name, "rx-", 3) == 0;
        if (!rx && strncmp(de->d_name, "tx-", 3) != 0)
            continue;
        snprintf(rel, sizeof rel, "class/net/%s/queues/%s/%s", nic->iface, de->d_name,
                 rx ? "rps_cpus" : "xps_cpus");
        ssize_t n = procfile_read(self->sysfs, rel, &self->buf, &self->bufcap);
        if (n < 0)
            continue; /* xps_cpus is absent on a single-queue device, rps_cpus without RPS */
        char device[128], err[256];
        snprintf(device, sizeof device, "%s:%.64s", nic->iface, de->d_name);
        const char *src = source_name(rx ? SOURCE_RPS : SOURCE_XPS);
        if (irq_mask_parse(self->buf, (size_t)n, src, device, self->emit, self->ctx, err,
                           sizeof err) > 0)
            procfile_problems(self->sysfs, rel, 1, err);
    }
    closedir(d);
}

void irqs_collect(irqs_t *self, reading_fn *emit, void *ctx, void (*ok)(void *ctx, source_t source))
{
    int64_t now = ts_mono_ns();
    bool rescan = !self->scan_mono || now - self->scan_mono >= RESCAN_NS;
    self->emit = emit;
    self->ctx = ctx;
    self->gen++;
    if (rescan) {
        self->scan_mono = now;
        s_scan(self);
        for (size_t i = 0; i < self->nnics; i++)
            s_masks(self, &self->nics[i]);
        if (!self->sysfs_off) {
            ok(ctx, SOURCE_RPS);
            ok(ctx, SOURCE_XPS);
        }
    }
    if (s_file(self, F_INTERRUPTS))
        ok(ctx, SOURCE_IRQ);
    bool softirqs = s_file(self, F_SOFTIRQS);
    if (s_file(self, F_STAT) && softirqs)
        ok(ctx, SOURCE_CPU);
    self->emit = NULL;
    self->ctx = NULL;
}
