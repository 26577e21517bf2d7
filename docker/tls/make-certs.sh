#!/usr/bin/env bash
# Makes a private CA and the certificates of the TLS variant (compose.tls.yml, and the
# Kubernetes Secret idl-tls) in docker/tls/certs/:
#   ca.crt ca.key                 the CA (keep ca.key offline in production)
#   collector.crt collector.key   HTTPS ingestion; SAN collector, localhost, 127.0.0.1, $IDL_TLS_HOSTS
#   gateway.crt gateway.key       wss:// and https:// of the gateway; same SAN rules
#   client-<app>.crt/.key         mTLS client certificate with CN=<app> (default: demo)
# Existing files are kept; delete the folder to start over.
#   usage: tls/make-certs.sh [client-app ...]       IDL_TLS_HOSTS="logs.example.com 10.0.0.5"
#   IDL_TLS_DIR   write somewhere else than docker/tls/certs
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="${IDL_TLS_DIR:-$here/certs}"
days=${IDL_TLS_DAYS:-825}
mkdir -p "$out"
chmod 700 "$out"
cd "$out"

if [ ! -f ca.crt ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -sha256 -days 3650 -keyout ca.key -out ca.crt \
    -subj "/O=Instant Dev Logs/CN=Instant Dev Logs local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "make-certs: CA ca.crt"
fi

san_for() {
  local san="DNS:$1,DNS:localhost,IP:127.0.0.1"
  for h in ${IDL_TLS_HOSTS:-}; do
    if [[ "$h" =~ ^[0-9.]+$ || "$h" == *:* ]]; then san="$san,IP:$h"; else san="$san,DNS:$h"; fi
  done
  echo "$san"
}

issue() { # name subject extensions...
  local name=$1 subject=$2 ext=$3
  [ -f "$name.crt" ] && return 0
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
  printf '%b' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" \
    -sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
  echo "make-certs: $name.crt ($subject)"
}

for svc in collector gateway; do
  issue "$svc" "/O=Instant Dev Logs/CN=$svc" \
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=$(san_for "$svc")\n"
done
apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=(demo)
for app in "${apps[@]}"; do
  issue "client-$app" "/O=Instant Dev Logs/CN=$app" \
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
done
# The services run as uid 10001 in their containers and read the files mounted one by one;
# the folder itself stays private to you.
chmod 644 ./*.crt ./*.key
chmod 600 ca.key
for f in collector gateway; do openssl verify -CAfile ca.crt "$f.crt" >/dev/null; done
echo "make-certs: certificates in $out"
