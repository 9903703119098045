#!/usr/bin/env bash
# Installs the system packages AiOps needs, only those that are missing (Debian/Ubuntu, apt-get).
#   install-deps.sh          everything the test suite needs: PostgreSQL server binaries (initdb/pg_ctl),
#                            prometheus + promtool, libgomp1 (LightGBM's native library), tzdata (time zones)
#   install-deps.sh runtime  only what the server itself needs: libgomp1, tzdata
# Idempotent: when nothing is missing it installs nothing and does not touch the network.
set -euo pipefail

scope="${1:-test}"
case "$scope" in
  test|runtime) ;;
  *) echo "usage: $0 [test|runtime]" >&2; exit 2 ;;
esac

has_libgomp() {
  { command -v ldconfig >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libgomp\.so\.1'; } \
    || dpkg -s libgomp1 >/dev/null 2>&1
}
has_initdb() {
  command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
has_prometheus() {
  command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ]
}

has_tzdata() {
  [ -f /usr/share/zoneinfo/Europe/Berlin ] || dpkg -s tzdata >/dev/null 2>&1
}

missing=()
has_libgomp || missing+=(libgomp1)
# the server resolves the IANA time zones entities follow (timeZone in their metadata) from the system's zone data
has_tzdata || missing+=(tzdata)
if [ "$scope" = test ]; then
  has_initdb || missing+=(postgresql)
  # As root the tests run PostgreSQL as the 'postgres' OS user (initdb refuses root); the package creates it.
  if [ "$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then
    [[ " ${missing[*]} " == *" postgresql "* ]] || missing+=(postgresql)
  fi
  has_prometheus || missing+=(prometheus)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all present ($scope): nothing to install"
  exit 0
fi

echo "install-deps: missing, installing with apt-get: ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; install these yourself: ${missing[*]}" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "install-deps: not root and no sudo; install these yourself: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
