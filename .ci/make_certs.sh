#!/usr/bin/env bash
# Regenerates the test certificates under tests/fixtures/certs/ with openssl.
#
#   ca.pem / ca.key                  a test certification authority
#   server.pem / server.key          a server certificate for localhost, 127.0.0.1 and ::1,
#                                    signed by the CA (msrps with a CA, RFC 4975 §5.4, §14.2)
#   selfsigned.pem / selfsigned.key  a self-signed certificate for the same names, for
#                                    TLS in peer-to-peer mode with an SDP fingerprint (§14.4)
#   other.pem / other.key            a second self-signed certificate (a wrong fingerprint)
#
# Keys are ECDSA P-256 (fast, accepted by rustls). Certificates are valid for 100 years so
# the committed files never expire under the tests. The self-signed certificates say CA:FALSE
# so that a TLS stack that is given one as its only trust anchor accepts it as an end entity.
#
# Usage: .ci/make_certs.sh   (from anywhere; writes into tests/fixtures/certs/)
set -euo pipefail
cd "$(dirname "$0")/../tests/fixtures/certs"

DAYS=36500
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

newkey() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

cat >"$tmp/ca.ext" <<'EOF'
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF

cat >"$tmp/leaf.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
EOF

# The CA: a self-signed root.
newkey ca.key
openssl req -new -key ca.key -subj "/CN=msrp test CA" -out "$tmp/ca.csr"
openssl x509 -req -in "$tmp/ca.csr" -signkey ca.key -days "$DAYS" -sha256 \
  -extfile "$tmp/ca.ext" -set_serial 1 -out ca.pem 2>/dev/null

# The server certificate, signed by the CA.
newkey server.key
openssl req -new -key server.key -subj "/CN=localhost" -out "$tmp/server.csr"
openssl x509 -req -in "$tmp/server.csr" -CA ca.pem -CAkey ca.key -days "$DAYS" -sha256 \
  -extfile "$tmp/leaf.ext" -set_serial 2 -out server.pem 2>/dev/null

# Two self-signed end-entity certificates.
for name in selfsigned other; do
  newkey "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=msrp $name" -out "$tmp/$name.csr"
  openssl x509 -req -in "$tmp/$name.csr" -signkey "$name.key" -days "$DAYS" -sha256 \
    -extfile "$tmp/leaf.ext" -set_serial 3 -out "$name.pem" 2>/dev/null
done

# Deno.listenTls reads PKCS#8 or SEC1 keys; genpkey writes PKCS#8 already.
openssl verify -CAfile ca.pem server.pem
echo "certificates written to $(pwd)"
