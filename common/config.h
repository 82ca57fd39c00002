/* config: the daemons' --config FILE. A file holds `key = value` lines
 * whose keys are the daemon's long options without the dashes; it becomes
 * options placed before the command line's, so that one getopt_long parse
 * validates every value wherever it came from and the command line
 * overrides the file. On a reload (SIGHUP) the same file is read again
 * and compared with what runs: config_log_changes. */
#ifndef DROPSCOPE_CONFIG_H
#define DROPSCOPE_CONFIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct config config_t;

/* The FILE of --config FILE (or --config=FILE) among argv's options as
 * getopt_long reads them with longopts (which must hold "config"); NULL
 * when there is none. Borrowed from argv; argv itself is not reordered. */
const char *config_path(int argc, char *const *argv, const struct option *longopts);

/* Reads the file at path (NULL: no file) and builds the argv to parse:
 * argv[0], then each line of the file as "--key=value" ("--key" for
 * `true`, nothing for `false`, for options without an argument), then
 * argv[1..argc-1]. Lines: `key = value`, blanks around both trimmed; a
 * line starting with '#' and a blank line are skipped. A key must be one
 * of longopts, at most once unless it is one of `repeatable` (NULL-ended, or
 * NULL: none; their lines and the command line's add up), and not help,
 * version, config, once or json
 * (a file is read at every start and reload: those are one-off requests).
 * longopts and argv are borrowed and must outlive the config. NULL with
 * the reason in err ("PATH:LINE: ... (the fix)", or the path and the
 * errno text when the file cannot be read). */
config_t *config_new(const char *path, const struct option *longopts,
                     const char *const *repeatable, int argc, char *const *argv, char *err,
                     size_t errsz);
void config_destroy(config_t **self_p);

/* The built argv, argv[argc] NULL: the config's own, valid until
 * config_destroy. getopt_long may reorder it (non-options go last), which
 * never moves the file's options: they all come first. */
int config_argc(const config_t *self);
char **config_argv(config_t *self);

/* The file read (borrowed), or NULL. */
const char *config_file(const config_t *self);

/* "PATH:LINE: " when argv[index] of the built argv came from the file, ""
 * otherwise: the prefix of an error about that option. Borrowed. */
const char *config_where(const config_t *self, int index);

/* The value of the long option `name` in the built argv as getopt_long
 * reads it: the last occurrence's argument (the one that counts, as the
 * command line's comes after the file's; an option that adds up its
 * occurrences, such as --test-clock-step, is compared by its last one
 * only), "true" or "false" for an option without an argument; NULL when
 * an option with an argument is absent (or out of memory). The caller's
 * to free. */
char *config_value(const config_t *self, const char *name);

/* Logs, for a reload, every option of longopts whose value in next differs
 * from what runs: an option named in `safe` (NULL-terminated), applied by
 * the caller, is compared with `applied` (the config of the last reload,
 * or started) and logged as "reload: NAME BEFORE -> AFTER"; any other
 * with `started` (it runs as it started until a restart) and logged as a
 * warning that it needs a restart. Sets *napplied and *nrestart to the
 * counts. */
void config_log_changes(const config_t *started, const config_t *applied, const config_t *next,
                        const char *const *safe, int *napplied, int *nrestart);

/* A parse error of the option at argv[index] of the built argv (-1: of no
 * one option) into err, "PATH:LINE: " first when it came from the file.
 * Returns 2, the exit code of bad usage. */
int config_fail(const config_t *self, int index, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A daemon's parser: the config's argv into its options (opts); 0, or 2
 * with the reason in err. No side effects, so a reload can parse again. */
typedef int config_parse_fn(config_t *cfg, void *opts, char *err, size_t errsz);

/* What a reload needs from the start, and keeps between reloads. */
typedef struct {
    int argc;
    char *const *argv; /* the command line, as at the start */
    const struct option *longopts;
    const char *const *safe; /* the options a reload applies (NULL-terminated) */
    const char *const *repeatable; /* the options a file may give more than once, or NULL */
    config_parse_fn *parse;
    config_t *started; /* what the daemon started with (the caller's) */
    config_t *applied; /* the last reload's, or started */
} config_reload_t;

/* The start: reads --config FILE (when argv has one) with the command line
 * into opts through parse, and fills r for the reloads to come. 0, or 2
 * (bad usage) after printing "PROG: the reason" on stderr; r then holds
 * nothing. config_stop frees it. */
int config_start(config_reload_t *r, const char *prog, int argc, char *const *argv,
                 const struct option *longopts, const char *const *safe,
                 const char *const *repeatable, config_parse_fn *parse, void *opts);
/* Frees what config_start and the reloads kept. */
void config_stop(config_reload_t *r);

/* A reload (SIGHUP): reads the file again with the same command line and
 * parses it into opts, logging each change (config_log_changes) and a
 * summary. true when opts holds the new options, whose `safe` ones the
 * caller applies now (opts' strings live until the next reload); false,
 * logged, without a file or when the file no longer parses: the settings
 * in use stay. */
bool config_reload(config_reload_t *r, void *opts);

#endif
