// runtime/executable.h: a batched function ready to run over a range of its batch. The
// interpreter and the LLVM backend both provide one; the runtime chunks and threads over it.
#pragma once

#include <memory>
#include <span>

#include "ir/ir.h"

namespace jit::rt {

class Executable {
 public:
  virtual ~Executable() = default;
  // Runs samples [begin, end) of the batch. `inputs` are the whole batched inputs (the
  // function's parameters in order), `outputs` the whole outputs, allocated by the caller; only
  // the range's part of each batched output is written (an unbatched output when begin == 0).
  virtual void run(std::span<const Tensor> inputs, std::span<const Tensor> outputs, int64_t begin,
                   int64_t end, const ir::KernelCtx& ctx) const = 0;
  // True when run() may be called for disjoint ranges from several threads at once.
  virtual bool parallel_safe() const { return true; }
};

// Runs the function through the reference interpreter.
std::unique_ptr<Executable> make_interpreter_executable(const ir::Function& batched);

// The position of the dynamic batch dim in a type, or -1.
int64_t dyn_dim(const ir::Type& t);

}  // namespace jit::rt
