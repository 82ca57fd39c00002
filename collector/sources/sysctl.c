/* sysctl: table of the drop-bounding settings (docs/COUNTERS.md) and the parser of
 * one /proc/sys file. Assumes what proc_dointvec / proc_doulongvec print:
 * decimal values separated by tabs, ending with a newline. The meaning of
 * each setting, and which counter it bounds, is in docs/COUNTERS.md. */
#include "sysctl.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "source.h"
#include "textscan.h"

#define NAME_MAX_LEN 96 /* "net.ipv4.tcp_max_syn_backlog" and suffixes */
#define TOKEN_SHOWN 40  /* longest token quoted in an error message */

#define ONE(dotted, file)                                                                          \
    {                                                                                              \
        .name = dotted, .path = file, .nvalues = 1                                                 \
    }
#define TRIPLE(dotted, file, a, b, c)                                                              \
    {                                                                                              \
        .name = dotted, .path = file, .nvalues = 3, .suffix = { a, b, c }                          \
    }

const sysctl_def_t sysctl_defs[] = {
    /* backlog and budget (docs/COUNTERS.md) */
    ONE(SYSCTL_NETDEV_MAX_BACKLOG, "sys/net/core/netdev_max_backlog"),
    ONE(SYSCTL_NETDEV_BUDGET, "sys/net/core/netdev_budget"),
    ONE(SYSCTL_NETDEV_BUDGET_USECS, "sys/net/core/netdev_budget_usecs"),
    ONE("net.core.dev_weight", "sys/net/core/dev_weight"),
    ONE("net.core.flow_limit_table_len", "sys/net/core/flow_limit_table_len"),
    /* socket buffers */
    ONE(SYSCTL_RMEM_DEFAULT, "sys/net/core/rmem_default"),
    ONE(SYSCTL_RMEM_MAX, "sys/net/core/rmem_max"),
    ONE("net.core.wmem_default", "sys/net/core/wmem_default"),
    ONE("net.core.wmem_max", "sys/net/core/wmem_max"),
    TRIPLE("net.ipv4.udp_mem", "sys/net/ipv4/udp_mem", "min", "pressure", "max"),
    ONE("net.ipv4.udp_rmem_min", "sys/net/ipv4/udp_rmem_min"),
    TRIPLE(SYSCTL_TCP_RMEM, "sys/net/ipv4/tcp_rmem", "min", "default", "max"),
    TRIPLE("net.ipv4.tcp_mem", "sys/net/ipv4/tcp_mem", "min", "pressure", "max"),
    /* listen queues */
    ONE(SYSCTL_SOMAXCONN, "sys/net/core/somaxconn"),
    ONE("net.ipv4.tcp_max_syn_backlog", "sys/net/ipv4/tcp_max_syn_backlog"),
    ONE("net.ipv4.tcp_syncookies", "sys/net/ipv4/tcp_syncookies"),
};

const size_t sysctl_defs_count = sizeof sysctl_defs / sizeof sysctl_defs[0];

const sysctl_def_t *sysctl_def_find(const char *name)
{
    for (size_t i = 0; i < sysctl_defs_count; i++)
        if (strcmp(sysctl_defs[i].name, name) == 0)
            return &sysctl_defs[i];
    return NULL;
}

static int s_shown(size_t n)
{
    return textscan_shown(n, TOKEN_SHOWN);
}

/* 1-based line of the byte at p. */
static unsigned s_lineno(const char *buf, const char *p)
{
    unsigned line = 1;
    for (const char *q = buf; q < p; q++)
        line += *q == '\n';
    return line;
}

int sysctl_parse(const char *buf, size_t len, const sysctl_def_t *def, reading_fn *emit, void *ctx,
                 char *err, size_t errsz)
{
    textscan_problems_t probs;
    uint64_t vals[SYSCTL_VALUES_MAX];
    size_t i = 0, count = 0, toklen;
    const char *tok;
    textscan_problems_init(&probs, err, errsz);
    if (len == 0)
        buf = ""; /* an empty read may come with a NULL buffer */
    while ((toklen = textscan_next_token(buf, len, &i, &tok)) > 0) {
        if (count < def->nvalues && textscan_parse_u64(tok, toklen, &vals[count]) != 0) {
            textscan_problem(&probs, "line %u: %s value %zu \"%.*s\" is not a decimal u64",
                             s_lineno(buf, tok), def->name, count + 1, s_shown(toklen), tok);
            return 1; /* one bad value condemns the file: nothing is emitted */
        }
        count++;
    }
    if (count != def->nvalues) {
        textscan_problem(&probs, "%s has %zu values, expected %zu", def->name, count, def->nvalues);
        return 1;
    }
    for (size_t k = 0; k < count; k++) {
        char name[NAME_MAX_LEN];
        if (def->nvalues > 1)
            snprintf(name, sizeof name, "%s.%s", def->name, def->suffix[k]);
        reading_t r = {.source = source_name(SOURCE_SYSCTL),
                       .device = "",
                       .name = def->nvalues > 1 ? name : def->name,
                       .value = vals[k]};
        emit(ctx, &r);
    }
    return 0;
}
