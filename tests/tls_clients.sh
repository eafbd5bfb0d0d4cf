#!/usr/bin/env bash
# TLS and compression through myring with clients other than Connector/C:
# the mariadb CLI, PyMySQL (Debian's python3-pymysql) and Node's mysql2
# (from npm, installed into build/node by this script).
#
#   tests/tls_clients.sh MYRING_BINARY
#
# Needs the test MariaDB's environment (scripts/test.sh exports it:
# MARIADB_PORT, MARIADB_CERTS).  Starts one myring with TLS towards
# clients, TLS (verify-identity) and compression towards the server, and
# stops it by PID.  Prints "N passed, N failed".  A client that cannot be
# had here (npm registry unreachable) is skipped with a message.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${1:?usage: tests/tls_clients.sh MYRING_BINARY}
: "${MARIADB_PORT:?run through scripts/test.sh}" "${MARIADB_CERTS:?}"
C=$MARIADB_CERTS
PY=/usr/bin/python3        # Debian's: python3-pymysql is installed there
passed=0 failed=0 skipped=0
ok() { echo "tls_clients: ok   $*"; passed=$((passed + 1)); }
bad() { echo "tls_clients: FAIL $*"; failed=$((failed + 1)); }
skip() { echo "tls_clients: skip $*"; skipped=$((skipped + 1)); }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$ROOT/build/test-logs/myring-clients.log
mkdir -p "$ROOT/build/test-logs"
"$BIN" --listen "127.0.0.1:$port" --backend "127.0.0.1:$MARIADB_PORT" --threads 2 \
	--tls-cert "$C/server.pem" --tls-key "$C/server-key.pem" \
	--backend-tls verify-identity --backend-tls-ca "$C/ca.pem" \
	--backend-compression on </dev/null 2>"$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do
	(: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done

# ---- the mariadb CLI --------------------------------------------------
cli() { mariadb --no-defaults -h127.0.0.1 -P"$port" -umyring -pmyring-pw \
	--ssl --ssl-ca="$C/ca.pem" --ssl-verify-server-cert -N -B myring_test "$@"; }
want=$(mariadb --no-defaults -h127.0.0.1 -P"$MARIADB_PORT" -umyring -pmyring-pw -N -B \
	myring_test -e "SET SESSION group_concat_max_len = 1 << 30;
	SELECT MD5(GROUP_CONCAT(REPEAT(seq, 100) SEPARATOR '')) FROM seq_1_to_30000")
for opt in "" "--compress"; do
	got=$(cli $opt -e "SET SESSION group_concat_max_len = 1 << 30;
		SELECT MD5(GROUP_CONCAT(REPEAT(seq, 100) SEPARATOR '')) FROM seq_1_to_30000" 2>&1)
	if [[ -n $want && $got == "$want" ]]; then
		ok "mariadb CLI over TLS ${opt:-without compression}: a 10 MB result, checksum as direct"
	else
		bad "mariadb CLI over TLS $opt: got '$got', want '$want'"
	fi
	cipher=$(cli $opt -e "\\s" 2>&1 | sed -n 's/^SSL:[[:space:]]*//p')
	[[ $cipher == Cipher* ]] && ok "mariadb CLI $opt: status shows '$cipher'" ||
		bad "mariadb CLI $opt: status shows no TLS cipher ('$cipher')"
done
infile=$(mktemp /tmp/myring-clients.XXXXXX)
seq 1 20000 >"$infile"
got=$(cli --compress --local-infile=1 -e "DROP TABLE IF EXISTS cli_infile;
	CREATE TABLE cli_infile (a INT);
	LOAD DATA LOCAL INFILE '$infile' INTO TABLE cli_infile;
	SELECT SUM(a) FROM cli_infile; DROP TABLE cli_infile" 2>&1)
[[ $got == 200010000 ]] && ok "mariadb CLI: LOAD DATA LOCAL INFILE over TLS and compression" ||
	bad "mariadb CLI LOAD DATA LOCAL: '$got'"
rm -f "$infile"

# ---- PyMySQL -----------------------------------------------------------
if ! "$PY" -c 'import pymysql' 2>/dev/null; then
	bad "PyMySQL: python3-pymysql is not installed (scripts/deps.sh)"
else
	out=$("$PY" - "$port" "$C" <<'PYEOF' 2>&1
import hashlib, sys, pymysql
port, certs = int(sys.argv[1]), sys.argv[2]
def connect(**kw):
    return pymysql.connect(host="127.0.0.1", port=port, user="myring",
                           password="myring-pw", database="myring_test", **kw)
c = connect(ssl={"ca": certs + "/ca.pem", "check_hostname": True})
cur = c.cursor()
cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
backend = cur.fetchone()[1]
cur.execute("SELECT REPEAT('p', 20 * 1024 * 1024)")
blob = cur.fetchone()[0]
assert len(blob) == 20 * 1024 * 1024, len(blob)
cur.execute("SELECT seq, MD5(seq) FROM seq_1_to_50000")
rows = cur.fetchall()
assert len(rows) == 50000 and rows[-1][1] == hashlib.md5(b"50000").hexdigest()
tls = c._sock.version() if hasattr(c._sock, "version") else "?"
c.close()
print("client leg", tls, "backend leg", backend)
try:
    connect(compress=True)
    print("compress accepted")
except NotImplementedError:
    print("compression: not supported by PyMySQL", pymysql.VERSION)
PYEOF
)
	if [[ $? == 0 && $out == *"client leg TLSv1"*"backend leg TLSv1"* ]]; then
		ok "PyMySQL over TLS (${out//$'\n'/; })"
	else
		bad "PyMySQL: $out"
	fi
fi

# ---- Node mysql2 --------------------------------------------------------
node_dir=$ROOT/build/node
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	skip "mysql2: node/npm not installed"
else
	if [[ ! -d $node_dir/node_modules/mysql2 ]]; then
		mkdir -p "$node_dir"
		if ! timeout 120 npm install --prefix "$node_dir" --no-audit --no-fund \
			--silent mysql2@3 >"$node_dir/npm.log" 2>&1; then
			skip "mysql2: npm could not install it (registry unreachable?): $(tail -n 2 "$node_dir/npm.log")"
		fi
	fi
	if [[ -d $node_dir/node_modules/mysql2 ]]; then
		out=$(NODE_PATH=$node_dir/node_modules timeout 120 node - "$port" "$C" <<'JSEOF' 2>&1
const mysql = require('mysql2/promise');
const fs = require('fs');
const crypto = require('crypto');
(async () => {
  const [port, certs] = process.argv.slice(2);
  for (const compress of [false, true]) {
    const c = await mysql.createConnection({host: '127.0.0.1', port: +port,
      user: 'myring', password: 'myring-pw', database: 'myring_test',
      compress, ssl: {ca: fs.readFileSync(certs + '/ca.pem')}});
    const [st] = await c.query("SHOW SESSION STATUS LIKE 'Ssl_version'");
    const [big] = await c.query("SELECT REPEAT('n', 20 * 1024 * 1024) AS b");
    if (big[0].b.length !== 20 * 1024 * 1024) throw new Error('short blob');
    const [rows] = await c.query('SELECT seq, MD5(seq) AS m FROM seq_1_to_50000');
    const last = crypto.createHash('md5').update('50000').digest('hex');
    if (rows.length !== 50000 || rows[49999].m !== last) throw new Error('rows');
    const [ex] = await c.execute('SELECT ? + 1 AS v', [41]);
    if (ex[0].v !== 42) throw new Error('prepared');
    console.log(`compress=${compress} client ${c.connection.stream.getProtocol()} backend ${st[0].Value}`);
    await c.end();
  }
})().catch(e => { console.error('mysql2 error:', e.message); process.exit(1); });
JSEOF
)
		if [[ $? == 0 && $out == *"compress=true client TLSv1"* ]]; then
			ok "mysql2 over TLS, with and without compression (${out//$'\n'/; })"
		else
			bad "mysql2: $out"
		fi
	fi
fi

kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
trap - EXIT
[[ $rc == 0 ]] || bad "myring exited with status $rc (log: $log)"
echo "tls_clients: $passed passed, $failed failed, $skipped skipped"
[[ $failed == 0 ]]
