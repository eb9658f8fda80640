#!/usr/bin/env python3
"""Lists the metric names a PromQL expression reads (best effort, enough for the
expressions ferry ships): strips strings, label matchers, ranges, grouping
clauses, numbers, function calls and keywords; what is left are metric names.

Usage as a module: metric_names(expr) -> set[str]; documented(path) -> set[str]
(the metric names in the first column of docs/metrics.md's tables)."""
import re

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "atan2", "inf", "nan"}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def metric_names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)  # strings
    e = re.sub(r"\{[^}]*\}", " ", e)                                   # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                                  # ranges, subqueries
    e = GROUPING.sub(" ", e)
    e = re.sub(r"\$\{?\w+\}?", " ", e)                                 # dashboard variables
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word, rest = m.group(0), e[m.end():]
        if word.lower() in KEYWORDS:
            continue
        if re.match(r"\s*\(", rest):                                   # function call
            continue
        if re.match(r"[0-9]", e[m.start() - 1:m.start()] or " "):     # 1e3, 5m inside numbers
            continue
        names.add(word)
    return names


def documented(path):
    names = set()
    for line in open(path, encoding="utf-8"):
        m = re.match(r"\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|", line)
        if m and m.group(1).startswith("ferry_"):
            names.add(m.group(1))
    return names


def allowed(names, doc):
    """Names doc allows: documented ones, histogram series, Prometheus's `up`."""
    ok = set(doc) | {"up"}
    for n in doc:
        ok |= {n + "_bucket", n + "_sum", n + "_count"}
    return {n for n in names if n not in ok}
