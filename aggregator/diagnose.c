/* diagnose: one rule per layer names the bounding setting and the remedy,
 * from the host's own reported settings (the value in effect at the end of
 * the range). Setting changes inside the range are events: the drops of
 * each layer before and after them say whether a change ended the drops. */
#include "diagnose.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "sat.h"
#include "source.h"
#include "text.h"
#include "ts.h"

#define PRECEDE_NS TS_NS_PER_S /* a burst this long before the first drop "preceded" it */
#define ONLOAD_RXQ_MAX 4096    /* EF_RXQ_SIZE's largest value on EF10 and X2 adapters */
/* Room for a device as a shell word: at worst every byte a quote, 4 bytes. */
#define WORD_SIZE (4 * sizeof((diag_counter_t *)NULL)->device + 3)

static int64_t s_twice(int64_t v)
{
    return sat_add(v, v);
}

/* s as one word of a POSIX shell command, for a remedy that a user pastes
 * into a shell: a name (text.h) as it is, anything else in single quotes
 * with each ' as '\''. Devices come from collectors, and rows stored
 * before ingest checked names (or any later path) may hold anything. The
 * name set has '#' and '[ ]', which a shell reads as a comment or a glob,
 * so those are quoted too, and so is "", which would vanish. Returns s or
 * out (borrowed); WORD_SIZE bytes of out hold any device; in fewer, a word
 * that does not fit comes back as the placeholder DEVICE. */
static const char *s_shell_word(const char *s, char *out, size_t size)
{
    if (s[0] && text_is_name(s) && !strpbrk(s, "#[]"))
        return s;
    if (4 * strlen(s) + 3 > size)
        return "DEVICE";
    size_t o = 0;
    out[o++] = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *s;
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
    return out;
}

/* The value of setting source/device/name in effect at `at`; false if none. */
static bool s_setting(const diag_input_t *in, const char *source, const char *device,
                      const char *name, int64_t at, int64_t *value)
{
    bool found = false;
    for (size_t i = 0; i < in->nsettings; i++) {
        const diag_setting_t *s = &in->settings[i];
        if (s->ts_ns <= at && strcmp(s->name, name) == 0 && strcmp(s->device, device) == 0 &&
            strcmp(s->source, source) == 0) {
            *value = s->value;
            found = true;
        }
    }
    return found;
}

static bool s_sysctl(const diag_input_t *in, const char *name, int64_t *value)
{
    return s_setting(in, source_name(SOURCE_SYSCTL), "", name, in->to_ns, value);
}

/* How well c names the cause of its layer's drops: a counter of its own
 * (non-overlapping) best, then a drop reason the kernel gave, then a total
 * or mirror; a vague reason (counters.h) names none. */
static int s_rank(const diag_counter_t *c)
{
    if (!c->overlap)
        return 3;
    if (!source_is(c->source, SOURCE_REASON))
        return 1;
    return counters_classify(c->source, c->name).vague ? 0 : 2;
}

/* The counter of `layer` that names the cause best, the most drops among equals. */
static const diag_counter_t *s_top(const diag_input_t *in, layer_t layer)
{
    const diag_counter_t *top = NULL;
    for (size_t i = 0; i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        if (c->layer == layer && (!top || s_rank(c) > s_rank(top) ||
                                  (s_rank(c) == s_rank(top) && c->drops > top->drops)))
            top = c;
    }
    return top;
}

static bool s_has(const diag_input_t *in, layer_t layer, const char *name_part)
{
    for (size_t i = 0; i < in->ncounters; i++)
        if (in->counters[i].layer == layer && in->counters[i].drops > 0 &&
            strstr(in->counters[i].name, name_part))
            return true;
    return false;
}

/* Whether an Onload stack may post dev's ring: the host reports Onload
 * stacks (any onload setting), and the rings they post (STACK:IFACE/
 * rxq_size) include dev's, or are not reported at all. A NIC no stack posts
 * on carries kernel traffic only: its ring is the driver's. */
static bool s_onload_on(const diag_input_t *in, const char *dev)
{
    bool onload = false, rings = false;
    for (size_t i = 0; i < in->nsettings; i++) {
        const diag_setting_t *s = &in->settings[i];
        if (!source_is(s->source, SOURCE_ONLOAD) || s->ts_ns > in->to_ns)
            continue;
        onload = true;
        if (strcmp(s->name, "rxq_size") != 0)
            continue;
        const char *colon = strchr(s->device, ':');
        if (colon && strcmp(colon + 1, dev) == 0)
            return true;
        rings = true;
    }
    return onload && !rings;
}

/* The smallest RX ring an Onload stack posts on dev at the end of the range:
 * its rxq_size on STACK:dev, else the smallest EF_RXQ_SIZE a stack set
 * (automatic, -1, is not reported). stack (size 192) names the stack. */
static bool s_onload_rxq(const diag_input_t *in, const char *dev, int64_t *n, char *stack)
{
    bool found = false;
    size_t dn = strlen(dev);
    for (int pass = 0; pass < 2 && !found; pass++) {
        for (size_t i = 0; i < in->nsettings; i++) {
            const diag_setting_t *s = &in->settings[i];
            const char *colon = strchr(s->device, ':');
            int64_t v;
            bool match = pass == 0 ? strcmp(s->name, "rxq_size") == 0 && colon &&
                                         strcmp(colon + 1, dev) == 0 && dn > 0
                                   : strcmp(s->name, ONLOAD_RXQ_SIZE) == 0 && !colon;
            if (!source_is(s->source, SOURCE_ONLOAD) || !match ||
                !s_setting(in, s->source, s->device, s->name, in->to_ns, &v) ||
                (found && v >= *n))
                continue;
            *n = v;
            snprintf(stack, 192, "%.*s", (int)(colon ? colon - s->device : 191), s->device);
            found = true;
        }
    }
    return found;
}

/* sfc's nodesc counters on an Onload host: the adapter ran out of the
 * buffers Onload posts, so the ring is Onload's (EF_RXQ_SIZE), not the
 * kernel driver's `ethtool -G`. */
