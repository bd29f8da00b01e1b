// runtime/executable.h: a batched function ready to run. The interpreter and the LLVM backend
// both provide one; the runtime allocates the outputs and calls run().
#pragma once

#include <memory>
#include <span>

#include "ir/ir.h"

namespace jit::rt {

struct RunOptions {
  ir::KernelCtx ctx;      // random ops' seed and call number
  int64_t chunk = 0;      // > 0: at most this many samples per kernel invocation
  int threads = 0;        // 0: decide from the amount of work; 1: the calling thread only
};

class Executable {
 public:
  virtual ~Executable() = default;
  // Runs the whole batch. The batched function's parameters are `args` then `captures` (whole
  // batched tensors, any strides); `outputs` are its results, allocated by the caller.
  virtual void run(std::span<const Tensor> args, std::span<const Tensor> captures,
                   std::span<const Tensor> outputs, int64_t batch, const RunOptions& o) const = 0;
  // Whether run() calls the final code: false while a compiled function's quick-tier kernels
  // wait for their optimized replacement.
  virtual bool optimized() const { return true; }
};

// Runs the function through the reference interpreter, chunk by chunk.
std::unique_ptr<Executable> make_interpreter_executable(const ir::Function& batched);

// The position of the dynamic batch dim in a type, or -1.
int64_t dyn_dim(const ir::Type& t);

}  // namespace jit::rt
