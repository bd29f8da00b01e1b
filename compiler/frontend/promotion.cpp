// frontend/promotion.cpp: torch's result_type.
#include "frontend/promotion.h"

#include "frontend/dispatch.h"
#include "jit/ops.h"

namespace jit::detail {
namespace {

int rank_of(DType t) {
  switch (t) {
    case DType::b8: return 0;
    case DType::i32: return 1;
    case DType::i64: return 2;
    case DType::f32: return 3;
    case DType::f64: return 4;
  }
  return 0;
}

using Opt = std::optional<DType>;

Opt promote(Opt a, DType b) { return a ? promote_types(*a, b) : b; }

// torch's combine_categories: the higher group wins unless the lower one is of a higher
// category (a float below an int, or anything below a bool).
Opt combine(Opt higher, Opt lower) {
  if (!higher) return lower;
  if (!lower || is_float(*higher)) return higher;
  if (*higher == DType::b8 || is_float(*lower)) return promote_types(*higher, *lower);
  return higher;
}

}  // namespace

DType promote_types(DType a, DType b) { return rank_of(a) >= rank_of(b) ? a : b; }

DType result_type(std::span<const Arg> args) {
  Opt dims, zero, wrapped;
  for (const Arg& a : args) {
    if (const Tensor* t = std::get_if<Tensor>(&a)) {
      (t->dim() > 0 ? dims : zero) = promote(t->dim() > 0 ? dims : zero, t->dtype());
    } else {
      Scalar::Kind k = std::get<Scalar>(a).kind();
      wrapped = promote(wrapped, k == Scalar::Kind::Float ? DType::f32
                                 : k == Scalar::Kind::Int ? DType::i64
                                                          : DType::b8);
    }
  }
  return combine(dims, combine(zero, wrapped)).value_or(DType::f32);
}

Tensor as_tensor(const Arg& a, DType t) {
  if (const Tensor* x = std::get_if<Tensor>(&a)) return x->dtype() == t ? *x : cast(*x, t);
  return constant(std::get<Scalar>(a), t);
}

}  // namespace jit::detail
