#!/usr/bin/env bash
# tools/test.sh: installs what is missing, builds, and runs every test (unit, golden IR,
# examples, the installed package).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
ctest --test-dir build --output-on-failure -j2
