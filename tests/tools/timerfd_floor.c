/* timerfd_floor: the floor of the netlink fast path, for benchmarks: a bare
 * loop that wakes on a timerfd every tick and does the same single
 * RTM_GETSTATS dump as the collector's sampler, nothing else. Prints its own
 * CPU time at the end: "cpu_ns N ticks N".
 * Usage: timerfd_floor TICK SECONDS (e.g. timerfd_floor 1ms 30s) */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "netlink.h"
#include "ts.h"

int main(int argc, char **argv)
{
    int64_t tick, duration;
    if (argc != 3 || ts_parse_duration(argv[1], &tick) != 0 ||
        ts_parse_duration(argv[2], &duration) != 0) {
        fprintf(stderr, "usage: timerfd_floor TICK SECONDS (e.g. 1ms 30s)\n");
        return 2;
    }
    char err[256];
    netlink_t *nl = netlink_new(err, sizeof err);
    netlink_link_stats_t *stats = calloc(1024, sizeof *stats);
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec its = {{tick / TS_NS_PER_S, tick % TS_NS_PER_S},
                             {tick / TS_NS_PER_S, tick % TS_NS_PER_S}};
    if (!nl || !stats || fd < 0 || timerfd_settime(fd, 0, &its, NULL) != 0) {
        fprintf(stderr, "timerfd_floor: setup failed: %s\n", nl ? "timerfd" : err);
        return 1;
    }
    int64_t end = ts_mono_ns() + duration;
    uint64_t ticks = 0, expirations;
    while (ts_mono_ns() < end) {
        if (read(fd, &expirations, sizeof expirations) != sizeof expirations)
            continue;
        if (netlink_dump_stats(nl, stats, 1024, err, sizeof err) < 0)
            fprintf(stderr, "timerfd_floor: %s\n", err);
        ticks++;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
                    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
    printf("cpu_ns %lld ticks %llu\n", cpu, (unsigned long long)ticks);
    netlink_destroy(&nl);
    free(stats);
    return 0;
}
