/* Tests collector/delivery over real ZeroMQ: a ROUTER socket in the test
 * stands in for the aggregator, reads what the uplink sends and answers it
 * (stored, rejected, need-defs), and the answers come back through the
 * uplink as the agent takes them. Checked: the window bound, resends when no
 * ack comes (for every delivery on a channel, with the backoff) and when
 * acks of newer messages pass older ones over, spool
 * files deleted on ack and on rejection, deferred messages released in
 * order, the memory bound and its loss counts, and the companion commit
 * with its crash recovery (a companion whose message reached the spool is
 * the truth; one whose message did not is discarded). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <czmq.h>

#include "delivery.h"
#include "report.h"
#include "testlib.h"
#include "ts.h"

#define QUIET_MS 300 /* nothing more arrives for this long: all that was sent is here */

typedef struct {
    char root[64];      /* the mkdtemp directory */
    char spool[96];     /* a spool inside it */
    char endpoint[128]; /* the ROUTER's ipc endpoint */
    zsock_t *router;    /* the aggregator */
    zframe_t *peer;     /* the identity of the uplink's connection */
    uplink_t *link;
    delivery_channel_t *channel;
    char log[96]; /* captured stderr */
    char err[512];
} fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/ds-delivery-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->spool, sizeof f->spool, "%s/spool", f->root);
    snprintf(f->endpoint, sizeof f->endpoint, "ipc://%s/agg.sock", f->root);
    snprintf(f->log, sizeof f->log, "%s/stderr.log", f->root);
    f->router = zsock_new(ZMQ_ROUTER);
    assert_non_null(f->router);
    assert_int_equal(zsock_bind(f->router, "%s", f->endpoint), 0);
    testlib_capture_stderr(f->log);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    testlib_restore_stderr();
    delivery_channel_destroy(&f->channel);
    uplink_destroy(&f->link);
    zframe_destroy(&f->peer);
    zsock_destroy(&f->router);
    testlib_sh("rm -rf %s", f->root);
    free(f);
    return 0;
}

/* The uplink and its channel: ZMQ_IMMEDIATE with a spool, as the collector
 * makes it, queueing without one, as dropscope-fleetsim does. */
static void s_connect(fixture_t *f, bool immediate)
{
    f->link = uplink_new(f->endpoint, NULL, immediate, f->err, sizeof f->err);
    assert_non_null(f->link);
    f->channel = delivery_channel_new(f->link);
    assert_non_null(f->channel);
}

static delivery_t *s_delivery(fixture_t *f, const delivery_opts_t *opts)
{
    delivery_t *d = delivery_new(f->channel, opts, f->err, sizeof f->err);
    if (!d)
        fail_msg("delivery_new: %s", f->err);
    return d;
}

/* A delivery with a spool or without, on a new uplink (s_connect). */
static delivery_t *s_connected(fixture_t *f, bool spooled)
{
    s_connect(f, spooled);
    delivery_opts_t opts = {.spool_dir = spooled ? f->spool : NULL,
                            .spool_size = DELIVERY_SPOOL_SIZE};
    return s_delivery(f, &opts);
}

/* Destroys *d_p, then its uplink and channel, for s_connected again. */
static void s_disconnect(fixture_t *f, delivery_t **d_p)
{
    delivery_destroy(d_p);
    delivery_channel_destroy(&f->channel);
    uplink_destroy(&f->link);
    zframe_destroy(&f->peer);
}

/* A real message (a Hello) of (incarnation, seq), handed to d with the
 * companion (a string, or NULL). */
static int s_send(delivery_t *d, uint64_t incarnation, uint64_t seq, uint32_t nsamples,
                  const char *companion)
{
    report_id_t id = {"web1", "boot", incarnation};
    hello_t hello = {"0.2.0", "6.12.0", "netlink", 4, 1000000000, 1, "", 0, NULL};
    uint8_t *buf;
    size_t n;
    char err[256];
    assert_int_equal(report_hello(&id, seq, &hello, &buf, &n, err, sizeof err), 0);
    int rc = delivery_send(d, incarnation, seq, nsamples, &buf, n, companion,
                           companion ? strlen(companion) : 0);
    assert_null(buf);
    return rc;
}