static void s_nic_onload(const diag_input_t *in, const char *dev, diag_finding_t *a)
{
    int64_t n = 0;
    char stack[192];
    if (!s_onload_rxq(in, dev, &n, stack)) {
        snprintf(a->limit, sizeof a->limit, "the Onload RX ring of %s (EF_RXQ_SIZE; its size "
                 "is not reported: onload_stackdump lots shows it less one, as rxq: cap=)", dev);
        snprintf(a->remedy, sizeof a->remedy, "set EF_RXQ_SIZE=%d (the most) in the environment "
                 "of the Onload applications on %s, and keep their stacks polled (EF_POLL_USEC); "
                 "if memory_pressure_drops or refill_rx_limited moved, raise EF_MAX_PACKETS "
                 "first: a ring Onload cannot refill drops at any size", ONLOAD_RXQ_MAX, dev);
        return;
    }
    snprintf(a->limit, sizeof a->limit, "the Onload RX ring of %s: EF_RXQ_SIZE = %lld "
             "descriptors (stack %s): the adapter ran out of the buffers Onload posts", dev,
             (long long)n, stack);
    if (n < ONLOAD_RXQ_MAX) {
        int64_t m = s_twice(n) < ONLOAD_RXQ_MAX ? s_twice(n) : ONLOAD_RXQ_MAX;
        snprintf(a->remedy, sizeof a->remedy, "raise EF_RXQ_SIZE to %lld (max %d) in the "
                 "environment of the application of stack %s (the kernel driver's ring, which "
                 "ethtool sets, is not the one that ran dry), and keep the stack polled "
                 "(EF_POLL_USEC); if memory_pressure_drops or refill_rx_limited moved, raise "
                 "EF_MAX_PACKETS first", (long long)m, ONLOAD_RXQ_MAX, stack);
    } else {
        snprintf(a->remedy, sizeof a->remedy, "EF_RXQ_SIZE is at its maximum (%d): stack %s "
                 "must poll faster (spin: EF_POLL_USEC, on a core of its own) or the load go to "
                 "more stacks and queues", ONLOAD_RXQ_MAX, stack);
    }
}

/* The most pause frames one counter of dev counted in the range, by
 * direction: the most, not the sum, as drivers count the same frames in
 * several counters (a link total and per priority, mlx5 ctrl_phy and global). */
static void s_pause(const diag_input_t *in, const char *dev, int64_t *sent, int64_t *received)
{
    *sent = *received = 0;
    for (size_t i = 0; i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        if (c->layer != LAYER_NIC || strcmp(c->device, dev) != 0)
            continue;
        pause_t p = counters_pause(c->source, c->name);
        int64_t *to = p == PAUSE_FRAMES_SENT ? sent : p == PAUSE_FRAMES_RECEIVED ? received : NULL;
        if (to && c->drops > *to)
            *to = c->drops;
    }
}

/* Says what flow control did while the ring overflowed (after the remedy). */
static void s_nic_pause(const diag_input_t *in, const char *dev, diag_finding_t *a)
{
    int64_t sent, received;
    s_pause(in, dev, &sent, &received);
    size_t len = strlen(a->remedy);
    if (sent > 0)
        len += (size_t)snprintf(a->remedy + len, len < sizeof a->remedy ? sizeof a->remedy - len
                                                                         : 0,
                                "; the NIC sent %lld pause frames after its ring filled: the "
                                "switch held or dropped traffic upstream; check the switch's "
                                "pause/PFC drops on the port facing %s", (long long)sent, dev);
    if (received > 0 && len < sizeof a->remedy)
        snprintf(a->remedy + len, sizeof a->remedy - len, "; the NIC received %lld pause "
                 "frames: the switch held this host's transmit", (long long)received);
}

static void s_nic_ring(const diag_input_t *in, const char *dev, diag_finding_t *a)
{
    char word[WORD_SIZE];
    const char *arg = s_shell_word(dev, word, sizeof word);
    int64_t rx, max;
    bool known = s_setting(in, source_name(SOURCE_RING), dev, RING_RX, in->to_ns, &rx) &&
                 s_setting(in, source_name(SOURCE_RING), dev, RING_RX_MAX, in->to_ns, &max);
    if (!known) {
        snprintf(a->limit, sizeof a->limit, "the RX ring of %s (its size is not reported by the "
                 "driver)", dev);
        snprintf(a->remedy, sizeof a->remedy, "check the ring with `ethtool -g %s` and raise it "
                 "to its maximum; spread the load over more queues (ethtool -L) and CPUs", arg);
    } else if (rx < max) {
        snprintf(a->limit, sizeof a->limit, "the RX ring of %s holds %lld of a possible %lld "
                 "descriptors", dev, (long long)rx, (long long)max);
        snprintf(a->remedy, sizeof a->remedy, "ethtool -G %s rx %lld", arg, (long long)max);
    } else {
        snprintf(a->limit, sizeof a->limit, "the RX ring of %s is at its maximum (%lld)", dev,
                 (long long)max);
        snprintf(a->remedy, sizeof a->remedy, "spread the load: more queues (ethtool -L %s "
                 "combined N), RSS and IRQ affinity on idle CPUs; check softnet time_squeeze",
                 arg);
    }
}

static void s_nic(const diag_input_t *in, const diag_counter_t *top, diag_finding_t *a)
{
    if (source_is(top->source, SOURCE_ETHTOOL) && strstr(top->name, "nodesc") &&
        s_onload_on(in, top->device))
        s_nic_onload(in, top->device, a);
    else
        s_nic_ring(in, top->device, a);
    s_nic_pause(in, top->device, a);
}

static void s_backlog(const diag_input_t *in, diag_finding_t *a)
{
    int64_t v;
    if (s_sysctl(in, SYSCTL_NETDEV_MAX_BACKLOG, &v)) {
        snprintf(a->limit, sizeof a->limit, "net.core.netdev_max_backlog = %lld packets per CPU",
                 (long long)v);
        snprintf(a->remedy, sizeof a->remedy, "sysctl -w net.core.netdev_max_backlog=%lld, or "
                 "spread receive processing over more CPUs (RPS/RFS) and make it cheaper",
                 (long long)s_twice(v));
    } else {
        snprintf(a->limit, sizeof a->limit, "net.core.netdev_max_backlog (a global setting, not "
                 "visible in this network namespace; 1000 by default)");
        snprintf(a->remedy, sizeof a->remedy, "raise net.core.netdev_max_backlog on the host "
                 "(e.g. sysctl -w net.core.netdev_max_backlog=2000), or spread receive processing "
                 "over more CPUs (RPS/RFS) and make it cheaper");
    }
}

static void s_budget(const diag_input_t *in, diag_finding_t *a)
{
    int64_t b = 300, u = 2000;
    bool known = s_sysctl(in, SYSCTL_NETDEV_BUDGET, &b);
    s_sysctl(in, SYSCTL_NETDEV_BUDGET_USECS, &u);
    snprintf(a->limit, sizeof a->limit, "net.core.netdev_budget = %lld packets and "
             "netdev_budget_usecs = %lld per softirq run%s (time_squeeze is a precursor: packets "
             "are lost only if the ring or backlog fill before the next run)", (long long)b,
             (long long)u, known ? "" : " (kernel defaults: not visible in this namespace)");
    snprintf(a->remedy, sizeof a->remedy, "sysctl -w net.core.netdev_budget=%lld "
             "net.core.netdev_budget_usecs=%lld; add queues or move IRQs off busy CPUs",
             (long long)s_twice(b), (long long)s_twice(u));
}

