/* snapshot: reads every slow-path source once (netdev, snmp, snmp6, netstat,
 * softnet, per-socket drops, sysctls, ethtool stats, rings and channels, the
 * NICs' interrupt lines and the CPUs' time: irqs; Onload's stacks every
 * STACKDUMP_GAP_NS) into the
 * series registry, applying each source's failure policy: a missing file or
 * an unsupported ioctl turns that source off with one log line; a transient
 * error or a malformed line is logged (rate-limited) and retried next time.
 * Nothing that can be missing on some kernel stops the collector. */
#ifndef DROPSCOPE_SNAPSHOT_H
#define DROPSCOPE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "series.h"

typedef struct snapshot snapshot_t;

typedef struct {
    const char *procfs;      /* root of /proc (borrowed) */
    const char *sysfs;       /* root of /sys (borrowed) */
    const char *ethtool_dir; /* replay `ethtool -S`/`-g` dumps from DIR/<if>/{statistics,ring}
                                instead of the ioctl; NULL = live */
    const char *onload_stackdump; /* the onload_stackdump to run ("none": no Onload source);
                                     NULL = onload_stackdump on $PATH, when procfs is /proc */
} snapshot_opts_t;

/* NULL on allocation failure. Live kernel interfaces (netlink, ethtool
 * ioctl) are used only when procfs is "/proc", so a fixture root never
 * mixes with this machine's own devices. */
snapshot_t *snapshot_new(const snapshot_opts_t *opts);
void snapshot_destroy(snapshot_t **self_p);

/* Reads all sources into `series` (series_begin ... series_end), plus
 * `nextra` readings the caller made (the sampler's rate summaries), whose
 * sources then count as read completely. Returns the CLOCK_REALTIME ns at
 * which the read started. */
int64_t snapshot_collect(snapshot_t *self, series_t *series, const reading_t *extra,
                         size_t nextra);

/* Borrowed facts read by the last collect (or at creation): "" if unknown. */
const char *snapshot_boot_id(const snapshot_t *self);
const char *snapshot_kernel(const snapshot_t *self);

#endif
