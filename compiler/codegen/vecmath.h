// codegen/vecmath.h: inline vectorized math (exp, log, sin, pow, ...) emitted through IRBuilder.
//
// emit_math builds straight-line, branch-free IR (selects, bitcasts, llvm.fma, llvm.roundeven,
// ...) on float or double, scalar or <N x T>, and returns a value of the argument type. It never
// calls libm and never sets the nnan/ninf fast-math flags: NaN, ±Inf, -0 and denormals behave as
// in libm. The code may add private constant globals to the insertion block's module (the f64
// sin/cos/tan table of 2/pi bits). docs/vecmath.md has the methods and how the bounds below
// were measured (max ULP error against f64 libm for f32, against long double libm for f64; f32
// over all 2^32 inputs, f64 over the sweeps in tests/unit/test_vecmath.cpp).
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/IR/IRBuilder.h>

namespace jit::cg {

enum class MathFn {
  Exp,       // 2^n * p(r), r = x - n ln2 (Cody-Waite, FMA), two-step scaling for denormals. f32 1, f64 1
  Log,       // x = 2^k m, m in [sqrt .5, sqrt 2); log1p(f) by s = f/(2+f) and a minimax in s^2.
             // f32 1, f64 1
  Log1p,     // log(u), u = 1 + x, plus the rounding error of u divided by u. f32 2, f64 2
  Expm1,     // 2^n (expm1(r) + 1) - 1 with one FMA, n = round(x / ln2). f32 1, f64 2
  Tanh,      // e/(e+2) below 0.55, 1 - 2/(e+2) above, e = expm1(2|x|). f32 3, f64 3
  Sigmoid,   // 1/(1+e) for x >= 0, e/(1+e) below, e = exp(-|x|). f32 2, f64 2
  Erf,       // x P(x^2) below 0.75; 1 - t exp(-x^2 + Q(t)), t = 1/(1+|x|/2), above. f32 2, f64 3
  GeluErf,   // 0.5 x (1 + erf(x/sqrt 2)), with erfc for the cancelling side. f32 3, f64 4
  GeluTanh,  // x sigmoid(2u), u = sqrt(2/pi)(x + 0.044715 x^3) in extended precision. f32 3, f64 4
  Sin,       // n = round(x 2/pi), r = x - n pi/2 in f64 (three-part pi/2 below 2^28 (f32) / 2^22
             // (f64), Payne-Hanek above); sin/cos minimax on [-pi/4, pi/4]. f32 1, f64 1
  Cos,       // as Sin. f32 1, f64 1
  Tan,       // sin(r)/cos(r) with the same reduction. f32 2, f64 2
  Pow,       // exp(y log|x|) (f32: in f64; f64: log and exp in double-double), then C99's special
             // cases (pow(x, ±0) = 1, pow(1, y) = 1, odd integer y keeps the sign, ...). f32 1, f64 2
};

// Emits fn applied elementwise to args (one argument, two for Pow), all of one type: float or
// double, scalar or fixed vector. Returns a value of that type.
llvm::Value* emit_math(llvm::IRBuilderBase& b, MathFn fn, llvm::ArrayRef<llvm::Value*> args);

}  // namespace jit::cg
