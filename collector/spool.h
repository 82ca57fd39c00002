/* spool: the collector's on-disk queue of the messages the aggregator has not
 * acknowledged yet. Each message survives a crash or SIGKILL of the collector
 * and is sent again, in push order, until the aggregator acknowledges its
 * (incarnation, seq). The spool is bounded in bytes of message data: the
 * oldest messages make room for new ones, and that loss is counted (messages
 * and samples) across restarts so the collector can report it. One thread
 * owns a spool; it is not thread-safe. */
#ifndef DROPSCOPE_SPOOL_H
#define DROPSCOPE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct spool spool_t;

/* One held message, as spool_next hands it out. */
typedef struct {
    uint64_t incarnation, seq; /* the identity the aggregator acknowledges */
    uint32_t nsamples;         /* samples in the message, for loss accounting */
    const uint8_t *data;       /* the message bytes; borrowed, valid until the next spool call */
    size_t len;                /* bytes at data */
} spool_msg_t;

typedef struct {
    uint64_t messages, bytes;                   /* held now (bytes of message data) */
    uint64_t dropped_messages, dropped_samples; /* lost to the bound or to corruption,
                                                   cumulative across restarts */
    uint64_t rejected_messages, rejected_samples; /* refused by the aggregator (spool_reject),
                                                     cumulative across restarts */
    uint64_t file_syncs; /* fdatasyncs of message and counters files since spool_open */
    uint64_t dir_syncs;  /* fsyncs of the directory (spool_sync) since spool_open */
} spool_stats_t;

/* TESTING ONLY: when this variable is set in the environment, spool_open
 * makes a spool that never fsyncs (and says so), to measure what syncing
 * costs (tests/bench/bench_spool_fsync.sh). Not an option: without syncs a
 * power loss loses batches nobody acknowledged. */
#define SPOOL_NOSYNC_ENV "DROPSCOPE_TEST_SPOOL_NOSYNC"

/* Opens the spool in dir (created with mode 0700 if missing; its parent must
 * exist), bounded to max_bytes of message data, and locks it against a second
 * collector. Loads the messages already there in push order; deletes the
 * leftovers of an interrupted write; a corrupt or truncated message file is
 * logged, deleted and counted as dropped, and so are the oldest messages if
 * what is there exceeds max_bytes (a smaller --spool-size than last time).
 * Returns NULL with the reason, naming the path, in err. */
spool_t *spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errsz);

/* Closes the spool, leaving its messages on disk, synced (spool_sync; an
 * error is logged). Safe on NULL and twice; nulls *self_p. */
void spool_destroy(spool_t **self_p);

/* Appends a copy of the message (data is the caller's) durably against a
 * process crash: a crash leaves either the whole message or nothing; its
 * data is on the disk when this returns, and its name once spool_sync has
 * returned 0 (so that several pushes share that sync). Then
 * drops the oldest messages, handed out or not, while the data held exceeds
 * max_bytes. Returns 0, or -1 with the reason in err when the message is
 * larger than max_bytes or cannot be written; then nothing is dropped and the
 * spool holds what it held. */
int spool_push(spool_t *self, uint64_t incarnation, uint64_t seq, uint32_t nsamples,
               const uint8_t *data, size_t len, char *err, size_t errsz);

/* Makes durable what was renamed into place since the last successful
 * call (pushed messages, the counters file): one fsync of the directory,
 * none when nothing changed. Call once after a group of pushes, before
 * waiting. Deletions (acks) are not made durable: a message brought back by
 * a power loss is only sent again. 0, or -1 with the reason, naming the
 * directory, in err (the messages stay held and are sent; the next call
 * tries again). */
int spool_sync(spool_t *self, char *err, size_t errsz);

/* The oldest held message not handed out since the last spool_rewind (or
 * spool_open), now marked handed out; borrowed, valid until the next spool
 * call. NULL when none is left, or on an I/O error reading it (logged; the
 * message stays held). A message whose file turns out corrupt or missing is
 * logged, dropped, counted and skipped. */
