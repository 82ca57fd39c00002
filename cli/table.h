/* table: aligned text tables for the CLI's human output. */
#ifndef DROPSCOPE_TABLE_H
#define DROPSCOPE_TABLE_H

#include <stdio.h>

typedef struct table table_t;

/* A table with ncols columns named by headers (borrowed, static). Columns
 * whose header starts with '>' are right-aligned (the '>' is not printed). */
table_t *table_new(int ncols, const char *const *headers);
void table_destroy(table_t **self_p);
/* Adds a row of ncols cells (copied). 0, or -1 when out of memory. */
int table_add(table_t *self, const char *const *cells);
/* Prints header and rows, columns separated by two spaces. */
void table_print(const table_t *self, FILE *out);

#endif
