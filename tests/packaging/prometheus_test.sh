#!/usr/bin/env bash
# Checks packaging/prometheus/: promtool check + test of the rules, the
# dashboard is valid JSON whose every expression parses (promtool, through a
# scratch rule file) and reads only metrics documented in docs/metrics.md; the
# rules read only documented metrics too; every runbook_url points at a
# heading of docs/operations.md.
# Usage: prometheus_test.sh SOURCE_DIR
set -euo pipefail
src=$1
dir="$src/packaging/prometheus"
work=$(mktemp -d /tmp/ferry-prom-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

promtool check rules "$dir/ferry-rules.yml"
(cd "$dir" && promtool test rules ferry-rules.test.yml)

/usr/bin/python3 - "$src" "$work" <<'PY'
import json, re, sys, os
src, work = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "tests/packaging"))
from promql_names import metric_names, documented, allowed
import yaml  # python3-yaml (Debian: needed by yamllint)

doc = documented(os.path.join(src, "docs/metrics.md"))
assert len(doc) >= 20, f"docs/metrics.md lists only {len(doc)} metrics"
fail = []

# Dashboard.
dash = json.load(open(os.path.join(src, "packaging/prometheus/ferry-dashboard.json"), encoding="utf-8"))
exprs = []
def walk(panels):
    for p in panels:
        for t in p.get("targets", []):
            if "expr" in t:
                exprs.append((p.get("title", "?"), t["expr"]))
        walk(p.get("panels", []))
walk(dash.get("panels", []))
for v in dash.get("templating", {}).get("list", []):
    q = v.get("query")
    q = q.get("query") if isinstance(q, dict) else q
    m = re.match(r"label_values\((\w+)", q or "")
    if m:
        exprs.append((f"variable {v['name']}", m.group(1)))
if len(exprs) < 15:
    fail.append(f"dashboard has only {len(exprs)} expressions")
seen = set()
for title, e in exprs:
    names = metric_names(e)
    if not names:
        fail.append(f"dashboard panel {title!r}: no metric in {e!r}")
    seen |= names
    bad = allowed(names, doc)
    if bad:
        fail.append(f"dashboard panel {title!r}: undocumented metric(s) {sorted(bad)} in {e!r}")
# The panels the brief asks for: lag vs target, pending, latency, RPO,
# throughput, failures, retries/throttles, deletes paused.
for need in ["ferry_oldest_pending_age_seconds", "ferry_target_lag_seconds", "ferry_pending_objects",
             "ferry_replication_latency_seconds_bucket", "ferry_replica_rpo_seconds",
             "ferry_transferred_bytes_total", "ferry_failed_operations_total", "ferry_retries_total",
             "ferry_throttles_total", "ferry_deletes_paused"]:
    if need not in seen:
        fail.append(f"dashboard shows no {need}")
types = {p.get("type") for p in dash["panels"]}
if "heatmap" not in types:
    fail.append("dashboard has no latency heatmap")
ids = [p["id"] for p in dash["panels"]]
if len(ids) != len(set(ids)):
    fail.append("dashboard panel ids repeat")

# Every dashboard expression must parse: put them in a rule file for promtool
# (dashboard variables replaced by values).
rules = []
for i, (title, e) in enumerate(exprs):
    e = e.replace("$__rate_interval", "5m").replace("$route", ".*")
    rules.append({"record": f"dashboard:expr_{i}", "expr": e})
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]},
               open(os.path.join(work, "dashboard-exprs.yml"), "w"))

# Rules.
ruledoc = yaml.safe_load(open(os.path.join(src, "packaging/prometheus/ferry-rules.yml")))
heads = set()
for line in open(os.path.join(src, "docs/operations.md"), encoding="utf-8"):
    m = re.match(r"#+\s+(.*)", line)
    if m:  # GitHub anchor: lower case, punctuation dropped, spaces to dashes
        heads.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
need_alerts = {"FerryLagApproachingTarget", "FerryLagBreachingTarget", "FerryReplicaRPOBreached",
               "FerryReplicationFailing", "FerryReplicationStalled", "FerryDeletesPaused", "FerryReconciliationStale", "FerryDown"}
found = set()
for g in ruledoc["groups"]:
    for r in g["rules"]:
        name = r.get("alert") or r.get("record")
        found.add(name)
        bad = allowed(metric_names(r["expr"]), doc)
        if bad:
            fail.append(f"rule {name}: undocumented metric(s) {sorted(bad)}")
        ann = r.get("annotations", {})
        for k in ("summary", "description", "runbook_url"):
            if not ann.get(k):
                fail.append(f"rule {name}: no {k}")
        url = ann.get("runbook_url", "")
        anchor = url.split("#", 1)[1] if "#" in url else ""
        if not url.startswith("file:///usr/share/doc/ferry/operations.md#") or anchor not in heads:
            fail.append(f"rule {name}: runbook_url {url!r} is not a heading of docs/operations.md")
        if r.get("labels", {}).get("severity") not in ("warning", "critical"):
            fail.append(f"rule {name}: severity must be warning or critical")
for a in sorted(need_alerts - found):
    fail.append(f"alert {a} missing")
for f in fail:
    print("FAIL:", f)
print(f"checked {len(exprs)} dashboard expressions and {len(found)} rules against {len(doc)} documented metrics")
sys.exit(1 if fail else 0)
PY
promtool check rules "$work/dashboard-exprs.yml" >"$work/check.out" 2>&1 ||
  { cat "$work/check.out"; echo "FAIL: a dashboard expression does not parse"; exit 1; }
echo "PASS: prometheus rules, rule tests, dashboard"
