#!/usr/bin/env bash
# The one command that checks everything: installs what the tests need (pnpm, redis-server),
# then builds, typechecks, lints, verifies package exports, runs every test and the demo.
# The Redis tests start their own servers on free loopback ports; nothing needs to be running.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

bash scripts/ensure-tools.sh --with-redis
pnpm install --frozen-lockfile
pnpm build
pnpm typecheck
pnpm lint
pnpm check:exports
node scripts/run-tests.mjs
pnpm demo
