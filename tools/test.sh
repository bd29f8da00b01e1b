#!/usr/bin/env bash
# tools/test.sh [--quick]: installs what is missing, builds, and runs every test: unit, golden
# IR, examples, the installed package; then (unless --quick) the suite under ASan + UBSan, the
# concurrency tests under TSan, and a bounded libFuzzer run on the IR parser.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
if ((quick)); then bash tools/setup.sh; else bash tools/setup.sh --sanitizers; fi
bash tools/build.sh
ctest --test-dir build --output-on-failure -j2
((quick)) && exit 0
bash tools/sanitize.sh
bash tools/fuzz-parser.sh 60
