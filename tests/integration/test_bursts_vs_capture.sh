#!/usr/bin/env bash
# Microburst detection against an independent capture. 15 bursts of 300
# packets at known absolute times, 200 ms apart, over steady background
# traffic of 1 packet/ms, are sent from one namespace to another. tcpdump
# captures them on the veth pair; its buckets of one tick give the true
# bursts. dropscope must report all but one of them with a start within
# the tolerance (bursts during ticks the sampler itself reports missed, a
# stalled machine, excused: at most a third), and nothing during a
# following 3 s of background only.
# By default: the netlink backend at 1 ms, within +-2 ms. With BS_BACKEND=
# ebpf BS_TICK_NS=100000 BS_TOLERANCE_NS=500000 (test_bursts_ebpf.sh): the
# eBPF backend at 100 us, within +-0.5 ms. With BS_PACKETS=700
# BS_THRESHOLD=default (test_bursts_default_threshold.sh): bursts of 700
# packets found by the collector's default threshold, no --burst-threshold.
source "$(dirname "$0")/lib.sh"
require_root
command -v tcpdump >/dev/null || { echo "SKIP: tcpdump is not installed" >&2; exit $SKIP; }
BACKEND=${BS_BACKEND:-netlink}
TICK_NS=${BS_TICK_NS:-1000000}
TOLERANCE_NS=${BS_TOLERANCE_NS:-2000000}
PACKETS=${BS_PACKETS:-300}
THRESHOLD=${BS_THRESHOLD:-50}
THRESHOLD_ARGS=(--burst-threshold "$THRESHOLD")
[ "$THRESHOLD" = default ] && THRESHOLD_ARGS=()

S=ds-bs-s-$$ R=ds-bs-r-$$ HOST=burst-host-$$
make_pair "$S" "$R"
start_aggregator
# Collector and capture both call 50 packets per ms hot: far above the
# background (1/ms), and a burst of 300 packets is hot in both whatever the
# phase of the sampler's ticks against the capture's aligned buckets (any
# window of a tick with N packets puts at least N/2 into one of the two
# ticks it overlaps).
# Gaps shorter than 5 ticks, and at least 2 ms, merge (in both): a sender
# preempted in the middle of a burst can pause for a millisecond.
GAP_TICKS=$(( 2000000 / TICK_NS > 5 ? 2000000 / TICK_NS : 5 ))
start_collector "$R" "$HOST" --interval 500ms --backend "$BACKEND" --tick "$((TICK_NS / 1000))us" \
  "${THRESHOLD_ARGS[@]}" --burst-gap "$((GAP_TICKS * TICK_NS / 1000))us"
[ "$BACKEND" = ebpf ] && require_ebpf "$HOST"
udp_sink "$R" 7000 8388608 1
# The capture taps where the backend counts. netlink reads the veth's
# counters, and a veth counts a packet as received when its peer transmits
# it (veth_get_stats64 reads the peer's tx stats): tcpdump on vs, outbound,
# stamps it then (on vr it would stamp the packet in the receive softirq,
# 2-5 ms later with both CPUs loaded). The eBPF backend counts at vr's tc
# ingress, right after the capture tap of vr in __netif_receive_skb_core.
if [ "$BACKEND" = ebpf ]; then CAP_NS=$R CAP_IF=vr CAP_DIR=in; else CAP_NS=$S CAP_IF=vs CAP_DIR=out; fi
bg ip netns exec "$CAP_NS" tcpdump -i "$CAP_IF" -Q "$CAP_DIR" -w "$TMP/cap.pcap" \
  --time-stamp-precision=nano -U -s 64 udp port 7000 2>>"$TMP/tcpdump.log"
TCPDUMP=${PIDS[-1]}
sleep 1

t_start=$(( $(now_ns) + 1500000000 ))
ip netns exec "$S" "$BIN_DIR/burstgen" --dest 10.88.0.2:7000 --start "$t_start" --bursts 15 \
  --every 200ms --packets "$PACKETS" --payload 64 --background-pps 1000 --lead 1s --tail 3s \
  >"$TMP/burstgen.out"
t_control=$(( t_start + 14 * 200000000 + 100000000 )) # after the last burst
t_end=$(now_ns)
sleep 1.5 # the last batch
kill -INT "$TCPDUMP"; wait "$TCPDUMP" 2>/dev/null || true

# 50 per ms rather than 100: on busy CPUs the sender spreads a burst over a
# few ms (~80/ms), and a higher threshold would date it by its densest
# millisecond instead of its first.
python3 "$(dirname "$0")/pcap_bursts.py" "$TMP/cap.pcap" $(( (50 * TICK_NS + 999999) / 1000000 )) \
  "$GAP_TICKS" "$TICK_NS" >"$TMP/captured.json"
curl -sf "$SERVER/api/bursts?host=$HOST&iface=vr&from=$((t_start - 1500000000))&to=$t_end" \
  >"$TMP/reported.json"
# The sampler's own count of ticks it could not sample (woken too late: a
# busy or noisy machine): a burst inside such a gap is one dropscope says it
# did not see, rather than one it missed unawares.
"$BIN_DIR/dropscope" --server "$SERVER" series --json --host "$HOST" --series sampler//missed_ticks \
  --from "$((t_start - 1500000000))ns" --to "${t_end}ns" >"$TMP/missed.json" ||
  fail "dropscope series sampler//missed_ticks failed"
