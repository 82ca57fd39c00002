#!/usr/bin/env python3
"""Sends datagrams numbered FIRST..LAST-1 (64-bit big-endian at offset 0,
the probe's default) to GROUP:PORT out of the interface holding SRC,
leaving out the numbers in SKIP (comma-separated), PAUSE_MS between
datagrams (0: a pause of 1 ms every 100, which a probe keeps up with)."""
import socket
import struct
import sys
import time

group, port, src, first, last = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
skip = {int(x) for x in sys.argv[6].split(",") if x} if len(sys.argv) > 6 else set()
pause = float(sys.argv[7]) / 1000 if len(sys.argv) > 7 else 0.0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
sent = 0
for i in range(first, last):
    if i in skip:
        continue
    s.sendto(struct.pack(">Q", i) + b"x" * 56, (group, port))
    sent += 1
    if pause:
        time.sleep(pause)
    elif sent % 100 == 0:
        time.sleep(0.001)
print(sent)
