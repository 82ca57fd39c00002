/* onload: parser for `onload_stackdump lots`. The format is read from the
 * Onload sources (Xilinx-CNS/onload @ ef17681d): stack_lots() in
 * src/tools/ip/libstack.c prints, per stack, a "=====" line, then
 *   ci_netif_dump_to_logger()  "ci_netif_dump_to_logger: stack=%d name=%s",
 *                              and per interface ci_netif_dump_vi()
 *                              "ci_netif_dump_vi: stack=%d intf=%d dev=%s ..."
 *                              with "  rxq: cap=%d lim=%d ..." (netif_debug.c)
 *   "----- sockets -----", each socket from citp_waitable_dump_to_logger()
 *                              (waitable.c): "UDP %d:%d lcl=ADDR:PORT rmt=..."
 *                              then ci_sock_cmn_dump() "  rcvbuf=%d sndbuf=%d"
 *                              (socket.c) and ci_udp_state_dump() (udp.c)
 *                              "  rcv: oflow_drop=%u(%u%%) mem_drop=%u ...",
 *                              and a line of dashes after each socket
 *   "----- ci_netif_stats: %d -----", ci_dump_stats() (stats_dump.h):
 *                              "%s: %u" per field of stats_def.h
 *   more_stats and the ip/tcp/udp snapshots (not read: gauges and
 *                              protocol counts, no drops of their own)
 *   "----- config opts -----", ci_netif_config_opts_dump() (netif_debug.c):
 *                              "%30s: %d" per EF_* option, " (default: %d)"
 *                              after one that was changed; strings quoted.
 * Older releases name the first function ci_netif_dump and print fewer
 * fields (no q_max_pkts); every field is found by its name, so both read. */
#define _GNU_SOURCE
#include "onload.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "source.h"
#include "text.h"
#include "textscan.h"

#define TOKEN_SHOWN 48 /* longest token quoted in an error message */
#define NAME_RAW 64    /* bytes of a stack's name kept (Onload's own limit is lower) */
#define STACK_SIZE (3 * NAME_RAW + 1) /* the name, every byte escaped as %NN */
#define IFACE_SIZE (3 * 32 + 1)
#define ADDR_SHOWN 64                              /* "[ffff:...]" and more */
#define DEVICE_SIZE (STACK_SIZE + ADDR_SHOWN + 16) /* a socket's: STACK:udp6:ADDR:PORT */
#define HEADER_MIN 10 /* dashes or equals that make a line a section header */

typedef enum { SEC_NETIF, SEC_SOCKETS, SEC_STATS, SEC_OPTS, SEC_OTHER } section_t;

/* The socket being read: its lines come between its header and the next. */
typedef struct {
    bool udp;                 /* a UDP socket (the others are not read) */
    unsigned line;            /* its header's line number */
    char device[DEVICE_SIZE]; /* STACK:udp:ADDR:PORT */
    uint64_t instance;        /* stack + 1 << 32 | socket + 1 */
    uint64_t oflow, mem, rcvbuf;
    bool have_rcv, have_rcvbuf;
} sock_t;

/* The parse's whole state; lives on onload_parse's stack. */
typedef struct {
    reading_fn *emit;
    void *ctx;
    textscan_problems_t probs;
    unsigned lineno;
    bool in_stack;       /* a stack header was read */
    unsigned stack_line; /* its line number */
    uint64_t stack_id;
    char stack[STACK_SIZE]; /* its device: name, escaped, or number */
    bool saw_stats;         /* its ci_netif_stats section began */
    section_t sec;
    char iface[IFACE_SIZE]; /* the interface of the last ci_netif_dump_vi line */
    sock_t sock;
} parse_t;

static int s_shown(size_t n)
{
    return textscan_shown(n, TOKEN_SHOWN);
}

static bool s_starts(const char *s, size_t n, const char *prefix)
{
    size_t p = strlen(prefix);
    return n >= p && memcmp(s, prefix, p) == 0;
}

