#!/usr/bin/env python3
"""Interleaved benchmark: MariaDB directly, myring, HAProxy (TCP mode, 1 thread
and N threads) on the same workloads, repeated, in one run.

Run through perf/bench.sh, which installs tools, builds, starts MariaDB and
sets the environment this script reads:
  MARIADB_PORT, MARIADB_PID, BENCH_MYRING, BENCH_LOADGEN, BENCH_OUT,
  BENCH_QUICK (0/1), BENCH_REPEATS, BENCH_CPUS (e.g. 0-1), BENCH_UPDATE (0/1)
"""
import csv
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

ENV = os.environ
OUT = ENV["BENCH_OUT"]
QUICK = ENV.get("BENCH_QUICK") == "1"
REPEATS = int(ENV.get("BENCH_REPEATS", "3"))
CPUS = ENV.get("BENCH_CPUS", "0-%d" % (os.cpu_count() - 1))
NCPU = len(range(int(CPUS.split("-")[0]), int(CPUS.split("-")[-1]) + 1)) if "-" in CPUS else len(CPUS.split(","))
DB_PORT = int(ENV["MARIADB_PORT"])
DB_PID = int(ENV["MARIADB_PID"])
TICK = os.sysconf("SC_CLK_TCK")
SB_COMMON = ["--mysql-host=127.0.0.1", "--mysql-user=myring", "--mysql-password=myring-pw",
             "--mysql-db=myring_test", "--db-ps-mode=auto", "--mysql-ignore-errors=1213,1205",
             "--report-interval=0", "--histogram=on", "--percentile=99"]
TABLES = int(ENV.get("BENCH_TABLES", "4"))
TABLE_SIZE = int(ENV.get("BENCH_TABLE_SIZE", "10000"))
SB_DATA = ["--tables=%d" % TABLES, "--table-size=%d" % TABLE_SIZE]

if QUICK:
    SECONDS = 2
    CELLS = [("oltp_point_select", 1), ("oltp_point_select", 32),
             ("oltp_read_write", 32), ("big", 4), ("churn", 8)]
else:
    SECONDS = int(ENV.get("BENCH_SECONDS", "8"))
    CELLS = [(w, t) for w in ("oltp_point_select", "oltp_read_only", "oltp_read_write")
             for t in (1, 8, 32, 128)] + [("big", 4), ("churn", 8)]


# Workloads perf/loadgen.c runs (the others are sysbench's).
LOADGEN = ("big", "churn", "driver")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %d" % port)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Target:
    def __init__(self, name, port, pid, proc=None):
        self.name, self.port, self.pid, self.proc = name, port, pid, proc


def start_targets():
    targets = [Target("direct", DB_PORT, DB_PID)]
    log = open(os.path.join(OUT, "myring.log"), "w")
    # The headline target is myring as a user starts it: no tuning flags
    # (workers pinned, one per CPU of its affinity mask).  Only a --cpus
    # narrower than the machine adds myring confined to those CPUs.
    targets.append(start_myring("myring", "127.0.0.1:%d" % DB_PORT, [], log))
    if NCPU != os.cpu_count():
        targets.append(start_myring("myring-cpus", "127.0.0.1:%d" % DB_PORT,
                                    ["--cpus", CPUS], log))
    for nthreads in sorted({1, NCPU}):
        targets.append(start_haproxy(nthreads))
    # The server runs on this host, so both proxies can also reach it over
    # its Unix socket (the README's first example): myring as a user starts
    # it that way, and HAProxy with one thread the same way.
    targets.append(start_myring("myring-unix", "unix:" + ENV["MARIADB_SOCKET"], [], log))
    targets.append(start_haproxy(1, "haproxy-1t-unix", unix=True))
    return targets


def start_myring(name, backend, flags, log):
    port = free_port()
    p = subprocess.Popen([ENV["BENCH_MYRING"], "--listen", "127.0.0.1:%d" % port,
                          "--backend", backend, "--log-level", "warn"] + flags, stderr=log)
    wait_port(port)
    return Target(name, port, p.pid, p)