/* What capped a socket's buffer: sock_setsockopt's SO_RCVBUF caps the
 * request at net.core.rmem_max, then doubles it (the kernel's own
 * bookkeeping), so a socket granted exactly 2 x rmem_max asked for at
 * least rmem_max and got less than it asked for. */
static int s_granted(const diag_input_t *in, const diag_counter_t *c, char *out, size_t size)
{
    int64_t got, rmax;
    if (!s_setting(in, c->source, c->device, "rcvbuf", in->to_ns, &got))
        return 0;
    if (s_sysctl(in, SYSCTL_RMEM_MAX, &rmax) && got == s_twice(rmax))
        return snprintf(out, size, " got SO_RCVBUF %lld bytes: net.core.rmem_max = %lld caps a "
                        "request at 2 x rmem_max", (long long)got, (long long)rmax);
    return snprintf(out, size, " got SO_RCVBUF %lld bytes", (long long)got);
}

/* A socket's own drop counter (not its retransmissions, which are evidence). */
static bool s_sock_drops(const diag_counter_t *c)
{
    return source_is(c->source, SOURCE_SOCK) && strcmp(c->name, "drops") == 0 && c->drops > 0;
}

/* The dropping sockets, for the socket finding: "udp:A:P (N)", or
 * "udp:A:P held by PID/COMM (N)" when the process holding it is known, then
 * the buffer it was granted and what capped it when the collector read it
 * (sock_diag). */
static void s_sockets(const diag_input_t *in, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        if (!s_sock_drops(c))
            continue;
        char one[400], granted[160] = ""; /* whole entries only */
        s_granted(in, c, granted, sizeof granted);
        int n = snprintf(one, sizeof one, "%s%s%s (%lld)%s", c->device,
                         c->owner[0] ? " held by " : "", c->owner, (long long)c->drops, granted);
        if (n > 0 && len + (size_t)n + 3 < size)
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", one);
    }
}

/* The peer of "tcp:LA:LP-RA:RP" on the same host, "tcp:RA:RP-LA:LP" (a
 * "#inode" suffix dropped); false for a device of another form. */
static bool s_peer(const char *device, char *out, size_t size)
{
    const char *colon = strchr(device, ':'), *dash = strchr(device, '-');
    if (strncmp(device, "tcp", 3) != 0 || !colon || !dash || dash < colon)
        return false;
    size_t rl = strcspn(dash + 1, "#");
    int n = snprintf(out, size, "%.*s:%.*s-%.*s", (int)(colon - device), device, (int)rl,
                     dash + 1, (int)(dash - colon - 1), colon + 1);
    return n > 0 && (size_t)n < size;
}

/* Retransmissions of `series` read at or after `from`; -1 when it has no row. */
static int64_t s_retrans_after(const diag_input_t *in, const char *series, int64_t from)
{
    int64_t n = -1;
    for (size_t i = 0; i < in->nretrans; i++)
        if (strcmp(in->retrans[i].series, series) == 0)
            n = sat_add(n < 0 ? 0 : n, in->retrans[i].ts_ns >= from ? in->retrans[i].delta : 0);
    return n;
}

/* The TCP story: the socket whose queue was pruned (the sock drops counter
 * of a tcp device that dropped most), and the retransmissions that followed
 * the first prune: its peer's when the peer is on this host, else the
 * host's Tcp.RetransSegs (all of them: a peer elsewhere shows its own). */
static void s_tcp_story(const diag_input_t *in, char *out, size_t size)
{
    const diag_counter_t *sock = NULL;
    int64_t prune_ns = INT64_MAX;
    out[0] = '\0';
    for (size_t i = 0; i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        bool tcp_sock = s_sock_drops(c) && strncmp(c->device, "tcp", 3) == 0;
        if (tcp_sock && (!sock || c->drops > sock->drops))
            sock = c;
        if (c->layer == LAYER_SOCKET && c->drops > 0 && c->first_ns < prune_ns &&
            (tcp_sock || strstr(c->name, "Prune") || strstr(c->name, "RcvQDrop")))
            prune_ns = c->first_ns;
    }
    size_t len = 0;
    int64_t rcvbuf;
    if (sock) {
        len = (size_t)snprintf(out, size, "; pruned: %s (%lld segments dropped", sock->device,
                               (long long)sock->drops);
        if (s_setting(in, sock->source, sock->device, "rcvbuf", in->to_ns, &rcvbuf) && len < size)
            len += (size_t)snprintf(out + len, size - len, ", SO_RCVBUF %lld bytes",
                                    (long long)rcvbuf);
        if (len < size)
            len += (size_t)snprintf(out + len, size - len, ")");
    }
    char peer[192], series[DIAG_SERIES_SIZE];
    int64_t n = -1;
    if (sock && s_peer(sock->device, peer, sizeof peer)) {
        snprintf(series, sizeof series, "sock/%s/retrans", peer);
        n = s_retrans_after(in, series, prune_ns);
        if (n >= 0 && len < size)
            len += (size_t)snprintf(out + len, size - len, "; the peer %s retransmitted %lld "
                                    "segments after the prune", peer, (long long)n);
    }
    if (n < 0 && (n = s_retrans_after(in, "snmp//Tcp.RetransSegs", prune_ns)) >= 0 && len < size)
        len += (size_t)snprintf(out + len, size - len, "; this host retransmitted %lld TCP "
                                "segments after the prune (Tcp.RetransSegs)", (long long)n);
    int64_t rto = s_retrans_after(in, "netstat//TcpExt.TCPTimeouts", prune_ns);
    if (rto > 0 && len < size) /* host-wide: not a part of the peer's count */
        snprintf(out + len, size - len, "; this host's TCP timed out %lld times after the prune "
                 "(TCPTimeouts: each doubles the next wait)", (long long)rto);
}

/* Whether TCP's socket drops lead UDP's: the largest count of each (their
 * counters overlap, so no sums), sockets' own drops by their protocol. */
static bool s_tcp_leads(const diag_input_t *in)
{
    int64_t tcp = 0, udp = 0;
    for (size_t i = 0; i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        char series[DIAG_SERIES_SIZE];
        snprintf(series, sizeof series, "%s/%s/%s", c->source, c->device, c->name);
        if (c->layer != LAYER_SOCKET || c->drops <= 0 || counters_is_retrans(series))
            continue; /* a sender's retransmissions: evidence, not this host's drops */
        const char *what = s_sock_drops(c) ? c->device : c->name;
        int64_t *to = strncmp(what, "tcp", 3) == 0 || strncmp(what, "TcpExt.", 7) == 0 ? &tcp
                      : strncmp(what, "udp", 3) == 0 || strncmp(what, "Udp", 3) == 0 ? &udp
                                                                                     : NULL;
        if (to && c->drops > *to)
            *to = c->drops;
    }
    return tcp > 0 && tcp >= udp;
}

