/* caps: see caps.h. libcap is used here only, to read the effective set;
 * the kernel's rules for each feature are written beside its need below
 * (Linux 6.18: fs/proc/base.c, fs/proc/fd.c, kernel/bpf/syscall.c). */
#include "caps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

/* A capability and the one that grants it too (-1: none). */
typedef struct {
    int cap, or_cap;
    const char *name;
} need_t;

/* Listing another user's /proc/<pid>/fd is a DAC check on a 0500
 * directory (CAP_DAC_OVERRIDE passes it too); reading a link in it is
 * ptrace_may_access(PTRACE_MODE_READ_FSCREDS). Both fail with EACCES. */
static const need_t s_owner_needs[] = {
    {CAP_SYS_PTRACE, -1, "CAP_SYS_PTRACE"},
    {CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE, "CAP_DAC_READ_SEARCH"}};

/* BPF_PROG_LOAD: bpf_capable() for any program, perfmon_capable() for the
 * skb:kfree_skb tracepoint, bpf_net_capable() for the tcx (SCHED_CLS)
 * ones; CAP_SYS_ADMIN passes each. Without one, EPERM. */
static const need_t s_ebpf_needs[] = {{CAP_BPF, CAP_SYS_ADMIN, "CAP_BPF"},
                                      {CAP_PERFMON, CAP_SYS_ADMIN, "CAP_PERFMON"},
                                      {CAP_NET_ADMIN, CAP_SYS_ADMIN, "CAP_NET_ADMIN"}};

int caps_current(caps_t *out, char *err, size_t errsz)
{
    *out = (caps_t){.euid = geteuid()};
    cap_t now = cap_get_proc();
    if (!now) {
        snprintf(err, errsz, "cap_get_proc: %s", strerror(errno));
        return -1;
    }
    for (int c = 0; c <= CAP_LAST_CAP && c < 64; c++) {
        cap_flag_value_t v = CAP_CLEAR;
        if (cap_get_flag(now, (cap_value_t)c, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
            out->effective |= UINT64_C(1) << c;
    }
    cap_free(now);
    return 0;
}

bool caps_has(const caps_t *caps, int cap)
{
    return cap >= 0 && cap < 64 && (caps->effective >> cap & 1);
}

/* The needs missing from caps, as "CAP_A and CAP_B" into words and
 * "CAP_A CAP_B" into list; how many. */
static size_t s_missing(const caps_t *caps, const need_t *needs, size_t n, char words[64],
                        char list[CAPS_TEXT])
{
    const char *missing[8];
    size_t m = 0;
    for (size_t i = 0; i < n && m < 8; i++)
        if (!caps_has(caps, needs[i].cap) && !caps_has(caps, needs[i].or_cap))
            missing[m++] = needs[i].name;
    words[0] = list[0] = '\0';
    for (size_t i = 0; i < m; i++) {
        const char *sep = i == 0 ? "" : i + 1 == m ? " and " : ", ";
        size_t w = strlen(words), l = strlen(list);
        snprintf(words + w, 64 - w, "%s%s", sep, missing[i]);
        snprintf(list + l, CAPS_TEXT - l, "%s%s", i ? " " : "", missing[i]);
    }
    return m;
}

size_t caps_degraded(const caps_t *caps, const caps_facts_t *facts, caps_degraded_t *out,
                     size_t max)
{
    size_t n = 0;
    char words[64]; /* the longest, "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN", is 38 */
    if (n < max && facts->owners_refused > 0 &&
        s_missing(caps, s_owner_needs, sizeof s_owner_needs / sizeof *s_owner_needs, words,
                  out[n].missing) > 0) {
        snprintf(out[n].text, sizeof out[n].text,
                 "socket owners: only this user's processes (uid %u) are named (needs %s)",
                 (unsigned)caps->euid, words);
        n++;
    }
    if (n < max && facts->ebpf_wanted && !facts->ebpf_loaded &&
        s_missing(caps, s_ebpf_needs, sizeof s_ebpf_needs / sizeof *s_ebpf_needs, words,
                  out[n].missing) > 0) {
        snprintf(out[n].text, sizeof out[n].text,
                 "ebpf backend: not loaded (needs %s), using netlink", words);
        n++;
    }
    return n;
}
