/* snmp: parsers for /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6.
 * Assumes the layout of net/ipv4/proc.c and net/ipv6/proc.c from 2.6 to 6.18:
 * snmp/netstat print each group as a header line of names then a line of
 * values with the same "Group:" token; fields come and go between releases
 * (Udp MemErrors, Ip OutTransmits), so a value is only ever matched to the
 * name in the same position of its own header. snmp6 is `Name<blanks>value`. */
#include "snmp.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "source.h"
#include "textscan.h"

#define NAME_MAX_LEN 128 /* "Group.Field"; the longest real one is ~40 */
#define TOKEN_SHOWN 40   /* longest token quoted in an error message */

/* snmp6 group prefixes; the longest match wins. */
static const char *const s_groups6[] = {"UdpLite6", "Icmp6", "Udp6", "Ip6"};

static int s_shown(size_t n)
{
    return textscan_shown(n, TOKEN_SHOWN);
}

/* Decimal u64, or a negative i64 wrapped the way the kernel's %ld of a
 * "long" counter wraps (Tcp MaxConn prints -1). */
static int s_parse_value(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || s[0] != '-')
        return textscan_parse_u64(s, n, out);
    uint64_t mag;
    if (textscan_parse_u64(s + 1, n - 1, &mag) != 0 || mag > (uint64_t)INT64_MAX + 1)
        return -1;
    *out = 0 - mag; /* two's complement of the magnitude == (uint64_t)(int64_t)-mag */
    return 0;
}

/* Returns the length of the line's "Group:" token without the ':', or 0 if
 * the line does not start with one. */
static size_t s_group(const char *line, size_t n, const char **group)
{
    size_t i = 0, toklen = textscan_next_token(line, n, &i, group);
    if (toklen < 2 || (*group)[toklen - 1] != ':')
        return 0;
    return toklen - 1;
}

/* Emits one group from its header and value lines, both with the same
 * "Group:" token. Counts must match, or alignment cannot be trusted. */
static void s_emit_group(const char *hdr, size_t hn, const char *val, size_t vn, unsigned lineno,
                         const char *source, reading_fn *emit, void *ctx,
                         textscan_problems_t *probs)
{
    const char *group, *name, *value;
    size_t glen = s_group(hdr, hn, &group);
    size_t nnames = textscan_count_tokens(hdr, hn) - 1,
           nvalues = textscan_count_tokens(val, vn) - 1;
    if (nnames != nvalues) {
        textscan_problem(probs, "line %u: \"%.*s\" has %zu names but %zu values", lineno,
                         s_shown(glen), group, nnames, nvalues);
        return;
    }
    size_t hi = 0, vi = 0, namelen, valuelen;
    textscan_next_token(hdr, hn, &hi, &name); /* skip both "Group:" tokens */
    textscan_next_token(val, vn, &vi, &value);
    size_t peek = hi;
    namelen = textscan_next_token(hdr, hn, &peek, &name);
    if (namelen > 0 && ((name[0] >= '0' && name[0] <= '9') || name[0] == '-')) {
        /* two value lines in a row: the header line was lost */
        textscan_problem(probs, "line %u: \"%.*s\" has no header line (\"%.*s\" is not a name)",
                         lineno, s_shown(glen), group, s_shown(namelen), name);
        return;
    }
    while ((namelen = textscan_next_token(hdr, hn, &hi, &name)) > 0) {
        valuelen = textscan_next_token(val, vn, &vi, &value);
        char full[NAME_MAX_LEN];
        uint64_t v;
        if (glen + 1 + namelen >= sizeof full) {
            textscan_problem(probs, "line %u: name \"%.*s.%.*s\" is too long", lineno,
                             s_shown(glen), group, s_shown(namelen), name);
            continue;
        }
        if (s_parse_value(value, valuelen, &v) != 0) {
            textscan_problem(probs, "line %u: \"%.*s.%.*s\" value \"%.*s\" is not a number", lineno,
                             s_shown(glen), group, s_shown(namelen), name, s_shown(valuelen),
                             value);
            continue;
        }
        snprintf(full, sizeof full, "%.*s.%.*s", (int)glen, group, (int)namelen, name);
        reading_t r = {.source = source, .device = "", .name = full, .value = v};
        emit(ctx, &r);
    }
}

