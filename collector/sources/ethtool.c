/* ethtool: driver counters and ring sizes, live via ioctl(SIOCETHTOOL) on a
 * plain AF_INET datagram socket (no netlink needed, works back to 2.6), or
 * replayed from `ethtool -S` / `ethtool -g` text. Assumes one read per
 * interface per interval: the stat names (up to a few thousand on a 64-queue
 * NIC) are fetched once and cached per interface; the values every time. */
#define _GNU_SOURCE
#include "ethtool.h"

#include <assert.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "source.h"
#include "textscan.h"

#define NAME_LEN 48          /* a normalised name: "[12]: x" grows by one char */
#define CACHE_SLOTS 16       /* interfaces whose names are kept */
#define STATS_MAX (1u << 20) /* a count above this is a broken driver */
#define TOKEN_SHOWN 48       /* longest token quoted in an error message */

/* The string set of one interface. */
typedef struct {
    char ifname[IFNAMSIZ];   /* "" = free slot */
    int ifindex;             /* a name reused by another device must not match */
    uint32_t count;          /* names in the set, as GSSET_INFO last said */
    char (*names)[NAME_LEN]; /* normalised names, `count` of them; owned */
    uint64_t used;           /* value of the owner's clock at the last use */
} strset_t;

struct ethtool {
    int fd;                      /* AF_INET/SOCK_DGRAM, an ioctl handle only */
    strset_t cache[CACHE_SLOTS]; /* recently read interfaces */
    uint64_t clock;              /* counts reads, for least-recently-used eviction */
    struct ethtool_stats *stats; /* GSTATS buffer, grown on demand; owned */
    size_t stats_cap;            /* u64 slots in stats->data */
};

/* ---- shared helpers ------------------------------------------------------ */

static int s_shown(size_t n)
{
    return textscan_shown(n, TOKEN_SHOWN);
}

/* Writes the series name of a driver's stat name: bnxt's "[3]: rx_discards"
 * becomes "ring3.rx_discards"; '/' and whitespace become '_'. Returns 0, or
 * -1 if the name is empty or does not fit. */
static int s_normalise(const char *raw, size_t n, char *out, size_t outsz)
{
    size_t i = 0, o = 0, j;
    textscan_trim(&raw, &n);
    if (n > 0 && raw[0] == '[') {
        for (j = 1; j < n && raw[j] >= '0' && raw[j] <= '9'; j++)
            ;
        if (j > 1 && j + 1 < n && raw[j] == ']' && raw[j + 1] == ':') {
            int w = snprintf(out, outsz, "ring%.*s.", (int)(j - 1), raw + 1);
            if (w < 0 || (size_t)w >= outsz)
                return -1;
            o = (size_t)w;
            for (i = j + 2; i < n && textscan_is_space(raw[i]); i++)
                ;
        }
    }
    if (i == n || n - i >= outsz - o)
        return -1;
    for (; i < n; i++)
        out[o++] = raw[i] == '/' || textscan_is_space(raw[i]) ? '_' : raw[i];
    out[o] = '\0';
    return 0;
}

/* ---- text parsers -------------------------------------------------------- */

int ethtool_stats_parse(const char *buf, size_t len, const char *device, reading_fn *emit,
                        void *ctx, char *err, size_t errsz)
{
    static const char header[] = "NIC statistics:";
    textscan_problems_t probs;
    size_t pos = 0, n;
    unsigned lineno = 0;
    bool first = true;
    const char *line;
    textscan_problems_init(&probs, err, errsz);
    while (textscan_next_line(buf, len, &pos, &line, &n)) {
        lineno++;
        textscan_trim(&line, &n);
        if (n == 0)
            continue;
        bool is_header = first && n == sizeof header - 1 && memcmp(line, header, n) == 0;
        first = false;
        if (is_header)
            continue;
        /* the value follows the last ':'; bnxt names hold one ("[3]: x") */
        const char *colon = memrchr(line, ':', n);
        char name[NAME_LEN];
        uint64_t v;
        if (!colon) {
            textscan_problem(&probs, "line %u: no \"name: value\" in \"%.*s\"", lineno, s_shown(n),
                             line);
            continue;
        }
        const char *value = colon + 1;
        size_t valuelen = n - (size_t)(value - line);
        textscan_trim(&value, &valuelen);
        if (textscan_parse_u64(value, valuelen, &v) != 0) {
            textscan_problem(&probs, "line %u: \"%.*s\" value \"%.*s\" is not a decimal u64",
                             lineno, s_shown((size_t)(colon - line)), line, s_shown(valuelen),
                             value);
        } else if (s_normalise(line, (size_t)(colon - line), name, sizeof name) != 0) {
            textscan_problem(&probs, "line %u: name \"%.*s\" is empty or too long", lineno,
                             s_shown((size_t)(colon - line)), line);
        } else {
            reading_t r = {
                .source = source_name(SOURCE_ETHTOOL), .device = device, .name = name, .value = v};
            emit(ctx, &r);
        }
    }
    return probs.count;
}

