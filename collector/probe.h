/* probe: an application-level receiver beside the host's counters
 * (--probe GROUP:PORT). It joins a multicast group (or binds a unicast
 * port), counts the datagrams that arrive and the gaps in the sequence
 * number each carries (gapseq), so that a loss the host's counters do not
 * show is seen too: it happened upstream. IPv4 only. The receiving runs in
 * a thread of its own (recvmmsg, a large SO_RCVBUF) so that a slow
 * snapshot never makes the probe drop; the agent takes the gaps and
 * counters with probe_take, through a mailbox under a mutex. */
#ifndef DROPSCOPE_PROBE_H
#define DROPSCOPE_PROBE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gapseq.h"

#define PROBE_MAX 16            /* --probe options */
#define PROBE_DATAGRAM 2048     /* bytes of each datagram read: OFFSET + LEN fit in it */
#define PROBE_RCVBUF (8u << 20) /* SO_RCVBUF asked for by default: ~8 MB */
#define PROBE_MAX_GAPS 100000   /* gaps waiting for the agent; more are counted, not kept */
#define PROBE_NAME_SIZE (INET_ADDRSTRLEN + 8) /* "GROUP:PORT" */

/* One --probe GROUP:PORT[,seq=OFFSET:LEN:be|le][,rcvbuf=BYTES]. */
typedef struct {
    char group[INET_ADDRSTRLEN]; /* dotted quad, as given */
    uint16_t port;
    bool multicast;     /* group is 224.0.0.0/4: joined; otherwise bound */
    size_t offset;      /* of the sequence number in the payload (default 0) */
    int len;            /* its bytes: 2, 4 or 8 (default 8) */
    bool little_endian; /* default big-endian (network order) */
    uint32_t rcvbuf;    /* SO_RCVBUF to ask for (default PROBE_RCVBUF) */
} probe_spec_t;

/* The accepted form, for --help and errors. */
#define PROBE_FORM "GROUP:PORT[,seq=OFFSET:LEN:be|le][,rcvbuf=BYTES]"

/* Parses one --probe value (pure). 0, or -1 with the reason in err, naming
 * the value and PROBE_FORM. */
int probe_parse(const char *text, probe_spec_t *spec, char *err, size_t errsz);

/* One gap of one probe. */
typedef struct {
    char group[INET_ADDRSTRLEN];
    uint16_t port;
    gapseq_gap_t gap;
} probe_gap_t;

/* A probe's counters since the collector started. */
typedef struct {
    char name[PROBE_NAME_SIZE]; /* "GROUP:PORT": the series' device */
    gapseq_counts_t counts;
    uint64_t short_datagrams; /* too short to hold the sequence number: not counted */
    uint64_t gaps_lost;       /* gaps the agent's mailbox had no room for (still in missing) */
} probe_stat_t;

typedef struct {
    probe_gap_t *gaps; /* oldest first */
    size_t ngaps;
    probe_stat_t stats[PROBE_MAX];
    size_t nstats;
} probe_report_t;

typedef struct probe probe_t;
/* Opens, joins or binds every probe and starts the thread. NULL with the
 * reason in err (naming the probe, the failing call and the fix). */
probe_t *probe_new(const probe_spec_t *specs, size_t n, char *err, size_t errsz);
/* Stops the thread, closes the sockets; safe on NULL and twice. */
void probe_destroy(probe_t **self_p);

/* The gaps reported since the last take (theirs now) and every probe's
 * counters. The caller frees it with probe_report_destroy; NULL when out
 * of memory (the gaps stay for the next take). */
probe_report_t *probe_take(probe_t *self);
void probe_report_destroy(probe_report_t **report_p);

#endif
