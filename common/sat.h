/* sat: saturating int64 addition, for sums of drop counts. A delta is at
 * most 2^48 (proto/validate.h), but sums run over months and over rows
 * stored before that bound: a sum that would leave int64 (undefined
 * behaviour in C, an error in SQLite's sum()) stops at the edge instead. */
#ifndef DROPSCOPE_SAT_H
#define DROPSCOPE_SAT_H

#include <stdint.h>

static inline int64_t sat_add(int64_t a, int64_t b)
{
    int64_t sum;
    if (__builtin_add_overflow(a, b, &sum))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return sum;
}

#endif
