/* version: see version.h. The text comes from a header written at build
 * time (cmake/version.cmake). */
#include "version.h"

#include "dropscope_version.h"

const char *version_string(void)
{
    return DROPSCOPE_VERSION;
}

void version_print(FILE *out, const char *program)
{
    fprintf(out, "%s %s\n", program, DROPSCOPE_VERSION);
}