/* A message of len bytes that are not one (for one the spool refuses). */
static int s_send_raw(delivery_t *d, uint64_t incarnation, uint64_t seq, size_t len,
                      const char *companion)
{
    uint8_t *buf = calloc(1, len);
    assert_non_null(buf);
    int rc = delivery_send(d, incarnation, seq, 1, &buf, len, companion,
                           companion ? strlen(companion) : 0);
    assert_null(buf);
    return rc;
}

/* What the ROUTER received, in order, as incarnation * 1000 + seq, until
 * nothing more came for QUIET_MS (the deliveries in ds are ticked
 * meanwhile, as the agent's loop does). */
typedef struct {
    uint64_t got[256];
    size_t n;
} arrived_t;

static arrived_t s_take(fixture_t *f, delivery_t **ds, size_t nds)
{
    arrived_t a = {.n = 0};
    zsock_set_rcvtimeo(f->router, 10);
    int64_t quiet_since = ts_mono_ns();
    while (ts_mono_ns() - quiet_since < QUIET_MS * TS_NS_PER_MS) {
        for (size_t i = 0; i < nds; i++)
            delivery_tick(ds[i]);
        zmsg_t *m = zmsg_recv(f->router);
        if (!m)
            continue;
        zframe_t *peer = zmsg_pop(m), *body = zmsg_pop(m);
        char err[256];
        msg_t *msg = codec_decode(zframe_data(body), zframe_size(body), err, sizeof err);
        if (!msg)
            fail_msg("the ROUTER got an undecodable message: %s", err);
        assert_true(a.n < sizeof a.got / sizeof a.got[0]);
        a.got[a.n++] = msg->incarnation * 1000 + msg->seq;
        codec_msg_destroy(&msg);
        zframe_destroy(&f->peer);
        f->peer = peer;
        zframe_destroy(&body);
        zmsg_destroy(&m);
        quiet_since = ts_mono_ns();
    }
    return a;
}

static void s_expect_arrived(const arrived_t *a, const uint64_t *want, size_t n)
{
    for (size_t i = 0; i < a->n && i < n; i++)
        if (a->got[i] != want[i])
            fail_msg("message %zu to arrive was %llu, expected %llu", i,
                     (unsigned long long)a->got[i], (unsigned long long)want[i]);
    if (a->n != n)
        fail_msg("%zu messages arrived, expected %zu", a->n, n);
}

/* The ROUTER answers (incarnation, seq) as the aggregator does. */
static void s_reply(fixture_t *f, uint64_t incarnation, uint64_t seq, ack_status_t status)
{
    msg_t reply = {
        .host = "aggregator",
        .boot_id = "",
        .incarnation = incarnation,
        .type = MSG_TYPE_ACK,
        .ack = {.seq = seq, .status = status, .error = status == ACK_REJECTED ? "refused" : ""}};
    uint8_t *buf;
    size_t len;
    assert_int_equal(codec_encode(&reply, &buf, &len, f->err, sizeof f->err), 0);
    zframe_t *peer = zframe_dup(f->peer), *body = zframe_new(buf, len);
    free(buf);
    assert_int_equal(zframe_send(&peer, f->router, ZFRAME_MORE), 0);
    assert_int_equal(zframe_send(&body, f->router, 0), 0);
}

/* Takes n answers from the uplink and hands each to d as the agent does;
 * returns how many of them d said it held. */
static int s_answers(fixture_t *f, delivery_t *d, int n)
{
    int held = 0;
    int64_t deadline = ts_mono_ns() + 3 * TS_NS_PER_S;
    for (int got = 0; got < n;) {
        if (ts_mono_ns() > deadline)
            fail_msg("%d of %d answers came back", got, n);
        bool woken;
        msg_t *msg = uplink_recv(f->link, 50, -1, &woken);
        if (!msg)
            continue;
        assert_int_equal(msg->type, MSG_TYPE_ACK);
        switch (msg->ack.status) {
        case ACK_STORED: held += delivery_acked(d, msg->incarnation, msg->ack.seq); break;
        case ACK_REJECTED: held += delivery_rejected(d, msg->incarnation, msg->ack.seq); break;
        case ACK_NEED_DEFS: held += delivery_defer(d, msg->incarnation, msg->ack.seq); break;
        }
        codec_msg_destroy(&msg);
        got++;
    }
    return held;
}