def first_cpu():
    """The first CPU of the run's --cpus list, where one-thread peers go."""
    return int(CPUS.split("-")[0].split(",")[0])


def start_haproxy(nthreads, name=None, unix=False):
    """HAProxy in TCP mode with NTHREADS threads pinned to the run's CPUs;
    unix: to MariaDB's Unix socket rather than its TCP port."""
    port = free_port()
    # Files by the target's name: two HAProxies of one thread count (TCP and
    # socket) must not truncate each other's log.
    name = name or "haproxy-%dt" % nthreads
    cfg = os.path.join(OUT, name + ".cfg")
    cpumap = "cpu-map 1/1 %d" % first_cpu() if nthreads == 1 else "cpu-map 1/1-%d %s" % (nthreads, CPUS)
    with open(cfg, "w") as f:
        f.write("""global
    nbthread %d
    %s
    maxconn 4000
defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
frontend f
    bind 127.0.0.1:%d
    default_backend b
backend b
    server s1 %s
""" % (nthreads, cpumap, port,
       ENV["MARIADB_SOCKET"] if unix else "127.0.0.1:%d" % DB_PORT))
    p = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(OUT, name + ".log"), "w"))
    wait_port(port)
    return Target(name, port, p.pid, p)


def stop_targets(targets):
    for t in targets:
        if t.proc:
            t.proc.send_signal(signal.SIGTERM)
            try:
                t.proc.wait(15)
            except subprocess.TimeoutExpired:
                t.proc.kill()


# Latency percentiles reported: p99.9 too (issue 16), from the same
# histogram, so it costs no extra run.
PCTS = (50, 95, 99, 99.9)


def percentiles_from_hist(text):
    rows = re.findall(r"^\s+([0-9.]+) \|[* ]*\s(\d+)$", text, re.M)
    vals = [(float(v), int(c)) for v, c in rows]
    total = sum(c for _, c in vals)
    out = {}
    for p in PCTS:
        need, acc = total * p / 100.0, 0
        out[p] = float("nan")
        for v, c in vals:
            acc += c
            if acc >= need:
                out[p] = v * 1000.0  # ms -> us
                break
    return out


def lat_percentiles(path):
    try:
        with open(path) as f:
            vals = sorted(float(x) for x in f if x.strip())
    except OSError:
        vals = []
    if not vals:
        return {p: float("nan") for p in PCTS}
    return {p: vals[min(len(vals) - 1, int(len(vals) * p / 100))] for p in PCTS}


