/* config: see config.h. Files are small (tens of lines) and read at start
 * and on a reload only, so everything here favours plain code over speed:
 * an option's value is found by running getopt_long over the whole argv
 * again, on a copy (getopt_long reorders what it parses). */
#define _GNU_SOURCE
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct config {
    char *file;                    /* the file read, or NULL */
    const struct option *longopts; /* borrowed: the daemon's table */
    int argc;                      /* of argv */
    char **argv;                   /* argv[0], the file's options, the command line's; NULL-ended */
    int nfile;                     /* argv[1 .. nfile] came from the file (owned) */
    char **where;                  /* "PATH:LINE: " of each of those (owned) */
    int room;                      /* slots in argv and where */
    const char *const *repeatable; /* keys a file may give more than once (borrowed) */
};

/* Keys a file may not hold: requests for one run, or the file itself. */
static const char *const s_forbidden[] = {"help",  "version",  "config", "once",      "json",
                                          "watch", "absolute", "count",  "no-header", NULL};

static bool s_in(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static int s_nopts(const struct option *longopts)
{
    int n = 0;
    while (longopts[n].name)
        n++;
    return n;
}

static int s_find(const struct option *longopts, const char *name)
{
    for (int i = 0; longopts[i].name; i++)
        if (strcmp(longopts[i].name, name) == 0)
            return i;
    return -1;
}

/* The state getopt_long keeps in globals, saved around our own passes so
 * that a caller's parse is not disturbed. */
typedef struct {
    int optind, opterr, optopt;
    char *optarg;
} getopt_state_t;

static getopt_state_t s_getopt_save(void)
{
    getopt_state_t st = {optind, opterr, optopt, optarg};
    optind = 0; /* glibc: 0 starts a new parse from scratch */
    opterr = 0;
    return st;
}

static void s_getopt_restore(const getopt_state_t *st)
{
    optind = st->optind;
    opterr = st->opterr;
    optopt = st->optopt;
    optarg = st->optarg;
}

/* Calls fn(ctx, index into longopts, its argument) for every long option
 * getopt_long finds in argv, on a copy of argv. -1 when out of memory. */
static int s_walk(int argc, char *const *argv, const struct option *longopts,
                  void (*fn)(void *ctx, int index, const char *arg), void *ctx)
{
    char **copy = calloc((size_t)argc + 1, sizeof *copy);
    if (!copy)
        return -1;
    memcpy(copy, argv, (size_t)argc * sizeof *copy);
    getopt_state_t saved = s_getopt_save();
    int index = -1;
    while (getopt_long(argc, copy, "", longopts, &index) != -1) {
        if (index >= 0)
            fn(ctx, index, optarg);
        index = -1;
    }
    s_getopt_restore(&saved);
    free(copy);
    return 0;
}

typedef struct {
    int want;         /* index into longopts */
    const char *last; /* its latest argument */
} find_t;

static void s_on_config(void *ctx, int index, const char *arg)
{
    find_t *f = ctx;
    if (index == f->want)
        f->last = arg;
}

const char *config_path(int argc, char *const *argv, const struct option *longopts)
{
    find_t f = {s_find(longopts, "config"), NULL};
    if (f.want < 0 || s_walk(argc, argv, longopts, s_on_config, &f) != 0)
        return NULL;
    return f.last;
}

static char *s_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int s_fail(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return -1;
}

/* Appends the option of one file line to self->argv, growing it (a
 * repeatable key may take any number of lines). 0, or -1 with the reason. */
static int s_push(config_t *self, int lineno, const char *arg, char *err, size_t errsz)
{
    if (self->nfile + 2 >= self->room) {
        int room = 2 * self->room;
        char **argv = realloc(self->argv, (size_t)room * sizeof *argv);
        if (argv)
            self->argv = argv;
        char **where = realloc(self->where, (size_t)room * sizeof *where);
        if (where)
            self->where = where;
        if (!argv || !where)
            return s_fail(err, errsz, "out of memory");
        memset(argv + self->room, 0, (size_t)(room - self->room) * sizeof *argv);
        memset(where + self->room, 0, (size_t)(room - self->room) * sizeof *where);
        self->room = room;
    }
    char *text = strdup(arg), *where = NULL;
    if (!text || asprintf(&where, "%s:%d: ", self->file, lineno) < 0) {
        free(text);
        return s_fail(err, errsz, "out of memory");
    }
    self->nfile++;
    self->argv[self->nfile] = text;
    self->where[self->nfile] = where;
    return 0;
}

/* One `key = value` line (trimmed, not blank, not a comment) into argv.
 * first_line[i] is where longopts[i] was given, 0 when not yet. */
static int s_line(config_t *self, char *s, int lineno, int *first_line, char *err, size_t errsz)
{
    const char *f = self->file;
    char *eq = strchr(s, '=');
    if (!eq)
        return s_fail(err, errsz, "%s:%d: no '=' (lines are key = value)", f, lineno);
    *eq = '\0';
    char *key = s_trim(s), *value = s_trim(eq + 1);
    int i = s_find(self->longopts, key);
    if (!*key)
        return s_fail(err, errsz, "%s:%d: no key before '=' (lines are key = value)", f, lineno);
    if (s_in(s_forbidden, key))
        return s_fail(err, errsz,
                      "%s:%d: '%s' is not allowed in a file (give it on the command "
                      "line)",
                      f, lineno, key);
    if (i < 0)
        return s_fail(err, errsz,
                      "%s:%d: unknown key '%s' (keys are the long options of --help, "
                      "without the dashes)",
                      f, lineno, key);
    if (first_line[i] && !(self->repeatable && s_in(self->repeatable, key)))
        return s_fail(err, errsz, "%s:%d: '%s' is given twice, on lines %d and %d (keep one)", f,
                      lineno, key, first_line[i], lineno);
    first_line[i] = lineno;
    char arg[4096];
    if (self->longopts[i].has_arg == no_argument) {
        if (strcmp(value, "false") == 0)
            return 0;
        if (strcmp(value, "true") != 0)
            return s_fail(err, errsz, "%s:%d: '%s' takes true or false, not '%s'", f, lineno, key,
                          value);
        snprintf(arg, sizeof arg, "--%s", key);
    } else {
        if (!*value)
            return s_fail(err, errsz, "%s:%d: '%s' has no value (%s = VALUE)", f, lineno, key, key);
        if (snprintf(arg, sizeof arg, "--%s=%s", key, value) >= (int)sizeof arg)
            return s_fail(err, errsz, "%s:%d: the value of '%s' is longer than %zu bytes", f,
                          lineno, key, sizeof arg - 4);
    }
    return s_push(self, lineno, arg, err, errsz);
}

/* The file's lines into argv[1..]: each key once, a repeatable one as
 * often as it is given. */
static int s_read(config_t *self, char *err, size_t errsz)
{
    FILE *fp = fopen(self->file, "r");
    if (!fp)
        return s_fail(err, errsz,
                      "cannot read %s: %s (give --config a readable file of "
                      "key = value lines)",
                      self->file, strerror(errno));
    int nopts = s_nopts(self->longopts), lineno = 0, rc = 0;
    int *first_line = calloc((size_t)nopts + 1, sizeof *first_line);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    if (!first_line)
        rc = s_fail(err, errsz, "out of memory");
    while (rc == 0 && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if (strlen(line) != (size_t)len) {
            rc = s_fail(err, errsz, "%s:%d: a NUL byte (is this a text file?)", self->file, lineno);
            break;
        }
        char *s = s_trim(line);
        if (*s && *s != '#')
            rc = s_line(self, s, lineno, first_line, err, errsz);
    }
    if (rc == 0 && ferror(fp))
        rc = s_fail(err, errsz,
                    "cannot read %s: %s (give --config a readable file of key = "
                    "value lines)",
                    self->file, strerror(errno));
    free(line);
    free(first_line);
    fclose(fp);
    return rc;
}

config_t *config_new(const char *path, const struct option *longopts,
                     const char *const *repeatable, int argc, char *const *argv, char *err,
                     size_t errsz)
{
    int room = argc + s_nopts(longopts) + 1;
    config_t *self = calloc(1, sizeof *self);
    if (!self || !(self->argv = calloc((size_t)room, sizeof *self->argv)) ||
        !(self->where = calloc((size_t)room, sizeof *self->where)) ||
        (path && !(self->file = strdup(path)))) {
        s_fail(err, errsz, "out of memory");
        config_destroy(&self);
        return NULL;
    }
    self->longopts = longopts;
    self->repeatable = repeatable;
    self->room = room;
    self->argv[0] = argc > 0 ? argv[0] : (char *)"dropscope";
    if (path && s_read(self, err, errsz) != 0) {
        config_destroy(&self);
        return NULL;
    }
    if (self->nfile + argc + 1 > self->room) { /* the file's lines took the room */
        char **more = realloc(self->argv, (size_t)(self->nfile + argc + 1) * sizeof *more);
        if (!more) {
            s_fail(err, errsz, "out of memory");
            config_destroy(&self);
            return NULL;
        }
        self->argv = more;
        self->room = self->nfile + argc + 1;
    }
    for (int i = 1; i < argc; i++)
        self->argv[self->nfile + i] = argv[i];
    self->argv[self->nfile + (argc > 0 ? argc : 1)] = NULL;
    self->argc = self->nfile + (argc > 0 ? argc : 1);
    return self;
}

void config_destroy(config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    config_t *self = *self_p;
    for (int i = 1; self->argv && self->where && i <= self->nfile; i++) {
        free(self->where[i]);
        free(self->argv[i]); /* argv may be reordered, but never across the file's part */
    }
    free(self->where);
    free(self->argv);
    free(self->file);
    free(self);
    *self_p = NULL;
}

int config_argc(const config_t *self)
{
    return self->argc;
}

char **config_argv(config_t *self)
{
    return self->argv;
}

const char *config_file(const config_t *self)
{
    return self->file;
}

const char *config_where(const config_t *self, int index)
{
    return index >= 1 && index <= self->nfile ? self->where[index] : "";
}

typedef struct {
    int want;         /* index into longopts */
    bool seen;        /* given at all */
    const char *last; /* its last argument (NULL for a flag) */
} value_t;

static void s_on_value(void *ctx, int index, const char *arg)
{
    value_t *v = ctx;
    if (index == v->want) {
        v->seen = true;
        v->last = arg;
    }
}

char *config_value(const config_t *self, const char *name)
{
    value_t v = {s_find(self->longopts, name), false, NULL};
    if (v.want < 0 || s_walk(self->argc, self->argv, self->longopts, s_on_value, &v) != 0)
        return NULL;
    if (self->longopts[v.want].has_arg == no_argument)
        return strdup(v.seen ? "true" : "false");
    return v.seen && v.last ? strdup(v.last) : NULL;
}

static bool s_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void config_log_changes(const config_t *started, const config_t *applied, const config_t *next,
                        const char *const *safe, int *napplied, int *nrestart)
{
    *napplied = *nrestart = 0;
    for (int i = 0; next->longopts[i].name; i++) {
        const char *name = next->longopts[i].name;
        if (s_in(s_forbidden, name))
            continue;
        bool is_safe = s_in(safe, name);
        char *before = config_value(is_safe ? applied : started, name);
        char *after = config_value(next, name);
        bool changed = !s_same(before, after);
        if (changed && is_safe) {
            log_info("reload: %s %s -> %s", name, before ? before : "(default)",
                     after ? after : "(default)");
            ++*napplied;
        } else if (changed) {
            log_warn("reload: --%s changed in %s; restart to apply", name,
                     config_file(next) ? config_file(next) : "the configuration");
            ++*nrestart;
        }
        free(before);
        free(after);
    }
}

int config_fail(const config_t *self, int index, char *err, size_t errsz, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errsz, "%s%s", config_where(self, index), what);
    return 2;
}

