// frontend/dispatch.h: where every public op goes. Inside a trace it records a node; otherwise it
// runs the op's reference kernel eagerly. Both paths use the op table's shape and dtype rule, so
// a traced and an eager call of the same function agree.
#pragma once

#include <atomic>
#include <span>

#include "ir/ir.h"
#include "jit/tensor.h"

namespace jit::detail {

Tensor apply(ir::OpId op, std::span<const Tensor> operands, ir::Attrs attrs = {});
inline Tensor apply(ir::OpId op, std::initializer_list<Tensor> operands, ir::Attrs attrs = {}) {
  return apply(op, std::span<const Tensor>(operands.begin(), operands.size()), std::move(attrs));
}

// A 0-d constant: a node when tracing, a concrete scalar otherwise.
Tensor constant(Scalar v, DType t);

// rand / randn of `shape`: a node when tracing (its stream fresh in the trace), else drawn now
// from the process generator.
Tensor random(ir::OpId op, const Shape& shape, DType t);

// The process's generator: a seed and a count of calls that drew from it.
struct Generator {
  static void seed(uint64_t s);
  static uint64_t current_seed();
  static uint64_t next_call();  // reserves one call's worth of random streams
};

// "f32[3,4]", for messages.
std::string describe(const Tensor& t);
// "[4,-1]": a list of dims or sizes as the user gave it (ir::shape_string would print -1 as ?).
std::string list_string(const std::vector<int64_t>& v);

// A dim in [-rank, rank) made non-negative; throws naming the op and the tensor otherwise.
// Scalars accept 0 and -1, as in torch.
int64_t normalize_dim(const char* op, int64_t dim, const Tensor& t, bool allow_end = false);

// A contiguous tensor of `shape` owning fresh memory (throws jit::Error when it cannot). A
// small one's elements share its TensorImpl's allocation.
Tensor allocate(Shape shape, DType t);

}  // namespace jit::detail
