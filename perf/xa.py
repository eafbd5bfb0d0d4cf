#!/usr/bin/env python3
"""Distributed transactions benchmark (see perf/xa.sh).  For each repeat,
for each client count, each variant in turn (rotated per repeat), a fresh
myring over the four shards runs perf/xa.lua:

  1 shard    BEGIN; UPDATE one account; COMMIT: an ordinary transaction
             on one shard (what myring does without a keyspace, plus
             routing)
  2 shards   BEGIN; UPDATE an account on each of two shards; COMMIT: the
             second shard joins as an XA branch, COMMIT is a two-phase
             commit with a decision record (docs/transactions.md)
  4 shards   the same over all four shards

and, autocommit (perf/xa.lua --mode=autocommit), one statement per event:

  1 shard    UPDATE accounts ... WHERE id = a: an ordinary autocommit write
  2 shards   UPDATE accounts ... WHERE id IN (a, b), a and b on two shards:
             atomic over them, a distributed transaction of its own
             (decision shard, XA branch, two-phase commit)
  4 shards   the same with one account on each of the four shards

Reported: transactions per second, transaction latency p50/p99 (sysbench)
and COMMIT latency p50/p99 (perf/xa.lua's own samples), myring's CPU per
transaction, the four shards' CPU per transaction, and for the XA
variants the average time of each commit phase from myring's counters
(xa_prepare_us, xa_record_us, xa_decide_us, xa_finish_us over
xa_committed), with the share of the COMMIT's latency each takes.

Environment: perf/xa.sh sets XA_CONFIG, XA_RIG, SHARD{0..3}_PID and what
perf/bench.py reads."""
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import bench  # noqa: E402

ENV = os.environ
OUT = bench.OUT
LOGS = os.path.join(OUT, "xa-logs")
HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "xa.lua")
RIG = ENV["XA_RIG"]
SHARD_PIDS = [int(ENV["SHARD%d_PID" % i]) for i in range(4)]
SECONDS = 3 if bench.QUICK else int(ENV.get("BENCH_SECONDS", "8"))
THREADS = [8, 32] if not bench.QUICK else [8]
VARIANTS = [1, 2, 4]
PHASES = ["prepare", "record", "decide", "finish"]
SB = ["--mysql-host=127.0.0.1", "--mysql-user=myring", "--mysql-password=myring-pw",
      "--mysql-db=bank", "--db-ps-mode=disable", "--report-interval=0",
      "--histogram=on", "--percentile=99",
      # deadlocks and lock waits between transfers: sysbench counts them
      # and runs the event again (perf/xa.lua rolls back first)
      "--mysql-ignore-errors=1213,1205,1402"]


def admin_stats(port):
    r = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", "-P%d" % port, "-uadmin",
                        "-pxa-bench", "-N", "-B", "-e",
                        "SELECT Variable_name, Value FROM stats.stats "
                        "WHERE Variable_name LIKE 'xa\\_%'"],
                       capture_output=True, text=True, timeout=30)
    stats = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition("\t")
        try:
            stats[k] = int(v)
        except ValueError:
            pass
    return stats


def start():
    port, admin = bench.free_port(), bench.free_port()
    log = open(os.path.join(OUT, "xa-myring.log"), "a")
    p = subprocess.Popen([ENV["BENCH_MYRING"], "--config", ENV["XA_CONFIG"],
                          "--listen", "127.0.0.1:%d" % port,
                          "--admin", "127.0.0.1:%d" % admin,
                          "--log-level", "warn", "--digests", "off"], stderr=log)
    bench.wait_port(port)
    bench.wait_port(admin)
    return bench.Target("myring", port, p.pid, p), admin


def shard_ticks():
    return sum(bench.cpu_ticks(pid) for pid in SHARD_PIDS)


def commit_samples(prefix):
    vals = []
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            vals += [float(x) for x in f if x.strip()]
        os.unlink(path)
    vals.sort()
    if not vals:
        return {50: float("nan"), 99: float("nan")}
    return {p: vals[min(len(vals) - 1, int(len(vals) * p / 100))] for p in (50, 99)}


