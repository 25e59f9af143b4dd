#!/usr/bin/env bash
# Installs the workspace, builds the packages and runs the quick-start demo on the embedded
# default (in-process tiers only: no Redis, no database server).
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

bash scripts/ensure-tools.sh
pnpm install --frozen-lockfile
pnpm build
pnpm demo
