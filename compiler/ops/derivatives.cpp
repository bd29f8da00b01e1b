// ops/derivatives.cpp: the shared helpers of the derivative rules, and their registration.
#include "ops/derivatives.h"

namespace jit::ir {

void register_derivatives(OpRegistry& r) {
  register_elementwise_derivatives(r);
  register_reduction_derivatives(r);
  register_layout_derivatives(r);
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  Dims dims;
  for (int64_t d = 0; d < g.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)) dims.push_back(d);
  Tensor s = dims.empty() ? g : jit::sum(g, dims, /*keepdim=*/true);
  return jit::reshape(s, shape);
}

Tensor zeros_like_sym(const Tensor& t) { return full_like_sym(t, 0.0); }

Tensor full_like_sym(const Tensor& t, double v) {
  return jit::expand(detail::constant(v, t.dtype()), t.shape());
}

Tensor prim(OpId op, std::initializer_list<Tensor> operands, Attrs attrs) {
  return detail::apply(op, operands, std::move(attrs));
}

}  // namespace jit::ir