static void s_socket(const diag_input_t *in, diag_finding_t *a)
{
    int64_t rmax = 0, rdef = 0, tcp = 0;
    char socks[512];
    s_sockets(in, socks, sizeof socks);
    if (s_tcp_leads(in)) {
        char max[48] = "unknown", story[400];
        if (s_sysctl(in, SYSCTL_TCP_RMEM_MAX, &tcp))
            snprintf(max, sizeof max, "%lld bytes", (long long)tcp);
        s_tcp_story(in, story, sizeof story);
        snprintf(a->limit, sizeof a->limit, "the TCP receive buffer (net.ipv4.tcp_rmem max = %s, "
                 "or the SO_RCVBUF the application set): its queue was pruned%s", max, story);
        snprintf(a->remedy, sizeof a->remedy, "the receiving application does not read fast "
                 "enough: fix the reader; a larger buffer (do not set SO_RCVBUF, let tcp_rmem "
                 "autotune) only buys time; the sender's retransmissions back off exponentially, "
                 "so the stall outlasts the reader's");
        return;
    }
    if (s_has(in, LAYER_SOCKET, "MemErrors")) {
        snprintf(a->limit, sizeof a->limit, "net.ipv4.udp_mem: the global UDP memory");
        snprintf(a->remedy, sizeof a->remedy, "raise net.ipv4.udp_mem on the host, and find the "
                 "sockets holding memory (ss -uamn)");
        return;
    }
    bool known = s_sysctl(in, SYSCTL_RMEM_MAX, &rmax);
    s_sysctl(in, SYSCTL_RMEM_DEFAULT, &rdef);
    if (known)
        snprintf(a->limit, sizeof a->limit, "the socket receive buffer: net.core.rmem_max = %lld "
                 "bytes caps SO_RCVBUF (default rmem_default = %lld)%s%s", (long long)rmax,
                 (long long)rdef, socks[0] ? "; dropping sockets: " : "", socks);
    else
        snprintf(a->limit, sizeof a->limit, "the socket receive buffer (SO_RCVBUF)%s%s",
                 socks[0] ? "; dropping sockets: " : "", socks);
    int64_t want = s_twice(rmax) > 8388608 ? s_twice(rmax) : 8388608;
    snprintf(a->remedy, sizeof a->remedy, "the application reading %s falls behind: read faster "
             "or from more sockets (SO_REUSEPORT), and ask for a larger SO_RCVBUF, which "
             "net.core.rmem_max must allow: sysctl -w net.core.rmem_max=%lld (a request is "
             "capped at rmem_max, then doubled: up to %lld bytes granted)",
             socks[0] ? socks : "the socket", (long long)want, (long long)s_twice(want));
}

static void s_listen(const diag_input_t *in, diag_finding_t *a)
{
    int64_t s = 0;
    if (s_sysctl(in, SYSCTL_SOMAXCONN, &s))
        snprintf(a->limit, sizeof a->limit, "the accept queue: net.core.somaxconn = %lld caps "
                 "every listen() backlog", (long long)s);
    else
        snprintf(a->limit, sizeof a->limit, "the accept queue (the listen() backlog, capped by "
                 "net.core.somaxconn)");
    snprintf(a->remedy, sizeof a->remedy, "accept faster, and listen() with a larger backlog "
             "that net.core.somaxconn allows: sysctl -w net.core.somaxconn=%lld",
             (long long)(s_twice(s) > 4096 ? s_twice(s) : 4096));
}

static void s_qdisc(const diag_counter_t *top, diag_finding_t *a)
{
    char dev[192];
    snprintf(dev, sizeof dev, "%s", top->device);
    char *colon = strchr(dev, ':');
    const char *handle = colon ? colon + 1 : "";
    if (colon)
        *colon = '\0';
    char dev_word[WORD_SIZE], handle_word[WORD_SIZE];
    snprintf(a->limit, sizeof a->limit, "the limit of qdisc %s on %s", handle, dev);
    snprintf(a->remedy, sizeof a->remedy, "raise its limit (tc qdisc change dev %s handle %s "
             "... limit N) or use fq_codel, and pace the sender (its sendto() succeeds while "
             "the packet is dropped: Udp SndbufErrors)",
             s_shell_word(dev, dev_word, sizeof dev_word),
             s_shell_word(handle, handle_word, sizeof handle_word));
}

/* The protocol layer's causes: no setting bounds these drops, so each
 * cause's limit says what refused the packets, and its remedy where to look.
 * Patterns (fnmatch) on the counter's name; the first that matches wins. */
static const struct {
    const char *names[8]; /* NULL-terminated */
    const char *limit;  /* followed by the series */
    const char *remedy; /* followed by the device as a shell word when `device` */
    bool device;
} s_proto_causes[] = {
    {{"*NoPorts", "NO_SOCKET", "*UnknownProtos", "UNHANDLED_PROTO", "IP_NOPROTO"},
     "nothing to raise: no socket or protocol handler on this host took them",
     "start the receiver, or fix the senders' destination: `ss -uanp` lists the ports bound "
     "here", false},
    {{"*Csum*", "*CSUM*", "*HdrErrors", "Tcp.InErrs", "*Truncated*", "*HDR*"},
     "nothing to raise: the packets arrived damaged",
     "check the link (ethtool -S: rx_crc_errors), cables and optics, the NIC's offloads "
     "(ethtool -k) and the sender", false},
    {{"NETFILTER_DROP", "*NETFILTER*"}, "a firewall rule (netfilter) on this host dropped them",
     "find the rule whose counter moves: nft list ruleset, or iptables -L -v -n", false},
    {{"IP_RPFILTER"},
     "reverse-path filtering (net.ipv4.conf.*.rp_filter) refused packets from a source it routes "
     "elsewhere",
     "make replies leave by the interface the packets came in on, or loosen the check: sysctl -w "
     "net.ipv4.conf.all.rp_filter=2", false},
    {{"*NoRoutes", "*NOROUTES", "*AddrErrors", "*ADDRERRORS", "IPV6DISABLED"},
     "routing: no route or no local address for the packets' destination",
     "check `ip route get DESTINATION` and the host's addresses (ip addr)", false},
    {{"*xdp*", "XDP"}, "an XDP program chose to drop them: its policy, not a limit",
     "check the program attached to the device: bpftool net", false},
    {{"*Reasm*", "*FRAG*", "*Frag*"},
     "IP fragment reassembly: net.ipv4.ipfrag_high_thresh bounds its memory, ipfrag_time its "
     "wait",
     "send datagrams under the path MTU so nothing is fragmented, or raise "
     "net.ipv4.ipfrag_high_thresh", false},
    {{"rx_nohandler"}, "a device that delivers only exact matches (an inactive bond slave) got "
     "them", "check which slave the bond uses: cat /proc/net/bonding/BOND", false},
    {{"rx_otherhost_dropped"}, "frames for another host's MAC address, seen in promiscuous mode: "
     "not this host's traffic", "nothing is lost; turn promiscuous mode off if nobody needs "
     "it: ip link set promisc off dev ", true},
};

