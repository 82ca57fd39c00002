/* stats: see stats.h. A copy of a few kilobytes under a mutex, a few
 * hundred times a second at most (once per group): nothing next to the
 * commit it follows. */
#include "stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stats_board {
    pthread_mutex_t lock;
    stats_t published;
    bool migrating;
    stats_migration_t migration;
};

const char *stats_limit_name(stats_limit_t limit)
{
    static const char *const names[STATS_LIMIT_COUNT] = {
        [STATS_LIMIT_SERIES] = "series_per_host", [STATS_LIMIT_HOSTS] = "hosts",
        [STATS_LIMIT_LIVE_WINDOW] = "live_window", [STATS_LIMIT_LIVE_FULL] = "live_bursts"};
    return limit < STATS_LIMIT_COUNT ? names[limit] : "unknown";
}

void stats_count_peer(stats_t *self, const char *peer)
{
    size_t i = 0;
    while (i < self->npeers && strcmp(self->peers[i].peer, peer) != 0)
        i++;
    if (i == self->npeers) {
        if (self->npeers == STATS_MAX_PEERS)
            peer = "other", i = STATS_MAX_PEERS - 1;
        else
            self->npeers++;
        snprintf(self->peers[i].peer, sizeof self->peers[i].peer, "%s", peer);
    }
    self->peers[i].errors++;
}

stats_board_t *stats_board_new(void)
{
    stats_board_t *self = calloc(1, sizeof *self);
    if (self)
        pthread_mutex_init(&self->lock, NULL);
    return self;
}

void stats_board_destroy(stats_board_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy(&(*self_p)->lock);
    free(*self_p);
    *self_p = NULL;
}

void stats_publish(stats_board_t *self, const stats_t *stats)
{
    pthread_mutex_lock(&self->lock);
    self->published = *stats;
    pthread_mutex_unlock(&self->lock);
}

void stats_read(stats_board_t *self, stats_t *out)
{
    pthread_mutex_lock(&self->lock);
    *out = self->published;
    pthread_mutex_unlock(&self->lock);
}

void stats_set_migration(stats_board_t *self, const stats_migration_t *m)
{
    pthread_mutex_lock(&self->lock);
    self->migrating = m != NULL;
    if (m)
        self->migration = *m;
    pthread_mutex_unlock(&self->lock);
}

bool stats_migration(stats_board_t *self, stats_migration_t *out)
{
    pthread_mutex_lock(&self->lock);
    bool migrating = self->migrating;
    if (migrating)
        *out = self->migration;
    pthread_mutex_unlock(&self->lock);
    return migrating;
}
