#!/usr/bin/env python3
"""Sharding benchmark (see perf/shards.sh).  For each repeat, for each
cell, each variant in turn (rotated per repeat):

  direct     the reference server itself, all rows on one server
  unsharded  myring --auth proxy --backend REF: the same server through
             myring, no keyspace (what the sharded figures compare with)
  sharded    myring with the keyspace: sbtest1..N sharded by id (hash)
             over four shards, one server each
  keyspace1  myring with the same keyspace over one shard, the reference
             (point_select and read_write only): the parser and planner
             run, the servers are unsharded's, so against unsharded it
             isolates what planning costs from what four servers cost
  paced      unsharded again, point_select only, after sharded in each repeat,
             with sysbench --rate at the QPS sharded just reached: myring's
             CPU per query at the same load, since a proxy that is less busy
             batches less per loop turn and pays more per query

Cells: sysbench oltp_point_select (single-shard statements), the same with
sysbench's prepared statements (each execution routed by its bound key), oltp_read_write
with --skip_trx=on (each statement autocommits: inside BEGIN..COMMIT its
writes to random ids make nearly every transaction a distributed one, which
perf/xa.sh measures), and three scatter aggregates over sbtestall
(every table's rows in one table, 1M rows in the full run; perf/shards-scatter.lua,
one client: latency per query).  Text queries
except the prepared cell (point_select only: read_write's range SELECTs run
as prepared executions over several shards, re-planned as text, a cost of
their own), uniform ids.

Reported: QPS, p50/p99, myring's CPU per query, the servers' CPU per query
(the reference's, or the four shards' together), and a profile of the
sharded myring (perf record) under each scatter query and point_select:
the share of samples in the merge, in the parser and planner, in the
fanout, elsewhere in myring, in libraries and in the kernel.

Environment: what perf/bench.py reads (MARIADB_* = the reference), plus
SHARDS_SHARDED_CONFIG, SHARD{0..3}_PID, REF_PORT, REF_PID, SHARDS_PREPARED.
"""
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import bench  # noqa: E402

OUT = bench.OUT
LOGS = os.path.join(OUT, "shards-logs")
ENV = os.environ
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCATTER = os.path.join(HERE, "shards-scatter.lua")
REF = (int(ENV["REF_PORT"]), int(ENV["REF_PID"]))
SHARD_PIDS = [int(ENV["SHARD%d_PID" % i]) for i in range(4)]
bench.SB_COMMON = [a for a in bench.SB_COMMON if not a.startswith(
    ("--db-ps-mode", "--mysql-ignore-errors", "--rand-type", "--mysql-db"))] + [
    "--mysql-db=sbtest", "--db-ps-mode=disable", "--rand-type=uniform",
    "--mysql-ignore-errors=1213,1205"]
VARIANTS = ["direct", "unsharded", "keyspace1", "sharded"]
QUERIES = {
    "count": "SELECT COUNT(*) FROM sbtestall",
    "groupby": "SELECT k % 100 AS g, SUM(k), COUNT(*) FROM sbtestall GROUP BY g ORDER BY g",
    "topn": "SELECT id, k FROM sbtestall ORDER BY k DESC LIMIT 10",
}
if bench.QUICK:
    bench.SECONDS = 3
    PROFILE_SECONDS = 3
    CELLS = [("oltp_point_select", 8), ("oltp_point_select", 32),
             ("oltp_point_select:ps", 32), ("oltp_read_write", 32),
             ("scatter:count", 1), ("scatter:groupby", 1), ("scatter:topn", 1)]
else:
    bench.SECONDS = int(ENV.get("BENCH_SECONDS", "8"))
    PROFILE_SECONDS = 8
    CELLS = [("oltp_point_select", 8), ("oltp_point_select", 32),
             ("oltp_point_select:ps", 8), ("oltp_point_select:ps", 32),
             ("oltp_read_write", 8), ("oltp_read_write", 32),
             ("scatter:count", 1), ("scatter:groupby", 1), ("scatter:topn", 1)]


