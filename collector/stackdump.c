/* stackdump: one `onload_stackdump lots` at a time, from the collector's
 * main thread, which it never holds up: posix_spawn (a vfork underneath: the
 * collector's mappings, the eBPF rings among them, are not copied) into a
 * process group of its own, so that a hung tool is killed with everything
 * it started; each snapshot looks whether the run ended (waitpid WNOHANG),
 * and reads its output once it has. Only the first run is waited for (up to
 * its deadline), so that --once and the first batch carry the stacks. The
 * output goes to a memfd, read whole into a buffer kept between runs;
 * stderr's first line, if the run fails, goes into the log line. */
#define _GNU_SOURCE
#include "stackdump.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grow.h"
#include "log.h"
#include "onload.h"

#define TOOL_NAME "onload_stackdump"
#define STR_(x) #x
#define STR(x) STR_(x)
#define ERR_KEPT 160 /* bytes of the tool's stderr quoted in a log line */

extern char **environ;

struct stackdump {
    char *tool;      /* the executable, or NULL when the source is off */
    int64_t last_ns; /* monotonic start of the last run; 0 = never */
    pid_t pid;       /* the run going on; 0 = none */
    pid_t stuck;     /* a run killed but not exited yet (in the kernel): reaped later */
    int out, err;    /* its stdout and stderr (memfds); -1 = none */
    char *buf;       /* the last run's stdout */
    size_t len, cap;
    char errtext[ERR_KEPT + 1]; /* the start of its stderr */
};

/* name on $PATH as a malloc'd path, or NULL. */
static char *s_on_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char *full = NULL;
        if (n > 0 && asprintf(&full, "%.*s/%s", (int)n, path, name) > 0 && access(full, X_OK) == 0)
            return full;
        free(full);
        path += n + (path[n] == ':');
    }
    return NULL;
}

static void s_close(stackdump_t *self)
{
    if (self->out >= 0)
        close(self->out);
    if (self->err >= 0)
        close(self->err);
    self->out = self->err = -1;
    self->pid = 0;
}

stackdump_t *stackdump_new(const char *tool)
{
    stackdump_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->out = self->err = -1;
    if (tool && strcmp(tool, "none") == 0)
        return self;
    if (!tool || !strchr(tool, '/')) {
        self->tool = s_on_path(tool ? tool : TOOL_NAME);
        if (!self->tool)
            log_info("collector: %s is not on PATH; Onload counters are off (no Onload here, or "
                     "pass --onload-stackdump PATH)",
                     tool ? tool : TOOL_NAME);
    } else if (access(tool, X_OK) != 0) {
        log_warn("collector: cannot run --onload-stackdump %s: %s; Onload counters are off "
                 "(give the path of onload_stackdump, or none)",
                 tool, strerror(errno));
    } else if (!(self->tool = strdup(tool))) {
        free(self);
        return NULL;
    }
    if (self->tool)
        log_debug("collector: Onload counters from `%s lots` every %lld s", self->tool,
                  (long long)(STACKDUMP_GAP_NS / TS_NS_PER_S));
    return self;
}

void stackdump_destroy(stackdump_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    stackdump_t *self = *self_p;
    if (self->pid) /* a run still going: it ends with us (reaped by init if it lingers) */
        kill(-self->pid, SIGKILL);
    s_close(self);
    free(self->tool);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

bool stackdump_on(const stackdump_t *self)
{
    return self->tool != NULL;
}

const char *stackdump_tool(const stackdump_t *self)
{
    return self->tool ? self->tool : "";
}

/* Starts the tool, stdout and stderr into memfds: a file the tool writes
 * at its own pace (a pipe would stall it between two of our looks), bounded
 * by RLIMIT_FSIZE (past it, the kernel's SIGXFSZ ends the tool). 0, or -1. */
static int s_start(stackdump_t *self)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    char *argv[] = {self->tool, "lots", NULL};
    self->out = memfd_create("onload_stackdump.out", MFD_CLOEXEC);
    self->err = memfd_create("onload_stackdump.err", MFD_CLOEXEC);
    if (self->out < 0 || self->err < 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, self->out, 1);
    posix_spawn_file_actions_adddup2(&fa, self->err, 2);
    /* nothing else of ours: the netlink, ethtool, ZeroMQ and probe sockets */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_init(&at);
    /* Its own process group (killed whole), default dispositions and no
     * blocked signal: none of the collector's signal handling carries over. */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    int rc = posix_spawn(&self->pid, self->tool, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        self->pid = 0;
        errno = rc;
        return -1;
    }
    /* posix_spawn returns once the tool runs, so it may have printed a
     * little before the bound applies; no core file when SIGXFSZ ends it. */
    struct rlimit fsize = {STACKDUMP_MAX_OUTPUT, STACKDUMP_MAX_OUTPUT}, core = {0, 0};
    if (prlimit(self->pid, RLIMIT_FSIZE, &fsize, NULL) != 0 ||
        prlimit(self->pid, RLIMIT_CORE, &core, NULL) != 0) {
        int e = errno;
        kill(-self->pid, SIGKILL);
        waitpid(self->pid, NULL, 0); /* just started: not inside a driver call yet */
        errno = e;
        return -1;
    }
    return 0;
}

