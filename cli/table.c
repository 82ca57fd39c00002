/* table: rows kept as copied strings until printed, so widths fit the
 * widest cell. */
#include "table.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

#define TABLE_MAX_COLS 64

static bool s_header = true, s_bold;
static const char *s_columns; /* borrowed: argv */

void table_set_style(bool header, bool bold, const char *columns)
{
    s_header = header;
    s_bold = bold;
    s_columns = columns;
}

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

/* Whether name (len bytes, from -o) names header h: any case, '-' or '_'
 * for a space. */
static bool s_names(const char *name, size_t len, const char *h)
{
    h += h[0] == '>';
    if (strlen(h) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char a = (char)toupper((unsigned char)name[i]), b = h[i];
        if (a != b && !((a == '-' || a == '_') && b == ' '))
            return false;
    }
    return true;
}

/* The columns to print, in order, into cols: every one, or those of the
 * style's list. Their count, or -1 after saying which is unknown. */
static int s_pick(const table_t *self, int cols[TABLE_MAX_COLS])
{
    int all = self->ncols < TABLE_MAX_COLS ? self->ncols : TABLE_MAX_COLS, n = 0;
    if (!s_columns) {
        for (int c = 0; c < all; c++)
            cols[c] = c;
        return all;
    }
    for (const char *p = s_columns; *p && n < TABLE_MAX_COLS; p += *p == ',') {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int c = 0; c < all && found < 0; c++)
            found = s_names(p, len, self->headers[c]) ? c : -1;
        if (found < 0) {
            fprintf(stderr, "dropscope: -o: no column '%.*s' here; the columns are:", (int)len,
                    p);
            for (int c = 0; c < all; c++)
                fprintf(stderr, "%s %s", c ? "," : "", self->headers[c] + (self->headers[c][0] == '>'));
            fputc('\n', stderr);
            return -1;
        }
        cols[n++] = found;
        p += len;
    }
    return n;
}

int table_print(const table_t *self, FILE *out)
{
    int cols[TABLE_MAX_COLS], width[TABLE_MAX_COLS] = {0};
    int n = s_pick(self, cols);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int c = cols[i];
        const char *h = self->headers[c] + (self->headers[c][0] == '>');
        width[i] = s_header ? (int)strlen(h) : 0;
        for (size_t r = 0; r < self->nrows; r++) {
            int w = (int)strlen(self->cells[r * (size_t)self->ncols + (size_t)c]);
            width[i] = w > width[i] ? w : width[i];
        }
    }
    if (s_header && s_bold)
        fputs("\033[1m", out);
    for (int i = 0; s_header && i < n; i++)
        s_cell(out, self->headers[cols[i]] + (self->headers[cols[i]][0] == '>'), width[i],
               self->headers[cols[i]][0] == '>', i == n - 1);
    if (s_header)
        fputs(s_bold ? "\033[0m\n" : "\n", out);
    for (size_t r = 0; r < self->nrows; r++) {
        for (int i = 0; i < n; i++)
            s_cell(out, self->cells[r * (size_t)self->ncols + (size_t)cols[i]], width[i],
                   self->headers[cols[i]][0] == '>', i == n - 1);
        fputc('\n', out);
    }
    return 0;
}
