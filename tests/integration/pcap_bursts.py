#!/usr/bin/env python3
"""Finds the bursts in a pcap file independently of dropscope: packets are
counted in buckets of BUCKET_NS (default 1 ms) of their capture timestamps;
buckets with at least THRESHOLD packets are hot, and hot buckets closer
than GAP buckets merge. Prints a JSON list of {"start_ns", "end_ns",
"packets"}.
Usage: pcap_bursts.py FILE THRESHOLD GAP [BUCKET_NS]"""
import json
import struct
import sys

path, threshold, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bucket_ns = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000_000
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
    buckets[ts // bucket_ns] = buckets.get(ts // bucket_ns, 0) + 1
    off += 16 + caplen
bursts = []
for k in sorted(b for b, n in buckets.items() if n >= threshold):
    if bursts and k - bursts[-1]["last"] < gap:
        b = bursts[-1]
        b["packets"] += sum(buckets.get(m, 0) for m in range(b["last"] + 1, k + 1))
        b["last"] = k
    else:
        bursts.append({"first": k, "last": k, "packets": buckets[k]})
print(json.dumps([{"start_ns": b["first"] * bucket_ns, "end_ns": (b["last"] + 1) * bucket_ns,
                   "packets": b["packets"]} for b in bursts]))
