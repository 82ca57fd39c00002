/* text: see text.h. Strings here are short (TEXT_MAX), so a byte-at-a-time
 * decoder is all the speed needed. */
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the printable UTF-8 character at s (n bytes left), or 0 when
 * the bytes there are not one (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF; and no control characters). */
static size_t s_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return c >= 0x20 && c != 0x7f;
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t cp = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return len;
}

static bool s_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("._-:@+#[]%", c));
}

bool text_is_text(const char *s)
{
    size_t n = strnlen(s, TEXT_MAX + 1);
    if (n > TEXT_MAX)
        return false;
    for (size_t i = 0, len; i < n; i += len)
        if ((len = s_char((const unsigned char *)s + i, n - i)) == 0)
            return false;
    return true;
}

bool text_is_name(const char *s)
{
    size_t n = strnlen(s, TEXT_MAX + 1);
    if (n > TEXT_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_name_char((unsigned char)s[i]))
            return false;
    return true;
}

/* The room for out: outsz - 1 bytes, at most TEXT_MAX. */
static size_t s_room(size_t outsz)
{
    return outsz - 1 < TEXT_MAX ? outsz - 1 : TEXT_MAX;
}

bool text_escape(const char *in, char *out, size_t outsz)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strlen(in), room = s_room(outsz), o = 0, i = 0;
    bool changed = false;
    while (i < n) {
        size_t len = s_char(s + i, n - i);
        size_t need = len ? len : 4;
        if (o + need > room)
            break;
        if (len)
            memcpy(out + o, s + i, len);
        else
            snprintf(out + o, 5, "\\x%02x", s[i]);
        changed |= len == 0;
        o += need;
        i += len ? len : 1;
    }
    out[o] = '\0';
    return changed || i < n;
}

bool text_escape_name(const char *in, char *out, size_t outsz)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strlen(in), room = s_room(outsz), o = 0, i = 0;
    bool changed = false;
    for (; i < n; i++) {
        bool plain = s_name_char(s[i]) && s[i] != '%';
        if (o + (plain ? 1 : 3) > room)
            break;
        if (plain)
            out[o++] = (char)s[i];
        else
            o += (size_t)snprintf(out + o, 4, "%%%02X", s[i]);
        changed |= !plain;
    }
    out[o] = '\0';
    return changed || i < n;
}
