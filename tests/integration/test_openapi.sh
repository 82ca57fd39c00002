#!/usr/bin/env bash
# The versioned API against its description: an aggregator fed a recorded
# fleet (fleetsim: 30 hosts, ten minutes of 10 s intervals, drops, bursts,
# synchronized bursts) is asked every endpoint of /api/v1/openapi.json with
# the parameters people use, every page of a capped list followed through
# its next, and an error of each; every answer must validate against the
# schema the description gives it (fields not described are refused), every
# X_time must be its X_ns to the ns, the parameters each endpoint takes must
# be those it describes, and the endpoints the aggregator knows those it
# lists. No root needed. Debian's python3-jsonschema validates.
source "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
  fail "python3-jsonschema is missing (deploy/install-deps.sh installs it)"

start_named_aggregator agg --db "$TMP/db.sqlite"
"$BIN_DIR/dropscope-fleetsim" --connect "ipc://$TMP/agg.sock" --insecure --hosts 30 \
  --seconds 60 --interval 10s --replay --sync-bursts 10 >"$TMP/fleetsim.out" \
  2>>"$TMP/fleetsim.log" || fail "fleetsim failed (fleetsim.log)"
sleep 1.5 # the hosts' rows are flushed once a second

/usr/bin/python3 - "${AGG_HTTP[agg]}" "$(dirname "$0")/../../aggregator/openapi.json" <<'EOF'
import json, re, sys, urllib.error, urllib.parse, urllib.request
from datetime import datetime, timezone
import jsonschema

port, spec_file = sys.argv[1], sys.argv[2]
BASE = f"http://127.0.0.1:{port}"

def get(path):
    try:
        with urllib.request.urlopen(BASE + path, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)

status, spec = get("/api/v1/openapi.json")
assert status == 200, status
if spec != json.load(open(spec_file)):
    sys.exit("FAIL: /api/v1/openapi.json is not aggregator/openapi.json (rebuild?)")
resolver = jsonschema.RefResolver.from_schema(spec)
V = jsonschema.Draft202012Validator
for name, schema in spec["components"]["schemas"].items():
    V.check_schema(schema)

def validator(schema):
    return V(schema, resolver=resolver, format_checker=None)

def params_of(op):
    out = []
    for p in op["parameters"]:
        if "$ref" in p:
            p = spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
        out.append(p["name"])
    return out

ops = {path[len("/api/v1/"):]: item["get"] for path, item in spec["paths"].items()
       if path != "/api/v1/openapi.json"}
checked = {name: 0 for name in ops}
ERROR = spec["components"]["schemas"]["Error"]

def exact(time_text):
    """RFC 3339 to the ns -> ns since the epoch."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{9})Z", time_text)
    assert m, time_text
    secs = datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return int(secs) * 10**9 + int(m[2])

def twins(v, where):
    """Every X_time is its X_ns; every X_ns above 2^53 has its X_time."""
    n = 0
    if isinstance(v, list):
        return sum(twins(x, where) for x in v)
    if isinstance(v, dict):
        for k, x in v.items():
            n += twins(x, where)
            if k.endswith("_time"):
                ns = v.get(k[:-5] + "_ns")
                if exact(x) != ns:
                    sys.exit(f"FAIL: {where}: {k} {x} is not {k[:-5]}_ns {ns}")
                n += 1
    return n

def ask(name, **params):
    """GET /api/v1/name?params, validated; then its next pages. Returns the pages."""
    op = ops[name]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    path = f"/api/v1/{name}?" + urllib.parse.urlencode(params)
    pages = []
    while path:
        status, doc = get(path)
        if status != 200:
            sys.exit(f"FAIL: {path}: {status} {doc}")
        errors = sorted(validator(schema).iter_errors(doc), key=lambda e: e.path)
        if errors:
            e = errors[0]
            sys.exit(f"FAIL: {path}: {e.message} at {list(e.absolute_path)} "
                     f"(schema {list(e.absolute_schema_path)[:8]})")
        twins(doc, path)
        checked[name] += 1
        pages.append(doc)
        path = doc["next"]
    return pages

R = {"from": "-20m", "to": "now"}
hosts = [h["host"] for h in ask("hosts")[0]["data"]]
assert len(hosts) == 30, hosts
drops = ask("drops", **R)[0]["data"]
assert len(drops) > 100, len(drops)
paged = [row for page in ask("drops", **R, limit=40) for row in page["data"]]
if paged != drops:
    sys.exit(f"FAIL: drops in pages of 40 ({len(paged)}) are not the whole list ({len(drops)})")
oldest = ask("drops", **R, limit=40, order="oldest")
assert oldest[0]["data"] == list(reversed(drops[:40])), "order=oldest is not the page turned round"
ask("drops", **R, step="1m", layer="socket")
ask("drops", since="15m", host=hosts[0])
bursts = [b for page in ask("bursts", **R, limit=25) for b in page["data"]]
assert len(bursts) > 25 and bursts == ask("bursts", **R)[0]["data"], "bursts paged"
ask("bursts", **R, iface="eth0", host=hosts[1])
ask("gaps", **R)
incidents = [i["start_ns"] for page in ask("incidents", **R, limit=2) for i in page["data"]]
assert len(incidents) >= 4 and incidents == sorted(incidents, reverse=True), incidents
ask("incidents", **R, window="5ms", min_hosts=3, order="oldest")
for h in hosts[:4]:
    ask("diagnose", host=h, **R)
    ask("settings", host=h, **R)
    ask("timeline", host=h, **R)
    listed = ask("series", host=h)[0]["data"]
    ask("series", host=h, series="netdev/eth0/rx_packets", **R, limit=20)
    ask("series", host=h, series=listed[0]["series"], step="1m", **R)
ask("timeline", host=",".join(hosts[:3]), **R, window="2ms", limit=50)
ask("top", **R, limit=5)
ask("totals", **R)
ask("totals", host=hosts[0], layer="socket", since="1h")
for series in ("snmp//Udp.RcvbufErrors", "softnet/cpu0/dropped", "sysctl//net.core.rmem_max"):
    ask("explain", series=series)
ask("vocabulary")
unasked = [n for n, c in checked.items() if not c]
if unasked:
    sys.exit(f"FAIL: not asked: {unasked}")

# The parameters each endpoint takes are those it describes: an unknown one
# is refused with the list of those it takes (an answer that validates too).
for name, op in ops.items():
    status, doc = get(f"/api/v1/{name}?bogus=1")
    assert status == 400, (name, status)
    validator(ERROR).validate(doc)
    m = re.search(r"\(use (.*)\)$", doc["error"])
    takes = set(m[1].split(", ")) if m else set()
    if takes != set(params_of(op)):
        sys.exit(f"FAIL: /api/v1/{name} takes {sorted(takes)}, describes {sorted(params_of(op))}")
# The endpoints it knows are those it describes.
status, doc = get("/api/v1/nothing")
assert status == 404, status
m = re.search(r"try /api/v1/([a-z, ]+);", doc["error"])
known = set(m[1].split(", "))
if known != set(ops):
    sys.exit(f"FAIL: the aggregator knows {sorted(known)}, the description {sorted(ops)}")
print(f"ok: {sum(checked.values())} answers of {len(ops)} endpoints valid, "
      f"{len(drops)} drops and {len(bursts)} bursts the same paged")
EOF
