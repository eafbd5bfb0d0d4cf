#!/usr/bin/env python3
"""Pooling benchmark (see perf/pool.sh): many clients over few server
connections.  For each repeat, for each cell, each variant in turn:

  direct       MariaDB itself, a server connection (thread) per client
  transaction  myring --auth proxy --pool transaction --pool-size 64
  session      myring --auth proxy --pool session, a pool as large as the
               largest cell (a server connection per client, for life)

Cells: sysbench oltp_point_select and oltp_read_write at 32, 1000 and 4000
client threads (text queries: --db-ps-mode=disable), and the driver-style
workload of perf/loadgen.c (SET NAMES, SET autocommit, SET sql_mode, USE,
server-side prepared statements).  Each run starts its myring afresh and
stops it after, so the server's connection count during a run is that
run's alone: its peak is sampled every 200 ms over a root connection
(Threads_connected) and read exactly (Max_used_connections after FLUSH
STATUS), minus that root connection itself.

Environment: what perf/bench.py reads, plus MARIADB_SOCKET and
POOL_CONNS_FILE (perf/conns.sh --auth-proxy output, for the idle-client
memory figure).
"""
import csv
import os
import re
import resource
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import bench  # noqa: E402  (reads the same BENCH_* environment)

OUT = bench.OUT
LOGS = os.path.join(OUT, "pool-logs")
POOL_SIZE = 64
# Text queries: prepared statements pin a session to its connection until
# statements are mapped per connection, which would make transaction mode
# behave as session mode (the driver cell measures that case).  Uniform
# ids: sysbench's default "special" distribution makes a few rows hot, and
# 4000 clients then mostly wait on each other's row locks.  1040 is the
# pool's "no connection within --pool-wait-ms": counted, not fatal.
bench.SB_COMMON = [a for a in bench.SB_COMMON if not a.startswith(
    ("--db-ps-mode", "--report-interval", "--mysql-ignore-errors"))] + [
    "--db-ps-mode=disable", "--rand-type=uniform", "--report-interval=1",
    "--mysql-ignore-errors=1213,1205,1040"]
if bench.QUICK:
    bench.SECONDS = 2
    CELLS = [("oltp_point_select", 32), ("oltp_point_select", 1000), ("oltp_read_write", 32),
             ("driver", 100)]
else:
    bench.SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
    CELLS = [(w, t) for w in ("oltp_point_select", "oltp_read_write")
             for t in (32, 1000, 4000)] + [("driver", 200)]
MAX_THREADS = max(t for _, t in CELLS)
VARIANTS = [
    ("direct", None),
    ("transaction", ["--pool", "transaction", "--pool-size", str(POOL_SIZE)]),
    ("session", ["--pool", "session", "--pool-size", str(MAX_THREADS + 64)]),
]
# A run may take its --time, plus connecting thousands of clients, plus a
# pool's wait for the last commands; one that takes longer is killed.
RUN_TIMEOUT = bench.SECONDS + 120


class Probe:
    """A root connection to the server over its socket (the mariadb client
    in batch mode, unbuffered), for status variables while clients run."""

    def __init__(self):
        self.lock = threading.Lock()
        self.p = subprocess.Popen(
            ["mariadb", "--no-defaults", "--protocol=socket", "-S", os.environ["MARIADB_SOCKET"],
             "-uroot", "-N", "-B", "--unbuffered", "--force"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            stderr=open(os.path.join(OUT, "pool-probe.log"), "a"))

    def query(self, sql):
        """The rows of sql (lists of fields); a marker row ends them."""
        with self.lock:
            self.p.stdin.write(sql.rstrip("; \n") + ";\nSELECT '--end--';\n")
            self.p.stdin.flush()
            rows = []
            while True:
                line = self.p.stdout.readline()
                if not line:
                    raise RuntimeError("the probe's connection to the server is gone")
                if line.rstrip("\n") == "--end--":
                    return rows
                rows.append(line.rstrip("\n").split("\t"))

    def status(self, name):
        rows = self.query("SHOW GLOBAL STATUS LIKE '%s'" % name)
        return int(rows[0][1]) if rows else -1

    def close(self):
        self.p.stdin.close()
        self.p.wait(10)


def start_myring(name, flags):
    port, mport = bench.free_port(), bench.free_port()
    argv = [os.environ["BENCH_MYRING"], "--listen", "127.0.0.1:%d" % port,
            "--backend", "127.0.0.1:%d" % bench.DB_PORT, "--cpus", bench.CPUS,
            "--log-level", "warn", "--metrics", "127.0.0.1:%d" % mport, "--digests", "off",
            "--auth", "proxy", "--user", "myring:myring-pw"] + flags
    p = subprocess.Popen(argv, stderr=open(os.path.join(OUT, "pool-myring-%s.log" % name), "a"))
    try:
        bench.wait_port(port)
    except RuntimeError:
        p.kill()
        p.wait()
        raise
    t = bench.Target(name, port, p.pid, p)
    t.metrics_port = mport
    return t


def scrape(t):
    """myring's /metrics as {family: {labels: value}}; {} for direct."""
    if not getattr(t, "metrics_port", None):
        return {}
    try:
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % t.metrics_port,
                                      timeout=5).read().decode()
    except OSError:
        return {}
    # A declared family without samples (e.g. no error code seen yet) is
    # there with nothing in it; one myring does not export is absent.
    fams = {name: {} for name in re.findall(r"^# TYPE ([a-z_]+) ", body, re.M)}
    for m in re.finditer(r"^([a-z_]+)(\{[^}]*\})? (\S+)$", body, re.M):
        fams.setdefault(m.group(1), {})[m.group(2) or ""] = float(m.group(3))
    return fams


