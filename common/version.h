/* version: what every binary says it is (--version, the collector's Hello,
 * /metrics' dropscope_build_info): CMake's project version, and `git
 * describe` when built from a git checkout. */
#ifndef DROPSCOPE_VERSION_H
#define DROPSCOPE_VERSION_H

#include <stdio.h>

/* "0.2.0" or "0.2.0 (v0.2.0-14-gabc1234)" (static). */
const char *version_string(void);

/* Prints "PROGRAM VERSION" on out: the --version answer. */
void version_print(FILE *out, const char *program);

#endif
