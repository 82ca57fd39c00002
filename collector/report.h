/* report: turns the series registry into what leaves the collector: the
 * Hello and Batch messages of the wire format, and the one-shot JSON
 * snapshot of `--once --json`. */
#ifndef DROPSCOPE_REPORT_H
#define DROPSCOPE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "series.h"

/* Identity stamped on every message of one collector incarnation. */
typedef struct {
    const char *host;
    const char *boot_id;
    uint64_t incarnation;
} report_id_t;

/* What a batch carries besides the registry's samples. */
typedef struct {
    uint64_t seq;
    int64_t ts_ns;      /* when the snapshot was read */
    int64_t prev_ts_ns; /* the previous snapshot, 0 for the first */
    bool full;          /* every present series, not only the changed ones */
    bool all_defs;      /* the definition of every series not acknowledged, sampled or not
                           (after the aggregator said it lost them: ACK_NEED_DEFS) */
    const burst_msg_t *bursts;
    size_t nbursts;
    const gap_msg_t *gaps;  /* the probes' sequence gaps */
    size_t ngaps;
    uint64_t spool_dropped_messages, spool_dropped_samples;
    uint64_t spool_rejected_messages, spool_rejected_samples;
    clock_msg_t clock;
} report_batch_t;

/* Encodes a Batch with the samples of every series that changed in the
 * last snapshot (or every present one when full), the bursts, and the
 * definitions the aggregator has not acknowledged of the series sampled
 * (of every series with all_defs), marked as carried by this seq. The buffer is the caller's to free; *nsamples_p (optional)
 * receives the sample count. 0, or -1 with err. */
int report_batch(series_t *series, const report_id_t *id, const report_batch_t *rb,
                 uint8_t **buf_p, size_t *len_p, size_t *nsamples_p, char *err, size_t errsz);

/* Encodes a Hello (seq). 0, or -1 with err. */
int report_hello(const report_id_t *id, uint64_t seq, const hello_t *hello, uint8_t **buf_p,
                 size_t *len_p, char *err, size_t errsz);

/* Returns the `--once --json` document (docs/ARCHITECTURE.md, Interfaces) for the present series,
 * as a string the caller frees; NULL on allocation failure. */
char *report_json(series_t *series, const report_id_t *id, int64_t ts_ns);

#endif
