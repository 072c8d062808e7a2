#!/usr/bin/env bash
# Installs what building and testing tandem needs and is missing: Debian
# packages through apt-get, npm packages of test/ from the checked-in lock file
# (exact versions). Idempotent and quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  libuv1-dev liblmdb-dev libyaml-dev libmicrohttpd-dev
  libjansson-dev libxml2-dev libpcre2-dev libsqlite3-dev sqlite3 tzdata
  curl procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}" ||
    { "${sudo_cmd[@]}" apt-get update && "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

# npm packages for the end-to-end tests, exact versions from the lock file.
if [ -f test/package-lock.json ]; then
  stamp=test/node_modules/.tandem-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s test/package-lock.json "$stamp"; then
    echo "deps: npm ci in test/"
    (cd test && npm ci --no-audit --no-fund --loglevel=error)
    mkdir -p test/node_modules
    cp test/package-lock.json "$stamp"
  fi
fi
