#!/usr/bin/env bash
# Installs the benchmark's optional peers (tests/bench/README.md). Idempotent: does nothing when they are
# installed and their package-lock.json has not changed since.
#   serverless-offline (npm: serverless v3 + serverless-offline, pinned by
#   tests/bench/peers/serverless-offline/package-lock.json) for the apigw_rps workload.
# Needs node and npm (scripts/deps.sh installs them) and, the first time, the npm registry.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "bench setup: node and npm are needed (scripts/deps.sh installs them)" >&2
  exit 1
fi

peer=peers/serverless-offline
stamp="$peer/node_modules/.stratus-lock-sha256"
want="$(sha256sum "$peer/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$peer/node_modules/serverless-offline/package.json" ]; then
  echo "bench setup: serverless-offline is installed ($peer)"
else
  echo "bench setup: npm ci in $peer"
  # No install scripts: serverless's postinstall only prints a message and sends telemetry.
  (cd "$peer" && npm ci --no-audit --no-fund --ignore-scripts)
  echo "$want" > "$stamp"
fi
