#!/usr/bin/env bash
# deploy/prometheus's rules load and pass their unit tests (promtool), and
# deploy/grafana's dashboard is one a Grafana can import: valid JSON, the
# datasource and host variables, every panel on the datasource variable with
# at least one query, every query valid PromQL. Every dropscope_ metric the
# rules and the dashboard name must be one the aggregator exports (a renamed
# metric would leave an alert that can never fire). No root, no network.
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RULES=$ROOT/deploy/prometheus/dropscope.rules.yml
RULE_TESTS=$ROOT/deploy/prometheus/dropscope.rules.test.yml
DASHBOARD=$ROOT/deploy/grafana/dropscope.json

if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool is not installed (apt-get install --no-install-recommends prometheus," \
    "or deploy/install-deps.sh)" >&2
  exit $SKIP
fi
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed" >&2; exit $SKIP; }

# 7 recording rules and 6 alerts: a rule lost in an edit fails here.
promtool check rules "$RULES" >"$TMP/check.log" 2>&1 || fail "promtool check rules: $(cat "$TMP/check.log")"
grep -q "SUCCESS: 13 rules found" "$TMP/check.log" || fail "expected 13 rules: $(cat "$TMP/check.log")"
# test rules resolves rule_files relative to the test file.
promtool test rules "$RULE_TESTS" >"$TMP/test.log" 2>&1 || fail "promtool test rules: $(cat "$TMP/test.log")"
grep -q SUCCESS "$TMP/test.log" || fail "promtool test rules said: $(cat "$TMP/test.log")"
log "rules: promtool check and test pass"

# The dashboard's structure, and its queries written out as recording rules
# (Grafana's variables replaced by what a query would get) for promtool.
python3 - "$DASHBOARD" "$TMP/dashboard.rules.yml" "$TMP/metrics.txt" <<'EOF' || fail "dashboard $DASHBOARD: see above"
import json, re, sys

path, rules_out, metrics_out = sys.argv[1:4]
try:
    dash = json.load(open(path))
except ValueError as e:
    sys.exit(f"not valid JSON: {e}")
errors = []
if not 36 <= dash.get("schemaVersion", 0) <= 39:
    errors.append(f"schemaVersion {dash.get('schemaVersion')}: expected 36 to 39 (Grafana 9-10)")
variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
ds = variables.get("datasource", {})
if ds.get("type") != "datasource" or ds.get("query") != "prometheus":
    errors.append(f"no Prometheus datasource variable named datasource: {ds}")
host = variables.get("host", {})
host_query = host.get("query", {})
host_query = host_query.get("query") if isinstance(host_query, dict) else host_query
if host_query != "label_values(dropscope_host_last_seen_timestamp_seconds, host)" \
        or not host.get("multi") or host.get("datasource", {}).get("uid") != "${datasource}":
    errors.append(f"host variable is not a multi-value label_values on the datasource: {host}")

substitutions = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$host": ".*"}
exprs, ids = [], set()
panels = dash.get("panels", [])
if len(panels) < 8:
    errors.append(f"{len(panels)} panels: expected the 8 the dashboard is for, at least")
for p in panels:
    title = p.get("title", "?")
    if p.get("id") in ids:
        errors.append(f"panel {title!r}: id {p.get('id')} used twice")
    ids.add(p.get("id"))
    if p.get("datasource", {}).get("uid") != "${datasource}":
        errors.append(f"panel {title!r}: datasource {p.get('datasource')} is not ${{datasource}}")
    targets = p.get("targets", [])
    if not targets:
        errors.append(f"panel {title!r}: no targets")
    for t in targets:
        expr = t.get("expr", "").strip()
        if not expr:
            errors.append(f"panel {title!r} target {t.get('refId')}: empty expr")
            continue
        if t.get("datasource", {}).get("uid") != "${datasource}":
            errors.append(f"panel {title!r} target {t.get('refId')}: not on ${{datasource}}")
        for var, value in substitutions.items():
            expr = expr.replace(var, value)
        if "$" in expr:
            errors.append(f"panel {title!r}: unknown variable left in {expr!r}")
        exprs.append((p["id"], t.get("refId", "X"), expr))
if errors:
    sys.exit("\n".join(errors))
with open(rules_out, "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for pid, ref, expr in exprs:
        f.write(f"      - record: dashboard:panel{pid}_{ref}\n        expr: {json.dumps(expr)}\n")
names = set(re.findall(r"\bdropscope_[a-z0-9_]+", "\n".join(e for _, _, e in exprs)))
open(metrics_out, "w").write("\n".join(sorted(names)) + "\n")
print(f"dashboard: {len(panels)} panels, {len(exprs)} queries")
EOF
promtool check rules "$TMP/dashboard.rules.yml" >"$TMP/dash.log" 2>&1 ||
  fail "a dashboard query is not valid PromQL: $(cat "$TMP/dash.log")"
n=$(grep -c 'record:' "$TMP/dashboard.rules.yml")
grep -q "SUCCESS: $n rules found" "$TMP/dash.log" || fail "dashboard queries: $(cat "$TMP/dash.log")"

# The check above must be able to fail: the same harness on a broken query.
printf 'groups:\n  - name: broken\n    rules:\n      - record: x:y\n        expr: "sum(rate(a[5m])"\n' \
  >"$TMP/broken.rules.yml"
! promtool check rules "$TMP/broken.rules.yml" >/dev/null 2>&1 || fail "promtool accepted a broken query"
log "dashboard: $n queries parse"

# Metric names against what the aggregator writes (a histogram's series end
# in _bucket/_sum/_count; the family's name is what the source spells).
cat "$RULES" "$RULE_TESTS" | grep -v '^ *#' | grep -o '\bdropscope_[a-z0-9_]*' >>"$TMP/metrics.txt"
missing=()
for m in $(sed -E 's/_(bucket|sum|count)$//' "$TMP/metrics.txt" | sort -u); do
  grep -qE "\"$m(_bucket|_sum|_count)?[\"{ ]" "$ROOT"/aggregator/*.c || missing+=("$m")
done
[ ${#missing[@]} -eq 0 ] ||
  fail "the rules or the dashboard use metrics aggregator/*.c does not export: ${missing[*]}"
log "metrics: $(sort -u "$TMP/metrics.txt" | wc -l) names, all exported by the aggregator"
