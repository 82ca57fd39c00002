/* sockowner: which process holds a socket. /proc/net/udp names a socket by
 * its inode only; the one way to its owner is to read the /proc/<pid>/fd
 * links of every process, looking for "socket:[inode]". That costs a
 * readlink per open file on the host, so callers ask for all the sockets
 * they want at once, and seldom. Without root, the processes of other
 * users cannot be read and their sockets stay unowned. */
#ifndef DROPSCOPE_SOCKOWNER_H
#define DROPSCOPE_SOCKOWNER_H

#include <stddef.h>
#include <stdint.h>

#define SOCKOWNER_LEN 96 /* "pid/comm": comm is at most 15 bytes, 60 escaped (text.h) */

/* For each of the n inodes, owner[i] gets "pid/comm" of the process with
 * the lowest pid that holds it, or "" when none is found. procfs is the
 * root of /proc. Returns how many were found. */
size_t sockowner_find(const char *procfs, const uint64_t *inodes, size_t n,
                      char (*owner)[SOCKOWNER_LEN]);

/* How many processes under procfs hide their open files from us: the
 * /proc/<pid>/fd directory or its first link refused (EACCES, EPERM), as
 * for other users' processes without CAP_DAC_READ_SEARCH and
 * CAP_SYS_PTRACE (caps.h). Their sockets would stay unowned. One opendir
 * and at most one readlink per process. */
size_t sockowner_refused(const char *procfs);

#endif
