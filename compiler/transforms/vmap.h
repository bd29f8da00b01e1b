// transforms/vmap.h: the vmap pass, per-sample IR to batched IR.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace jit::ir {

enum class RandomMode { Error, Different, Same };

struct VmapSpec {
  // Per parameter of the function: where its batch dim is in the batched input (negative counts
  // from the end of the batched rank), or nullopt when it is not mapped. Captured parameters are
  // never mapped.
  std::vector<std::optional<int64_t>> in_dims;
  // Per output: where the batch dim goes (negative counts from the end), or nullopt to return it
  // unbatched (it must not depend on a mapped input).
  std::vector<std::optional<int64_t>> out_dims;
  int64_t batch_size = kDyn;  // static when vmap is traced inline in an enclosing function
  RandomMode randomness = RandomMode::Error;
  std::string context = "vmap";  // names the function in errors: "vmap(model)"
  // An op without a batching rule is batched by running it once per sample (which needs a
  // static batch size) when allowed; otherwise it is an error. Each such op counts here.
  bool allow_fallback = true;
  std::atomic<int64_t>* fallbacks = nullptr;
};

// Whether batching f needs the per-sample fallback (an op without a batching rule meets a
// batched operand).
bool needs_fallback(const Function& f, const VmapSpec& spec);

// Returns the batched function: each mapped parameter has the batch dim at its in_dim, each
// output at its out_dim. Values that do not depend on a mapped input stay unbatched (and so are
// computed once per call). Throws jit::Error for bad dims and for random ops under
// RandomMode::Error.
Function vmap(const Function& f, const VmapSpec& spec);

}  // namespace jit::ir
