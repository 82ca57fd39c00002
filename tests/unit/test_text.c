/* Tests common/text: the two classes on known good and bad strings (the
 * poison of issue 12 among them: an escape byte in a process name, invalid
 * UTF-8, a shell metacharacter in a device), the escapes' exact output and
 * cuts, and on random bytes that an escaped string always passes and that
 * escaping leaves a passing string as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

static void test_text_class(void **state)
{
    (void)state;
    static const char *const good[] = {
        "", "Udp.RcvbufErrors", "[0]: rx_bytes", "caf\xc3\xa9", "\xe2\x82\xac 5",
        "\xf0\x9f\x98\x80", "\xef\xbf\xbd", "back\\slash", "tab-free text",
    };
    static const char *const bad[] = {
        "esc\x1b[31m", "nl\n", "del\x7f", "\xc3(", "\x80", "\xc0\xaf" /* overlong '/' */,
        "\xe0\x80\xaf" /* overlong */, "\xed\xa0\x80" /* surrogate */,
        "\xf4\x90\x80\x80" /* above U+10FFFF */, "\xc2\x85" /* C1 NEL */, "\xe2\x82" /* cut */,
        "\xff",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(text_is_text(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(text_is_text(bad[i]));
    char big[TEXT_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(text_is_text(big));
    big[TEXT_MAX] = '\0';
    assert_true(text_is_text(big));
}

static void test_name_class(void **state)
{
    (void)state;
    static const char *const good[] = {"", "eth0", "eth0.100", "cpu3", "udp:10.0.0.1:9999",
                                       "udp6:[::1]:53#1234", "eth0:1:a", "web-1.example.com",
                                       "veth%3B"};
    static const char *const bad[] = {"eth0;reboot", "a b", "eth$(id)", "a/b", "`x`", "caf\xc3\xa9",
                                      "q'uote", "x\n"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(text_is_name(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(text_is_name(bad[i]));
}

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    assert_false(text_escape("feedhandler", out, sizeof out));
    assert_string_equal(out, "feedhandler");
    assert_true(text_escape("fh\x1b[0m\xff\xc3\xa9", out, sizeof out));
    assert_string_equal(out, "fh\\x1b[0m\\xff\xc3\xa9");
    assert_true(text_is_text(out));
    /* cut at a whole character or escape, never inside one */
    assert_true(text_escape("ab\xc3\xa9", out, 4));
    assert_string_equal(out, "ab");
    assert_true(text_escape("a\x01", out, 5));
    assert_string_equal(out, "a");
    assert_true(text_escape_name("eth0;reboot now", out, sizeof out));
    assert_string_equal(out, "eth0%3Breboot%20now");
    assert_true(text_escape_name("100%", out, sizeof out));
    assert_string_equal(out, "100%25");
    assert_false(text_escape_name("eth0.100", out, sizeof out));
    assert_string_equal(out, "eth0.100");
    assert_true(text_escape_name("a b", out, 3)); /* "a%20" does not fit in 2 */
    assert_string_equal(out, "a");
}

/* Random bytes: escaping always yields a passing string of at most
 * TEXT_MAX bytes, and a string that passes is left as it is. */
static void test_random(void **state)
{
    (void)state;
    srand(12);
    static const unsigned char pick[] = {'a', 'Z', '0', ' ', '%', ';', '\\', 0x1b, 0x7f, 0x80,
                                         0x9f, 0xc2, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0,
                                         0xf0, 0x9f, 0x98, 0xf4, 0x90, 0xff};
    char in[400], out[TEXT_MAX + 40], again[sizeof out];
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)rand() % 300;
        for (size_t i = 0; i < n; i++)
            in[i] = (char)(rand() % 2 ? pick[rand() % sizeof pick] : (unsigned char)(rand() % 255 + 1));
        in[n] = '\0';
        bool changed = text_escape(in, out, sizeof out);
        assert_true(text_is_text(out));
        assert_true(strlen(out) <= TEXT_MAX);
        if (text_is_text(in))
            assert_false(changed);
        assert_int_equal(changed, strcmp(in, out) != 0);
        assert_false(text_escape(out, again, sizeof again));
        changed = text_escape_name(in, out, sizeof out);
        assert_true(text_is_name(out));
        assert_int_equal(changed, strcmp(in, out) != 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_class),
        cmocka_unit_test(test_name_class),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
