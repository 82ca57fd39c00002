#!/usr/bin/env python3
"""Questions test_alerting.sh asks a Prometheus and an Alertmanager over
their HTTP APIs (standard library only: no client package to install).

  prom_api.py value PROM EXPR         the value of an instant query that must
                                      have at most one series (empty: none)
  prom_api.py series PROM EXPR        each series as `{labels} value`, one a line
  prom_api.py dashboard PROM FILE [METRIC,...]
                                      every expr of a Grafana dashboard, its
                                      variables replaced; exit 1 if one has
                                      no series, or only zeros (unless it
                                      names one of the METRICs)
  prom_api.py alerts URL [NAME]       Alertmanager's active alerts (v2), one
                                      JSON object a line, NAME only if given
  prom_api.py rule-alerts PROM NAME   Prometheus's own alerts called NAME
                                      (/api/v1/alerts): `state {labels}` a line
"""
import json
import sys
import urllib.parse
import urllib.request


def s_get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def s_query(prom, expr):
    reply = s_get(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    if reply.get("status") != "success":
        sys.exit(f"query {expr!r}: {reply}")
    data = reply["data"]
    if data["resultType"] == "scalar":  # e.g. time(): one value, no labels
        return [{"metric": {}, "value": data["result"]}]
    return data["result"]


def s_labels(metric):
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(metric.items())) + "}"


def s_dashboard(prom, path, may_be_zero):
    """Grafana's variables as a query from the dashboard would see them:
    every host, and a 1 min window (at a 1 s scrape Grafana's
    $__rate_interval would be 4 s; a minute spans the test's events, which
    happen within a minute of the queries, without reaching back before
    the aggregator started). Every query must return series, and one of
    them must be non-zero unless it names a metric of may_be_zero (a
    gauge whose true value may be 0, or a counter the scenario cannot
    move): a panel of zeros would pass a query that selects the wrong
    series."""
    subs = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$host": ".*"}
    dash = json.load(open(path))
    bad, n = [], 0

    def walk(panels):
        nonlocal n
        for p in panels:
            walk(p.get("panels", []))
            for t in p.get("targets", []):
                expr = t.get("expr", "").strip()
                for var, value in subs.items():
                    expr = expr.replace(var, value)
                if "$" in expr:
                    sys.exit(f"panel {p.get('title')!r}: a variable left unreplaced in {expr!r}")
                result = s_query(prom, expr)
                values = [float(r["value"][1]) for r in result]
                moved = [v for v in values if v == v and v != 0]  # NaN is no data
                exempt = any(m in expr for m in may_be_zero)
                n += 1
                print(f"{len(result):3d} series, {len(moved):2d} non-zero, max "
                      f"{max(moved, default=0):.6g}{' (may be 0)' if exempt else ''}  "
                      f"{p.get('title')}: {expr}")
                if not result:
                    bad.append(f"no series: {p.get('title')}: {expr}")
                elif not moved and not exempt:
                    bad.append(f"only zeros: {p.get('title')}: {expr}")

    walk(dash.get("panels", []))
    if n == 0:
        sys.exit(f"{path}: no panel has a query")
    if bad:
        sys.exit("dashboard queries without data:\n  " + "\n  ".join(bad))


def main():
    cmd, url = sys.argv[1], sys.argv[2].rstrip("/")
    if cmd == "value":
        result = s_query(url, sys.argv[3])
        if len(result) > 1:
            sys.exit(f"{sys.argv[3]!r} has {len(result)} series, expected one")
        print(result[0]["value"][1] if result else "")
    elif cmd == "series":
        for r in s_query(url, sys.argv[3]):
            print(s_labels(r["metric"]), r["value"][1])
    elif cmd == "dashboard":
        s_dashboard(url, sys.argv[3], sys.argv[4].split(",") if len(sys.argv) > 4 else [])
    elif cmd == "alerts":
        for a in s_get(f"{url}/api/v2/alerts?active=true&silenced=false&inhibited=false"):
            if len(sys.argv) < 4 or a["labels"].get("alertname") == sys.argv[3]:
                print(json.dumps({"labels": a["labels"], "generatorURL": a.get("generatorURL", ""),
                                  "state": a["status"]["state"]}, sort_keys=True))
    elif cmd == "rule-alerts":
        for a in s_get(f"{url}/api/v1/alerts")["data"]["alerts"]:
            if a["labels"].get("alertname") == sys.argv[3]:
                print(a["state"], s_labels(a["labels"]))
    else:
        sys.exit(f"unknown command {cmd!r}: see the usage at the top of {sys.argv[0]}")


if __name__ == "__main__":
    main()
