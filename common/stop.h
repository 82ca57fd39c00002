/* stop: how the daemons learn that they should stop or reload. SIGINT and
 * SIGTERM set a flag their main loops poll; SIGHUP sets another, which the
 * loops take (stop_take_reload) to re-read their configuration; SIGPIPE is
 * ignored (a closed peer is an error to handle, not a reason to die). */
#ifndef DROPSCOPE_STOP_H
#define DROPSCOPE_STOP_H

#include <signal.h>
#include <stdbool.h>

/* Installs the handlers and returns the stop flag they set (static storage). */
volatile sig_atomic_t *stop_install(void);

/* True once after each burst of SIGHUPs since the last call (test and
 * clear): several hangups before the loop looks are one reload. Call it
 * from one thread, the daemon's main loop. */
bool stop_take_reload(void);

#endif