int snmp_parse(const char *buf, size_t len, const char *source, reading_fn *emit, void *ctx,
               char *err, size_t errsz)
{
    textscan_problems_t probs;
    size_t pos = 0, n, hn = 0, glen, hglen;
    unsigned lineno = 0, hline = 0;
    const char *line, *hdr = NULL, *group, *hgroup;
    textscan_problems_init(&probs, err, errsz);
    while (textscan_next_line(buf, len, &pos, &line, &n)) {
        lineno++;
        if (textscan_count_tokens(line, n) == 0)
            continue;
        glen = s_group(line, n, &group);
        if (glen == 0) {
            textscan_problem(&probs, "line %u: \"%.*s\" does not start with \"Group:\"", lineno,
                             s_shown(n), line);
            continue;
        }
        if (hdr) {
            hglen = s_group(hdr, hn, &hgroup);
            if (hglen == glen && memcmp(hgroup, group, glen) == 0) {
                s_emit_group(hdr, hn, line, n, lineno, source, emit, ctx, &probs);
                hdr = NULL;
                continue;
            }
            /* another group: the header lost its values; this line starts anew */
            textscan_problem(&probs,
                             "line %u: \"%.*s\" header is followed by \"%.*s\", not by its values",
                             hline, s_shown(hglen), hgroup, s_shown(glen), group);
        }
        hdr = line;
        hn = n;
        hline = lineno;
    }
    if (hdr) {
        hglen = s_group(hdr, hn, &hgroup);
        textscan_problem(&probs, "line %u: \"%.*s\" header has no value line", hline,
                         s_shown(hglen), hgroup);
    }
    return probs.count;
}

/* Writes "Group.Field" for an snmp6 name, or the raw name if no group fits. */
static int s_split6(const char *name, size_t n, char *out, size_t outsz)
{
    size_t best = 0;
    for (size_t g = 0; g < sizeof s_groups6 / sizeof s_groups6[0]; g++) {
        size_t gl = strlen(s_groups6[g]);
        if (gl > best && gl < n && memcmp(name, s_groups6[g], gl) == 0 && name[gl] >= 'A' &&
            name[gl] <= 'Z')
            best = gl;
    }
    int w = best ? snprintf(out, outsz, "%.*s.%.*s", (int)best, name, (int)(n - best), name + best)
                 : snprintf(out, outsz, "%.*s", (int)n, name);
    return w < 0 || (size_t)w >= outsz ? -1 : 0;
}

int snmp6_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err, size_t errsz)
{
    textscan_problems_t probs;
    size_t pos = 0, n;
    unsigned lineno = 0;
    const char *line, *name, *value;
    textscan_problems_init(&probs, err, errsz);
    while (textscan_next_line(buf, len, &pos, &line, &n)) {
        lineno++;
        size_t ntok = textscan_count_tokens(line, n), i = 0;
        if (ntok == 0)
            continue;
        size_t namelen = textscan_next_token(line, n, &i, &name);
        size_t valuelen = textscan_next_token(line, n, &i, &value);
        char full[NAME_MAX_LEN];
        uint64_t v;
        if (ntok != 2) {
            textscan_problem(&probs, "line %u: %zu tokens in \"%.*s\", expected 2", lineno, ntok,
                             s_shown(n), line);
        } else if (textscan_parse_u64(value, valuelen, &v) != 0) {
            textscan_problem(&probs, "line %u: \"%.*s\" value \"%.*s\" is not a decimal u64",
                             lineno, s_shown(namelen), name, s_shown(valuelen), value);
        } else if (s_split6(name, namelen, full, sizeof full) != 0) {
            textscan_problem(&probs, "line %u: name \"%.*s\" is too long", lineno, s_shown(namelen),
                             name);
        } else {
            reading_t r = {
                .source = source_name(SOURCE_SNMP6), .device = "", .name = full, .value = v};
            emit(ctx, &r);
        }
    }
    return probs.count;
}
