/* stop: see stop.h. */
#include "stop.h"

#include <stddef.h>

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

volatile sig_atomic_t *stop_install(void)
{
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A hangup (a closed terminal, a reload asked of a service) is not a
     * reason to stop: nothing is re-read on it yet, and a monitor that a
     * stray SIGHUP kills is down when it is needed. */
    signal(SIGHUP, SIG_IGN);
    return &s_stop;
}