static void s_proto(const diag_counter_t *top, diag_finding_t *a)
{
    char series[sizeof top->source + sizeof top->device + sizeof top->name + 2];
    char word[4 * sizeof series + 3]; /* any series quoted whole */
    snprintf(series, sizeof series, "%s/%s/%s", top->source, top->device, top->name);
    for (size_t i = 0; i < sizeof s_proto_causes / sizeof s_proto_causes[0]; i++) {
        for (const char *const *n = s_proto_causes[i].names; *n; n++) {
            if (fnmatch(*n, top->name, 0) != 0)
                continue;
            char dev[WORD_SIZE];
            snprintf(a->limit, sizeof a->limit, "%s (%.200s)", s_proto_causes[i].limit, series);
            snprintf(a->remedy, sizeof a->remedy, "%s%s", s_proto_causes[i].remedy,
                     s_proto_causes[i].device ? s_shell_word(top->device, dev, sizeof dev) : "");
            return;
        }
    }
    /* The kernel says no more than the counter's name: say so, and where
     * finer causes come from. */
    snprintf(a->limit, sizeof a->limit, "nothing to raise: the kernel counts these in %.300s "
             "and gives no finer cause", series);
    snprintf(a->remedy, sizeof a->remedy, "what the counter counts: dropscope explain %s; where "
             "each packet is freed: the collector's eBPF backend (drop reasons), or perf trace -e "
             "skb:kfree_skb", s_shell_word(series, word, sizeof word));
}

/* The stack of an onload device: STACK, STACK:IFACE or STACK:udp:A:P (a
 * stack's name never holds ':', the collector names such a stack by its
 * number). */
static void s_stack_of(const char *device, char *out, size_t size)
{
    snprintf(out, size, "%.*s", (int)strcspn(device, ":"), device);
}

/* The Onload sockets that overflowed: "STACK:udp:A:P (N)", whole entries. */
static void s_onload_sockets(const diag_input_t *in, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        if (!source_is(c->source, SOURCE_ONLOAD) || strcmp(c->name, "oflow_drop") != 0 ||
            c->drops <= 0)
            continue;
        char one[256];
        int n = snprintf(one, sizeof one, "%s (%lld)", c->device, (long long)c->drops);
        if (n > 0 && len + (size_t)n + 3 < size)
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", one);
    }
}

/* A socket over its receive buffer: SO_RCVBUF, or EF_UDP_RCVBUF for all. */
static void s_onload_oflow(const diag_input_t *in, const diag_counter_t *top, const char *stack,
                           diag_finding_t *a)
{
    const char *src = source_name(SOURCE_ONLOAD);
    int64_t rcvbuf = 0, udp = 0;
    char socks[256], ef[64] = "";
    s_onload_sockets(in, socks, sizeof socks);
    bool known = s_setting(in, src, top->device, ONLOAD_RCVBUF, in->to_ns, &rcvbuf);
    if (s_setting(in, src, stack, ONLOAD_UDP_RCVBUF, in->to_ns, &udp) && udp > 0)
        snprintf(ef, sizeof ef, " = %lld", (long long)udp);
    /* Precisions keep it within the limit's room (devices are short: the
     * whole list of overflowing sockets is in the remedy). */
    if (known)
        snprintf(a->limit, sizeof a->limit, "the receive buffer of Onload socket %.120s: rcvbuf "
                 "= %lld bytes (SO_RCVBUF, or EF_UDP_RCVBUF%s for every UDP socket of stack "
                 "%.60s)", top->device, (long long)rcvbuf, ef, stack);
    else
        snprintf(a->limit, sizeof a->limit, "the receive buffer of Onload socket %.120s "
                 "(SO_RCVBUF, or EF_UDP_RCVBUF%s for every UDP socket of stack %.60s)",
                 top->device, ef, stack);
    snprintf(a->remedy, sizeof a->remedy, "the application reading %s falls behind: read "
             "faster (spin: EF_POLL_USEC) or from more sockets; and give it a larger buffer: "
             "SO_RCVBUF, or EF_UDP_RCVBUF=%lld in the environment of the application of stack "
             "%s; overflowing Onload sockets: %s", top->device,
             (long long)(known && rcvbuf > 0 ? s_twice(rcvbuf) : 4194304), stack, socks);
}

/* The stack out of packet buffers: EF_MAX_PACKETS (and EF_MAX_RX_PACKETS). */
static void s_onload_buffers(const diag_input_t *in, const char *stack, diag_finding_t *a)
{
    const char *src = source_name(SOURCE_ONLOAD);
    int64_t max = 32768, rx = 0; /* EF_MAX_PACKETS' default (opts_netif_def.h) */
    bool known = s_setting(in, src, stack, ONLOAD_MAX_PACKETS, in->to_ns, &max);
    bool rx_known = s_setting(in, src, stack, ONLOAD_MAX_RX_PACKETS, in->to_ns, &rx);
    char rxtext[96] = "";
    if (rx_known)
        snprintf(rxtext, sizeof rxtext, " and EF_MAX_RX_PACKETS (now %lld) to %lld with it",
                 (long long)rx, (long long)s_twice(rx));
    snprintf(a->limit, sizeof a->limit, "the packet buffers of Onload stack %s: EF_MAX_PACKETS "
             "= %lld%s: the stack ran out of them (memory pressure) and dropped what arrived",
             stack, (long long)max, known ? "" : " (the default: not reported)");
    snprintf(a->remedy, sizeof a->remedy, "raise EF_MAX_PACKETS (now %lld) to %lld%s in the "
             "environment of the application of stack %s (buffers need memory: huge pages, and "
             "the onload module's max_packets_per_stack); and read faster: queued datagrams "
             "hold buffers", (long long)max, (long long)s_twice(max), rxtext, stack);
}

static void s_onload(const diag_input_t *in, const diag_counter_t *top, diag_finding_t *a)
{
    char stack[192];
    s_stack_of(top->device, stack, sizeof stack);
    if (strcmp(top->name, "oflow_drop") == 0) {
        s_onload_oflow(in, top, stack, a);
    } else if (strcmp(top->name, "udp_rx_no_match_drops") == 0) {
        snprintf(a->limit, sizeof a->limit, "no limit: datagrams reached Onload stack %s for no "
                 "socket of it", stack);
        snprintf(a->remedy, sizeof a->remedy, "a socket closed while datagrams still came, or "
                 "it is bound (SO_BINDTODEVICE) to another interface or VLAN: compare "
                 "onload_stackdump lots' sockets with what the senders send");
    } else { /* memory_pressure_drops, mem_drop, and the buffer-bound rest */
        s_onload_buffers(in, stack, a);
    }
}

