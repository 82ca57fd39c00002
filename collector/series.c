/* series: an array of entries indexed by a strmap of "source/device/name".
 * Assumes a few thousand series per host and one snapshot a second: lookups
 * dominate, inserts happen at start-up and when devices or dropping sockets
 * appear, and nothing is deleted during an incarnation (a vanished series
 * keeps its id and counts from zero if it comes back). */
#include "series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "grow.h"
#include "log.h"
#include "strmap.h"
#include "text.h"
#include "validate.h"

typedef struct {
    series_entry_t pub;  /* what callers see */
    source_t source;     /* pub.source, typed */
    uint64_t seen_gen;   /* snapshot generation in which it was last seen */
    uint64_t boot_epoch; /* the registry's boot epoch when it was last seen */
} entry_t;

struct series {
    entry_t *entries;       /* by id - 1 */
    size_t count;           /* entries in use */
    size_t cap;             /* entries allocated */
    size_t max_series;      /* hard cap */
    strmap_t *index;        /* "source\x1fdevice\x1fname" -> id */
    uint64_t gen;           /* current snapshot generation, 1 = first */
    char boot_id[64];       /* boot id of the previous snapshot */
    uint64_t boot_epoch;    /* bumped at every boot id change */
    uint32_t ok_sources;    /* bit 1 << source_t: read completely in this snapshot */
    uint32_t was_ok;        /* the same, in any snapshot before this one */
    uint64_t overflowed;    /* readings refused because of max_series */
};

series_t *series_new(size_t max_series)
{
    series_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->max_series = max_series;
    self->index = strmap_new();
    if (!self->index) {
        free(self);
        return NULL;
    }
    return self;
}

void series_destroy(series_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    series_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free((char *)self->entries[i].pub.device);
        free((char *)self->entries[i].pub.name);
        free((char *)self->entries[i].pub.owner);
    }
    free(self->entries);
    strmap_destroy(&self->index);
    free(self);
    *self_p = NULL;
}

/* The index key: the three parts joined by a byte no name contains, cut
 * to size as snprintf would; copied rather than formatted, since every
 * reading of every snapshot builds one (fleetsim: thousands of registries). */
static void s_key(const reading_t *r, char *key, size_t size)
{
    const char *const parts[3] = {r->source, r->device, r->name};
    size_t at = 0;
    for (int i = 0; i < 3; i++) {
        if (i && at + 1 < size)
            key[at++] = '\x1f';
        size_t n = strnlen(parts[i], size - 1 - at);
        memcpy(key + at, parts[i], n);
        at += n;
    }
    key[at] = '\0';
}

static int s_grow(series_t *self)
{
    entry_t *entries = grow(self->entries, self->count + 1, &self->cap, sizeof *entries, 256);
    if (!entries)
        return -1;
    self->entries = entries;
    return 0;
}

_Static_assert(SOURCE_COUNT <= 32, "ok_sources has a bit per source");

/* Sources whose counters start at zero when their object appears (a new
 * device, a new socket, a drop reason first seen by the eBPF programs,
 * which count from zero since they were loaded). Others (softnet rows of a
 * CPU coming back online, SNMP counters) carry history, so their first
 * sight is only a baseline. */
static bool s_born_at_zero(source_t source)
{
    return source == SOURCE_NETDEV || source == SOURCE_ETHTOOL || source == SOURCE_SOCK ||
           source == SOURCE_REASON;
}

/* Onload's stacks and sockets count from zero too, but its source may fail
 * its first runs (a hung onload_stackdump): until one run was read whole,
 * a series first seen carries the history of a stack that was already
 * there, so only then is it born at zero. */
static bool s_born_at_zero_here(const series_t *self, source_t source)
{
    return s_born_at_zero(source) ||
           (source == SOURCE_ONLOAD && (self->was_ok & (UINT32_C(1) << SOURCE_ONLOAD)));
}

