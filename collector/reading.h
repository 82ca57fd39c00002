/* reading: one raw counter value as a source found it, before the series
 * registry gives it an identity, a layer and a delta. Parsers emit readings
 * through a callback so that they stay pure (no allocation, no I/O). */
#ifndef DROPSCOPE_READING_H
#define DROPSCOPE_READING_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *source; /* static: source_name() of a source_t (common/source.h) */
    const char *device; /* borrowed for the call; "" when the counter has none */
    const char *name;   /* borrowed for the call; snmp/netstat/snmp6: "Group.Field" */
    uint64_t value;     /* the counter as the kernel printed it (negative prints wrap) */
    uint64_t instance;  /* identity of the object behind the series (socket inode);
                           a change means the counter restarted. 0 = not applicable */
} reading_t;

/* Receives one reading; `r` and its strings are only valid during the call. */
typedef void(reading_fn)(void *ctx, const reading_t *r);

/* Every parser has this shape:
 *   int x_parse(const char *buf, size_t len, reading_fn *emit, void *ctx,
 *               char *err, size_t errsz);
 * It emits every value it can trust, and returns the number of problems it
 * found (0 = clean file). err receives a one-line description of the first
 * problem, with its line number, or "" when there was none. */

#endif