def start(name):
    port = bench.free_port()
    argv = [ENV["BENCH_MYRING"], "--listen", "127.0.0.1:%d" % port, "--log-level", "warn",
            "--digests", "off"]
    if name == "sharded":
        argv += ["--config", ENV["SHARDS_SHARDED_CONFIG"]]
    elif name == "keyspace1":
        argv += ["--config", ENV["SHARDS_KEYSPACE1_CONFIG"]]
    else:
        argv += ["--auth", "proxy", "--user", "myring:myring-pw",
                 "--backend", "127.0.0.1:%d" % REF[0]]
    log = open(os.path.join(OUT, "shards-myring-%s.log" % name), "a")
    p = subprocess.Popen(argv, stderr=log)
    bench.wait_port(port)
    return bench.Target(name, port, p.pid, p)


def server_pids(name):
    return SHARD_PIDS if name == "sharded" else [REF[1]]


def server_ticks(name):
    return sum(bench.cpu_ticks(pid) for pid in server_pids(name))


def variants(workload, paced=True):
    # A keyspace of one shard forwards a scatter query whole: nothing to see.
    vs = [v for v in VARIANTS if v != "keyspace1" or not workload.startswith("scatter:")]
    return vs + (["paced"] if paced and workload == "oltp_point_select" else [])


def run_one(rep, name, workload, threads, rate=None):
    t = bench.Target(name, REF[0], REF[1]) if name == "direct" else start(name)
    saved = bench.SB_COMMON
    if rate:
        bench.SB_COMMON = saved + ["--rate=%d" % rate]
    if workload.startswith("scatter:"):
        bench.SB_COMMON = bench.SB_COMMON + ["--scatter=" + workload.split(":")[1]]
        sb_workload = SCATTER
    elif workload.endswith(":ps"):
        # sysbench's default: server-side prepared statements, each
        # execution routed by the key it binds.
        bench.SB_COMMON = [a if a != "--db-ps-mode=disable" else "--db-ps-mode=auto"
                           for a in bench.SB_COMMON]
        sb_workload = workload.split(":")[0]
    else:
        bench.SB_COMMON = bench.SB_COMMON + (
            ["--skip_trx=on"] if workload == "oltp_read_write" else [])
        sb_workload = workload
    s0 = server_ticks(name)
    log = os.path.join(LOGS, "r%d-%s-%d-%s.txt" % (rep, workload.replace(":", "-"),
                                                  threads, name))
    try:
        m = bench.run_cell(t, sb_workload, threads, timeout=bench.SECONDS + 120, log=log)
    finally:
        bench.SB_COMMON = saved
        if t.proc:
            bench.stop_targets([t])
    m["workload"] = workload
    n = m["units"] or float("nan")
    m["servers_cpu_per_unit"] = (server_ticks(name) - s0) / bench.TICK * 1e6 / n
    m["repeat"] = rep
    return m


def client(port, sql):
    r = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", "-P%d" % port, "-umyring",
                        "-pmyring-pw", "-N", "-B", "sbtest", "-e", sql],
                       capture_output=True, text=True, timeout=120)
    return r.stdout if r.returncode == 0 else "ERROR: " + r.stderr.strip()


def check_results():
    """The scatter queries' answers through the sharded myring against the
    reference's.  ORDER BY k DESC LIMIT 10 compares k only: rows that tie
    on k may come in either order, and either is a right answer."""
    t = start("sharded")
    lines = []
    try:
        for name, sql in QUERIES.items():
            ref, got = client(REF[0], sql), client(t.port, sql)
            if name == "topn":
                ref, got = ([line.split("\t")[-1] for line in x.split("\n")]
                            for x in (ref, got))
            same = ref == got
            lines.append("- `%s`: %s" % (sql, "same answer as the reference" if same else
                                         "**differs**: reference %r, sharded %r" % (
                                             ref[:300], got[:300])))
    finally:
        bench.stop_targets([t])
    return "\n".join(lines)


def ratio(a, b):
    return a / b if a == a and b == b and b else float("nan")


def title(workload, threads):
    if workload.startswith("scatter:"):
        return "scatter `%s`, %d client" % (QUERIES[workload.split(":")[1]], threads)
    if workload.endswith(":ps"):
        return "%s with prepared statements, %d client threads" % (
            workload.split(":")[0], threads)
    return "%s%s, %d client threads" % (
        workload, " (--skip_trx=on)" if workload == "oltp_read_write" else "", threads)


