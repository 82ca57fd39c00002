/* caps: the features this collector runs without, and why. Run as an
 * unprivileged user with a few ambient capabilities (the systemd unit),
 * most sources need none; two features do (docs/DEPLOY.md has the table,
 * measured on Linux 6.18):
 *  - socket owners: other users' /proc/<pid>/fd needs CAP_DAC_READ_SEARCH
 *    to list and CAP_SYS_PTRACE to readlink (each alone: EACCES);
 *  - the eBPF backend: loading needs CAP_BPF, CAP_PERFMON (the tracepoint
 *    program) and CAP_NET_ADMIN (the tcx programs); without one: EPERM.
 * A feature is degraded when a capability it needs is missing AND it
 * failed for it here (the eBPF backend did not load; some process's files
 * were refused), so a collector whose /proc holds only its own processes,
 * or that was not asked for eBPF, reports nothing. The decision is pure
 * (caps_degraded), fed by caps_current and what the agent saw. */
#ifndef DROPSCOPE_CAPS_H
#define DROPSCOPE_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CAPS_MAX_DEGRADED 4 /* entries caps_degraded can return (2 features today) */
#define CAPS_TEXT 160       /* bytes of an entry's text, NUL included */

/* The process's privileges. */
typedef struct {
    uid_t euid;
    uint64_t effective; /* bit n set: capability n (linux/capability.h) is effective */
} caps_t;

/* What the collector saw fail. */
typedef struct {
    bool ebpf_wanted;      /* --backend auto or ebpf */
    bool ebpf_loaded;      /* ... and the eBPF backend is in use */
    size_t owners_refused; /* processes whose open files /proc would not show us */
} caps_facts_t;

/* A degraded feature. */
typedef struct {
    char text[CAPS_TEXT];    /* for the Hello and the log: the feature, what is lost, the need */
    char missing[CAPS_TEXT]; /* the capabilities to grant, "CAP_A CAP_B" (AmbientCapabilities=) */
} caps_degraded_t;

/* The calling process's effective capabilities (libcap); 0, or -1 with
 * err naming the failing call. */
int caps_current(caps_t *out, char *err, size_t errsz);

/* True when capability cap (CAP_*) is in caps. */
bool caps_has(const caps_t *caps, int cap);

/* The degraded features, at most max (CAPS_MAX_DEGRADED is enough), in a
 * fixed order: socket owners, then the eBPF backend. Returns how many. */
size_t caps_degraded(const caps_t *caps, const caps_facts_t *facts, caps_degraded_t *out,
                     size_t max);

#endif
