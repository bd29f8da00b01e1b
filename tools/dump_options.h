// tools/dump_options.h: vmapjit-dump's command line.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "transforms/vmap.h"

namespace dump {

inline constexpr int kExitOk = 0;     // done; --check passed
inline constexpr int kExitBad = 1;    // malformed or invalid IR, a failed compile or --check
inline constexpr int kExitUsage = 2;  // a bad command line

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// in_dims or out_dims of one vmap level: one entry applies to every argument (output).
using Dims = std::vector<std::optional<int64_t>>;

struct Options {
  std::string input;               // a file, or "-" for standard input
  std::string output;              // -o; empty: standard output
  std::string func;                // --func: only this function of the input
  std::vector<Dims> vmaps;         // --vmap, innermost first
  std::vector<Dims> out_dims;      // --out-dims, per --vmap in the same order (default 0)
  std::vector<std::string> stages;  // --stage names, or "all"
  bool run = false, check = false, bench = false;
  bool interpreter = false, fuse = true, quick = false, list_ops = false, help = false;
  bool constant_captures = false;
  bool fp_contract = true;
  int64_t batch = 4;
  uint64_t seed = 0;
  int repeats = 100;
  int threads = 0;
  double rtol = 1e-4, atol = 1e-5;
  jit::ir::RandomMode randomness = jit::ir::RandomMode::Error;
};

// Throws UsageError.
Options parse_options(int argc, char** argv);
std::string help_text();

}  // namespace dump