/* --- the window ----------------------------------------------------------------------------- */

/* At most `window` messages are in flight, the oldest first; each ack lets
 * one more go. */
static void test_window(void **state)
{
    fixture_t *f = *state;
    s_connect(f, false);
    delivery_t *d = s_delivery(f, &(delivery_opts_t){.window = 4});
    for (uint64_t seq = 1; seq <= 10; seq++)
        assert_int_equal(s_send(d, 1, seq, (uint32_t)seq, NULL), 0);
    arrived_t a = s_take(f, &d, 1);
    s_expect_arrived(&a, (uint64_t[]){1001, 1002, 1003, 1004}, 4);
    assert_int_equal(delivery_held(d), 10);

    s_reply(f, 1, 2, ACK_STORED);
    s_reply(f, 1, 1, ACK_STORED);
    assert_int_equal(s_answers(f, d, 2), 2);
    a = s_take(f, &d, 1);
    s_expect_arrived(&a, (uint64_t[]){1005, 1006}, 2);
    assert_int_equal(delivery_held(d), 8);

    /* An ack of what is not held (a duplicate) changes nothing. */
    s_reply(f, 1, 2, ACK_STORED);
    assert_int_equal(s_answers(f, d, 1), 0);
    a = s_take(f, &d, 1);
    assert_int_equal(a.n, 0);

    for (uint64_t seq = 3; seq <= 6; seq++)
        s_reply(f, 1, seq, ACK_STORED);
    assert_int_equal(s_answers(f, d, 4), 4);
    a = s_take(f, &d, 1);
    s_expect_arrived(&a, (uint64_t[]){1007, 1008, 1009, 1010}, 4);
    for (uint64_t seq = 7; seq <= 10; seq++)
        s_reply(f, 1, seq, ACK_STORED);
    assert_int_equal(s_answers(f, d, 4), 4);
    assert_int_equal(delivery_held(d), 0);
    spool_stats_t st = delivery_stats(d);
    assert_int_equal(st.messages, 0);
    assert_int_equal(st.dropped_messages + st.rejected_messages, 0);
    delivery_destroy(&d);
    assert_int_equal(delivery_channel_stats(f->channel).resent, 0);
}

/* --- resends ---------------------------------------------------------------------------------- */

/* No ack for the first timeout (5 s): what is in flight on the channel goes
 * again, from the oldest, for every delivery on it; the timeout doubles, and
 * an ack brings it back to the first. */
static void test_resend(void **state)
{
    fixture_t *f = *state;
    s_connect(f, false);
    delivery_t *ds[2] = {s_delivery(f, &(delivery_opts_t){0}),
                         s_delivery(f, &(delivery_opts_t){0})};
    for (uint64_t seq = 1; seq <= 3; seq++)
        s_send(ds[0], 1, seq, 1, NULL);
    s_send(ds[1], 2, 1, 1, NULL);
    arrived_t a = s_take(f, ds, 2);
    s_expect_arrived(&a, (uint64_t[]){1001, 1002, 1003, 2001}, 4);
    int ms = delivery_tick(ds[0]);
    assert_in_range(ms, 1, 5001);

    int64_t sent = ts_mono_ns();
    while (delivery_channel_stats(f->channel).resent < 4) {
        assert_true(ts_mono_ns() - sent < 8 * TS_NS_PER_S);
        delivery_tick(ds[0]);
        delivery_tick(ds[1]);
        usleep(10000);
    }
    assert_true(ts_mono_ns() - sent > 4 * TS_NS_PER_S);
    a = s_take(f, ds, 2);
    s_expect_arrived(&a, (uint64_t[]){1001, 1002, 1003, 2001}, 4);
    assert_int_equal(delivery_channel_stats(f->channel).resent, 4);
    assert_in_range(delivery_tick(ds[0]), 9000, 10001); /* the next timeout: doubled */
    assert_int_equal(testlib_count_lines(f->log, "no acknowledgement for 5 s; sending the 4 "
                                                 "messages in flight again"),
                     1);

    /* An ack on the channel, for either delivery, starts the timer again from 5 s. */
    s_reply(f, 2, 1, ACK_STORED);
    assert_int_equal(s_answers(f, ds[1], 1), 1);
    assert_in_range(delivery_tick(ds[0]), 1, 5001);
    delivery_destroy(&ds[0]);
    delivery_destroy(&ds[1]);
}

