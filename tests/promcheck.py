#!/usr/bin/python3
"""Strict check of a Prometheus text exposition (format 0.0.4).

  tests/promcheck.py FILE

(Debian's /usr/bin/python3: the package installs there.)

Parses FILE with the reference parser (python3-prometheus-client) and
then checks what that parser lets through: every sample belongs to a
family announced by # HELP and # TYPE before its samples, names and
labels are well formed, no series repeats, values are numbers, counters
are >= 0 and end in _total, histograms have ascending cumulative
buckets ending in +Inf whose count equals _count, *_info series are
gauges of 1, and the standard process_* families have the type and no
labels the Prometheus client libraries give them.  Exit 0 if valid, 1
with one line per problem otherwise.
"""
import math
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)( -?\d+)?$")

# As client_golang and client_python export them.
PROCESS = {
    "process_cpu_seconds_total": "counter",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
}


def check(text):
    problems = []
    if not text.endswith("\n"):
        problems.append("exposition does not end with a newline")
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the reference parser's own verdict
        return [f"reference parser: {e}"]
    if not families:
        problems.append("no metric families")

    helped, typed, seen = set(), {}, set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line:
            problems.append(f"line {n}: empty line")
            continue
        if line.startswith("# HELP "):
            parts = line.split(" ", 3)
            name = parts[2]
            if len(parts) < 4 or not parts[3].strip():
                problems.append(f"line {n}: HELP for {name} has no text")
            if name in helped:
                problems.append(f"line {n}: second HELP for {name}")
            helped.add(name)
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in (
                    "counter", "gauge", "histogram", "summary", "untyped"):
                problems.append(f"line {n}: bad TYPE line")
                continue
            if parts[2] in typed:
                problems.append(f"line {n}: second TYPE for {parts[2]}")
            typed[parts[2]] = parts[3]
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append(f"line {n}: not a sample: {line!r}")
            continue
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        if typed.get(name) is None and typed.get(family) != "histogram":
            problems.append(f"line {n}: {name} has no TYPE before it")
        if name not in helped and family not in helped:
            problems.append(f"line {n}: {name} has no HELP before it")
        if labels:
            inner = labels[1:-1]
            rebuilt = ",".join(f'{k}="{v}"' for k, v in LABEL.findall(inner))
            if rebuilt != inner:
                problems.append(f"line {n}: malformed labels {labels}")
        key = name + labels
        if key in seen:
            problems.append(f"line {n}: duplicate series {key}")
        seen.add(key)
        try:
            v = float(value)
        except ValueError:
            problems.append(f"line {n}: value {value!r} is not a number")
            continue
        if name in PROCESS:
            if typed.get(name) != PROCESS[name]:
                problems.append(f"line {n}: {name} is not a {PROCESS[name]}")
            if labels:
                problems.append(f"line {n}: {name} has labels")
        if name.endswith("_info") and (typed.get(name) != "gauge" or v != 1):
            problems.append(f"line {n}: {name} is not a gauge of 1")
        if typed.get(name) == "counter":
            if not name.endswith("_total"):
                problems.append(f"line {n}: counter {name} lacks _total")
            if v < 0 or math.isnan(v):
                problems.append(f"line {n}: counter {name} is {v}")

    for fam in families:
        if fam.type != "histogram":
            continue
        buckets = [s for s in fam.samples if s.name.endswith("_bucket")]
        count = [s.value for s in fam.samples if s.name.endswith("_count")]
        les = [float(s.labels["le"]) for s in buckets]
        if les != sorted(les) or not les or les[-1] != math.inf:
            problems.append(f"{fam.name}: buckets not ascending to +Inf")
        vals = [s.value for s in buckets]
        if vals != sorted(vals):
            problems.append(f"{fam.name}: bucket counts not cumulative")
        if not count or not vals or count[0] != vals[-1]:
            problems.append(f"{fam.name}: _count differs from the +Inf bucket")
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        problems = check(f.read())
    for p in problems:
        print(f"promcheck: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