static bool s_contains(const char *s, size_t n, const char *needle)
{
    return memmem(s, n, needle, strlen(needle)) != NULL;
}

static void s_emit(parse_t *p, const char *device, const char *name, uint64_t value,
                   uint64_t instance)
{
    reading_t r = {.source = source_name(SOURCE_ONLOAD),
                   .device = device,
                   .name = name,
                   .value = value,
                   .instance = instance};
    p->emit(p->ctx, &r);
}

/* The value of "KEY=DIGITS" in a line (DIGITS may be followed by "(...)"):
 * 0, or -1 when KEY is missing or not followed by digits. */
static int s_field(const char *line, size_t n, const char *key, uint64_t *out)
{
    size_t i = 0, len;
    const char *tok;
    size_t k = strlen(key);
    while ((len = textscan_next_token(line, n, &i, &tok)) > 0) {
        if (len <= k || memcmp(tok, key, k) != 0)
            continue;
        size_t d = k;
        while (d < len && tok[d] >= '0' && tok[d] <= '9')
            d++;
        return textscan_parse_u64(tok + k, d - k, out);
    }
    return -1;
}

/* Emits the socket that ended (UDP only, and only one that dropped). */
static void s_sock_end(parse_t *p)
{
    sock_t *s = &p->sock;
    if (!s->udp)
        return;
    s->udp = false;
    if (!s->have_rcv) {
        textscan_problem(&p->probs, "line %u: UDP socket %s has no \"rcv: oflow_drop=\" line",
                         s->line, s->device);
        return;
    }
    if (s->oflow == 0 && s->mem == 0)
        return;
    s_emit(p, s->device, "oflow_drop", s->oflow, s->instance);
    s_emit(p, s->device, "mem_drop", s->mem, s->instance);
    if (s->have_rcvbuf)
        s_emit(p, s->device, ONLOAD_RCVBUF, s->rcvbuf, s->instance);
}

static void s_stack_end(parse_t *p)
{
    s_sock_end(p);
    if (p->in_stack && !p->saw_stats)
        textscan_problem(&p->probs,
                         "line %u: stack %s: the output ends before its "
                         "ci_netif_stats (cut short?)",
                         p->stack_line, p->stack);
    p->in_stack = false;
}

/* "ci_netif_dump_to_logger: stack=N name=NAME" (NAME may be empty). */
static bool s_stack_begin(parse_t *p, const char *line, size_t n)
{
    size_t i = 0, len;
    const char *tok;
    len = textscan_next_token(line, n, &i, &tok);
    if (!((len == 24 && memcmp(tok, "ci_netif_dump_to_logger:", 24) == 0) ||
          (len == 14 && memcmp(tok, "ci_netif_dump:", 14) == 0)))
        return false;
    uint64_t id;
    len = textscan_next_token(line, n, &i, &tok);
    if (len <= 6 || memcmp(tok, "stack=", 6) != 0 || textscan_parse_u64(tok + 6, len - 6, &id))
        return false;
    while (i < n && textscan_is_space(line[i]))
        i++;
    if (!s_starts(line + i, n - i, "name="))
        return false;
    s_stack_end(p);
    const char *name = line + i + 5;
    size_t nlen = n - i - 5;
    textscan_trim(&name, &nlen);
    char raw[NAME_RAW + 1];
    snprintf(raw, sizeof raw, "%.*s", (int)(nlen < sizeof raw ? nlen : sizeof raw - 1), name);
    if (raw[0] && !strchr(raw, ':')) /* ':' would read as a socket's or interface's */
        text_escape_name(raw, p->stack, sizeof p->stack);
    else
        snprintf(p->stack, sizeof p->stack, "%llu", (unsigned long long)id);
    p->in_stack = true;
    p->stack_line = p->lineno;
    p->stack_id = id & 0xFFFFFFFFu;
    p->saw_stats = false;
    p->sec = SEC_NETIF;
    p->iface[0] = '\0';
    return true;
}