/* Acks of newer messages that pass older ones over (the aggregator lost
 * them: a commit of theirs failed, the next one did not) keep the channel's
 * timer from ever going off while new messages are stored every 300 ms; the
 * passed over go again after the first timeout all the same, from the
 * oldest. With and without a spool. */
static void test_resend_skipped(void **state)
{
    fixture_t *f = *state;
    for (int spooled = 0; spooled < 2; spooled++) {
        delivery_t *d = s_connected(f, spooled);
        uint64_t inc = 5 + (uint64_t)spooled, seq;
        for (seq = 1; seq <= 3; seq++)
            s_send(d, inc, seq, 1, NULL);
        arrived_t a = s_take(f, &d, 1);
        s_expect_arrived(&a, (uint64_t[]){inc * 1000 + 1, inc * 1000 + 2, inc * 1000 + 3}, 3);
        s_reply(f, inc, 3, ACK_STORED); /* 1 and 2 were lost */
        assert_int_equal(s_answers(f, d, 1), 1);
        int64_t t0 = ts_mono_ns(), again = 0;
        while (!again) {
            assert_true(ts_mono_ns() - t0 < 8 * TS_NS_PER_S);
            s_send(d, inc, ++seq, 1, NULL);
            a = s_take(f, &d, 1);
            for (size_t i = 0; i < a.n; i++) {
                if (a.got[i] == inc * 1000 + 1 && !again) {
                    again = ts_mono_ns() - t0;
                    assert_true(i + 1 < a.n && a.got[i + 1] == inc * 1000 + 2);
                }
                s_reply(f, inc, a.got[i] - inc * 1000, ACK_STORED);
            }
            s_answers(f, d, (int)a.n);
        }
        assert_in_range(again, 5 * TS_NS_PER_S - 400 * TS_NS_PER_MS, 7 * TS_NS_PER_S);
        assert_int_equal(delivery_held(d), 0);
        assert_true(delivery_channel_stats(f->channel).resent >= 2);
        s_disconnect(f, &d);
    }
    /* logged once a minute */
    assert_int_equal(testlib_count_lines(f->log, "newer messages were acknowledged but older ones "
                                                 "not for 5 s"),
                     1);
}

/* --- the spool -------------------------------------------------------------------------------- */

/* The seqs of the messages in the spool directory, from the files themselves. */
static size_t s_spooled(const fixture_t *f, uint64_t *seqs, size_t max)
{
    size_t n = 0;
    DIR *d = opendir(f->spool);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 4 || strcmp(de->d_name + len - 4, ".msg") != 0)
            continue;
        char path[512], *buf;
        snprintf(path, sizeof path, "%s/%s", f->spool, de->d_name);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        buf = malloc(1 << 16);
        size_t got = fread(buf, 1, 1 << 16, fp);
        fclose(fp);
        spool_file_t file;
        const char *why;
        assert_int_equal(spool_parse_message((uint8_t *)buf, got, &file, &why), 0);
        assert_true(n < max);
        seqs[n++] = file.seq;
        free(buf);
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* ascending */
        for (size_t k = i; k > 0 && seqs[k - 1] > seqs[k]; k--) {
            uint64_t t = seqs[k];
            seqs[k] = seqs[k - 1];
            seqs[k - 1] = t;
        }
    return n;
}

static void s_expect_spooled(const fixture_t *f, const uint64_t *want, size_t n)
{
    uint64_t seqs[64];
    size_t got = s_spooled(f, seqs, 64);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(seqs[i], want[i]);
}

/* Each message has its file until the aggregator answers it for good:
 * stored, or rejected (then counted, with its samples). */
