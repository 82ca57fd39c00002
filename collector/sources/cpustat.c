/* cpustat: /proc/stat's cpuN lines. Their fields were only ever appended
 * (iowait, irq and softirq in 2.6.0, steal 2.6.11, guest 2.6.24,
 * guest_nice 2.6.33), so a field's position is its meaning; 7 fields is the
 * oldest line that has softirq. */
#include "cpustat.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "source.h"
#include "textscan.h"

#define TOKEN_SHOWN 40
#define FIELDS_MIN 7  /* up to softirq */
#define FIELDS_TIME 8 /* user .. steal: guest and guest_nice are in user and nice */
#define F_IDLE 3
#define F_IOWAIT 4
#define F_IRQ 5
#define F_SOFTIRQ 6

static void s_emit(reading_fn *emit, void *ctx, const char *device, const char *name, uint64_t v)
{
    reading_t r = {.source = source_name(SOURCE_CPU), .device = device, .name = name, .value = v};
    emit(ctx, &r);
}

/* One cpuN line from line + i (past its label): 0, or -1 after a problem. */
static int s_line(const char *line, size_t n, size_t i, const char *device, unsigned lineno,
                  reading_fn *emit, void *ctx, textscan_problems_t *probs)
{
    uint64_t f[FIELDS_TIME] = {0}, v;
    size_t nf = 0, toklen;
    const char *tok;
    while ((toklen = textscan_next_token(line, n, &i, &tok)) > 0) {
        if (textscan_parse_u64(tok, toklen, &v) != 0) {
            textscan_problem(probs, "line %u: %s field %zu \"%.*s\" is not a count of ticks",
                             lineno, device, nf + 1, textscan_shown(toklen, TOKEN_SHOWN), tok);
            return -1;
        }
        if (nf < FIELDS_TIME)
            f[nf] = v;
        nf++;
    }
    if (nf < FIELDS_MIN) {
        textscan_problem(probs, "line %u: %s has %zu fields; expected at least %d (up to softirq)",
                         lineno, device, nf, FIELDS_MIN);
        return -1;
    }
    uint64_t total = 0;
    for (size_t k = 0; k < FIELDS_TIME; k++)
        total = total + f[k] < total ? UINT64_MAX : total + f[k];
    uint64_t idle = f[F_IDLE] + f[F_IOWAIT] < f[F_IDLE] ? UINT64_MAX : f[F_IDLE] + f[F_IOWAIT];
    s_emit(emit, ctx, device, CPU_SOFTIRQ, f[F_SOFTIRQ]);
    s_emit(emit, ctx, device, CPU_IRQ, f[F_IRQ]);
    s_emit(emit, ctx, device, CPU_BUSY, total > idle ? total - idle : 0);
    s_emit(emit, ctx, device, CPU_TOTAL, total);
    return 0;
}

int cpustat_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    textscan_problems_t probs;
    size_t pos = 0, n;
    unsigned lineno = 0;
    const char *line;
    textscan_problems_init(&probs, err, errsz);
    while (textscan_next_line(buf, len, &pos, &line, &n)) {
        size_t i = 0;
        const char *tok;
        uint64_t cpu;
        lineno++;
        size_t toklen = textscan_next_token(line, n, &i, &tok);
        if (toklen <= 3 || memcmp(tok, "cpu", 3) != 0)
            continue; /* "cpu" (the total), intr, ctxt, btime, processes, ... */
        if (textscan_parse_u64(tok + 3, toklen - 3, &cpu) != 0 || cpu > UINT32_MAX) {
            textscan_problem(&probs, "line %u: \"%.*s\" is not cpuN", lineno,
                             textscan_shown(toklen, TOKEN_SHOWN), tok);
            continue;
        }
        char device[16];
        snprintf(device, sizeof device, "cpu%u", (unsigned)cpu);
        s_line(line, n, i, device, lineno, emit, ctx, &probs);
    }
    return probs.count;
}
