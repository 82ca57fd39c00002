"""Raw dropscope client for test_poison.sh, written from proto/dropscope.proto
alone (not the project's C codec): two honest collectors and one poison
client on DEALER sockets, all sending at once, so that the poison lands in
the same commit groups as the honest messages. Checks every ack it gets.

usage: /usr/bin/python3 poison_client.py ENDPOINT GEN_DIR SERVER
  ENDPOINT  the aggregator's ZeroMQ endpoint (tcp://127.0.0.1:PORT)
  GEN_DIR   where protoc --python_out wrote dropscope_pb2.py
  SERVER    the aggregator's HTTP base URL, for /healthz during the run

Run with Debian's /usr/bin/python3: it needs python3-zmq and python3-protobuf,
which another python3 on PATH (pyenv, a venv) does not see. Prints one JSON
line of counts on stdout; every problem goes to stderr, and the exit status
is 1 when there was one.
"""
import json
import math
import os
import random
import subprocess
import sys
import threading
import time
import uuid

import zmq
from zmq.utils.monitor import recv_monitor_message

ENDPOINT, GEN_DIR, SERVER = sys.argv[1:4]
sys.path.insert(0, GEN_DIR)
import dropscope_pb2 as pb  # noqa: E402  (generated at test time)

BATCHES = 20          # per honest client, after its Hello
DELTAS = {"honest-a": 7, "honest-b": 11}  # drops per batch after the baseline
CONNECT_TIMEOUT = 15  # s, for the three handshakes
ACK_TIMEOUT = 30      # s, for every expected ack
LINGER_AFTER = 0.5    # s of listening for extra acks once all are in

NOW = time.time_ns()
MS = 1_000_000
S = 1_000_000_000

COUNTER = dict(id=1, source="snmp", device="", name="Udp.RcvbufErrors",
               kind=pb.KIND_COUNTER, layer=pb.LAYER_SOCKET)
SETTING = dict(id=2, source="sysctl", device="", name="net.core.rmem_max",
               kind=pb.KIND_SETTING, layer=pb.LAYER_CONFIG)
RMEM_MAX = 212992


def envelope(client, seq):
    return pb.Envelope(host=client["host"], boot_id=client["boot_id"],
                       incarnation=client["incarnation"], seq=seq, sent_ns=time.time_ns())


def clock():
    return pb.Clock(offset_valid=False, synced=True, maxerror_ns=2 * MS, esterror_ns=MS)


def burst(end_ns, peak=42.5):
    drops = [0] * (max(pb.Layer.values()) + 1)  # by Layer number
    drops[pb.LAYER_SOCKET] = 3
    return pb.Burst(iface="eth0", tx=False, start_ns=end_ns - 400 * MS, end_ns=end_ns,
                    peak_per_ms=peak, packets=5000, bytes=5000 * 1200, threshold_per_ms=10,
                    drops=drops)


def new_client(host):
    return {"host": host, "boot_id": str(uuid.uuid4()),
            "incarnation": random.getrandbits(63) | 1, "next_seq": 1, "messages": []}


def add(client, env_or_bytes, label, expect, word=None):
    """Queues a message; expect is "stored", "rejected" or None (no ack)."""
    raw = env_or_bytes if isinstance(env_or_bytes, bytes) else env_or_bytes.SerializeToString()
    seq = None
    if expect is not None:
        seq = client["next_seq"]
        client["next_seq"] += 1
    client["messages"].append({"seq": seq, "label": label, "raw": raw, "expect": expect,
                               "word": word})


def seq_of(client):
    return client["next_seq"]


def honest(host):
    """A Hello, then BATCHES batches 100 ms apart ending 1 s ago: a drop
    counter (baseline first, then DELTAS[host] a batch), a setting, and a
    burst every fifth batch. Every batch carries both definitions: nothing
    is acknowledged before everything is sent."""
    c = new_client(host)
    hello = envelope(c, seq_of(c))
    hello.hello.CopyFrom(pb.Hello(collector_version="test_poison", kernel=os.uname().release,
                                  ncpus=os.cpu_count() or 1, backend="none",
                                  interval_ns=100 * MS, started_ns=NOW - 3 * S))
    add(c, hello, "hello", "stored")
    delta, value, prev_ts = DELTAS[host], 1000, 0
    for k in range(BATCHES):
        ts = NOW - S - (BATCHES - 1 - k) * 100 * MS
        first = k == 0
        value += 0 if first else delta
        env = envelope(c, seq_of(c))
        b = env.batch
        b.ts_ns, b.prev_ts_ns, b.full = ts, prev_ts, first
        b.defs.extend([pb.SeriesDef(**COUNTER), pb.SeriesDef(**SETTING)])
        b.series.extend([1, 2])
        b.values.extend([value, RMEM_MAX])
        b.deltas.extend([0 if first else delta, 0])
        b.flags.extend([1, 1] if first else [0, 0])
        if k % 5 == 4:
            b.bursts.append(burst(ts - 100 * MS))
        b.clock.CopyFrom(clock())
        add(c, env, f"batch {k + 1}", "stored")
        prev_ts = ts
    return c


