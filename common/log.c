/* log: stderr lines "2026-11-22T03:10:28.123Z program level: message", or,
 * when stderr is the journal's stream, "<6>program info: message": the
 * journal reads the priority from the prefix and keeps its own timestamp.
 * The limiter keeps a small fixed table of keys; when it is full the oldest
 * slot is reused, so a flood of distinct keys costs memory only once. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define LIMIT_SLOTS 128
#define LIMIT_KEY_MAX 96
#define LIMIT_PERIOD_S 60

typedef struct {
    char key[LIMIT_KEY_MAX]; /* "" when the slot is free */
    time_t last_print;       /* when this key last printed */
    unsigned long suppressed; /* occurrences since last_print not printed */
} limit_slot_t;

static const char *s_program = "dropscope";
/* Atomic: a reload (SIGHUP) changes it on one thread while others log. */
static _Atomic log_level_t s_min_level = LOGL_INFO;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static limit_slot_t s_slots[LIMIT_SLOTS];
static unsigned s_next_slot;

static const char *s_level_name[] = {"debug", "info", "warn", "error"};
static const int s_priority[] = {7, 6, 4, 3}; /* syslog's debug, info, warning, err */
static bool s_journal;                        /* stderr is the journal's stream */

/* Whether stderr is the stream systemd connected to the journal: it says
 * so in JOURNAL_STREAM ("device:inode"), which a child whose stderr was
 * redirected inherits too, so the descriptor itself must match. */
static bool s_stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    return env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
           (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *program, log_level_t min_level)
{
    s_program = program;
    s_min_level = min_level;
    s_journal = s_stderr_is_journal();
}

void log_set_level(log_level_t min_level)
{
    s_min_level = min_level;
}

static void s_vprint(log_level_t level, const char *suffix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void s_vprint(log_level_t level, const char *suffix, const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    if (s_journal) {
        fprintf(stderr, "<%d>%s %s: %s%s\n", s_priority[level], s_program, s_level_name[level],
                line, suffix);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %s %s: %s%s\n", stamp, ts.tv_nsec / 1000000, s_program,
            s_level_name[level], line, suffix);
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    if (level < s_min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    s_vprint(level, "", fmt, ap);
    va_end(ap);
}

static limit_slot_t *s_slot_for(const char *key)
{
    for (unsigned i = 0; i < LIMIT_SLOTS; i++)
        if (strncmp(s_slots[i].key, key, LIMIT_KEY_MAX - 1) == 0)
            return &s_slots[i];
    limit_slot_t *slot = &s_slots[s_next_slot++ % LIMIT_SLOTS];
    snprintf(slot->key, sizeof slot->key, "%s", key);
    slot->last_print = 0;
    slot->suppressed = 0;
    return slot;
}

bool log_limited(log_level_t level, const char *key, const char *fmt, ...)
{
    if (level < s_min_level)
        return false;
    time_t now = time(NULL);
    pthread_mutex_lock(&s_lock);
    limit_slot_t *slot = s_slot_for(key);
    bool print = slot->last_print == 0 || now - slot->last_print >= LIMIT_PERIOD_S;
    unsigned long suppressed = slot->suppressed;
    if (print) {
        slot->last_print = now;
        slot->suppressed = 0;
    } else {
        slot->suppressed++;
    }
    pthread_mutex_unlock(&s_lock);
    if (!print)
        return false;
    char suffix[80] = "";
    if (suppressed > 0)
        snprintf(suffix, sizeof suffix, " (and %lu more like it since the last report)", suppressed);
    va_list ap;
    va_start(ap, fmt);
    s_vprint(level, suffix, fmt, ap);
    va_end(ap);
    return true;
}
