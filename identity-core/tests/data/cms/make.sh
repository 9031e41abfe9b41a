#!/usr/bin/env bash
# Makes the small PKI the cms module's doc example signs with: a root, an issuing
# CA and an official's signing certificate (P-256), all by OpenSSL, valid from the
# day this ran for 8,000 days. Keys are random, so rerunning changes every file;
# the files are committed so the example needs no generator at test time.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
ec "$tmp/root.key"; ec "$tmp/ca.key"; ec signer.key.pem
openssl req -x509 -new -key "$tmp/root.key" -days 8000 -subj "/C=VN/O=Example/CN=Example Root" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem
cat > "$tmp/ca.ext" <<'X'
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
X
openssl req -new -key "$tmp/ca.key" -subj "/C=VN/O=Example/CN=Example Officials CA" -out "$tmp/ca.csr"
openssl x509 -req -in "$tmp/ca.csr" -CA root.pem -CAkey "$tmp/root.key" -set_serial 2 -days 7990 \
  -extfile "$tmp/ca.ext" -out ca.pem
cat > "$tmp/signer.ext" <<'X'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=1.3.6.1.5.5.7.3.36,emailProtection
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
X
openssl req -new -key signer.key.pem -utf8 -subj "/C=VN/O=Sở Tư pháp/UID=CCCD:001090012345/CN=Nguyễn Văn An" -out "$tmp/signer.csr"
openssl x509 -req -in "$tmp/signer.csr" -CA ca.pem -CAkey "$tmp/ca.key" -set_serial 3 -days 7980 \
  -extfile "$tmp/signer.ext" -out signer.pem
