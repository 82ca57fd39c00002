/* sockdiag: the UDP and TCP sockets of the collector's network namespace
 * through NETLINK_SOCK_DIAG (what `ss -m -i` reads): per socket the receive
 * queue, the buffer as granted (SO_RCVBUF), its drops and, for TCP, its
 * retransmissions and RTT. A pure decoder over dump bytes (recorded or
 * live), and the live reader that keeps the sockets that matter. When the
 * kernel refuses sock_diag, /proc/net/udp{,6} (sockets.h) is the fallback. */
#ifndef DROPSCOPE_SOCKDIAG_H
#define DROPSCOPE_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reading.h"
#include "rtnl.h"

#define SOCKDIAG_DEVICE_LEN 112 /* "tcp6:[v6]:65535-[v6]:65535" and a NUL */

/* One socket of a dump, as the kernel described it. */
typedef struct {
    char device[SOCKDIAG_DEVICE_LEN]; /* "udp:10.0.0.1:53", "udp6:[::1]:53",
                                         "tcp:10.0.0.1:22-10.0.0.2:40000" */
    bool tcp;
    uint8_t state;        /* TCP_ESTABLISHED, ... (UDP: 1 connected, 7 not) */
    uint64_t inode;       /* 0 for a socket no file holds (orphaned TCP) */
    uint32_t rqueue;      /* idiag_rqueue: bytes not read yet (UDP: sk_rmem_alloc
                             less the forward deficit; TCP: rcv_nxt - copied_seq) */
    bool has_mem;         /* INET_DIAG_SKMEMINFO was there */
    uint32_t rmem_alloc;  /* SK_MEMINFO_RMEM_ALLOC: buffer charged (truesize) */
    uint32_t rcvbuf;      /* SK_MEMINFO_RCVBUF: sk_rcvbuf, what getsockopt(SO_RCVBUF) says */
    uint32_t drops;       /* SK_MEMINFO_DROPS: sk_drops (0 before 3.x's field) */
    bool has_info;        /* TCP: INET_DIAG_INFO reached tcpi_total_retrans */
    uint32_t retrans;     /* tcpi_total_retrans: segments retransmitted in its life */
    uint32_t retransmits; /* tcpi_retransmits: timeouts in a row now */
    uint32_t backoff;     /* tcpi_backoff: the RTO's exponent now */
    uint32_t rtt_us;      /* tcpi_rtt: smoothed RTT */
} sockdiag_sock_t;

/* Receives one decoded socket (valid during the call only). */
typedef void(sockdiag_sock_fn)(void *ctx, const sockdiag_sock_t *s);

/* Decodes [buf, buf + len) (4-byte aligned: the datagrams of one
 * SOCK_DIAG_BY_FAMILY or TCPDIAG_GETSOCK dump, up to its NLMSG_DONE) of protocol `proto`
 * ("udp" or "tcp"; borrowed; the messages do not say), handing each socket
 * to fn. Pure. A message too short, of an unknown family or with a
 * malformed attribute is a problem and skipped. Returns the number of
 * problems; err (may be NULL when errsz is 0) gets the first one, or "". */
int sockdiag_decode(const void *buf, size_t len, const char *proto, sockdiag_sock_fn *fn, void *ctx,
                    char *err, size_t errsz);

/* True for a socket worth a series: it dropped, it is retransmitting after
 * a timeout or probing a zero window (TCP: in backoff now), or its queue
 * holds at least half its buffer (see sockdiag.c). Pure. */
bool sockdiag_matters(const sockdiag_sock_t *s);

/* Emits s's readings, source "sock", device s->device, instance s->inode:
 * drops, rx_queue, rcvbuf, and for TCP retrans and rtt_us (those the dump
 * carried). Pure. */
void sockdiag_emit(const sockdiag_sock_t *s, reading_fn *emit, void *ctx);

typedef struct sockdiag sockdiag_t;

/* Opens a NETLINK_SOCK_DIAG socket in the calling thread's network
 * namespace. NULL with the reason in err. */
sockdiag_t *sockdiag_new(char *err, size_t errsz);
void sockdiag_destroy(sockdiag_t **self_p);

/* What sockdiag_read returns. */
enum {
    SOCKDIAG_OK = 0,           /* every dump read: a socket not emitted has no series */
    SOCKDIAG_RETRY = -1,       /* a dump failed this time (err): retry next interval */
    SOCKDIAG_UNAVAILABLE = -2, /* the kernel refuses sock_diag (EPERM, EOPNOTSUPP, no
                                  udp_diag or tcp_diag module: err): use the fallback */
};

/* Dumps UDP (IPv4, IPv6) and TCP (both at once), and emits (sockdiag_emit) every socket
 * that matters now or has mattered since it was opened: once a socket is a
 * series it stays one while it lives. Returns SOCKDIAG_OK, _RETRY or
 * _UNAVAILABLE; on _RETRY the sockets kept stay kept. *sockets (may be
 * NULL) gets the number of sockets listed. */
int sockdiag_read(sockdiag_t *self, reading_fn *emit, void *ctx, size_t *sockets, char *err,
                  size_t errsz);

/* Appends the raw datagrams of the dump sockdiag_read makes of family
 * (AF_INET, AF_INET6; ignored for TCP, whose one dump lists both) and
 * protocol (IPPROTO_UDP, IPPROTO_TCP) to *out, for
 * recordings (tests/tools/sockdiag_record). SOCKDIAG_OK, _RETRY or
 * _UNAVAILABLE, with the reason in err. */
int sockdiag_collect(sockdiag_t *self, int family, int protocol, rtnl_bytes_t *out, char *err,
                     size_t errsz);

#endif
