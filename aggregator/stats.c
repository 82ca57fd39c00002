/* stats: see stats.h. A copy of a few kilobytes under a mutex, a few
 * hundred times a second at most (once per group): nothing next to the
 * commit it follows. The fleet's counters have a lock of their own: a
 * scrape's copy of 10,000 hosts (about 10 MB, a few ms) does not hold up
 * the publishing of stats. */
#include "stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "strmap.h"

struct stats_board {
    pthread_mutex_t lock;
    stats_t published;
    bool migrating;
    stats_migration_t migration;
    pthread_mutex_t fleet_lock; /* guards what follows */
    strmap_t *fleet_index;      /* host name -> its index in fleet, plus one */
    store_tally_t *fleet;       /* every host's counters since they were restored */
    size_t nfleet, capfleet;
    store_tally_t fleet_total; /* their path counters summed (the rest unused) */
    stats_alerts_t alerts;     /* the alert senders' counters (under lock) */
};

const double stats_commit_bounds[STATS_COMMIT_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   1e300 /* +Inf */};

const char *stats_limit_name(stats_limit_t limit)
{
    static const char *const names[STATS_LIMIT_COUNT] = {[STATS_LIMIT_SERIES] = "series_per_host",
                                                         [STATS_LIMIT_HOSTS] = "hosts",
                                                         [STATS_LIMIT_LIVE_WINDOW] = "live_window",
                                                         [STATS_LIMIT_LIVE_FULL] = "live_bursts"};
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

void stats_observe_commit(stats_t *self, int64_t ns)
{
    double s = (double)ns / 1e9;
    int i = 0;
    while (i < STATS_COMMIT_BUCKETS - 1 && s > stats_commit_bounds[i])
        i++;
    self->commit_le[i]++;
    self->commit_ns += ns > 0 ? (uint64_t)ns : 0;
}

stats_board_t *stats_board_new(void)
{
    stats_board_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (!(self->fleet_index = strmap_new())) {
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_mutex_init(&self->fleet_lock, NULL);
    return self;
}

void stats_board_destroy(stats_board_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy(&(*self_p)->lock);
    pthread_mutex_destroy(&(*self_p)->fleet_lock);
    strmap_destroy(&(*self_p)->fleet_index);
    free((*self_p)->fleet);
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

/* The index of host's counters, added (zero) when new; -1 out of memory. */
static long s_fleet_host(stats_board_t *self, const char *host)
{
    uintptr_t ix = (uintptr_t)strmap_get(self->fleet_index, host);
    if (ix)
        return (long)ix - 1;
    store_tally_t *grown = grow(self->fleet, self->nfleet + 1, &self->capfleet, sizeof *grown, 64);
    if (!grown)
        return -1;
    self->fleet = grown;
    if (strmap_put(self->fleet_index, host, (void *)(uintptr_t)(self->nfleet + 1)) != 0)
        return -1;
    memset(&grown[self->nfleet], 0, sizeof *grown);
    snprintf(grown[self->nfleet].host, sizeof grown->host, "%s", host);
    return (long)self->nfleet++;
}

int stats_fleet_add(stats_board_t *self, const store_tally_t *t)
{
    pthread_mutex_lock(&self->fleet_lock);
    long ix = s_fleet_host(self, t->host);
    if (ix >= 0) {
        store_tally_add(&self->fleet[ix], t);
        for (int l = 0; l < LAYER_COUNT; l++)
            self->fleet_total.path[l] += t->path[l];
    }
    pthread_mutex_unlock(&self->fleet_lock);
    return ix >= 0 ? 0 : -1;
}

size_t stats_fleet_copy(stats_board_t *self, store_tally_t **hosts)
{
    pthread_mutex_lock(&self->fleet_lock);
    size_t n = self->nfleet;
    *hosts = n ? malloc(n * sizeof **hosts) : NULL;
    if (*hosts)
        memcpy(*hosts, self->fleet, n * sizeof **hosts);
    pthread_mutex_unlock(&self->fleet_lock);
    return *hosts ? n : 0;
}

void stats_fleet_total(stats_board_t *self, store_tally_t *total)
{
    pthread_mutex_lock(&self->fleet_lock);
    *total = self->fleet_total;
    pthread_mutex_unlock(&self->fleet_lock);
}

void stats_alerts_add(stats_board_t *self, const stats_alerts_t *d)
{
    pthread_mutex_lock(&self->lock);
    for (int r = 0; r < STATS_ALERT_RECEIVERS; r++) {
        self->alerts.sent[r] += d->sent[r];
        self->alerts.failed[r] += d->failed[r];
    }
    self->alerts.dropped += d->dropped;
    pthread_mutex_unlock(&self->lock);
}

void stats_alerts_read(stats_board_t *self, stats_alerts_t *out)
{
    pthread_mutex_lock(&self->lock);
    *out = self->alerts;
    pthread_mutex_unlock(&self->lock);
}