def run_one(rep, shards, threads, mode="txn"):
    t, admin = start()
    prefix = os.path.join(OUT, "xa-commit-samples")
    argv = ["sysbench", LUA] + SB + [
        "--mysql-port=%d" % t.port, "--threads=%d" % threads, "--time=%d" % SECONDS,
        "--shards=%d" % shards, "--ids-dir=%s" % RIG, "--samples=%s" % prefix,
        "--mode=%s" % mode, "run"]
    s0, c0, st0 = shard_ticks(), bench.cpu_ticks(t.pid), admin_stats(admin)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=SECONDS + 120)
    cpu = (bench.cpu_ticks(t.pid) - c0) / bench.TICK
    scpu = (shard_ticks() - s0) / bench.TICK
    st1 = admin_stats(admin)
    bench.stop_targets([t])
    with open(os.path.join(LOGS, "r%d-%d-%d-%s.txt" % (rep, shards, threads, mode)),
              "w") as f:
        f.write(" ".join(argv) + "\n" + r.stdout + r.stderr)
    m = {"shards": shards, "threads": threads, "mode": mode, "ok": r.returncode == 0}
    import re
    tx = re.search(r"transactions:\s+(\d+)\s+\(([0-9.]+) per sec", r.stdout)
    ig = re.search(r"ignored errors:\s+(\d+)", r.stdout)
    n, tps = (int(tx.group(1)), float(tx.group(2))) if tx else (0, 0.0)
    pct = bench.percentiles_from_hist(r.stdout)
    com = commit_samples(prefix)
    committed = st1.get("xa_committed", 0) - st0.get("xa_committed", 0)
    m.update(n=n, tps=tps, p50=pct[50], p99=pct[99], commit_p50=com[50],
             commit_p99=com[99], cpu=cpu * 1e6 / n if n else float("nan"),
             shard_cpu=scpu * 1e6 / n if n else float("nan"),
             ignored=int(ig.group(1)) if ig else 0, xa_committed=committed,
             xa_rolled_back=st1.get("xa_rolled_back", 0) - st0.get("xa_rolled_back", 0))
    for ph in PHASES:
        k = "xa_%s_us" % ph
        d = st1.get(k, 0) - st0.get(k, 0)
        m[ph] = d / committed if committed else float("nan")
    if not m["ok"]:
        sys.stderr.write("xa: %d shards @%d failed: %s\n" % (shards, threads,
                                                             (r.stderr or r.stdout)[-400:]))
    return m


def variant_table(md, rows, threads, header, label, after_p99, before_ratio):
    """One row per variant (1, 2, 4 shards) of the cells at threads: the
    throughput, p50 / p99, after_p99(cells), the CPU columns,
    before_ratio(cells) and the throughput against one shard."""
    md.append(header)
    md.append("|---" * header.count(" | ") + "|---|")
    base = bench.med([r["tps"] for r in rows if r["threads"] == threads and r["shards"] == 1])
    for shards in VARIANTS:
        c = [r for r in rows if r["threads"] == threads and r["shards"] == shards]
        tps = bench.med([r["tps"] for r in c])
        cols = ([bench.spread([r["tps"] for r in c], 0),
                 bench.fmt(bench.med([r["p50"] for r in c]), 0) + " / " +
                 bench.fmt(bench.med([r["p99"] for r in c]), 0)] + after_p99(c) +
                [bench.spread([r["cpu"] for r in c]),
                 bench.spread([r["shard_cpu"] for r in c], 0)] + before_ratio(c) +
                [bench.fmt(tps / base if base else float("nan"), 2)])
        md.append("| %d%s | %s |" % (shards, label(shards), " | ".join(cols)))