def delta(before, after, family, label_re=None):
    """The increase of a counter family, summed over its label sets (those
    matching label_re if given); None if myring does not export it."""
    if family not in after:
        return None
    return sum(v - before.get(family, {}).get(labels, 0.0)
               for labels, v in after[family].items()
               if label_re is None or re.search(label_re, labels))


def multiplexed_share(before, after):
    """The share of a run's commands that kept multiplexing on: sent on a
    connection borrowed for them and given back, not on one the session
    kept because something pinned it.  myring counts both exactly:
    myring_pool_commands_total (pooled sessions' commands sent to a
    server) and myring_pool_pinned_commands_total (those sent while the
    session was pinned), so share = 1 - pinned / commands."""
    commands = delta(before, after, "myring_pool_commands_total")
    pinned = delta(before, after, "myring_pool_pinned_commands_total")
    if not commands or pinned is None:
        return None
    return max(0.0, min(1.0, 1.0 - pinned / commands))


def pins_by_reason(before, after):
    if "myring_pins_total" not in after:
        return ""
    out = []
    for labels in sorted(after["myring_pins_total"]):
        r = re.search(r'reason="([^"]*)"', labels)
        n = delta(before, after, "myring_pins_total", re.escape(labels))
        if n:
            out.append("%s %d" % (r.group(1) if r else labels or "all", n))
    return ", ".join(out)


def worst_second(log):
    """The lowest per-second QPS sysbench reported (--report-interval=1)
    within its --time (after it, clients only finish what they started):
    how deep the stalls went."""
    try:
        text = open(log).read()
    except OSError:
        return float("nan")
    qps = [float(q) for t, q in re.findall(r"^\[ *(\d+)s \].* qps: ([0-9.]+)", text, re.M)
           if int(t) <= bench.SECONDS]
    return min(qps) if qps else float("nan")


def wait_quiet(probe, baseline, limit=60):
    """Waits until the server has no client but the probe (a run's
    connections close asynchronously); returns the count left."""
    end = time.time() + limit
    n = probe.status("Threads_connected")
    while n > baseline and time.time() < end:
        time.sleep(0.2)
        n = probe.status("Threads_connected")
    return n - baseline


def run_one(probe, baseline, rep, name, flags, workload, threads):
    left = wait_quiet(probe, baseline)
    if left:
        sys.stderr.write("pool: %d server connections still open before %s %s@%d\n"
                         % (left, name, workload, threads))
    try:
        t = bench.Target(name, bench.DB_PORT, bench.DB_PID) if flags is None else \
            start_myring(name, flags)
    except RuntimeError as e:  # myring did not come up: this run failed
        nan = float("nan")
        return {"target": name, "workload": workload, "threads": threads, "repeat": rep,
                "ok": False, "error": "myring: %s" % e, "rate": 0, "units": 0, "errors": 0,
                "starved": 0, "cpu_per_unit": nan, "server_cpu_per_unit": nan,
                "client_cpu_per_unit": nan, "p50_us": nan, "p95_us": nan, "p99_us": nan,
                "peak_conns": -1, "max_used": -1, "share": nan, "pins": "", "worst_s": nan,
                "wait_timeouts": nan}
    before = scrape(t)
    probe.query("FLUSH STATUS")  # Max_used_connections starts again from now
    samples, stop = [], threading.Event()

    def sampler():
        while not stop.is_set():
            try:
                samples.append(probe.status("Threads_connected"))
            except (RuntimeError, ValueError, IndexError):
                pass
            stop.wait(0.2)

    th = threading.Thread(target=sampler)
    th.start()
    log = os.path.join(LOGS, "r%d-%s-%d-%s.txt" % (rep, workload, threads, name))
    # Where the CPU goes: the server's, and the load generator's (the only
    # child that ends during the run).
    srv0, cli0 = bench.cpu_ticks(bench.DB_PID), resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        m = bench.run_cell(t, workload, threads, timeout=RUN_TIMEOUT, log=log)
        cli1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        n = m["units"] or float("nan")
        m["server_cpu_per_unit"] = (bench.cpu_ticks(bench.DB_PID) - srv0) / bench.TICK * 1e6 / n
        m["client_cpu_per_unit"] = (cli1.ru_utime + cli1.ru_stime - cli0.ru_utime -
                                    cli0.ru_stime) * 1e6 / n
    finally:
        stop.set()
        th.join()
        after = scrape(t)
        if t.proc:
            bench.stop_targets([t])
    timeouts = delta(before, after, "myring_errors_by_code_total", r'code="1040"')
    m.update(repeat=rep, peak_conns=max(samples) - baseline if samples else -1,
             wait_timeouts=float("nan") if timeouts is None else timeouts,
             max_used=probe.status("Max_used_connections") - baseline,
             share=multiplexed_share(before, after), pins=pins_by_reason(before, after),
             worst_s=worst_second(log) if workload not in bench.LOADGEN else float("nan"))
    if m["share"] is None:
        m["share"] = float("nan")
    return m


