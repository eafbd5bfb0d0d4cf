#!/usr/bin/env python3
"""Hostile clients against a running myring: malformed, truncated, oversized
and out-of-order packets, before and after authentication, random bytes, and
clients that vanish mid-handshake.  Each case must end with a proper ERR
packet or a closed connection for that client only: after every case a
well-behaved client must still get an answer through the same proxy.

usage: badinput.py HOST PORT USER PASSWORD [--max-packet BYTES]
Prints one line per case and 'badinput: N passed, M failed'.
"""
import hashlib
import os
import random
import socket
import struct
import sys
import time


def packet(payload, seq):
    """Frames payload, splitting it into 0xFFFFFF-byte packets as clients do."""
    out = []
    while True:
        part, payload = payload[:0xFFFFFF], payload[0xFFFFFF:]
        out.append(struct.pack("<I", len(part))[:3] + bytes([seq & 0xFF]) + part)
        seq += 1
        if len(part) < 0xFFFFFF:
            return b"".join(out)


def read_packet(s):
    hdr = b""
    while len(hdr) < 4:
        chunk = s.recv(4 - len(hdr))
        if not chunk:
            return None, None
        hdr += chunk
    n = hdr[0] | hdr[1] << 8 | hdr[2] << 16
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            return None, None
        body += chunk
    return hdr[3], body


def scramble_native(password, salt):
    h1 = hashlib.sha1(password.encode()).digest()
    h2 = hashlib.sha1(h1).digest()
    h3 = hashlib.sha1(salt + h2).digest()
    return bytes(a ^ b for a, b in zip(h1, h3))


def connect(host, port, timeout=5.0):
    s = socket.create_connection((host, port), timeout=timeout)
    return s


def greeting(s):
    seq, g = read_packet(s)
    if g is None or g[0] != 10:
        raise RuntimeError("no greeting: %r" % (g[:40] if g else g))
    pos = g.index(b"\0", 1) + 1
    salt1 = g[pos + 4:pos + 12]
    pos += 4 + 8 + 1
    caps = struct.unpack("<H", g[pos:pos + 2])[0]
    pos += 2 + 1 + 2
    caps |= struct.unpack("<H", g[pos:pos + 2])[0] << 16
    pos += 2 + 1 + 10
    salt2 = g[pos:pos + 12]
    return caps, salt1 + salt2


CLIENT_PROTOCOL_41 = 0x200
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000
CLIENT_LONG_PASSWORD = 1
CLIENT_SSL = 0x800


def login(host, port, user, password):
    s = connect(host, port)
    caps, salt = greeting(s)
    mycaps = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
    auth = scramble_native(password, salt)
    body = struct.pack("<IIB", mycaps, 1 << 24, 33) + b"\0" * 23
    body += user.encode() + b"\0" + bytes([len(auth)]) + auth + b"mysql_native_password\0"
    s.sendall(packet(body, 1))
    seq, resp = read_packet(s)
    if resp is None or resp[0] != 0:
        raise RuntimeError("login failed: %r" % resp)
    return s


def query(s, sql):
    s.sendall(packet(b"\x03" + sql.encode(), 0))
    return read_packet(s)


