/* allowlist: which host each admitted CurveZMQ key may speak for. It reads
 * the same --allow directory of public certificates that zauth admits at
 * the handshake (its top level), keyed by public key, each with the host
 * its metadata names (`name = "web1"`, written by `dropscope keygen`).
 * Changes are looked for at most once a second and the directory re-read
 * when it changed, so a certificate removed (revoked) or replaced
 * (re-keyed) takes effect on connections already open, not only on new
 * ones. One thread (ingest) owns it. */
#ifndef DROPSCOPE_ALLOWLIST_H
#define DROPSCOPE_ALLOWLIST_H

#include <stddef.h>
#include <stdint.h>

typedef struct allowlist allowlist_t;

/* Reads dir. NULL with the reason in err when it cannot be listed. */
allowlist_t *allowlist_new(const char *dir, char *err, size_t errsz);
void allowlist_destroy(allowlist_t **self_p);

/* Re-reads the directory when it changed (inotify); looks at most once a
 * second (now_mono_ns: a monotonic clock). */
void allowlist_refresh(allowlist_t *self, int64_t now_mono_ns);

/* The host the key (its Z85 text, ZeroMQ's "User-Id") may speak for: NULL
 * when no certificate in the directory has that key, "" when its
 * certificate names no host. Borrowed until the next refresh. */
const char *allowlist_host(const allowlist_t *self, const char *key);

/* Certificates loaded at the last read. */
size_t allowlist_size(const allowlist_t *self);

#endif
