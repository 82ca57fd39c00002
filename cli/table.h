/* table: aligned text tables for the CLI's human output. */
#ifndef DROPSCOPE_TABLE_H
#define DROPSCOPE_TABLE_H

#include <stdbool.h>
#include <stdio.h>

typedef struct table table_t;

/* A table with ncols columns named by headers (borrowed, static). Columns
 * whose header starts with '>' are right-aligned (the '>' is not printed). */
table_t *table_new(int ncols, const char *const *headers);
void table_destroy(table_t **self_p);
/* Adds a row of ncols cells (copied). 0, or -1 when out of memory. */
int table_add(table_t *self, const char *const *cells);
/* How every table prints (the CLI's -H, --color and -o): without the
 * header line; its header in bold (an ANSI escape: for a terminal); only
 * the columns named in columns ("host,drops": headers as printed, any
 * case, '-' or '_' for a space), in that order. NULL: all. */
void table_set_style(bool header, bool bold, const char *columns);

/* Prints header and rows, columns separated by two spaces. 0, or -1 after
 * saying on stderr which column of the style's is not one of this table's
 * (and which are). */
int table_print(const table_t *self, FILE *out);

#endif
