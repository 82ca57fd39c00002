/* delivery: see delivery.h. The companion commit protocol, so that a crash at any point leaves
 * a companion that matches the messages on disk:
 *   1. write the companion to state.next.INCARNATION.SEQ (through state.tmp and a rename)
 *   2. spool the message
 *   3. rename state.next.INCARNATION.SEQ to state
 * At start, a state.next.* whose message is in the spool is the truth (the crash came between 2
 * and 3); one whose message is not was never sent and is discarded (between 1 and 2), so a
 * companion and the messages agree: for the counter state, no interval is counted twice or lost.
 * The message's identity is in the file's name, so the companion's bytes stay the caller's
 * alone; the names say "state" because the counter state is what the collector commits, and a
 * collector upgraded on the same boot continues from the `state` its predecessor wrote.
 * No fsync of companions: what they guard against is a crash of the process (the page cache
 * survives it), and a power loss brings a new boot, whose counters start again anyway.
 * Without a spool, messages are held in an array in push order: the collector holds at most
 * DELIVERY_MEMORY, dropscope-fleetsim a window of 8 per host, and acks mostly come for the
 * oldest, so linear scans cost less than an index. */
#define _GNU_SOURCE
#include "delivery.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"
#include "log.h"
#include "ts.h"

#define RESEND_FIRST_NS (5 * TS_NS_PER_S) /* no ack for this long: send again */
#define RESEND_MAX_NS (60 * TS_NS_PER_S)  /* backoff cap */
/* After a failed send, none is tried on the channel for this long (on the coarse clock: 1 to 5
 * ms): a full queue of a thousand messages takes the aggregator tens of ms to drain, so retries
 * sooner could only fail, and dropscope-fleetsim's hundreds of hosts to a socket would each burn
 * a copy of a message on one. */
#define BLOCKED_NS TS_NS_PER_MS
#define NEXT_PREFIX "state.next."

struct delivery_channel {
    uplink_t *link;        /* borrowed */
    size_t inflight;       /* messages handed to the link and not answered, over its deliveries */
    int64_t resend_at;     /* monotonic: when they go again; 0 = not armed */
    int64_t backoff;       /* the current resend timeout */
    uint64_t round;        /* resend rounds so far (a delivery behind sends its in flight again) */
    int64_t blocked_until; /* monotonic: no send is tried before (0: not blocked) */
    delivery_channel_stats_t stats; /* send failures and resends */
};

/* A message held in memory (without a spool). */
typedef struct {
    uint64_t incarnation, seq; /* the identity the aggregator acknowledges */
    uint32_t nsamples;         /* for the loss counts */
    uint8_t *data;             /* owned */
    size_t len;                /* bytes at data */
    bool handed;               /* sent since the last rewind, not answered */
    bool deferred;             /* ACK_NEED_DEFS: not sent until delivery_release */
} held_t;

struct delivery {
    delivery_channel_t *channel; /* borrowed */
    size_t window;               /* messages in flight at most */
    uint64_t round;              /* the channel's resend round this one has caught up with */
    size_t inflight;             /* what this one counts in channel->inflight */
    spool_t *spool;              /* NULL: held in memory */
    char *dir;                   /* the spool's directory, where companions are */
    char *committed;             /* dir/state: the last committed companion */
    held_t *held;                /* without a spool: the messages, in push order */
    size_t nheld;                /* of them */
    size_t capheld;              /* allocated */
    size_t nhanded;              /* of them, handed out */
    size_t ndeferred;            /* of them, deferred */
    size_t memory_max;           /* held at most */
    uint64_t bytes;              /* of message data held */
    spool_stats_t lost;          /* without a spool: dropped and rejected, counted in memory */
    int64_t skipped_at; /* coarse monotonic: since when older messages in flight were passed
                           over by acks of newer ones; 0 = none (s_skipped) */
};

delivery_channel_t *delivery_channel_new(uplink_t *link)
{
    delivery_channel_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->link = link;
    self->backoff = RESEND_FIRST_NS;
    return self;
}

