/* validate: see validate.h. Every check is O(1) per field, so a poison
 * message costs no more to refuse than a good one costs to read; the
 * uniqueness of ids comes from their order (the collector sends them
 * ascending), which needs no memory. */
#include "validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "text.h"

#define MAX_CLOCK_NS (INT64_C(366) * 86400 * 1000000000) /* a clock field's magnitude */
#define MAX_INTERVAL_NS (INT64_C(86400) * 1000000000)    /* a Hello's interval */
#define MAX_PEAK_PER_MS 1e12

static int s_fail(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int s_fail(char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A string of its class (NULL counts as ""); `what` names it in the reason. */
static bool s_string_ok(const char *s, bool name, bool may_be_empty)
{
    s = s ? s : "";
    return s[0] ? (name ? text_is_name(s) : text_is_text(s)) : may_be_empty;
}

static int s_string(const char *what, const char *s, bool name, bool may_be_empty, char *err,
                    size_t errsz)
{
    if (s_string_ok(s, name, may_be_empty))
        return 0;
    s = s ? s : "";
    char shown[64];
    text_escape(s, shown, sizeof shown);
    return s_fail(err, errsz, "%s '%s' is %s", what, shown,
                  !s[0] ? "empty"
                  : name ? "not a name (at most 255 of: letters, digits and . _ - : @ + # [ ] %)"
                         : "not UTF-8 text without control characters (at most 255 bytes)");
}

/* A time within the window around the aggregator's clock. */
static int s_time(const char *what, int64_t t, const validate_window_t *w, char *err, size_t errsz)
{
    /* Differences as unsigned: exact, whatever the sign of t. */
    if (t > w->now_ns && (uint64_t)t - (uint64_t)w->now_ns > (uint64_t)w->ahead_ns)
        return s_fail(err, errsz, "%s %lld is %lld s ahead of the aggregator's clock (at most "
                      "%lld s: is the sender's clock right? see --max-skew)", what, (long long)t,
                      (long long)(((uint64_t)t - (uint64_t)w->now_ns) / 1000000000u),
                      (long long)(w->ahead_ns / 1000000000));
    if (t < w->now_ns && (uint64_t)w->now_ns - (uint64_t)t > (uint64_t)w->behind_ns)
        return s_fail(err, errsz, "%s %lld is more than %lld s behind the aggregator's clock "
                      "(older than the store keeps, or a wrong clock)", what, (long long)t,
                      (long long)(w->behind_ns / 1000000000));
    return 0;
}

/* A count of at most max; `what` and `i` name it ("packets of burst", 2). */
static int s_count(const char *what, size_t i, uint64_t v, uint64_t max, char *err, size_t errsz)
{
    if (v <= max)
        return 0;
    char index[24] = "";
    if (i != SIZE_MAX)
        snprintf(index, sizeof index, " %zu", i);
    return s_fail(err, errsz, "%s%s is %llu, above the limit %llu", what, index,
                  (unsigned long long)v, (unsigned long long)max);
}

static int s_def(const series_def_t *d, size_t i, uint32_t prev_id, char *err, size_t errsz)
{
    char what[64];
    if (d->id == 0 || d->id >= VALIDATE_MAX_ID || d->id <= prev_id)
        return s_fail(err, errsz, "series definition %zu: id %u is outside 1..%u or not above the "
                      "one before (%u): each id once, ascending", i, d->id, VALIDATE_MAX_ID - 1,
                      prev_id);
    const struct {
        const char *field, *value;
        bool name, may_be_empty;
    } strings[] = {{"source", d->source, true, false},
                   {"device", d->device, true, true},
                   {"name", d->name, false, false},
                   {"owner", d->owner, false, true}};
    for (size_t k = 0; k < sizeof strings / sizeof strings[0]; k++) {
        if (s_string_ok(strings[k].value, strings[k].name, strings[k].may_be_empty))
            continue; /* named only when refused: a fleet's first definitions are millions */
        snprintf(what, sizeof what, "series definition %u %s", d->id, strings[k].field);
        return s_string(what, strings[k].value, strings[k].name, strings[k].may_be_empty, err,
                        errsz);
    }
    return 0;
}

static int s_samples(const batch_t *b, char *err, size_t errsz)
{
    uint32_t prev = 0;
    for (size_t i = 0; i < b->nsamples; i++) {
        uint32_t id = b->series[i];
        if (id == 0 || id >= VALIDATE_MAX_ID || id <= prev)
            return s_fail(err, errsz, "sample %zu: series id %u is outside 1..%u or not above the "
                          "one before (%u): a batch samples each series once, ascending", i, id,
                          VALIDATE_MAX_ID - 1, prev);
        prev = id;
        if (b->flags[i] & ~(SAMPLE_FIRST | SAMPLE_RESET))
            return s_fail(err, errsz, "sample %zu (series %u): unknown flags 0x%x", i, id,
                          b->flags[i]);
        /* A value is any u64: a raw reading (Tcp.MaxConn's -1 reads as
         * 2^64-1), stored packed, never summed. */
        int64_t d = b->deltas[i];
        if (d > (int64_t)VALIDATE_MAX_COUNT || d < -(int64_t)VALIDATE_MAX_COUNT)
            return s_fail(err, errsz, "sample %zu (series %u): delta %lld is beyond +-2^48, more "
                          "than any counter moves in an interval", i, id, (long long)d);
    }
    return 0;
}

static int s_profile(const burst_msg_t *b, size_t i, const validate_window_t *w, char *err,
                     size_t errsz)
{
    if (b->nprofile == 0)
        return 0;
    if (b->tick_ns <= 0 || b->tick_ns > 1000000000 ||
        (uint64_t)b->nprofile > (uint64_t)(VALIDATE_MAX_SPAN_NS / b->tick_ns))
        return s_fail(err, errsz, "burst %zu (%s): a profile of %zu ticks of %lld ns (ticks of at "
                      "most 1 s, an hour in all)", i, b->iface, b->nprofile, (long long)b->tick_ns);
    if (s_time("burst profile_start_ns", b->profile_start_ns, w, err, errsz))
        return -1;
    if (b->profile_start_ns > b->end_ns || b->start_ns - b->profile_start_ns > VALIDATE_MAX_SPAN_NS)
        return s_fail(err, errsz, "burst %zu (%s): its profile starts at %lld, not within an hour "
                      "before the burst (%lld..%lld)", i, b->iface, (long long)b->profile_start_ns,
                      (long long)b->start_ns, (long long)b->end_ns);
    return 0;
}

static int s_burst(const burst_msg_t *b, size_t i, const validate_window_t *w, char *err,
                   size_t errsz)
{
    char what[48];
    snprintf(what, sizeof what, "burst %zu interface", i);
    if (s_string(what, b->iface, true, false, err, errsz) ||
        s_time("burst start_ns", b->start_ns, w, err, errsz) ||
        s_time("burst end_ns", b->end_ns, w, err, errsz))
        return -1;
    if (b->end_ns < b->start_ns || b->end_ns - b->start_ns > VALIDATE_MAX_SPAN_NS)
        return s_fail(err, errsz, "burst %zu (%s): ends at %lld, before its start %lld or more "
                      "than an hour after it", i, b->iface, (long long)b->end_ns,
                      (long long)b->start_ns);
    if (!isfinite(b->peak_per_ms) || b->peak_per_ms < 0 || b->peak_per_ms > MAX_PEAK_PER_MS)
        return s_fail(err, errsz, "burst %zu (%s): peak_per_ms is %g, not a rate", i, b->iface,
                      b->peak_per_ms);
    if (s_count("packets of burst", i, b->packets, VALIDATE_MAX_COUNT, err, errsz) ||
        s_count("bytes of burst", i, b->bytes, VALIDATE_MAX_COUNT, err, errsz) ||
        s_count("threshold of burst", i, b->threshold_per_ms, VALIDATE_MAX_COUNT, err, errsz))
        return -1;
    for (int l = 0; l < LAYER_COUNT; l++)
        if (s_count("drops of burst", i, b->drops[l], VALIDATE_MAX_COUNT, err, errsz))
            return -1;
    return s_profile(b, i, w, err, errsz);
}

/* Times as a burst's; a gap may last longer (a feed that paused then
 * resumed past the numbers it skipped), up to a day. */
static int s_gap(const gap_msg_t *g, size_t i, const validate_window_t *w, char *err,
                 size_t errsz)
{
    char what[48];
    snprintf(what, sizeof what, "gap %zu group", i);
    if (s_string(what, g->group, true, false, err, errsz) ||
        s_time("gap start_ns", g->start_ns, w, err, errsz) ||
        s_time("gap end_ns", g->end_ns, w, err, errsz))
        return -1;
    if (g->end_ns < g->start_ns || g->end_ns - g->start_ns > MAX_INTERVAL_NS)
        return s_fail(err, errsz, "gap %zu (%s:%u): ends at %lld, before its start %lld or more "
                      "than a day after it", i, g->group, g->port, (long long)g->end_ns,
                      (long long)g->start_ns);
    if (g->port == 0 || g->port > 65535)
        return s_fail(err, errsz, "gap %zu (%s): port %u is not 1..65535", i, g->group, g->port);
    if (s_count("missing of gap", i, g->missing, VALIDATE_MAX_COUNT, err, errsz))
        return -1;
    if (g->missing == 0 || g->first_seq > g->last_seq || g->last_seq - g->first_seq != g->missing - 1)
        return s_fail(err, errsz, "gap %zu (%s:%u): %llu missing is not the count of %llu..%llu",
                      i, g->group, g->port, (unsigned long long)g->missing,
                      (unsigned long long)g->first_seq, (unsigned long long)g->last_seq);
    return 0;
}

static int s_clock(const clock_msg_t *c, char *err, size_t errsz)
{
    int64_t f[4] = {c->offset_ns, c->rtt_ns, c->maxerror_ns, c->esterror_ns};
    static const char *const names[4] = {"offset_ns", "rtt_ns", "maxerror_ns", "esterror_ns"};
    for (int k = 0; k < 4; k++)
        if (f[k] > MAX_CLOCK_NS || f[k] < (k == 0 ? -MAX_CLOCK_NS : 0))
            return s_fail(err, errsz, "clock %s is %lld, beyond a year or negative", names[k],
                          (long long)f[k]);
    return 0;
}

static int s_batch(const msg_t *msg, const validate_window_t *w, char *err, size_t errsz)
{
    const batch_t *b = &msg->batch;
    if (msg->seq == 0)
        return s_fail(err, errsz, "batch has seq 0 (seqs start at 1)");
    if (s_time("batch ts_ns", b->ts_ns, w, err, errsz))
        return -1;
    if (b->prev_ts_ns < 0 || b->prev_ts_ns > b->ts_ns)
        return s_fail(err, errsz, "batch prev_ts_ns %lld is negative or after its ts_ns %lld",
                      (long long)b->prev_ts_ns, (long long)b->ts_ns);
    uint32_t prev = 0;
    for (size_t i = 0; i < b->ndefs; prev = b->defs[i++].id)
        if (s_def(&b->defs[i], i, prev, err, errsz))
            return -1;
    if (s_samples(b, err, errsz))
        return -1;
    for (size_t i = 0; i < b->nbursts; i++)
        if (s_burst(&b->bursts[i], i, w, err, errsz))
            return -1;
    for (size_t i = 0; i < b->ngaps; i++)
        if (s_gap(&b->gaps[i], i, w, err, errsz))
            return -1;
    const uint64_t spool[4] = {b->spool_dropped_messages, b->spool_dropped_samples,
                               b->spool_rejected_messages, b->spool_rejected_samples};
    static const char *const names[4] = {"spool_dropped_messages", "spool_dropped_samples",
                                         "spool_rejected_messages", "spool_rejected_samples"};
    for (int k = 0; k < 4; k++)
        if (s_count(names[k], SIZE_MAX, spool[k], VALIDATE_MAX_VALUE, err, errsz))
            return -1;
    return s_clock(&b->clock, err, errsz);
}

static int s_hello(const hello_t *h, char *err, size_t errsz)
{
    if (s_string("hello collector_version", h->collector_version, false, true, err, errsz) ||
        s_string("hello kernel", h->kernel, false, true, err, errsz) ||
        s_string("hello backend", h->backend, true, true, err, errsz) ||
        s_string("hello backend_note", h->backend_note, false, true, err, errsz))
        return -1;
    /* Shown as they are in /api/hosts and the CLI: text, a few of them. */
    if (h->ndegraded > CODEC_MAX_DEGRADED)
        return s_fail(err, errsz, "hello names %zu degraded features (at most %d)", h->ndegraded,
                      CODEC_MAX_DEGRADED);
    for (size_t i = 0; i < h->ndegraded; i++)
        if (s_string("hello degraded", h->degraded[i], false, false, err, errsz))
            return -1;
    if (h->interval_ns < 0 || h->interval_ns > MAX_INTERVAL_NS)
        return s_fail(err, errsz, "hello interval_ns %lld is negative or above a day",
                      (long long)h->interval_ns);
    return 0;
}

int validate_message(const msg_t *msg, const validate_window_t *w, char *err, size_t errsz)
{
    if (s_string("envelope host", msg->host, true, false, err, errsz) ||
        s_string("envelope boot_id", msg->boot_id, false, true, err, errsz))
        return -1;
    switch (msg->type) {
    case MSG_TYPE_HELLO: return s_hello(&msg->hello, err, errsz);
    case MSG_TYPE_BATCH: return s_batch(msg, w, err, errsz);
    case MSG_TYPE_HEARTBEAT: return 0;
    case MSG_TYPE_ACK: return s_fail(err, errsz, "collectors do not send acks");
    default: return s_fail(err, errsz, "message without a body");
    }
}
