/* rtnl: the one netlink socket code of the rtnetlink sources (netlink,
 * qdisc) and of sock_diag (sockdiag), after iproute2's rtnl_dump_filter: send a dump request, read
 * datagrams until NLMSG_DONE, check each (port id, sequence number,
 * NLMSG_ERROR, NLM_F_DUMP_INTR, truncation) and hand it whole to a callback
 * that decodes it in place or keeps its bytes (rtnl_collect), so that what
 * a decoder reads live can be recorded and replayed byte for byte. And the
 * pure half the decoders share: rtnl_walk over such bytes, which trusts no
 * length in them. The socket belongs to the network namespace of the
 * thread that called rtnl_new. */
#ifndef DROPSCOPE_RTNL_H
#define DROPSCOPE_RTNL_H

#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

typedef struct rtnl rtnl_t;

/* What rtnl_dump returns. */
enum {
    RTNL_OK = 0,     /* the dump ended with NLMSG_DONE, every datagram handed over */
    RTNL_ERROR = -1, /* it failed: the reason is in err */
    RTNL_RETRY = -2, /* it may be inconsistent or incomplete (NLM_F_DUMP_INTR, or a
                        datagram larger than the buffer, which has been grown): a
                        new dump will do, err says which */
};

/* Opens and binds a NETLINK_ROUTE socket with a receive buffer sized for
 * dumps. NULL with the reason in err. */
rtnl_t *rtnl_new(char *err, size_t errsz);

/* The same for another netlink protocol whose dumps follow the same rules
 * (NETLINK_SOCK_DIAG). */
rtnl_t *rtnl_open(int protocol, char *err, size_t errsz);

/* The errno behind the last RTNL_ERROR of rtnl_dump: the kernel's own when
 * it refused the request (EPERM, ENOENT for a diag module it has not, ...),
 * the system call's, or 0 when the reply itself was malformed. */
int rtnl_error(const rtnl_t *self);

/* Closes the socket; safe on NULL and twice, nulls *self_p. */
void rtnl_destroy(rtnl_t **self_p);

/* Receives one datagram of a dump, exactly as the kernel sent it: [buf,
 * buf + len), 4-byte aligned, valid during the call only; the last one
 * holds the NLMSG_DONE. Returns 0, or -1 with the reason in err to abandon
 * the dump (rtnl_dump then reads the rest of it and returns RTNL_ERROR). */
typedef int(rtnl_datagram_fn)(void *ctx, const void *buf, size_t len, char *err, size_t errsz);

/* Sends one dump request of message type `type` (RTM_GETLINK, ...) whose
 * family header is the hdrlen (at most 64) bytes at hdr, and hands every
 * datagram of the reply to fn, in order, until NLMSG_DONE. Datagrams left
 * in the socket by an earlier request are skipped. Allocates nothing. The
 * errors name the request and the errno: "netlink RTM_GETLINK dump: ...".
 * Returns RTNL_OK, RTNL_ERROR or RTNL_RETRY (see above); after either
 * error the socket is ready for the next request. */
int rtnl_dump(rtnl_t *self, uint16_t type, const void *hdr, size_t hdrlen, rtnl_datagram_fn *fn,
              void *ctx, char *err, size_t errsz);

/* Bytes kept by rtnl_collect: start it as {0}, free it with
 * rtnl_bytes_reset. data is malloc'd, so aligned for rtnl_walk. */
typedef struct {
    char *data; /* len bytes used of cap; owned */
    size_t len, cap;
} rtnl_bytes_t;

/* An rtnl_datagram_fn that appends the datagram to the rtnl_bytes_t at
 * ctx; -1 (out of memory) with the reason in err. Datagrams of a dump are
 * whole messages padded to 4 bytes, so their concatenation is one valid
 * message stream for the decoders. */
int rtnl_collect(void *ctx, const void *buf, size_t len, char *err, size_t errsz);

/* Frees b's bytes and empties it; safe on NULL. */
void rtnl_bytes_reset(rtnl_bytes_t *b);

/* One message handed over by rtnl_walk: of the type asked for, with at
 * least the family header's bytes of payload, nlmsg_len within the buffer.
 * Returns the number of problems found in it (0 = clean), the first
 * described through rtnl_problem. */
typedef int(rtnl_msg_fn)(void *ctx, const struct nlmsghdr *nlh, char *err, size_t errsz);

/* Walks the netlink messages in [buf, buf + len) (4-byte aligned: one or
 * more datagrams of a dump, as received or as recorded) up to NLMSG_DONE,
 * handing to fn each message of type `type` whose payload holds its hdrlen
 * bytes of family header. Pure: no I/O, no allocation. Returns the number
 * of problems (bytes that are no whole message, a message of another type
 * or too short, an NLMSG_ERROR, and what fn counted); the first one is
 * written to err only if err is "" on entry, so that one caller can walk
 * several buffers and keep the first problem of all. err may be NULL when
 * errsz is 0. */
int rtnl_walk(const void *buf, size_t len, uint16_t type, size_t hdrlen, rtnl_msg_fn *fn, void *ctx,
              char *err, size_t errsz);

/* Returns 1 (one problem) and writes the message into err if err is ""
 * (see rtnl_walk); for decoders. */
int rtnl_problem(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "RTM_NEWLINK" for a message type, or "an unknown type"; static. */
const char *rtnl_type_name(uint16_t type);

#endif
