#!/usr/bin/env bash
# tools/fuzz-parser.sh [SECONDS]: builds the library with clang-19 under libFuzzer, ASan and
# UBSan (build-fuzz/) and fuzzes the IR parser and verifier for SECONDS (default 60) from a seed
# corpus of the golden tests' .jir files. Exits non-zero on a crash, hang or leak.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
bash tools/setup.sh --sanitizers
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-19 \
  -DVMAPJIT_FUZZ_PARSER=ON -DVMAPJIT_BUILD_TESTS=OFF -DVMAPJIT_BUILD_EXAMPLES=OFF \
  -DVMAPJIT_BUILD_TOOLS=OFF >/dev/null
cmake --build build-fuzz --target vmapjit-parser-fuzzer
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
find tests/golden -name "*.jir" -exec cp {} "$corpus"/ \;
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
  build-fuzz/vmapjit-parser-fuzzer -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" 2>&1 | tail -15