/* Frees what the reloads kept (not started). */
static void s_reload_end(config_reload_t *r)
{
    if (r->applied != r->started)
        config_destroy(&r->applied);
    r->applied = r->started;
}

bool config_reload(config_reload_t *r, void *opts)
{
    const char *file = config_file(r->started);
    if (!file) {
        log_info("reload: no --config file; nothing to re-read");
        return false;
    }
    char err[512];
    config_t *next = config_new(file, r->longopts, r->repeatable, r->argc, r->argv, err, sizeof err);
    if (!next || r->parse(next, opts, err, sizeof err) != 0) {
        log_error("reload: %s; still running on the settings in use", err);
        config_destroy(&next);
        return false;
    }
    int napplied, nrestart;
    config_log_changes(r->started, r->applied, next, r->safe, &napplied, &nrestart);
    log_info("reload: re-read %s, %d changes applied, %d need a restart", file, napplied, nrestart);
    s_reload_end(r);
    r->applied = next;
    return true;
}


int config_start(config_reload_t *r, const char *prog, int argc, char *const *argv,
                 const struct option *longopts, const char *const *safe,
                 const char *const *repeatable, config_parse_fn *parse, void *opts)
{
    char err[512];
    config_t *cfg = config_new(config_path(argc, argv, longopts), longopts, repeatable, argc, argv,
                               err, sizeof err);
    int rc = cfg ? parse(cfg, opts, err, sizeof err) : 2;
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        config_destroy(&cfg);
        *r = (config_reload_t){0};
        return rc;
    }
    *r = (config_reload_t){argc, argv, longopts, safe, repeatable, parse, cfg, cfg};
    return 0;
}

void config_stop(config_reload_t *r)
{
    s_reload_end(r);
    config_destroy(&r->started);
    r->applied = NULL;
}
