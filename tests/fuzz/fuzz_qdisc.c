/* fuzz_qdisc: qdisc_decode on arbitrary bytes, seeded with the recorded
 * dumps (the .bin files of tests/fixtures/<dir>/netlink, and getqdisc.bin followed by
 * getlink.bin). The input is one buffer: the qdisc dump up to and with its
 * first NLMSG_DONE, then the link dump (with no NLMSG_DONE, the split is
 * after the last whole message); see fuzzlib.h for what every run checks. */
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzzlib.h"
#include "qdisc.h"

/* Where the link dump starts: a multiple of 4, so that both halves of the
 * (malloc'd) buffer are aligned as the decoder requires. */
static size_t s_split(const char *buf, size_t len)
{
    size_t at = 0;
    while (len - at >= sizeof(struct nlmsghdr)) {
        struct nlmsghdr h;
        memcpy(&h, buf + at, sizeof h);
        size_t step = ((size_t)h.nlmsg_len + 3) & ~(size_t)3; /* NLMSG_ALIGN is 32-bit */
        if (h.nlmsg_len < sizeof h || step > len - at)
            break;
        at += step;
        if (h.nlmsg_type == NLMSG_DONE)
            break;
    }
    return at;
}

static int s_parse(const char *buf, size_t len, const void *arg, fuzzlib_seen_t *seen, char *err,
                   size_t errsz)
{
    (void)arg;
    size_t split = s_split(buf, len);
    return qdisc_decode(buf, split, buf + split, len - split, fuzzlib_emit, seen, err, errsz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzlib_seen_t seen;
    fuzzlib_run(data, size, s_parse, NULL, "qdisc", NULL, &seen);
    if (seen.n > size)
        __builtin_trap(); /* at most 5 readings per qdisc message of 36 bytes or more */
    return 0;
}
