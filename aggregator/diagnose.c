/* diagnose: one rule per layer names the bounding setting and the remedy,
 * from the host's own reported settings (the value in effect at the end of
 * the range). Setting changes inside the range are events: the drops of
 * each layer before and after them say whether a change ended the drops. */
#include "diagnose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sat.h"
#include "source.h"
#include "text.h"
#include "ts.h"

#define PRECEDE_NS TS_NS_PER_S /* a burst this long before the first drop "preceded" it */
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

/* The counter of `layer` that dropped most (non-overlapping first). */
static const diag_counter_t *s_top(const diag_input_t *in, layer_t layer)
{
    const diag_counter_t *top = NULL;
    for (size_t i = 0; i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        if (c->layer == layer && (!top || (top->overlap && !c->overlap) ||
                                  (top->overlap == c->overlap && c->drops > top->drops)))
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

static void s_nic(const diag_input_t *in, const diag_counter_t *top, diag_finding_t *a)
{
    const char *dev = top->device;
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

/* The dropping sockets, for the socket finding: "udp:A:P (N)", or
 * "udp:A:P held by PID/COMM (N)" when the process holding it is known. */
static void s_sockets(const diag_input_t *in, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        if (!source_is(c->source, SOURCE_SOCK) || c->drops <= 0)
            continue;
        char one[300]; /* whole entries only */
        int n = snprintf(one, sizeof one, "%s%s%s (%lld)", c->device,
                         c->owner[0] ? " held by " : "", c->owner, (long long)c->drops);
        if (n > 0 && len + (size_t)n + 3 < size)
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", one);
    }
}

static void s_socket(const diag_input_t *in, diag_finding_t *a)
{
    int64_t rmax = 0, rdef = 0, tcp = 0;
    char socks[256];
    s_sockets(in, socks, sizeof socks);
    if (s_has(in, LAYER_SOCKET, "Pruned") || s_has(in, LAYER_SOCKET, "TCP")) {
        char max[48] = "unknown";
        if (s_sysctl(in, SYSCTL_TCP_RMEM_MAX, &tcp))
            snprintf(max, sizeof max, "%lld bytes", (long long)tcp);
        snprintf(a->limit, sizeof a->limit, "the TCP receive buffer (net.ipv4.tcp_rmem max = %s, "
                 "or the SO_RCVBUF the application set): its queue was pruned", max);
        snprintf(a->remedy, sizeof a->remedy, "the receiving application does not read fast "
                 "enough: fix the reader; a larger buffer (do not set SO_RCVBUF, let tcp_rmem "
                 "autotune) only buys time");
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
             "net.core.rmem_max must allow: sysctl -w net.core.rmem_max=%lld",
             socks[0] ? socks : "the socket", (long long)want);
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

static void s_proto(const diag_counter_t *top, diag_finding_t *a)
{
    snprintf(a->limit, sizeof a->limit, "no limit: %s/%s counts packets the protocol refused",
             top->source, top->name);
    if (strstr(top->name, "NoPorts"))
        snprintf(a->remedy, sizeof a->remedy, "datagrams arrive for ports nobody listens on: "
                 "start the receiver, or fix the senders' destination");
    else if (strstr(top->name, "Csum") || strstr(top->name, "HdrErrors"))
        snprintf(a->remedy, sizeof a->remedy, "corrupt packets: check cables, NIC offloads and "
                 "the sender");
    else {
        char series[sizeof top->source + sizeof top->device + sizeof top->name + 2];
        char word[4 * sizeof series + 3]; /* any series quoted whole */
        snprintf(series, sizeof series, "%s/%s/%s", top->source, top->device, top->name);
        snprintf(a->remedy, sizeof a->remedy, "what the counter counts, what bounds it and "
                 "what to do: dropscope explain %s", s_shell_word(series, word, sizeof word));
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
    case LAYER_ONLOAD:
        snprintf(a->limit, sizeof a->limit, "the Onload stack's buffers (EF_MAX_PACKETS, "
                 "EF_RXQ_SIZE)");
        snprintf(a->remedy, sizeof a->remedy, "raise EF_MAX_PACKETS or lower EF_RXQ_SIZE; read "
                 "faster");
        break;
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
    return same && s->value != prev->value && s->ts_ns > in->from_ns && s->ts_ns <= in->to_ns;
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
    f->evidence.counters = NULL;
    f->evidence.setting_changes = NULL;
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
    f->first_ns = INT64_MAX;
    for (size_t i = 0; i < in->ncounters; i++) {
        const diag_counter_t *c = &in->counters[i];
        if (c->layer != f->layer)
            continue;
        diag_drops_t *e = &f->evidence.counters[f->evidence.ncounters++];
        *e = (diag_drops_t){.drops = c->drops, .overlap = c->overlap};
        snprintf(e->series, sizeof e->series, "%s/%s/%s", c->source, c->device, c->name);
        snprintf(e->owner, sizeof e->owner, "%s", c->owner);
        if (source_is(c->source, SOURCE_REASON)) { /* the kernel's own drop reasons (eBPF) */
            reasons = sat_add(reasons, c->drops);
            rfirst = c->first_ns < rfirst ? c->first_ns : rfirst;
            rlast = c->last_ns > rlast ? c->last_ns : rlast;
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
    if (s_changes(in, LAYER_UNKNOWN, NULL, 0, &self->changes, &self->nchanges) != 0)
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
