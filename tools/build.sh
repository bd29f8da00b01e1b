#!/usr/bin/env bash
# tools/build.sh: configures and builds vmapjit in build/ (Release, assertions on).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
