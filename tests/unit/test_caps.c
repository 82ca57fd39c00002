/* Tests collector/caps: which features are degraded, and with which text
 * and fix, for capability sets and failures (root's, none, the systemd
 * unit's less one, the broader capabilities that stand in for narrower
 * ones); caps_current against the kernel's own CapEff line; and, as root,
 * a child that drops to uid 65534 without capabilities must find other
 * users' processes hidden (sockowner_refused: more than root is refused)
 * and be degraded for it. */
#define _GNU_SOURCE
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "caps.h"
#include "sockowner.h"

#define BIT(c) (UINT64_C(1) << (c))
/* What the systemd unit grants (docs/DEPLOY.md). */
#define UNIT                                                                                       \
    (BIT(CAP_BPF) | BIT(CAP_PERFMON) | BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_PTRACE) |                  \
     BIT(CAP_DAC_READ_SEARCH))

static const char *const OWNERS_BOTH =
    "socket owners: only this user's processes (uid 65534) are named (needs CAP_SYS_PTRACE and "
    "CAP_DAC_READ_SEARCH)";

static size_t s_decide(uint64_t effective, caps_facts_t facts, caps_degraded_t *out)
{
    caps_t caps = {65534, effective};
    memset(out, 0, sizeof *out * CAPS_MAX_DEGRADED);
    return caps_degraded(&caps, &facts, out, CAPS_MAX_DEGRADED);
}

static void test_nothing_missing(void **state)
{
    (void)state;
    caps_degraded_t d[CAPS_MAX_DEGRADED];
    caps_facts_t failed = {.ebpf_wanted = true, .ebpf_loaded = false, .owners_refused = 40};
    /* every capability (root): eBPF failed for another reason (BTF: the
     * backend_note's business), and refusals are not for want of one */
    assert_int_equal(s_decide(~UINT64_C(0), failed, d), 0);
    assert_int_equal(s_decide(UNIT, failed, d), 0);
    /* the broad ones stand in for the narrow: CAP_SYS_ADMIN for BPF,
     * PERFMON and NET_ADMIN; CAP_DAC_OVERRIDE for DAC_READ_SEARCH */
    assert_int_equal(
        s_decide(BIT(CAP_SYS_ADMIN) | BIT(CAP_SYS_PTRACE) | BIT(CAP_DAC_OVERRIDE), failed, d), 0);
}

static void test_missing_but_nothing_failed(void **state)
{
    (void)state;
    caps_degraded_t d[CAPS_MAX_DEGRADED];
    /* no capability at all, but no process hidden and eBPF not asked for
     * (--backend netlink): nothing is lost */
    assert_int_equal(s_decide(0, (caps_facts_t){false, false, 0}, d), 0);
    /* eBPF loaded all the same: not degraded */
    assert_int_equal(s_decide(0, (caps_facts_t){true, true, 0}, d), 0);
}

static void test_no_capabilities(void **state)
{
    (void)state;
    caps_degraded_t d[CAPS_MAX_DEGRADED];
    assert_int_equal(s_decide(0, (caps_facts_t){true, false, 12}, d), 2);
    assert_string_equal(d[0].text, OWNERS_BOTH);
    assert_string_equal(d[0].missing, "CAP_SYS_PTRACE CAP_DAC_READ_SEARCH");
    assert_string_equal(d[1].text, "ebpf backend: not loaded (needs CAP_BPF, CAP_PERFMON and "
                                   "CAP_NET_ADMIN), using netlink");
    assert_string_equal(d[1].missing, "CAP_BPF CAP_PERFMON CAP_NET_ADMIN");
    /* room for one: the first in order */
    caps_t caps = {65534, 0};
    caps_facts_t facts = {true, false, 12};
    assert_int_equal(caps_degraded(&caps, &facts, d, 1), 1);
    assert_string_equal(d[0].text, OWNERS_BOTH);
    assert_int_equal(caps_degraded(&caps, &facts, d, 0), 0);
}

