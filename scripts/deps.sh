#!/usr/bin/env bash
# Installs what building and testing Stratus needs, from Debian's packages, if it is missing.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

PACKAGES=(cmake ninja-build g++ ccache pkg-config
          libboost-dev librocksdb-dev nlohmann-json3-dev libfmt-dev libyaml-cpp-dev
          libgtest-dev libgmock-dev
          # Lambda (src/services/lambda): libzip unpacks Code.ZipFile packages; libssl-dev's libcrypto
          # computes CodeSha256 (SHA-256).
          libzip-dev libssl-dev
          # The daemon's allocator (CMakeLists.txt, STRATUS_ALLOCATOR): gperftools' tcmalloc_minimal.
          libgoogle-perftools-dev
          python3 wrk curl)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The integration tests drive the daemon with boto3 and the AWS CLI. This machine kind ships them in its
# Python; elsewhere take Debian's packages.
if ! python3 -c 'import boto3' 2>/dev/null; then
  echo "deps: installing python3-boto3"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-boto3
fi

# The SQS query-protocol tests (tests/integration/test_sqs_query.py) drive Debian's AWS CLI v2
# (/usr/bin/aws, package awscli: v2.9 still speaks SQS's query protocol); the `aws` of a pyenv Python is
# CLI v1 and does not replace it.
if [ ! -x /usr/bin/aws ] || ! dpkg-query -W -f='${Status}' awscli 2>/dev/null | grep -q "install ok installed"; then
  echo "deps: installing awscli"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends awscli
fi

# The JS SDK tests (tests/integration/test_sqs_js.py) run node with @aws-sdk/client-sqs from
# tests/integration/js (package-lock.json pins it; the test runs `npm ci` itself when node_modules is
# missing, and so does this script).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "deps: installing nodejs npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
JS_TESTS="$(cd "$(dirname "$0")/.." && pwd)/tests/integration/js"
if [ -f "$JS_TESTS/package-lock.json" ] && [ ! -f "$JS_TESTS/node_modules/@aws-sdk/client-sqs/package.json" ]; then
  echo "deps: npm ci in $JS_TESTS"
  (cd "$JS_TESTS" && npm ci --no-audit --no-fund)
fi
