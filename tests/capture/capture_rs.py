#!/usr/bin/env python3
"""Captures the raw result-set packets MariaDB sends, for the merge unit
tests' fixtures (gen_merge_fixtures.py writes tests/unit/merge_fixtures.h
with it) and for checking type rules by hand.

  capture_rs.py HOST PORT USER PASSWORD DB [--eof] [--binary] SQL...

Logs in with mysql_native_password (CLIENT_DEPRECATE_EOF unless --eof),
runs each SQL as COM_QUERY (or, with --binary, COM_STMT_PREPARE +
COM_STMT_EXECUTE without parameters) and prints, for each, the response
packets as hex payloads, one a line, prefixed by their sequence id.
Standard library only: no client library decodes anything on the way.
"""
import hashlib
import socket
import struct
import sys

CLIENT_LONG_PASSWORD = 1
CLIENT_LONG_FLAG = 4
CLIENT_CONNECT_WITH_DB = 8
CLIENT_PROTOCOL_41 = 1 << 9
CLIENT_TRANSACTIONS = 1 << 13
CLIENT_SECURE_CONNECTION = 1 << 15
CLIENT_MULTI_RESULTS = 1 << 17
CLIENT_PLUGIN_AUTH = 1 << 19
CLIENT_DEPRECATE_EOF = 1 << 24


class Conn:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port))
        self.buf = b""

    def read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_packet(self):
        """One logical packet: (first sequence id, payload)."""
        payload = b""
        first_seq = None
        while True:
            hdr = self.read_exact(4)
            n = hdr[0] | hdr[1] << 8 | hdr[2] << 16
            if first_seq is None:
                first_seq = hdr[3]
            payload += self.read_exact(n)
            if n < 0xFFFFFF:
                return first_seq, payload

    def write_packet(self, seq, payload):
        assert len(payload) < 0xFFFFFF
        self.s.sendall(struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload)


def scramble_native(password, salt):
    if not password:
        return b""
    h1 = hashlib.sha1(password.encode()).digest()
    h2 = hashlib.sha1(h1).digest()
    h3 = hashlib.sha1(salt + h2).digest()
    return bytes(a ^ b for a, b in zip(h1, h3))


def login(c, user, password, db, deprecate_eof):
    _, g = c.read_packet()
    pos = g.index(b"\0", 1) + 1 + 4
    salt = g[pos:pos + 8]
    pos += 8 + 1
    caps = struct.unpack_from("<H", g, pos)[0]
    pos += 2 + 1 + 2
    caps |= struct.unpack_from("<H", g, pos)[0] << 16
    pos += 2 + 1 + 10
    salt += g[pos:pos + 12]
    want = (CLIENT_LONG_PASSWORD | CLIENT_LONG_FLAG | CLIENT_CONNECT_WITH_DB |
            CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION |
            CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH)
    if deprecate_eof:
        want |= CLIENT_DEPRECATE_EOF
    want &= caps | CLIENT_DEPRECATE_EOF
    auth = scramble_native(password, salt)
    p = struct.pack("<IIB23x", want, 1 << 24, 45)
    p += user.encode() + b"\0" + bytes([len(auth)]) + auth
    p += db.encode() + b"\0" + b"mysql_native_password\0"
    c.write_packet(1, p)
    seq, r = c.read_packet()
    if r[0] == 0xFE:  # auth switch: answer with the new salt
        plugin_end = r.index(b"\0", 1)
        salt = r[plugin_end + 1:].rstrip(b"\0")
        c.write_packet(seq + 1, scramble_native(password, salt))
        seq, r = c.read_packet()
    if r[0] != 0:
        raise RuntimeError("login failed: %r" % r)


def lenenc(p, pos):
    b = p[pos]
    if b < 0xFB:
        return b, pos + 1
    if b == 0xFC:
        return struct.unpack_from("<H", p, pos + 1)[0], pos + 3
    if b == 0xFD:
        return p[pos + 1] | p[pos + 2] << 8 | p[pos + 3] << 16, pos + 4
    return struct.unpack_from("<Q", p, pos + 1)[0], pos + 9


def read_resultset(c, deprecate_eof, out):
    """Reads one response; appends (seq, payload) to out."""
    seq, p = c.read_packet()
    out.append((seq, p))
    if p[0] in (0x00, 0xFF):
        return
    ncols, _ = lenenc(p, 0)
    for _ in range(ncols):
        out.append(c.read_packet())
    if not deprecate_eof:
        out.append(c.read_packet())
    while True:
        seq, p = c.read_packet()
        out.append((seq, p))
        if p[0] == 0xFF or (p[0] == 0xFE and len(p) < 0xFFFFFF and
                            (deprecate_eof or len(p) < 9)):
            return


def run_binary(c, sql, deprecate_eof, out):
    c.write_packet(0, b"\x16" + sql.encode())
    seq, p = c.read_packet()
    if p[0] == 0xFF:
        out.append((seq, p))
        return
    stmt_id, ncols, nparams = struct.unpack_from("<IHH", p, 1)
    for _ in range(nparams):
        c.read_packet()
    if nparams and not deprecate_eof:
        c.read_packet()
    for _ in range(ncols):
        c.read_packet()
    if ncols and not deprecate_eof:
        c.read_packet()
    c.write_packet(0, b"\x17" + struct.pack("<IBI", stmt_id, 0, 1))
    read_resultset(c, deprecate_eof, out)
    c.write_packet(0, b"\x19" + struct.pack("<I", stmt_id))


def main():
    args = sys.argv[1:]
    host, port, user, password, db = args[:5]
    rest = args[5:]
    deprecate_eof = "--eof" not in rest
    binary = "--binary" in rest
    sqls = [a for a in rest if not a.startswith("--")]
    c = Conn(host, int(port))
    login(c, user, password, db, deprecate_eof)
    for sql in sqls:
        out = []
        if binary:
            run_binary(c, sql, deprecate_eof, out)
        else:
            c.write_packet(0, b"\x03" + sql.encode())
            read_resultset(c, deprecate_eof, out)
        print("-- " + sql)
        for seq, p in out:
            print("%d %s" % (seq, p.hex()))


if __name__ == "__main__":
    main()