const spool_msg_t *spool_next(spool_t *self);

/* Marks every held message as not handed out, so that spool_next starts again
 * from the oldest (to resend after a timeout or a reconnection). */
void spool_rewind(spool_t *self);

/* Deletes the message (incarnation, seq) if held; acks may come in any order.
 * Returns 1 if it was held, 0 if not (already acknowledged, dropped, or
 * unknown), -1 if its file could not be deleted (logged; the spool forgets it
 * anyway, so it would be sent again only after a restart). */
int spool_ack(spool_t *self, uint64_t incarnation, uint64_t seq);

/* How many messages pushed before (incarnation, seq) are in flight (handed
 * out, not acknowledged, not deferred); 0 when it is not held. */
size_t spool_in_flight_before(const spool_t *self, uint64_t incarnation, uint64_t seq);

/* Deletes the message (incarnation, seq), which the aggregator refused,
 * and counts it (and its samples) as rejected. 1 if it was held, 0 if not,
 * -1 if its file could not be deleted (logged; counted anyway). */
int spool_reject(spool_t *self, uint64_t incarnation, uint64_t seq);

/* Defers the message (incarnation, seq): spool_next skips it, and it is
 * not in flight, until spool_release_deferred. For a message the
 * aggregator cannot store yet (it lost our series definitions), to be sent
 * again after the definitions. Not kept across restarts. 1 if it was held
 * and not deferred already, else 0. */
int spool_defer(spool_t *self, uint64_t incarnation, uint64_t seq);

/* Lets every deferred message go, and rewinds (spool_rewind) so that they
 * are sent again in push order. */
void spool_release_deferred(spool_t *self);

/* True when a message with that identity is held. */
bool spool_holds(const spool_t *self, uint64_t incarnation, uint64_t seq);

spool_stats_t spool_stats(const spool_t *self);

/* How many held messages have been handed out and not acknowledged. */
size_t spool_in_flight(const spool_t *self);

/* --- the file formats, as pure parsers (no I/O; for the tests and fuzzing) */

#define SPOOL_HEADER_SIZE 48  /* bytes before a message file's data */
#define SPOOL_COUNTERS_MAX 95 /* bytes of the counters file that are looked at */

/* A message file as spool_parse_message sees it. */
typedef struct {
    uint64_t incarnation, seq; /* its identity */
    uint32_t nsamples;         /* samples in it */
    uint32_t len;              /* bytes of data the header announces */
    const uint8_t *data;       /* the data: points into the parsed buffer (borrowed);
                                  NULL unless the whole message is sound */
} spool_file_t;

/* Reads the header at the start of buf: 0 and *out filled (data NULL) when
 * its first SPOOL_HEADER_SIZE bytes are a sound header (magic, version,
 * header checksum), else -1 and *out zeroed. Tells how much file to read. */
int spool_parse_header(const uint8_t *buf, size_t len, spool_file_t *out);

/* Judges a whole message file, the len bytes at buf: 0 when it is a sound
 * header followed by exactly the data it announces, with a matching data
 * checksum; then *out is filled and out->data points at buf +
 * SPOOL_HEADER_SIZE. Else -1 with *why set to a borrowed static reason
 * ("bad header", "truncated or overlong", "data checksum mismatch"); the
 * header's fields stay in *out when the header itself was sound (its
 * nsamples can then be trusted for the loss count) and are zero when not. */
int spool_parse_message(const uint8_t *buf, size_t len, spool_file_t *out, const char **why);

/* Reads the loss counters file, the len bytes at text (no NUL needed; only
 * the first SPOOL_COUNTERS_MAX are looked at): "<dropped messages>
 * <samples> <rejected messages> <samples>", or the first two alone (a file
 * from before rejections were counted: none rejected). 0 with counts[]
 * filled, or -1 with counts[] zeroed when it holds neither. */
int spool_parse_counters(const char *text, size_t len, uint64_t counts[4]);

#endif