def main():
    os.makedirs(LOGS, exist_ok=True)
    rows = []
    for rep in range(bench.REPEATS):
        for threads in THREADS:
            order = VARIANTS[rep % 3:] + VARIANTS[:rep % 3]
            cells = [(s, "txn") for s in order] + [(s, "autocommit") for s in order]
            if rep % 2:
                cells.reverse()
            for shards, mode in cells:
                m = run_one(rep, shards, threads, mode)
                rows.append(m)
                print("xa: r%d %s %d shard(s) @%d: %.0f tx/s, p50 %.0f us, commit p50 "
                      "%.0f us, myring %.1f us/tx" % (rep, mode, shards, threads, m["tps"],
                                                      m["p50"], m["commit_p50"], m["cpu"]),
                      flush=True)
    auto = [r for r in rows if r["mode"] == "autocommit"]
    rows = [r for r in rows if r["mode"] == "txn"]
    md = ["## xa: transactions over one, two and four shards\n",
          "One interleaved run (perf/xa.sh): %d repeats x %d s per cell, a fresh myring "
          "(default workers) over the four MariaDB shards of scripts/shards.sh, "
          "%s accounts in bank.accounts sharded by id. Each transaction: BEGIN, one "
          "UPDATE of a random account per shard it touches, COMMIT (perf/xa.lua). "
          "Medians [min..max] over the repeats. The shards, sysbench and myring share "
          "this machine's %d cores.%s\n" % (bench.REPEATS, SECONDS, ENV.get("XA_ACCOUNTS"),
                                            os.cpu_count(),
                                            " " + ENV["BENCH_NOTE"] if ENV.get("BENCH_NOTE")
                                            else "")]
    for threads in THREADS:
        md.append("### %d clients\n" % threads)
        variant_table(md, rows, threads,
                      "| shards per transaction | tx/s | tx p50 / p99 (us) | COMMIT p50 / p99 "
                      "(us) | myring CPU us/tx | shards' CPU us/tx | retried (deadlocks) "
                      "| tx/s vs 1 shard |",
                      lambda shards: " (ordinary)" if shards == 1 else " (XA)",
                      lambda c: [bench.fmt(bench.med([r["commit_p50"] for r in c]), 0) + " / " +
                                 bench.fmt(bench.med([r["commit_p99"] for r in c]), 0)],
                      lambda c: [bench.fmt(bench.med([r["ignored"] for r in c]), 0)])
        md.append("")
        md.append("Where a two-phase COMMIT's time goes (average per committed "
                  "transaction, from myring's xa_*_us counters; the share is of the "
                  "COMMIT's p50 latency seen by the client):\n")
        md.append("| shards | prepare (XA END + PREPARE, all, and the record) | "
                  "decision record INSERT (within prepare) | decision COMMIT | "
                  "branch XA COMMITs | sum | share of COMMIT p50 |")
        md.append("|---|---|---|---|---|---|---|")
        for shards in VARIANTS[1:]:
            c = [r for r in rows if r["threads"] == threads and r["shards"] == shards]
            ph = [bench.med([r[p] for r in c]) for p in PHASES]
            # the record runs beside the prepares: not added again
            total = ph[0] + ph[2] + ph[3]
            cp50 = bench.med([r["commit_p50"] for r in c])
            md.append("| %d | %s | %s | %s | %s | %s | %s |" % (
                shards, *("%s us" % bench.fmt(x, 0) for x in ph), "%s us" % bench.fmt(total, 0),
                bench.fmt(total / cp50 if cp50 else float("nan"), 2)))
        md.append("")
    md.append("### Atomic autocommit writes over shards\n")
    md.append("One autocommit statement per event (perf/xa.lua --mode=autocommit): "
              "`UPDATE accounts SET balance = balance + 1 WHERE id = a` on one shard, "
              "or `... WHERE id IN (a, b[, c, d])` with one account on each of 2 or 4 "
              "shards, which myring runs as a distributed transaction of its own "
              "(docs/transactions.md). Same run, same cells interleaved with the "
              "transactions above. Latency is the statement's (sysbench's event).\n")
    for threads in THREADS:
        md.append("#### %d clients\n" % threads)
        variant_table(md, auto, threads,
                      "| shards per statement | statements/s | p50 / p99 (us) | myring CPU "
                      "us/statement | shards' CPU us/statement | two-phase commits per "
                      "statement | statements/s vs 1 shard |",
                      lambda shards: " (WHERE id = a)" if shards == 1 else
                      " (WHERE id IN ...)",
                      lambda c: [],
                      lambda c: [bench.fmt(bench.med([r["xa_committed"] / r["n"] if r["n"]
                                                      else float("nan") for r in c]), 2)])
        md.append("")
    rows += auto
    failed = [r for r in rows if not r["ok"]]
    if failed:
        md.append("Failed runs: %d (see perf/out/xa-logs)\n" % len(failed))
    bench.publish("xa.md", "\n".join(md) + "\n")


main()