typedef enum { RING_NONE, RING_MAX, RING_CURRENT } ring_section_t;

/* Handles one "key: value" line of `ethtool -g` within `section`. */
static void s_ring_line(const char *line, size_t n, unsigned lineno, ring_section_t section,
                        const char *device, reading_fn *emit, void *ctx, textscan_problems_t *probs)
{
    const char *colon = memchr(line, ':', n), *key = line, *value;
    size_t keylen, valuelen;
    uint64_t v;
    if (!colon) {
        textscan_problem(probs, "line %u: no ':' in \"%.*s\"", lineno, s_shown(n), line);
        return;
    }
    keylen = (size_t)(colon - line);
    value = colon + 1;
    valuelen = n - keylen - 1;
    textscan_trim(&key, &keylen);
    textscan_trim(&value, &valuelen);
    bool rx = keylen == 2 && memcmp(key, "RX", 2) == 0;
    bool tx = keylen == 2 && memcmp(key, "TX", 2) == 0;
    if (!rx && !tx)
        return; /* RX Mini, RX Jumbo, RX Buf Len, CQE Size, TX Push, the title... */
    if (valuelen == 3 && memcmp(value, "n/a", 3) == 0)
        return;
    if (section == RING_NONE) {
        textscan_problem(probs, "line %u: \"%.*s\" outside a section", lineno, s_shown(n), line);
    } else if (textscan_parse_u64(value, valuelen, &v) != 0) {
        textscan_problem(probs, "line %u: %s value \"%.*s\" is not a decimal u64", lineno,
                         rx ? "RX" : "TX", s_shown(valuelen), value);
    } else {
        static const char *const names[2][2] = {{RING_RX_MAX, RING_TX_MAX}, {RING_RX, RING_TX}};
        reading_t r = {.source = source_name(SOURCE_RING),
                       .device = device,
                       .name = names[section == RING_CURRENT][tx],
                       .value = v};
        emit(ctx, &r);
    }
}

int ethtool_ring_parse(const char *buf, size_t len, const char *device, reading_fn *emit, void *ctx,
                       char *err, size_t errsz)
{
    textscan_problems_t probs;
    size_t pos = 0, n;
    unsigned lineno = 0;
    ring_section_t section = RING_NONE;
    const char *line;
    textscan_problems_init(&probs, err, errsz);
    while (textscan_next_line(buf, len, &pos, &line, &n)) {
        lineno++;
        textscan_trim(&line, &n);
        if (n == 0)
            continue;
        if (n == 17 && memcmp(line, "Pre-set maximums:", 17) == 0)
            section = RING_MAX;
        else if (n == 26 && memcmp(line, "Current hardware settings:", 26) == 0)
            section = RING_CURRENT;
        else
            s_ring_line(line, n, lineno, section, device, emit, ctx, &probs);
    }
    return probs.count;
}

/* ---- live path ----------------------------------------------------------- */

ethtool_t *ethtool_new(void)
{
    ethtool_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (self->fd < 0) {
        int e = errno;
        free(self);
        errno = e;
        return NULL;
    }
    return self;
}

static void s_strset_clear(strset_t *set)
{
    free(set->names);
    memset(set, 0, sizeof *set);
}

void ethtool_destroy(ethtool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ethtool_t *self = *self_p;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        s_strset_clear(&self->cache[i]);
    free(self->stats);
    close(self->fd);
    free(self);
    *self_p = NULL;
}

/* Runs one SIOCETHTOOL command. Returns 0, -2 (unsupported) or -1, with err
 * naming the command, the interface and the error. */
static int s_ioctl(ethtool_t *self, const char *ifname, void *cmd, const char *cmdname, char *err,
                   size_t errsz)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, ifname, strlen(ifname)); /* length checked by the caller */
    ifr.ifr_data = cmd;
    if (ioctl(self->fd, SIOCETHTOOL, &ifr) == 0)
        return 0;
    int e = errno;
    char buf[128];
    if (err && errsz)
        snprintf(err, errsz, "ethtool %s %s: %s", cmdname, ifname, strerror_r(e, buf, sizeof buf));
    return e == EOPNOTSUPP || e == EINVAL ? -2 : -1;
}

/* Clears err and checks the name fits an ifreq. */
static int s_begin(const char *ifname, char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    if (strlen(ifname) >= IFNAMSIZ) {
        if (err && errsz)
            snprintf(err, errsz, "ethtool %.*s...: interface name longer than %d", IFNAMSIZ, ifname,
                     IFNAMSIZ - 1);
        return -1;
    }
    return 0;
}

