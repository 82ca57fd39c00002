/* test_irq: the IRQ and CPU parsers (irq.c, cpustat.c) on this VM's own
 * /proc/{interrupts,softirqs,stat} and on the synthetic 128-CPU host
 * (mlx5 and i40e queue names), on hand-made lines of older and odd formats
 * (2.6's one-token chip, offline CPUs, shared lines, bad counts), every
 * prefix of a real file; and irqs, which reduces a line's per-CPU counts
 * to its interrupts and the CPU that served it, over successive reads of
 * files the test rewrites. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "counters.h"
#include "cpustat.h"
#include "irq.h"
#include "irqs.h"
#include "source.h"
#include "testlib.h"

#define VM "linux-6.18-vm-irq"
#define BIG "synthetic-128cpu-mlx5-i40e"

static const irq_nic_t s_vm_nics[] = {{"eth0", "virtio2"}};
static const irq_nic_t s_big_nics[] = {{"eth0", "0000:3b:00.0"}, {"eth1", "0000:5e:00.0"}};

static int s_interrupts(const char *rel, const irq_map_t *map, testlib_collect_t *c, char *err)
{
    size_t len;
    char *buf = testlib_load(rel, &len);
    int problems = irq_interrupts_parse(buf, len, map, testlib_collect, c, err, 256);
    free(buf);
    return problems;
}

static int s_text(const char *text, const irq_map_t *map, testlib_collect_t *c, char *err)
{
    size_t len;
    char *buf = testlib_exact(text, &len);
    int problems = irq_interrupts_parse(buf, len, map, testlib_collect, c, err, 256);
    free(buf);
    return problems;
}

static void test_vm_interrupts(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    irq_map_t map = {s_vm_nics, 1, NULL, 0};
    /* virtio2-input.0 and -output.0 are eth0's (its device is virtio2);
     * virtio2-config has no count; virtio0 (balloon), 1 (block), 3, 4 and
     * the architecture's rows are no NIC's */
    assert_int_equal(s_interrupts(VM "/proc/interrupts", &map, &c, err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n, 2);
    assert_string_equal(c.e[0].source, "irq");
    assert_int_equal(testlib_value(&c, "eth0:input.0", "cpu1"), 7681);
    assert_int_equal(testlib_value(&c, "eth0:output.0", "cpu0"), 7103);
    testlib_collect_reset(&c);
    /* with its msi_irqs: the same, as config has counted nothing */
    const irq_msi_t msi[] = {{37, 0}, {38, 0}, {39, 0}};
    map = (irq_map_t){s_vm_nics, 1, msi, 3};
    assert_int_equal(s_interrupts(VM "/proc/interrupts", &map, &c, err), 0);
    assert_int_equal(c.n, 2);
    testlib_collect_reset(&c);
    /* no map: nothing is a NIC's */
    assert_int_equal(s_interrupts(VM "/proc/interrupts", NULL, &c, err), 0);
    assert_int_equal(c.n, 0);
}

static void test_big_host(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    irq_map_t map = {s_big_nics, 2, NULL, 0};
    assert_int_equal(s_interrupts(BIG "/proc/interrupts", &map, &c, err), 0);
    /* mlx5: 64 completion lines with two CPUs each, and async0; i40e: 64
     * lines on one CPU each; its misc line is not named after eth1 */
    assert_int_equal(c.n, 64 * 2 + 1 + 64);
    assert_int_equal(testlib_value(&c, "eth0:mlx5_comp5", "cpu5"), 6012345);
    assert_int_equal(testlib_value(&c, "eth0:mlx5_comp5", "cpu69"), 5005);
    assert_int_equal(testlib_count_device(&c, "eth0:mlx5_comp5"), 2);
    assert_int_equal(testlib_value(&c, "eth0:mlx5_comp63", "cpu127"), 5063);
    assert_int_equal(testlib_value(&c, "eth0:mlx5_async0", "cpu0"), 1207);
    assert_int_equal(testlib_value(&c, "eth1:TxRx-3", "cpu67"), 300021);
    assert_null(testlib_find(&c, "eth1:i40e-0000:5e:00.0:misc", "cpu64"));
    testlib_collect_reset(&c);
    /* eth1's msi_irqs name its misc line, whose queue is its action */
    const irq_msi_t msi[] = {{299, 1}, {300, 1}};
    map.msi = msi;
    map.nmsi = 2;
    assert_int_equal(s_interrupts(BIG "/proc/interrupts", &map, &c, err), 0);
    assert_int_equal(c.n, 64 * 2 + 1 + 64 + 1);
    assert_int_equal(testlib_value(&c, "eth1:i40e-0000:5e:00.0:misc", "cpu64"), 88);
    assert_int_equal(testlib_value(&c, "eth1:TxRx-0", "cpu64"), 300000);
    testlib_collect_reset(&c);
}