/* A CPU that serves the dropping NIC's interrupts (or whose backlog
 * dropped) and spent more than this share of the drop window in softirq
 * and irq is named as the bottleneck. Why 50 and not the field's 15: 15%
 * is a headroom target for capacity planning, not a cause; a diagnosis
 * blames the CPU only when it plausibly is one. Past about half its time,
 * softirq work spills to ksoftirqd (__do_softirq gives up after 2 ms or 10
 * rounds), which waits behind ordinary tasks, so NAPI polls come late and
 * the ring or backlog fills; and /proc/stat's ticks are sampled at 100 Hz,
 * so over a drop window of a second or two a share is good to ~10 points:
 * 50 stays clear of that noise and of an ordinary busy core. */
#define CPU_BUSY_PCT 50

/* cpu's share of its time in softirq and irq over the drops, in percent;
 * -1 when its time is not known. */
static int64_t s_cpu_pct(const diag_input_t *in, const char *cpu)
{
    int64_t soft = -1, irq = 0, total = 0;
    for (size_t i = 0; i < in->ncpu_time; i++) {
        const diag_counter_t *c = &in->cpu_time[i];
        if (strcmp(c->device, cpu) != 0)
            continue;
        if (strcmp(c->name, CPU_SOFTIRQ) == 0)
            soft = c->drops;
        else if (strcmp(c->name, CPU_IRQ) == 0)
            irq = c->drops;
        else if (strcmp(c->name, CPU_TOTAL) == 0)
            total = c->drops;
    }
    if (soft < 0 || irq < 0 || total <= 0)
        return -1;
    return (int64_t)(100.0 * ((double)soft + (double)irq) / (double)total + 0.5);
}

/* Keeps cpu in f's evidence when it is busier than the one there. */
static void s_busier(const diag_input_t *in, const char *cpu, diag_finding_t *f, char *via,
                     size_t size, const char *what)
{
    int64_t pct = s_cpu_pct(in, cpu);
    if (pct < 0 || (f->evidence.cpu[0] && pct <= f->evidence.cpu_pct))
        return;
    snprintf(f->evidence.cpu, sizeof f->evidence.cpu, "%s", cpu);
    f->evidence.cpu_pct = pct;
    snprintf(via, size, "%s", what);
}

/* The busiest CPU serving the drops of f (nic: its IRQ lines' CPUs;
 * backlog: the CPUs whose backlog dropped) into f's evidence; when it was
 * saturated, the limit names it and the remedy starts with spreading the
 * work. */
static void s_cpu_busy(const diag_input_t *in, const diag_counter_t *top, diag_finding_t *f)
{
    char via[192] = "", cpu[32];
    const char *dev = top->device;
    size_t devlen = strlen(dev);
    for (size_t i = 0; f->layer == LAYER_NIC && i < in->nsettings; i++) {
        const diag_setting_t *s = &in->settings[i];
        int64_t v;
        if (!source_is(s->source, SOURCE_IRQ) || strcmp(s->name, IRQ_CPU) != 0 ||
            strncmp(s->device, dev, devlen) != 0 || s->device[devlen] != ':' ||
            (i + 1 < in->nsettings && strcmp(in->settings[i + 1].device, s->device) == 0 &&
             source_is(in->settings[i + 1].source, SOURCE_IRQ) &&
             strcmp(in->settings[i + 1].name, IRQ_CPU) == 0) || /* its last row decides */
            !s_setting(in, s->source, s->device, IRQ_CPU, in->to_ns, &v))
            continue;
        snprintf(cpu, sizeof cpu, "cpu%lld", (long long)v);
        s_busier(in, cpu, f, via, sizeof via, s->device);
    }
    for (size_t i = 0; f->layer == LAYER_BACKLOG && i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        if (source_is(c->source, SOURCE_SOFTNET) && strcmp(c->name, "dropped") == 0 && c->drops > 0)
            s_busier(in, c->device, f, via, sizeof via, "");
    }
    if (!f->evidence.cpu[0] || f->evidence.cpu_pct <= CPU_BUSY_PCT)
        return;
    const char *cpu_name = f->evidence.cpu;
    char word[WORD_SIZE], rest[sizeof f->remedy];
    const char *arg = s_shell_word(dev, word, sizeof word);
    size_t len = strlen(f->limit);
    if (f->layer == LAYER_NIC)
        snprintf(f->limit + len, sizeof f->limit - len, "; %s, which serves %s's interrupts (%s), "
                 "spent %lld%% of its time in softirq and irq while it dropped", cpu_name, dev, via,
                 (long long)f->evidence.cpu_pct);
    else
        snprintf(f->limit + len, sizeof f->limit - len, "; %s, whose backlog dropped, spent %lld%% "
                 "of its time in softirq and irq", cpu_name, (long long)f->evidence.cpu_pct);
    snprintf(rest, sizeof rest, "%s", f->remedy);
    int keep = (int)strlen(rest); /* cut at the end if it must be: the advice comes first */
    if (f->layer == LAYER_NIC)
        snprintf(f->remedy, sizeof f->remedy, "%s is saturated by %s's interrupts and softirqs: "
                 "spread them over more CPUs (ethtool -L %s combined N, irqbalance, or "
                 "/proc/irq/N/smp_affinity_list), move protocol work to other CPUs with RPS "
                 "(/sys/class/net/%s/queues/rx-N/rps_cpus), and keep the application off %s "
                 "(taskset); then: %.*s", cpu_name, dev, arg, arg, cpu_name, keep, rest);
    else
        snprintf(f->remedy, sizeof f->remedy, "%s is saturated by softirq work: spread receive "
                 "processing over more CPUs (RPS/RFS, more queues with ethtool -L, irqbalance) and "
                 "keep the application off %s (taskset); then: %.*s", cpu_name, cpu_name, keep,
                 rest);
}

static void s_advise(const diag_input_t *in, layer_t layer, const diag_counter_t *top,
                     diag_finding_t *a)
{
    switch (layer) {
    case LAYER_NIC: s_nic(in, top, a); break;
    case LAYER_BACKLOG: s_backlog(in, a); break;
    case LAYER_BUDGET: s_budget(in, a); break;
    case LAYER_SOCKET: s_socket(in, a); break;
    case LAYER_LISTEN: s_listen(in, a); break;
    case LAYER_QDISC: s_qdisc(top, a); break;
    case LAYER_ONLOAD: s_onload(in, top, a); break;
    default: s_proto(top, a); break;
    }
}

