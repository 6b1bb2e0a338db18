#!/usr/bin/env bash
# README command 2: installs what is missing, builds everything (Release in build/, Debug+sanitizers in
# build-debug/), and runs every test (gtest unit tests and the boto3 integration tests) under ctest
# against the sanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh release debug
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir build-debug --output-on-failure -j "${STRATUS_TEST_JOBS:-2}" "$@"