/* Formats the fixtures do not have: 2.6's "PCI-MSI-edge" chip in one token
 * and ixgbe's IFACE-TxRx-N; an offline CPU (no column); a shared line;
 * names that must not match a longer interface's. */
static void test_formats(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    static const irq_nic_t nics[] = {{"eth1", ""}, {"eth10", ""}};
    irq_map_t map = {nics, 2, NULL, 0};
    assert_int_equal(s_text("           CPU0       CPU2\n"
                            " 66:       1234          0   PCI-MSI-edge      eth1-TxRx-0\n"
                            " 67:          0         77   PCI-MSI-edge      eth10-TxRx-0\n"
                            " 68:          5          6   IO-APIC  9-fasteoi   acpi, eth1-rx-1\n"
                            " 69:          9          9   PCI-MSI-edge      eth11-TxRx-0\n"
                            "NMI:          0          0   Non-maskable interrupts\n"
                            "ERR:          0\n"
                            "MIS:          0\n",
                            &map, &c, err),
                     0);
    assert_int_equal(c.n, 4);
    assert_int_equal(testlib_value(&c, "eth1:TxRx-0", "cpu0"), 1234);
    assert_int_equal(testlib_value(&c, "eth10:TxRx-0", "cpu2"), 77);
    assert_int_equal(testlib_value(&c, "eth1:rx-1", "cpu0"), 5);
    assert_int_equal(testlib_value(&c, "eth1:rx-1", "cpu2"), 6);
    testlib_collect_reset(&c);
}

static void test_bad_input(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    static const irq_nic_t nics[] = {{"eth0", ""}};
    irq_map_t map = {nics, 1, NULL, 0};
    /* no header: nothing can be read */
    assert_int_equal(s_text(" 66: 1 2 x eth0-TxRx-0\n", &map, &c, err), 1);
    assert_string_equal(err, "line 1: header column 1 \"66:\" is not CPU0..CPU8191");
    assert_int_equal(s_text("", &map, &c, err), 0);
    /* a bad row is skipped, the rest used */
    assert_int_equal(s_text("  CPU0 CPU1\n"
                            " 66: 1 x PCI-MSI eth0-TxRx-0\n"
                            " 67: 4294967296 0 PCI-MSI eth0-TxRx-1\n"
                            " 68: 3 PCI-MSI eth0-TxRx-2\n"
                            " 70: 3\n"
                            "garbage\n"
                            " 69: 4294967295 1 PCI-MSI eth0-TxRx-3\n",
                            &map, &c, err),
                     4);
    assert_string_equal(err, "line 2: CPU1's count \"x\" is not a u32");
    assert_int_equal(c.n, 2);
    assert_int_equal(testlib_value(&c, "eth0:TxRx-3", "cpu0"), 4294967295u);
    testlib_collect_reset(&c);
}

static void test_softirqs(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    size_t len;
    char *buf = testlib_load(VM "/proc/softirqs", &len);
    assert_int_equal(irq_softirqs_parse(buf, len, testlib_collect, &c, err, sizeof err), 0);
    free(buf);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.e[0].source, "cpu");
    assert_int_equal(testlib_value(&c, "cpu0", CPU_NET_RX), 20754987);
    assert_int_equal(testlib_value(&c, "cpu1", CPU_NET_RX), 2751200);
    assert_int_equal(testlib_value(&c, "cpu0", CPU_NET_TX), 12776);
    assert_int_equal(testlib_value(&c, "cpu1", CPU_NET_TX), 9066);
    testlib_collect_reset(&c);
    buf = testlib_load(BIG "/proc/softirqs", &len);
    assert_int_equal(irq_softirqs_parse(buf, len, testlib_collect, &c, err, sizeof err), 0);
    free(buf);
    assert_int_equal(c.n, 2 * 128);
    assert_int_equal(testlib_value(&c, "cpu127", CPU_NET_RX), 50127000);
    testlib_collect_reset(&c);
    buf = testlib_exact("  CPU0 CPU1\nNET_RX: 1\n", &len);
    assert_int_equal(irq_softirqs_parse(buf, len, testlib_collect, &c, err, sizeof err), 1);
    free(buf);
    assert_string_equal(err, "line 2: 1 counts, but the header names 2 CPUs");
    assert_int_equal(c.n, 0);
}

