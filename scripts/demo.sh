#!/usr/bin/env bash
# README command 1: installs what is missing, builds everything, and runs the demo stack from config/ on
# http://127.0.0.1:4566 (state in ./.stratus; Ctrl-C stops it). Extra arguments go to `stratus serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh release
exec build/bin/stratus serve --config config/demo.yaml "$@"
