/* Tests collector/probe's --probe parser: the defaults, each option, and
 * every malformed value refused with the value named and the accepted
 * form. (The receiving itself runs against the kernel in namespaces:
 * tests/integration/test_gaps.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "probe.h"

static void test_defaults(void **state)
{
    (void)state;
    probe_spec_t s;
    char err[512];
    assert_int_equal(probe_parse("239.1.1.1:5000", &s, err, sizeof err), 0);
    assert_string_equal(s.group, "239.1.1.1");
    assert_int_equal(s.port, 5000);
    assert_true(s.multicast);
    assert_int_equal(s.offset, 0);
    assert_int_equal(s.len, 8);
    assert_false(s.little_endian);
    assert_int_equal(s.rcvbuf, PROBE_RCVBUF);
    assert_int_equal(probe_parse("10.0.0.7:65535", &s, err, sizeof err), 0);
    assert_false(s.multicast); /* a unicast address: bound, not joined */
    assert_int_equal(s.port, 65535);
}

static void test_options(void **state)
{
    (void)state;
    probe_spec_t s;
    char err[512];
    assert_int_equal(probe_parse("239.1.1.1:5000,seq=8:4:le,rcvbuf=65536", &s, err, sizeof err), 0);
    assert_int_equal(s.offset, 8);
    assert_int_equal(s.len, 4);
    assert_true(s.little_endian);
    assert_int_equal(s.rcvbuf, 65536);
    assert_int_equal(probe_parse("239.1.1.1:1,rcvbuf=4096,seq=2046:2:be", &s, err, sizeof err), 0);
    assert_int_equal(s.offset, 2046); /* the last 2 bytes of those read */
    assert_int_equal(s.len, 2);
    assert_false(s.little_endian);
}

static void s_bad(const char *text, const char *why)
{
    probe_spec_t s;
    char err[512] = "";
    assert_int_equal(probe_parse(text, &s, err, sizeof err), -1);
    if (!strstr(err, why) || !strstr(err, PROBE_FORM))
        fail_msg("'%s' refused with \"%s\", not \"%s\" and the form", text, err, why);
    char quoted[300];
    snprintf(quoted, sizeof quoted, "'%s'", text);
    if (strlen(text) < 200 && !strstr(err, quoted))
        fail_msg("'%s' refused without naming it: %s", text, err);
}

static void test_refusals(void **state)
{
    (void)state;
    s_bad("239.1.1.1", "no :PORT after the group");
    s_bad("239.1.1.1,seq=0:8:be:5000", "no :PORT after the group");
    s_bad("ff02::1:5000", "not an IPv4 address (IPv6 is not supported)");
    s_bad("feed.example.com:5000", "not an IPv4 address");
    s_bad("239.1.1.1:0", "the port is not a number from 1 to 65535");
    s_bad("239.1.1.1:65536", "the port is not a number");
    s_bad("239.1.1.1:-1", "the port is not a number");
    s_bad("239.1.1.1:5000,seq=0:3:be", "LEN is 2, 4 or 8");
    s_bad("239.1.1.1:5000,seq=0:8", "seq= takes OFFSET:LEN:be or OFFSET:LEN:le");
    s_bad("239.1.1.1:5000,seq=2041:8:be", "OFFSET must leave it within");
    s_bad("239.1.1.1:5000,seq=x:8:be", "OFFSET must leave it within");
    s_bad("239.1.1.1:5000,seq=0:8:middle", "the byte order is be");
    s_bad("239.1.1.1:5000,rcvbuf=100", "rcvbuf= takes a number of bytes from 2048");
    s_bad("239.1.1.1:5000,ttl=3", "unknown option after the port");
    s_bad("239.1.1.1:5000,", "unknown option after the port");
    char longer[400];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    s_bad(longer, "longer than 255 bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
