#!/usr/bin/env bash
# ensure-debian-packages.sh [--check] -- make sure the system tools the test suite runs exist.
# Installs only what is missing (apt-get update once, only then). As non-root it uses `sudo -n`
# when allowed; otherwise it lists what is missing and exits 1. --check never installs.
set -euo pipefail

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

have() { command -v "$1" >/dev/null 2>&1; }

# PostgreSQL server binaries are often off PATH on Debian (/usr/lib/postgresql/<v>/bin).
have_postgres_server() {
  if have initdb && have pg_ctl; then return 0; fi
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && return 0
  done
  return 1
}

have_nginx() { have nginx || [ -x /usr/sbin/nginx ]; }

have_python_cryptography() { have python3 && python3 -c 'import cryptography' >/dev/null 2>&1; }

# package name | test that proves it is usable | what needs it
missing=()
report=()
probe() {
  local package=$1 needed_for=$2; shift 2
  if "$@"; then report+=("ok       $package ($needed_for)"); else missing+=("$package"); report+=("MISSING  $package ($needed_for)"); fi
}
probe openssl              "openssl CLI: certificate checks"          have openssl
probe protobuf-compiler    "protoc: generating the gRPC contract"     have protoc
probe libprotobuf-dev      "google/protobuf/*.proto for protoc"       test -f /usr/include/google/protobuf/timestamp.proto
probe nginx                "nginx: install target in managed-certificate e2e" have_nginx
probe default-jre-headless "keytool: Java keystore tests"             have keytool
probe postgresql           "initdb/pg_ctl: throwaway test database"   have_postgres_server
probe python3-cryptography "python3 cryptography: cert-corpus.sh"     have_python_cryptography
probe procps               "ps/pkill: process checks"                 have ps
probe faketime             "libfaketime: expired-identity e2e"        have faketime
probe pebble               "pebble: ACME CA for the ACME issuer tests" have pebble
probe certbot              "certbot: ACME client against our ACME server" have certbot
probe lego                 "lego: ACME client against our ACME server" have lego
probe bind9                "named: RFC 2136 DNS server for DNS-01 tests" eval 'have named || [ -x /usr/sbin/named ]'
probe bind9-dnsutils       "dig/nsupdate: DNS checks"                 have dig
probe prometheus           "promtool: /metrics and rule file checks"  have promtool

printf '%s\n' "${report[@]}"
if [ ${#missing[@]} -eq 0 ]; then
  echo "ensure-debian-packages: nothing to install"
  exit 0
fi
if [ $check_only -eq 1 ]; then
  echo "ensure-debian-packages: missing: ${missing[*]}" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif have sudo && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "ensure-debian-packages: missing ${missing[*]}; run as root or install them:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "ensure-debian-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

echo "ensure-debian-packages: installed ${missing[*]}; checking again"
# Debian's python3-cryptography serves /usr/bin/python3; a pyenv/venv python3 first on PATH won't see it.
if ! have_python_cryptography; then
  echo "ensure-debian-packages: python3 on PATH ($(command -v python3 || echo none)) cannot import cryptography;" >&2
  echo "  put /usr/bin first on PATH, or: python3 -m pip install cryptography" >&2
fi
exec bash "$0" --check
