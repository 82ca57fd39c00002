"""Raw dropscope client for test_peer_bounds.sh, written from
proto/dropscope.proto alone (not the project's C codec; only the limits it
tests are taken from the aggregator's sources, named where they are
defined): two honest collectors send a batch every HONEST_INTERVAL all
along, while hostile peers, one phase after another, send
  1. batches of a million samples (CODEC_MAX_SAMPLES, the most a batch may
     hold): of undefined ids (ACK_NEED_DEFS); one sample more (ACK_REJECTED:
     too large); with their million definitions (a 37 MiB frame, over
     ZMQ_MAXMSGSIZE: the aggregator drops the connection, the DEALER
     reconnects and is answered); then a host filled to its series cap in
     two batches (65,536 definitions, CODEC_MAX_DEFS, then 34,464 more:
     ACK_STORED), one more definition with a million samples (ACK_REJECTED:
     the cap) and a million samples alone (ACK_NEED_DEFS);
  2. 10,000 bursts in one batch (ACK_STORED), then 10,001 (ACK_REJECTED);
  3. bursts dated an hour ahead from two hosts at the same times (stored,
     not correlated live: dropscope_limit_hits_total{limit="live_window"});
  4. wire id 2^20-1 from 1,000 new host names, each its own Hello and
     batch (stored), then new hosts beyond --max-hosts (refused with it).
Meanwhile /healthz is polled every 100 ms and the aggregator's VmRSS is
sampled every 100 ms. Every answer, latency and RSS figure is checked
against the bounds the test gives; all of them are reported.

usage: /usr/bin/python3 hostile_client.py ENDPOINT GEN_DIR SERVER PID MAX_HOSTS BOUNDS
  ENDPOINT   the aggregator's ZeroMQ endpoint (tcp://127.0.0.1:PORT)
  GEN_DIR    where protoc --python_out wrote dropscope_pb2.py
  SERVER     the aggregator's HTTP base URL
  PID        the aggregator's process id (for /proc/PID/status)
  MAX_HOSTS  the aggregator's --max-hosts
  BOUNDS     JSON: answer_s, oversize_s, wide_s, honest_ack_s, healthz_s, rss_mb, wide_rss_mb
             (seconds and MiB; test_peer_bounds.sh says what each is)

Run with Debian's /usr/bin/python3 (python3-zmq, python3-protobuf). Prints
one JSON line of measurements on stdout; every problem goes to stderr, and
the exit status is 1 when there was one.
"""
import json
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import zmq
from zmq.utils.monitor import recv_monitor_message

ENDPOINT, GEN_DIR, SERVER, PID = sys.argv[1:5]
MAX_HOSTS = int(sys.argv[5])
BOUNDS = json.loads(sys.argv[6])
sys.path.insert(0, GEN_DIR)
import dropscope_pb2 as pb  # noqa: E402  (generated at test time)

MS = 1_000_000
S = 1_000_000_000
MIB = 1 << 20
MAXMSGSIZE = 16 * MIB      # the aggregator's ZMQ_MAXMSGSIZE (aggregator/ingest.c)
MAX_ID = (1 << 20) - 1     # the largest wire id (proto/validate.c)
SERIES_CAP = 100_000       # STORE_MAX_SERIES_PER_HOST (aggregator/store.h)
MILLION = 1_000_000        # CODEC_MAX_SAMPLES: samples a batch may hold (proto/codec.h)
MAX_DEFS = 65_536          # CODEC_MAX_DEFS: definitions a batch may hold
BURSTS = 10_000            # CODEC_MAX_BURSTS: bursts a batch may hold
WIDE_HOSTS = 1_000
OVER_HOSTS = 20            # new hosts sent once the 1,000 are in, some beyond --max-hosts
AHEAD_BURSTS = 100         # per host, of two hosts
HONEST = {"honest-a": 7, "honest-b": 11}  # drops per batch after the baseline
HONEST_INTERVAL = 0.2      # s between honest batches
POLL = 0.1                 # s between /healthz requests, and between RSS samples
DRAIN = 0.5                # s of listening for extra acks once a phase's are in

