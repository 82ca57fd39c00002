/* Tests common/log: lines with their own timestamp on a plain stderr, and
 * on the journal's stream (JOURNAL_STREAM naming stderr's device and
 * inode) the syslog priority prefix instead; a JOURNAL_STREAM naming
 * another file (inherited by a child whose stderr was redirected) changes
 * nothing. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "testlib.h"

/* Logs one line of each level with JOURNAL_STREAM set to journal (NULL:
 * unset) and returns what stderr received (static). */
static const char *s_log(const char *journal)
{
    static char text[4096];
    char path[] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    testlib_capture_stderr(path);
    if (journal && strcmp(journal, "self") == 0) {
        struct stat st;
        assert_int_equal(fstat(2, &st), 0);
        char env[64];
        snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        setenv("JOURNAL_STREAM", env, 1);
    } else if (journal) {
        setenv("JOURNAL_STREAM", journal, 1);
    } else {
        unsetenv("JOURNAL_STREAM");
    }
    log_init("test-log", LOGL_DEBUG);
    log_debug("a %s", "debug line");
    log_info("an info line");
    log_warn("a warning");
    log_error("an error %d", 42);
    testlib_restore_stderr();
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    unsetenv("JOURNAL_STREAM");
    return text;
}

static void test_journal(void **state)
{
    (void)state;
    assert_string_equal(s_log("self"), "<7>test-log debug: a debug line\n"
                                       "<6>test-log info: an info line\n"
                                       "<4>test-log warn: a warning\n"
                                       "<3>test-log error: an error 42\n");
}

static void s_assert_stamped(const char *text)
{
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                             "test-log debug: a debug line\n"
                             "[0-9T:.Z-]+ test-log info: an info line\n"
                             "[0-9T:.Z-]+ test-log warn: a warning\n"
                             "[0-9T:.Z-]+ test-log error: an error 42\n$",
                             REG_EXTENDED),
                     0);
    int rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    if (rc != 0)
        fail_msg("not four stamped lines:\n%s", text);
}

static void test_plain(void **state)
{
    (void)state;
    s_assert_stamped(s_log(NULL));
    s_assert_stamped(s_log("1:2"));      /* another stream: inherited, not ours */
    s_assert_stamped(s_log("garbage")); /* not device:inode */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal),
        cmocka_unit_test(test_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