/* Drops of `layer` in (from, to]. */
static int64_t s_drops_between(const diag_input_t *in, layer_t layer, int64_t from, int64_t to)
{
    int64_t n = 0;
    for (size_t i = 0; i < in->ndeltas; i++)
        if (in->deltas[i].layer == layer && in->deltas[i].ts_ns > from && in->deltas[i].ts_ns <= to)
            n = sat_add(n, in->deltas[i].delta);
    return n;
}

/* Whether settings[i] changed the value of settings[i - 1]'s series inside the range. */
static bool s_is_change(const diag_input_t *in, size_t i)
{
    const diag_setting_t *prev = &in->settings[i - 1], *s = &in->settings[i];
    bool same = strcmp(prev->source, s->source) == 0 && strcmp(prev->device, s->device) == 0 &&
                strcmp(prev->name, s->name) == 0;
    /* An IRQ line's CPU is observed, not set: irqbalance moves lines every
     * few seconds, and such a move would be named as what ended drops. */
    return same && s->value != prev->value && s->ts_ns > in->from_ns && s->ts_ns <= in->to_ns &&
           !source_is(s->source, SOURCE_IRQ);
}

/* Setting changes inside the range into *out (malloc'd), each with the
 * layer's drops before and after; sets resolved (size bytes, none when 0)
 * to a sentence when one ended the drops. 0, or -1 when out of memory. */
static int s_changes(const diag_input_t *in, layer_t layer, char *resolved, size_t size,
                     diag_change_t **out, size_t *n)
{
    size_t count = 0;
    for (size_t i = 1; i < in->nsettings; i++)
        count += s_is_change(in, i);
    *n = 0;
    if (!(*out = calloc(count ? count : 1, sizeof **out)))
        return -1;
    for (size_t i = 1; i < in->nsettings; i++) {
        if (!s_is_change(in, i))
            continue;
        const diag_setting_t *prev = &in->settings[i - 1], *s = &in->settings[i];
        diag_change_t *c = &(*out)[(*n)++];
        *c = (diag_change_t){.ts_ns = s->ts_ns,
                             .from = prev->value,
                             .to = s->value,
                             .drops_before = s_drops_between(in, layer, in->from_ns, s->ts_ns),
                             .drops_after = s_drops_between(in, layer, s->ts_ns, in->to_ns)};
        snprintf(c->series, sizeof c->series, "%s/%s/%s", s->source, s->device, s->name);
        if (size && c->drops_before > 0 && c->drops_after == 0) {
            char when[40];
            snprintf(resolved, size, "%s stopped after %s went from %lld to %lld at %s",
                     layer_is_precursor(layer) ? "squeezes" : "drops", c->series,
                     (long long)c->from, (long long)c->to,
                     ts_format(s->ts_ns, when, sizeof when));
        }
    }
    return 0;
}

static void s_finding_free(diag_finding_t *f)
{
    free(f->evidence.counters);
    free(f->evidence.setting_changes);
    free(f->evidence.gaps);
    f->evidence.counters = NULL;
    f->evidence.setting_changes = NULL;
    f->evidence.gaps = NULL;
}

/* The counters of f's layer as its evidence, and its drops: those of the
 * non-overlapping counters, else those the kernel's drop reasons (eBPF)
 * saw. 0, or -1 when out of memory. */
static int s_counters(const diag_input_t *in, diag_finding_t *f)
{
    size_t count = 0;
    for (size_t i = 0; i < in->ncounters; i++)
        count += in->counters[i].layer == f->layer;
    if (!(f->evidence.counters = calloc(count ? count : 1, sizeof *f->evidence.counters)))
        return -1;
    int64_t reasons = 0, rfirst = INT64_MAX, rlast = 0;
    int64_t socks = 0, sfirst = INT64_MAX, slast = 0;
    f->first_ns = INT64_MAX;
    for (size_t i = 0; i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        if (c->layer != f->layer)
            continue;
        diag_drops_t *e = &f->evidence.counters[f->evidence.ncounters++];
        *e = (diag_drops_t){.drops = c->drops, .overlap = c->overlap};
        snprintf(e->series, sizeof e->series, "%s/%s/%s", c->source, c->device, c->name);
        snprintf(e->owner, sizeof e->owner, "%s", c->owner);
        /* The kernel's own drop reasons (eBPF); a vague one is evidence only. */
        if (source_is(c->source, SOURCE_REASON) && !counters_classify(c->source, c->name).vague) {
            reasons = sat_add(reasons, c->drops);
            rfirst = c->first_ns < rfirst ? c->first_ns : rfirst;
            rlast = c->last_ns > rlast ? c->last_ns : rlast;
        }
        if (s_sock_drops(c)) { /* the sockets' own drop counts (sk_drops) */
            socks = sat_add(socks, c->drops);
            sfirst = c->first_ns < sfirst ? c->first_ns : sfirst;
            slast = c->last_ns > slast ? c->last_ns : slast;
        }
        if (c->overlap)
            continue;
        f->drops = sat_add(f->drops, c->drops);
        f->first_ns = c->first_ns < f->first_ns ? c->first_ns : f->first_ns;
        f->last_ns = c->last_ns > f->last_ns ? c->last_ns : f->last_ns;
    }
    /* The kernel named drops of this layer that no counter shows (netfilter
     * drops, udp_mem exhaustion on 6.18 where MemErrors stays 0): the
     * reasons are the finding. */
    if (f->drops == 0 && reasons > 0) {
        f->drops = reasons;
        f->first_ns = rfirst;
        f->last_ns = rlast;
    }
    /* Sockets dropped what no counter of the layer's own counts (on 6.18 a
     * stalled TCP receiver was seen dropping with PruneCalled alone moving,
     * no RcvPruned or TCPRcvQDrop): the sockets' sk_drops are the finding. */
    if (f->drops == 0 && socks > 0) {
        f->drops = socks;
        f->first_ns = sfirst;
        f->last_ns = slast;
    }
    return 0;
}

/* The finding of `layer` into f: 1, or 0 when the layer lost nothing, -1
 * when out of memory (f owns nothing then). */
static int s_finding(const diag_input_t *in, layer_t layer, diag_finding_t *f)
{
    *f = (diag_finding_t){.layer = layer};
    if (s_counters(in, f) != 0)
        return -1;
    /* Only overlapping counters moved (a total such as Udp InErrors, or a
     * precursor such as PruneCalled): nothing was lost at this layer that
     * another finding does not already count. */
    if (f->drops == 0) {
        s_finding_free(f);
        return 0;
    }
    for (size_t i = 0; i < in->nbursts; i++)
        f->evidence.bursts_before += in->bursts[i].start_ns >= sat_add(f->first_ns, -PRECEDE_NS) &&
                                     in->bursts[i].start_ns <= f->last_ns;
    s_advise(in, layer, s_top(in, layer), f);
    if (layer == LAYER_NIC || layer == LAYER_BACKLOG)
        s_cpu_busy(in, s_top(in, layer), f);
    if (s_changes(in, layer, f->resolved, sizeof f->resolved, &f->evidence.setting_changes,
                  &f->evidence.nsetting_changes) != 0) {
        s_finding_free(f);
        return -1;
    }
    return 1;
}

