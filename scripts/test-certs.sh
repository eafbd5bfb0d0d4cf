#!/usr/bin/env bash
# A throwaway certificate authority for the tests (openssl CLI):
#
#   scripts/test-certs.sh DIR
#
# writes into DIR (once; kept while the files are there):
#   ca.pem, ca-key.pem            the test CA
#   server.pem, server-key.pem    CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#                                 (myring's and the test MariaDB's)
#   client.pem, client-key.pem    CN=myring-client, for client certificates
#   other-ca.pem, other.pem, other-key.pem
#                                 a second CA and a server/client cert it
#                                 signed: what verification must refuse
#   wrong-host.pem, wrong-host-key.pem
#                                 signed by the test CA for CN=elsewhere.test
#                                 (verify-identity must refuse it)
# Keys are EC P-256: quick to make and to use.
set -euo pipefail

dir=${1:?usage: scripts/test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
if [[ -s ca.pem && -s server.pem && -s client.pem && -s other.pem &&
	-s wrong-host.pem ]]; then
	exit 0
fi
command -v openssl >/dev/null || { echo "test-certs: openssl not found" >&2; exit 1; }
days=3650
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() { # NAME CN
	key "$1-key.pem"
	openssl req -x509 -new -key "$1-key.pem" -sha256 -days "$days" \
		-subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem"
}

leaf() { # NAME CN SAN CA
	key "$1-key.pem"
	openssl req -new -key "$1-key.pem" -subj "/CN=$2" -out "$1.csr"
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' \
		"$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4-key.pem" \
		-CAcreateserial -days "$days" -sha256 -extfile "$1.ext" \
		-out "$1.pem" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

ca ca "myring test CA"
ca other-ca "another test CA"
leaf server localhost "DNS:localhost,IP:127.0.0.1" ca
leaf client myring-client "DNS:myring-client" ca
leaf other localhost "DNS:localhost,IP:127.0.0.1" other-ca
leaf wrong-host elsewhere.test "DNS:elsewhere.test" ca
chmod 600 ./*-key.pem
echo "test-certs: made a test CA and certificates in $PWD"