def run_cell(target, workload, threads, timeout=None, log=None):
    """One measurement. Returns a dict of metrics; a run that fails (exit
    status, or still running after timeout seconds) has ok False and its
    last words in error, and whatever it measured.  log: a file to keep
    the load generator's output in."""
    samples = []
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            try:
                samples.append(rss_kib(target.pid))
            except OSError:
                pass
            stop.wait(0.2)

    th = threading.Thread(target=sampler)
    t0 = cpu_ticks(target.pid)
    th.start()
    wall0 = time.time()
    if workload in LOADGEN:
        lat = os.path.join(OUT, "lat.txt")
        env = dict(ENV, LOADGEN_LAT=lat, LOADGEN_ROWS=str(TABLE_SIZE))
        argv = [ENV["BENCH_LOADGEN"], workload, str(target.port), str(SECONDS), str(threads)]
    else:
        env = None
        argv = ["sysbench", workload] + SB_COMMON + SB_DATA + [
            "--mysql-port=%d" % target.port, "--threads=%d" % threads,
            "--time=%d" % SECONDS, "run"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
        out, err, rc = r.stdout, r.stderr, r.returncode
    except subprocess.TimeoutExpired as e:  # the child has been killed
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err, rc = "still running after %d s: killed" % timeout, -1
    if log:
        with open(log, "w") as f:
            f.write(" ".join(argv) + "\n" + out + (err or ""))
    pct = lat_percentiles(lat) if workload in LOADGEN else percentiles_from_hist(out)
    wall = time.time() - wall0
    stop.set()
    th.join()
    cpu = (cpu_ticks(target.pid) - t0) / TICK
    m = {"target": target.name, "workload": workload, "threads": threads,
         "cpu_s": cpu, "rss_kib": max(samples) if samples else 0,
         "p50_us": pct[50], "p95_us": pct[95], "p99_us": pct[99],
         "p999_us": pct[99.9], "ok": rc == 0,
         "error": "", "errors": 0, "starved": 0}
    if rc != 0:
        # The first fatal line says why (sysbench's later ones say where).
        words = [line.strip() for line in ((err or "") + "\n" + out).split("\n") if line.strip()]
        fatal = [line for line in words if "FATAL" in line or "rror" in line]
        m["error"] = (fatal[0] if fatal else words[-1] if words else
                      "exit status %d" % rc)[:200]
        sys.stderr.write("%s %s@%d failed: %s\n" % (target.name, workload, threads,
                                                   (err or out)[-400:]))
    if workload == "big":
        b = re.search(r"bytes=(\d+) queries=(\d+) seconds=([0-9.]+)", out)
        nbytes, nq, secs = (int(b.group(1)), int(b.group(2)), float(b.group(3))) if b else (0, 0, wall)
        m.update(units=nq, rate=nbytes / secs / 1e6 if secs else 0,
                 cpu_per_unit=cpu * 1e3 / (nbytes / 1e6) if nbytes else float("nan"))
    elif workload == "churn":
        c = re.search(r"conns=(\d+) seconds=([0-9.]+)", out)
        n, secs = (int(c.group(1)), float(c.group(2))) if c else (0, wall)
        m.update(units=n, rate=n / secs if secs else 0,
                 cpu_per_unit=cpu * 1e6 / n if n else float("nan"))
    elif workload == "driver":
        c = re.search(r"commands=(\d+) errors=(\d+) starved=(\d+) seconds=([0-9.]+)", out)
        n, nerr, starved, secs = (int(c.group(1)), int(c.group(2)), int(c.group(3)),
                                  float(c.group(4))) if c else (0, 0, 0, wall)
        m.update(units=n, errors=nerr, starved=starved, rate=n / secs if secs else 0,
                 cpu_per_unit=cpu * 1e6 / n if n else float("nan"))
    else:
        q = re.search(r"queries:\s+(\d+)\s+\(([0-9.]+) per sec", out)
        n, qps = (int(q.group(1)), float(q.group(2))) if q else (0, 0.0)
        e = re.search(r"ignored errors:\s+(\d+)", out)
        m.update(units=n, rate=qps, cpu_per_unit=cpu * 1e6 / n if n else float("nan"),
                 errors=int(e.group(1)) if e else 0)
    return m


def publish(name, md):
    """Writes a run's Markdown to perf/out/NAME (for update_results.py)
    and prints it."""
    with open(os.path.join(OUT, name), "w") as f:
        f.write(md)
    print(md)


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def fmt(x, nd=1):
    if x != x:
        return "n/a"
    if abs(x) >= 1000:
        return "%.0f" % x
    return ("%." + str(nd) + "f") % x


def spread(xs, nd=1):
    xs = [x for x in xs if x == x]
    if not xs:
        return "n/a"
    return "%s [%s..%s]" % (fmt(statistics.median(xs), nd), fmt(min(xs), nd), fmt(max(xs), nd))


UNIT = {"big": ("MB/s", "CPU ms/MB"), "churn": ("conn/s", "CPU us/conn"),
        "driver": ("cmd/s", "CPU us/command")}


def report(rows, targets):
    lines = []
    names = [t.name for t in targets]
    summary = {}
    for workload, threads in CELLS:
        cell = [r for r in rows if r["workload"] == workload and r["threads"] == threads]
        rate_name, cpu_name = UNIT.get(workload, ("QPS", "CPU us/query"))
        title = workload if workload in UNIT else "%s, --threads %d" % (workload, threads)
        if workload == "big":
            title = "large results (1-16 MiB per query), %d clients" % threads
        elif workload == "churn":
            title = "connection churn (connect, SELECT 1, disconnect), %d clients" % threads
        lines.append("\n### %s\n" % title)
        lines.append("| target | %s | p50 us | p95 us | p99 us | p99.9 us | proxy %s | proxy peak RSS MiB |" % (rate_name, cpu_name))
        lines.append("|---|---|---|---|---|---|---|---|")
        agg = {}
        for n in names:
            rs = [r for r in cell if r["target"] == n]
            agg[n] = {k: med([r[k] for r in rs]) for k in ("rate", "cpu_per_unit", "p50_us", "p95_us", "p99_us", "p999_us", "rss_kib")}
            cpu_col = spread([r["cpu_per_unit"] for r in rs], 2) if n != "direct" else \
                "(server: %s)" % fmt(agg[n]["cpu_per_unit"], 2)
            rss_col = fmt(agg[n]["rss_kib"] / 1024, 1) if n != "direct" else "n/a"
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, spread([r["rate"] for r in rs]), spread([r["p50_us"] for r in rs], 0),
                spread([r["p95_us"] for r in rs], 0), spread([r["p99_us"] for r in rs], 0),
                spread([r["p999_us"] for r in rs], 0), cpu_col, rss_col))
        # myring over TCP against the HAProxies over TCP; myring over the
        # socket against the better of every HAProxy, the socket's included.
        for mine, peers in (("myring", [n for n in names if n.startswith("haproxy")
                                        and not n.endswith("-unix")]),
                            ("myring-unix", [n for n in names if n.startswith("haproxy")])):
            if mine not in agg:
                continue
            ratios = ratios_against(agg, mine, peers)
            summary.setdefault(mine, {})[(workload, threads)] = ratios
            lines.append("\n%s/direct %s: **%s**; %s/HAProxy (better of %s): %s **%s**, "
                         "%s **%s**, p50 **%s**, p99 **%s**, p99.9 **%s**" % (
                             mine, rate_name, fmt(ratios["rate_vs_direct"], 2), mine,
                             ", ".join(peers), rate_name,
                             fmt(ratios["rate_vs_haproxy"], 2), cpu_name,
                             fmt(ratios["cpu_vs_haproxy"], 2),
                             fmt(ratios["p50_vs_haproxy"], 2), fmt(ratios["p99_vs_haproxy"], 2),
                             fmt(ratios["p999_vs_haproxy"], 2)))
    return "\n".join(lines), summary


