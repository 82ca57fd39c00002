/* keygen: `dropscope keygen PATH` makes a CurveZMQ keypair with czmq's
 * zcert: PATH holds the public key (give it to the other side: the
 * aggregator's to collectors as --server-cert, a collector's into the
 * aggregator's --allow directory) and PATH_secret both keys (keep it:
 * --cert). Existing files are never overwritten. */
#include "keygen.h"

#include <czmq.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int keygen_run(const char *path)
{
    char secret[4096];
    snprintf(secret, sizeof secret, "%s_secret", path);
    if (access(path, F_OK) == 0 || access(secret, F_OK) == 0) {
        fprintf(stderr, "dropscope: %s or %s already exists; not overwriting a key (remove it "
                "first, or choose another PATH)\n", path, secret);
        return 1;
    }
    zcert_t *cert = zcert_new();
    if (!cert) {
        fprintf(stderr, "dropscope: cannot generate a CurveZMQ keypair (is libzmq built with "
                "CURVE support?)\n");
        return 1;
    }
    char name[4096];
    snprintf(name, sizeof name, "%s", path);
    zcert_set_meta(cert, "name", "%s", basename(name));
    zcert_set_meta(cert, "created-by", "dropscope keygen");
    mode_t old = umask(077); /* the secret file must not be readable by others */
    int rc = zcert_save(cert, path);
    umask(old);
    zcert_destroy(&cert);
    if (rc != 0) {
        fprintf(stderr, "dropscope: cannot write %s: %s (check that its directory exists and is "
                "writable)\n", path, strerror(errno));
        return 1;
    }
    chmod(path, 0644);
    printf("wrote %s (public: give it to the other side) and %s (secret: keep it)\n", path,
           secret);
    return 0;
}
