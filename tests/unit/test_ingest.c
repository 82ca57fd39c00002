/* Tests aggregator/ingest over a real ZeroMQ socket and a real SQLite file:
 * hostile frames (garbage, truncated protobuf, unknown message type, extra
 * frames, an ack sent by a collector) are counted, logged once, and leave
 * no rows, while valid messages before and after them are stored and
 * acknowledged only after commit. */
#include <czmq.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"
#include "ingest.h"
#include "log.h"
#include "store.h"
#include "testlib.h"
#include "ts.h"

typedef struct {
    char dir[64], db[128], endpoint[160], logpath[128];
    store_t *store;
    ingest_t *ingest;
    stats_board_t *board; /* what ingest publishes */
    volatile sig_atomic_t stop;
    pthread_t thread;
    zsock_t *dealer;
} fixture_t;

/* What ingest last published: it publishes before it sends a group's
 * acks, and at least every 200 ms. */
static stats_t s_stats(fixture_t *f)
{
    stats_t s;
    stats_read(f->board, &s);
    return s;
}

static void *s_run(void *arg)
{
    fixture_t *f = arg;
    ingest_run(f->ingest, &f->stop);
    return NULL;
}

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ds-ingest-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/db.sqlite", f->dir);
    snprintf(f->endpoint, sizeof f->endpoint, "ipc://%s/agg.sock", f->dir);
    snprintf(f->logpath, sizeof f->logpath, "%s/stderr.log", f->dir);
    testlib_capture_stderr(f->logpath); /* to count log lines */
    char err[256];
    assert_non_null(f->store = store_open(f->db, true, err, sizeof err));
    assert_non_null(f->board = stats_board_new());
    assert_non_null(f->ingest = ingest_new(f->endpoint, NULL, f->store, f->board, err, sizeof err));
    assert_non_null(f->dealer = zsock_new_dealer(f->endpoint));
    zsock_set_rcvtimeo(f->dealer, 3000);
    *state = f;
    return 0;
}

static int s_setup_running(void **state)
{
    s_setup(state);
    fixture_t *f = *state;
    assert_int_equal(pthread_create(&f->thread, NULL, s_run, f), 0);
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    f->stop = 1;
    if (f->thread)
        pthread_join(f->thread, NULL);
    zsock_destroy(&f->dealer);
    ingest_destroy(&f->ingest);
    store_close(&f->store);
    stats_board_destroy(&f->board);
    testlib_restore_stderr();
    testlib_sh("rm -rf %s", f->dir);
    free(f);
    return 0;
}

static void s_send_raw(fixture_t *f, const void *data, size_t len)
{
    zframe_t *frame = zframe_new(data, len);
    assert_int_equal(zframe_send(&frame, f->dealer, 0), 0);
}

static void s_send(fixture_t *f, const msg_t *m)
{
    uint8_t *buf;
    size_t len;
    char err[256];
    assert_int_equal(codec_encode(m, &buf, &len, err, sizeof err), 0);
    s_send_raw(f, buf, len);
    free(buf);
}

/* Waits for the next ack and checks its seq and status. */
static void s_expect_ack(fixture_t *f, uint64_t seq, ack_status_t status)
{
    zframe_t *frame = zframe_recv(f->dealer);
    assert_non_null(frame);
    char err[256];
    msg_t *m = codec_decode(zframe_data(frame), zframe_size(frame), err, sizeof err);
    zframe_destroy(&frame);
    assert_non_null(m);
    assert_int_equal(m->type, MSG_TYPE_ACK);
    assert_int_equal(m->ack.seq, seq);
    assert_int_equal(m->ack.status, status);
    assert_true(m->ack.t2_ns > 0 && m->ack.t3_ns >= m->ack.t2_ns);
    assert_int_equal(m->ack.t1_ns, 1000 + (int64_t)seq);
    codec_msg_destroy(&m);
}

static void s_expect_silence(fixture_t *f)
{
    zsock_set_rcvtimeo(f->dealer, 300);
    zframe_t *frame = zframe_recv(f->dealer);
    assert_null(frame);
    zsock_set_rcvtimeo(f->dealer, 3000);
}

static const series_def_t s_def = {1, "snmp", "", "Udp.RcvbufErrors", KIND_COUNTER,
                                   LAYER_SOCKET, false, ""};

