/* agent: the collector's main loop. Every interval it reads a snapshot of
 * the slow-path counters, closes the sampler's rate histograms and sends a
 * Batch; when the sampler finishes bursts it takes an extra snapshot at the
 * end of their tail, attributes the drops of the snapshots around each
 * burst to it, and sends them at once. Replies (acks) are handled as they
 * come. */
#ifndef DROPSCOPE_AGENT_H
#define DROPSCOPE_AGENT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "probe.h"
#include "sampler.h"
#include "snapshot.h"

/* AUTO and EBPF try the eBPF backend first and fall back to netlink,
 * saying why in the log and in the Hello (backend_note). */
typedef enum { AGENT_BACKEND_NONE, AGENT_BACKEND_AUTO, AGENT_BACKEND_NETLINK, AGENT_BACKEND_EBPF } agent_backend_t;

#define AGENT_CLOCK_STEPS 4
#define AGENT_MAX_CONNECT 8 /* aggregators a collector can fail over between */
/* Messages waiting this long without an ack send the collector to the next
 * aggregator of its list (agent_opts_t.connect). */
#define AGENT_FAILOVER_NS (5 * INT64_C(1000000000))
/* ... doubled after each round of the list without one, up to this. */
#define AGENT_FAILOVER_MAX_NS (60 * INT64_C(1000000000))

/* TESTING ONLY: after running after_ns, the wall clock steps by by_ns. */
typedef struct {
    int64_t after_ns, by_ns;
} agent_clock_step_t;

/* A reload asked by SIGHUP (stop_take_reload), run on the agent's thread
 * between two snapshots. burst holds the --burst-threshold and --burst-gap
 * in use; what it leaves there, the sampler takes from its next tick. */
typedef void agent_reload_fn(void *ctx, sampler_opts_t *burst);

typedef struct {
    /* Aggregator endpoints: the first is used until messages wait
     * AGENT_FAILOVER_NS without an ack, then the next, round the list. */
    const char *connect[AGENT_MAX_CONNECT];
    size_t nconnect;
    const char *cert;       /* CurveZMQ keypair (PATH_secret); NULL = plain text */
    const char *server_cert; /* the aggregator's public certificate */
    const char *host;       /* host identity */
    snapshot_opts_t snap;
    int64_t interval_ns;
    int full_every;         /* every series every N intervals */
    const char *spool_dir;  /* NULL: no spool (a restart loses unacknowledged data) */
    uint64_t spool_size;    /* bytes */
    agent_backend_t backend; /* the fast path's backend */
    int64_t test_rtt_extra_ns; /* TESTING ONLY: added to every measured round trip */
    agent_clock_step_t test_clock_steps[AGENT_CLOCK_STEPS]; /* TESTING ONLY */
    int ntest_clock_steps;
    sampler_opts_t sampler;
    const probe_spec_t *probes; /* --probe: application-level receivers */
    size_t nprobes;
    agent_reload_fn *reload; /* on SIGHUP; NULL: a SIGHUP is ignored */
    void *reload_ctx;
} agent_opts_t;

/* Runs until *stop is set (0) or a fatal error (1, logged). Under systemd
 * it says READY=1 once the uplink is set up and the first snapshot sent,
 * keeps STATUS= and the watchdog fresh, and says STOPPING=1 at the end
 * (notify.h). */
int agent_run(const agent_opts_t *opts, volatile sig_atomic_t *stop);

/* The sampler on opts' backend (not AGENT_BACKEND_NONE). eBPF, asked for
 * or by default, falls back to netlink with the reason logged and put in
 * note (for the Hello); userspace polling below 1 ms costs a third of a
 * core, so a finer tick goes up to 1 ms then. NULL + err. */
sampler_t *agent_start_sampler(const agent_opts_t *opts, char *note, size_t notesz, char *err,
                               size_t errsz);

#endif
