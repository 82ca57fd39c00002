/* validate: what a decoded message means, judged before anything of it is
 * stored (decode -> validate -> store). The codec checks shape (sizes,
 * column lengths, enums); this checks content: text and names (common/text),
 * finite numbers, deltas and counts that leave room for sums in the
 * store's 64-bit integers, times near the aggregator's clock, series ids
 * given once per batch. A message that passes cannot make the store fail for any reason
 * but the database itself; rules that need the stored state (a sample of a
 * series never defined, a counter going backwards) stay in the store.
 * Pure: no I/O, no globals, no allocation. */
#ifndef DROPSCOPE_VALIDATE_H
#define DROPSCOPE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define VALIDATE_MAX_ID (1u << 20)          /* wire series ids are 1 .. this - 1 */
#define VALIDATE_MAX_COUNT (UINT64_C(1) << 48) /* a delta, a burst's packets, bytes or drops */
#define VALIDATE_MAX_VALUE ((uint64_t)INT64_MAX) /* a spool count (an int64 column) */
#define VALIDATE_MAX_SPAN_NS (INT64_C(3600) * 1000000000) /* a burst or its profile */
#define VALIDATE_SKEW_DEFAULT_NS (INT64_C(86400) * 1000000000) /* 1 day */

/* The window that times must fall in: [now - behind, now + ahead]. */
typedef struct {
    int64_t now_ns;    /* the aggregator's clock when the message arrived */
    int64_t ahead_ns;  /* how far ahead of it a sender's clock may be (--max-skew) */
    int64_t behind_ns; /* how old a batch may be: a spool resent after an outage is
                          old, but nothing older than the store keeps */
} validate_window_t;

/* 0 when msg may be stored; -1 with the first rule it breaks in err,
 * naming the field and its value ("burst 2 (eth0): peak_per_ms is nan"). */
int validate_message(const msg_t *msg, const validate_window_t *w, char *err, size_t errsz);

#endif
