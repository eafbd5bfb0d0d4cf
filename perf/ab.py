#!/usr/bin/env python3
"""Interleaved run of myring variants (see perf/ab.sh): for each repeat,
for each cell, every variant in turn.  Reports throughput, proxy CPU per
unit, latency and, where the binary exports them, event-loop turns and
completions per unit (from its /metrics), each with the ratio to the first
variant."""
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import bench  # noqa: E402  (reads the same BENCH_* environment)

OUT = bench.OUT


def parse_cells(text):
    cells = []
    for item in text.split(","):
        w, t = item.split(":")
        cells.append((w, int(t)))
    return cells


def start(name, binary, flags):
    # Peers and the floor relay run in the same interleaving as the myring
    # variants: FLAGS "haproxy:N" is HAProxy with N threads, "relay" the
    # two-hop floor (perf/relay.c).
    # A trailing ":unix" connects them to MariaDB's Unix socket, as
    # "@SOCKET@" in a myring variant's flags names it.
    if flags.startswith("haproxy:"):
        t = bench.start_haproxy(int(flags.split(":")[1]), name,
                                unix=flags.endswith(":unix"))
        t.metrics_port = None
        return t
    if flags in ("relay", "relay:unix"):
        return start_relay(name, unix=flags == "relay:unix")
    flags = flags.replace("@SOCKET@", os.environ["MARIADB_SOCKET"])
    port, mport = bench.free_port(), bench.free_port()
    # Words NAME=VALUE before the first flag set the variant's environment
    # (for experiments switched by an environment variable).
    words = flags.split()
    env = dict(os.environ)
    while words and "=" in words[0] and not words[0].startswith("-"):
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    # A variant that sets its own workers (--cpus or --threads, unpinned)
    # does not get the run's --cpus.
    # With --default-workers no variant gets it: each starts as a user's would.
    own = any(f in ("--cpus", "--threads") for f in words) or \
        os.environ.get("AB_DEFAULT_WORKERS") == "1"
    argv = [binary, "--listen", "127.0.0.1:%d" % port,
            "--backend", "127.0.0.1:%d" % bench.DB_PORT,
            "--log-level", "warn", "--metrics", "127.0.0.1:%d" % mport,
            "--digests", "off"] + ([] if own else ["--cpus", bench.CPUS]) + words
    p = subprocess.Popen(argv, env=env,
                         stderr=open(os.path.join(OUT, "myring-ab-%s.log" % name), "w"))
    bench.wait_port(port)
    t = bench.Target(name, port, p.pid, p)
    t.metrics_port = mport
    return t


def start_relay(name, unix=False):
    port = bench.free_port()
    backend = ("unix:" + os.environ["MARIADB_SOCKET"] if unix
               else "127.0.0.1:%d" % bench.DB_PORT)
    p = subprocess.Popen([os.environ["AB_RELAY"], "127.0.0.1:%d" % port, backend,
                          str(bench.first_cpu())],
                         stderr=open(os.path.join(OUT, "relay-%s.log" % name), "w"))
    bench.wait_port(port)
    t = bench.Target(name, port, p.pid, p)
    t.metrics_port = None
    return t


def loop_counters(t):
    """(loop turns, completions) from /metrics, or None if not exported."""
    if t.metrics_port is None:
        return None
    try:
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % t.metrics_port,
                                      timeout=5).read().decode()
    except OSError:
        return None
    turns = re.search(r"^myring_loop_turns_total (\d+)", body, re.M)
    comps = re.search(r"^myring_completions_total (\d+)", body, re.M)
    if not turns or not comps:
        return None
    return int(turns.group(1)), int(comps.group(1))


def main():
    cells = parse_cells(os.environ["AB_CELLS"])
    variants = []
    with open(os.environ["AB_SPEC"]) as f:
        for line in f:
            name, binary, flags = line.rstrip("\n").split("\t")
            variants.append(start(name, binary, flags))
    rows = []
    t0 = time.time()
    try:
        for rep in range(bench.REPEATS):
            for workload, threads in cells:
                for v in variants:
                    before = loop_counters(v)
                    m = bench.run_cell(v, workload, threads)
                    after = loop_counters(v)
                    m["turns_per_unit"] = m["comp_per_turn"] = float("nan")
                    if before and after and m["units"]:
                        turns, comps = after[0] - before[0], after[1] - before[1]
                        m["turns_per_unit"] = turns / m["units"]
                        m["comp_per_turn"] = comps / turns if turns else float("nan")
                    m["repeat"] = rep + 1
                    rows.append(m)
                    print("  r%d %-18s %-12s @%-3d %10.1f  cpu %.2f  turns/unit %.2f" % (
                        rep + 1, workload, v.name, threads, m["rate"], m["cpu_per_unit"],
                        m["turns_per_unit"]), flush=True)
    finally:
        bench.stop_targets(variants)
    med, fmt, spread = bench.med, bench.fmt, bench.spread
    base = variants[0].name
    lines = ["Medians of %d interleaved repeats, %d s each, [min..max] in brackets; "
             "myring %s; ratios are to `%s`; run took %.0f s.\n"
             % (bench.REPEATS, bench.SECONDS,
                "without --cpus unless a variant sets it"
                if os.environ.get("AB_DEFAULT_WORKERS") == "1" else "--cpus " + bench.CPUS,
                base, time.time() - t0),
             "| cell | variant | rate | rate ratio | proxy CPU per unit | CPU ratio | p50 us "
             "| p99 us | p99.9 us | loop turns per unit | completions per turn |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for workload, threads in cells:
        unit = bench.UNIT.get(workload, ("QPS", "CPU us/query"))
        ref = [r for r in rows if r["target"] == base and r["workload"] == workload
               and r["threads"] == threads]
        rq, rc = med([r["rate"] for r in ref]), med([r["cpu_per_unit"] for r in ref])
        for v in variants:
            rs = [r for r in rows if r["target"] == v.name and r["workload"] == workload
                  and r["threads"] == threads]
            q, c = med([r["rate"] for r in rs]), med([r["cpu_per_unit"] for r in rs])
            lines.append("| %s @%d | %s | %s %s | %s | %s %s | %s | %s | %s | %s | %s | %s |" % (
                workload, threads, v.name, spread([r["rate"] for r in rs]), unit[0],
                fmt(q / rq, 2) if rq else "n/a", spread([r["cpu_per_unit"] for r in rs], 2),
                unit[1].replace("CPU ", ""), fmt(c / rc, 2) if rc else "n/a",
                fmt(med([r["p50_us"] for r in rs]), 0), fmt(med([r["p99_us"] for r in rs]), 0),
                fmt(med([r["p999_us"] for r in rs]), 0),
                fmt(med([r["turns_per_unit"] for r in rs]), 2),
                fmt(med([r["comp_per_turn"] for r in rs]), 2)))
    bench.publish("ab.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