void delivery_channel_destroy(delivery_channel_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void delivery_channel_restart(delivery_channel_t *self)
{
    self->round++; /* s_pump rewinds each delivery behind it */
    self->resend_at = 0;
    self->blocked_until = 0;
}

delivery_channel_stats_t delivery_channel_stats(const delivery_channel_t *self)
{
    return self->stats;
}

delivery_t *delivery_new(delivery_channel_t *channel, const delivery_opts_t *opts, char *err,
                         size_t errsz)
{
    delivery_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    self->channel = channel;
    self->round = channel->round;
    self->window = opts->window ? opts->window : DELIVERY_WINDOW;
    self->memory_max = opts->memory_max ? opts->memory_max : DELIVERY_MEMORY;
    if (!opts->spool_dir)
        return self;
    if (asprintf(&self->committed, "%s/state", opts->spool_dir) < 0 ||
        !(self->dir = strdup(opts->spool_dir))) {
        snprintf(err, errsz, "out of memory");
        delivery_destroy(&self);
        return NULL;
    }
    if (!(self->spool = spool_open(opts->spool_dir, opts->spool_size, err, errsz)))
        delivery_destroy(&self);
    return self;
}

void delivery_destroy(delivery_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    delivery_t *self = *self_p;
    self->channel->inflight -= self->inflight;
    spool_destroy(&self->spool);
    for (size_t i = 0; i < self->nheld; i++)
        free(self->held[i].data);
    free(self->held);
    free(self->dir);
    free(self->committed);
    free(self);
    *self_p = NULL;
}

/* --- what is held: the spool, or the array ------------------------------------------------ */

static size_t s_in_flight(const delivery_t *self)
{
    return self->spool ? spool_in_flight(self->spool) : self->nhanded;
}

/* Keeps the channel's count of messages in flight in step with this delivery's. */
static void s_account(delivery_t *self)
{
    size_t now = s_in_flight(self);
    self->channel->inflight = self->channel->inflight - self->inflight + now;
    self->inflight = now;
}

static void s_rewind(delivery_t *self)
{
    if (self->spool) {
        spool_rewind(self->spool);
        return;
    }
    for (size_t i = 0; i < self->nheld; i++)
        self->held[i].handed = false;
    self->nhanded = 0;
}

static ssize_t s_find(const delivery_t *self, uint64_t incarnation, uint64_t seq)
{
    for (size_t i = 0; i < self->nheld; i++)
        if (self->held[i].seq == seq && self->held[i].incarnation == incarnation)
            return (ssize_t)i;
    return -1;
}

/* How many messages older than held message i are in flight. */
static size_t s_handed_before(const delivery_t *self, size_t i)
{
    size_t n = 0;
    for (size_t j = 0; j < i; j++)
        n += self->held[j].handed;
    return n;
}

static void s_forget(delivery_t *self, size_t i)
{
    held_t *h = &self->held[i];
    self->nhanded -= h->handed;
    self->ndeferred -= h->deferred;
    self->bytes -= h->len;
    free(h->data);
    memmove(h, h + 1, (self->nheld - i - 1) * sizeof *h);
    self->nheld--;
}

/* Holds a message in memory, making room by dropping the oldest (counted). */
static int s_hold(delivery_t *self, uint64_t incarnation, uint64_t seq, uint32_t nsamples,
                  uint8_t *data, size_t len)
{
    if (self->nheld >= self->memory_max) {
        self->lost.dropped_messages++;
        self->lost.dropped_samples += self->held[0].nsamples;
        log_limited(LOGL_WARN, "delivery:memory", "collector: %zu messages held without "
                    "acknowledgement (no --spool); dropping the oldest, counted as lost (is the "
                    "aggregator reachable?)", self->nheld);
        s_forget(self, 0);
    }
    held_t *held = grow(self->held, self->nheld + 1, &self->capheld, sizeof *held, 4);
    if (!held)
        return -1;
    self->held = held;
    held[self->nheld++] = (held_t){incarnation, seq, nsamples, data, len, false, false};
    self->bytes += len;
    return 0;
}

/* The oldest message not handed out and not deferred, now handed out, with its index (for
 * s_unsend); NULL when there is none. */
static const uint8_t *s_next(delivery_t *self, size_t *len, size_t *index)
{
    if (self->spool) {
        const spool_msg_t *m = spool_next(self->spool);
        *len = m ? m->len : 0;
        return m ? m->data : NULL;
    }
    if (self->nhanded + self->ndeferred == self->nheld)
        return NULL; /* the common case of a call for nothing: no scan */
    for (size_t i = 0; i < self->nheld; i++) {
        held_t *h = &self->held[i];
        if (h->handed || h->deferred)
            continue;
        h->handed = true;
        self->nhanded++;
        *len = h->len;
        *index = i;
        return h->data;
    }
    return NULL;
}

/* A send failed: see delivery_new for what that means with and without a spool. */
static void s_unsend(delivery_t *self, size_t index)
{
    if (self->spool) {
        spool_rewind(self->spool);
        return;
    }
    self->held[index].handed = false;
    self->nhanded--;
}

/* The clock of the channel's timers: the coarse monotonic clock, read without a TSC read (3.5 ns
 * here against 28), because dropscope-fleetsim looks at the timers of every host's channel on
 * every pass, thousands of hosts many times a second, and that was a twelfth of its CPU. Its
 * resolution (a jiffy, 4 ms here) is nothing to a resend timeout of seconds, and little to the
 * pause after a full queue. */
static int64_t s_coarse_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return (int64_t)t.tv_sec * TS_NS_PER_S + t.tv_nsec;
}