def expect_err_or_close(s, codes=None, require_err=False):
    """The next thing from the proxy is an ERR (optionally with one of
    codes) or, unless require_err, EOF; returns a description or raises."""
    try:
        seq, p = read_packet(s)
    except (ConnectionResetError, socket.timeout) as e:
        if require_err:
            raise RuntimeError("expected ERR %s, got %s" % (codes, type(e).__name__))
        return "closed (%s)" % type(e).__name__
    if p is None:
        if require_err:
            raise RuntimeError("expected ERR %s, the connection was closed" % (codes,))
        return "closed"
    if p[0] != 0xFF:
        raise RuntimeError("expected ERR or close, got %r" % p[:40])
    code = struct.unpack("<H", p[1:3])[0]
    if codes and code not in codes:
        raise RuntimeError("expected ERR %s, got %d %r" % (codes, code, p[3:80]))
    return "ERR %d" % code


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    max_packet = None
    if "--max-packet" in sys.argv:
        max_packet = int(sys.argv[sys.argv.index("--max-packet") + 1])
    rng = random.Random(1234)
    cases = []

    def case(name):
        def deco(fn):
            cases.append((name, fn))
            return fn
        return deco

    @case("client speaks first (garbage before greeting)")
    def _():
        s = connect(host, port)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        # The greeting may already be on its way; then comes the ERR or close.
        seq, p = read_packet(s)
        if p is not None and p[0] == 10:
            return expect_err_or_close(s)
        return "ERR" if p and p[0] == 0xFF else "closed"

    @case("truncated handshake response")
    def _():
        s = connect(host, port)
        greeting(s)
        s.sendall(packet(b"\x05\xa2\x00\x00\x00", 1))
        return expect_err_or_close(s, {1043})

    @case("SSLRequest although TLS was not offered")
    def _():
        s = connect(host, port)
        greeting(s)
        body = struct.pack("<IIB", CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION, 1 << 24, 33) + b"\0" * 23
        s.sendall(packet(body, 1))
        r = expect_err_or_close(s, {1043})
        return r

    @case("vanish mid-handshake")
    def _():
        s = connect(host, port)
        greeting(s)
        s.sendall(packet(b"\x05\xa2", 1)[:3])
        s.close()
        return "closed by client"

    @case("random bytes as handshake response")
    def _():
        s = connect(host, port)
        greeting(s)
        s.sendall(bytes(rng.getrandbits(8) for _ in range(300)))
        s.shutdown(socket.SHUT_WR)
        try:
            return expect_err_or_close(s)
        except RuntimeError:
            return "server answered (random bytes happened to parse)"

    @case("command with sequence id 5")
    def _():
        s = login(host, port, user, password)
        s.sendall(packet(b"\x03SELECT 1", 5))
        return expect_err_or_close(s, {1156})

    @case("empty command packet")
    def _():
        s = login(host, port, user, password)
        s.sendall(packet(b"", 0))
        return expect_err_or_close(s, {1047})

    if max_packet:
        @case("command larger than --max-packet")
        def _():
            s = login(host, port, user, password)
            sql = b"\x03SELECT '" + b"x" * (max_packet + 10) + b"'"
            try:
                s.sendall(packet(sql, 0))
            except (BrokenPipeError, ConnectionResetError):
                return "closed while sending"
            return expect_err_or_close(s, {1153})

    if max_packet:
        @case("oversized command sent slowly (6 s after the limit)")
        def _():
            # The limit is crossed at once; the rest trickles in for longer
            # than the proxy's 5 s silence bound. A steady sender must still
            # get its ERR, not a reset.
            s = login(host, port, user, password)
            s.settimeout(30)
            chunks = max_packet // 0xFFFFFF + 1
            tail = 64 * 1024
            for i in range(chunks):
                body = (b"\x03SELECT '" if i == 0 else b"") + b"x" * 0xFFFFFF
                s.sendall(struct.pack("<I", 0xFFFFFF)[:3] + bytes([i & 0xFF]) + body[:0xFFFFFF])
            s.sendall(struct.pack("<I", tail)[:3] + bytes([chunks & 0xFF]))
            for _ in range(16):
                s.sendall(b"y" * (tail // 16))
                time.sleep(0.4)
            return expect_err_or_close(s, {1153}, require_err=True)

    if max_packet:
        @case("oversized command that never ends (cut 1 GiB past the limit)")
        def _():
            # A client that streams full 16 MiB packets forever would keep
            # the proxy reading and dropping forever; it must be cut once
            # 1 GiB beyond --max-packet has been dropped, and not long before.
            s = login(host, port, user, password)
            s.settimeout(30)
            body = memoryview(b"x" * 0xFFFFFF)
            first = b"\x03SELECT '" + b"x" * (0xFFFFFF - 9)
            cap = max_packet + (1 << 30)
            sent = i = 0
            try:
                while sent < cap + (128 << 20):
                    s.sendall(struct.pack("<I", 0xFFFFFF)[:3] + bytes([i & 0xFF]))
                    s.sendall(first if i == 0 else body)
                    sent += 0xFFFFFF
                    i += 1
            except (BrokenPipeError, ConnectionResetError):
                if sent < cap - (32 << 20):
                    raise RuntimeError("cut after only %d MiB" % (sent >> 20))
                return "cut after %d MiB" % (sent >> 20)
            raise RuntimeError("still reading after %d MiB" % (sent >> 20))

    @case("header promising 16 MiB then vanish")
    def _():
        s = login(host, port, user, password)
        s.sendall(b"\xff\xff\xff\x00\x03SELECT")
        s.close()
        return "closed by client"

    @case("random bytes after login")
    def _():
        s = login(host, port, user, password)
        s.sendall(bytes(rng.getrandbits(8) for _ in range(2000)))
        s.shutdown(socket.SHUT_WR)
        out = []
        for _ in range(50):
            try:
                seq, p = read_packet(s)
            except (ConnectionResetError, socket.timeout):
                break
            if p is None:
                break
            out.append(p[:1])
        return "closed after %d packet(s)" % len(out)

    @case("unknown command byte")
    def _():
        s = login(host, port, user, password)
        s.sendall(packet(b"\xee\x01\x02", 0))
        seq, p = read_packet(s)
        if p is None or p[0] != 0xFF:
            raise RuntimeError("expected the server's ERR, got %r" % p)
        seq, p = query(s, "SELECT 'still here'")
        if p is None:
            raise RuntimeError("session died after an unknown command")
        return "server ERR, session continues"

    @case("binlog dump is refused, session continues")
    def _():
        s = login(host, port, user, password)
        s.sendall(packet(b"\x12" + struct.pack("<IHI", 4, 0, 1) + b"x-bin.000001", 0))
        r = expect_err_or_close(s, {1235})
        seq, p = query(s, "SELECT 1")
        if p is None or p[0] == 0xFF:
            raise RuntimeError("session did not continue: %r" % p)
        return r

    passed = failed = 0
    for name, fn in cases:
        try:
            detail = fn()
            # After every hostile client, a good one must be served.
            s = login(host, port, user, password)
            seq, p = query(s, "SELECT 42")
            s.close()
            if p is None or p[0] == 0xFF:
                raise RuntimeError("a well-behaved client was not served afterwards")
            print("badinput: ok   %s: %s" % (name, detail))
            passed += 1
        except Exception as e:  # noqa: BLE001 - report every failure
            print("badinput: FAIL %s: %s" % (name, e))
            failed += 1
    print("badinput: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
