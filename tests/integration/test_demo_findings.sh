#!/usr/bin/env bash
# No finding without a cause, on `make demo`'s own fleet (scenario_demo_fleet):
# every finding of every host names a limit and a remedy a person can act
# on. A finding that says "no limit" and sends the user to a reference they
# do not have teaches them to ignore the diagnosis; the kernel's vague drop
# reasons (NOT_SPECIFIED: frees that need not be losses of the host's
# traffic) are evidence, never a finding of their own. The hosts that do
# lose packets must still get theirs: socket on host1-host4, listen on host5.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scenarios.sh"
require_root
command -v nstat >/dev/null || { echo "SKIP: nstat is not installed (make test installs it)" >&2; exit "$SKIP"; }

start_aggregator
scenario_demo_fleet "ds-demo-$$"
sleep 10 # the demo prints its diagnosis after 12 s; 10 s hold several burst rounds
for i in $(seq 1 8); do
  "$BIN_DIR/dropscope" --server "$SERVER" diagnose "host$i" --since 1m --json >"$TMP/host$i.json"
done

python3 - "$TMP" <<'PY'
import json, os, sys
tmp = sys.argv[1]
vague = ("no limit", "COUNTERS", "see the counter")
for i in range(1, 9):
    d = json.load(open(os.path.join(tmp, f"host{i}.json")))
    layers = [f["layer"] for f in d["findings"]]
    for f in d["findings"]:
        what = f"host{i}: {f['layer']} finding ({f['drops']} drops)"
        assert f["limit"] and f["remedy"], f"{what} without a limit or a remedy: {f}"
        for word in vague:
            assert word not in f["limit"] and word not in f["remedy"], \
                f"{what} is not actionable ({word!r}): limit {f['limit']!r}, remedy {f['remedy']!r}"
        series = [c["series"] for c in f["evidence"]["counters"] if c["drops"] > 0]
        assert not (series and all(s.startswith("reason//NOT_SPECIFIED") for s in series)), \
            f"{what} stands on NOT_SPECIFIED alone: {series}"
    want = "socket" if i <= 4 else "listen" if i == 5 else None
    if want:
        assert want in layers, f"host{i}: no {want} finding, only {layers}"
    print(f"host{i}: findings {layers}")
PY