def ms(x):
    return x / 1000.0 if x == x else x


def cell_table(rows, workload, threads):
    fmt, spread, med = bench.fmt, bench.spread, bench.med
    rate_name, cpu_name = bench.UNIT.get(workload, ("QPS", "CPU us/query"))
    title = ("driver-style workload (perf/loadgen.c driver), %d clients" % threads
             if workload == "driver" else "%s, %d client threads" % (workload, threads))
    lines = ["\n### %s\n" % title,
             "| variant | %s | p50 ms | p99 ms | proxy %s | server / client %s "
             "| server conns peak (sampled / Max_used) | errors (1040: pool wait timed out) "
             "| %s | failed runs |" % (
                 rate_name, cpu_name, cpu_name.replace("CPU ", ""),
                 "multiplexed share" if workload == "driver" else "worst 1 s QPS"),
             "|---|---|---|---|---|---|---|---|---|---|"]
    agg = {}
    for name, _ in VARIANTS:
        rs = [r for r in rows if r["target"] == name and r["workload"] == workload
              and r["threads"] == threads]
        ok = [r for r in rs if r["ok"]]
        failed = [r for r in rs if not r["ok"]]
        agg[name] = {"rate": med([r["rate"] for r in ok]),
                     "cpu": med([r["cpu_per_unit"] for r in ok]),
                     "conns": max([r["max_used"] for r in rs] + [r["peak_conns"] for r in rs])
                     if rs else float("nan")}
        cpu = spread([r["cpu_per_unit"] for r in ok], 2) if name != "direct" else "-"
        others = "%s / %s" % (fmt(med([r["server_cpu_per_unit"] for r in ok]), 2),
                              fmt(med([r["client_cpu_per_unit"] for r in ok]), 2))
        if workload == "driver":
            last = spread([r["share"] * 100 for r in ok], 1)
            last = last + " %" if last != "n/a" else "n/a (no pin counters yet)"
            if name != "transaction":
                last = "-"
        else:
            last = spread([r["worst_s"] for r in ok], 0)
        fail = "0/%d" % len(rs)
        if failed:
            msgs = sorted({r["error"][:90] for r in failed})
            fail = "**%d/%d**: %s" % (len(failed), len(rs), "; ".join(
                m.replace("|", "/") for m in msgs))
        lines.append("| %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s |" % (
            name, spread([r["rate"] for r in ok], 0),
            spread([ms(r["p50_us"]) for r in ok], 2), spread([ms(r["p99_us"]) for r in ok], 2),
            cpu, others, fmt(max([r["peak_conns"] for r in rs], default=float("nan")), 0),
            fmt(max([r["max_used"] for r in rs], default=float("nan")), 0),
            spread([r["errors"] for r in ok], 0) + (
                " (1040: %s)" % fmt(med([r["wait_timeouts"] for r in ok]), 0)
                if name != "direct" else "") + (
                " (starved clients %s)" % spread([r["starved"] for r in ok], 0)
                if workload == "driver" else ""), last, fail))
        pins = sorted({r["pins"] for r in ok if r["pins"]})
        if pins:
            lines.append("| | pins: %s | | | | | | | | |" % "; ".join(pins))
    d, tx, se = agg["direct"], agg["transaction"], agg["session"]

    def ratio(a, b):
        return a / b if a == a and b == b and b else float("nan")

    lines.append("\ntransaction/direct %s **%s**; transaction/session %s **%s**, %s **%s**" % (
        rate_name, fmt(ratio(tx["rate"], d["rate"]), 2), rate_name,
        fmt(ratio(tx["rate"], se["rate"]), 2), cpu_name, fmt(ratio(tx["cpu"], se["cpu"]), 2)))
    return "\n".join(lines), agg