/* The number of ETH_SS_STATS strings: GSSET_INFO, or GDRVINFO's n_stats on
 * kernels before 2.6.27 that lack GSSET_INFO. */
static int s_stats_count(ethtool_t *self, const char *ifname, uint32_t *count, char *err,
                         size_t errsz)
{
    union {
        struct ethtool_sset_info info;
        uint8_t room[sizeof(struct ethtool_sset_info) + sizeof(uint32_t)];
    } u;
    memset(&u, 0, sizeof u);
    u.info.cmd = ETHTOOL_GSSET_INFO;
    u.info.sset_mask = 1ULL << ETH_SS_STATS;
    int rc = s_ioctl(self, ifname, &u.info, "ETHTOOL_GSSET_INFO", err, errsz);
    if (rc == 0) {
        /* the kernel clears the bit of a set the driver does not have */
        *count = u.info.sset_mask & (1ULL << ETH_SS_STATS) ? u.info.data[0] : 0;
        return 0;
    }
    if (rc == -1)
        return -1;
    struct ethtool_drvinfo drv = {.cmd = ETHTOOL_GDRVINFO};
    rc = s_ioctl(self, ifname, &drv, "ETHTOOL_GDRVINFO", err, errsz);
    *count = drv.n_stats;
    return rc;
}

/* Fills set with the normalised names of `count` strings. The kernel writes
 * as many strings as the driver has *now*, which may exceed `count` if the
 * driver changed in between (e.g. `ethtool -L`): the buffer has room to
 * spare, and a different length is reported as an error. */
static int s_fetch_names(ethtool_t *self, const char *ifname, uint32_t count, strset_t *set,
                         char *err, size_t errsz)
{
    size_t room = 2 * (size_t)count + 64;
    struct ethtool_gstrings *gs = calloc(1, sizeof *gs + room * ETH_GSTRING_LEN);
    char(*names)[NAME_LEN] = calloc(count, NAME_LEN);
    int rc = gs && names ? 0 : -1;
    if (rc != 0 && err && errsz)
        snprintf(err, errsz, "ethtool ETHTOOL_GSTRINGS %s: out of memory", ifname);
    if (rc == 0) {
        gs->cmd = ETHTOOL_GSTRINGS;
        gs->string_set = ETH_SS_STATS;
        gs->len = count;
        rc = s_ioctl(self, ifname, gs, "ETHTOOL_GSTRINGS", err, errsz);
    }
    if (rc == 0 && gs->len != count) {
        snprintf(err, err ? errsz : 0, "ethtool ETHTOOL_GSTRINGS %s: %u names, expected %u", ifname,
                 gs->len, count);
        rc = -1;
    }
    for (uint32_t i = 0; rc == 0 && i < count; i++) {
        const char *raw = (const char *)gs->data + (size_t)i * ETH_GSTRING_LEN;
        if (s_normalise(raw, strnlen(raw, ETH_GSTRING_LEN), names[i], NAME_LEN) != 0)
            snprintf(names[i], NAME_LEN, "stat%u", i); /* an empty name: keep the value */
    }
    free(gs);
    if (rc != 0) {
        free(names);
        return rc;
    }
    free(set->names);
    set->names = names;
    set->count = count;
    return 0;
}

/* Returns the cached set of ifname if it still matches ifindex and count,
 * else fetches it again into the least recently used slot. */
static int s_strset_get(ethtool_t *self, const char *ifname, uint32_t count, strset_t **out,
                        char *err, size_t errsz)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    int ifindex = ioctl(self->fd, SIOCGIFINDEX, &ifr) == 0 ? ifr.ifr_ifindex : 0;
    strset_t *set = &self->cache[0];
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        strset_t *s = &self->cache[i];
        if (strcmp(s->ifname, ifname) == 0) {
            set = s;
            break;
        }
        if (s->used < set->used)
            set = s;
    }
    set->used = ++self->clock;
    if (strcmp(set->ifname, ifname) == 0 && set->ifindex == ifindex && set->count == count) {
        *out = set;
        return 0;
    }
    s_strset_clear(set);
    int rc = s_fetch_names(self, ifname, count, set, err, errsz);
    if (rc != 0)
        return rc;
    snprintf(set->ifname, sizeof set->ifname, "%s", ifname);
    set->ifindex = ifindex;
    set->used = self->clock;
    *out = set;
    return 0;
}

