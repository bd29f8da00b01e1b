// interp/interpreter.h: the reference interpreter. It runs any IR function on concrete tensors,
// one node at a time through each op's reference kernel. It is the oracle for vmap and for
// compiled code: written for clarity and exactness, not speed.
#pragma once

#include <span>
#include <vector>

#include "ir/ir.h"

namespace jit::ir {

// Runs f. The batch size (the dynamic dim `?`) is read off the inputs; every input must match
// its parameter's type. Outputs are contiguous and own their buffers.
std::vector<Tensor> interpret(const Function& f, std::span<const Tensor> inputs,
                              const KernelCtx& ctx = {});

// Runs one node's reference kernel on concrete operands (the eager path of the frontend).
Tensor run_kernel(const Node& n, std::span<const Tensor> operands, const Shape& out_shape,
                  const KernelCtx& ctx = {});

// The batch size the inputs give f's dynamic dims (0 when f has none); throws jit::Error naming
// the parameter when an input does not fit its type.
int64_t bind_batch(const Function& f, std::span<const Tensor> inputs);

}  // namespace jit::ir
