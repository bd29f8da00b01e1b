// ops/scalar_math.h: the scalar semantics of the elementwise ops, in double and int64. The
// reference kernels and constant folding use these; f32 results are the double result rounded,
// which is the correctly rounded f32 value for + - * / sqrt.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace jit::ir::scalar {

inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double gelu_erf(double x) { return 0.5 * x * (1.0 + std::erf(x * M_SQRT1_2)); }
inline double gelu_tanh(double x) {
  const double k = std::sqrt(2.0 / M_PI);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}
inline double sign(double x) { return std::isnan(x) ? x : (x > 0) - (x < 0); }
inline double relu(double x) { return std::isnan(x) ? x : (x > 0 ? x : 0.0); }
// NaN-propagating max/min, as torch.maximum/minimum, with -0 below +0 (IEEE 754-2019's
// maximum/minimum and LLVM's llvm.maximum/minimum, which compiled code uses): the result does
// not depend on the operands' order.
inline double maximum(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
inline double minimum(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

// Wrapping integer arithmetic (no signed-overflow UB).
inline int64_t wrap_add(int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); }
inline int64_t wrap_sub(int64_t a, int64_t b) { return int64_t(uint64_t(a) - uint64_t(b)); }
inline int64_t wrap_mul(int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); }
inline int64_t ipow(int64_t base, int64_t e) {
  if (e < 0) return base == 1 ? 1 : base == -1 ? (e % 2 ? -1 : 1) : 0;
  uint64_t r = 1, b = uint64_t(base);
  for (; e; e >>= 1, b *= b)
    if (e & 1) r *= b;
  return int64_t(r);
}

// Float to integer conversion that saturates, with NaN giving 0 (as llvm.fptosi.sat).
template <class I>
inline I saturating_cast(double x) {
  if (std::isnan(x)) return 0;
  constexpr double lo = static_cast<double>(std::numeric_limits<I>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<I>::max());
  if (x <= lo) return std::numeric_limits<I>::min();
  if (x >= hi) return std::numeric_limits<I>::max();
  return static_cast<I>(x);
}

}  // namespace jit::ir::scalar