def good_batch(c):
    """A batch of the poison client that is valid until one thing is changed."""
    env = envelope(c, seq_of(c))
    b = env.batch
    b.ts_ns, b.prev_ts_ns = NOW - S, 0
    b.defs.extend([pb.SeriesDef(**COUNTER), pb.SeriesDef(**SETTING)])
    b.series.extend([1, 2])
    b.values.extend([1000, RMEM_MAX])
    b.deltas.extend([0, 0])
    b.flags.extend([1, 1])
    b.clock.CopyFrom(clock())
    return env


def varint(n):
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def length_delimited(number, payload):
    """One field of wire type 2 (string, bytes, embedded message)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def poison():
    c = new_client("poison")
    # (a) a burst whose peak is not a number
    env = good_batch(c)
    env.batch.bursts.append(burst(NOW - S, peak=math.nan))
    add(c, env, "(a) burst peak_per_ms NaN", "rejected", "peak_per_ms")
    # (b) one setting sampled twice, with two values
    env = good_batch(c)
    b = env.batch
    for col in (b.series, b.values, b.deltas, b.flags):
        del col[:]
    b.series.extend([1, 2, 2])
    b.values.extend([1000, RMEM_MAX, 2 * RMEM_MAX])
    b.deltas.extend([0, 0, 0])
    b.flags.extend([1, 1, 1])
    add(c, env, "(b) setting sampled twice", "rejected", "series id")
    # (c) a drop counter that moved by 2^62 in an interval
    env = good_batch(c)
    env.batch.prev_ts_ns = env.batch.ts_ns - 100 * MS
    env.batch.values[0], env.batch.deltas[0], env.batch.flags[0] = 1000 + 2**62, 2**62, 0
    add(c, env, "(c) delta 2^62", "rejected", "delta")
    # (d) a batch from the year 2200 (2200-01-01T00:00:00Z)
    env = good_batch(c)
    env.batch.ts_ns = 7258118400 * S
    add(c, env, "(d) ts_ns in 2200", "rejected", "ahead")
    # (g) a frame that is not protobuf at all: no ack (the aggregator cannot
    # read a seq from it), only counted; sent amid the others.
    add(c, b"\xff\xff\xff\xff not a dropscope envelope \xff\xff", "(g) not protobuf", None)
    # (e) invalid UTF-8 in a SeriesDef name. Python protobuf refuses to
    # serialize (or even hold) a `string` that is not UTF-8, so this message
    # is put together from wire fields: each level is serialized by protobuf
    # without the part that holds the bad string, and that part is appended
    # by hand as a length-delimited field (tag = number << 3 | 2, varint
    # length, bytes). Protobuf parsers accept fields in any order, and the
    # appended def is the batch's only one, so nothing else changes:
    #   SeriesDef = SeriesDef(id, source, kind, layer) + name (field 4)
    #   Batch     = Batch(ts, samples, clock)          + that def (defs, field 4)
    #   Envelope  = Envelope(host, seq, ...)           + that batch (batch, field 11)
    env = good_batch(c)
    batch = env.batch
    del batch.defs[:]
    for col in (batch.series, batch.values, batch.deltas, batch.flags):
        del col[1:]  # the counter only: it is the one defined
    batch_ts_ns, batch_wire = batch.ts_ns, batch.SerializeToString()
    env.ClearField("batch")
    env_wire = env.SerializeToString()
    def_wire = pb.SeriesDef(**{k: v for k, v in COUNTER.items() if k != "name"}).SerializeToString()

    def with_name(name):
        def_raw = def_wire + length_delimited(4, name)
        return env_wire + length_delimited(11, batch_wire + length_delimited(4, def_raw))

    raw = with_name(b"Udp.Rcvbuf\xff\xfeErrors")
    # Proof that the hand-made bytes say what is meant: the same message with
    # "??" for the two bad bytes is read by protobuf as the intended one.
    # (Replacing the bytes in `raw` would not do: the random seq or times can
    # hold \xff\xfe too.)
    check = pb.Envelope.FromString(with_name(b"Udp.Rcvbuf??Errors"))
    assert check.WhichOneof("body") == "batch" and check.seq == seq_of(c), check
    assert [x.name for x in check.batch.defs] == ["Udp.Rcvbuf??Errors"], check
    assert list(check.batch.series) == [1] and check.batch.ts_ns == batch_ts_ns, check
    add(c, raw, "(e) invalid UTF-8 in a series name", "rejected", "UTF-8")
    # (f) a host name with an escape byte (which a terminal would obey)
    env = envelope(c, seq_of(c))
    env.host = "poison\x1b[31m"
    env.hello.CopyFrom(pb.Hello(collector_version="test_poison", backend="none",
                                interval_ns=100 * MS, started_ns=NOW))
    add(c, env, "(f) escape byte in the host name", "rejected", "not a name")
    return c


def wait_connected(socks):
    """Waits for every socket's ZMTP handshake, so that the sends below reach
    the aggregator together rather than one socket's queue after another's."""
    monitors = [s.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED) for s in socks]
    for s in socks:
        s.connect(ENDPOINT)
    waiting = set(range(len(socks)))
    poller = zmq.Poller()
    for m in monitors:
        poller.register(m, zmq.POLLIN)
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while waiting and time.monotonic() < deadline:
        for m, _ in poller.poll(200):
            i = monitors.index(m)
            event = recv_monitor_message(m)
            if event["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                waiting.discard(i)
    for s in socks:
        s.disable_monitor()
    for m in monitors:
        m.close(0)
    if waiting:
        sys.exit(f"no ZMTP handshake with {ENDPOINT} within {CONNECT_TIMEOUT} s")


def healthz_loop(stop, codes):
    """GET /healthz with curl, over and over while the acks come in (at
    least once, however late this thread gets to run)."""
    while True:
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                              "--max-time", "10", f"{SERVER}/healthz"],
                             capture_output=True, text=True)
        codes.append(out.stdout or "curl failed")
        if stop.wait(0.05):
            return


def main():
    clients = [honest("honest-a"), honest("honest-b"), poison()]
    ctx = zmq.Context()
    socks = []
    for _ in clients:
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        socks.append(s)
    wait_connected(socks)

    # Send order: the honest clients in turn, a poison message after every
    # third honest round, all in one tight loop; acks are collected after.
    order, rounds = [], max(len(c["messages"]) for c in clients[:2])
    queue = list(clients[2]["messages"])
    for r in range(rounds):
        for i in (0, 1):
            if r < len(clients[i]["messages"]):
                order.append((i, clients[i]["messages"][r]))
        if r % 3 == 1 and queue:
            order.append((2, queue.pop(0)))
    order.extend((2, m) for m in queue)

    codes, stop = [], threading.Event()
    checker = threading.Thread(target=healthz_loop, args=(stop, codes), daemon=True)
    t0 = time.monotonic()
    for i, m in order:
        socks[i].send(m["raw"])
    checker.start()

    expected = {(i, m["seq"]): m for i, c in enumerate(clients) for m in c["messages"]
                if m["expect"]}
    acks = {}     # (client, seq) -> [Ack, ...]
    errors = []
    poller = zmq.Poller()
    for s in socks:
        poller.register(s, zmq.POLLIN)
    deadline = t0 + ACK_TIMEOUT
    done_at = None
    while True:
        now = time.monotonic()
        if done_at is None and len(acks) >= len(expected) and all(k in acks for k in expected):
            done_at = now
        if now >= deadline or (done_at is not None and now >= done_at + LINGER_AFTER):
            break
        for s, _ in poller.poll(100):
            i = socks.index(s)
            frame = s.recv()
            try:
                env = pb.Envelope.FromString(frame)
            except Exception as e:  # noqa: BLE001
                errors.append(f"{clients[i]['host']}: an answer that is not an Envelope: {e}")
                continue
            if env.WhichOneof("body") != "ack":
                errors.append(f"{clients[i]['host']}: an answer without an Ack: {env}")
                continue
            if env.incarnation != clients[i]["incarnation"]:
                errors.append(f"{clients[i]['host']}: ack of seq {env.ack.seq} for incarnation "
                              f"{env.incarnation:x}, not {clients[i]['incarnation']:x}")
            acks.setdefault((i, env.ack.seq), []).append(env.ack)
    ack_seconds = (done_at or time.monotonic()) - t0
    stop.set()
    checker.join()

    status_name = {v: k for k, v in pb.AckStatus.items()}
    counts = {"stored": 0, "rejected": 0}
    for key, m in expected.items():
        who = f"{clients[key[0]]['host']} seq {key[1]} ({m['label']})"
        got = acks.get(key, [])
        if not got:
            errors.append(f"{who}: no ack within {ACK_TIMEOUT} s")
            continue
        if len(got) > 1:
            errors.append(f"{who}: acknowledged {len(got)} times")
        a = got[0]
        want = pb.ACK_STORED if m["expect"] == "stored" else pb.ACK_REJECTED
        if a.status != want:
            errors.append(f"{who}: {status_name.get(a.status, a.status)} "
                          f"(error '{a.error}'), expected {status_name[want]}")
            continue
        if m["expect"] == "rejected" and (not a.error or m["word"] not in a.error):
            errors.append(f"{who}: rejected, but the error '{a.error}' does not mention "
                          f"'{m['word']}'")
            continue
        counts[m["expect"]] += 1
        if m["expect"] == "rejected":
            print(f"rejected {m['label']}: {a.error}", file=sys.stderr)
    for key, got in acks.items():
        if key not in expected:
            errors.append(f"{clients[key[0]]['host']}: {len(got)} unexpected ack(s) of seq "
                          f"{key[1]}: {got[0].error or status_name.get(got[0].status)}")
    if not codes or any(c != "200" for c in codes):
        errors.append(f"GET /healthz during the run answered {codes or 'nothing'}")

    for s in socks:
        s.close(0)
    ctx.term()
    for e in errors:
        print(f"poison_client: {e}", file=sys.stderr)
    print(json.dumps({"stored": counts["stored"], "rejected": counts["rejected"],
                      "sent": len(order), "ack_seconds": round(ack_seconds, 3),
                      "healthz_during": len(codes), "deltas": DELTAS, "batches": BATCHES}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
