/* clocksync: see clocksync.h. */
#define _GNU_SOURCE
#include "clocksync.h"

#include <sys/timex.h>

void clocksync_add(clocksync_t *self, int64_t t1, int64_t t2, int64_t t3, int64_t t4)
{
    int64_t rtt = (t4 - t1) - (t3 - t2);
    if (t4 < t1 || t3 < t2 || rtt < 0)
        return;
    /* offset = ((t2 - t1) + (t3 - t4)) / 2, halves first against overflow */
    int64_t offset = (t2 - t1) / 2 + (t3 - t4) / 2;
    self->recent[self->next] = (clocksync_estimate_t){offset, rtt, true};
    self->next = (self->next + 1) % CLOCKSYNC_WINDOW;
}

clocksync_estimate_t clocksync_estimate(const clocksync_t *self)
{
    clocksync_estimate_t best = {0, 0, false};
    for (unsigned i = 0; i < CLOCKSYNC_WINDOW; i++) {
        const clocksync_estimate_t *e = &self->recent[i];
        if (e->valid && (!best.valid || e->rtt_ns < best.rtt_ns))
            best = *e;
    }
    return best;
}

int clocksync_status(clocksync_status_t *out)
{
    struct timex tx = {0};
    int state = adjtimex(&tx);
    if (state < 0)
        return -1;
    *out = (clocksync_status_t){!(tx.status & STA_UNSYNC) && state != TIME_ERROR,
                                (int64_t)tx.maxerror * 1000, (int64_t)tx.esterror * 1000};
    return 0;
}