static void test_spool_files(void **state)
{
    fixture_t *f = *state;
    s_connect(f, true);
    delivery_opts_t opts = {.spool_dir = f->spool, .spool_size = DELIVERY_SPOOL_SIZE};
    delivery_t *d = s_delivery(f, &opts);
    for (uint64_t seq = 1; seq <= 3; seq++)
        s_send(d, 1, seq, (uint32_t)(10 * seq), NULL);
    s_expect_spooled(f, (uint64_t[]){1, 2, 3}, 3);
    arrived_t a = s_take(f, &d, 1);
    s_expect_arrived(&a, (uint64_t[]){1001, 1002, 1003}, 3);

    s_reply(f, 1, 2, ACK_STORED);
    assert_int_equal(s_answers(f, d, 1), 1);
    s_expect_spooled(f, (uint64_t[]){1, 3}, 2);
    s_reply(f, 1, 3, ACK_REJECTED);
    assert_int_equal(s_answers(f, d, 1), 1);
    s_expect_spooled(f, (uint64_t[]){1}, 1);
    spool_stats_t st = delivery_stats(d);
    assert_int_equal(st.rejected_messages, 1);
    assert_int_equal(st.rejected_samples, 30);
    assert_int_equal(delivery_held(d), 1);
    s_reply(f, 1, 1, ACK_STORED);
    assert_int_equal(s_answers(f, d, 1), 1);
    s_expect_spooled(f, NULL, 0);
    assert_int_equal(delivery_held(d), 0);
    delivery_destroy(&d);
}

/* --- deferral --------------------------------------------------------------------------------- */

/* NEED_DEFS keeps a message without sending it again; once released, the
 * deferred go again in their order, before what came after them. With and
 * without a spool. */
static void test_defer_release(void **state)
{
    fixture_t *f = *state;
    for (int spooled = 0; spooled < 2; spooled++) {
        delivery_t *d = s_connected(f, spooled);
        uint64_t inc = 3 + (uint64_t)spooled;
        for (uint64_t seq = 1; seq <= 4; seq++)
            s_send(d, inc, seq, 1, NULL);
        arrived_t a = s_take(f, &d, 1);
        assert_int_equal(a.n, 4);
        s_reply(f, inc, 1, ACK_STORED);
        s_reply(f, inc, 2, ACK_NEED_DEFS);
        s_reply(f, inc, 3, ACK_NEED_DEFS);
        s_reply(f, inc, 4, ACK_STORED);
        assert_int_equal(s_answers(f, d, 4), 4);
        assert_int_equal(delivery_held(d), 2);

        /* The batch with every definition goes; the deferred wait for it. */
        s_send(d, inc, 5, 1, NULL);
        a = s_take(f, &d, 1);
        s_expect_arrived(&a, (uint64_t[]){inc * 1000 + 5}, 1);
        assert_int_equal(delivery_defer(d, inc, 2), 0); /* deferred already */

        delivery_release(d);
        a = s_take(f, &d, 1);
        s_expect_arrived(&a, (uint64_t[]){inc * 1000 + 2, inc * 1000 + 3, inc * 1000 + 5}, 3);
        for (uint64_t seq = 2; seq <= 5; seq++)
            s_reply(f, inc, seq, ACK_STORED);
        assert_int_equal(s_answers(f, d, 4), 3); /* 4 was stored already */
        assert_int_equal(delivery_held(d), 0);
        s_disconnect(f, &d);
    }
}

/* --- without a spool: the memory bound -------------------------------------------------------- */

/* Held in memory at most memory_max: the oldest go, counted with their
 * samples, even one in flight (its late ack is then of nothing held); a
 * rejection is counted the same way. */
static void test_memory_bound(void **state)
{
    fixture_t *f = *state;
    s_connect(f, false);
    delivery_t *d = s_delivery(f, &(delivery_opts_t){.memory_max = 3, .window = 1});
    for (uint64_t seq = 1; seq <= 5; seq++)
        assert_int_equal(s_send(d, 1, seq, (uint32_t)(10 * seq), NULL), 0);
    assert_int_equal(delivery_held(d), 3);
    spool_stats_t st = delivery_stats(d);
    assert_int_equal(st.messages, 3);
    assert_int_equal(st.dropped_messages, 2);
    assert_int_equal(st.dropped_samples, 30);
    assert_int_equal(testlib_count_lines(f->log, "dropping the oldest"), 1);
    /* Each message dropped was in flight: the next went in its place. */
    arrived_t a = s_take(f, &d, 1);
    s_expect_arrived(&a, (uint64_t[]){1001, 1002, 1003}, 3);

    s_reply(f, 1, 1, ACK_STORED);
    s_reply(f, 1, 3, ACK_REJECTED);
    assert_int_equal(s_answers(f, d, 2), 1);
    st = delivery_stats(d);
    assert_int_equal(st.rejected_messages, 1);
    assert_int_equal(st.rejected_samples, 30);
    assert_int_equal(delivery_held(d), 2);
    a = s_take(f, &d, 1);
    s_expect_arrived(&a, (uint64_t[]){1004}, 1);
    assert_null(delivery_restore(d)); /* no companions without a spool */
    delivery_destroy(&d);
}

