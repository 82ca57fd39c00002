/* clocksync: how far this host's clock is from the aggregator's, and how
 * good the local clock says it is (docs/ARCHITECTURE.md, Fleet analysis). The offset comes from the
 * four timestamps of each acknowledged message, NTP style: t1 sent (ours),
 * t2 received and t3 acked (aggregator's), t4 ack received (ours). The
 * sample with the smallest round trip among the recent ones is the most
 * trustworthy, since queueing delay is what makes the others lopsided. */
#ifndef DROPSCOPE_CLOCKSYNC_H
#define DROPSCOPE_CLOCKSYNC_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCKSYNC_WINDOW 16 /* recent exchanges the estimate is chosen from */

typedef struct {
    int64_t offset_ns; /* aggregator clock minus ours */
    int64_t rtt_ns;    /* round trip of the exchange the offset came from */
    bool valid;
} clocksync_estimate_t;

typedef struct {
    clocksync_estimate_t recent[CLOCKSYNC_WINDOW];
    unsigned next; /* where the next exchange goes */
} clocksync_t;

/* Records one exchange; ignores impossible ones (negative round trip, or
 * t3 before t2). Pure. */
void clocksync_add(clocksync_t *self, int64_t t1, int64_t t2, int64_t t3, int64_t t4);

/* The offset of the recent exchange with the smallest round trip; .valid
 * is false before the first exchange. Its uncertainty is rtt_ns / 2. */
clocksync_estimate_t clocksync_estimate(const clocksync_t *self);

/* What the kernel says of the local clock (adjtimex). */
typedef struct {
    bool synced;         /* not STA_UNSYNC and not TIME_ERROR */
    int64_t maxerror_ns; /* maximum error bound */
    int64_t esterror_ns; /* estimated error */
} clocksync_status_t;

/* Reads adjtimex; 0, or -1 (errno) when it cannot be read. */
int clocksync_status(clocksync_status_t *out);

#endif
