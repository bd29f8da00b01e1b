// tests/unit/test_fuzz.cpp: differential fuzzing, bounded for CI: random programs, each checked
// compiled (fused and unfused) against the per-sample loop of the reference kernels. The long
// mode is the vmapjit-fuzz program (tests/fuzz/fuzz_main.cpp).
#include <doctest/doctest.h>

#include <cstdlib>

#include "../fuzz/random_program.h"

TEST_CASE("fuzz: random programs, compiled vmap against the stacked per-sample loop") {
  int programs = 150;
  if (const char* n = std::getenv("VMAPJIT_FUZZ_PROGRAMS")) programs = std::atoi(n);
  int failures = 0;
  for (int i = 0; i < programs; ++i) {
    uint64_t seed = 1000 + static_cast<uint64_t>(i);
    std::string failure = fuzz::check(fuzz::generate(seed));
    if (!failure.empty()) {
      ++failures;
      MESSAGE("seed " << seed << " failed (reproduce: vmapjit-fuzz --seed " << seed << "):\n" << failure);
    }
  }
  CHECK(failures == 0);
}
