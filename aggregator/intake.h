/* intake: a decoded, validated message of the wire format given to the
 * store as the store's own types (store.h): the wire's structs translated,
 * and each burst's start moved onto the aggregator's clock with the offset
 * its batch reports (correlate_burst), so that the store stays free of the
 * protocol and of the analysis. Ingest calls it; so do the tests and
 * benchmarks that fill a store with messages. */
#ifndef DROPSCOPE_INTAKE_H
#define DROPSCOPE_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "store.h"

/* Stores msg (hello, batch or heartbeat; validate_message passed it)
 * received at received_ns in the store's current transaction, as
 * store_hello/store_batch/store_heartbeat do; *samples receives the
 * samples stored. */
store_rc_t intake_store(store_t *store, const msg_t *msg, int64_t received_ns, size_t *samples,
                        char *err, size_t errsz);

#endif
