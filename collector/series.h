/* series: the collector's registry of series (source/device/name on this
 * host). It gives each reading a stable id, its class from the counter
 * table, and a delta with reset detection; it remembers which definitions
 * the aggregator has acknowledged. One snapshot at a time:
 * series_begin, series_observe... (plus series_source_ok per source read
 * cleanly), series_end; then series_each to build the batch. */
#ifndef DROPSCOPE_SERIES_H
#define DROPSCOPE_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "reading.h"
#include "source.h"

typedef struct series series_t;

typedef struct {
    uint32_t id;           /* 1.. in order of first sight */
    const char *source;    /* static: source_name() of its source */
    const char *device;    /* owned by the registry */
    const char *name;      /* owned by the registry */
    counter_class_t cls;
    uint64_t value;        /* last value read */
    uint64_t instance;     /* identity of the object behind it (socket inode), 0 = none */
    const char *owner;     /* the process holding it, "pid/comm"; NULL = not known */
    uint64_t owner_of;     /* the instance whose owner was looked for (0 = not yet) */
    int64_t delta;         /* change in the last snapshot (see series_delta) */
    uint32_t flags;        /* SAMPLE_FIRST / SAMPLE_RESET for the last snapshot */
    bool changed;          /* delta != 0, flags != 0, or newly seen */
    bool present;          /* seen in the last snapshot */
    bool def_acked;        /* the aggregator has committed its definition */
    uint64_t def_seq;      /* last batch seq that carried the definition */
} series_entry_t;

/* New empty registry that holds at most max_series series (new ones past
 * the cap are ignored and counted). NULL on allocation failure. */
series_t *series_new(size_t max_series);
void series_destroy(series_t **self_p);

/* Starts a snapshot read on boot `boot_id` (borrowed for the call). A boot
 * id different from the last snapshot's makes every counter a reset. */
void series_begin(series_t *self, const char *boot_id);
/* Records one reading of the current snapshot. 0, or -1 when the registry
 * is full or out of memory (the reading is dropped and counted). A source
 * that is not a source_t's name is kept, but never read completely: its
 * series never disappear. */
int series_observe(series_t *self, const reading_t *r);
/* Declares that `source` was read completely in this snapshot, so its
 * series that were not seen have disappeared. */
void series_source_ok(series_t *self, source_t source);
/* Ends the snapshot. */
void series_end(series_t *self);

/* Seeds the registry, before the first snapshot, with a series as a
 * previous run of the collector on this boot last read it, so that the
 * first snapshot counts what happened in between instead of starting from
 * a baseline. Sources other than the collector's own are refused (-1). */
int series_restore(series_t *self, const reading_t *r);

/* Records the owner found for e's current instance (NULL: none found,
 * which keeps the one known). A new owner marks e changed with its
 * definition unacknowledged, so the next batch carries it. 0, or -1 when
 * out of memory (e is unchanged). */
int series_set_owner(series_t *self, series_entry_t *e, const char *owner);

/* Calls fn for every series, in id order. */
void series_each(series_t *self, void (*fn)(void *ctx, series_entry_t *e), void *ctx);
size_t series_count(const series_t *self);
/* Readings dropped because the registry was full. */
uint64_t series_overflowed(const series_t *self);
/* Marks the definitions whose last carrier was batch `seq` as acknowledged
 * (one carried again later waits for that later batch). */
void series_ack_defs(series_t *self, uint64_t seq);
/* Forgets all acknowledgements (the aggregator may have lost them). */
void series_unack_defs(series_t *self);

/* The delta rule, pure so it can be tested against a naive reference:
 * given the previous and current value of a counter kept in `width` bits,
 * returns the increase and sets SAMPLE_RESET in *flags when the counter
 * restarted (a decrease that is not a 32-bit wrap); after a reset the
 * increase is counted from zero. */
int64_t series_delta(uint64_t prev, uint64_t cur, unsigned width, uint32_t *flags);

#endif
