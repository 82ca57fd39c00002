/* fuzz_irq: the IRQ and CPU parsers on arbitrary bytes, each run as its
 * file: irq_interrupts_parse (/proc/interrupts, with a map naming NICs by
 * name, device and msi_irqs), irq_softirqs_parse, cpustat_parse
 * (/proc/stat) and irq_mask_parse (rps_cpus); see fuzzlib.h. */
#include <stddef.h>
#include <stdint.h>

#include "cpustat.h"
#include "fuzzlib.h"
#include "irq.h"

static const irq_nic_t s_nics[] = {{"eth0", "virtio2"}, {"eth1", "0000:3b:00.0"}, {"e", ""}};
static const irq_msi_t s_msi[] = {{37, 0}, {38, 0}, {299, 1}, {0, 2}, {7, 99}};
static const irq_map_t s_map = {s_nics, 3, s_msi, 5};

static int s_interrupts(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen,
                        char *err, size_t errsz)
{
    return irq_interrupts_parse(buf, len, arg, fuzzlib_emit, seen, err, errsz);
}

static int s_softirqs(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                      size_t errsz)
{
    (void)arg;
    return irq_softirqs_parse(buf, len, fuzzlib_emit, seen, err, errsz);
}

static int s_stat(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                  size_t errsz)
{
    (void)arg;
    return cpustat_parse(buf, len, fuzzlib_emit, seen, err, errsz);
}

static int s_mask(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                  size_t errsz)
{
    return irq_mask_parse(buf, len, "rps", arg, fuzzlib_emit, seen, err, errsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzlib_run(data, size, s_interrupts, &s_map, "irq", NULL, NULL);
    fuzzlib_run(data, size, s_softirqs, NULL, "cpu", NULL, NULL);
    fuzzlib_run(data, size, s_stat, NULL, "cpu", NULL, NULL);
    fuzzlib_run(data, size, s_mask, "eth0:rx-0", "rps", "eth0:rx-0", NULL);
    return 0;
}