def ratios_against(agg, mine, peers):
    """mine's figures over the best of peers' (each metric's own best)."""
    nan = float("nan")
    best_rate = max(agg[n]["rate"] for n in peers)
    best = {k: min(agg[n][k] for n in peers)
            for k in ("cpu_per_unit", "p50_us", "p99_us", "p999_us")}
    my = agg[mine]
    return {
        "rate_vs_direct": my["rate"] / agg["direct"]["rate"] if agg["direct"]["rate"] else nan,
        "rate_vs_haproxy": my["rate"] / best_rate if best_rate else nan,
        "cpu_vs_haproxy": my["cpu_per_unit"] / best["cpu_per_unit"] if best["cpu_per_unit"] else nan,
        "p50_vs_haproxy": my["p50_us"] / best["p50_us"] if best["p50_us"] else nan,
        "p99_vs_haproxy": my["p99_us"] / best["p99_us"] if best["p99_us"] else nan,
        "p999_vs_haproxy": my["p999_us"] / best["p999_us"] if best["p999_us"] else nan,
    }


# Issue 16's bounds for point_select (CPU, QPS, p99 at 8/32/128 clients),
# then the older ones of the performance suite.
TARGETS = [  # (description, cell, metric, bound, larger_is_better)
    ("CPU/query vs HAProxy, point_select @128", ("oltp_point_select", 128), "cpu_vs_haproxy", 0.5, False),
    ("CPU/query vs HAProxy, point_select @32", ("oltp_point_select", 32), "cpu_vs_haproxy", 0.5, False),
    ("CPU/query vs HAProxy, point_select @8", ("oltp_point_select", 8), "cpu_vs_haproxy", 0.7, False),
    ("CPU/query vs HAProxy, point_select @1", ("oltp_point_select", 1), "cpu_vs_haproxy", 0.9, False),
    ("CPU/query vs HAProxy, read_write @32", ("oltp_read_write", 32), "cpu_vs_haproxy", 0.5, False),
    ("QPS vs HAProxy, point_select @128", ("oltp_point_select", 128), "rate_vs_haproxy", 1.3, True),
    ("QPS vs HAProxy, point_select @32", ("oltp_point_select", 32), "rate_vs_haproxy", 1.3, True),
    ("QPS vs HAProxy, point_select @8", ("oltp_point_select", 8), "rate_vs_haproxy", 1.15, True),
    ("p99 vs HAProxy, point_select @128", ("oltp_point_select", 128), "p99_vs_haproxy", 1.0, False),
    ("p99 vs HAProxy, point_select @32", ("oltp_point_select", 32), "p99_vs_haproxy", 1.0, False),
    ("p99 vs HAProxy, point_select @8", ("oltp_point_select", 8), "p99_vs_haproxy", 1.0, False),
    ("p50 vs HAProxy, point_select @1", ("oltp_point_select", 1), "p50_vs_haproxy", 1.0, False),
    ("p99 vs HAProxy, point_select @1", ("oltp_point_select", 1), "p99_vs_haproxy", 1.0, False),
    ("MB/s vs direct, large results", ("big", 4), "rate_vs_direct", 0.95, True),
    ("CPU/MB vs HAProxy, large results", ("big", 4), "cpu_vs_haproxy", 0.4, False),
]