def cell_table(rows, workload, threads, summary):
    fmt, spread, med = bench.fmt, bench.spread, bench.med
    scatter = workload.startswith("scatter:")
    lines = ["\n### %s\n" % title(workload, threads),
             "| variant | QPS | p50 ms | p99 ms | myring CPU us/query | servers CPU us/query "
             "| errors | failed runs |",
             "|---|---|---|---|---|---|---|---|"]
    agg = {}
    for name in variants(workload):
        rs = [r for r in rows if r["target"] == name and r["workload"] == workload
              and r["threads"] == threads]
        ok = [r for r in rs if r["ok"]]
        agg[name] = {k: med([r[k] for r in ok]) for k in ("rate", "p50_us", "p99_us",
                                                          "cpu_per_unit")}
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (
            name, spread([r["rate"] for r in ok], 0),
            spread([r["p50_us"] / 1000 for r in ok], 2 if not scatter else 1),
            spread([r["p99_us"] / 1000 for r in ok], 2 if not scatter else 1),
            spread([r["cpu_per_unit"] for r in ok], 1) if name != "direct" else "-",
            spread([r["servers_cpu_per_unit"] for r in ok], 1),
            spread([r["errors"] for r in ok], 0), len(rs) - len(ok), len(rs)))
        for r in rs:
            if not r["ok"]:
                lines.append("\n%s failed (repeat %d): `%s`" % (name, r["repeat"], r["error"]))
    cpu_ratio = ratio(agg["sharded"]["cpu_per_unit"], agg["unsharded"]["cpu_per_unit"])
    k1_ratio = ratio(agg["keyspace1"]["cpu_per_unit"], agg["unsharded"]["cpu_per_unit"]) \
        if "keyspace1" in agg else float("nan")
    paced_ratio = ratio(agg["sharded"]["cpu_per_unit"], agg["paced"]["cpu_per_unit"]) \
        if "paced" in agg else float("nan")
    summary[(workload, threads)] = (cpu_ratio, k1_ratio, paced_ratio)
    lines.append("\nsharded/unsharded: QPS **%s**, myring CPU per query **%s**, p50 **%s**; "
                 "sharded/direct QPS **%s**%s" % (
                     fmt(ratio(agg["sharded"]["rate"], agg["unsharded"]["rate"]), 2),
                     fmt(cpu_ratio, 2),
                     fmt(ratio(agg["sharded"]["p50_us"], agg["unsharded"]["p50_us"]), 2),
                     fmt(ratio(agg["sharded"]["rate"], agg["direct"]["rate"]), 2),
                     "; keyspace1/unsharded myring CPU per query **%s**" % fmt(k1_ratio, 2)
                     if "keyspace1" in agg else "") +
                 ("; sharded/paced myring CPU per query **%s** (paced: unsharded with "
                  "sysbench `--rate` at sharded's QPS)" % fmt(paced_ratio, 2)
                  if "paced" in agg else ""))
    return "\n".join(lines)


# ---- profile of the sharded myring ----------------------------------------

# Which of myring's source files a function's samples count for.
PROFILE_GROUPS = [
    ("merge (merge, merge_types, rs_codec, mysql_value, mysql_decimal, collation)",
     ("merge", "merge_types", "rs_codec", "mysql_value", "mysql_decimal", "collation",
      "collation_tables")),
    ("parse + plan (sql_*, shard_plan*, shard_map)",
     ("sql_*", "shard_plan*", "shard_map")),
    ("fanout (session_shard)", ("session_shard",)),
]


def symbol_files():
    """{function name: object file stem} from build/obj/*.o (defined text
    symbols; a static name defined in several files keeps the first)."""
    out = {}
    for obj in sorted(glob.glob(os.path.join(ROOT, "build", "obj", "*.o"))):
        stem = os.path.basename(obj)[:-2]
        r = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True)
        for line in r.stdout.split("\n"):
            parts = line.split()
            if len(parts) == 3 and parts[1] in "Tt":
                out.setdefault(parts[2], stem)
    return out


