/* irq: /proc/interrupts, /proc/softirqs and the RPS/XPS masks. Both proc
 * files are a table: a header naming the online CPUs ("CPU0 CPU1 ..." in
 * columns; an offline CPU has none, so a column is keyed by the id its
 * header names, never by its position), then a labelled row of u32 counts
 * (%10u) per CPU. /proc/interrupts adds, after the counts, the chip, the
 * hardware IRQ and trigger, and the actions, in a layout that changed
 * across kernels ("PCI-MSI-edge" in one token on 2.6, "IR-PCI-MSI
 * 1572864-edge" later); its architecture rows (NMI, LOC, ...; ERR and MIS
 * with one column) are not IRQ lines. Workload: a 128-CPU host with 64
 * queues has ~200 rows of 128 columns, read once an interval; most counts
 * are 0 (an IRQ line is served by one CPU at a time), and only non-zero
 * counts are emitted. */
#include "irq.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "source.h"
#include "text.h"
#include "textscan.h"

#define TOKEN_SHOWN 40  /* longest token quoted in an error message */
#define MASK_GROUPS 256 /* 32-bit groups of an 8192-CPU mask */

typedef struct {
    uint16_t id[IRQ_MAX_CPUS]; /* the CPU id of each column */
    size_t n;                  /* columns */
} cpus_t;

/* textscan_is_space, inlined: the counts' padding is most of a wide row */
static inline bool s_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int s_shown(size_t n)
{
    return textscan_shown(n, TOKEN_SHOWN);
}

/* Reads the header's "CPUn" columns into cpus. 0, or -1 after a problem. */
static int s_header(const char *line, size_t n, unsigned lineno, cpus_t *cpus,
                    textscan_problems_t *probs)
{
    size_t i = 0, toklen;
    const char *tok;
    cpus->n = 0;
    while ((toklen = textscan_next_token(line, n, &i, &tok)) > 0) {
        uint64_t id;
        if (toklen < 4 || memcmp(tok, "CPU", 3) != 0 ||
            textscan_parse_u64(tok + 3, toklen - 3, &id) != 0 || id >= IRQ_MAX_CPUS) {
            textscan_problem(probs, "line %u: header column %zu \"%.*s\" is not CPU0..CPU%d",
                             lineno, cpus->n + 1, s_shown(toklen), tok, IRQ_MAX_CPUS - 1);
            return -1;
        }
        if (cpus->n == IRQ_MAX_CPUS) {
            textscan_problem(probs, "line %u: more than %d CPU columns", lineno, IRQ_MAX_CPUS);
            return -1;
        }
        cpus->id[cpus->n++] = (uint16_t)id;
    }
    if (cpus->n == 0) {
        textscan_problem(probs, "line %u: the header names no CPU", lineno);
        return -1;
    }
    return 0;
}

/* Reads one u32 count per CPU column from line + *i into vals. 0, or -1
 * after a problem. */
static int s_counts(const char *line, size_t n, size_t *i, const cpus_t *cpus, uint32_t *vals,
                    unsigned lineno, textscan_problems_t *probs)
{
    size_t k = *i;
    for (size_t c = 0; c < cpus->n; c++) {
        /* Inline, not textscan_next_token: a 128-CPU row is 1.4 KB of
         * mostly padding, read for every NIC line (half the parse's time). */
        while (k < n && s_space(line[k]))
            k++;
        size_t start = k;
        uint64_t v = 0;
        while (k < n && line[k] >= '0' && line[k] <= '9' && k - start < 11)
            v = v * 10 + (uint64_t)(line[k++] - '0');
        if (k == start || k - start > 10 || v > UINT32_MAX || (k < n && !s_space(line[k]))) {
            const char *tok;
            size_t toklen = textscan_next_token(line, n, &start, &tok);
            if (toklen == 0)
                textscan_problem(probs, "line %u: %zu counts, but the header names %zu CPUs",
                                 lineno, c, cpus->n);
            else
                textscan_problem(probs, "line %u: CPU%u's count \"%.*s\" is not a u32", lineno,
                                 (unsigned)cpus->id[c], s_shown(toklen), tok);
            return -1;
        }
        vals[c] = (uint32_t)v;
    }
    *i = k;
    return 0;
}

/* The row's label ("24:", "NMI:", "NET_RX:") without its colon; false
 * after a problem (a row without one). */
static bool s_label(const char *line, size_t n, size_t *i, unsigned lineno, const char **label,
                    size_t *labellen, textscan_problems_t *probs)
{
    size_t toklen = textscan_next_token(line, n, i, label);
    if (toklen < 2 || (*label)[toklen - 1] != ':') {
        textscan_problem(probs, "line %u: \"%.*s\" is not a row label (\"NAME:\")", lineno,
                         s_shown(toklen), *label);
        return false;
    }
    *labellen = toklen - 1;
    return true;
}

static bool s_is_word(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
              (s[k] >= '0' && s[k] <= '9') || s[k] == '_'))
            return false;
    return n > 0;
}