/* --- sending -------------------------------------------------------------------------------- */

/* The channel's resend timer went off: everything in flight on it goes again. */
static void s_expire(delivery_channel_t *ch)
{
    log_limited(LOGL_WARN, "resend", "collector: no acknowledgement for %lld s; sending the %zu "
                "messages in flight again, from the oldest",
                (long long)(ch->backoff / TS_NS_PER_S), ch->inflight);
    ch->backoff = ch->backoff * 2 > RESEND_MAX_NS ? RESEND_MAX_NS : ch->backoff * 2;
    ch->resend_at = 0;
    ch->round++;
}

/* Sends while the window has room and the channel is not blocked; arms the channel's resend
 * timer while anything is in flight on it. */
static void s_pump(delivery_t *self)
{
    delivery_channel_t *ch = self->channel;
    if (self->skipped_at && s_coarse_ns() - self->skipped_at >= RESEND_FIRST_NS) {
        log_limited(LOGL_WARN, "resend:skipped", "collector: newer messages were acknowledged "
                    "but older ones not for %lld s (the aggregator lost them: a commit of its "
                    "failed?); sending the %zu messages in flight again, from the oldest",
                    (long long)(RESEND_FIRST_NS / TS_NS_PER_S), s_in_flight(self));
        self->skipped_at = 0;
        ch->stats.resent += s_in_flight(self);
        s_rewind(self);
    }
    if (self->round != ch->round) { /* the channel timed out since we last looked */
        self->round = ch->round;
        ch->stats.resent += s_in_flight(self);
        s_rewind(self);
    }
    if (ch->blocked_until && s_coarse_ns() >= ch->blocked_until)
        ch->blocked_until = 0;
    char err[256];
    const uint8_t *data;
    size_t len, index = 0;
    while (!ch->blocked_until && s_in_flight(self) < self->window &&
           (data = s_next(self, &len, &index))) {
        if (uplink_send(ch->link, data, len, err, sizeof err) != 0) {
            ch->stats.send_failures++;
            ch->blocked_until = s_coarse_ns() + BLOCKED_NS;
            s_unsend(self, index);
        }
    }
    s_account(self);
    if (ch->inflight > 0 && ch->resend_at == 0)
        ch->resend_at = s_coarse_ns() + ch->backoff;
}

/* Step 1 of the protocol above: the companion of (incarnation, seq) to its state.next.* name,
 * which goes to *next_p (the caller frees it). -1 when it cannot be written (logged: the
 * message goes without it). */