static entry_t *s_insert(series_t *self, const reading_t *r, const char *key)
{
    if (self->count >= self->max_series) {
        if (self->overflowed++ == 0)
            log_warn("collector: more than %zu series on this host; ignoring %s/%s/%s and any "
                     "further new series (raise the cap or report this)",
                     self->max_series, r->source, r->device, r->name);
        return NULL;
    }
    char *device = strdup(r->device);
    char *name = strdup(r->name);
    if (!device || !name || s_grow(self) != 0) {
        free(device);
        free(name);
        self->overflowed++;
        return NULL;
    }
    entry_t *e = &self->entries[self->count++];
    memset(e, 0, sizeof *e);
    e->pub.id = (uint32_t)self->count;
    e->pub.source = r->source;
    e->source = source_from_name(r->source);
    e->pub.device = device;
    e->pub.name = name;
    e->pub.cls = counters_classify(r->source, r->name);
    if (strmap_put(self->index, key, (void *)(uintptr_t)e->pub.id) != 0) {
        self->count--;
        free(device);
        free(name);
        self->overflowed++;
        return NULL;
    }
    return e;
}

int64_t series_delta(uint64_t prev, uint64_t cur, unsigned width, uint32_t *flags)
{
    if (cur >= prev && cur - prev <= (uint64_t)INT64_MAX)
        return (int64_t)(cur - prev);
    if (cur >= prev) { /* 2^63 more in one interval is no count: a restart at a huge value */
        *flags |= SAMPLE_RESET;
        return INT64_MAX;
    }
    /* A 32-bit counter that went from the top quarter of its range to the
     * bottom quarter wrapped; any other decrease is a restart. */
    if (width == 32 && prev >= 0xC0000000u && prev <= 0xFFFFFFFFu && cur < 0x40000000u)
        return (int64_t)(cur + 0x100000000ULL - prev);
    *flags |= SAMPLE_RESET;
    return cur > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)cur;
}

void series_begin(series_t *self, const char *boot_id)
{
    self->gen++;
    self->ok_sources = 0;
    if (self->gen > 1 && strncmp(self->boot_id, boot_id, sizeof self->boot_id - 1) != 0)
        self->boot_epoch++;
    snprintf(self->boot_id, sizeof self->boot_id, "%s", boot_id);
    for (size_t i = 0; i < self->count; i++) {
        self->entries[i].pub.changed = false;
        self->entries[i].pub.delta = 0;
        self->entries[i].pub.flags = 0;
    }
}

static void s_update(series_t *self, entry_t *e, const reading_t *r, bool is_new)
{
    series_entry_t *p = &e->pub;
    /* Gone from a clean read of its source, now back: a new object. */
    bool returning = !is_new && !p->present;
    if (is_new && self->gen == 1) {
        p->flags = SAMPLE_FIRST; /* baseline: history before us is unknown */
    } else if (p->cls.kind != KIND_COUNTER) {
        p->flags = is_new ? SAMPLE_FIRST : 0;
        p->delta = is_new ? 0 : (int64_t)(r->value - p->value);
    } else if (is_new || returning) {
        if (s_born_at_zero_here(self, e->source)) {
            p->delta = (int64_t)r->value;
            p->flags = is_new ? 0 : SAMPLE_RESET;
        } else {
            p->flags = SAMPLE_FIRST;
        }
    } else if (e->boot_epoch != self->boot_epoch ||
               (p->instance && r->instance && p->instance != r->instance)) {
        p->flags = SAMPLE_RESET;
        p->delta = (int64_t)r->value;
    } else {
        p->delta = series_delta(p->value, r->value, p->cls.width, &p->flags);
    }
    /* The aggregator refuses a delta beyond 2^48 (validate.h): no counter
     * moves that much in an interval, so it is a restart whose increase is
     * unknown; a gauge's or a setting's delta means nothing anyway. */
    if (p->delta > (int64_t)VALIDATE_MAX_COUNT || p->delta < -(int64_t)VALIDATE_MAX_COUNT) {
        if (p->cls.kind == KIND_COUNTER) {
            p->flags |= SAMPLE_RESET;
            log_limited(LOGL_WARN, "series:jump", "collector: %s/%s/%s jumped by %lld, more than "
                        "any count; sent as a restart", p->source, p->device, p->name,
                        (long long)p->delta);
        }
        p->delta = 0;
    }
    p->changed = is_new || returning || p->delta != 0 || p->flags != 0 || r->value != p->value;
    p->value = r->value;
    p->present = true;
    if (r->instance) /* an unknown identity does not erase the known one */
        p->instance = r->instance;
    e->seen_gen = self->gen;
    e->boot_epoch = self->boot_epoch;
}

