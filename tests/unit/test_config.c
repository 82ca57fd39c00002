/* Tests common/config: a --config file becomes options before the command
 * line's (which override them), each line error names the file, the line
 * and the fix, and a reload's changes are told apart into applied ones
 * and ones needing a restart. */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "testlib.h"

/* A table shaped like a daemon's: options with and without an argument. */
static const struct option s_longopts[] = {
    {"connect", required_argument, NULL, 'c'},  {"burst-threshold", required_argument, NULL, 'T'},
    {"spool", required_argument, NULL, 'D'},    {"insecure", no_argument, NULL, 'I'},
    {"verbose", no_argument, NULL, 'v'},        {"http", required_argument, NULL, 'H'},
    {"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
    {"config", required_argument, NULL, 'K'},   {"once", no_argument, NULL, 'o'},
    {"json", no_argument, NULL, 'j'},           {"probe", required_argument, NULL, 'Q'},
    {NULL, 0, NULL, 0}};

/* Like the collector's --probe: a file may give it more than once. */
static const char *const s_repeatable[] = {"probe", NULL};

static char s_path[64];

/* Writes text to a new file (s_path). */
static const char *s_file(const char *text)
{
    snprintf(s_path, sizeof s_path, "/tmp/test_config.XXXXXX");
    int fd = mkstemp(s_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return s_path;
}

/* config_new on a file holding text and the command line argv (NULL-ended). */
static config_t *s_config(const char *text, char *err, size_t errsz, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    config_t *c =
        config_new(text ? s_file(text) : NULL, s_longopts, s_repeatable, argc, argv, err, errsz);
    if (text)
        unlink(s_path);
    return c;
}

/* The error config_new gives for a file holding text, "FILE" in place of its path. */
static const char *s_error(const char *text)
{
    static char err[512], out[512];
    char *argv[] = {"prog", NULL};
    err[0] = '\0';
    config_t *c = s_config(text, err, sizeof err, argv);
    assert_null(c);
    size_t n = strlen(s_path);
    assert_memory_equal(err, s_path, n);
    snprintf(out, sizeof out, "FILE%s", err + n);
    return out;
}

static void test_builds_argv(void **state)
{
    (void)state;
    char err[256];
    char *argv[] = {"prog", "--http", "127.0.0.1:1", NULL};
    config_t *c = s_config("# a comment\n"
                           "\n"
                           "   connect   =   tcp://10.0.0.1:7420  \n"
                           "\t# an indented comment\n"
                           "spool = /var/lib/dropscope-collector/spool\r\n"
                           "insecure = true\n"
                           "verbose = false\n"
                           "burst-threshold=500\n",
                           err, sizeof err, argv);
    assert_non_null(c);
    assert_int_equal(config_argc(c), 7);
    char **av = config_argv(c);
    assert_string_equal(av[0], "prog");
    assert_string_equal(av[1], "--connect=tcp://10.0.0.1:7420");
    assert_string_equal(av[2], "--spool=/var/lib/dropscope-collector/spool");
    assert_string_equal(av[3], "--insecure");
    assert_string_equal(av[4], "--burst-threshold=500"); /* verbose = false: nothing */
    assert_string_equal(av[5], "--http");
    assert_string_equal(av[6], "127.0.0.1:1");
    assert_null(av[7]);
    /* Where each option came from: the file's line, or nowhere. */
    char where[80];
    snprintf(where, sizeof where, "%s:3: ", s_path);
    assert_string_equal(config_where(c, 1), where);
    snprintf(where, sizeof where, "%s:8: ", s_path);
    assert_string_equal(config_where(c, 4), where);
    assert_string_equal(config_where(c, 0), "");
    assert_string_equal(config_where(c, 5), "");
    assert_string_equal(config_where(c, -1), "");
    assert_string_equal(config_file(c), s_path);
    config_destroy(&c);
    config_destroy(&c); /* safe twice */
    assert_null(c);
}

/* A repeatable key: every line of it, past the room of one per option,
 * then the command line's. Any other key still only once. */
static void test_repeatable(void **state)
{
    (void)state;
    char err[256], text[2048] = "connect = tcp://a:1\n";
    for (int i = 0; i < 40; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "probe = 239.1.1.%d:5000\n", i);
    char *argv[] = {"prog", "--probe", "10.0.0.1:9", NULL};
    config_t *c = s_config(text, err, sizeof err, argv);
    assert_non_null(c);
    assert_int_equal(config_argc(c), 44);
    char **av = config_argv(c);
    assert_string_equal(av[1], "--connect=tcp://a:1");
    assert_string_equal(av[2], "--probe=239.1.1.0:5000");
    assert_string_equal(av[41], "--probe=239.1.1.39:5000");
    assert_string_equal(av[42], "--probe");
    assert_string_equal(av[43], "10.0.0.1:9");
    assert_null(av[44]);
    config_destroy(&c);
    assert_string_equal(s_error("probe = a:1\nconnect = x\nconnect = y\n"),
                        "FILE:3: 'connect' is given twice, on lines 2 and 3 (keep one)");
}

static void test_command_line_overrides(void **state)
{
    (void)state;
    char err[256];
    char *argv[] = {"prog", "--connect", "tcp://cli:1", "--verbose", "--burst-threshold=9", NULL};
    config_t *c = s_config("connect = tcp://file:1\nburst-threshold = 500\nspool = /s\n"
                           "insecure = false\n",
                           err, sizeof err, argv);
    assert_non_null(c);
    char *v;
    assert_string_equal(v = config_value(c, "connect"), "tcp://cli:1");
    free(v);
    assert_string_equal(v = config_value(c, "burst-threshold"), "9");
    free(v);
    assert_string_equal(v = config_value(c, "spool"), "/s"); /* the file's, not overridden */
    free(v);
    assert_string_equal(v = config_value(c, "verbose"), "true");
    free(v);
    assert_string_equal(v = config_value(c, "insecure"), "false");
    free(v);
    assert_null(config_value(c, "http")); /* absent: the daemon's default */
    assert_null(config_value(c, "no-such-option"));

    /* What the daemons' parse sees: getopt_long over the built argv, the
     * last occurrence of an option winning. */
    const char *connect = NULL, *threshold = NULL;
    int ch, verbose = 0;
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(config_argc(c), config_argv(c), "", s_longopts, NULL)) != -1) {
        if (ch == 'c')
            connect = optarg;
        else if (ch == 'T')
            threshold = optarg;
        else if (ch == 'v')
            verbose++;
    }
    assert_string_equal(connect, "tcp://cli:1");
    assert_string_equal(threshold, "9");
    assert_int_equal(verbose, 1);
    config_destroy(&c);
}

