#!/usr/bin/env bash
# Installs what the repository's scripts need on a fresh machine with Node 20:
# pnpm always; redis-server/redis-cli only when asked (`--with-redis`, the test suite needs them).
set -euo pipefail

PNPM_VERSION=9.15.9

if ! command -v pnpm >/dev/null 2>&1; then
  echo "[dc] pnpm not found: installing pnpm@${PNPM_VERSION} with npm"
  if ! npm install -g "pnpm@${PNPM_VERSION}"; then
    echo "[dc] could not install pnpm. Install it with: npm install -g pnpm@${PNPM_VERSION} (or sudo npm install -g pnpm@${PNPM_VERSION})" >&2
    exit 1
  fi
fi

# Debian packages the tests need: redis-server (+ redis-cli) for the real-Redis tests, xz for the
# compressed reference traces the eviction tests replay.
missing=()
if [ "${1:-}" = "--with-redis" ]; then
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then missing+=(redis-server); fi
  if ! command -v xz >/dev/null 2>&1; then missing+=(xz-utils); fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[dc] installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "[dc] the tests need ${missing[*]}, which is not installed." >&2
    echo "[dc] Install it with: sudo apt-get install -y ${missing[*]}   (macOS: brew install redis xz)" >&2
    exit 1
  fi
fi
