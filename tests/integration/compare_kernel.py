#!/usr/bin/env python3
"""Compares a `dropscope-collector --once --json` snapshot with what the
kernel's own tools reported at the same moment in the same namespace:
`nstat -az` (every snmp, snmp6 and netstat counter) and `ip -s -s -j link`
(rtnl_link_stats64 of every interface). Exits 1 listing every mismatch."""
import json
import sys

once_path, nstat_path, link_path = sys.argv[1:4]
once = json.load(open(once_path))
ours = {}
for s in once["series"]:
    ours[(s["source"], s["device"], s["name"])] = s["value"]

problems = []

# nstat prints "<Group><Field> value rate"; ours are Group.Field.
proto = {}
for (source, _, name), value in ours.items():
    if source in ("snmp", "snmp6", "netstat"):
        proto[name.replace(".", "")] = value
checked = 0
for line in open(nstat_path):
    parts = line.split()
    if len(parts) < 2 or line.startswith("#"):
        continue
    key, value = parts[0], int(parts[1])
    checked += 1
    if key not in proto:
        problems.append(f"nstat {key}={value} missing from the snapshot")
    elif proto[key] != value:
        problems.append(f"nstat {key}={value} but dropscope says {proto[key]}")
if checked < 100:
    problems.append(f"only {checked} nstat counters to compare: nstat output looks wrong")

# ip -s -s -j link: stats64.rx.X -> rx_X (with a few names of its own).
rename = {("rx", "multicast"): "multicast", ("tx", "collisions"): "collisions",
          ("rx", "nohandler"): "rx_nohandler", ("rx", "otherhost_dropped"): "rx_otherhost_dropped"}
links = json.load(open(link_path))
netdev_checked = 0
for link in links:
    for direction in ("rx", "tx"):
        for field, value in link["stats64"][direction].items():
            if field == "carrier_changes":  # not a traffic counter
                continue
            name = rename.get((direction, field), f"{direction}_{field}")
            key = ("netdev", link["ifname"], name)
            netdev_checked += 1
            if key not in ours:
                problems.append(f"ip link {link['ifname']} {direction}.{field}={value} missing")
            elif ours[key] != value:
                problems.append(f"ip link {link['ifname']} {direction}.{field}={value} "
                                f"but dropscope says {ours[key]}")

print(f"compared {checked} nstat counters and {netdev_checked} interface counters")
for p in problems:
    print("MISMATCH:", p)
sys.exit(1 if problems else 0)
