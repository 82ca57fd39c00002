/* notify: libsystemd's sd_notify behind four verbs. The watchdog interval
 * is read once (sd_watchdog_enabled) at the first call; a daemon's
 * environment does not change under it. */
#define _GNU_SOURCE
#include "notify.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <time.h>

static bool s_inited;
static uint64_t s_watchdog_usec; /* 0: no watchdog */
static uint64_t s_last_ping_usec;

static uint64_t s_mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void s_init(void)
{
    if (s_inited)
        return;
    s_inited = true;
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0)
        s_watchdog_usec = usec;
}

static void s_send_status(const char *head, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void s_send_status(const char *head, const char *fmt, va_list ap)
{
    if (!getenv("NOTIFY_SOCKET"))
        return;
    char status[512];
    vsnprintf(status, sizeof status, fmt, ap);
    sd_notifyf(0, "%sSTATUS=%s", head, status);
}

void notify_ready(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_send_status("READY=1\n", fmt, ap);
    va_end(ap);
}

void notify_status(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_send_status("", fmt, ap);
    va_end(ap);
}

void notify_progress(unsigned extend_s, const char *fmt, ...)
{
    char head[64];
    snprintf(head, sizeof head, "EXTEND_TIMEOUT_USEC=%llu\n", extend_s * 1000000ull);
    va_list ap;
    va_start(ap, fmt);
    s_send_status(head, fmt, ap);
    va_end(ap);
}

void notify_reloading(void)
{
    if (getenv("NOTIFY_SOCKET"))
        sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)s_mono_usec());
}

void notify_stopping(void)
{
    if (getenv("NOTIFY_SOCKET"))
        sd_notify(0, "STOPPING=1");
}

void notify_watchdog(void)
{
    s_init();
    if (!s_watchdog_usec)
        return;
    uint64_t now = s_mono_usec();
    if (s_last_ping_usec && now - s_last_ping_usec < s_watchdog_usec / 2)
        return;
    s_last_ping_usec = now;
    sd_notify(0, "WATCHDOG=1");
}

int notify_wait_ms(int want_ms)
{
    s_init();
    if (!s_watchdog_usec)
        return want_ms;
    uint64_t quarter_ms = s_watchdog_usec / 4000;
    if (quarter_ms < 1)
        quarter_ms = 1;
    return (uint64_t)want_ms < quarter_ms ? want_ms : (int)quarter_ms;
}
