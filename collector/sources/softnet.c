/* softnet: parser for /proc/net/softnet_stat, printed by softnet_seq_show()
 * in net/core/net-procfs.c: one line per ONLINE CPU, every field "%08x" of a
 * u32. Columns were only ever appended, so the column count tells what each
 * one means: 9 up to 2.6.34, 10 from 2.6.35, 11 from 3.11, 13 from 5.10 (and
 * RHEL 8.5 backports), 15 from about 6.4. The kernel version is never used. */
#include "softnet.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "source.h"
#include "textscan.h"

#define SOFTNET_KNOWN_COLS 15 /* columns whose meaning we know (6.18) */
#define SOFTNET_CPU_COL 13    /* 1-based column of the CPU id, from 5.10 */
#define SOFTNET_COLLISION_COL 9
#define SOFTNET_FIELD_DIGITS 8 /* "%08x" of a u32: never more */
#define TOKEN_SHOWN 40         /* longest token quoted in an error message */

/* Meaning of columns 1..15 (index 0..14); NULL = never emitted. Columns 4-8
 * held fastroute counters long gone; column 9 was cpu_collision until 5.10
 * and is kept only for 9/10/11-column lines; column 13 is the CPU id. */
static const char *const s_names[SOFTNET_KNOWN_COLS] = {
    "processed",    /* 1: skbs through __netif_receive_skb_core */
    "dropped",      /* 2: enqueue_to_backlog over netdev_max_backlog */
    "time_squeeze", /* 3: net_rx_action out of budget or time */
    NULL,           /* 4-8: fastroute counters, long gone */
    NULL,
    NULL,
    NULL,
    NULL,
    "cpu_collision",    /* 9: see above */
    "received_rps",     /* 10: RPS IPIs received (wake-ups, not packets) */
    "flow_limit_count", /* 11: flow-limit drops, a subset of dropped */
    "backlog_len",      /* 12: gauge, backlog length when read */
    NULL,               /* 13: CPU id, used as the device */
    "input_qlen",       /* 14: gauge */
    "process_qlen",     /* 15: gauge */
};

static int s_shown(size_t n)
{
    return textscan_shown(n, TOKEN_SHOWN);
}

static bool s_count_known(size_t ncols)
{
    return ncols == 9 || ncols == 10 || ncols == 11 || ncols == 13 || ncols >= 15;
}

/* Reads every field of a line into vals (the first SOFTNET_KNOWN_COLS) and
 * returns the column count, or 0 after recording a bad field. */
static size_t s_read_fields(const char *line, size_t n, unsigned lineno, uint32_t *vals,
                            textscan_problems_t *probs)
{
    size_t i = 0, ncols = 0, toklen;
    const char *tok;
    while ((toklen = textscan_next_token(line, n, &i, &tok)) > 0) {
        uint32_t v;
        if (textscan_parse_hex32(tok, toklen, SOFTNET_FIELD_DIGITS, &v) != 0) {
            textscan_problem(probs, "line %u: field %zu \"%.*s\" is not 1-8 hex digits", lineno,
                             ncols + 1, s_shown(toklen), tok);
            return 0;
        }
        if (ncols < SOFTNET_KNOWN_COLS)
            vals[ncols] = v;
        ncols++;
    }
    return ncols;
}

/* Emits the known columns of one valid line. Old kernels (< 13 columns) give
 * no CPU id, and they skip offline CPUs too, so the line index is then the
 * best guess at the CPU and is wrong after a CPU went offline. */
static void s_emit_line(const uint32_t *vals, size_t ncols, unsigned index, reading_fn *emit,
                        void *ctx)
{
    char device[24];
    unsigned cpu = ncols >= SOFTNET_CPU_COL ? vals[SOFTNET_CPU_COL - 1] : index;
    snprintf(device, sizeof device, "cpu%u", cpu);
    size_t known = ncols < SOFTNET_KNOWN_COLS ? ncols : SOFTNET_KNOWN_COLS;
    for (size_t k = 0; k < known; k++) {
        if (!s_names[k] || (k + 1 == SOFTNET_COLLISION_COL && ncols >= SOFTNET_CPU_COL))
            continue;
        reading_t r = {.source = source_name(SOURCE_SOFTNET),
                       .device = device,
                       .name = s_names[k],
                       .value = vals[k]};
        emit(ctx, &r);
    }
}

int softnet_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    textscan_problems_t probs;
    size_t pos = 0, n, first_ncols = 0;
    unsigned lineno = 0;
    const char *line;
    textscan_problems_init(&probs, err, errsz);
    while (textscan_next_line(buf, len, &pos, &line, &n)) {
        uint32_t vals[SOFTNET_KNOWN_COLS];
        size_t i = 0;
        const char *tok;
        lineno++;
        if (textscan_next_token(line, n, &i, &tok) == 0)
            continue; /* blank */
        size_t ncols = s_read_fields(line, n, lineno, vals, &probs);
        if (ncols == 0)
            continue;
        if (first_ncols == 0)
            first_ncols = ncols;
        if (!s_count_known(ncols)) {
            textscan_problem(&probs, "line %u: %zu columns; expected 9, 10, 11, 13, or 15 and more",
                             lineno, ncols);
        } else if (ncols != first_ncols) {
            textscan_problem(&probs, "line %u: %zu columns, but the first line has %zu", lineno,
                             ncols, first_ncols);
        } else {
            s_emit_line(vals, ncols, lineno - 1, emit, ctx);
        }
    }
    return probs.count;
}
