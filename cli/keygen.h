/* keygen: CurveZMQ keypairs for the collector-aggregator link. */
#ifndef DROPSCOPE_KEYGEN_H
#define DROPSCOPE_KEYGEN_H

/* Writes PATH (public certificate) and PATH_secret (both keys, mode 0600),
 * both with metadata name = host: the host a collector with this key speaks
 * for (the aggregator stores its messages under that name only). host NULL
 * means PATH's file name. Returns the exit code: 0; 1 when the files exist
 * or cannot be written; 2 when host is not a name (common/text.h). Prints
 * why on stderr. */
int keygen_run(const char *path, const char *host);

#endif
