/* text: the rules every string on the wire follows, in one place for both
 * ends: the aggregator's validator refuses what breaks them, the collector
 * escapes what it reads (a process name, an interface name) so it never
 * sends what would be refused. Two classes:
 *   text  well-formed UTF-8 without control characters (C0, DEL, C1), so it
 *         can go into logs, SQL, JSON and a terminal as it is;
 *   name  ASCII letters, digits and . _ - : @ + # [ ] %: nothing a shell
 *         expands but a comment and a glob (diagnose quotes those), nothing
 *         a URL path or a series key ("source/device/name") splits on.
 * Both are at most TEXT_MAX bytes. Pure functions, no allocation. */
#ifndef DROPSCOPE_TEXT_H
#define DROPSCOPE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define TEXT_MAX 255 /* bytes in any string on the wire */

/* True when s (NUL-terminated) is text: at most TEXT_MAX bytes. */
bool text_is_text(const char *s);

/* True when s is a name: at most TEXT_MAX bytes of the name set; "" too. */
bool text_is_name(const char *s);

/* Copies in to out (of outsz > 0 bytes) as text: every byte that is not
 * part of a printable UTF-8 character becomes "\xNN"; cut at a character
 * or escape boundary to fit outsz - 1 and TEXT_MAX bytes. Returns true when
 * out differs from in. */
bool text_escape(const char *in, char *out, size_t outsz);

/* Copies in to out (of outsz > 0 bytes) as a name: every byte outside the
 * name set, and '%' itself, becomes "%NN"; cut at a whole byte or escape to
 * fit. Returns true when out differs from in. */
bool text_escape_name(const char *in, char *out, size_t outsz);

#endif