static void test_no_file(void **state)
{
    (void)state;
    char err[256];
    char *argv[] = {"prog", "--connect", "x", NULL};
    config_t *c = s_config(NULL, err, sizeof err, argv);
    assert_non_null(c);
    assert_null(config_file(c));
    assert_int_equal(config_argc(c), 3);
    assert_string_equal(config_argv(c)[1], "--connect");
    assert_string_equal(config_where(c, 1), "");
    config_destroy(&c);
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(s_error("connect = x\n\n\n\n\n\nconect = tcp://10.0.0.1:7420\n"),
                        "FILE:7: unknown key 'conect' (keys are the long options of --help, "
                        "without the dashes)");
    assert_string_equal(s_error("# x\n\ninsecure = yes please\n"),
                        "FILE:3: 'insecure' takes true or false, not 'yes please'");
    assert_string_equal(s_error("verbose = TRUE\n"), "FILE:1: 'verbose' takes true or false, "
                                                     "not 'TRUE'");
    assert_string_equal(s_error("a = b\n\n\n\n\n\n\n\nconnect tcp://x:1\n"),
                        "FILE:1: unknown key 'a' (keys are the long options of --help, without "
                        "the dashes)");
    assert_string_equal(s_error("\n\n\n\n\n\n\n\nconnect tcp://x:1\n"),
                        "FILE:9: no '=' (lines are key = value)");
    assert_string_equal(s_error("verbose = true\nconnect = a\n\nverbose = false\n"),
                        "FILE:4: 'verbose' is given twice, on lines 1 and 4 (keep one)");
    assert_string_equal(s_error("connect = a\nconnect = a\n"),
                        "FILE:2: 'connect' is given twice, on lines 1 and 2 (keep one)");
    assert_string_equal(s_error("connect =\n"), "FILE:1: 'connect' has no value (connect = "
                                                "VALUE)");
    assert_string_equal(s_error(" = 5\n"), "FILE:1: no key before '=' (lines are key = value)");
    assert_string_equal(s_error("--connect = a\n"),
                        "FILE:1: unknown key '--connect' (keys are the long options of --help, "
                        "without the dashes)");
    assert_string_equal(s_error("# one-off requests, and files in files\nhelp = true\n"),
                        "FILE:2: 'help' is not allowed in a file (give it on the command line)");
    const char *forbidden[] = {"version = true", "config = /etc/x.conf", "once = true",
                               "json = false"};
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
        char text[64], want[128], key[16];
        snprintf(text, sizeof text, "%s\n", forbidden[i]);
        sscanf(forbidden[i], "%15s", key);
        snprintf(want, sizeof want, "FILE:1: '%s' is not allowed in a file (give it on the "
                 "command line)", key);
        assert_string_equal(s_error(text), want);
    }
}

static void test_unreadable(void **state)
{
    (void)state;
    char err[256];
    char *argv[] = {"prog", NULL};
    assert_null(config_new("/nonexistent/collector.conf", s_longopts, NULL, 1, argv, err, sizeof err));
    assert_string_equal(err, "cannot read /nonexistent/collector.conf: No such file or "
                             "directory (give --config a readable file of key = value lines)");
    assert_null(config_new("/tmp", s_longopts, NULL, 1, argv, err, sizeof err));
    assert_string_equal(err, "cannot read /tmp: Is a directory (give --config a readable file "
                             "of key = value lines)");
}