static msg_t s_batch(uint64_t seq, const uint64_t *value, const int64_t *delta)
{
    static const uint32_t ids[] = {1}, flags[] = {0};
    /* Near the aggregator's clock: times more than a day ahead or older
     * than the raw retention are refused. */
    static int64_t t0;
    if (!t0)
        t0 = ts_now_ns() - 60 * TS_NS_PER_S;
    int64_t ts = t0 + (int64_t)seq * 1000000000;
    return (msg_t){.host = "h1", .boot_id = "b", .incarnation = 5, .seq = seq,
                   .sent_ns = 1000 + (int64_t)seq, .type = MSG_TYPE_BATCH,
                   .batch = {ts, ts - 1000000000, false, 1, &s_def, 1, ids, value, delta, flags, 0, NULL, 0, 0, {0}, 0, 0, 0, NULL}};
}

static int64_t s_scalar(fixture_t *f, const char *sql)
{
    return testlib_sql_scalar(f->db, sql);
}

static int s_log_lines(fixture_t *f, const char *needle)
{
    return testlib_count_lines(f->logpath, needle);
}

static void test_valid_batches_acked_after_commit(void **state)
{
    fixture_t *f = *state;
    uint64_t v = 10;
    int64_t d = 10;
    msg_t m = s_batch(1, &v, &d);
    s_send(f, &m);
    s_expect_ack(f, 1, ACK_STORED);
    /* The ack means the row is committed: another connection sees it now. */
    assert_int_equal(s_scalar(f, "SELECT sum(delta) FROM drops"), 10);
    s_send(f, &m); /* a resend */
    s_expect_ack(f, 1, ACK_STORED);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM batches"), 1);
    assert_int_equal(s_stats(f).duplicates, 1);
    assert_int_equal(s_stats(f).samples_stored, 1);
}

static void test_hostile_frames(void **state)
{
    fixture_t *f = *state;
    uint64_t v = 10;
    int64_t d = 10;
    msg_t good = s_batch(1, &v, &d);
    s_send(f, &good);
    s_expect_ack(f, 1, ACK_STORED);

    /* Garbage, five times from the same peer: logged once. */
    for (int i = 0; i < 5; i++)
        s_send_raw(f, "\xff\xfe garbage \x00\x01", 14);
    /* A truncated protobuf. */
    uint8_t *buf;
    size_t len;
    char err[256];
    msg_t next = s_batch(2, &v, &d);
    assert_int_equal(codec_encode(&next, &buf, &len, err, sizeof err), 0);
    s_send_raw(f, buf, len / 2);
    free(buf);
    /* An unknown message type: host "h1", sent_ns 1011 (field 5), seq 11
     * (field 4), then field 20 (length-delimited). The envelope can be read,
     * so its refusal is acknowledged, with the reason. */
    static const uint8_t unknown[] = {0x0a, 0x02, 'h', '1', 0x20, 11, 0x28, 0xf3, 0x07,
                                      0xa2, 0x01, 0x01, 0x00};
    s_send_raw(f, unknown, sizeof unknown);
    s_expect_ack(f, 11, ACK_REJECTED);
    /* Two payload frames in one message. */
    zframe_t *a = zframe_new("a", 1), *b = zframe_new("b", 1);
    zframe_send(&a, f->dealer, ZFRAME_MORE);
    zframe_send(&b, f->dealer, 0);
    s_expect_silence(f);
    assert_int_equal(s_stats(f).decode_errors, 8);
    stats_t stats = s_stats(f);
    assert_int_equal(stats.npeers, 1); /* all from one ipc peer */
    assert_non_null(strstr(stats.peers[0].peer, "localhost")); /* ipc: localhost:uid:gid:pid */
    assert_int_equal(stats.peers[0].errors, 8);

    /* A collector must not send acks: a valid message, rejected. */
    msg_t ack = {.host = "h1", .seq = 9, .sent_ns = 1009, .type = MSG_TYPE_ACK};
    s_send(f, &ack);
    s_expect_ack(f, 9, ACK_REJECTED);
    /* A batch naming an undefined series. */
    next.batch.ndefs = 0;
    next.batch.series = (const uint32_t[]){7};
    s_send(f, &next);
    s_expect_ack(f, 2, ACK_NEED_DEFS);

    /* Still serving: the next valid batch is stored. */
    v = 25;
    d = 15;
    msg_t third = s_batch(3, &v, &d);
    s_send(f, &third);
    s_expect_ack(f, 3, ACK_STORED);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM batches"), 2);
    assert_int_equal(s_scalar(f, "SELECT sum(delta) FROM drops"), 25);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM hosts"), 1);
    assert_int_equal(s_stats(f).rejected, 1);
    assert_int_equal(s_stats(f).need_defs, 1);
    assert_int_equal(s_stats(f).batches, 2);
    /* Each kind of problem is logged once, naming what was wrong. */
    assert_int_equal(s_log_lines(f, "dropped a 14-byte frame"), 1);
    assert_int_equal(s_stats(f).rejected, 1); /* the codec's refusals are decode errors */
    assert_int_equal(s_log_lines(f, "truncated or malformed protobuf"), 1); /* garbage, too */
    assert_int_equal(s_log_lines(f, "unknown message type"), 1);
    assert_int_equal(s_log_lines(f, "expected exactly one payload frame"), 1);
    assert_int_equal(s_log_lines(f, "collectors do not send acks"), 1);
}

