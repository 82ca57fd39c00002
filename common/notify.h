/* notify: what a daemon tells systemd (sd_notify) when it runs as a unit
 * of Type=notify: that it serves (READY=1), what it is doing (STATUS=),
 * that it reloads or stops, and that its main loop still turns
 * (WATCHDOG=1). Outside systemd (NOTIFY_SOCKET unset) every call is a
 * no-op costing a getenv. Call from one thread, the daemon's main loop. */
#ifndef DROPSCOPE_NOTIFY_H
#define DROPSCOPE_NOTIFY_H

/* READY=1 with a STATUS= line: only once the daemon really serves. Sent
 * again after a reload (notify_reloading). */
void notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* STATUS= alone (systemctl status shows it). */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* STATUS= with EXTEND_TIMEOUT_USEC=: a long step of the start (a schema
 * migration) is still progressing; systemd waits extend_s more seconds
 * for READY=1 instead of its TimeoutStartSec=. Call it again before they
 * run out. */
void notify_progress(unsigned extend_s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* RELOADING=1 (with MONOTONIC_USEC=, which systemd 253 and later want):
 * a reload has begun; notify_ready ends it. */
void notify_reloading(void);

/* STOPPING=1: shutdown has begun. */
void notify_stopping(void);

/* WATCHDOG=1, at most every half of the interval the unit's WatchdogSec=
 * gives (sd_watchdog_enabled: WATCHDOG_USEC, for this pid); a no-op
 * without one. Call it from every turn of the main loop, so that a loop
 * wedged for a whole interval gets the daemon restarted. */
void notify_watchdog(void);

/* The longest a main loop may wait between turns: want_ms, or a quarter
 * of the watchdog interval when that is shorter (never below 1 ms), so the
 * pings above keep their pace. */
int notify_wait_ms(int want_ms);

#endif
