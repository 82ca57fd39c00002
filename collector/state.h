/* state: the collector's last counter values on disk, so that a collector
 * restarted on the same boot continues from them and the drops that
 * happened while it was down are counted, in the interval that spans the
 * gap, instead of vanishing into a new baseline. Encoded after every
 * snapshot (JSON) and committed together with its batch by delivery.c, which
 * keeps it as opaque bytes. */
#ifndef DROPSCOPE_STATE_H
#define DROPSCOPE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "series.h"

typedef struct {
    char boot_id[64];     /* the boot the values belong to */
    uint64_t incarnation; /* the collector run that read them */
    uint64_t seq;         /* the batch that carried them */
    int64_t ts_ns;        /* when they were read */
} state_head_t;

/* Encodes head and every present series of `series`: a malloc'd buffer the
 * caller frees, its length in *len_p (no NUL counted). NULL with err when out
 * of memory or the boot id is not UTF-8. */
char *state_encode(const state_head_t *head, series_t *series, size_t *len_p, char *err,
                   size_t errsz);

/* Writes state_encode's document to path (through path.tmp and a rename).
 * 0, or -1 with err naming the file. */
int state_write(const char *path, const state_head_t *head, series_t *series, char *err,
                size_t errsz);

/* Reads path. Fills *head; when `series` is not NULL, also restores every
 * series into it (series_restore). 0; 1 when the file does not exist or is
 * empty; -1 with err naming the file when it is unreadable or malformed. */
int state_read(const char *path, state_head_t *head, series_t *series, char *err, size_t errsz);

/* state_read without the file: parses the len bytes at buf (no NUL
 * needed). 0 with *head filled and, when `series` is not NULL, every row
 * restored into it (a row series_restore refuses, such as one of an unknown
 * source, is skipped). -1 with the reason in err ("not a collector state
 * file: ..."; err may be NULL when errsz is 0) when buf is not JSON of that
 * shape; then *head may be filled already, and `series` may hold the rows
 * before the bad one. Pure: no I/O, no globals. */
int state_parse(const char *buf, size_t len, state_head_t *head, series_t *series, char *err,
                size_t errsz);

/* Before the first snapshot: when the state file at path belongs to boot
 * `boot_id`, restores its series into `series` and returns the time of those
 * values (the start of the interval that spans the gap); else 0, for a new
 * baseline. Every outcome but a missing file is logged, naming the file. */
int64_t state_restore(const char *path, const char *boot_id, series_t *series);

#endif