COUNTER = dict(source="snmp", device="", name="Udp.RcvbufErrors", kind=pb.KIND_COUNTER,
               layer=pb.LAYER_SOCKET)
STATUS = {v: k for k, v in pb.AckStatus.items()}

errors = []
lock = threading.Lock()


def problem(text):
    with lock:
        errors.append(text)


# --- messages ---------------------------------------------------------------

class Peer:
    """One collector run: a host name, a boot id, an incarnation, seqs from 1."""

    def __init__(self, host):
        self.host, self.boot_id = host, str(uuid.uuid4())
        self.incarnation = random.getrandbits(63) | 1
        self.seq = 0

    def envelope(self):
        self.seq += 1
        return pb.Envelope(host=self.host, boot_id=self.boot_id, incarnation=self.incarnation,
                           seq=self.seq, sent_ns=time.time_ns())

    def hello(self):
        env = self.envelope()
        env.hello.CopyFrom(pb.Hello(collector_version="test_peer_bounds", kernel=os.uname().release,
                                    ncpus=1, backend="none", interval_ns=1000 * MS,
                                    started_ns=time.time_ns() - S))
        return env

    def batch(self, ts_ns=None):
        env = self.envelope()
        b = env.batch
        b.ts_ns = ts_ns or time.time_ns() - 10 * MS
        b.clock.CopyFrom(pb.Clock(offset_valid=False, synced=True, maxerror_ns=2 * MS,
                                  esterror_ns=MS))
        return env


def samples(b, ids, first=True):
    """Baseline samples (value 0, delta 0) of `ids`, columns of equal length."""
    n = len(ids)
    b.series.extend(ids)
    b.values.extend([0] * n)
    b.deltas.extend([0] * n)
    b.flags.extend([1 if first else 0] * n)


def defs(b, ids):
    for i in ids:
        b.defs.add(id=i, source="snmp", name=f"Hostile.C{i}", kind=pb.KIND_COUNTER,
                   layer=pb.LAYER_SOCKET)


def burst(start_ns, iface="eth0"):
    drops = [0] * (max(pb.Layer.values()) + 1)
    drops[pb.LAYER_SOCKET] = 3
    return pb.Burst(iface=iface, tx=False, start_ns=start_ns, end_ns=start_ns + MS,
                    peak_per_ms=400.0, packets=400, bytes=400 * 1200, threshold_per_ms=100,
                    drops=drops)


def raw(env):
    return env.SerializeToString()


# --- watchers: /healthz, RSS ------------------------------------------------

