/* seedlib: what the seed generators (gen_*_seeds.c) share: a file written
 * into the corpus directory, and a message encoded into one. Each says
 * why on stderr when it fails, naming the program. */
#ifndef DROPSCOPE_SEEDLIB_H
#define DROPSCOPE_SEEDLIB_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

/* Writes len bytes of data to dir/name. 0, or -1. */
static inline int seedlib_write(const char *prog, const char *dir, const char *name,
                                const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(data, 1, len, f) == len ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "%s: cannot write %s: %s (is %s a writable directory?)\n", prog, path,
                strerror(errno), dir);
    return rc;
}

/* Encodes msg into dir/name. 0, or -1. */
static inline int seedlib_write_msg(const char *prog, const char *dir, const char *name,
                                    const msg_t *msg)
{
    char err[256];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (codec_encode(msg, &buf, &len, err, sizeof err) != 0) {
        fprintf(stderr, "%s: cannot encode %s: %s\n", prog, name, err);
        return -1;
    }
    int rc = seedlib_write(prog, dir, name, buf, len);
    free(buf);
    return rc;
}

#endif