BS_THRESHOLD=$THRESHOLD python3 - "$TMP/captured.json" "$TMP/reported.json" "$t_control" "$TOLERANCE_NS" "$TMP/missed.json" <<'PY'
import json, os, sys
captured = json.load(open(sys.argv[1]))
missed_rows = sorted(json.load(open(sys.argv[5])), key=lambda r: r["ts_ns"])
def unsampled(t):
    """The sampler reported missed ticks in the interval holding t (or the next)."""
    for i in range(1, len(missed_rows)):
        if missed_rows[i]["ts_ns"] >= t:
            end = min(i + 1, len(missed_rows) - 1)
            return missed_rows[end]["value"] > missed_rows[i - 1]["value"]
    return False
reported = [b for b in json.load(open(sys.argv[2])) if b["direction"] == "rx"]
t_control, tolerance = int(sys.argv[3]), int(sys.argv[4])
if os.environ.get("BS_THRESHOLD") == "default":
    # Over 1 packet/ms of background the default is its floor: 100 per ms.
    assert {r["threshold_per_ms"] for r in reported} <= {100}, f"default thresholds: {reported}"
before = [c for c in captured if c["start_ns"] < t_control]
# A sender preempted in the middle of a burst (seen with a busy CPU: a 5 ms
# pause) sends it as two, and the capture then shows 16: the capture is
# the truth dropscope is held to.
assert len(before) >= 15, f"the capture shows {len(before)} bursts, expected 15: {captured}"
matched, offsets, excused = 0, [], 0
for c in before:
    near = [r for r in reported if abs(r["start_ns"] - c["start_ns"]) <= tolerance]
    if near:
        matched += 1
        r = near[0]
        offsets.append(abs(r["start_ns"] - c["start_ns"]))
        # The profile (one value per tick, 10 ms either side) holds the
        # burst: its hot ticks, its own packets and the captured ones (the
        # burst itself leaves out the cooler ticks at its edges).
        hot = r["threshold_per_ms"] * r["tick_ns"] / 1e6
        assert r["packets"] >= hot and max(r["profile"], default=0) >= hot, f"flat burst: {r}"
        assert sum(r["profile"]) >= 0.95 * r["packets"], f"profile misses packets: {r}"
        assert sum(r["profile"]) >= 0.9 * c["packets"], f"profile misses packets of {c}: {r}"
    else:
        off = min((r["start_ns"] - c["start_ns"] for r in reported), key=abs, default=None)
        blind = unsampled(c["start_ns"])
        excused += blind
        print(f"missed: captured burst at {c['start_ns']} ({c['packets']} packets); "
              f"nearest reported start {off / 1e6 if off is not None else None} ms away"
              f"{'; the sampler reported missed ticks then' if blind else ''}")
spurious = [r for r in reported if r["start_ns"] >= t_control]
print(f"captured {len(before)} bursts, dropscope reported {len(reported)}, matched {matched} within "
      f"{tolerance / 1e6} ms (largest offset {max(offsets, default=0) / 1e6:.3f} ms); "
      f"{len(spurious)} during the control period")
# One unexplained miss at most; bursts in a gap the sampler itself reported
# are excused, but never more than a third of them (a sampler that is
# always late is a failure, whatever it reports).
assert excused <= len(before) // 3, f"the sampler missed ticks during {excused} of the bursts"
assert matched >= len(before) - 1 - excused, \
    f"only {matched} of {len(before)} bursts found within +-{tolerance / 1e6} ms " \
    f"({excused} during ticks the sampler reported missed)"
assert not spurious, f"bursts reported during steady traffic: {spurious}"
assert not [c for c in captured if c["start_ns"] >= t_control], "the capture has control bursts"
PY
# The profiles: block characters in a UTF-8 locale, ASCII in another.
LC_ALL=C.UTF-8 "$BIN_DIR/dropscope" --server "$SERVER" bursts --host "$HOST" --since 1m \
  >"$TMP/bursts-utf8.txt" || fail "dropscope bursts"
LC_ALL=C "$BIN_DIR/dropscope" --server "$SERVER" bursts --host "$HOST" --since 1m \
  >"$TMP/bursts-c.txt" || fail "dropscope bursts (LC_ALL=C)"
head -5 "$TMP/bursts-utf8.txt"
grep -q "█" "$TMP/bursts-utf8.txt" || fail "no block characters in UTF-8"
! LC_ALL=C grep -q '[^ -~]' "$TMP/bursts-c.txt" && grep -q "@" "$TMP/bursts-c.txt" ||
  fail "bursts in the C locale: $(head -3 "$TMP/bursts-c.txt")"

# The sampler's own lateness and the rate histograms are series a user can read.
for s in sampler//lateness_p50_us sampler//lateness_p99_us rate/vr/rx_max rate/vr/rx_p99; do
  "$BIN_DIR/dropscope" --server "$SERVER" series --json --host "$HOST" --series "$s" --since 5m \
    >"$TMP/series.json" || fail "dropscope series $s failed"
  python3 -c 'import json,sys; rows=json.load(open(sys.argv[1])); assert rows, sys.argv[2]; print(sys.argv[2], "latest", rows[-1]["value"])' \
    "$TMP/series.json" "$s"
done
# The bursts of 300 packets show in the per-interval maximum (per tick:
# at least 100 packets per ms).
"$BIN_DIR/dropscope" --server "$SERVER" series --json --host "$HOST" --series rate/vr/rx_max \
  --from "${t_start}ns" --to "${t_control}ns" >"$TMP/max.json"
python3 -c 'import json,sys; m=max(r["value"] for r in json.load(open(sys.argv[1]))); assert m >= 100 * int(sys.argv[2]) / 1e6, m' \
  "$TMP/max.json" "$TICK_NS"