static int s_write_next(delivery_t *self, uint64_t incarnation, uint64_t seq,
                        const void *companion, size_t len, char **next_p)
{
    char *tmp = NULL;
    *next_p = NULL;
    if (asprintf(&tmp, "%s/state.tmp", self->dir) < 0 ||
        asprintf(next_p, "%s/" NEXT_PREFIX "%" PRIu64 ".%" PRIu64, self->dir, incarnation,
                 seq) < 0) {
        free(tmp);
        *next_p = NULL;
        return -1;
    }
    FILE *fp = fopen(tmp, "wb");
    bool ok = fp && fwrite(companion, 1, len, fp) == len;
    int saved = errno;
    if (fp && fclose(fp) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && rename(tmp, *next_p) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        log_limited(LOGL_WARN, "state:write", "collector: cannot write %s: %s; a restart will not "
                    "continue from it", tmp, strerror(saved));
        remove(tmp);
        free(*next_p);
        *next_p = NULL;
    }
    free(tmp);
    return ok ? 0 : -1;
}

int delivery_send(delivery_t *self, uint64_t incarnation, uint64_t seq, uint32_t nsamples,
                  uint8_t **buf_p, size_t len, const void *companion, size_t companion_len)
{
    uint8_t *buf = *buf_p;
    *buf_p = NULL;
    if (!self->spool) {
        if (s_hold(self, incarnation, seq, nsamples, buf, len) != 0) {
            log_limited(LOGL_ERROR, "delivery:oom", "collector: message %" PRIu64 " lost: out "
                        "of memory", seq);
            free(buf);
            return -1;
        }
        s_pump(self);
        return 0;
    }
    char err[512], *next = NULL;
    if (companion_len > 0)
        s_write_next(self, incarnation, seq, companion, companion_len, &next);
    int rc = spool_push(self->spool, incarnation, seq, nsamples, buf, len, err, sizeof err);
    free(buf);
    if (rc != 0)
        log_limited(LOGL_ERROR, "spool", "collector: message %" PRIu64 " lost: %s", seq, err);
    if (next && (rc != 0 ? remove(next) : rename(next, self->committed)) != 0)
        log_limited(LOGL_WARN, "state:commit", "collector: cannot %s %s: %s",
                    rc != 0 ? "remove" : "commit", next, strerror(errno));
    free(next);
    s_pump(self);
    return rc;
}

/* The identity in a companion's state.next.INCARNATION.SEQ name: 0, or -1 when it is not one. */
static int s_next_identity(const char *name, uint64_t *incarnation, uint64_t *seq)
{
    if (strncmp(name, NEXT_PREFIX, strlen(NEXT_PREFIX)) != 0)
        return -1;
    const char *p = name + strlen(NEXT_PREFIX);
    char *end;
    errno = 0;
    *incarnation = strtoull(p, &end, 10);
    if (end == p || *end != '.' || errno)
        return -1;
    p = end + 1;
    *seq = strtoull(p, &end, 10);
    return end == p || *end || errno ? -1 : 0;
}

const char *delivery_restore(delivery_t *self)
{
    if (!self->spool)
        return NULL;
    DIR *d = opendir(self->dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        uint64_t incarnation, seq;
        /* state.next is the commit in flight of a collector from before companions were named
         * by their message: its message cannot be told, so it is as if it was never sent. */
        bool legacy = strcmp(de->d_name, "state.next") == 0;
        if (!legacy && s_next_identity(de->d_name, &incarnation, &seq) != 0)
            continue;
        char *path;
        if (asprintf(&path, "%s/%s", self->dir, de->d_name) < 0)
            break;
        if (!legacy && spool_holds(self->spool, incarnation, seq))
            rename(path, self->committed); /* crashed between steps 2 and 3 */
        else
            remove(path);
        free(path);
    }
    if (d)
        closedir(d);
    else
        log_warn("collector: cannot list %s: %s; a commit a crash interrupted is not finished",
                 self->dir, strerror(errno));
    return self->committed;
}

/* --- answers -------------------------------------------------------------------------------- */