/* --- the probes' gaps: this host's loss, or upstream's ---------------------- */

/* The receive layer that dropped most within the slack of gap g, or
 * LAYER_UNKNOWN when none dropped: then the loss was before this host.
 * Transmit (qdisc) and TCP's accept queues (listen) lose nothing a probe's
 * datagrams pass through. */
static layer_t s_gap_layer(const diag_input_t *in, const diag_gap_t *g)
{
    int64_t by[LAYER_COUNT] = {0}, from = sat_add(g->start_ns, -DIAG_GAP_SLACK_NS);
    int64_t to = sat_add(g->end_ns, in->interval_ns > DIAG_GAP_SLACK_NS ? in->interval_ns
                                                                         : DIAG_GAP_SLACK_NS);
    layer_t top = LAYER_UNKNOWN;
    for (size_t i = 0; i < in->ndeltas; i++) {
        const diag_delta_t *d = &in->deltas[i];
        if (!layer_is_drop(d->layer) || d->layer == LAYER_QDISC || d->layer == LAYER_LISTEN ||
            d->delta <= 0 || d->ts_ns < from || d->ts_ns > to)
            continue;
        by[d->layer] = sat_add(by[d->layer], d->delta);
        top = top == LAYER_UNKNOWN || by[d->layer] > by[top] ? d->layer : top;
    }
    return top;
}

static int s_add_gap(diag_finding_t *f, const diag_gap_t *g)
{
    diag_gap_t *more = realloc(f->evidence.gaps, (f->evidence.ngaps + 1) * sizeof *more);
    if (!more)
        return -1;
    f->evidence.gaps = more;
    more[f->evidence.ngaps++] = *g;
    return 0;
}

/* The upstream finding's words: its layer's text (common/counters). */
static void s_upstream_advice(diag_finding_t *f)
{
    counter_text_t t = counters_layer_text(LAYER_UPSTREAM);
    const diag_gap_t *g0 = &f->evidence.gaps[0];
    uint64_t first = UINT64_MAX, last = 0;
    bool one = true; /* one probe: its sequence range means something */
    for (size_t i = 0; i < f->evidence.ngaps; i++) {
        const diag_gap_t *g = &f->evidence.gaps[i];
        first = g->first_seq < first ? g->first_seq : first;
        last = g->last_seq > last ? g->last_seq : last;
        one = one && g->port == g0->port && strcmp(g->group, g0->group) == 0;
    }
    if (one)
        snprintf(f->limit, sizeof f->limit, "%s; the probe of %s:%u missed %lld packets in %zu "
                 "gaps (sequence %llu..%llu) while no drop layer of this host dropped around them",
                 t.setting, g0->group, g0->port, (long long)f->drops, f->evidence.ngaps,
                 (unsigned long long)first, (unsigned long long)last);
    else
        snprintf(f->limit, sizeof f->limit, "%s; the probes missed %lld packets in %zu gaps "
                 "(each probe's in evidence.gaps) while no drop layer of this host dropped "
                 "around them", t.setting, (long long)f->drops, f->evidence.ngaps);
    snprintf(f->remedy, sizeof f->remedy, "%s", t.remedy);
}

/* Each gap goes to the finding of the drop layer that dropped around it
 * (evidence: the application missed those packets there), or to an
 * upstream finding made after the others. 0, or -1 when out of memory. */
static int s_gaps(const diag_input_t *in, diagnosis_t *self)
{
    diag_finding_t up = {.layer = LAYER_UPSTREAM, .first_ns = INT64_MAX};
    for (size_t i = 0; i < in->ngaps; i++) {
        const diag_gap_t *g = &in->gaps[i];
        layer_t l = s_gap_layer(in, g);
        diag_finding_t *f = l == LAYER_UNKNOWN ? &up : NULL;
        for (size_t k = 0; l != LAYER_UNKNOWN && k < self->nfindings; k++)
            f = self->findings[k].layer == l ? &self->findings[k] : f;
        if (!f) /* a layer dropped there, outside the range's counters: not upstream */
            continue;
        if (s_add_gap(f, g) != 0) {
            s_finding_free(&up);
            return -1;
        }
        if (f != &up)
            continue;
        up.drops = sat_add(up.drops, (int64_t)(g->missing < INT64_MAX ? g->missing : INT64_MAX));
        up.first_ns = g->start_ns < up.first_ns ? g->start_ns : up.first_ns;
        up.last_ns = g->end_ns > up.last_ns ? g->end_ns : up.last_ns;
    }
    if (up.evidence.ngaps == 0)
        return 0;
    s_upstream_advice(&up);
    self->findings[self->nfindings++] = up;
    return 0;
}

diagnosis_t *diagnose(const diag_input_t *in)
{
    diagnosis_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->from_ns = in->from_ns;
    self->to_ns = in->to_ns;
    self->host = strdup(in->host);
    self->findings = calloc(LAYER_COUNT, sizeof *self->findings);
    self->precursors = calloc(LAYER_COUNT, sizeof *self->precursors);
    if (!self->host || !self->findings || !self->precursors)
        goto fail;
    for (int l = LAYER_NIC; l < LAYER_COUNT; l++) {
        /* A precursor (budget: time_squeeze) gets the same rule, limit and
         * remedy, but as a warning apart: a busy host that lost nothing has
         * no finding. */
        bool drop = layer_is_drop((layer_t)l);
        if (!drop && !layer_is_precursor((layer_t)l))
            continue;
        diag_finding_t *to = drop ? self->findings : self->precursors;
        size_t *n = drop ? &self->nfindings : &self->nprecursors;
        int found = s_finding(in, (layer_t)l, &to[*n]);
        if (found < 0)
            goto fail;
        *n += (size_t)found;
    }
    if (s_gaps(in, self) != 0 ||
        s_changes(in, LAYER_UNKNOWN, NULL, 0, &self->changes, &self->nchanges) != 0)
        goto fail;
    return self;
fail:
    diagnosis_destroy(&self);
    return NULL;
}

void diagnosis_destroy(diagnosis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    diagnosis_t *self = *self_p;
    for (size_t i = 0; i < self->nfindings; i++)
        s_finding_free(&self->findings[i]);
    for (size_t i = 0; i < self->nprecursors; i++)
        s_finding_free(&self->precursors[i]);
    free(self->findings);
    free(self->precursors);
    free(self->changes);
    free(self->host);
    free(self);
    *self_p = NULL;
}
