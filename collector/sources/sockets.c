/* sockets: parser for /proc/net/{udp,udp6,raw,raw6}, printed by
 * udp4_format_sock() / udp6_sock_seq_show() and their raw twins. Columns:
 *   sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt
 *   uid timeout inode ref pointer [drops]
 * Addresses are "%08X" of a __be32 read as a native u32 (four such words for
 * IPv6), ports "%04X", queues "%08X", uid, inode and drops decimal. The
 * header of 2.6.x names no drops column (and stops at "inode" while the rows
 * go on), so only the header decides whether the last column is drops. */
#define _GNU_SOURCE
#include "sockets.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "source.h"
#include "textscan.h"

#define COL_LOCAL 1 /* 0-based token indexes of a row */
#define COL_QUEUES 4
#define COL_UID 7
#define COL_INODE 9
#define COLS_MIN 10        /* up to inode */
#define COLS_WITH_DROPS 13 /* up to drops */
#define TOKEN_SHOWN 48     /* longest token quoted in an error message */

typedef struct {
    char device[96]; /* "udp6:[ffff:...]:65535" */
    uint64_t rx_queue;
    uint64_t inode;
    uint64_t drops;
} sock_row_t;

static int s_shown(size_t n)
{
    return textscan_shown(n, TOKEN_SHOWN);
}

/* Parses "HEX:HEX", 1-8 digits on each side (tx_queue:rx_queue). */
static int s_parse_hexpair(const char *s, size_t n, uint32_t *hi, uint32_t *lo)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return -1;
    size_t hn = (size_t)(colon - s);
    return textscan_parse_hex32(s, hn, 8, hi) == 0 &&
                   textscan_parse_hex32(colon + 1, n - hn - 1, 8, lo) == 0
               ? 0
               : -1;
}

/* Decodes "ADDR:PORT" into "proto:a.b.c.d:port" or "proto:[v6]:port". */
static int s_format_local(const char *s, size_t n, const char *proto, char *out, size_t outsz)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return -1;
    size_t an = (size_t)(colon - s);
    uint32_t port, words[4];
    unsigned char addr[16];
    char text[INET6_ADDRSTRLEN];
    if (textscan_parse_hex32(colon + 1, n - an - 1, 4, &port) != 0 || (an != 8 && an != 32))
        return -1;
    for (size_t w = 0; w < an / 8; w++)
        if (textscan_parse_hex32(s + 8 * w, 8, 8, &words[w]) != 0)
            return -1;
    /* each word is a native u32 of the address bytes: copy it back as is */
    memcpy(addr, words, an / 2);
    int family = an == 8 ? AF_INET : AF_INET6;
    if (!inet_ntop(family, addr, text, sizeof text))
        return -1;
    int w = family == AF_INET ? snprintf(out, outsz, "%s:%s:%u", proto, text, port)
                              : snprintf(out, outsz, "%s:[%s]:%u", proto, text, port);
    return w < 0 || (size_t)w >= outsz ? -1 : 0;
}

/* Splits a row into its first COLS_WITH_DROPS tokens and its last one;
 * returns the token count. */
static size_t s_split_row(const char *line, size_t n, const char **tok, size_t *toklen,
                          const char **last, size_t *lastlen)
{
    size_t ntok = 0, i = 0, tl;
    const char *t;
    while ((tl = textscan_next_token(line, n, &i, &t)) > 0) {
        if (ntok < COLS_WITH_DROPS) {
            tok[ntok] = t;
            toklen[ntok] = tl;
        }
        *last = t;
        *lastlen = tl;
        ntok++;
    }
    return ntok;
}

/* Parses one row into *row. Returns 0, or -1 after recording the problem. */
static int s_parse_row(const char *line, size_t n, unsigned lineno, bool has_drops,
                       const char *proto, sock_row_t *row, textscan_problems_t *probs)
{
    const char *tok[COLS_WITH_DROPS], *last = NULL, *what = NULL;
    size_t toklen[COLS_WITH_DROPS], lastlen = 0;
    size_t ntok = s_split_row(line, n, tok, toklen, &last, &lastlen);
    size_t need = has_drops ? COLS_WITH_DROPS : COLS_MIN;
    uint32_t txq, rxq = 0;
    uint64_t uid;
    int bad = -1; /* token index of the bad column; -1 = the last one */
    if (ntok < need) {
        textscan_problem(probs, "line %u: %zu columns, expected at least %zu", lineno, ntok, need);
        return -1;
    }
    if (s_format_local(tok[COL_LOCAL], toklen[COL_LOCAL], proto, row->device, sizeof row->device) !=
        0) {
        what = "local address";
        bad = COL_LOCAL;
    } else if (s_parse_hexpair(tok[COL_QUEUES], toklen[COL_QUEUES], &txq, &rxq) != 0) {
        what = "tx_queue:rx_queue";
        bad = COL_QUEUES;
    } else if (textscan_parse_u64(tok[COL_UID], toklen[COL_UID], &uid) != 0) {
        what = "uid";
        bad = COL_UID;
    } else if (textscan_parse_u64(tok[COL_INODE], toklen[COL_INODE], &row->inode) != 0) {
        what = "inode";
        bad = COL_INODE;
    } else if (has_drops && textscan_parse_u64(last, lastlen, &row->drops) != 0) {
        what = "drops";
    }
    if (what) {
        textscan_problem(probs, "line %u: bad %s \"%.*s\"", lineno, what,
                         s_shown(bad < 0 ? lastlen : toklen[bad]), bad < 0 ? last : tok[bad]);
        return -1;
    }
    row->rx_queue = rxq;
    return 0;
}

/* True if the header line names a "drops" column. */
static bool s_header_has_drops(const char *line, size_t n)
{
    size_t i = 0, tl;
    const char *t;
    while ((tl = textscan_next_token(line, n, &i, &t)) > 0)
        if (tl == 5 && memcmp(t, "drops", 5) == 0)
            return true;
    return false;
}

static void s_emit(const sock_row_t *row, const char *name, uint64_t value, reading_fn *emit,
                   void *ctx)
{
    reading_t r = {.source = source_name(SOURCE_SOCK),
                   .device = row->device,
                   .name = name,
                   .value = value,
                   .instance = row->inode};
    emit(ctx, &r);
}

int sockets_parse(const char *buf, size_t len, const char *proto, uint64_t min_drops,
                  reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    textscan_problems_t probs;
    size_t pos = 0, n, i;
    unsigned lineno = 0;
    bool has_drops = false;
    const char *line, *t;
    textscan_problems_init(&probs, err, errsz);
    while (textscan_next_line(buf, len, &pos, &line, &n)) {
        sock_row_t row;
        if (++lineno == 1) {
            has_drops = s_header_has_drops(line, n);
            continue;
        }
        i = 0;
        if (textscan_next_token(line, n, &i, &t) == 0)
            continue; /* blank */
        if (s_parse_row(line, n, lineno, has_drops, proto, &row, &probs) != 0)
            continue;
        if (has_drops && row.drops >= min_drops) {
            s_emit(&row, "drops", row.drops, emit, ctx);
            s_emit(&row, "rx_queue", row.rx_queue, emit, ctx);
        } else if (!has_drops && min_drops == 0) {
            s_emit(&row, "rx_queue", row.rx_queue, emit, ctx);
        }
    }
    return probs.count;
}
