// ops/elementwise.cpp: the elementwise family: unary, binary and ternary ops with torch
// broadcasting. One row per op gives its dtype rule and scalar semantics; the shape rule,
// reference kernel and batching rule are shared by the whole family.
#include <cmath>

#include "ops/family.h"
#include "ops/scalar_math.h"
#include "transforms/batching.h"

namespace jit::ir {
namespace {

// Which dtypes an op accepts and what it returns.
enum class DRule : uint8_t {
  Float,      // float in, same out
  Numeric,    // float or int in, same out
  NumBool,    // any dtype, same out
  Bool,       // bool in, bool out
  Predicate,  // any in, bool out (isnan, comparisons)
  Cast,       // any in, attribute dtype out
};

using F1 = double (*)(double);
using I1 = int64_t (*)(int64_t);
using F2 = double (*)(double, double);
using I2 = int64_t (*)(int64_t, int64_t);

struct Row {
  OpId id;
  DRule rule;
  F1 f1 = nullptr;  // unary, on floats
  I1 i1 = nullptr;  // unary, on ints and bool
  F2 f2 = nullptr;  // binary, on floats
  I2 i2 = nullptr;  // binary, on ints and bool
  bool differentiable = true;
};

double gelu_any(double x) { return scalar::gelu_erf(x); }

const Row kRows[] = {
    {OpId::Neg, DRule::Numeric, [](double x) { return -x; }, [](int64_t x) { return scalar::wrap_sub(0, x); }},
    {OpId::Abs, DRule::Numeric, [](double x) { return std::fabs(x); }, [](int64_t x) { return x < 0 ? scalar::wrap_sub(0, x) : x; }},
    {OpId::Sign, DRule::Numeric, scalar::sign, [](int64_t x) -> int64_t { return (x > 0) - (x < 0); }, nullptr, nullptr, false},
    {OpId::Exp, DRule::Float, [](double x) { return std::exp(x); }},
    {OpId::Log, DRule::Float, [](double x) { return std::log(x); }},
    {OpId::Log1p, DRule::Float, [](double x) { return std::log1p(x); }},
    {OpId::Expm1, DRule::Float, [](double x) { return std::expm1(x); }},
    {OpId::Sqrt, DRule::Float, [](double x) { return std::sqrt(x); }},
    {OpId::Rsqrt, DRule::Float, [](double x) { return 1.0 / std::sqrt(x); }},
    {OpId::Square, DRule::Numeric, [](double x) { return x * x; }, [](int64_t x) { return scalar::wrap_mul(x, x); }},
    {OpId::Reciprocal, DRule::Float, [](double x) { return 1.0 / x; }},
    {OpId::Sin, DRule::Float, [](double x) { return std::sin(x); }},
    {OpId::Cos, DRule::Float, [](double x) { return std::cos(x); }},
    {OpId::Tan, DRule::Float, [](double x) { return std::tan(x); }},
    {OpId::Tanh, DRule::Float, [](double x) { return std::tanh(x); }},
    {OpId::Sigmoid, DRule::Float, scalar::sigmoid},
    {OpId::Relu, DRule::Numeric, scalar::relu, [](int64_t x) -> int64_t { return x > 0 ? x : 0; }},
    {OpId::Gelu, DRule::Float, gelu_any},  // the kernel picks the form from `approximate`
    {OpId::Erf, DRule::Float, [](double x) { return std::erf(x); }},
    {OpId::Floor, DRule::Numeric, [](double x) { return std::floor(x); }, [](int64_t x) { return x; }, nullptr, nullptr, false},
    {OpId::Ceil, DRule::Numeric, [](double x) { return std::ceil(x); }, [](int64_t x) { return x; }, nullptr, nullptr, false},
    {OpId::Round, DRule::Numeric, [](double x) { return std::nearbyint(x); }, [](int64_t x) { return x; }, nullptr, nullptr, false},
    {OpId::LogicalNot, DRule::Bool, nullptr, [](int64_t x) -> int64_t { return !x; }, nullptr, nullptr, false},
    {OpId::IsNan, DRule::Predicate, [](double x) -> double { return std::isnan(x); }, [](int64_t) -> int64_t { return 0; }, nullptr, nullptr, false},
    {OpId::IsInf, DRule::Predicate, [](double x) -> double { return std::isinf(x); }, [](int64_t) -> int64_t { return 0; }, nullptr, nullptr, false},
    {OpId::Cast, DRule::Cast, [](double x) { return x; }, [](int64_t x) { return x; }},
    {OpId::StopGradient, DRule::NumBool, [](double x) { return x; }, [](int64_t x) { return x; }, nullptr, nullptr, false},
    {OpId::Add, DRule::NumBool, nullptr, nullptr, [](double a, double b) { return a + b; }, scalar::wrap_add},
    {OpId::Sub, DRule::Numeric, nullptr, nullptr, [](double a, double b) { return a - b; }, scalar::wrap_sub},
    {OpId::Mul, DRule::NumBool, nullptr, nullptr, [](double a, double b) { return a * b; }, scalar::wrap_mul},
    {OpId::Div, DRule::Float, nullptr, nullptr, [](double a, double b) { return a / b; }},
    {OpId::Pow, DRule::Numeric, nullptr, nullptr, [](double a, double b) { return std::pow(a, b); }, scalar::ipow},
    {OpId::Maximum, DRule::NumBool, nullptr, nullptr, scalar::maximum, [](int64_t a, int64_t b) { return a > b ? a : b; }},
    {OpId::Minimum, DRule::NumBool, nullptr, nullptr, scalar::minimum, [](int64_t a, int64_t b) { return a < b ? a : b; }},
    {OpId::Eq, DRule::Predicate, nullptr, nullptr, [](double a, double b) -> double { return a == b; }, [](int64_t a, int64_t b) -> int64_t { return a == b; }, false},
    {OpId::Ne, DRule::Predicate, nullptr, nullptr, [](double a, double b) -> double { return a != b; }, [](int64_t a, int64_t b) -> int64_t { return a != b; }, false},
    {OpId::Lt, DRule::Predicate, nullptr, nullptr, [](double a, double b) -> double { return a < b; }, [](int64_t a, int64_t b) -> int64_t { return a < b; }, false},
    {OpId::Le, DRule::Predicate, nullptr, nullptr, [](double a, double b) -> double { return a <= b; }, [](int64_t a, int64_t b) -> int64_t { return a <= b; }, false},
    {OpId::Gt, DRule::Predicate, nullptr, nullptr, [](double a, double b) -> double { return a > b; }, [](int64_t a, int64_t b) -> int64_t { return a > b; }, false},
    {OpId::Ge, DRule::Predicate, nullptr, nullptr, [](double a, double b) -> double { return a >= b; }, [](int64_t a, int64_t b) -> int64_t { return a >= b; }, false},
    {OpId::LogicalAnd, DRule::Bool, nullptr, nullptr, nullptr, [](int64_t a, int64_t b) -> int64_t { return a && b; }, false},
    {OpId::LogicalOr, DRule::Bool, nullptr, nullptr, nullptr, [](int64_t a, int64_t b) -> int64_t { return a || b; }, false},
    {OpId::Where, DRule::NumBool},
    {OpId::Clamp, DRule::NumBool},
    {OpId::Fma, DRule::Float},
};

const Row& row(OpId id) {
  for (const Row& r : kRows)
    if (r.id == id) return r;
  __builtin_unreachable();
}

Type infer(const OpInfo& op, std::span<const Type> in, const Attrs& attrs) {
  const Row& r = row(op.id);
  Shape shape = broadcast_shapes(op, in);
  // where(cond, a, b): cond is bool, a and b share the result dtype.
  std::span<const Type> values = op.id == OpId::Where ? in.subspan(1) : in;
  if (op.id == OpId::Where && in[0].dtype != DType::b8)
    op_fail(op, ErrorKind::DType, fmt::format("the condition must be bool, got {}", to_string(in[0])));
  DType t = same_dtype(op, values);
  auto need = [&](bool ok, const char* what) {
    if (!ok) op_fail(op, ErrorKind::DType, fmt::format("needs {} operands, got {}", what, types_list(in)));
  };
  switch (r.rule) {
    case DRule::Float: need(is_float(t), "floating-point"); return {t, shape};
    case DRule::Numeric: need(t != DType::b8, "numeric (not bool)"); return {t, shape};
    case DRule::NumBool: return {t, shape};
    case DRule::Bool: need(t == DType::b8, "bool"); return {DType::b8, shape};
    case DRule::Predicate: return {DType::b8, shape};
    case DRule::Cast: return {attrs.get_dtype("dtype"), shape};
  }
  __builtin_unreachable();
}

// Float results are computed in double and rounded to the result dtype; integer and bool ones
// in int64 and wrapped.
void kernel(const Node& n, std::span<const Tensor> in, Tensor& out, const KernelCtx&) {
  const Row& r = row(n.op);
  std::vector<Shape> strides{contiguous_strides(out.shape())};
  for (const Tensor& t : in) strides.push_back(broadcast_strides(t.shape(), out.shape()));
  bool fl = is_float(in.back().dtype());  // the value operands' dtype (where: a, b)
  bool gelu_tanh = n.op == OpId::Gelu && n.attrs.get_int("approximate") != 0;
  for (IndexWalker w(out.shape(), strides); !w.done(); w.next()) {
    int64_t o = w.offset(0);
    auto ld = [&](size_t k) { return load_double(in[k], w.offset(k + 1)); };
    auto li = [&](size_t k) { return load_int(in[k], w.offset(k + 1)); };
    if (n.op == OpId::Where) {
      int64_t src = li(0) ? 1 : 2;
      fl ? store_double(out, o, ld(src)) : store_int(out, o, li(src));
    } else if (n.op == OpId::Clamp) {
      if (fl)
        store_double(out, o, scalar::minimum(scalar::maximum(ld(0), ld(1)), ld(2)));
      else
        store_int(out, o, std::min(std::max(li(0), li(1)), li(2)));
    } else if (n.op == OpId::Fma) {
      // Rounded once in the result's dtype (in double, a f32 sum could round twice).
      if (out.dtype() == DType::f32)
        store_double(out, o, std::fmaf(float(ld(0)), float(ld(1)), float(ld(2))));
      else
        store_double(out, o, std::fma(ld(0), ld(1), ld(2)));
    } else if (n.op == OpId::Cast) {
      fl ? store_double(out, o, ld(0)) : store_int(out, o, li(0));
    } else if (in.size() == 1) {
      if (gelu_tanh)
        store_double(out, o, scalar::gelu_tanh(ld(0)));
      else if (fl)
        store_double(out, o, r.f1(ld(0)));
      else
        store_int(out, o, r.i1(li(0)));
    } else {
      fl ? store_double(out, o, r.f2(ld(0), ld(1))) : store_int(out, o, r.i2(li(0), li(1)));
    }
  }
}

// Every batched operand gets the batch dim in front and, when its per-sample rank is below the
// result's, size-1 dims after it, so broadcasting lines the batch dims up.
BValue batch(BatchCtx& ctx, const Node& n, std::span<const BValue> in) {
  int64_t rank = n.type.rank();
  std::vector<ValueId> operands;
  for (const BValue& v : in) operands.push_back(v.batched ? ctx.align_rank(v.id, rank) : v.id);
  return {ctx.b.op(n.op, operands, n.attrs), true};
}

}  // namespace

void register_elementwise_ops(OpRegistry& reg) {
  for (const Row& r : kRows) {
    OpInfo& op = reg.op(r.id);
    op.infer = infer;
    op.kernel = kernel;
    op.batch = batch;
    op.differentiable = r.differentiable;
    switch (op.arity) {
      case 1: op.signature = "(x) -> y"; break;
      case 2: op.signature = "(a, b) -> y, broadcasting"; break;
      default: op.signature = op.id == OpId::Where ? "(cond: bool, a, b) -> y, broadcasting"
                              : op.id == OpId::Fma ? "(a, b, c) -> a * b + c rounded once, broadcasting"
                                                   : "(x, lo, hi) -> y, broadcasting";
    }
  }
  reg.op(OpId::Cast).attrs = {{"dtype", AttrKind::DType}};
  reg.op(OpId::Cast).signature = "(x) {dtype} -> y";
  reg.op(OpId::Gelu).attrs = {{"approximate", AttrKind::Int}};
  reg.op(OpId::Gelu).signature = "(x) {approximate: 0 erf, 1 tanh} -> y";
}

}  // namespace jit::ir
