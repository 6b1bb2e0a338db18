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