/* --- the companion ---------------------------------------------------------------------------- */

/* The whole of the file at dir/name, or NULL when there is none. */
static char *s_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void s_expect_file(const char *dir, const char *name, const char *want)
{
    char *got = s_file(dir, name);
    if (!want) {
        if (got)
            fail_msg("%s/%s exists, holding \"%s\"", dir, name, got);
        return;
    }
    if (!got)
        fail_msg("%s/%s does not exist", dir, name);
    assert_string_equal(got, want);
    free(got);
}

/* No commit in flight is left in the directory. */
static void s_expect_no_next(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strncmp(de->d_name, "state.", 6) == 0)
            fail_msg("%s/%s was left behind", dir, de->d_name);
    closedir(d);
}

/* The companion is committed with its message, and only with it; after a
 * crash, one whose message reached the spool is committed, one whose
 * message did not is discarded. */
static void test_companion(void **state)
{
    fixture_t *f = *state;
    s_connect(f, true);
    delivery_opts_t opts = {.spool_dir = f->spool, .spool_size = 4096};
    delivery_t *d = s_delivery(f, &opts);
    char want_path[256];
    snprintf(want_path, sizeof want_path, "%s/state", f->spool);
    assert_string_equal(delivery_restore(d), want_path);
    s_expect_file(f->spool, "state", NULL);

    assert_int_equal(s_send(d, 7, 1, 5, "alpha"), 0);
    s_expect_file(f->spool, "state", "alpha");
    assert_int_equal(s_send(d, 7, 2, 5, "beta"), 0);
    s_expect_file(f->spool, "state", "beta");
    assert_int_equal(s_send(d, 7, 3, 5, NULL), 0); /* a hello: no companion */
    s_expect_file(f->spool, "state", "beta");
    s_expect_no_next(f->spool);
    s_expect_spooled(f, (uint64_t[]){1, 2, 3}, 3);

    /* The spool cannot take the message: its companion is not committed. */
    assert_int_equal(s_send_raw(d, 7, 4, 5000, "gamma"), -1);
    s_expect_file(f->spool, "state", "beta");
    s_expect_no_next(f->spool);
    s_expect_spooled(f, (uint64_t[]){1, 2, 3}, 3);
    delivery_destroy(&d);

    /* A crash after spooling 2, before its companion was renamed; another
     * after writing the companion of 9, before spooling it; and the commit
     * in flight of a collector from before companions were named. */
    testlib_write(f->spool, "state.next.7.2", "beta, crashed");
    testlib_write(f->spool, "state.next.7.9", "never sent");
    testlib_write(f->spool, "state.next", "{\"boot_id\": \"old\"}");
    d = s_delivery(f, &opts);
    assert_string_equal(delivery_restore(d), want_path);
    s_expect_file(f->spool, "state", "beta, crashed");
    s_expect_no_next(f->spool);
    s_expect_spooled(f, (uint64_t[]){1, 2, 3}, 3);
    delivery_destroy(&d);

    /* A crash before any companion of the run: the last committed stays. */
    testlib_write(f->spool, "state.next.8.1", "not spooled");
    d = s_delivery(f, &opts);
    delivery_restore(d);
    s_expect_file(f->spool, "state", "beta, crashed");
    s_expect_no_next(f->spool);
    delivery_destroy(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_window, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_files, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_defer_release, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_memory_bound, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_companion, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_resend, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_resend_skipped, s_setup, s_teardown),
    };
    zsys_init();
    zsys_handler_set(NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
