/* Tests aggregator/stats: the per-peer table stays bounded (peers beyond
 * STATS_MAX_PEERS share its last row, "other", and no count is lost), and a
 * reader on another thread only ever sees whole published copies, never a
 * copy torn between two publications. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"

static void test_peers_bounded(void **state)
{
    (void)state;
    stats_t s = {0};
    char peer[32];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < STATS_MAX_PEERS + 6; i++) {
            snprintf(peer, sizeof peer, "10.0.0.%d", i);
            stats_count_peer(&s, peer);
        }
    assert_int_equal(s.npeers, STATS_MAX_PEERS);
    for (int i = 0; i < STATS_MAX_PEERS - 1; i++) {
        snprintf(peer, sizeof peer, "10.0.0.%d", i);
        assert_string_equal(s.peers[i].peer, peer);
        assert_int_equal(s.peers[i].errors, 2);
    }
    /* The last named peer's first count, then everything beyond it. */
    assert_string_equal(s.peers[STATS_MAX_PEERS - 1].peer, "other");
    uint64_t total = 0;
    for (size_t i = 0; i < s.npeers; i++)
        total += s.peers[i].errors;
    assert_int_equal(total, 2 * (STATS_MAX_PEERS + 6));
}

static void test_limit_names(void **state)
{
    (void)state;
    assert_string_equal(stats_limit_name(STATS_LIMIT_SERIES), "series_per_host");
    assert_string_equal(stats_limit_name(STATS_LIMIT_HOSTS), "hosts");
    assert_string_equal(stats_limit_name(STATS_LIMIT_LIVE_WINDOW), "live_window");
    assert_string_equal(stats_limit_name(STATS_LIMIT_LIVE_FULL), "live_bursts");
    assert_string_equal(stats_limit_name(STATS_LIMIT_COUNT), "unknown");
}

#define PUBLISHES 20000

static void *s_publisher(void *arg)
{
    stats_board_t *board = arg;
    stats_t s = {0};
    for (uint64_t i = 1; i <= PUBLISHES; i++) {
        /* Fields that must agree within one copy. */
        s.messages = s.batches = s.commits = i;
        s.peers[STATS_MAX_PEERS - 1].errors = i;
        stats_publish(board, &s);
    }
    return NULL;
}

static void test_copies_whole(void **state)
{
    (void)state;
    stats_board_t *board = stats_board_new();
    assert_non_null(board);
    stats_t s;
    stats_read(board, &s);
    assert_int_equal(s.messages, 0); /* all zero before the first publication */
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, s_publisher, board), 0);
    uint64_t last = 0;
    do {
        stats_read(board, &s);
        assert_int_equal(s.batches, s.messages);
        assert_int_equal(s.commits, s.messages);
        assert_int_equal(s.peers[STATS_MAX_PEERS - 1].errors, s.messages);
        assert_true(s.messages >= last); /* never an older copy after a newer one */
        last = s.messages;
    } while (last < PUBLISHES);
    pthread_join(thread, NULL);
    stats_board_destroy(&board);
    assert_null(board);
    stats_board_destroy(&board); /* NULL-safe */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peers_bounded),
        cmocka_unit_test(test_limit_names),
        cmocka_unit_test(test_copies_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
