#!/usr/bin/env bash
# tools/sanitize.sh: the test suite under sanitizers. ASan + UBSan over every unit test (any
# report fails), TSan over the concurrency tests (many threads calling, compiling and running
# vmapped functions at once, kernels replaced by background compiles). Builds in build-asan/
# and build-tsan/ with clang-19, which builds them in a third of GCC's time (CI's budget).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --sanitizers
common=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-19 -DVMAPJIT_BUILD_EXAMPLES=OFF -DVMAPJIT_BUILD_TOOLS=OFF)

cmake -S . -B build-asan "${common[@]}" -DVMAPJIT_SANITIZE=address,undefined >/dev/null
cmake --build build-asan --target vmapjit_tests
# LLVM's JIT and the stdlib leak nothing we own at exit that matters; leaks are checked for
# our objects by the ASan build of the fuzz target (tools/fuzz-parser.sh).
ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  VMAPJIT_FUZZ_PROGRAMS=60 build-asan/tests/vmapjit_tests

cmake -S . -B build-tsan "${common[@]}" -DVMAPJIT_SANITIZE=thread >/dev/null
cmake --build build-tsan --target vmapjit_tests
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  build-tsan/tests/vmapjit_tests -tc="*concurren*,*thread*,*chunk*,*tier*,*background*"
echo "sanitizers: clean"
