/* procfile: whole-file reads and the failure policy's log lines, shared by
 * the snapshot's sources and the IRQ and CPU sources (irqs). */
#include "procfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "log.h"

ssize_t procfile_read(const char *root, const char *relpath, char **buf, size_t *cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, relpath);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        char *b = grow(*buf, len + 4096, cap, 1, 65536);
        if (!b) {
            close(fd);
            errno = ENOMEM;
            return -1;
        }
        *buf = b;
        ssize_t n = read(fd, *buf + len, *cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    (*buf)[len] = '\0';
    return (ssize_t)len;
}

bool procfile_failed(const char *root, const char *relpath, const char *what)
{
    char key[160];
    snprintf(key, sizeof key, "read:%s", relpath);
    if (errno == ENOENT) {
        log_info("collector: %s/%s does not exist on this kernel; %s counters are off", root,
                 relpath, what);
        return true;
    }
    if (errno == EACCES || errno == EPERM) {
        log_warn("collector: cannot read %s/%s: %s (run as a user that can read it, or pass "
                 "--procfs); %s counters are off", root, relpath, strerror(errno), what);
        return true;
    }
    log_limited(LOGL_WARN, key, "collector: cannot read %s/%s: %s; retrying next interval", root,
                relpath, strerror(errno));
    return false;
}

void procfile_problems(const char *root, const char *relpath, int problems, const char *err)
{
    char key[160];
    snprintf(key, sizeof key, "parse:%s", relpath);
    log_limited(LOGL_WARN, key,
                "collector: %s/%s: %d unexpected line(s), first: %s; the rest of the file is used",
                root, relpath, problems, err);
}
