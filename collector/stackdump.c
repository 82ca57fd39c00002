/* stackdump: one `onload_stackdump lots` at a time, from the collector's
 * main thread. posix_spawn (a vfork underneath: the collector's mappings,
 * the eBPF rings among them, are not copied) into a process group of its
 * own, so that a hung tool is killed with everything it started. stdout is
 * read whole into a buffer kept between runs; stderr's first line, if the
 * run fails, goes into the log line. */
#define _GNU_SOURCE
#include "stackdump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    char *tool;       /* the executable, or NULL when the source is off */
    int64_t last_ns;  /* monotonic start of the last run; 0 = never */
    char *buf;        /* its stdout */
    size_t len, cap;
    char errtext[ERR_KEPT + 1]; /* the start of its stderr */
    size_t errlen;
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
        if (n > 0 && asprintf(&full, "%.*s/%s", (int)n, path, name) > 0 &&
            access(full, X_OK) == 0)
            return full;
        free(full);
        path += n + (path[n] == ':');
    }
    return NULL;
}

stackdump_t *stackdump_new(const char *tool)
{
    stackdump_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (tool && strcmp(tool, "none") == 0)
        return self;
    if (!tool || !strchr(tool, '/')) {
        self->tool = s_on_path(tool ? tool : TOOL_NAME);
        if (!self->tool)
            log_info("collector: %s is not on PATH; Onload counters are off (no Onload here, or "
                     "pass --onload-stackdump PATH)", tool ? tool : TOOL_NAME);
    } else if (access(tool, X_OK) != 0) {
        log_warn("collector: cannot run --onload-stackdump %s: %s; Onload counters are off "
                 "(give the path of onload_stackdump, or none)", tool, strerror(errno));
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

/* Starts the tool with stdout and stderr into pipes; its pid, or -1. */
static pid_t s_spawn(stackdump_t *self, int out[2], int err[2])
{
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    char *argv[] = {self->tool, "lots", NULL};
    if (pipe2(out, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_init(&at);
    /* Its own process group (killed whole), default dispositions and no
     * blocked signal: none of the collector's signal handling carries over. */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    int rc = posix_spawn(&pid, self->tool, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        close(out[0]);
        close(err[0]);
        errno = rc;
        return -1;
    }
    return pid;
}

/* Reads what is ready on fd: stdout into buf, stderr's start into errtext.
 * 1 more to come, 0 at EOF, -1 on error or past STACKDUMP_MAX_OUTPUT. */
static int s_drain(stackdump_t *self, int fd, bool is_out)
{
    char scratch[4096];
    for (;;) {
        char *to = scratch;
        size_t room = sizeof scratch;
        if (is_out) {
            char *b = grow(self->buf, self->len + 65536, &self->cap, 1, 65536);
            if (!b || self->len > STACKDUMP_MAX_OUTPUT)
                return -1;
            self->buf = b;
            to = b + self->len;
            room = self->cap - self->len;
        }
        ssize_t n = read(fd, to, room);
        if (n < 0)
            return errno == EAGAIN ? 1 : errno == EINTR ? s_drain(self, fd, is_out) : -1;
        if (n == 0)
            return 0;
        if (is_out) {
            self->len += (size_t)n;
        } else if (self->errlen < ERR_KEPT) {
            size_t k = (size_t)n < ERR_KEPT - self->errlen ? (size_t)n : ERR_KEPT - self->errlen;
            memcpy(self->errtext + self->errlen, scratch, k);
            self->errlen += k;
        }
    }
}

/* Collects both pipes until EOF and the child's exit, or the deadline.
 * The exit status, or -1 after killing the process group (timed out, or
 * output beyond bounds: *why says which). */
static int s_wait(stackdump_t *self, pid_t pid, int out, int err, int64_t deadline,
                  const char **why)
{
    struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = err, .events = POLLIN}};
    fcntl(out, F_SETFL, O_NONBLOCK);
    fcntl(err, F_SETFL, O_NONBLOCK);
    int open_fds = 2, status = 0;
    *why = "did not finish within the deadline (" STR(STACKDUMP_DEADLINE_MS) " ms)";
    while (open_fds > 0 || waitpid(pid, &status, WNOHANG) == 0) {
        int64_t left = deadline - ts_mono_ns();
        if (left <= 0)
            goto kill;
        int ms = (int)(left / TS_NS_PER_MS) + 1;
        if (open_fds == 0) { /* pipes closed, the process lives on: poll its exit */
            usleep(1000);
            continue;
        }
        if (poll(p, 2, ms) < 0 && errno != EINTR)
            goto kill;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int rc = s_drain(self, p[i].fd, i == 0);
            if (rc < 0) {
                *why = "printed more than the collector reads (" STR(STACKDUMP_MAX_MB) " MB)";
                goto kill;
            }
            if (rc == 0) {
                p[i].fd = -1;
                open_fds--;
            }
        }
    }
    return status;
kill:
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void s_log_failure(const stackdump_t *self, const char *what)
{
    char first[ERR_KEPT + 1];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(self->errtext, "\n"), self->errtext);
    log_limited(LOGL_WARN, "stackdump:run", "collector: `%s lots` %s%s%s; Onload counters keep "
                "their last values, retrying in %lld s", self->tool, what,
                first[0] ? ": " : "", first, (long long)(STACKDUMP_GAP_NS / TS_NS_PER_S));
}

/* One run of the tool; 0 with its output in self->buf, or -1 (logged). */
static int s_run(stackdump_t *self)
{
    int out[2], err[2];
    self->len = 0;
    self->errlen = 0;
    self->errtext[0] = '\0';
    int64_t start = ts_mono_ns();
    pid_t pid = s_spawn(self, out, err);
    if (pid < 0) {
        char what[128];
        snprintf(what, sizeof what, "could not start (%s)", strerror(errno));
        s_log_failure(self, what);
        return -1;
    }
    const char *why;
    int status = s_wait(self, pid, out[0], err[0], start + STACKDUMP_DEADLINE_NS, &why);
    close(out[0]);
    close(err[0]);
    self->errtext[self->errlen] = '\0';
    char what[128];
    if (status < 0) {
        snprintf(what, sizeof what, "%s: killed", why);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(what, sizeof what, "failed (%s %d)",
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    } else {
        return 0;
    }
    s_log_failure(self, what);
    return -1;
}

int stackdump_collect(stackdump_t *self, bool force, reading_fn *emit, void *ctx)
{
    int64_t now = ts_mono_ns();
    if (!self->tool || (!force && self->last_ns && now - self->last_ns < STACKDUMP_GAP_NS))
        return 0;
    self->last_ns = now;
    if (s_run(self) != 0)
        return -1;
    char err[256] = "";
    int problems = onload_parse(self->buf, self->len, emit, ctx, err, sizeof err);
    if (problems > 0)
        log_limited(LOGL_WARN, "stackdump:parse", "collector: `%s lots`: %d unexpected line(s), "
                    "first: %s; the rest of its output is used", self->tool, problems, err);
    return problems == 0 ? 1 : 0;
}
