// frontend/promotion.h: torch's type promotion. Tensors with dims outrank 0-d tensors, which
// outrank wrapped numbers, unless a lower group is of a higher category (bool < int < float):
// i32[3] + 2.5 is f32, f64[3] + 1 stays f64, i32[3] + i64[] stays i32.
#pragma once

#include <optional>
#include <span>
#include <variant>

#include "jit/tensor.h"

namespace jit::detail {

using Arg = std::variant<Tensor, Scalar>;

DType promote_types(DType a, DType b);
DType result_type(std::span<const Arg> args);

// The arg as a tensor of dtype t (a cast or a constant).
Tensor as_tensor(const Arg& a, DType t);

}  // namespace jit::detail
