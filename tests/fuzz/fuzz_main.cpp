// tests/fuzz/fuzz_main.cpp: vmapjit-fuzz, the long mode of the differential fuzzer.
//   vmapjit-fuzz --seconds N [--from SEED]   check random programs for N seconds
//   vmapjit-fuzz --seed S                    check (and print) one program
// Prints each failure with its seed and program; exits 1 if any failed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "random_program.h"

int main(int argc, char** argv) {
  double seconds = 10;
  uint64_t from = 1, only = 0;
  bool single = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--from") && i + 1 < argc) from = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) only = std::strtoull(argv[++i], nullptr, 10), single = true;
    else {
      std::fprintf(stderr, "usage: vmapjit-fuzz [--seconds N] [--from SEED] | --seed SEED\n");
      return 2;
    }
  }
  if (single) {
    fuzz::Program p = fuzz::generate(only);
    std::printf("%s", p.describe().c_str());
    std::string r = fuzz::check(p);
    std::printf("%s\n", r.empty() ? "ok" : r.c_str());
    return r.empty() ? 0 : 1;
  }
  auto start = std::chrono::steady_clock::now();
  int64_t n = 0, failed = 0;
  for (uint64_t seed = from;; ++seed) {
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (t >= seconds) break;
    std::string r = fuzz::check(fuzz::generate(seed));
    ++n;
    if (!r.empty()) {
      ++failed;
      std::printf("FAIL seed %llu\n%s\n", static_cast<unsigned long long>(seed), r.c_str());
    }
  }
  std::printf("%lld programs, %lld failed\n", static_cast<long long>(n), static_cast<long long>(failed));
  return failed ? 1 : 0;
}