/* A line of 10 or more '-' or '=', with or without a title inside. */
static bool s_header(parse_t *p, const char *line, size_t n)
{
    size_t d = 0;
    while (d < n && (line[d] == '-' || line[d] == '='))
        d++;
    if (d < HEADER_MIN)
        return false;
    s_sock_end(p);
    if (d == n) /* a bare rule: ends a socket, or opens a stack */
        return true;
    if (s_contains(line, n, "ci_netif_stats:")) {
        p->sec = SEC_STATS;
        p->saw_stats = true;
    } else if (s_contains(line, n, " sockets ")) {
        p->sec = SEC_SOCKETS;
    } else if (s_contains(line, n, " config opts ")) {
        p->sec = SEC_OPTS;
    } else {
        p->sec = SEC_OTHER;
    }
    return true;
}

/* "ci_netif_dump_vi: stack=N intf=I dev=DEV ..." then "  rxq: cap=N ...". */
static void s_netif(parse_t *p, const char *line, size_t n)
{
    uint64_t cap;
    if (s_starts(line, n, "ci_netif_dump_vi:")) {
        const char *dev = memmem(line, n, " dev=", 5);
        p->iface[0] = '\0';
        if (dev) {
            dev += 5;
            size_t dn = 0;
            while (dev + dn < line + n && !textscan_is_space(dev[dn]))
                dn++;
            char raw[IFACE_SIZE / 3];
            snprintf(raw, sizeof raw, "%.*s", (int)(dn < sizeof raw ? dn : sizeof raw - 1), dev);
            text_escape_name(raw, p->iface, sizeof p->iface);
        }
        return;
    }
    const char *t = line;
    size_t tn = n;
    textscan_trim(&t, &tn);
    if (p->iface[0] && s_starts(t, tn, "rxq:") && s_field(t, tn, "cap=", &cap) == 0) {
        char device[DEVICE_SIZE];
        snprintf(device, sizeof device, "%s:%s", p->stack, p->iface);
        /* cap= is ef_vi_receive_capacity: the ring's mask, its size less one */
        s_emit(p, device, "rxq_size", cap + 1, p->stack_id + 1);
        p->iface[0] = '\0';
    }
}

/* "UDP S:I lcl=ADDR:PORT rmt=ADDR:PORT UDP": starts a UDP socket. */
static void s_sock_begin(parse_t *p, const char *line, size_t n)
{
    size_t i = 0, len;
    const char *tok, *ids = NULL, *lcl = NULL;
    size_t idn = 0, lcln = 0;
    len = textscan_next_token(line, n, &i, &tok);
    if (len != 3 || memcmp(tok, "UDP", 3) != 0)
        return; /* TCP, PIPE, ...: not read */
    if ((idn = textscan_next_token(line, n, &i, &ids)) > 0)
        lcln = textscan_next_token(line, n, &i, &lcl);
    const char *colon = ids ? memchr(ids, ':', idn) : NULL;
    uint64_t stack, sock, port;
    const char *pc = lcln > 4 ? memrchr(lcl, ':', lcln) : NULL;
    if (!colon || textscan_parse_u64(ids, (size_t)(colon - ids), &stack) ||
        textscan_parse_u64(colon + 1, idn - (size_t)(colon - ids) - 1, &sock) ||
        !s_starts(lcl, lcln, "lcl=") || !pc || pc == lcl + 4 ||
        textscan_parse_u64(pc + 1, lcln - (size_t)(pc - lcl) - 1, &port) || port > 65535) {
        textscan_problem(&p->probs,
                         "line %u: \"%.*s\" is not \"UDP STACK:SOCKET lcl=ADDR:PORT "
                         "...\"",
                         p->lineno, s_shown(n), line);
        return;
    }
    sock_t *s = &p->sock;
    *s = (sock_t){.udp = true, .line = p->lineno};
    const char *addr = lcl + 4;
    int an = (int)(pc - addr) < ADDR_SHOWN ? (int)(pc - addr) : ADDR_SHOWN;
    snprintf(s->device, sizeof s->device, "%s:%s:%.*s:%u", p->stack,
             addr[0] == '[' ? "udp6" : "udp", an, addr, (unsigned)port);
    s->instance = ((stack & 0xFFFFFFFFu) + 1) << 32 | ((sock & 0xFFFFFFFFu) + 1);
}

