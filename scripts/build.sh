#!/usr/bin/env bash
# Builds Stratus. Usage: scripts/build.sh [release|debug]...
#   release -> build/        (Release; build/bin/stratus is the daemon)
#   debug   -> build-debug/  (Debug with AddressSanitizer + UndefinedBehaviorSanitizer, -Werror; for tests)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${STRATUS_JOBS:-$(nproc)}"
for config in "${@:-release}"; do
  case "$config" in
    # Release builds the daemon and functions, not the tests (those run in the sanitizer build). Not -Werror:
    # GCC 12 at -O3 finds false positives inside libstdc++ (e.g. PR105329).
    release) dir=build; flags=(-DCMAKE_BUILD_TYPE=Release -DSTRATUS_WERROR=OFF -DSTRATUS_TESTS=OFF) ;;
    debug) dir=build-debug; flags=(-DCMAKE_BUILD_TYPE=Debug -DSTRATUS_SANITIZE=ON -DSTRATUS_WERROR=ON) ;;
    *) echo "build.sh: unknown configuration '$config' (release|debug)" >&2; exit 2 ;;
  esac
  generator=()
  [ -f "$dir/CMakeCache.txt" ] || generator=(-G Ninja)
  cmake -S . -B "$dir" "${generator[@]}" "${flags[@]}" > /dev/null
  cmake --build "$dir" -j "$jobs"
done