class Watch:
    """Polls /healthz and samples VmRSS every POLL s, by phase."""

    def __init__(self):
        self.phase = "start"
        self.stop = threading.Event()
        self.rss = {}        # phase -> peak MiB
        self.rss_first = None
        self.healthz = {}    # phase -> worst latency (s)
        self.healthz_n = 0
        self.bad = []        # (phase, code or error)

    def rss_mib(self):
        with open(f"/proc/{PID}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def rss_loop(self):
        while not self.stop.is_set():
            try:
                r = self.rss_mib()
            except OSError as e:
                problem(f"cannot read /proc/{PID}/status: {e} (did the aggregator exit?)")
                return
            if self.rss_first is None:
                self.rss_first = r
            self.rss[self.phase] = max(self.rss.get(self.phase, 0.0), r)
            self.stop.wait(POLL)

    def healthz_loop(self):
        while not self.stop.is_set():
            phase, t0 = self.phase, time.monotonic()
            try:
                with urllib.request.urlopen(SERVER + "/healthz", timeout=30) as r:
                    code = r.status
                    r.read()
            except urllib.error.HTTPError as e:
                code = e.code
            except Exception as e:  # noqa: BLE001  (a refused or timed-out request)
                code = repr(e)
            dt = time.monotonic() - t0
            self.healthz_n += 1
            self.healthz[phase] = max(self.healthz.get(phase, 0.0), dt)
            if code != 200:
                self.bad.append((phase, code))
            self.stop.wait(max(0.0, POLL - dt))

    def peak(self):
        return max(self.rss.values()) if self.rss else 0.0


# --- honest collectors ------------------------------------------------------

class Honest(threading.Thread):
    """A collector: Hello, then a batch every HONEST_INTERVAL (a drop counter
    that moves by `delta` a batch), one in flight, each ack awaited."""

    def __init__(self, ctx, watch, host, delta):
        super().__init__(daemon=True)
        self.watch, self.delta, self.peer = watch, delta, Peer(host)
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(ENDPOINT)
        self.stop = threading.Event()
        self.batches = 0
        self.worst = {}  # phase -> worst ack latency (s)

    def exchange(self, env):
        t0 = time.monotonic()
        phase = self.watch.phase
        self.sock.send(raw(env))
        timeout = 60.0
        while time.monotonic() - t0 < timeout:
            if not self.sock.poll(int((timeout - (time.monotonic() - t0)) * 1000) + 1):
                break
            reply = pb.Envelope.FromString(self.sock.recv())
            if reply.WhichOneof("body") != "ack" or reply.incarnation != env.incarnation or \
                    reply.ack.seq != env.seq:
                problem(f"{self.peer.host}: unexpected reply {reply}")
                continue
            dt = time.monotonic() - t0
            self.worst[phase] = max(self.worst.get(phase, 0.0), dt)
            if reply.ack.status != pb.ACK_STORED:
                problem(f"{self.peer.host} seq {env.seq}: {STATUS.get(reply.ack.status)} "
                        f"'{reply.ack.error}', expected ACK_STORED")
                return False
            return True
        problem(f"{self.peer.host} seq {env.seq}: no ack within {timeout:.0f} s (phase {phase})")
        return False

    def run(self):
        if not self.exchange(self.peer.hello()):
            return
        value, prev_ts = 1000, 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            env = self.peer.batch()
            b = env.batch
            first = self.batches == 0
            value += 0 if first else self.delta
            b.prev_ts_ns, b.full = prev_ts, first
            b.defs.add(id=1, **COUNTER)  # rides along in every batch, as until acked
            b.series.append(1)
            b.values.append(value)
            b.deltas.append(0 if first else self.delta)
            b.flags.append(1 if first else 0)
            if not self.exchange(env):
                return
            prev_ts = b.ts_ns
            self.batches += 1
            next_at += HONEST_INTERVAL
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def worst_ack(self):
        return max(self.worst.values()) if self.worst else 0.0


# --- hostile exchanges -------------------------------------------------------

def dealer(ctx):
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    s.sndhwm = s.rcvhwm = 0  # 2,000 messages and acks in flight at once
    s.connect(ENDPOINT)
    return s


def exchange(sock, envs, timeout):
    """Sends envs (Envelopes or (Envelope, bytes)) at once and collects their
    acks for at most `timeout` s, then DRAIN s more for extra ones. Returns
    {(incarnation, seq): (Ack, seconds after the first send)} and the time
    the last expected ack took."""
    want, t0 = set(), time.monotonic()
    for e in envs:
        env, data = e if isinstance(e, tuple) else (e, raw(e))
        want.add((env.incarnation, env.seq))
        sock.send(data, copy=False)
    got, last, deadline = {}, 0.0, t0 + timeout
    while True:
        now = time.monotonic()
        if want <= set(got):  # all in: listen a little longer for extra acks
            deadline = min(deadline, t0 + last + DRAIN)
        if now >= deadline:
            break
        if not sock.poll(int((deadline - now) * 1000) + 1):
            continue
        reply = pb.Envelope.FromString(sock.recv())
        key = (reply.incarnation, reply.ack.seq)
        dt = time.monotonic() - t0
        if reply.WhichOneof("body") != "ack" or key in got:
            problem(f"an unexpected or repeated reply: {reply}")
            continue
        got[key] = (reply.ack, dt)
        if key in want:
            last = max(last, dt)
    for key in want - set(got):
        problem(f"incarnation {key[0]:x} seq {key[1]}: no ack within {timeout} s")
    return got, last


def expect(got, env, status, word, what):
    a = got.get((env.incarnation, env.seq))
    if a is None:
        return  # already reported
    ack, _ = a
    if ack.status != status:
        problem(f"{what}: {STATUS.get(ack.status)} '{ack.error}', expected {STATUS[status]}")
    elif word and word not in ack.error:
        problem(f"{what}: the reason '{ack.error}' does not mention '{word}'")


def bounded(what, seconds, bound):
    if seconds > bound:
        problem(f"{what} took {seconds:.2f} s, above the bound {bound} s")
    return round(seconds, 3)


def metrics():
    with urllib.request.urlopen(SERVER + "/metrics", timeout=30) as r:
        out = {}
        for line in r.read().decode().splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v)
        return out


