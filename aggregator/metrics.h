/* metrics: the aggregator's own health for /metrics (Prometheus text). */
#ifndef DROPSCOPE_METRICS_H
#define DROPSCOPE_METRICS_H

#include "api.h"

/* /metrics from the ingest's latest published stats and the store
 * (borrowed). Never fails: an error becomes a 500 reply. */
api_reply_t metrics_get(store_t *store, stats_board_t *board);

#endif
