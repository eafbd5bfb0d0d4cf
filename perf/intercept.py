#!/usr/bin/env python3
"""Interleaved run of myring variants (see perf/intercept.sh):

  plain      no hooks at all
  digests    --digests on
  rules100   100 regex rules, none matching the workload
  rules100-noprefilter  the same 100 rules written so no literal can be
             extracted (each starts with an alternation): every regex runs
  both       digests + rules100

for sysbench oltp_point_select with text queries, reporting QPS, proxy
CPU-us per query, p50/p99 and the ratios to `plain`.
"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import bench  # noqa: E402  (reads the same BENCH_* environment)

bench.SB_COMMON = [a for a in bench.SB_COMMON if not a.startswith("--db-ps-mode")] + \
    ["--db-ps-mode=disable"]
OUT = bench.OUT
THREADS = [8, 32] if not bench.QUICK else [32]
bench.SECONDS = 3 if bench.QUICK else 8


def rules_yaml(prefilter):
    lines = ["rules:"]
    for i in range(100):
        # Shapes operators write: block a table, tag a report, fix a query.
        pat = [r"^\s*DELETE\s+FROM\s+audit_%d\b" % i,
               r"FROM\s+report_%d\s+WHERE" % i,
               r"^SELECT\s+\*\s+FROM\s+big_table_%d" % i,
               r"INSERT\s+INTO\s+archive_%d" % i][i % 4]
        if not prefilter:
            pat = r"(?:zz%d|%s)" % (i, pat)
        lines += ["  - name: r%d" % i, "    match: '%s'" % pat, "    action: reject"]
    return "\n".join(lines) + "\n"


def start(name, args, config=None):
    port = bench.free_port()
    argv = [os.environ["BENCH_MYRING"], "--listen", "127.0.0.1:%d" % port,
            "--backend", "127.0.0.1:%d" % bench.DB_PORT, "--cpus", bench.CPUS,
            "--log-level", "warn"] + args
    if config is not None:
        path = os.path.join(OUT, "intercept-%s.yaml" % name)
        with open(path, "w") as f:
            f.write(config)
        argv += ["--config", path]
    p = subprocess.Popen(argv, stderr=open(os.path.join(OUT, "myring-%s.log" % name), "w"))
    bench.wait_port(port)
    return bench.Target(name, port, p.pid, p)


def main():
    variants = [
        start("plain", []),
        start("digests", ["--digests", "on"]),
        start("rules100", [], rules_yaml(True)),
        start("rules100-noprefilter", [], rules_yaml(False)),
        start("both", ["--digests", "on"], rules_yaml(True)),
    ]
    rows = []
    t0 = time.time()
    try:
        for rep in range(bench.REPEATS):
            for threads in THREADS:
                for v in variants:
                    m = bench.run_cell(v, "oltp_point_select", threads)
                    m["repeat"] = rep + 1
                    rows.append(m)
                    print("  r%d %-22s @%-3d %9.0f qps  %.2f cpu-us/q" % (
                        rep + 1, v.name, threads, m["rate"], m["cpu_per_unit"]), flush=True)
    finally:
        bench.stop_targets(variants)
    med = bench.med
    lines = ["Medians of %d interleaved repeats, %d s each; sysbench oltp_point_select "
             "with --db-ps-mode=disable (text queries); myring --cpus %s; run took %.0f s.\n"
             % (bench.REPEATS, bench.SECONDS, bench.CPUS, time.time() - t0),
             "| variant | threads | QPS | QPS vs plain | CPU-us/query | extra CPU-us/query "
             "| p50 us | p99 us |", "|---|---|---|---|---|---|---|---|"]
    for threads in THREADS:
        base = [r for r in rows if r["target"] == "plain" and r["threads"] == threads]
        bq = med([r["rate"] for r in base])
        bc = med([r["cpu_per_unit"] for r in base])
        for v in variants:
            rs = [r for r in rows if r["target"] == v.name and r["threads"] == threads]
            q = med([r["rate"] for r in rs])
            c = med([r["cpu_per_unit"] for r in rs])
            lines.append("| %s | %d | %s | %.2f | %s | %+.2f | %s | %s |" % (
                v.name, threads, bench.spread([r["rate"] for r in rs], 0), q / bq if bq else 0,
                bench.spread([r["cpu_per_unit"] for r in rs], 2), c - bc,
                bench.fmt(med([r["p50_us"] for r in rs])),
                bench.fmt(med([r["p99_us"] for r in rs]))))
    bench.publish("intercept.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