def host_count():
    with urllib.request.urlopen(SERVER + "/api/hosts", timeout=30) as r:
        return len(json.load(r))


# --- the phases ---------------------------------------------------------------

def million_batches(ctx, watch, built, out):
    """Phase 1: what a batch of a million samples gets, each way it can come."""
    watch.phase = "million"
    sock = dealer(ctx)
    answer = BOUNDS["answer_s"]
    undef, over, huge, maxed = built["peers"]

    def one(envs, status, word, what, key):
        got, t = exchange(sock, envs, answer * 2)
        for e in envs[:-1]:
            expect(got, e[0] if isinstance(e, tuple) else e, pb.ACK_STORED, "", what + ": before")
        last = envs[-1][0] if isinstance(envs[-1], tuple) else envs[-1]
        expect(got, last, status, word, what)
        out[key] = bounded(f"{what}: {STATUS[status]}", t, answer)
        return got

    def big(name):
        return built[name], built[name + "_raw"]

    # (a) a million samples of ids nobody defined
    one([undef.hello_env, big("undef")], pb.ACK_NEED_DEFS, "undefined",
        "1M samples of undefined ids", "need_defs_s")
    # (b) one sample more than a batch may hold (CODEC_MAX_SAMPLES)
    one([over.hello_env, big("over")], pb.ACK_REJECTED, "too large",
        "1,000,001 samples", "too_many_s")
    # (c) a million samples with their million definitions: a frame over
    # ZMQ_MAXMSGSIZE. ZeroMQ drops the connection on reading its size; the
    # DEALER reconnects by itself, and is answered.
    mon = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    t0 = time.monotonic()
    sock.send(built["huge_raw"], copy=False)
    dropped = None
    while time.monotonic() - t0 < BOUNDS["oversize_s"] * 2 and dropped is None:
        if mon.poll(100) and recv_monitor_message(mon)["event"] == zmq.EVENT_DISCONNECTED:
            dropped = time.monotonic() - t0
    if dropped is None:
        problem(f"a {len(built['huge_raw'])}-byte frame: the connection was not dropped")
        dropped = time.monotonic() - t0
    out["oversize_drop_s"] = bounded("a frame over 16 MiB: the connection dropped", dropped,
                                      BOUNDS["oversize_s"])
    sock.disable_monitor()
    mon.close(0)
    got = one([Peer("big-reconnect").hello()], pb.ACK_STORED, "",
              "the Hello after the frame over 16 MiB", "reconnect_s")
    if any(k[0] == huge.incarnation for k in got):
        problem("the frame over 16 MiB was acknowledged")
    # (d) the most series a host may have: a batch of the most definitions
    # one batch may carry (CODEC_MAX_DEFS), then the rest up to the cap,
    # then one more, with a million samples; then a million samples alone.
    one([maxed.hello_env, big("max1")], pb.ACK_STORED, "",
        f"{MAX_DEFS:,} defs + {MAX_DEFS:,} samples", "max_defs_s")
    one([big("max2")], pb.ACK_STORED, "",
        f"{SERIES_CAP - MAX_DEFS:,} defs more + {SERIES_CAP:,} samples", "series_cap_full_s")
    one([big("max3")], pb.ACK_REJECTED, f"{SERIES_CAP}",
        f"series {SERIES_CAP + 1:,} + 1M samples", "series_cap_s")
    one([big("max4")], pb.ACK_NEED_DEFS, str(SERIES_CAP + 1),
        f"1M samples, {SERIES_CAP:,} of them defined", "need_defs_known_s")
    out["frames_mib"] = {k: round(len(built[k + "_raw"]) / MIB, 1)
                         for k in ("undef", "over", "huge", "max1", "max2", "max3", "max4")}
    sock.close(0)


