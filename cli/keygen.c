/* keygen: `dropscope keygen [--name HOST] PATH` makes a CurveZMQ keypair
 * with czmq's zcert: PATH holds the public key (give it to the other side:
 * the aggregator's to collectors as --server-cert, a collector's into the
 * aggregator's --allow directory) and PATH_secret both keys (keep it:
 * --cert). The certificate's metadata `name` is the host a collector with
 * this key speaks for: the aggregator refuses its messages for any other
 * host. Existing files are never overwritten. */
#include "keygen.h"

#include <czmq.h>
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

/* The allowed characters, as text_is_name() has them, for error messages. */
#define KEYGEN_NAME_RULE "1 to 255 ASCII letters, digits and . _ - : @ + # [ ] %"

/* 0 when host (from --name, or PATH's file name when given is false) can
 * name a host; else prints why and returns 2. */
static int s_check_host(const char *host, bool given, const char *path)
{
    if (host[0] && text_is_name(host))
        return 0;
    if (given)
        fprintf(stderr, "dropscope: --name '%s' is not a valid host name: use %s (see dropscope "
                "--help)\n", host, KEYGEN_NAME_RULE);
    else
        fprintf(stderr, "dropscope: the file name '%s' of %s is not a valid host name (%s); pass "
                "--name HOST (see dropscope --help)\n", host, path, KEYGEN_NAME_RULE);
    return 2;
}

int keygen_run(const char *path, const char *host)
{
    char base[4096], secret[4096];
    snprintf(base, sizeof base, "%s", path);
    const char *name = host ? host : basename(base);
    int rc = s_check_host(name, host != NULL, path);
    if (rc != 0)
        return rc;
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
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "created-by", "dropscope keygen");
    mode_t old = umask(077); /* the secret file must not be readable by others */
    rc = zcert_save(cert, path);
    umask(old);
    zcert_destroy(&cert);
    if (rc != 0) {
        fprintf(stderr, "dropscope: cannot write %s: %s (check that its directory exists and is "
                "writable)\n", path, strerror(errno));
        return 1;
    }
    chmod(path, 0644);
    printf("wrote %s (public: give it to the other side) and %s (secret, mode 600: keep it)\n"
           "a collector with this key speaks for host %s only: its --host-name (default: the "
           "machine's hostname) must be %s\n", path, secret, name, name);
    return 0;
}
