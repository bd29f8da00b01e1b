// ops/derivatives_elementwise.cpp: derivatives of the elementwise family. A unary op gives its
// local derivative dy/dx, a binary op its two partials; one VJP (g * partial, summed over
// broadcast dims) and one JVP (sum of tangent * partial) serve each arity. Comparisons, sign,
// floor, ceil, round, isnan, isinf and logical ops are not differentiable (zero), as in torch.
#include <cmath>

#include "ops/derivatives.h"

namespace jit::ir {
namespace {

using T = Tensor;

// ---- unary: dy/dx -------------------------------------------------------------------------------

using Local = T (*)(const Node& n, const T& x, const T& y);

T d_gelu(const Node& n, const T& x, const T&) {
  if (n.attrs.get_int("approximate")) {
    // y = 0.5 x (1 + tanh(u)), u = k (x + 0.044715 x^3)
    const double k = std::sqrt(2.0 / M_PI);
    T u = k * (x + 0.044715 * x * x * x);
    T t = jit::tanh(u);
    T du = k * (1.0 + 3 * 0.044715 * x * x);
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du;
  }
  // y = x Phi(x): Phi(x) + x phi(x)
  T cdf = 0.5 * (1.0 + jit::erf(x * M_SQRT1_2));
  T pdf = jit::exp(-0.5 * x * x) * (1.0 / std::sqrt(2.0 * M_PI));
  return cdf + x * pdf;
}

struct UnaryRule {
  OpId id;
  Local local;
};

const UnaryRule kUnary[] = {
    {OpId::Neg, [](const Node&, const T& x, const T&) { return full_like_sym(x, -1.0); }},
    {OpId::Abs, [](const Node&, const T& x, const T&) { return jit::sign(x); }},
    {OpId::Exp, [](const Node&, const T&, const T& y) { return y; }},
    {OpId::Log, [](const Node&, const T& x, const T&) { return jit::reciprocal(x); }},
    {OpId::Log1p, [](const Node&, const T& x, const T&) { return jit::reciprocal(x + 1.0); }},
    {OpId::Expm1, [](const Node&, const T&, const T& y) { return y + 1.0; }},
    {OpId::Sqrt, [](const Node&, const T&, const T& y) { return 0.5 / y; }},
    {OpId::Rsqrt, [](const Node&, const T& x, const T& y) { return -0.5 * y / x; }},
    {OpId::Square, [](const Node&, const T& x, const T&) { return 2.0 * x; }},
    {OpId::Reciprocal, [](const Node&, const T&, const T& y) { return -(y * y); }},
    {OpId::Sin, [](const Node&, const T& x, const T&) { return jit::cos(x); }},
    {OpId::Cos, [](const Node&, const T& x, const T&) { return -jit::sin(x); }},
    {OpId::Tan, [](const Node&, const T&, const T& y) { return 1.0 + y * y; }},
    {OpId::Tanh, [](const Node&, const T&, const T& y) { return 1.0 - y * y; }},
    {OpId::Sigmoid, [](const Node&, const T&, const T& y) { return y * (1.0 - y); }},
    {OpId::Relu, [](const Node&, const T& x, const T&) { return jit::cast(x > 0.0, x.dtype()); }},
    {OpId::Gelu, d_gelu},
    {OpId::Erf, [](const Node&, const T& x, const T&) { return (2.0 / std::sqrt(M_PI)) * jit::exp(-(x * x)); }},
};

Local local_of(OpId id) {
  for (const UnaryRule& r : kUnary)
    if (r.id == id) return r.local;
  return nullptr;
}

void vjp_unary(const Node& n, std::span<const T> x, const T& y, const T& gy, std::span<T> gx) {
  gx[0] = gy * local_of(n.op)(n, x[0], y);
}

T jvp_unary(const Node& n, std::span<const T> x, const T& y, std::span<const T> tx) {
  return tx[0] * local_of(n.op)(n, x[0], y);
}

// cast: the gradient goes back to the operand's dtype; none for non-float operands.
void vjp_cast(const Node&, std::span<const T> x, const T&, const T& gy, std::span<T> gx) {
  if (is_float(x[0].dtype())) gx[0] = jit::cast(gy, x[0].dtype());
}
T jvp_cast(const Node& n, std::span<const T> x, const T&, std::span<const T> tx) {
  if (!is_float(x[0].dtype())) return {};
  return jit::cast(tx[0], n.type.dtype);
}

// ---- binary: the partials d/da and d/db -----------------------------------------------------------

using Partials = std::pair<T, T> (*)(const T& a, const T& b, const T& y);

// torch's pow derivatives: 0 where the exponent is 0 (for a) or the base is 0 with a
// non-negative exponent (for b).
std::pair<T, T> pow_partials(const T& a, const T& b, const T& y) {
  T da = jit::where(jit::eq(b, 0.0), 0.0, b * jit::pow(a, b - 1.0));
  T db = jit::where(jit::logical_and(jit::eq(a, 0.0), jit::ge(b, 0.0)), 0.0, y * jit::log(a));
  return {da, db};
}

// maximum / minimum: the gradient goes to the larger (smaller) operand, split evenly on a tie.
std::pair<T, T> extreme_partials(const T& a, const T& b, bool larger) {
  T wins = jit::cast(larger ? jit::gt(a, b) : jit::lt(a, b), a.dtype());
  T tie = jit::cast(jit::eq(a, b), a.dtype()) * 0.5;
  return {wins + tie, 1.0 - wins - tie};
}

struct BinaryRule {
  OpId id;
  Partials partials;
};

const BinaryRule kBinary[] = {
    {OpId::Add, [](const T& a, const T& b, const T&) { return std::pair{full_like_sym(a, 1.0), full_like_sym(b, 1.0)}; }},
    {OpId::Sub, [](const T& a, const T& b, const T&) { return std::pair{full_like_sym(a, 1.0), full_like_sym(b, -1.0)}; }},
    {OpId::Mul, [](const T& a, const T& b, const T&) { return std::pair{b, a}; }},
    {OpId::Div, [](const T&, const T& b, const T& y) { return std::pair{jit::reciprocal(b), -(y / b)}; }},
    {OpId::Pow, pow_partials},
    {OpId::Maximum, [](const T& a, const T& b, const T&) { return extreme_partials(a, b, true); }},
    {OpId::Minimum, [](const T& a, const T& b, const T&) { return extreme_partials(a, b, false); }},
};

Partials partials_of(OpId id) {
  for (const BinaryRule& r : kBinary)
    if (r.id == id) return r.partials;
  return nullptr;
}

void vjp_binary(const Node& n, std::span<const T> x, const T& y, const T& gy, std::span<T> gx) {
  auto [da, db] = partials_of(n.op)(x[0], x[1], y);
  gx[0] = sum_to(gy * da, x[0].shape());
  gx[1] = sum_to(gy * db, x[1].shape());
}

T jvp_binary(const Node& n, std::span<const T> x, const T& y, std::span<const T> tx) {
  auto [da, db] = partials_of(n.op)(x[0], x[1], y);
  T r;
  if (tx[0].defined()) r = tx[0] * da;
  if (tx[1].defined()) r = r.defined() ? r + tx[1] * db : tx[1] * db;
  return jit::expand(r, y.shape());
}

// ---- ternary ------------------------------------------------------------------------------------

// where(c, a, b): the gradient follows the selected operand.
void vjp_where(const Node&, std::span<const T> x, const T&, const T& gy, std::span<T> gx) {
  gx[1] = sum_to(jit::where(x[0], gy, 0.0), x[1].shape());
  gx[2] = sum_to(jit::where(x[0], 0.0, gy), x[2].shape());
}
T jvp_where(const Node&, std::span<const T> x, const T& y, std::span<const T> tx) {
  T a = tx[1].defined() ? jit::expand(tx[1], y.shape()) : zeros_like_sym(y);
  T b = tx[2].defined() ? jit::expand(tx[2], y.shape()) : zeros_like_sym(y);
  return jit::where(x[0], a, b);
}

// clamp(x, lo, hi): to x inside [lo, hi], to the bound that clamps it otherwise (torch).
std::array<T, 3> clamp_masks(std::span<const T> x) {
  T below = jit::lt(x[0], x[1]), above = jit::logical_and(jit::gt(x[0], x[2]), jit::logical_not(below));
  T inside = jit::logical_not(jit::logical_or(below, above));
  DType t = x[0].dtype();
  return {jit::cast(inside, t), jit::cast(below, t), jit::cast(above, t)};
}
void vjp_clamp(const Node&, std::span<const T> x, const T&, const T& gy, std::span<T> gx) {
  std::array<T, 3> m = clamp_masks(x);
  for (int i = 0; i < 3; ++i) gx[i] = sum_to(gy * m[i], x[i].shape());
}
T jvp_clamp(const Node&, std::span<const T> x, const T& y, std::span<const T> tx) {
  std::array<T, 3> m = clamp_masks(x);
  T r = zeros_like_sym(y);
  for (int i = 0; i < 3; ++i)
    if (tx[i].defined()) r = r + tx[i] * m[i];
  return r;
}

// fma(a, b, c) = a b + c.
void vjp_fma(const Node&, std::span<const T> x, const T&, const T& gy, std::span<T> gx) {
  gx[0] = sum_to(gy * x[1], x[0].shape());
  gx[1] = sum_to(gy * x[0], x[1].shape());
  gx[2] = sum_to(gy, x[2].shape());
}
T jvp_fma(const Node&, std::span<const T> x, const T& y, std::span<const T> tx) {
  T r = zeros_like_sym(y);
  if (tx[0].defined()) r = r + tx[0] * x[1];
  if (tx[1].defined()) r = r + x[0] * tx[1];
  if (tx[2].defined()) r = r + tx[2];
  return r;
}

}  // namespace

void register_elementwise_derivatives(OpRegistry& reg) {
  for (const UnaryRule& r : kUnary) {
    reg.op(r.id).vjp = vjp_unary;
    reg.op(r.id).jvp = jvp_unary;
  }
  for (const BinaryRule& r : kBinary) {
    reg.op(r.id).vjp = vjp_binary;
    reg.op(r.id).jvp = jvp_binary;
  }
  reg.op(OpId::Cast).vjp = vjp_cast;
  reg.op(OpId::Cast).jvp = jvp_cast;
  reg.op(OpId::Where).vjp = vjp_where;
  reg.op(OpId::Where).jvp = jvp_where;
  reg.op(OpId::Clamp).vjp = vjp_clamp;
  reg.op(OpId::Clamp).jvp = jvp_clamp;
  reg.op(OpId::Fma).vjp = vjp_fma;
  reg.op(OpId::Fma).jvp = jvp_fma;
}

}  // namespace jit::ir
