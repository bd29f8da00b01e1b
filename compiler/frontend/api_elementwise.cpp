// frontend/api_elementwise.cpp: the public elementwise ops: dtype promotion as torch, then one
// node each.
#include <fmt/format.h>

#include "frontend/dispatch.h"
#include "frontend/promotion.h"
#include "jit/ops.h"

namespace jit {
namespace {

using detail::apply;
using detail::Arg;
using detail::as_tensor;
using ir::OpId;

// Ops whose result is a float: integer and bool inputs are computed in f32, as torch.
Tensor float_unary(OpId op, const Tensor& x, ir::Attrs attrs = {}) {
  Tensor in = is_float(x.dtype()) ? x : cast(x, DType::f32);
  return apply(op, {in}, std::move(attrs));
}

// Ops on numbers; bool operands are rejected as torch does (neg, sub of bool).
Tensor numeric_unary(OpId op, const Tensor& x) {
  if (x.dtype() == DType::b8)
    throw Error(ErrorKind::DType,
                fmt::format("op '{}' is not defined for bool tensors ({} given); cast first",
                            ir::op_info(op).name, detail::describe(x)));
  return apply(op, {x});
}

// Arithmetic in the promoted dtype; `float_result` promotes integers to f32 (true division).
Tensor arith(OpId op, const Arg& a, const Arg& b, bool float_result = false) {
  Arg args[] = {a, b};
  DType t = detail::result_type(args);
  if (float_result && !is_float(t)) t = DType::f32;
  if (t == DType::b8 && (op == OpId::Sub || op == OpId::Pow))
    throw Error(ErrorKind::DType,
                fmt::format("op '{}' is not defined for two bool operands; cast one of them",
                            ir::op_info(op).name));
  return apply(op, {as_tensor(a, t), as_tensor(b, t)});
}

// Comparisons: operands in their promoted dtype, a bool result.
Tensor compare(OpId op, const Arg& a, const Arg& b) {
  Arg args[] = {a, b};
  DType t = detail::result_type(args);
  return apply(op, {as_tensor(a, t), as_tensor(b, t)});
}

// Logical ops: any dtype, nonzero is true.
Tensor logical(OpId op, const Arg& a, const Arg& b) {
  return apply(op, {as_tensor(a, DType::b8), as_tensor(b, DType::b8)});
}

}  // namespace

Tensor neg(const Tensor& x) { return numeric_unary(OpId::Neg, x); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor abs(const Tensor& x) { return x.dtype() == DType::b8 ? x : apply(OpId::Abs, {x}); }
Tensor sign(const Tensor& x) { return x.dtype() == DType::b8 ? x : apply(OpId::Sign, {x}); }
Tensor exp(const Tensor& x) { return float_unary(OpId::Exp, x); }
Tensor log(const Tensor& x) { return float_unary(OpId::Log, x); }
Tensor log1p(const Tensor& x) { return float_unary(OpId::Log1p, x); }
Tensor expm1(const Tensor& x) { return float_unary(OpId::Expm1, x); }
Tensor sqrt(const Tensor& x) { return float_unary(OpId::Sqrt, x); }
Tensor rsqrt(const Tensor& x) { return float_unary(OpId::Rsqrt, x); }
Tensor square(const Tensor& x) {
  return apply(OpId::Square, {x.dtype() == DType::b8 ? cast(x, DType::i64) : x});
}
Tensor reciprocal(const Tensor& x) { return float_unary(OpId::Reciprocal, x); }
Tensor sin(const Tensor& x) { return float_unary(OpId::Sin, x); }
Tensor cos(const Tensor& x) { return float_unary(OpId::Cos, x); }
Tensor tan(const Tensor& x) { return float_unary(OpId::Tan, x); }
Tensor tanh(const Tensor& x) { return float_unary(OpId::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return float_unary(OpId::Sigmoid, x); }
Tensor relu(const Tensor& x) { return numeric_unary(OpId::Relu, x); }
Tensor gelu(const Tensor& x, bool tanh_approximation) {
  return float_unary(OpId::Gelu, x, {{"approximate", int64_t(tanh_approximation)}});
}
Tensor erf(const Tensor& x) { return float_unary(OpId::Erf, x); }
// On integers floor, ceil and round are the identity, as in torch.
Tensor floor(const Tensor& x) { return is_float(x.dtype()) ? apply(OpId::Floor, {x}) : numeric_unary(OpId::Floor, x); }
Tensor ceil(const Tensor& x) { return is_float(x.dtype()) ? apply(OpId::Ceil, {x}) : numeric_unary(OpId::Ceil, x); }
Tensor round(const Tensor& x) { return is_float(x.dtype()) ? apply(OpId::Round, {x}) : numeric_unary(OpId::Round, x); }
Tensor logical_not(const Tensor& x) { return apply(OpId::LogicalNot, {as_tensor(x, DType::b8)}); }
Tensor isnan(const Tensor& x) { return apply(OpId::IsNan, {x}); }
Tensor isinf(const Tensor& x) { return apply(OpId::IsInf, {x}); }
Tensor stop_gradient(const Tensor& x) { return apply(OpId::StopGradient, {x}); }
Tensor cast(const Tensor& x, DType dtype) {
  if (x.defined() && x.dtype() == dtype) return x;
  return apply(OpId::Cast, {x}, {{"dtype", dtype}});
}

#define JIT_BINARY_DEF(name, body)                                                          \
  Tensor name(const Tensor& a, const Tensor& b) { return body(Arg(a), Arg(b)); }            \
  Tensor name(const Tensor& a, Scalar b) { return body(Arg(a), Arg(b)); }                   \
  Tensor name(Scalar a, const Tensor& b) { return body(Arg(a), Arg(b)); }
#define ARITH(op) [](const Arg& a, const Arg& b) { return arith(OpId::op, a, b); }
#define COMPARE(op) [](const Arg& a, const Arg& b) { return compare(OpId::op, a, b); }
#define LOGICAL(op) [](const Arg& a, const Arg& b) { return logical(OpId::op, a, b); }
JIT_BINARY_DEF(add, ARITH(Add))
JIT_BINARY_DEF(sub, ARITH(Sub))
JIT_BINARY_DEF(mul, ARITH(Mul))
JIT_BINARY_DEF(div, [](const Arg& a, const Arg& b) { return arith(OpId::Div, a, b, true); })
JIT_BINARY_DEF(pow, ARITH(Pow))
JIT_BINARY_DEF(maximum, ARITH(Maximum))
JIT_BINARY_DEF(minimum, ARITH(Minimum))
JIT_BINARY_DEF(eq, COMPARE(Eq))
JIT_BINARY_DEF(ne, COMPARE(Ne))
JIT_BINARY_DEF(lt, COMPARE(Lt))
JIT_BINARY_DEF(le, COMPARE(Le))
JIT_BINARY_DEF(gt, COMPARE(Gt))
JIT_BINARY_DEF(ge, COMPARE(Ge))
JIT_BINARY_DEF(logical_and, LOGICAL(LogicalAnd))
JIT_BINARY_DEF(logical_or, LOGICAL(LogicalOr))
#undef ARITH
#undef COMPARE
#undef LOGICAL
#undef JIT_BINARY_DEF

namespace {
Tensor where_impl(const Tensor& cond, const Arg& a, const Arg& b) {
  Arg args[] = {a, b};
  DType t = detail::result_type(args);
  return apply(OpId::Where, {as_tensor(cond, DType::b8), as_tensor(a, t), as_tensor(b, t)});
}
Tensor clamp_impl(const Tensor& x, const Arg& lo, const Arg& hi) {
  Arg args[] = {x, lo, hi};
  DType t = detail::result_type(args);
  return apply(OpId::Clamp, {as_tensor(x, t), as_tensor(lo, t), as_tensor(hi, t)});
}
}  // namespace

Tensor where(const Tensor& c, const Tensor& a, const Tensor& b) { return where_impl(c, a, b); }
Tensor where(const Tensor& c, const Tensor& a, Scalar b) { return where_impl(c, a, b); }
Tensor where(const Tensor& c, Scalar a, const Tensor& b) { return where_impl(c, a, b); }
Tensor where(const Tensor& c, Scalar a, Scalar b) { return where_impl(c, a, b); }

Tensor fma(const Tensor& a, const Tensor& b, const Tensor& c) {
  Arg args[] = {a, b, c};
  DType t = detail::result_type(args);
  return apply(OpId::Fma, {as_tensor(a, t), as_tensor(b, t), as_tensor(c, t)});
}

Tensor clamp(const Tensor& x, std::optional<Scalar> lo, std::optional<Scalar> hi) {
  if (lo && hi) return clamp_impl(x, *lo, *hi);
  if (lo) return maximum(x, *lo);
  if (hi) return minimum(x, *hi);
  throw Error(ErrorKind::InvalidArgument, "clamp: at least one of lo and hi must be given");
}
Tensor clamp(const Tensor& x, const Tensor& lo, const Tensor& hi) {
  if (lo.defined() && hi.defined()) return clamp_impl(x, lo, hi);
  if (lo.defined()) return maximum(x, lo);
  if (hi.defined()) return minimum(x, hi);
  throw Error(ErrorKind::InvalidArgument, "clamp: at least one of lo and hi must be given");
}

}  // namespace jit
