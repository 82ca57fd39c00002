#!/usr/bin/env python3
"""check_calls: no call cycle between the store's files.

Reads the compiled objects (nm: the functions each defines and those it
calls from elsewhere), draws a file -> file edge for every call into another
of the given files, prints the edges and fails on a cycle, naming it. The
store's layering (aggregator/store_internal.h) says which way calls go; this
is the check that they do.

Usage: check_calls.py OBJECT...   (ctest passes the aggregator's objects;
the store's are those named store*.c.o)
"""
import os
import subprocess
import sys


def symbols(obj):
    out = subprocess.run(["nm", obj], check=True, capture_output=True, text=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBR":
            defined.add(parts[2])
        elif len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
    return defined, used


def main(objs):
    files = {}
    for obj in objs:
        name = os.path.basename(obj).removesuffix(".o")
        if name.startswith("store"):
            files[name] = symbols(obj)
    if len(files) < 2:
        sys.exit(f"check_calls: expected the store's objects, got {sorted(files) or objs}")
    owner = {sym: name for name, (defined, _) in files.items() for sym in defined}
    edges = {name: sorted({owner[s] for s in used if s in owner and owner[s] != name})
             for name, (_, used) in files.items()}
    for name in sorted(edges):
        print(f"{name} -> {', '.join(edges[name]) or '(none)'}")
    # Depth-first search; a node met again while on the path closes a cycle.
    state = {}
    def visit(node, path):
        state[node] = "open"
        for nxt in edges[node]:
            if state.get(nxt) == "open":
                cycle = path[path.index(nxt):] + [nxt]
                sys.exit("check_calls: call cycle " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"
    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    print(f"check_calls: {len(files)} files, no cycle")


if __name__ == "__main__":
    main(sys.argv[1:])