static void s_sockets(parse_t *p, const char *line, size_t n)
{
    if (!textscan_is_space(line[0])) {
        s_sock_end(p);
        s_sock_begin(p, line, n);
        return;
    }
    sock_t *s = &p->sock;
    const char *t = line;
    size_t tn = n;
    textscan_trim(&t, &tn);
    if (!s->udp)
        return;
    if (s_starts(t, tn, "rcv:") && s_contains(t, tn, "oflow_drop=")) {
        if (s_field(t, tn, "oflow_drop=", &s->oflow) || s_field(t, tn, "mem_drop=", &s->mem)) {
            textscan_problem(&p->probs,
                             "line %u: \"%.*s\": no count in oflow_drop= or "
                             "mem_drop=",
                             p->lineno, s_shown(tn), t);
            s->udp = false;
            return;
        }
        s->have_rcv = true;
    } else if (s_starts(t, tn, "rcvbuf=")) {
        s->have_rcvbuf = s_field(t, tn, "rcvbuf=", &s->rcvbuf) == 0;
    }
}

/* "NAME: VALUE": a counter, or an option (EF_*: a setting; "default" after it). */
static void s_pair(parse_t *p, const char *line, size_t n, bool option)
{
    size_t i = 0, kn, vn;
    const char *key, *val = NULL;
    kn = textscan_next_token(line, n, &i, &key);
    if (kn == 0)
        return;
    vn = textscan_next_token(line, n, &i, &val);
    if (option && !s_starts(key, kn, "EF_"))
        return; /* NDEBUG, and whatever a later release prints */
    uint64_t v;
    if (kn < 2 || key[kn - 1] != ':' || vn == 0) {
        textscan_problem(&p->probs, "line %u: \"%.*s\" is not \"NAME: VALUE\"", p->lineno,
                         s_shown(n), line);
        return;
    }
    if (option && (val[0] == '-' || val[0] == '"'))
        return; /* automatic (-1), or a string: no bound to quote */
    const char *extra;
    if (textscan_parse_u64(val, vn, &v) != 0 ||
        (!option && textscan_next_token(line, n, &i, &extra) > 0)) {
        textscan_problem(&p->probs, "line %u: %.*s \"%.*s\" is not a count", p->lineno,
                         s_shown(kn - 1), key, s_shown(vn), val);
        return;
    }
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(kn - 1 < sizeof name ? kn - 1 : sizeof name - 1),
             key);
    s_emit(p, p->stack, name, v, p->stack_id + 1);
}

static void s_line(parse_t *p, const char *line, size_t n)
{
    if (n == 0 || s_stack_begin(p, line, n) || !p->in_stack || s_header(p, line, n))
        return;
    switch (p->sec) {
    case SEC_NETIF: s_netif(p, line, n); break;
    case SEC_SOCKETS: s_sockets(p, line, n); break;
    case SEC_STATS: s_pair(p, line, n, false); break;
    case SEC_OPTS: s_pair(p, line, n, true); break;
    default: break;
    }
}

int onload_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    parse_t p = {.emit = emit, .ctx = ctx};
    size_t pos = 0, n;
    const char *line;
    textscan_problems_init(&p.probs, err, errsz);
    while (textscan_next_line(buf, len, &pos, &line, &n)) {
        p.lineno++;
        if (n && line[n - 1] == '\r')
            n--;
        s_line(&p, line, n);
    }
    s_stack_end(&p);
    return p.probs.count;
}