def group_of(stem):
    import fnmatch
    for label, pats in PROFILE_GROUPS:
        if any(fnmatch.fnmatch(stem, p) for p in pats):
            return label
    return None


def perf_event():
    r = subprocess.run(["perf", "stat", "-e", "cycles", "true"], capture_output=True, text=True)
    return "cycles" if r.returncode == 0 and "not supported" not in r.stderr else "cpu-clock"


def profile(workload, threads, event, files):
    """perf record of a fresh sharded myring under one workload; returns
    ({group: share of samples}, top functions, queries) or an error text."""
    t = start("sharded")
    data = os.path.join(OUT, "shards-perf-%s.data" % workload.replace(":", "-"))
    saved = bench.SB_COMMON
    if workload.startswith("scatter:"):
        bench.SB_COMMON = saved + ["--scatter=" + workload.split(":")[1]]
        sb_workload = SCATTER
    else:
        sb_workload = workload
    seconds = bench.SECONDS
    bench.SECONDS = PROFILE_SECONDS + 2
    rec = subprocess.Popen(["perf", "record", "-e", event, "-F", "2999", "-p", str(t.pid),
                            "-o", data, "--", "sleep", str(PROFILE_SECONDS)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        m = bench.run_cell(t, sb_workload, threads, timeout=PROFILE_SECONDS + 120,
                           log=os.path.join(LOGS, "profile-%s.txt" % workload.replace(":", "-")))
    finally:
        bench.SB_COMMON, bench.SECONDS = saved, seconds
        _, err = rec.communicate()
        bench.stop_targets([t])
    if rec.returncode != 0:
        return "perf record failed: " + err.strip()[-200:]
    rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-q",
                          "--sort", "dso,sym", "--percent-limit", "0"],
                         capture_output=True, text=True)
    shares = {label: 0.0 for label, _ in PROFILE_GROUPS}
    shares.update({"myring, other": 0.0, "libraries (libc, mimalloc, ...)": 0.0,
                   "kernel": 0.0})
    top = []
    for line in rep.stdout.split("\n"):
        mm = re.match(r"^\s*([0-9.]+)%\s+(\S+)\s+\[([.k])\]\s+(\S+)", line)
        if not mm:
            continue
        pct, dso, space, sym = float(mm.group(1)), mm.group(2), mm.group(3), mm.group(4)
        if space == "k" or dso.startswith("[kernel"):
            key = "kernel"
        elif dso == "myring":
            key = group_of(files.get(sym, "")) or "myring, other"
        else:
            key = "libraries (libc, mimalloc, ...)"
        shares[key] += pct
        if dso == "myring" and len(top) < 8:
            top.append("%s %.1f%%" % (sym, pct))
    if not rep.stdout.strip():
        return "perf report gave nothing: " + rep.stderr.strip()[-200:]
    return shares, top, m


def profile_section():
    if subprocess.run(["sh", "-c", "command -v perf"], capture_output=True).returncode != 0:
        return "\n### Profile\n\nperf is not installed (`scripts/deps.sh perf`): no profile.\n"
    event, files = perf_event(), symbol_files()
    cells = [("scatter:count", 1), ("scatter:groupby", 1), ("scatter:topn", 1),
             ("oltp_point_select", 32)]
    lines = ["\n### Where the sharded myring's CPU goes\n",
             "`perf record -e %s -F 2999` of the sharded myring, %d s per workload, self "
             "samples by the source file of the function they fell in (static functions "
             "inlined into a caller count for the caller's file)." % (event, PROFILE_SECONDS),
             ""]
    results = []
    for workload, threads in cells:
        r = profile(workload, threads, event, files)
        print("shards: profile %s: %s" % (workload, "done" if isinstance(r, tuple) else r),
              flush=True)
        results.append((workload, threads, r))
    groups = [label for label, _ in PROFILE_GROUPS] + [
        "myring, other", "libraries (libc, mimalloc, ...)", "kernel"]
    heads = ["%s @%d" % (w.replace("scatter:", "scatter "), t) for w, t, _ in results]
    lines.append("| share of samples | " + " | ".join(heads) + " |")
    lines.append("|---|" + "---|" * len(results))
    for g in groups:
        lines.append("| %s | %s |" % (g, " | ".join(
            "%.1f %%" % r[0][g] if isinstance(r, tuple) else "n/a" for _, _, r in results)))
    lines.append("")
    for w, t, r in results:
        if isinstance(r, tuple):
            lines.append("- %s @%d, myring's top functions: %s" % (w, t, ", ".join(r[1])))
        else:
            lines.append("- %s @%d: %s" % (w, t, r))
    return "\n".join(lines) + "\n"


