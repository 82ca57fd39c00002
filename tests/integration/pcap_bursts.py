#!/usr/bin/env python3
"""Finds the bursts in a pcap file independently of dropscope: packets are
counted in 1 ms buckets of their capture timestamps; buckets with at least
THRESHOLD packets are hot, and hot buckets closer than GAP_MS merge. Prints
a JSON list of {"start_ns", "end_ns", "packets"}.
Usage: pcap_bursts.py FILE THRESHOLD GAP_MS"""
import json
import struct
import sys

path, threshold, gap_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
if magic == 0xA1B23C4D:
    frac = 1  # nanoseconds
elif magic == 0xA1B2C3D4:
    frac = 1000  # microseconds
else:
    sys.exit(f"{path}: not a little-endian pcap file (magic {magic:#x})")
buckets = {}
off = 24
while off + 16 <= len(data):
    sec, sub, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
    ts = sec * 1_000_000_000 + sub * frac
    buckets[ts // 1_000_000] = buckets.get(ts // 1_000_000, 0) + 1
    off += 16 + caplen
bursts = []
for ms in sorted(b for b, n in buckets.items() if n >= threshold):
    if bursts and ms - bursts[-1]["last"] < gap_ms:
        b = bursts[-1]
        b["packets"] += sum(buckets.get(m, 0) for m in range(b["last"] + 1, ms + 1))
        b["last"] = ms
    else:
        bursts.append({"first": ms, "last": ms, "packets": buckets[ms]})
print(json.dumps([{"start_ns": b["first"] * 1_000_000, "end_ns": (b["last"] + 1) * 1_000_000,
                   "packets": b["packets"]} for b in bursts]))