static void test_unit_less_one(void **state)
{
    (void)state;
    caps_degraded_t d[CAPS_MAX_DEGRADED];
    caps_facts_t facts = {.ebpf_wanted = true, .ebpf_loaded = true, .owners_refused = 3};
    assert_int_equal(s_decide(UNIT & ~BIT(CAP_SYS_PTRACE), facts, d), 1);
    assert_string_equal(d[0].text, "socket owners: only this user's processes (uid 65534) are "
                                   "named (needs CAP_SYS_PTRACE)");
    assert_string_equal(d[0].missing, "CAP_SYS_PTRACE");
    assert_int_equal(s_decide(UNIT & ~BIT(CAP_DAC_READ_SEARCH), facts, d), 1);
    assert_string_equal(d[0].missing, "CAP_DAC_READ_SEARCH");
    facts = (caps_facts_t){.ebpf_wanted = true, .ebpf_loaded = false, .owners_refused = 0};
    assert_int_equal(s_decide(UNIT & ~BIT(CAP_BPF), facts, d), 1);
    assert_string_equal(d[0].text, "ebpf backend: not loaded (needs CAP_BPF), using netlink");
    assert_string_equal(d[0].missing, "CAP_BPF");
    assert_int_equal(s_decide(UNIT & ~(BIT(CAP_PERFMON) | BIT(CAP_NET_ADMIN)), facts, d), 1);
    assert_string_equal(d[0].text, "ebpf backend: not loaded (needs CAP_PERFMON and "
                                   "CAP_NET_ADMIN), using netlink");
}

/* CapEff of /proc/self/status, the kernel's own word. */
static uint64_t s_capeff(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    uint64_t eff = 0;
    bool found = false;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %" SCNx64, &eff) == 1)
            found = true;
    fclose(f);
    assert_true(found);
    return eff;
}

static void test_current(void **state)
{
    (void)state;
    caps_t caps;
    char err[128];
    assert_int_equal(caps_current(&caps, err, sizeof err), 0);
    assert_int_equal(caps.euid, geteuid());
    assert_true(caps.effective == s_capeff());
    assert_int_equal(caps_has(&caps, CAP_SYS_PTRACE), (s_capeff() >> CAP_SYS_PTRACE) & 1);
    assert_false(caps_has(&caps, 64));
    assert_false(caps_has(&caps, -1));
}

/* As root: a child that becomes uid 65534 (setuid drops every capability)
 * cannot see root's processes' files, and is degraded for it. */
static void test_dropped_to_nobody(void **state)
{
    (void)state;
    if (geteuid() != 0 || (s_capeff() & UNIT) != UNIT) {
        printf("skipped: needs root with the unit's capabilities\n");
        return;
    }
    /* Even root can be refused one (this machine's pid 1, a sandbox's
     * init, refuses readlink to all): hence "missing AND refused". */
    size_t root_refused = sockowner_refused("/proc");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
            _exit(10);
        caps_t caps;
        char err[128];
        if (caps_current(&caps, err, sizeof err) || caps.effective != 0 || caps.euid != 65534)
            _exit(11);
        caps_facts_t facts = {.owners_refused = sockowner_refused("/proc")};
        if (facts.owners_refused <= root_refused) /* every root process at least */
            _exit(12);
        caps_degraded_t d[CAPS_MAX_DEGRADED];
        if (caps_degraded(&caps, &facts, d, CAPS_MAX_DEGRADED) != 1 ||
            strcmp(d[0].text, OWNERS_BOTH) != 0)
            _exit(13);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_missing), cmocka_unit_test(test_missing_but_nothing_failed),
        cmocka_unit_test(test_no_capabilities), cmocka_unit_test(test_unit_less_one),
        cmocka_unit_test(test_current),         cmocka_unit_test(test_dropped_to_nobody),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
