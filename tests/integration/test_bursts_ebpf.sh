#!/usr/bin/env bash
# The burst test against an independent capture (test_bursts_vs_capture.sh)
# with the eBPF backend at a 100 us tick: starts within +-0.5 ms. The
# receiving interface's ifindex is past the programs' array of slots
# (EBPF_SLOT_INDEX), so that their other way to find it counts as well (the
# other eBPF tests' interfaces have small ifindexes).
PAIR_IFINDEX=20001 BS_BACKEND=ebpf BS_TICK_NS=100000 BS_TOLERANCE_NS=500000 \
  exec bash "$(dirname "$0")/test_bursts_vs_capture.sh"
