/* stop: how the daemons learn that they should stop. SIGINT and SIGTERM set
 * a flag their main loops poll; SIGPIPE is ignored (a closed peer is an
 * error to handle, not a reason to die), and so is SIGHUP. */
#ifndef DROPSCOPE_STOP_H
#define DROPSCOPE_STOP_H

#include <signal.h>

/* Installs the handlers and returns the flag they set (static storage). */
volatile sig_atomic_t *stop_install(void);

#endif