/* Whether [p, p + n) starts with s followed by sep. */
static bool s_starts(const char *p, size_t n, const char *s, char sep)
{
    size_t sl = strlen(s);
    return sl && n > sl + 1 && memcmp(p, s, sl) == 0 && p[sl] == sep;
}

/* Whether action a (n bytes) is named after nic; *q and *qn get the
 * queue's part of the name. The drivers' conventions: virtio_net
 * "virtio2-input.0" (its device), ixgbe and bnxt "eth0-TxRx-0", i40e and
 * ice "i40e-eth0-TxRx-0", mlx5 "mlx5_comp3@pci:0000:3b:00.0" (its PCI
 * function). */
static bool s_named(const irq_nic_t *nic, const char *a, size_t n, const char **q, size_t *qn)
{
    size_t il = strlen(nic->iface), dl = strlen(nic->dev);
    const char *dash = memchr(a, '-', n), *at = memchr(a, '@', n);
    const char *after = NULL;
    if (s_starts(a, n, nic->dev, '-'))
        after = a + dl + 1;
    else if (s_starts(a, n, nic->iface, '-'))
        after = a + il + 1;
    else if (dash && s_is_word(a, (size_t)(dash - a)) &&
             s_starts(dash + 1, (size_t)(a + n - dash - 1), nic->iface, '-'))
        after = dash + 1 + il + 1;
    if (after) {
        *q = after;
        *qn = (size_t)(a + n - after);
        return true;
    }
    if (dl && at && at > a && (size_t)(a + n - at) == 5 + dl && memcmp(at, "@pci:", 5) == 0 &&
        memcmp(at + 5, nic->dev, dl) == 0) {
        *q = a;
        *qn = (size_t)(at - a);
        return true;
    }
    return false;
}

/* The token before *end in s (blanks skipped): its length, 0 when none;
 * *end moves to its start. */
static size_t s_prev_token(const char *s, size_t *end, const char **tok)
{
    size_t k = *end;
    while (k > 0 && textscan_is_space(s[k - 1]))
        k--;
    size_t stop = k;
    while (k > 0 && !textscan_is_space(s[k - 1]))
        k--;
    *tok = s + k;
    *end = k;
    return stop - k;
}

/* The interface an IRQ line belongs to (an index into map->nics), with
 * "IFACE:QUEUE" in device; false when it belongs to none. The actions end
 * the row, joined by ", ", so they are read from the end: the last token,
 * and each before it that ends with a comma. A row of another device is
 * so told without reading its counts (most rows of a big host are). */
static bool s_owner(const irq_map_t *map, unsigned irq, const char *line, size_t n, char *device,
                    size_t size)
{
    size_t msi_nic = SIZE_MAX, toklen, end = n;
    for (size_t k = 0; k < map->nmsi; k++)
        if (map->msi[k].irq == irq && map->msi[k].nic < map->nnics)
            msi_nic = map->msi[k].nic;
    const char *tok, *last = NULL, *q = NULL;
    size_t lastlen = 0, qn = 0, nic = SIZE_MAX;
    while (nic == SIZE_MAX && (toklen = s_prev_token(line, &end, &tok)) > 0) {
        bool listed = tok[toklen - 1] == ','; /* an action before another */
        if (last && !listed)
            break; /* the chip's tokens: the actions are behind */
        toklen -= listed;
        if (!last) {
            last = tok;
            lastlen = toklen;
        }
        for (size_t k = 0; k < map->nnics && nic == SIZE_MAX; k++)
            if ((msi_nic == SIZE_MAX || msi_nic == k) &&
                s_named(&map->nics[k], tok, toklen, &q, &qn))
                nic = k;
    }
    if (nic == SIZE_MAX && msi_nic != SIZE_MAX && lastlen) {
        nic = msi_nic; /* listed in its msi_irqs, named otherwise: the action is the queue */
        q = last;
        qn = lastlen;
    }
    if (nic == SIZE_MAX || qn == 0)
        return false;
    char raw[256];
    snprintf(raw, sizeof raw, "%s:%.*s", map->nics[nic].iface, (int)(qn < 200 ? qn : 200), q);
    text_escape_name(raw, device, size);
    return true;
}

/* A CPU table being read: the header's columns, then one row at a time. */
typedef struct {
    const char *buf;
    size_t len, pos;
    unsigned lineno;
    bool header;                 /* the header has been read */
    cpus_t cpus;                 /* its columns */
    uint32_t vals[IRQ_MAX_CPUS]; /* the counts of the row in hand (s_counts) */
    textscan_problems_t probs;
    const char *line;  /* the row in hand */
    size_t n, i;       /* its length, and the index past its label */
    const char *label; /* its label without the colon */
    size_t labellen;
} table_t;

static void s_table_init(table_t *t, const char *buf, size_t len, char *err, size_t errsz)
{
    t->buf = buf;
    t->len = len;
    t->pos = 0;
    t->lineno = 0;
    t->header = false;
    t->cpus.n = 0;
    textscan_problems_init(&t->probs, err, errsz);
}