static void test_stat(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    size_t len;
    char *buf = testlib_load(VM "/proc/stat", &len);
    assert_int_equal(cpustat_parse(buf, len, testlib_collect, &c, err, sizeof err), 0);
    free(buf);
    /* cpu0 623317 84806 599556 4024860 8880 0 11818 0 0 0 */
    assert_int_equal(c.n, 2 * 4);
    assert_int_equal(testlib_value(&c, "cpu0", CPU_SOFTIRQ), 11818);
    assert_int_equal(testlib_value(&c, "cpu0", CPU_IRQ), 0);
    uint64_t total = 623317 + 84806 + 599556 + 4024860 + 8880 + 0 + 11818 + 0;
    assert_int_equal(testlib_value(&c, "cpu0", CPU_TOTAL), total);
    assert_int_equal(testlib_value(&c, "cpu0", CPU_BUSY), total - 4024860 - 8880);
    assert_int_equal(testlib_value(&c, "cpu1", CPU_SOFTIRQ), 24707);
    assert_null(testlib_find(&c, "cpu", CPU_TOTAL)); /* the all-CPU line is not a CPU */
    testlib_collect_reset(&c);
    /* 2.6.0's 7 fields; guest time left out of the total (it is in user);
     * too few fields, a bad field, a bad label */
    buf = testlib_exact("cpu  9 9 9 9 9 9 9\ncpu0 1 2 3 4 5 6 7\ncpu3 1 2 3 4 5 6 7 8 100 100\n"
                        "cpu1 1 2 3 4 5 6\ncpu2 1 2 x 4 5 6 7\ncpuX 1 2 3 4 5 6 7\nintr 5 6\n",
                        &len);
    assert_int_equal(cpustat_parse(buf, len, testlib_collect, &c, err, sizeof err), 3);
    free(buf);
    assert_string_equal(err, "line 4: cpu1 has 6 fields; expected at least 7 (up to softirq)");
    assert_int_equal(c.n, 8);
    assert_int_equal(testlib_value(&c, "cpu0", CPU_SOFTIRQ), 7);
    assert_int_equal(testlib_value(&c, "cpu0", CPU_IRQ), 6);
    assert_int_equal(testlib_value(&c, "cpu0", CPU_TOTAL), 28);
    assert_int_equal(testlib_value(&c, "cpu0", CPU_BUSY), 19);
    assert_int_equal(testlib_value(&c, "cpu3", CPU_TOTAL), 36);
    testlib_collect_reset(&c);
}

static int s_mask(const char *text, testlib_collect_t *c, char *err)
{
    size_t len;
    char *buf = testlib_exact(text, &len);
    int problems = irq_mask_parse(buf, len, "rps", "eth0:rx-0", testlib_collect, c, err, 256);
    free(buf);
    return problems;
}