/* Reads what the finished tool wrote: stdout whole into buf, the start of
 * stderr into errtext. 0, or -1 without memory. */
static int s_gather(stackdump_t *self)
{
    struct stat st;
    self->len = 0;
    if (fstat(self->out, &st) != 0)
        return -1;
    size_t size = (size_t)st.st_size;
    char *b = grow(self->buf, size + 1, &self->cap, 1, 65536);
    if (!b)
        return -1;
    self->buf = b;
    while (self->len < size) {
        ssize_t n = pread(self->out, b + self->len, size - self->len, (off_t)self->len);
        if (n <= 0)
            break;
        self->len += (size_t)n;
    }
    ssize_t n = pread(self->err, self->errtext, ERR_KEPT, 0);
    self->errtext[n > 0 ? n : 0] = '\0';
    return 0;
}

static void s_log_failure(const stackdump_t *self, const char *what)
{
    char first[ERR_KEPT + 1];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(self->errtext, "\n"), self->errtext);
    log_limited(LOGL_WARN, "stackdump:run",
                "collector: `%s lots` %s%s%s; Onload counters keep "
                "their last values, retrying in %lld s",
                self->tool, what, first[0] ? ": " : "", first,
                (long long)(STACKDUMP_GAP_NS / TS_NS_PER_S));
}

typedef enum { RUN_GOING, RUN_DONE, RUN_FAILED } run_t;

/* Looks at the running tool (until its end, with `block`): RUN_DONE with
 * its output in buf, RUN_FAILED (logged, killed if it had to be), or
 * RUN_GOING. */
static run_t s_look(stackdump_t *self, bool block)
{
    int status = 0, lost = 0;
    const char *killed = NULL;
    for (;;) {
        pid_t r = waitpid(self->pid, &status, WNOHANG);
        if (r == self->pid)
            break;
        if (r < 0 && errno != EINTR) {
            lost = errno;
            break;
        }
        if (ts_mono_ns() - self->last_ns >= STACKDUMP_DEADLINE_NS) {
            killed = "did not finish within the deadline (" STR(STACKDUMP_DEADLINE_MS) " ms)";
            kill(-self->pid, SIGKILL);
            /* never wait here: a tool stuck in a driver call exits when
             * the call returns; it is reaped before the next run starts */
            if (waitpid(self->pid, &status, WNOHANG) != self->pid)
                self->stuck = self->pid;
            break;
        }
        if (!block)
            return RUN_GOING;
        usleep(2000); /* the first run only, at start */
    }
    kill(-self->pid, SIGKILL); /* whatever it left running in its group */
    char what[128] = "";
    if (s_gather(self) != 0)
        snprintf(what, sizeof what, "output could not be read (out of memory)");
    else if (killed)
        snprintf(what, sizeof what, "%s: killed", killed);
    else if (lost)
        snprintf(what, sizeof what, "could not be waited for (%s)", strerror(lost));
    else if (self->len >= STACKDUMP_MAX_OUTPUT ||
             (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ))
        snprintf(what, sizeof what, "printed more than the collector reads (%d MB): stopped",
                 STACKDUMP_MAX_MB);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        snprintf(what, sizeof what, "failed (%s %d)", WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    s_close(self);
    if (what[0]) {
        s_log_failure(self, what);
        return RUN_FAILED;
    }
    return RUN_DONE;
}

int stackdump_collect(stackdump_t *self, bool wait, reading_fn *emit, void *ctx)
{
    if (!self->tool)
        return 0;
    if (!self->pid) {
        int64_t now = ts_mono_ns();
        bool first = self->last_ns == 0;
        if (!wait && !first && now - self->last_ns < STACKDUMP_GAP_NS)
            return 0;
        if (self->stuck && waitpid(self->stuck, NULL, WNOHANG) == 0) {
            self->last_ns = now; /* one stuck run at a time: not another on top */
            s_log_failure(self, "was killed but has not exited yet (stuck in the kernel?)");
            return -1;
        }
        self->stuck = 0;
        self->last_ns = now;
        self->errtext[0] = '\0';
        if (s_start(self) != 0) {
            char what[128];
            snprintf(what, sizeof what, "could not start (%s)", strerror(errno));
            s_close(self);
            s_log_failure(self, what);
            return -1;
        }
        wait = wait || first; /* the first run is read at once: --once, the first batch */
    }
    run_t run = s_look(self, wait);
    if (run != RUN_DONE)
        return run == RUN_FAILED ? -1 : 0;
    char err[256] = "";
    int problems = onload_parse(self->buf, self->len, emit, ctx, err, sizeof err);
    if (problems > 0)
        log_limited(LOGL_WARN, "stackdump:parse",
                    "collector: `%s lots`: %d unexpected line(s), "
                    "first: %s; the rest of its output is used",
                    self->tool, problems, err);
    return problems == 0 ? 1 : 0;
}
