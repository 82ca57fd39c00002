/* irqs: which CPUs serve each NIC, and how busy they are, for the
 * snapshot: each NIC interrupt line's interrupts and the CPU that served
 * most of them over the last interval; every CPU's softirq, irq, busy and
 * total time and its NET_RX/NET_TX softirq runs; the RPS/XPS masks of the
 * NICs' queues. Reads /proc/{interrupts,softirqs,stat} under the procfs
 * root and class/net under the sysfs root, each file with the failure
 * policy of a source (missing = off, one log line). */
#ifndef DROPSCOPE_IRQS_H
#define DROPSCOPE_IRQS_H

#include "reading.h"
#include "source.h"

typedef struct irqs irqs_t;

/* procfs and sysfs are copied. NULL when out of memory. */
irqs_t *irqs_new(const char *procfs, const char *sysfs);
/* Frees self and nulls *self_p; safe on NULL and twice. */
void irqs_destroy(irqs_t **self_p);

/* Reads every source once into emit(ctx, ...), and calls ok(ctx, source)
 * for each source read completely (its series that did not show are gone).
 * Why one CPU "serves" a line: it saw the largest increase of the line's
 * count since the previous call (the first call: the largest count); a
 * line that took no interrupt keeps the CPU it had. */
void irqs_collect(irqs_t *self, reading_fn *emit, void *ctx,
                  void (*ok)(void *ctx, source_t source));

#endif