/* An ack of a message with older ones in flight. An aggregator answers
 * one collector's messages in the order sent, so those were passed over:
 * lost to a commit that failed while a later one did not, say, and no
 * timeout of the channel would ever send them again while acks of newer
 * ones keep it quiet. If no ack of the oldest comes within the first
 * resend timeout (a resend of them may be on its way already), what is in
 * flight goes again (s_pump). */
static void s_skipped(delivery_t *self, size_t older)
{
    if (!older)
        self->skipped_at = 0;
    else if (!self->skipped_at)
        self->skipped_at = s_coarse_ns();
}

int delivery_acked(delivery_t *self, uint64_t incarnation, uint64_t seq)
{
    int held;
    size_t older;
    if (self->spool) {
        older = spool_in_flight_before(self->spool, incarnation, seq);
        held = spool_ack(self->spool, incarnation, seq) != 0; /* -1: held, file not deleted */
    } else {
        ssize_t i = s_find(self, incarnation, seq);
        held = i >= 0;
        older = held ? s_handed_before(self, (size_t)i) : 0;
        if (held)
            s_forget(self, (size_t)i);
    }
    if (held) { /* the connection works: the timer starts again from the first timeout */
        self->channel->backoff = RESEND_FIRST_NS;
        self->channel->resend_at = 0;
        s_skipped(self, older);
    }
    s_pump(self);
    return held;
}

int delivery_rejected(delivery_t *self, uint64_t incarnation, uint64_t seq)
{
    int held;
    if (self->spool) {
        held = spool_reject(self->spool, incarnation, seq) != 0; /* -1: counted anyway */
    } else {
        ssize_t i = s_find(self, incarnation, seq);
        held = i >= 0;
        if (held) {
            self->lost.rejected_messages++;
            self->lost.rejected_samples += self->held[i].nsamples;
            s_forget(self, (size_t)i);
        }
    }
    s_pump(self);
    return held;
}

int delivery_defer(delivery_t *self, uint64_t incarnation, uint64_t seq)
{
    int rc = 0;
    if (self->spool) {
        rc = spool_defer(self->spool, incarnation, seq);
    } else {
        ssize_t i = s_find(self, incarnation, seq);
        held_t *h = i >= 0 ? &self->held[i] : NULL;
        if (h && !h->deferred) {
            self->nhanded -= h->handed;
            h->handed = false;
            h->deferred = true;
            self->ndeferred++;
            rc = 1;
        }
    }
    s_pump(self);
    return rc;
}

/* As spool_release_deferred, everything goes again from the oldest, so the deferred messages
 * keep their place in the order. */
void delivery_release(delivery_t *self)
{
    if (self->spool) {
        spool_release_deferred(self->spool);
    } else {
        for (size_t i = 0; i < self->nheld; i++)
            self->held[i].deferred = false;
        self->ndeferred = 0;
        s_rewind(self);
    }
    s_pump(self);
}

/* --- upkeep --------------------------------------------------------------------------------- */

void delivery_sync(delivery_t *self)
{
    char err[512];
    if (self->spool && spool_sync(self->spool, err, sizeof err) != 0)
        log_limited(LOGL_ERROR, "spool:sync", "collector: %s", err);
}

int delivery_tick(delivery_t *self)
{
    delivery_channel_t *ch = self->channel;
    int64_t now = ch->resend_at ? s_coarse_ns() : 0; /* idle: no clock read */
    if (now && now >= ch->resend_at)
        s_expire(ch);
    s_pump(self);
    int64_t at = ch->resend_at;
    if (self->skipped_at && (!at || self->skipped_at + RESEND_FIRST_NS < at))
        at = self->skipped_at + RESEND_FIRST_NS;
    if (!at)
        return 1000;
    now = s_coarse_ns();
    return at > now ? (int)((at - now) / TS_NS_PER_MS) + 1 : 0;
}

size_t delivery_held(const delivery_t *self)
{
    return self->spool ? (size_t)spool_stats(self->spool).messages : self->nheld;
}

spool_stats_t delivery_stats(const delivery_t *self)
{
    if (self->spool)
        return spool_stats(self->spool);
    spool_stats_t st = self->lost;
    st.messages = self->nheld;
    st.bytes = self->bytes;
    return st;
}
