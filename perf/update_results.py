#!/usr/bin/env python3
"""Writes a benchmark table and the machine it ran on into RESULTS.md
between the BEGIN/END markers, so figures are never edited by hand.
usage: update_results.py RESULTS_MD_SOURCE RESULTS_MD COMMAND [BLOCK]
BLOCK names the generated block (one per configuration, e.g. the --cpus
list); a block that does not exist yet is appended."""
import platform
import subprocess
import sys


def first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, shell=True).stdout
        return out.strip().split("\n")[0]
    except Exception:
        return "unknown"


src, dst, command = sys.argv[1], sys.argv[2], sys.argv[3]
block = sys.argv[4] if len(sys.argv) > 4 else ""
table = open(src).read()
model = first_line("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2")
machine = "\n".join([
    "- command: `%s`" % command,
    "- date: %s" % first_line("date -u +%Y-%m-%dT%H:%MZ"),
    "- machine: %s cores (%s), %s RAM, kernel %s" % (
        first_line("nproc"), model.strip(), first_line("free -h | awk '/Mem:/{print $2}'"),
        platform.release()),
    "- versions: %s; %s; %s; %s" % (
        first_line("build/myring --version"), first_line("mariadbd --version"),
        first_line("sysbench --version"), first_line("haproxy -v")),
])
text = open(dst).read()
suffix = (" " + block) if block else ""
begin, end = "<!-- BEGIN GENERATED%s -->" % suffix, "<!-- END GENERATED%s -->" % suffix
if begin not in text:
    text = text.rstrip("\n") + "\n\n## myring %s\n\n%s\n%s\n" % (block, begin, end)
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(dst, "w").write(head + begin + "\n" + machine + "\n\n" + table + "\n" + end + tail)