/* Poison among good messages received together (one group): each poison
 * is refused alone with the reason, every good one is stored and
 * acknowledged, and no group is rolled back. */
static void test_poison_refused_alone(void **state)
{
    fixture_t *f = *state;
    uint64_t v = 10;
    int64_t d = 10, huge = INT64_C(1) << 62;
    msg_t first = s_batch(1, &v, &d);
    s_send(f, &first);
    s_expect_ack(f, 1, ACK_STORED);
    burst_msg_t nan_burst = {.iface = "eth0", .peak_per_ms = NAN};
    for (uint64_t seq = 2; seq <= 7; seq++) {
        msg_t m = s_batch(seq, &v, seq == 5 ? &huge : &d);
        m.batch.ndefs = 0;
        if (seq == 3) {
            nan_burst.start_ns = nan_burst.end_ns = m.batch.ts_ns;
            m.batch.nbursts = 1;
            m.batch.bursts = &nan_burst;
        }
        if (seq == 7)
            m.host = "h1\xff";
        s_send(f, &m);
    }
    for (uint64_t seq = 2; seq <= 7; seq++)
        s_expect_ack(f, seq, seq == 3 || seq == 5 || seq == 7 ? ACK_REJECTED : ACK_STORED);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM batches"), 4);
    assert_int_equal(s_scalar(f, "SELECT sum(delta) FROM drops"), 40);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM bursts"), 0);
    assert_int_equal(s_scalar(f, "SELECT count(*) FROM hosts"), 1);
    assert_int_equal(s_stats(f).rejected, 3);
    assert_int_equal(s_stats(f).commit_failures, 0);
    assert_int_equal(s_log_lines(f, "peak_per_ms is nan"), 1);
    assert_int_equal(s_log_lines(f, "from host h1%FF"), 1); /* escaped in the log */
}

/* Rollups go on once the writer has nothing waiting, however large the
 * last group was: a fleet that falls silent after a backlog (a replay, a
 * site coming back) must not leave its minutes unrolled until it speaks. */
static void test_upkeep_after_a_large_last_group(void **state)
{
    fixture_t *f = *state;
    enum { N = 100 };                       /* more than a busy group (64) */
    int64_t t0 = ts_now_ns() - 600 * TS_NS_PER_S; /* minutes long complete */
    for (uint64_t seq = 1; seq <= N; seq++) {
        uint64_t v = seq;
        int64_t d = 1;
        msg_t m = s_batch(seq, &v, &d);
        m.batch.ts_ns = t0 + (int64_t)seq * TS_NS_PER_S;
        m.batch.prev_ts_ns = m.batch.ts_ns - TS_NS_PER_S;
        s_send(f, &m);
    }
    usleep(300 * 1000); /* all in the router's queue: the first group takes them all */
    store_retention_t r = STORE_RETENTION_DEFAULT;
    ingest_set_retention(f->ingest, &r);
    assert_int_equal(pthread_create(&f->thread, NULL, s_run, f), 0);
    for (uint64_t seq = 1; seq <= N; seq++) { /* the acks */
        zframe_t *ack = zframe_recv(f->dealer);
        assert_non_null(ack);
        zframe_destroy(&ack);
    }
    assert_int_equal(s_stats(f).group_messages, N);
    /* The writer rolls up a minute as the next begins; the last one, only
     * the upkeep can. */
    int64_t last = t0 + N * TS_NS_PER_S, rolled = 0;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM rollups WHERE step_s = 60 AND ts_ns = %" PRId64,
             last - last % (60 * TS_NS_PER_S));
    for (int i = 0; i < 100 && rolled == 0; i++) {
        usleep(50 * 1000);
        rolled = s_scalar(f, sql);
    }
    assert_int_equal(rolled, 1);
}

int main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_batches_acked_after_commit, s_setup_running,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_frames, s_setup_running, s_teardown),
        cmocka_unit_test_setup_teardown(test_poison_refused_alone, s_setup_running, s_teardown),
        cmocka_unit_test_setup_teardown(test_upkeep_after_a_large_last_group, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
