/* procfile: reading a /proc or /sys file whole into a reusable buffer, and
 * the log lines of the sources' failure policy (docs/ARCHITECTURE.md,
 * Failure policy of the sources), for every slow-path reader. */
#ifndef DROPSCOPE_PROCFILE_H
#define DROPSCOPE_PROCFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads root/relpath whole into *buf (grown as needed; *cap its size),
 * NUL-terminated: such files are generated on read, so their size is not
 * known in advance and a partial read would be a torn snapshot. Returns
 * the length, or -1 with errno set. */
ssize_t procfile_read(const char *root, const char *relpath, char **buf, size_t *cap);

/* Logs a read failure of root/relpath (errno), whose counters are `what`:
 * true when it turns the source off for good (ENOENT: one info line;
 * EACCES, EPERM: one warning with the fix), false for an error worth
 * retrying next interval (rate-limited warning). */
bool procfile_failed(const char *root, const char *relpath, const char *what);

/* Logs (rate-limited per file) that root/relpath had `problems` malformed
 * lines, quoting the first, err. */
void procfile_problems(const char *root, const char *relpath, int problems, const char *err);

#endif