static void test_path(void **state)
{
    (void)state;
    char *a[] = {"prog", "--connect", "x", "--config", "/etc/a.conf", "--verbose", NULL};
    assert_string_equal(config_path(6, a, s_longopts), "/etc/a.conf");
    assert_string_equal(a[3], "--config"); /* not reordered */
    char *b[] = {"prog", "--config=/etc/b.conf", "stray", "--verbose", NULL};
    assert_string_equal(config_path(4, b, s_longopts), "/etc/b.conf");
    assert_string_equal(b[2], "stray");
    char *c[] = {"prog", "--connect", "--config", NULL}; /* an argument, not the option */
    assert_null(config_path(3, c, s_longopts));
    char *d[] = {"prog", "--verbose", NULL};
    assert_null(config_path(2, d, s_longopts));
}

/* The log lines of config_log_changes(started, applied, next) with the
 * counts, for files started_text, applied_text and next_text. */
static const char *s_changes(const char *started_text, const char *applied_text,
                             const char *next_text, int *napplied, int *nrestart)
{
    static const char *const safe[] = {"verbose", "burst-threshold", NULL};
    static char text[2048];
    char err[256];
    char *argv[] = {"prog", "--spool", "/cli", NULL};
    config_t *started = s_config(started_text, err, sizeof err, argv);
    config_t *applied = s_config(applied_text, err, sizeof err, argv);
    config_t *next = s_config(next_text, err, sizeof err, argv);
    char next_path[sizeof s_path];
    snprintf(next_path, sizeof next_path, "%s", s_path);
    assert_non_null(started);
    assert_non_null(applied);
    assert_non_null(next);
    char path[] = "/tmp/test_config_log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    testlib_capture_stderr(path);
    log_init("test", LOGL_INFO);
    config_log_changes(started, applied, next, safe, napplied, nrestart);
    testlib_restore_stderr();
    FILE *f = fopen(path, "r");
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    config_destroy(&started);
    config_destroy(&applied);
    config_destroy(&next);
    /* Without the timestamps: "LEVEL: message" lines. */
    static char out[2048];
    out[0] = '\0';
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *msg = strstr(line, " test ");
        assert_non_null(msg);
        msg += 6;
        char *file = strstr(msg, next_path);
        if (file) { /* the file's path varies: "FILE" */
            memcpy(file, "FILE", 4);
            memmove(file + 4, file + strlen(next_path), strlen(file + strlen(next_path)) + 1);
        }
        strncat(out, msg, sizeof out - strlen(out) - 2);
        strcat(out, "\n");
    }
    return out;
}

static void test_changes(void **state)
{
    (void)state;
    int napplied, nrestart;
    const char *before = "connect = tcp://a:1\nburst-threshold = 500\nhttp = h:1\n";
    /* A reloadable change, an option added, one removed, one overridden by
     * the command line (no change), and a restart-needing change. */
    const char *log = s_changes(before, before,
                                "connect = tcp://b:1\nburst-threshold = 800\nverbose = true\n"
                                "spool = /file\n",
                                &napplied, &nrestart);
    /* In the table's order; the command line's --spool wins both times. */
    assert_string_equal(log, "warn: reload: --connect changed in FILE; restart to apply\n"
                             "info: reload: burst-threshold 500 -> 800\n"
                             "info: reload: verbose false -> true\n"
                             "warn: reload: --http changed in FILE; restart to apply\n");
    assert_int_equal(napplied, 2);
    assert_int_equal(nrestart, 2);

    /* A second reload of the same file: the applied option is not logged
     * again, the restart-needing ones are (still not running). */
    const char *after = "connect = tcp://b:1\nburst-threshold = 800\n";
    log = s_changes(before, after, after, &napplied, &nrestart);
    assert_int_equal(napplied, 0);
    assert_int_equal(nrestart, 2);
    assert_null(strstr(log, "burst-threshold"));
    assert_non_null(strstr(log, "--connect changed"));
    assert_non_null(strstr(log, "--http changed"));

    /* A removed reloadable option goes back to its default. */
    log = s_changes(before, before, "connect = tcp://a:1\nhttp = h:1\n", &napplied, &nrestart);
    assert_int_equal(napplied, 1);
    assert_int_equal(nrestart, 0);
    assert_string_equal(log, "info: reload: burst-threshold 500 -> (default)\n");

    /* Nothing changed: nothing logged. */
    log = s_changes(before, before, before, &napplied, &nrestart);
    assert_int_equal(napplied + nrestart, 0);
    assert_string_equal(log, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builds_argv),  cmocka_unit_test(test_command_line_overrides),
        cmocka_unit_test(test_no_file),      cmocka_unit_test(test_errors),
        cmocka_unit_test(test_unreadable),   cmocka_unit_test(test_path),
        cmocka_unit_test(test_changes),     cmocka_unit_test(test_repeatable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