/* The next labelled row into t (blank lines skipped, the header read
 * first); false at the end, or after a bad header (without the columns no
 * row can be read). */
static bool s_table_row(table_t *t)
{
    while (textscan_next_line(t->buf, t->len, &t->pos, &t->line, &t->n)) {
        t->lineno++;
        t->i = 0;
        const char *tok;
        size_t k = 0;
        if (textscan_next_token(t->line, t->n, &k, &tok) == 0)
            continue; /* blank */
        if (!t->header) {
            if (s_header(t->line, t->n, t->lineno, &t->cpus, &t->probs) != 0)
                return false;
            t->header = true;
            continue;
        }
        if (s_label(t->line, t->n, &t->i, t->lineno, &t->label, &t->labellen, &t->probs))
            return true;
    }
    return false;
}

/* The row's counts into t->vals: 0, or -1 after a problem. */
static int s_table_counts(table_t *t)
{
    return s_counts(t->line, t->n, &t->i, &t->cpus, t->vals, t->lineno, &t->probs);
}

/* Emits the row's count in column c, under device/name, where the NULL
 * one of the two is the column's CPU ("cpuN"). */
static void s_emit_cpu(const table_t *t, size_t c, source_t source, const char *device,
                       const char *name, reading_fn *emit, void *ctx)
{
    char cpu[16];
    snprintf(cpu, sizeof cpu, "cpu%u", (unsigned)t->cpus.id[c]);
    reading_t r = {.source = source_name(source),
                   .device = device ? device : cpu,
                   .name = name ? name : cpu,
                   .value = t->vals[c]};
    emit(ctx, &r);
}

int irq_interrupts_parse(const char *buf, size_t len, const irq_map_t *map, reading_fn *emit,
                         void *ctx, char *err, size_t errsz)
{
    static const irq_map_t none = {NULL, 0, NULL, 0};
    table_t t;
    s_table_init(&t, buf, len, err, errsz);
    map = map ? map : &none;
    while (s_table_row(&t)) {
        uint64_t irq;
        char device[128];
        if (textscan_parse_u64(t.label, t.labellen, &irq) != 0 || irq > UINT32_MAX)
            continue; /* NMI, LOC, ERR, MIS, ...: the architecture's counters */
        if (!s_owner(map, (unsigned)irq, t.line, t.n, device, sizeof device) ||
            s_table_counts(&t) != 0)
            continue;
        for (size_t c = 0; c < t.cpus.n; c++)
            if (t.vals[c])
                s_emit_cpu(&t, c, SOURCE_IRQ, device, NULL, emit, ctx);
    }
    return t.probs.count;
}

int irq_softirqs_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err,
                       size_t errsz)
{
    table_t t;
    s_table_init(&t, buf, len, err, errsz);
    while (s_table_row(&t)) {
        const char *name;
        if (t.labellen == 6 && memcmp(t.label, "NET_RX", 6) == 0)
            name = CPU_NET_RX;
        else if (t.labellen == 6 && memcmp(t.label, "NET_TX", 6) == 0)
            name = CPU_NET_TX;
        else
            continue;
        if (s_table_counts(&t) != 0)
            continue;
        for (size_t c = 0; c < t.cpus.n; c++)
            s_emit_cpu(&t, c, SOURCE_CPU, NULL, name, emit, ctx);
    }
    return t.probs.count;
}

int irq_mask_parse(const char *buf, size_t len, const char *source, const char *device,
                   reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    textscan_problems_t probs;
    textscan_problems_init(&probs, err, errsz);
    const char *s = buf;
    size_t n = len, ngroups = 0, start = 0;
    uint32_t groups[MASK_GROUPS];
    textscan_trim(&s, &n);
    for (size_t k = 0; k <= n; k++) {
        if (k < n && s[k] != ',')
            continue;
        if (ngroups == MASK_GROUPS ||
            textscan_parse_hex32(s + start, k - start, 8, &groups[ngroups]) != 0) {
            textscan_problem(&probs,
                             "\"%.*s\" is not a CPU mask (up to %d groups of 1-8 hex "
                             "digits, separated by commas)",
                             s_shown(n), s, MASK_GROUPS);
            return probs.count;
        }
        ngroups++;
        start = k + 1;
    }
    uint64_t cpus = 0, mask = 0;
    bool fits = true;
    for (size_t g = 0; g < ngroups; g++) {
        size_t from_low = ngroups - 1 - g; /* the last group holds CPUs 0-31 */
        cpus += (uint64_t)__builtin_popcount(groups[g]);
        if (from_low >= 2 && groups[g])
            fits = false;
        else if (from_low < 2)
            mask |= (uint64_t)groups[g] << (32 * from_low);
    }
    fits = fits && mask <= (uint64_t)INT64_MAX;
    reading_t r = {.source = source, .device = device, .name = "cpus", .value = cpus};
    emit(ctx, &r);
    if (fits) {
        r.name = "mask";
        r.value = mask;
        emit(ctx, &r);
    }
    return probs.count;
}
