/* qdisc: the drop, shaping and requeue counters of every transmit queueing
 * discipline (docs/COUNTERS.md, qdisc), from one RTM_GETQDISC dump through the
 * caller's own NETLINK_ROUTE socket (rtnl.h), so of the network namespace
 * that qdisc_new ran in; or from recorded dumps (qdisc_decode). A dump holds a few qdiscs per
 * device; it is kept whole until it ends, because a qdisc's drops are its own or its children's
 * depending on the qdiscs that come after it. */
#ifndef DROPSCOPE_QDISC_H
#define DROPSCOPE_QDISC_H

#include <stddef.h>

#include "reading.h"

typedef struct qdisc qdisc_t;

/* Opens a NETLINK_ROUTE socket in the calling thread's network namespace.
 * NULL with the reason in err. */
qdisc_t *qdisc_new(char *err, size_t errsz);

/* Closes the socket; safe on NULL and twice, nulls *self_p. */
void qdisc_destroy(qdisc_t **self_p);

/* One RTM_GETQDISC dump of every qdisc in the socket's network namespace,
 * then one RTM_GETLINK dump for the interface names. Emits source "qdisc",
 * device "<ifname>:<handle>" with the handle printed as tc prints it (major
 * in hex, then ':': "va:10:", "va:1:", "lo:0:", "va:ffff:" for ingress or
 * clsact). A default qdisc below a class has handle 0 like all its siblings
 * (one per mq tx queue), so it is named by that class instead: "eth0:8001:3",
 * or "eth0::3" under the default mq 0:. Names, all counters:
 *   "drops"               a leaf qdisc's drops (no other qdisc hangs below it)
 *   "drops_incl_children" a qdisc with child qdiscs: its drops repeat theirs
 *   "overlimits", "requeues"  pressure, not drops
 *   "drops*", "overlimits", "requeues" are u32 in the kernel and wrap at 2^32
 *   "packets", "bytes"    sent by this qdisc, u64
 * instance = the ifindex, so that a re-created device restarts its series.
 * Qdiscs without statistics are skipped; handle-0 ones (noqueue, the mq
 * children) report them and are kept; so are malformed messages. Emission
 * is by ifindex, then in dump order. 0, or -1 with the reason in err and
 * nothing emitted. */
int qdisc_read(qdisc_t *self, reading_fn *emit, void *ctx, char *err, size_t errsz);

/* What qdisc_read emits, decoded from recorded bytes: [qdiscs, qdiscs +
 * qlen) holds the datagrams of an RTM_GETQDISC dump, [links, links + llen)
 * those of the RTM_GETLINK dump after it (as rtnl_collect keeps them; both
 * 4-byte aligned, as malloc'd buffers are). Any bytes are safe: every
 * length is checked, and a message that cannot be trusted is skipped and
 * counted, as is a message of the wrong type; both stop at NLMSG_DONE. A
 * qdisc of an interface that the links do not name is left out (it
 * vanished between the dumps), which is no problem. Pure but for a
 * temporary table it allocates. Returns the number of problems (0 =
 * clean) with the first in err ("" when none; err may be NULL when errsz
 * is 0), or -1 when out of memory (nothing emitted). */
int qdisc_decode(const void *qdiscs, size_t qlen, const void *links, size_t llen, reading_fn *emit,
                 void *ctx, char *err, size_t errsz);

#endif
