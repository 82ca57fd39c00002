/* Tests collector/sources/sockowner: on a built /proc tree (pid
 * directories with fd links and comm, entries that are not processes, a
 * socket shared with a lower pid, a pid directory without fd, links that
 * only look alike), and on this machine's /proc, where a socket this test
 * opens must be found as its own. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockowner.h"
#include "testlib.h"

static void test_built_tree(void **state)
{
    (void)state;
    char dir[] = "/tmp/dropscope-sockowner.XXXXXX";
    assert_non_null(mkdtemp(dir));
    testlib_sh("cd %s && mkdir -p 300/fd 41/fd 7/fd self/fd 99 62/fd && "
               "printf 'myapp\\n' >300/comm && printf 'shared\\n' >41/comm && "
               "printf 'ev\\033[2Jl\\nx\\377\\n' >62/comm && ln -s 'socket:[620]' 62/fd/3 && "
               "printf 'other\\n' >7/comm && "
               "ln -s 'socket:[555]' 300/fd/3 && ln -s /dev/null 300/fd/0 && "
               "ln -s 'socket:[777]' 300/fd/9 && ln -s 'socket:[777]' 41/fd/4 && "
               "ln -s 'pipe:[555]' 7/fd/1 && ln -s 'socket:[5550]' 7/fd/2 && "
               "ln -s 'socket:[888]' self/fd/5",
               dir);
    uint64_t inodes[] = {555, 777, 888, 999, 555};
    char owner[5][SOCKOWNER_LEN];
    assert_int_equal(sockowner_find(dir, inodes, 5, owner), 3);
    assert_string_equal(owner[0], "300/myapp");
    assert_string_equal(owner[1], "41/shared"); /* the lowest pid holding it */
    assert_string_equal(owner[2], "");          /* "self" is not a process directory */
    assert_string_equal(owner[3], "");          /* nobody holds it */
    assert_string_equal(owner[4], "300/myapp"); /* asked twice, answered twice */
    /* A name with an escape, a newline and a byte that is not UTF-8, as
     * prctl(PR_SET_NAME) allows: escaped, so that it is text on the wire. */
    uint64_t odd[] = {620};
    assert_int_equal(sockowner_find(dir, odd, 1, owner), 1);
    assert_string_equal(owner[0], "62/ev\\x1b[2Jl\\x0ax\\xff");
    assert_int_equal(sockowner_find(dir, inodes, 0, owner), 0);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none", dir);
    assert_int_equal(sockowner_find(missing, inodes, 2, owner), 0);
    assert_string_equal(owner[0], "");
    testlib_sh("rm -rf %s", dir);
}

static void test_this_process(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint64_t inodes[] = {(uint64_t)st.st_ino};
    char owner[1][SOCKOWNER_LEN], expect[SOCKOWNER_LEN], comm[32] = "";
    FILE *f = fopen("/proc/self/comm", "r");
    assert_non_null(f);
    assert_non_null(fgets(comm, sizeof comm, f));
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    snprintf(expect, sizeof expect, "%d/%s", (int)getpid(), comm);
    assert_int_equal(sockowner_find("/proc", inodes, 1, owner), 1);
    assert_string_equal(owner[0], expect);
    close(fd);
    assert_int_equal(sockowner_find("/proc", inodes, 1, owner), 0); /* closed: nobody's */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_built_tree),
        cmocka_unit_test(test_this_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