def main():
    os.makedirs(LOGS, exist_ok=True)
    agree = check_results()
    print(agree, flush=True)
    rows = []
    t_start = bench.time.time()
    for rep in range(bench.REPEATS):
        for workload, threads in CELLS:
            vs = variants(workload, paced=False)
            order = vs[rep % len(vs):] + vs[:rep % len(vs)]
            if workload == "oltp_point_select":
                order.append("paced")
            for name in order:
                rate = None
                if name == "paced":
                    rate = rows[-1 - order[::-1][1:].index("sharded")]["rate"]
                m = run_one(rep, name, workload, threads, rate=rate)
                rows.append(m)
                print("shards: r%d %s@%d %s: %.0f QPS, p50 %.2f ms, myring %.1f us/q%s" % (
                    rep, workload, threads, name, m["rate"], m["p50_us"] / 1000,
                    m["cpu_per_unit"] if name != "direct" else float("nan"),
                    "" if m["ok"] else " FAILED: " + m["error"]), flush=True)
    summary = {}
    md = ["## shards%s: sysbench's tables sharded over four servers\n" % (
              " quick" if bench.QUICK else ""),
          "%d repeats x %d s per cell, median [min..max]; %d tables x %d rows (%d in all), "
          "sbtest1..%d and sbtestall (their rows in one table, what the scatter queries read) "
          "sharded by id (hash) over four MariaDB servers (sharded) or all on one "
          "(direct, unsharded); data: %s. Text queries, uniform ids, myring with "
          "`--digests off`. The five servers, sysbench and myring share this machine's %d "
          "CPUs: the shards add no hardware, so QPS shows costs, not the gain of spreading "
          "rows over hosts. Servers' CPU: the reference's (direct, unsharded) or the four "
          "shards' together (sharded)." % (
              bench.REPEATS, bench.SECONDS, bench.TABLES, bench.TABLE_SIZE,
              bench.TABLES * bench.TABLE_SIZE, bench.TABLES, ENV.get("SHARDS_PREPARED", "?"),
              os.cpu_count())]
    md.append("\nThe scatter queries through the sharded myring, checked against the "
              "reference before the runs:\n\n" + agree)
    for workload, threads in CELLS:
        md.append(cell_table(rows, workload, threads, summary))
    md.append("\n### Targets\n\n| target | bound | measured | |\n|---|---|---|---|")
    for (workload, threads), (v, k1, pc) in summary.items():
        if not workload.startswith("oltp_point_select"):
            continue
        what = "point_select%s @%d" % (" (prepared)" if workload.endswith(":ps") else "",
                                       threads)
        md.append("| myring CPU per query, sharded/unsharded, %s | <= 1.3 | %s "
                  "| %s |" % (what, bench.fmt(v, 2),
                              "met" if v == v and v <= 1.3 else "**missed**"))
        md.append("| (keyspace1/unsharded, planning alone, %s) | <= 1.3 | %s "
                  "| %s |" % (what, bench.fmt(k1, 2),
                              "met" if k1 == k1 and k1 <= 1.3 else "**missed**"))
        if workload.endswith(":ps"):
            continue
        md.append("| (sharded/paced, at the same QPS, point_select @%d) | <= 1.3 | %s "
                  "| %s |" % (threads, bench.fmt(pc, 2),
                              "met" if pc == pc and pc <= 1.3 else "**missed**"))
    md.append(profile_section())
    md.append("Run took %.0f s." % (bench.time.time() - t_start))
    bench.publish("shards.md", "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
