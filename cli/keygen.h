/* keygen: CurveZMQ keypairs for the collector-aggregator link. */
#ifndef DROPSCOPE_KEYGEN_H
#define DROPSCOPE_KEYGEN_H

/* Writes PATH (public certificate) and PATH_secret (both keys, mode 0600).
 * Returns the exit code (0, or 1 after printing why on stderr). */
int keygen_run(const char *path);

#endif
