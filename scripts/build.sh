#!/usr/bin/env bash
# Builds Stratus. Usage: scripts/build.sh [release|debug]...
#   release -> build/        (Release; build/bin/stratus is the daemon)
#   debug   -> build-debug/  (Debug with AddressSanitizer + UndefinedBehaviorSanitizer, -Werror; for tests)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${STRATUS_JOBS:-$(nproc)}"
for config in "${@:-release}"; do
  case "$config" in
    release) dir=build; flags=(-DCMAKE_BUILD_TYPE=Release -DSTRATUS_WERROR=ON) ;;
    debug) dir=build-debug; flags=(-DCMAKE_BUILD_TYPE=Debug -DSTRATUS_SANITIZE=ON -DSTRATUS_WERROR=ON) ;;
    *) echo "build.sh: unknown configuration '$config' (release|debug)" >&2; exit 2 ;;
  esac
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja "${flags[@]}"
  fi
  cmake --build "$dir" -j "$jobs"
done