/* The reading as it may go on the wire (text.h): a device that is not a
 * name, or a name that is not text, is escaped into dev or name. */
static const reading_t *s_clean(const reading_t *r, reading_t *copy, char *dev, char *name)
{
    bool dev_ok = text_is_name(r->device), name_ok = text_is_text(r->name);
    if (dev_ok && name_ok)
        return r;
    *copy = *r;
    if (!dev_ok && text_escape_name(r->device, dev, TEXT_MAX + 1))
        copy->device = dev;
    if (!name_ok && text_escape(r->name, name, TEXT_MAX + 1))
        copy->name = name;
    return copy;
}

int series_observe(series_t *self, const reading_t *r)
{
    reading_t copy;
    char dev[TEXT_MAX + 1], name[TEXT_MAX + 1], key[3 * 256];
    r = s_clean(r, &copy, dev, name);
    s_key(r, key, sizeof key);
    uint32_t id = (uint32_t)(uintptr_t)strmap_get(self->index, key);
    bool is_new = id == 0;
    entry_t *e = is_new ? s_insert(self, r, key) : &self->entries[id - 1];
    if (!e)
        return -1;
    s_update(self, e, r, is_new);
    return 0;
}

int series_set_owner(series_t *self, series_entry_t *e, const char *owner)
{
    (void)self; /* e belongs to it */
    e->owner_of = e->instance;
    if (!owner || (e->owner && strcmp(e->owner, owner) == 0))
        return 0;
    char *copy = strdup(owner);
    if (!copy)
        return -1;
    free((char *)e->owner);
    e->owner = copy;
    e->changed = true;
    e->def_acked = false;
    return 0;
}

static bool s_source_ok(const series_t *self, source_t source)
{
    return source != SOURCE_UNKNOWN && (self->ok_sources & (UINT32_C(1) << source));
}

int series_restore(series_t *self, const reading_t *r)
{
    if (!text_is_name(r->device) || !text_is_text(r->name)) /* written clean: damaged */
        return -1;
    source_t source = source_from_name(r->source);
    if (source == SOURCE_UNKNOWN || self->gen != 0)
        return -1;
    reading_t known = *r;
    known.source = source_name(source); /* static, as the registry keeps it */
    char key[3 * 256];
    s_key(&known, key, sizeof key);
    if (strmap_get(self->index, key))
        return -1;
    entry_t *e = s_insert(self, &known, key);
    if (!e)
        return -1;
    /* As if seen in the snapshot before the first: present, with its value. */
    e->pub.value = r->value;
    e->pub.instance = r->instance;
    e->pub.present = true;
    return 0;
}

void series_source_ok(series_t *self, source_t source)
{
    if (source > SOURCE_UNKNOWN && source < SOURCE_COUNT)
        self->ok_sources |= UINT32_C(1) << source;
}

void series_end(series_t *self)
{
    /* A series of a source that was read completely but did not show it has
     * gone (device removed, socket closed). One whose source failed this
     * time keeps its last value, so a transient read error is not a reset. */
    for (size_t i = 0; i < self->count; i++) {
        entry_t *e = &self->entries[i];
        if (e->seen_gen == self->gen)
            continue;
        if (s_source_ok(self, e->source))
            e->pub.present = false;
    }
    self->was_ok |= self->ok_sources;
}

void series_each(series_t *self, void (*fn)(void *ctx, series_entry_t *e), void *ctx)
{
    for (size_t i = 0; i < self->count; i++)
        fn(ctx, &self->entries[i].pub);
}

size_t series_count(const series_t *self)
{
    return self->count;
}

uint64_t series_overflowed(const series_t *self)
{
    return self->overflowed;
}

void series_ack_defs(series_t *self, uint64_t seq)
{
    for (size_t i = 0; i < self->count; i++) {
        series_entry_t *e = &self->entries[i].pub;
        if (e->def_seq != 0 && e->def_seq == seq)
            e->def_acked = true;
    }
}

void series_unack_defs(series_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        self->entries[i].pub.def_acked = false;
}
