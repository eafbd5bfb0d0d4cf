#!/usr/bin/python3
"""Starts the installed myring the way its systemd unit would, without
systemd: the unit's ExecStart, User/Group, capabilities, NoNewPrivileges
and limits, and a $NOTIFY_SOCKET of this script's own standing in for
systemd's.  Then checks what systemd would see: READY=1 only once the
listener accepts, no root and no capability but CAP_NET_BIND_SERVICE,
RELOADING=1/READY=1 on SIGHUP, STOPPING=1 and exit 0 on SIGTERM.  Run in
the scratch root by tests/package/in-root.sh.

  run_as_unit.py UNIT [--extra FLAG]... [--no-caps] [--memlock BYTES]
                 [--expect-exit STATUS --expect-msg TEXT]
"""
import argparse
import os
import pwd
import resource
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time


def unit_settings(path):
    settings = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[" or "=" not in line:
                continue
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def cap_list(value):
    """'CAP_NET_BIND_SERVICE CAP_X' -> ',+net_bind_service,+x'"""
    return "".join(",+" + c.lower()[4:] for c in value.split())


def cap_mask(value):
    bits = {"CAP_NET_BIND_SERVICE": 10}
    mask = 0
    for c in value.split():
        mask |= 1 << bits[c]
    return mask


def limit(name, value, res):
    """The unit's Limit...= value as prlimit takes it, or this process's
    hard limit if it may not raise it that far: that takes
    CAP_SYS_RESOURCE, which systemd has and a sandboxed build machine's
    root may lack."""
    value = value.replace("infinity", "unlimited")
    if subprocess.run(["prlimit", f"--{name}={value}:{value}", "true"],
                      stderr=subprocess.DEVNULL).returncode == 0:
        return value
    hard = resource.getrlimit(res)[1]
    hard = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    print(f"run_as_unit: note the unit's {name} limit {value} is beyond "
          f"this process's hard limit, which it may not raise: using {hard}")
    return hard


def fail(msg, log=None):
    print("run_as_unit: FAIL " + msg)
    if log:
        with open(log) as f:
            print(f.read()[-3000:])
    sys.exit(1)


def ok(msg):
    print("run_as_unit: ok   " + msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("unit")
    ap.add_argument("--extra", action="append", default=[])
    ap.add_argument("--no-caps", action="store_true")
    ap.add_argument("--memlock")
    ap.add_argument("--expect-exit", type=int)
    ap.add_argument("--expect-msg")
    a = ap.parse_args()

    u = unit_settings(a.unit)
    user, group = u["User"][0], u["Group"][0]
    caps = "" if a.no_caps else cap_list(u["AmbientCapabilities"][0])
    bounding = cap_list(u["CapabilityBoundingSet"][0])
    nofile = limit("nofile", u["LimitNOFILE"][0], resource.RLIMIT_NOFILE)
    memlock = a.memlock or limit("memlock", u["LimitMEMLOCK"][0],
                                 resource.RLIMIT_MEMLOCK)
    cmd = ["prlimit", f"--nofile={nofile}:{nofile}",
           f"--memlock={memlock}:{memlock}",
           "setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups",
           f"--inh-caps=-all{caps}", f"--ambient-caps=-all{caps}",
           f"--bounding-set=-all{bounding}"]
    if u.get("NoNewPrivileges", ["no"])[0] == "yes":
        cmd.append("--no-new-privs")
    cmd += shlex.split(u["ExecStart"][0]) + a.extra

    tmp = tempfile.mkdtemp(prefix="myring-unit-")
    os.chmod(tmp, 0o755)
    notify_path = os.path.join(tmp, "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    os.chmod(notify_path, 0o777)   # as systemd's: any uid may send
    log = os.path.join(tmp, "stderr")
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=err, stderr=err,
                                stdin=subprocess.DEVNULL)

    def note(timeout):
        notify.settimeout(timeout)
        try:
            return notify.recv(4096).decode()
        except socket.timeout:
            return ""

    if a.expect_exit is not None:
        try:
            rc = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            fail(f"{' '.join(cmd)}: still running, expected exit "
                 f"{a.expect_exit}", log)
        text = open(log).read()
        if rc != a.expect_exit or a.expect_msg not in text:
            fail(f"exit {rc} (expected {a.expect_exit} with "
                 f"'{a.expect_msg}')", log)
        ok(f"{' '.join(a.extra + (['no capabilities'] if a.no_caps else []) + ([f'memlock {a.memlock}'] if a.memlock else []))}: "
           f"exit {rc}, '{a.expect_msg}'")
        return

    ready = note(20)
    if not ready.startswith("READY=1\n"):
        proc.kill()
        fail(f"first notification '{ready}', expected READY=1", log)
    listen = ready.split("STATUS=listening on ", 1)[1].split(",")[0]
    host, port = listen.rsplit(":", 1)
    # READY=1 came after the listener was bound: it accepts now.  The
    # backend is not reachable in this network namespace: myring answers
    # with its own ERR 1429.
    with socket.create_connection((host, int(port)), timeout=10) as c:
        head = c.recv(4)
        length = struct.unpack("<I", head[:3] + b"\0")[0]
        body = b""
        while len(body) < length:
            chunk = c.recv(length - len(body))
            if not chunk:
                break
            body += chunk
    if not body or body[0] != 0xFF or struct.unpack("<H", body[1:3])[0] != 1429:
        proc.kill()
        fail(f"expected ERR 1429 from {listen}, got {body[:80]!r}", log)
    ok(f"READY=1, then {listen} answers (ERR 1429: no backend here)")

    status = {}
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            k, v = line.split(":", 1)
            status[k] = v.split()
    uid = pwd.getpwnam(user).pw_uid
    want = cap_mask(u["AmbientCapabilities"][0]) if not a.no_caps else 0
    if status["Uid"] != [str(uid)] * 4 or uid == 0:
        fail(f"runs as uid {status['Uid']}, expected {uid} ({user})", log)
    if int(status["CapEff"][0], 16) != want or \
       int(status["CapBnd"][0], 16) != cap_mask(u["CapabilityBoundingSet"][0]):
        fail(f"capabilities {status['CapEff']} / bounding {status['CapBnd']}",
             log)
    if status["NoNewPrivs"] != ["1"]:
        fail("no_new_privs is not set", log)
    ok(f"runs as {user} (uid {uid}), capabilities 0x{want:x} only, "
       "no_new_privs")

    proc.send_signal(signal.SIGHUP)
    reloading, done = note(10), note(10)
    if not reloading.startswith("RELOADING=1\nMONOTONIC_USEC=") or \
       not done.startswith("READY=1\nSTATUS=reloaded "):
        fail(f"SIGHUP: '{reloading}' then '{done}'", log)
    ok("SIGHUP: RELOADING=1, then READY=1 (" +
       done.split("STATUS=", 1)[1] + ")")

    proc.send_signal(signal.SIGTERM)
    stopping = note(10)
    try:
        rc = proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("still running 20 s after SIGTERM", log)
    if not stopping.startswith("STOPPING=1") or rc != 0:
        fail(f"SIGTERM: '{stopping}', exit {rc}", log)
    ok("SIGTERM: STOPPING=1, exit 0")
    os.unlink(notify_path)


if __name__ == "__main__":
    main()
