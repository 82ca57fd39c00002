/* rows_cut: the bounds of one answer (rows kept newest first, the profile
 * tick budget) and what they cut, apart from rows.h so that the analyses
 * (incidents, timeline) can spend and record them without JSON. */
#ifndef DROPSCOPE_ROWS_CUT_H
#define DROPSCOPE_ROWS_CUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Profile ticks one answer carries at most: a burst's profile is a tick a
 * millisecond (or 100 us) over seconds, and a month of bursts as JSON
 * integers would take gigabytes. */
#define ROWS_PROFILE_TICKS 250000

/* What an answer's bounds left out (api.c words it in the
 * X-Dropscope-Truncated header). Start it as ROWS_CUT_INIT. */
typedef struct {
    bool limit;             /* more rows than the limit: the newest were kept */
    size_t ticks_left;      /* profile ticks the answer may still carry */
    bool profiles;          /* some bursts' profiles were left out for that */
    int64_t bursts_from_ns; /* incidents: only the bursts after this were read; 0: all */
    int64_t bursts_read;    /* how many were read then */
} rows_cut_t;

#define ROWS_CUT_INIT ((rows_cut_t){false, ROWS_PROFILE_TICKS, false, 0, 0})

/* Whether a profile of nprofile ticks may go into the answer: true spends
 * them from cut->ticks_left; false (they do not fit) sets cut->profiles.
 * Always true without a cut. Rows read newest first so give the newest
 * bursts their profiles. */
static inline bool rows_cut_profile(rows_cut_t *cut, size_t nprofile)
{
    if (!cut)
        return true;
    if (nprofile > cut->ticks_left) {
        cut->profiles = true;
        return false;
    }
    cut->ticks_left -= nprofile;
    return true;
}

#endif
