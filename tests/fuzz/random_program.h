// tests/fuzz/random_program.h: random well-typed per-sample programs drawn from the ops, for
// differential testing of vmap and the backend. A program is a list of steps over the public
// ops; it runs the same way on concrete tensors (one sample, the reference) and on traced ones
// (inside vmap). Everything follows from the seed, so a failure reproduces from it.
#pragma once

#include <jit/jit.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace fuzz {

// The most inputs a program has: what check.cpp's call() passes as separate arguments.
inline constexpr size_t kMaxInputs = 12;

struct InputSpec {
  jit::Shape shape;             // per sample
  jit::DType dtype = jit::DType::f32;
  int64_t index_bound = 0;      // > 0: an integer index input with values in [0, bound)
};

// One step: op `kind` on earlier values `args`, with integer parameters `ints`.
struct Step {
  int kind;
  std::vector<int> args;
  std::vector<int64_t> ints;
};

struct Program {
  uint64_t seed = 0;
  std::vector<InputSpec> inputs;
  std::vector<Step> steps;
  std::vector<int> outputs;                     // value ids (inputs first, then steps)
  // Per output: returned without a batch dim (out_dims none), for outputs that no mapped input
  // reaches (not nested).
  std::vector<bool> unbatched_outputs;
  std::vector<std::optional<int64_t>> in_dims;  // per input
  std::vector<std::optional<int64_t>> inner_in_dims;  // nested: the inner vmap's
  bool nested = false;
  int64_t batch = 0, inner_batch = 0, chunk = 0;
  int threads = 0;  // chunked calls run on 2 threads: their chunks split over the pool

  // The program's values for one sample's inputs (concrete: computed; symbolic: traced).
  std::vector<jit::Tensor> run(const std::vector<jit::Tensor>& inputs) const;
  std::string describe() const;
};

Program generate(uint64_t seed);

// Random inputs for a whole batch: each input with its batch dim(s) at its in_dim(s).
std::vector<jit::Tensor> batch_inputs(const Program& p);

// Whether two tensors hold the same bits (NaN payloads aside; -0 and +0 told apart).
bool same_bits(const jit::Tensor& a, const jit::Tensor& b);

// The outcome of checking one program: empty when it passed, else what differed.
std::string check(const Program& p);

}  // namespace fuzz
