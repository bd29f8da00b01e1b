// ops/derivatives.h: helpers for the derivative rules of the op families
// (derivatives_elementwise.cpp, derivatives_reduction.cpp, derivatives_layout.cpp). Rules are
// written with the public tensor ops; inside the autodiff pass they record nodes.
#pragma once

#include "frontend/dispatch.h"
#include "ir/ir.h"
#include "jit/ops.h"

namespace jit::ir {

void register_elementwise_derivatives(OpRegistry& r);
void register_reduction_derivatives(OpRegistry& r);
void register_layout_derivatives(OpRegistry& r);

// g summed over the dims along which a tensor of `shape` was broadcast to g's shape.
Tensor sum_to(const Tensor& g, const Shape& shape);
// Zeros (or v) of t's shape and dtype.
Tensor zeros_like_sym(const Tensor& t);
Tensor full_like_sym(const Tensor& t, double v);
// An op of the table applied directly (for primitives without a public function).
Tensor prim(OpId op, std::initializer_list<Tensor> operands, Attrs attrs = {});

}  // namespace jit::ir
