// codegen/vecmath.h: inline vectorized math (exp, log, sin, pow, ...) emitted through IRBuilder.
//
// emit_math builds straight-line, branch-free IR (selects, bitcasts, llvm.fma, llvm.roundeven,
// ...) on float or double, scalar or <N x T>, and returns a value of the argument type. It never
// calls libm and never sets the nnan/ninf fast-math flags: NaN, ±Inf, -0 and denormals behave as
// in libm. The code may add a private constant global to the insertion block's module (the f64
// sin/cos/tan table of 2/pi bits). The builder's fast-math flags are ignored. docs/vecmath.md
// has the methods and how the max ULP errors below were measured: against f64 libm for f32, over
// all 2^32 inputs (pow: sampled); against long double libm for f64, over sampled sweeps.
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/IR/IRBuilder.h>

#include <functional>

namespace jit::cg {

enum class MathFn {
  Exp,       // 2^n (1 + r + r^2 Q(r)), r = x - n ln2 (Cody-Waite, FMA); scaling in two steps, so
             // overflow and gradual underflow round as libm. f32 1.08, f64 0.98
  Log,       // x = 2^k m, m in [sqrt .5, sqrt 2); log(1+f) from s = f/(2+f) and a minimax in s^2
             // (fdlibm's arrangement), + k ln2. f32 0.84, f64 0.82
  Log1p,     // log(u), u = 1 + x, plus (the exact rounding error of u) / u. f32 0.84, f64 0.82
  Expm1,     // 2 (2^(n-1) expm1(r) + 2^(n-1) - 1/2) with one FMA. f32 1.60, f64 1.80
  Tanh,      // e/(e+2) below 0.55, 1 - 2/(e+2) above, e = expm1(2|x|). f32 2.46, f64 2.54
  Sigmoid,   // e/(1+e), e = exp(x) capped where the quotient is 1 (exp(x) is shared with a
             // group's exp of the same x). f32 2.40, f64 2.29
  Erf,       // x P(x^2) below 0.75; above 1 - erfc, erfc(a) = t exp(-a^2 + Q(t)), t = 1/(1+a/2),
             // a^2 exact by FMA. f32 1.57, f64 1.92
  GeluErf,   // x/2 (1 + erf(x/sqrt 2)); the cancelling side as x/2 erfc(-x/sqrt 2), in f64 for
             // f32. f32 1.72, f64 4.91
  GeluTanh,  // x sigmoid(2u), u = sqrt(2/pi)(x + 0.044715 x^3) in f64 (f32) or double-double
             // (f64). f32 3.40, f64 3.12
  Sin,       // x = n pi/2 + r in f64: Cody-Waite (3-part pi/2) below 2^28 (f32) / 2^30 (f64),
             // branch-free Payne-Hanek above (f32: no table; f64: a 2/pi table, gathers);
             // minimax sin/cos on [-pi/4, pi/4], f32 polynomials in f32. f32 1.54, f64 0.78
  Cos,       // as Sin. f32 1.54, f64 0.77
  Tan,       // sin(r)/cos(r) or -cos(r)/sin(r) with Sin's reduction. f32 3.21, f64 2.14
  Pow,       // exp(y log|x|): f32 in f64, f64 with log in double-double; then C99's special
             // cases (pow(x, ±0) = 1, pow(1, y) = 1, sign for odd integer y, ...). f32 0.50,
             // f64 1.14
};

struct MathOptions {
  // exp, sigmoid and tanh also emit a shorter path for vectors whose every lane is in range,
  // taken by a branch (the same bits; more code, so the quick tier goes without).
  bool fast_paths = true;
  // The target has AVX-512F and VL: x 2^n by VSCALEF on 128-, 256- and 512-bit vectors (the
  // same bits as the integer-exponent multiplies; 3 to 5 fewer instructions per exp).
  bool scalef = false;
};

// fast() where `all` holds (an i1, or every lane of a <N x i1>), slow() otherwise: one branch,
// weighted towards fast() (so that slow() is not speculated into selects). The two must give
// the same bits wherever `all` holds, so that a lane's result never depends on the other lanes.
llvm::Value* emit_branch_all(llvm::IRBuilderBase& b, llvm::Value* all, const std::function<llvm::Value*()>& fast,
                             const std::function<llvm::Value*()>& slow);

// Emits fn applied elementwise to args (one argument, two for Pow), all of one type: float or
// double, scalar or fixed vector. Returns a value of that type.
llvm::Value* emit_math(llvm::IRBuilderBase& b, MathFn fn, llvm::ArrayRef<llvm::Value*> args, const MathOptions& options = {});

// Sigmoid of x from e = emit_math(Exp, x): the same bits as emit_math(Sigmoid, x).
llvm::Value* emit_sigmoid_from_exp(llvm::IRBuilderBase& b, llvm::Value* e);

}  // namespace jit::cg
