/* stop: see stop.h. The handlers only store to sig_atomic_t flags: nothing
 * else is async-signal-safe enough to do in them. */
#include "stop.h"

#include <stddef.h>

static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_reload;

static void s_on_signal(int sig)
{
    if (sig == SIGHUP)
        s_reload = 1;
    else
        s_stop = 1;
}

volatile sig_atomic_t *stop_install(void)
{
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A hangup (systemctl reload, a closed terminal) re-reads the
     * configuration and never stops the daemon: a monitor that a stray
     * SIGHUP kills is down when it is needed. SA_RESTART: the loops poll
     * with timeouts anyway, and no system call of theirs should fail with
     * EINTR because of a reload. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return &s_stop;
}

bool stop_take_reload(void)
{
    /* Not an atomic exchange, and it need not be: a SIGHUP landing between
     * the read and the clear asked for the reload that is about to run. */
    if (!s_reload)
        return false;
    s_reload = 0;
    return true;
}