def targets_table(summary):
    mine = [m for m in ("myring", "myring-unix") if m in summary]
    lines = ["\n### Targets\n",
             "| " + " | ".join(["target", "bound"] + [c for m in mine for c in (m, "")]) + " |",
             "|---|---|" + "---|---|" * len(mine)]
    for desc, cell, metric, bound, bigger in TARGETS:
        if cell not in summary["myring"]:
            continue
        cols = []
        for m in mine:
            v = summary[m][cell][metric]
            ok = v == v and (v >= bound if bigger else v <= bound)
            cols.append("%s | %s" % (fmt(v, 2), "met" if ok else "**missed**"))
        lines.append("| %s | %s %s | %s |" % (desc, ">=" if bigger else "<=", bound,
                                             " | ".join(cols)))
    return "\n".join(lines)


def main():
    os.makedirs(OUT, exist_ok=True)
    targets = start_targets()
    rows = []
    t_start = time.time()
    try:
        for rep in range(REPEATS):
            for workload, threads in CELLS:
                for t in targets:
                    m = run_cell(t, workload, threads)
                    m["repeat"] = rep + 1
                    rows.append(m)
                    print("  r%d %-18s %-9s @%-3d %10.1f %s  cpu %.2f" % (
                        rep + 1, workload, t.name, threads, m["rate"],
                        UNIT.get(workload, ("qps",))[0], m["cpu_per_unit"]), flush=True)
    finally:
        stop_targets(targets)
    with open(os.path.join(OUT, "raw.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=sorted(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    body, summary = report(rows, targets)
    md = ("Medians of %d interleaved repeats, [min..max] in brackets; %d s per run; "
          "myring without tuning flags (HAProxy's threads on CPUs %s); HAProxy %s in TCP mode; "
          "run took %.0f s.\n" % (
              REPEATS, SECONDS, CPUS, subprocess.run(["haproxy", "-v"], capture_output=True,
                                                     text=True).stdout.split("\n")[0].split(" - ")[0],
              time.time() - t_start))
    md += body + "\n" + targets_table(summary) + "\n"
    publish("results.md", md)


if __name__ == "__main__":
    main()