def many_bursts(ctx, watch, out):
    """Phase 2: 10,000 bursts in one batch, all within the live window; then
    one more than a batch may hold."""
    watch.phase = "bursts"
    sock = dealer(ctx)
    p = Peer("bursts-10k")
    hello = p.hello()
    env = p.batch()
    start = time.time_ns() - 15 * S  # 10 s of bursts, 1 ms apart, 5..15 s ago
    env.batch.bursts.extend(burst(start + i * MS) for i in range(BURSTS))
    data = raw(env)
    got, t = exchange(sock, [hello, (env, data)], BOUNDS["answer_s"] * 2)
    expect(got, hello, pb.ACK_STORED, "", "10,000 bursts: its host's Hello")
    expect(got, env, pb.ACK_STORED, "", "10,000 bursts in one batch")
    out["bursts_s"] = bounded("10,000 bursts in one batch: ACK_STORED", t, BOUNDS["answer_s"])
    out["bursts_mib"] = round(len(data) / MIB, 2)
    env = p.batch()  # at other times: none of them may be stored
    env.batch.bursts.extend(burst(start + i * MS + MS // 2) for i in range(BURSTS + 1))
    got, t = exchange(sock, [env], BOUNDS["answer_s"] * 2)
    expect(got, env, pb.ACK_REJECTED, f"{BURSTS}", "10,001 bursts in one batch")
    out["bursts_over_s"] = bounded("10,001 bursts in one batch: ACK_REJECTED", t,
                                   BOUNDS["answer_s"])
    sock.close(0)


def wide_hosts(ctx, watch, out):
    """Phase 3: wire id 2^20-1 from 1,000 new hosts, then hosts beyond --max-hosts."""
    watch.phase = "wide"
    before = host_count()
    room = MAX_HOSTS - before
    if room < WIDE_HOSTS:
        problem(f"--max-hosts {MAX_HOSTS} leaves room for {room} hosts, not {WIDE_HOSTS}")
    rss0 = watch.rss_mib()
    sock = dealer(ctx)
    peers = [Peer(f"wide-{i:04d}") for i in range(WIDE_HOSTS + OVER_HOSTS)]
    pairs = []
    for p in peers:
        env = p.batch()
        env.batch.defs.add(id=MAX_ID, **COUNTER)
        samples(env.batch, [MAX_ID])
        pairs.append((p.hello(), env))
    # The 1,000, all at once; then the rest, sent once those are in, so that
    # which are beyond --max-hosts is known: the first `room` hosts fit.
    got, t = exchange(sock, [e for pair in pairs[:WIDE_HOSTS] for e in pair],
                      BOUNDS["wide_s"] * 2)
    for i, (h, b) in enumerate(pairs[:WIDE_HOSTS]):
        expect(got, h, pb.ACK_STORED, "", f"wide-{i:04d} Hello")
        expect(got, b, pb.ACK_STORED, "", f"wide-{i:04d} batch of wire id {MAX_ID}")
    out["wide_s"] = bounded(f"1,000 new hosts with wire id {MAX_ID}: all ACK_STORED", t,
                            BOUNDS["wide_s"])
    rss1 = watch.rss_mib()
    out["wide_rss_growth_mib"] = round(rss1 - rss0, 1)
    if rss1 - rss0 > BOUNDS["wide_rss_mb"]:
        problem(f"1,000 hosts with wire id {MAX_ID} grew the RSS by {rss1 - rss0:.0f} MiB, above "
                f"the bound {BOUNDS['wide_rss_mb']} MiB")
    rest = pairs[WIDE_HOSTS:]
    got, t = exchange(sock, [e for pair in rest for e in pair], BOUNDS["answer_s"])
    fit = max(0, room - WIDE_HOSTS)
    stored = refused = 0
    for i, (h, b) in enumerate(rest):
        if i < fit:
            expect(got, h, pb.ACK_STORED, "", f"host {WIDE_HOSTS + i + 1} (within --max-hosts)")
            expect(got, b, pb.ACK_STORED, "", f"host {WIDE_HOSTS + i + 1}'s batch")
            stored += 1
        else:
            expect(got, h, pb.ACK_REJECTED, "--max-hosts", f"host {WIDE_HOSTS + i + 1} Hello")
            expect(got, b, pb.ACK_REJECTED, "--max-hosts", f"host {WIDE_HOSTS + i + 1} batch")
            refused += 1
    out["over_s"] = bounded("the hosts beyond --max-hosts: answered", t, BOUNDS["answer_s"])
    out["hosts_before_wide"], out["over_stored"], out["over_refused"] = before, stored, refused
    if refused == 0:
        problem(f"--max-hosts {MAX_HOSTS} left room for all {OVER_HOSTS} extra hosts")
    sock.close(0)


def ahead_bursts(ctx, watch, out):
    """Phase 4: bursts an hour ahead, from two hosts at the same times."""
    watch.phase = "ahead"
    sock = dealer(ctx)
    before = metrics()
    start = time.time_ns() + 3600 * S
    envs = []
    for host in ("ahead-a", "ahead-b"):
        p = Peer(host)
        env = p.batch()
        env.batch.bursts.extend(burst(start + i * 100 * MS) for i in range(AHEAD_BURSTS))
        envs += [p.hello(), env]
    got, t = exchange(sock, envs, BOUNDS["answer_s"] * 2)
    for env in envs:
        expect(got, env, pb.ACK_STORED, "", f"{env.host} {env.WhichOneof('body')} (an hour ahead)")
    out["ahead_s"] = bounded("bursts an hour ahead: ACK_STORED", t, BOUNDS["answer_s"])
    after = metrics()
    key = 'dropscope_limit_hits_total{limit="live_window"}'
    grew = after.get(key, 0) - before.get(key, 0)
    out["live_window_hits"] = int(grew)
    if grew != 2 * AHEAD_BURSTS:
        problem(f"{key} grew by {grew:.0f}, expected {2 * AHEAD_BURSTS} (the bursts an hour ahead)")
    sock.close(0)


def build():
    """The big frames, made before anything is measured (a million-element
    column takes the GIL for a while, which would stall the watchers)."""
    peers = [Peer(h) for h in ("big-undef", "big-over", "big-oversize", "big-max")]
    undef, over, huge, maxed = peers
    for p in (undef, over, maxed):
        p.hello_env = p.hello()
    column = pb.Batch()
    samples(column, range(1, MILLION + 1))
    built = {"peers": peers}

    def batch(name, peer, def_ids, sample_ids):
        env = peer.batch()
        defs(env.batch, def_ids)
        if sample_ids is column:
            env.batch.MergeFrom(column)
        else:
            samples(env.batch, sample_ids)
        built[name], built[name + "_raw"] = env, raw(env)

    batch("undef", undef, [], column)
    batch("over", over, [], range(1, MILLION + 2))
    batch("huge", huge, range(1, MILLION + 1), column)
    batch("max1", maxed, range(1, MAX_DEFS + 1), range(1, MAX_DEFS + 1))
    batch("max2", maxed, range(MAX_DEFS + 1, SERIES_CAP + 1), range(1, SERIES_CAP + 1))
    batch("max3", maxed, [SERIES_CAP + 1], column)
    batch("max4", maxed, [], column)
    assert len(built["huge_raw"]) > MAXMSGSIZE, len(built["huge_raw"])
    for k in ("undef", "over", "max1", "max2", "max3", "max4"):
        assert len(built[k + "_raw"]) < MAXMSGSIZE, (k, len(built[k + "_raw"]))
    return built


def main():
    t0 = time.monotonic()
    built = build()
    out = {"build_s": round(time.monotonic() - t0, 1)}
    ctx = zmq.Context()
    watch = Watch()
    watchers = [threading.Thread(target=watch.rss_loop, daemon=True),
                threading.Thread(target=watch.healthz_loop, daemon=True)]
    for w in watchers:
        w.start()
    honest = [Honest(ctx, watch, h, d) for h, d in HONEST.items()]
    for h in honest:
        h.start()
    time.sleep(1.0)  # the honest runs' first batches, and the RSS before anything hostile
    watch.phase = "baseline"
    time.sleep(0.5)
    for phase in (lambda: million_batches(ctx, watch, built, out),
                  lambda: many_bursts(ctx, watch, out),
                  lambda: ahead_bursts(ctx, watch, out),
                  lambda: wide_hosts(ctx, watch, out)):
        phase()
    watch.phase = "after"
    time.sleep(1.5)  # the honest clients go on being acknowledged
    for h in honest:
        h.stop.set()
    for h in honest:
        h.join(70)
        if h.is_alive():
            problem(f"{h.peer.host} did not finish (an ack outstanding)")
        h.sock.close(0)
    watch.stop.set()
    for w in watchers:
        w.join(40)

    out["rss_first_mib"] = round(watch.rss_first or 0, 1)
    out["rss_peak_mib"] = round(watch.peak(), 1)
    out["rss_by_phase_mib"] = {k: round(v, 1) for k, v in watch.rss.items()}
    if watch.peak() > BOUNDS["rss_mb"]:
        problem(f"the aggregator's VmRSS peaked at {watch.peak():.0f} MiB, above the bound "
                f"{BOUNDS['rss_mb']} MiB (by phase: {out['rss_by_phase_mib']})")
    worst_h = max(watch.healthz.values()) if watch.healthz else 0.0
    out["healthz_worst_s"] = round(worst_h, 3)
    out["healthz_by_phase_s"] = {k: round(v, 3) for k, v in watch.healthz.items()}
    out["healthz_requests"] = watch.healthz_n
    if watch.bad:
        problem(f"GET /healthz did not answer 200: {watch.bad[:5]} ({len(watch.bad)} in all)")
    if worst_h > BOUNDS["healthz_s"]:
        problem(f"GET /healthz took {worst_h:.2f} s, above the bound {BOUNDS['healthz_s']} s "
                f"(by phase: {out['healthz_by_phase_s']})")
    out["honest_batches"] = {h.peer.host: h.batches for h in honest}
    out["honest_deltas"] = HONEST
    out["honest_worst_ack_s"] = round(max(h.worst_ack() for h in honest), 3)
    out["honest_worst_by_phase_s"] = {
        k: round(max(h.worst.get(k, 0.0) for h in honest), 3)
        for k in sorted({k for h in honest for k in h.worst})}
    if out["honest_worst_ack_s"] > BOUNDS["honest_ack_s"]:
        problem(f"an honest batch waited {out['honest_worst_ack_s']} s for its ack, above the "
                f"bound {BOUNDS['honest_ack_s']} s (by phase: {out['honest_worst_by_phase_s']})")
    for h in honest:
        for phase in ("million", "bursts", "ahead", "wide", "after"):
            if phase not in h.worst:
                problem(f"{h.peer.host}: no batch acknowledged during phase {phase}")
    out["total_s"] = round(time.monotonic() - t0, 1)
    ctx.term()
    for e in errors:
        print(f"hostile_client: {e}", file=sys.stderr)
    print(json.dumps(out))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