static void test_masks(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    char err[256];
    assert_int_equal(s_mask("00000000,0000000e\n", &c, err), 0);
    assert_int_equal(testlib_value(&c, "eth0:rx-0", "cpus"), 3);
    assert_int_equal(testlib_value(&c, "eth0:rx-0", "mask"), 14);
    testlib_collect_reset(&c);
    assert_int_equal(s_mask("0\n", &c, err), 0); /* RPS off */
    assert_int_equal(testlib_value(&c, "eth0:rx-0", "cpus"), 0);
    assert_int_equal(testlib_value(&c, "eth0:rx-0", "mask"), 0);
    testlib_collect_reset(&c);
    /* CPUs 96-127 and CPU 63: no mask a signed 64-bit setting can hold */
    assert_int_equal(s_mask("ffffffff,00000000,00000000,00000000\n", &c, err), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(testlib_value(&c, "eth0:rx-0", "cpus"), 32);
    testlib_collect_reset(&c);
    assert_int_equal(s_mask("80000001,00000000", &c, err), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(testlib_value(&c, "eth0:rx-0", "cpus"), 2);
    testlib_collect_reset(&c);
    assert_int_equal(s_mask("00000000,00000000,00000000,00000001", &c, err), 0);
    assert_int_equal(testlib_value(&c, "eth0:rx-0", "mask"), 1);
    testlib_collect_reset(&c);
    const char *bad[] = {"", "xyz", "1,,2", "123456789", "ff,", " , "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s_mask(bad[i], &c, err), 1);
        assert_int_equal(c.n, 0);
    }
    assert_string_equal(err, "\",\" is not a CPU mask (up to 256 groups of 1-8 hex digits, "
                             "separated by commas)");
}

/* One prefix; arg is unused: every prefix parses without reading past it. */
static void s_check_prefix(const char *buf, size_t k, void *arg)
{
    (void)arg;
    size_t n = 0;
    irq_map_t map = {s_vm_nics, 1, NULL, 0};
    irq_interrupts_parse(buf, k, &map, testlib_count_readings, &n, NULL, 0);
    irq_softirqs_parse(buf, k, testlib_count_readings, &n, NULL, 0);
    cpustat_parse(buf, k, testlib_count_readings, &n, NULL, 0);
    irq_mask_parse(buf, k, "rps", "d", testlib_count_readings, &n, NULL, 0);
}

static void test_every_prefix(void **state)
{
    (void)state;
    const char *files[] = {VM "/proc/interrupts", VM "/proc/softirqs", VM "/proc/stat"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        char *full = testlib_load(files[i], &len);
        testlib_every_prefix(full, len, s_check_prefix, NULL);
        free(full);
    }
}

/* --- irqs: the reduction, over reads of a root the test rewrites ---------- */

static void s_ok(void *ctx, source_t source)
{
    (void)ctx;
    (void)source;
}

static void s_read(irqs_t *irqs, const char *dir, const char *interrupts, testlib_collect_t *c)
{
    testlib_write(dir, "proc/interrupts", interrupts);
    testlib_collect_reset(c);
    irqs_collect(irqs, testlib_collect, c, s_ok);
}

static void test_irqs_served(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_irq.XXXXXX";
    assert_non_null(mkdtemp(dir));
    testlib_sh("mkdir -p %s/proc %s/sys/class/net/eth0/queues/rx-0 %s/sys/devices/pci/0000:01:00.0 "
               "&& ln -s ../../../devices/pci/0000:01:00.0 %s/sys/class/net/eth0/device "
               "&& echo 00000000,00000003 > %s/sys/class/net/eth0/queues/rx-0/rps_cpus",
               dir, dir, dir, dir, dir);
    char proc[300], sys[300];
    snprintf(proc, sizeof proc, "%s/proc", dir);
    snprintf(sys, sizeof sys, "%s/sys", dir);
    irqs_t *irqs = irqs_new(proc, sys);
    assert_non_null(irqs);
    testlib_collect_t c = {0};
    const char *hdr = "  CPU0 CPU1 CPU2\n";
    char text[512];
    /* first read: the CPU with the most interrupts since boot */
    snprintf(text, sizeof text, "%s 70: 100 1000 0 PCI-MSI 0-edge eth0-TxRx-0\n", hdr);
    s_read(irqs, dir, text, &c);
    assert_int_equal(testlib_value(&c, "eth0:TxRx-0", IRQ_INTERRUPTS), 1100);
    assert_int_equal(testlib_value(&c, "eth0:TxRx-0", IRQ_CPU), 1);
    assert_null(testlib_find(&c, "eth0:TxRx-0", "cpu1")); /* per-CPU counts are not series */
    assert_int_equal(testlib_value(&c, "eth0:rx-0", "cpus"), 2);
    /* then the CPU whose count grew most: CPU0 now */
    snprintf(text, sizeof text, "%s 70: 600 1001 0 PCI-MSI 0-edge eth0-TxRx-0\n", hdr);
    s_read(irqs, dir, text, &c);
    assert_int_equal(testlib_value(&c, "eth0:TxRx-0", IRQ_INTERRUPTS), 1601);
    assert_int_equal(testlib_value(&c, "eth0:TxRx-0", IRQ_CPU), 0);
    /* no interrupt: the CPU it had; a CPU's u32 wrap is growth, and the sum
     * wraps with it */
    s_read(irqs, dir, text, &c);
    assert_int_equal(testlib_value(&c, "eth0:TxRx-0", IRQ_CPU), 0);
    snprintf(text, sizeof text, "%s 70: 600 1001 4294967295 PCI-MSI 0-edge eth0-TxRx-0\n", hdr);
    s_read(irqs, dir, text, &c);
    assert_int_equal(testlib_value(&c, "eth0:TxRx-0", IRQ_CPU), 2);
    assert_int_equal(testlib_value(&c, "eth0:TxRx-0", IRQ_INTERRUPTS), 1600);
    snprintf(text, sizeof text, "%s 70: 600 1001 5 PCI-MSI 0-edge eth0-TxRx-0\n", hdr);
    s_read(irqs, dir, text, &c);
    assert_int_equal(testlib_value(&c, "eth0:TxRx-0", IRQ_CPU), 2);
    assert_int_equal(testlib_value(&c, "eth0:TxRx-0", IRQ_INTERRUPTS), 1606);
    irqs_destroy(&irqs);
    irqs_destroy(&irqs); /* safe twice */
    testlib_collect_reset(&c);
    testlib_sh("rm -rf %s", dir);
}

/* The fixture roots whole: series counts a 128-CPU host with 64 queues on
 * each of two NICs costs (docs/ARCHITECTURE.md, Series). */
static void test_irqs_fixtures(void **state)
{
    (void)state;
    testlib_collect_t c = {0};
    irqs_t *irqs = irqs_new(FIXTURES_DIR "/" BIG "/proc", FIXTURES_DIR "/" BIG "/sys");
    irqs_collect(irqs, testlib_collect, &c, s_ok);
    size_t by[SOURCE_COUNT] = {0};
    for (size_t i = 0; i < c.n; i++) {
        by[source_from_name(c.e[i].source)]++;
        /* context or settings, never drops nor squeezes */
        const char *name = strrchr(c.e[i].key, '/') + 1;
        counter_class_t cls = counters_classify(c.e[i].source, name);
        assert_false(layer_is_drop(cls.layer) || layer_is_precursor(cls.layer));
        bool setting = strcmp(name, IRQ_CPU) == 0 || source_is(c.e[i].source, SOURCE_RPS) ||
                       source_is(c.e[i].source, SOURCE_XPS);
        assert_int_equal(cls.kind, setting ? KIND_SETTING : KIND_COUNTER);
    }
    assert_int_equal(counters_classify("irq", IRQ_INTERRUPTS).width, 32);
    assert_int_equal(counters_classify("cpu", CPU_NET_RX).width, 32);
    assert_int_equal(counters_classify("cpu", CPU_TOTAL).width, 64);
    assert_int_equal(counters_classify("channels", "combined").kind, KIND_SETTING);
    assert_int_equal(by[SOURCE_IRQ], 2 * (64 + 1 + 64 + 1));
    assert_int_equal(by[SOURCE_CPU], 128 * 6);
    assert_int_equal(by[SOURCE_RPS], 64 + 63); /* rx-0's CPUs 96-127 have no mask */
    assert_int_equal(by[SOURCE_XPS], 64 + 63); /* tx-63's CPU 63 neither */
    assert_int_equal(testlib_value(&c, "eth0:mlx5_comp5", IRQ_CPU), 5);
    assert_int_equal(testlib_value(&c, "eth0:mlx5_comp5", IRQ_INTERRUPTS), 6012345 + 5005);
    assert_int_equal(testlib_value(&c, "eth1:i40e-0000:5e:00.0:misc", IRQ_CPU), 64);
    assert_int_equal(testlib_value(&c, "eth0:tx-5", "mask"), 1u << 5);
    printf("synthetic 128-CPU host: %zu irq, cpu, rps and xps series\n", c.n);
    irqs_destroy(&irqs);
    testlib_collect_reset(&c);
    irqs = irqs_new(FIXTURES_DIR "/" VM "/proc", FIXTURES_DIR "/" VM "/sys");
    irqs_collect(irqs, testlib_collect, &c, s_ok);
    assert_int_equal(testlib_value(&c, "eth0:input.0", IRQ_CPU), 1);
    assert_int_equal(testlib_value(&c, "eth0:input.0", IRQ_INTERRUPTS), 7681);
    assert_int_equal(testlib_value(&c, "eth0:rx-0", "cpus"), 0);
    printf("this VM: %zu irq, cpu, rps and xps series\n", c.n);
    irqs_destroy(&irqs);
    testlib_collect_reset(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vm_interrupts), cmocka_unit_test(test_big_host),
        cmocka_unit_test(test_formats),       cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_softirqs),      cmocka_unit_test(test_stat),
        cmocka_unit_test(test_masks),         cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_irqs_served),   cmocka_unit_test(test_irqs_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
