/* onload: parser for the output of `onload_stackdump lots`, the only view of
 * what Onload (kernel bypass) stacks drop: their sockets never show in
 * /proc/net/udp, Udp.RcvbufErrors or kfree_skb. Pure. */
#ifndef DROPSCOPE_ONLOAD_H
#define DROPSCOPE_ONLOAD_H

#include <stddef.h>

#include "reading.h"

/* Parses `onload_stackdump lots` (one or more stacks). Emits source "onload":
 *   device STACK (the stack's name, or its number when it has none):
 *     every ci_netif_stats counter (memory_pressure_drops, refill_rx_limited,
 *     udp_rx_no_match_drops, ...) and every numeric EF_* option of the config
 *     dump (settings: EF_MAX_PACKETS, EF_RXQ_SIZE, ...; negative values, which
 *     mean "automatic", are left out);
 *   device STACK:IFACE: rxq_size, the RX ring the stack posts on IFACE;
 *   device STACK:udp:ADDR:PORT (udp6:[ADDR]:PORT for IPv6): oflow_drop,
 *     mem_drop and rcvbuf of each UDP socket that has dropped (a busy stack
 *     has hundreds of quiet sockets, and a socket's counts never fall while
 *     it lives).
 * Readings carry an instance: the stack's number + 1, and for a socket the
 * stack's number + 1 in the high 32 bits and the socket's + 1 in the low
 * ones, so that a stack re-created under the same name is a restart.
 * Lines outside the sections it reads are skipped. A malformed line, and a
 * stack whose output ends before its statistics (a cut-short dump), are
 * problems. Returns the number of problems; err (may be NULL) gets the first
 * one, or "". */
int onload_parse(const char *buf, size_t len, reading_fn *emit, void *ctx, char *err, size_t errsz);

#endif
