#!/usr/bin/env python3
"""Read/write split benchmark (see perf/groups.sh).  For each repeat, for
each cell, each variant in turn:

  direct   the primary itself
  pooled   myring --auth proxy --backend PRIMARY: pooling, no split
  split    myring --auth proxy --primary PRIMARY --replica R1 --replica R2:
           autocommit reads on the replicas, the rest on the primary

Cells: sysbench oltp_read_only with --skip_trx=on (autocommit reads, what
a split serves; inside BEGIN..COMMIT every read would belong to the
primary) and oltp_read_write (its transactions write: everything on the
primary by design, so this cell measures what routing costs), at 32 and
256 client threads; text queries, uniform ids (as perf/pool.py).

Reported: QPS, p50/p99, myring's CPU per query, the three servers' CPU per
query together, and the share of commands each server ran (from myring's
myring_server_commands_total; for direct, all on the primary).

Environment: what perf/bench.py reads, plus REPL_{PRIMARY,REPLICA1,
REPLICA2}_{PORT,PID}.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import bench  # noqa: E402
import pool  # noqa: E402  (scrape, delta)

OUT = bench.OUT
LOGS = os.path.join(OUT, "groups-logs")
ENV = os.environ
SERVERS = [(n, int(ENV["REPL_%s_PORT" % n.upper()]), int(ENV["REPL_%s_PID" % n.upper()]))
           for n in ("primary", "replica1", "replica2")]
bench.SB_COMMON = [a for a in bench.SB_COMMON if not a.startswith(
    ("--db-ps-mode", "--mysql-ignore-errors", "--rand-type"))] + [
    "--db-ps-mode=disable", "--rand-type=uniform", "--mysql-ignore-errors=1213,1205,1040"]
if bench.QUICK:
    bench.SECONDS = 2
    CELLS = [("oltp_read_only", 32), ("oltp_read_write", 32)]
else:
    bench.SECONDS = int(ENV.get("BENCH_SECONDS", "10"))
    CELLS = [(w, t) for w in ("oltp_read_only", "oltp_read_write") for t in (32, 256)]
POOL_SIZE = 64
VARIANTS = ["direct", "pooled", "split"]


def myring_flags(name):
    primary, r1, r2 = ("127.0.0.1:%d" % p for _, p, _ in SERVERS)
    common = ["--pool", "transaction", "--pool-size", str(POOL_SIZE)]
    if name == "pooled":
        return common + ["--backend", primary]
    return common + ["--primary", primary, "--replica", r1, "--replica", r2]


def start(name):
    port, mport = bench.free_port(), bench.free_port()
    cfg = os.path.join(OUT, "groups-myring.yaml")
    with open(cfg, "w") as f:
        # The health checker's login (scripts/replicas.sh creates it).
        f.write("monitor-user: myring_monitor\nmonitor-password: monitor-pw\n")
    argv = [ENV["BENCH_MYRING"], "--config", cfg, "--listen", "127.0.0.1:%d" % port,
            "--log-level", "warn", "--metrics", "127.0.0.1:%d" % mport, "--digests", "off",
            "--auth", "proxy", "--user", "myring:myring-pw"] + myring_flags(name)
    p = bench.subprocess.Popen(argv, stderr=open(os.path.join(OUT, "groups-myring-%s.log" % name),
                                                 "a"))
    bench.wait_port(port)
    t = bench.Target(name, port, p.pid, p)
    t.metrics_port = mport
    if name == "split":
        # Reads go to replicas once the checker has found them.
        end = time.time() + 15
        while time.time() < end:
            info = pool.scrape(t).get("myring_server_info", {})
            if sum('role="replica"' in k and 'status="online"' in k for k in info) == 2:
                break
            time.sleep(0.2)
        else:
            sys.stderr.write("groups: the checker did not report both replicas online\n")
    return t


def server_ticks():
    return sum(bench.cpu_ticks(pid) for _, _, pid in SERVERS)


def shares(before, after):
    """{server name: share of the commands it ran}."""
    fam = "myring_server_commands_total"
    out = {}
    total = pool.delta(before, after, fam) or 0.0
    for name, port, _ in SERVERS:
        n = pool.delta(before, after, fam, r'server="127\.0\.0\.1:%d"' % port)
        out[name] = (n or 0.0) / total if total else float("nan")
    return out


def run_one(rep, name, workload, threads):
    t = bench.Target(name, SERVERS[0][1], SERVERS[0][2]) if name == "direct" else start(name)
    extra = ["--skip_trx=on"] if workload == "oltp_read_only" else []
    saved = bench.SB_COMMON
    bench.SB_COMMON = saved + extra
    before = pool.scrape(t)
    s0 = server_ticks()
    log = os.path.join(LOGS, "r%d-%s-%d-%s.txt" % (rep, workload, threads, name))
    try:
        m = bench.run_cell(t, workload, threads, timeout=bench.SECONDS + 120, log=log)
    finally:
        bench.SB_COMMON = saved
        after = pool.scrape(t)
        if t.proc:
            bench.stop_targets([t])
    n = m["units"] or float("nan")
    m["servers_cpu_per_unit"] = (server_ticks() - s0) / bench.TICK * 1e6 / n
    m["share"] = shares(before, after) if name != "direct" else {
        "primary": 1.0, "replica1": 0.0, "replica2": 0.0}
    m["repeat"] = rep
    return m


def cell_table(rows, workload, threads):
    fmt, spread, med = bench.fmt, bench.spread, bench.med
    lines = ["\n### %s%s, %d client threads\n" % (
                 workload, " (--skip_trx=on)" if workload == "oltp_read_only" else "", threads),
             "| variant | QPS | p50 ms | p99 ms | myring CPU us/query | servers CPU us/query "
             "| share primary / replica1 / replica2 | errors | failed runs |",
             "|---|---|---|---|---|---|---|---|---|"]
    agg = {}
    for name in VARIANTS:
        rs = [r for r in rows if r["target"] == name and r["workload"] == workload
              and r["threads"] == threads]
        ok = [r for r in rs if r["ok"]]
        agg[name] = {"rate": med([r["rate"] for r in ok]),
                     "p99": med([r["p99_us"] for r in ok])}
        share = " / ".join("%s %%" % fmt(med([r["share"][s] * 100 for r in ok]), 0)
                           for s in ("primary", "replica1", "replica2"))
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (
            name, spread([r["rate"] for r in ok], 0),
            spread([r["p50_us"] / 1000 for r in ok], 2),
            spread([r["p99_us"] / 1000 for r in ok], 2),
            spread([r["cpu_per_unit"] for r in ok], 1) if name != "direct" else "-",
            spread([r["servers_cpu_per_unit"] for r in ok], 1), share,
            spread([r["errors"] for r in ok], 0), len(rs) - len(ok), len(rs)))

    def ratio(a, b):
        return a / b if a == a and b == b and b else float("nan")

    lines.append("\nsplit/direct QPS **%s**, split/pooled QPS **%s**; p99 split/direct **%s**" % (
        fmt(ratio(agg["split"]["rate"], agg["direct"]["rate"]), 2),
        fmt(ratio(agg["split"]["rate"], agg["pooled"]["rate"]), 2),
        fmt(ratio(agg["split"]["p99"], agg["direct"]["p99"]), 2)))
    return "\n".join(lines)


def main():
    os.makedirs(LOGS, exist_ok=True)
    rows = []
    for rep in range(bench.REPEATS):
        for workload, threads in CELLS:
            # Interleaved, rotated so that no variant always runs first.
            order = VARIANTS[rep % len(VARIANTS):] + VARIANTS[:rep % len(VARIANTS)]
            for name in order:
                m = run_one(rep, name, workload, threads)
                rows.append(m)
                print("groups: r%d %s@%d %s: %.0f QPS, p99 %.2f ms%s" % (
                    rep, workload, threads, name, m["rate"], m["p99_us"] / 1000,
                    "" if m["ok"] else " FAILED: " + m["error"]), flush=True)
    md = ["## groups%s: read/write split over a primary and two replicas\n" % (
              " quick" if bench.QUICK else ""),
          "%d repeats x %d s per cell, median (min-max); %d tables x %d rows; all three "
          "servers, sysbench and myring share this machine's %d CPUs, so the replicas add no "
          "hardware: on real hosts each server has its own." % (
              bench.REPEATS, bench.SECONDS, bench.TABLES, bench.TABLE_SIZE, os.cpu_count())]
    for workload, threads in CELLS:
        md.append(cell_table(rows, workload, threads))
    bench.publish("groups.md", "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