def idle_client_kib():
    path = os.environ.get("POOL_CONNS_FILE", "")
    try:
        text = open(path).read()
    except OSError:
        return float("nan"), ""
    m = re.search(r"idle .*: (-?[0-9.]+) KiB per connection", text)
    first = re.search(r"conns: (\d+) connections", text)
    return (float(m.group(1)) if m else float("nan")), (first.group(1) if first else "?")


def targets(aggs, rows):
    fmt = bench.fmt
    out = ["\n### Targets\n", "| target | bound | measured | |", "|---|---|---|---|"]

    def line(desc, bound, v, bigger, unit=""):
        if v != v:
            verdict, shown = "not measured", "n/a"
        else:
            verdict = "met" if (v >= bound if bigger else v <= bound) else "**missed**"
            shown = ("%d" % v if v == int(v) else fmt(v, 2)) + unit
        out.append("| %s | %s %s%s | %s | %s |" % (desc, ">=" if bigger else "<=", bound, unit,
                                                   shown, verdict))

    for w in ("oltp_point_select", "oltp_read_write"):
        a = aggs.get((w, 1000))
        if a:
            d, tx = a["direct"]["rate"], a["transaction"]["rate"]
            line("QPS transaction / direct, %s @1000" % w, 1.3,
                 tx / d if d == d and tx == tx and d else float("nan"), True)
            line("server connections, transaction, %s @1000" % w, POOL_SIZE,
                 a["transaction"]["conns"], False)
    for w in ("oltp_point_select", "oltp_read_write"):
        a = aggs.get((w, 32))
        if a:
            s, tx = a["session"]["cpu"], a["transaction"]["cpu"]
            line("CPU/query transaction / session, %s @32" % w, 1.15,
                 tx / s if s == s and tx == tx and s else float("nan"), False)
    kib, n = idle_client_kib()
    line("memory per idle client, auth proxy (perf/conns.sh %s --auth-proxy)" % n, 4, kib,
         False, " KiB")
    shares = [r["share"] for r in rows if r["workload"] == "driver"
              and r["target"] == "transaction" and r["ok"]]
    line("driver workload: commands multiplexed, transaction", 95,
         bench.med([s * 100 for s in shares]), True, " %")
    return "\n".join(out)


def main():
    os.makedirs(LOGS, exist_ok=True)
    probe = Probe()
    # Enough for the largest direct cell, plus the probe and stragglers.
    probe.query("SET GLOBAL max_connections = %d" % (MAX_THREADS + 200))
    baseline = probe.status("Threads_connected")
    rows = []
    t0 = time.time()
    try:
        for rep in range(1, bench.REPEATS + 1):
            for workload, threads in CELLS:
                for name, flags in VARIANTS:
                    m = run_one(probe, baseline, rep, name, flags, workload, threads)
                    rows.append(m)
                    print("  r%d %-18s %-11s @%-4d %9.0f %s  cpu %6.2f  conns %4d  errors %d%s" % (
                        rep, workload, name, threads, m["rate"],
                        bench.UNIT.get(workload, ("qps",))[0], m["cpu_per_unit"],
                        max(m["peak_conns"], m["max_used"]), m["errors"],
                        "" if m["ok"] else "  FAILED: " + m["error"]), flush=True)
    finally:
        probe.close()
    with open(os.path.join(OUT, "pool-raw.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=sorted({k for r in rows for k in r}), restval="")
        w.writeheader()
        w.writerows(rows)
    parts, aggs = [], {}
    for workload, threads in CELLS:
        text, aggs[(workload, threads)] = cell_table(rows, workload, threads)
        parts.append(text)
    md = ("Medians of %d interleaved repeats over the runs that completed, [min..max] in "
          "brackets; %d s per run; myring --cpus %s, --auth proxy, transaction mode "
          "--pool-size %d, session mode --pool-size %d; sysbench with text queries "
          "(--db-ps-mode=disable) and --rand-type=uniform, %d tables x %d rows; "
          "server max_connections %d; run took %.0f s.\n" % (
              bench.REPEATS, bench.SECONDS, bench.CPUS, POOL_SIZE, MAX_THREADS + 64,
              bench.TABLES, bench.TABLE_SIZE, MAX_THREADS + 200, time.time() - t0))
    md += "\n".join(parts) + "\n" + targets(aggs, rows) + "\n"
    bench.publish("pool.md", md)


if __name__ == "__main__":
    main()
