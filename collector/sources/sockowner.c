/* sockowner: see sockowner.h. Directory handles are opened relative to
 * each other (openat), so a process that exits mid-walk only makes its own
 * reads fail. */
#define _GNU_SOURCE
#include "sockowner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "text.h"

/* The pid a /proc entry names, or 0. */
static unsigned long s_pid(const char *name)
{
    char *end;
    unsigned long pid = strtoul(name, &end, 10);
    return *name >= '1' && *name <= '9' && !*end ? pid : 0;
}

/* "pid/comm" of the process whose /proc directory is pidfd. */
static void s_name(int pidfd, unsigned long pid, char out[SOCKOWNER_LEN])
{
    char comm[17] = ""; /* TASK_COMM_LEN - 1 bytes, and the kernel's newline */
    int fd = openat(pidfd, "comm", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, comm, sizeof comm - 1);
        close(fd);
        comm[n > 0 ? n : 0] = '\0';
        if (n > 0 && comm[n - 1] == '\n')
            comm[n - 1] = '\0';
    }
    /* Any user can name a process anything (prctl PR_SET_NAME), newlines
     * and escape bytes included: escaped here, at the source, so that no
     * such byte reaches the aggregator, which would refuse the batch. */
    char clean[4 * 16];
    text_escape(comm, clean, sizeof clean);
    snprintf(out, SOCKOWNER_LEN, "%lu/%s", pid, clean[0] ? clean : "?");
}

/* Looks through one process's open files; returns how many of the wanted
 * sockets it newly owns. */
static size_t s_scan(int pidfd, unsigned long pid, const uint64_t *inodes, size_t n,
                     char (*owner)[SOCKOWNER_LEN])
{
    int fdfd = openat(pidfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fdfd < 0)
        return 0;
    DIR *dir = fdopendir(fdfd);
    if (!dir) {
        close(fdfd);
        return 0;
    }
    size_t found = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        char link[64];
        ssize_t len = readlinkat(dirfd(dir), de->d_name, link, sizeof link - 1);
        if (len <= 8)
            continue;
        link[len] = '\0';
        unsigned long long inode;
        char close_bracket;
        if (sscanf(link, "socket:[%llu%c", &inode, &close_bracket) != 2 || close_bracket != ']')
            continue;
        for (size_t i = 0; i < n; i++)
            if (inodes[i] == inode && !owner[i][0]) {
                s_name(pidfd, pid, owner[i]);
                found++;
            }
    }
    closedir(dir);
    return found;
}

static int s_by_pid(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return (x > y) - (x < y);
}

size_t sockowner_find(const char *procfs, const uint64_t *inodes, size_t n,
                      char (*owner)[SOCKOWNER_LEN])
{
    for (size_t i = 0; i < n; i++)
        owner[i][0] = '\0';
    DIR *proc = n ? opendir(procfs) : NULL;
    if (!proc)
        return 0;
    /* By pid, so that the owner named is the same on every look (a socket
     * shared after fork() belongs to the parent as much as the child). */
    unsigned long *pids = NULL;
    size_t npids = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(proc))) {
        unsigned long pid = s_pid(de->d_name);
        if (!pid)
            continue;
        unsigned long *grown = grow(pids, npids + 1, &cap, sizeof *pids, 256);
        if (!grown)
            break;
        pids = grown;
        pids[npids++] = pid;
    }
    if (npids)
        qsort(pids, npids, sizeof *pids, s_by_pid);
    size_t found = 0;
    for (size_t p = 0; p < npids && found < n; p++) {
        char name[24];
        snprintf(name, sizeof name, "%lu", pids[p]);
        int pidfd = openat(dirfd(proc), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pidfd >= 0) {
            found += s_scan(pidfd, pids[p], inodes, n, owner);
            close(pidfd);
        }
    }
    free(pids);
    closedir(proc);
    return found;
}

static bool s_refused(int e)
{
    return e == EACCES || e == EPERM;
}

/* True when the process's fd directory, or its first link, is refused. */
static bool s_hidden(int procfd, unsigned long pid)
{
    char path[40];
    snprintf(path, sizeof path, "%lu/fd", pid);
    int fdfd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fdfd < 0)
        return s_refused(errno);
    DIR *dir = fdopendir(fdfd);
    if (!dir) {
        close(fdfd);
        return false;
    }
    bool hidden = false;
    struct dirent *de;
    while ((de = readdir(dir)) && de->d_name[0] == '.')
        ;
    char link[64];
    if (de && readlinkat(dirfd(dir), de->d_name, link, sizeof link) < 0)
        hidden = s_refused(errno);
    closedir(dir);
    return hidden;
}

size_t sockowner_refused(const char *procfs)
{
    DIR *proc = opendir(procfs);
    if (!proc)
        return 0;
    size_t refused = 0;
    struct dirent *de;
    while ((de = readdir(proc))) {
        unsigned long pid = s_pid(de->d_name);
        if (pid && s_hidden(dirfd(proc), pid))
            refused++;
    }
    closedir(proc);
    return refused;
}
