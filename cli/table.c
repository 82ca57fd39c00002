/* table: rows kept as copied strings until printed, so widths fit the
 * widest cell. */
#include "table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

struct table {
    int ncols;
    const char *const *headers;
    char **cells;   /* nrows * ncols */
    size_t nrows, cap;
};

table_t *table_new(int ncols, const char *const *headers)
{
    table_t *self = calloc(1, sizeof *self);
    if (self) {
        self->ncols = ncols;
        self->headers = headers;
    }
    return self;
}

void table_destroy(table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    table_t *self = *self_p;
    for (size_t i = 0; i < self->nrows * (size_t)self->ncols; i++)
        free(self->cells[i]);
    free(self->cells);
    free(self);
    *self_p = NULL;
}

int table_add(table_t *self, const char *const *cells)
{
    char **grown =
        grow(self->cells, self->nrows + 1, &self->cap, (size_t)self->ncols * sizeof *grown, 64);
    if (!grown)
        return -1;
    self->cells = grown;
    char **row = self->cells + self->nrows * (size_t)self->ncols;
    for (int c = 0; c < self->ncols; c++)
        row[c] = strdup(cells[c] ? cells[c] : "");
    self->nrows++;
    return 0;
}

static void s_cell(FILE *out, const char *text, int width, bool right, bool last)
{
    if (right)
        fprintf(out, "%*s", width, text);
    else if (last) /* no trailing blanks */
        fputs(text, out);
    else
        fprintf(out, "%-*s", width, text);
    if (!last)
        fputs("  ", out);
}

void table_print(const table_t *self, FILE *out)
{
    int width[64] = {0};
    int n = self->ncols < 64 ? self->ncols : 64;
    for (int c = 0; c < n; c++) {
        const char *h = self->headers[c] + (self->headers[c][0] == '>');
        width[c] = (int)strlen(h);
        for (size_t r = 0; r < self->nrows; r++) {
            int w = (int)strlen(self->cells[r * (size_t)self->ncols + (size_t)c]);
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (int c = 0; c < n; c++)
        s_cell(out, self->headers[c] + (self->headers[c][0] == '>'), width[c],
               self->headers[c][0] == '>', c == n - 1);
    fputc('\n', out);
    for (size_t r = 0; r < self->nrows; r++) {
        for (int c = 0; c < n; c++)
            s_cell(out, self->cells[r * (size_t)self->ncols + (size_t)c], width[c],
                   self->headers[c][0] == '>', c == n - 1);
        fputc('\n', out);
    }
}