/* Reads `count` values into self->stats, growing it as needed. */
static int s_fetch_values(ethtool_t *self, const char *ifname, uint32_t count, char *err,
                          size_t errsz)
{
    size_t room = 2 * (size_t)count + 64; /* as in s_fetch_names */
    if (room > self->stats_cap) {
        struct ethtool_stats *grown = realloc(self->stats, sizeof *grown + room * sizeof(uint64_t));
        if (!grown) {
            snprintf(err, err ? errsz : 0, "ethtool ETHTOOL_GSTATS %s: out of memory", ifname);
            return -1;
        }
        self->stats = grown;
        self->stats_cap = room;
    }
    memset(self->stats, 0, sizeof *self->stats);
    self->stats->cmd = ETHTOOL_GSTATS;
    self->stats->n_stats = count;
    int rc = s_ioctl(self, ifname, self->stats, "ETHTOOL_GSTATS", err, errsz);
    if (rc == 0 && self->stats->n_stats != count) {
        snprintf(err, err ? errsz : 0, "ethtool ETHTOOL_GSTATS %s: %u values, expected %u", ifname,
                 self->stats->n_stats, count);
        rc = -1;
    }
    return rc;
}

int ethtool_read_stats(ethtool_t *self, const char *ifname, reading_fn *emit, void *ctx, char *err,
                       size_t errsz)
{
    assert(self && ifname && emit);
    uint32_t count;
    strset_t *set = NULL;
    if (s_begin(ifname, err, errsz) != 0)
        return -1;
    int rc = s_stats_count(self, ifname, &count, err, errsz);
    if (rc != 0)
        return rc;
    if (count == 0) {
        snprintf(err, err ? errsz : 0,
                 "ethtool ETHTOOL_GSSET_INFO %s: the driver has no statistics", ifname);
        return -2;
    }
    if (count > STATS_MAX) {
        snprintf(err, err ? errsz : 0, "ethtool ETHTOOL_GSSET_INFO %s: %u statistics, more than %u",
                 ifname, count, STATS_MAX);
        return -1;
    }
    rc = s_strset_get(self, ifname, count, &set, err, errsz);
    if (rc == 0)
        rc = s_fetch_values(self, ifname, count, err, errsz);
    if (rc != 0) {
        if (rc == -1 && set)
            s_strset_clear(set); /* the driver may have changed: fetch names again */
        return rc;
    }
    for (uint32_t i = 0; i < count; i++) {
        reading_t r = {.source = source_name(SOURCE_ETHTOOL),
                       .device = ifname,
                       .name = set->names[i],
                       .value = self->stats->data[i]};
        emit(ctx, &r);
    }
    return 0;
}

/* A setting an ioctl answered: its series name and value. */
typedef struct {
    const char *name;
    uint32_t value;
} setting_t;

static void s_emit_settings(source_t source, const char *ifname, const setting_t *out, size_t n,
                            reading_fn *emit, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        reading_t r = {.source = source_name(source), .device = ifname, .name = out[i].name,
                       .value = out[i].value};
        emit(ctx, &r);
    }
}

int ethtool_read_ring(ethtool_t *self, const char *ifname, reading_fn *emit, void *ctx, char *err,
                      size_t errsz)
{
    assert(self && ifname && emit);
    if (s_begin(ifname, err, errsz) != 0)
        return -1;
    struct ethtool_ringparam ring = {.cmd = ETHTOOL_GRINGPARAM};
    int rc = s_ioctl(self, ifname, &ring, "ETHTOOL_GRINGPARAM", err, errsz);
    if (rc != 0)
        return rc;
    const setting_t out[] = {{RING_RX_MAX, ring.rx_max_pending},
                             {RING_TX_MAX, ring.tx_max_pending},
                             {RING_RX, ring.rx_pending},
                             {RING_TX, ring.tx_pending}};
    s_emit_settings(SOURCE_RING, ifname, out, sizeof out / sizeof out[0], emit, ctx);
    return 0;
}

int ethtool_read_channels(ethtool_t *self, const char *ifname, reading_fn *emit, void *ctx,
                          char *err, size_t errsz)
{
    assert(self && ifname && emit);
    if (s_begin(ifname, err, errsz) != 0)
        return -1;
    struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
    int rc = s_ioctl(self, ifname, &ch, "ETHTOOL_GCHANNELS", err, errsz);
    if (rc != 0)
        return rc;
    const setting_t out[] = {{"rx", ch.rx_count},           {"rx_max", ch.max_rx},
                             {"tx", ch.tx_count},           {"tx_max", ch.max_tx},
                             {"other", ch.other_count},     {"other_max", ch.max_other},
                             {"combined", ch.combined_count}, {"combined_max", ch.max_combined}};
    s_emit_settings(SOURCE_CHANNELS, ifname, out, sizeof out / sizeof out[0], emit, ctx);
    return 0;
}
