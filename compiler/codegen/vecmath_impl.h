// codegen/vecmath_impl.h: the IR building blocks shared by the vecmath families (internal).
#pragma once

#include <functional>

#include <cmath>
#include <cstdint>
#include <initializer_list>

#include <llvm/IR/IRBuilder.h>

namespace jit::cg::vm {

using llvm::Value;

// Typed shorthands over an IRBuilder for one float type (scalar or vector) and the integer type
// of the same shape. Every helper is plain IR: no fast-math flags, no calls but intrinsics.
struct Vm {
  llvm::IRBuilderBase& b;
  llvm::Type* t;   // float/double or <N x float/double>
  llvm::Type* it;  // i32/i64 of the same shape
  bool f32;
  bool fast_paths = true;  // branch_all emits both paths (else only the general one)
  bool scalef = false;     // VSCALEF for ldexp on 128/256/512-bit vectors (MathOptions)

  Vm(llvm::IRBuilderBase& b, llvm::Type* t, bool fast_paths = true, bool scalef = false);
  Vm with_elem(llvm::Type* scalar) const;  // same shape, other element type

  int mant_bits() const { return f32 ? 23 : 52; }
  int bias() const { return f32 ? 127 : 1023; }

  Value* c(double v) const { return llvm::ConstantFP::get(t, v); }
  Value* ci(int64_t v) const { return llvm::ConstantInt::get(it, uint64_t(v), true); }

  Value* add(Value* x, Value* y) const { return b.CreateFAdd(x, y); }
  Value* sub(Value* x, Value* y) const { return b.CreateFSub(x, y); }
  Value* mul(Value* x, Value* y) const { return b.CreateFMul(x, y); }
  Value* div(Value* x, Value* y) const { return b.CreateFDiv(x, y); }
  Value* neg(Value* x) const { return b.CreateFNeg(x); }
  Value* fma(Value* x, Value* y, Value* z) const;
  Value* unary(llvm::Intrinsic::ID id, Value* x) const { return b.CreateUnaryIntrinsic(id, x); }
  Value* rint(Value* x) const { return unary(llvm::Intrinsic::roundeven, x); }
  Value* abs(Value* x) const { return unary(llvm::Intrinsic::fabs, x); }
  Value* copysign(Value* mag, Value* sgn) const {
    return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, mag, sgn);
  }

  Value* lt(Value* x, Value* y) const { return b.CreateFCmpOLT(x, y); }
  Value* gt(Value* x, Value* y) const { return b.CreateFCmpOGT(x, y); }
  Value* ge(Value* x, Value* y) const { return b.CreateFCmpOGE(x, y); }
  Value* eq(Value* x, Value* y) const { return b.CreateFCmpOEQ(x, y); }
  Value* isnan(Value* x) const { return b.CreateFCmpUNO(x, x); }
  Value* isinf(Value* x) const { return eq(abs(x), c(INFINITY)); }
  Value* sel(Value* m, Value* x, Value* y) const { return b.CreateSelect(m, x, y); }
  Value* bor(Value* m, Value* n) const { return b.CreateOr(m, n); }
  Value* band(Value* m, Value* n) const { return b.CreateAnd(m, n); }
  // x if lo < x < hi, else the bound; NaN becomes lo (so integer conversions stay defined).
  Value* clamp(Value* x, double lo, double hi) const;

  Value* bits(Value* x) const { return b.CreateBitCast(x, it); }
  Value* from_bits(Value* i) const { return b.CreateBitCast(i, t); }
  Value* to_int(Value* x) const { return b.CreateFPToSI(x, it); }  // x finite and in range
  Value* to_float(Value* i) const { return b.CreateSIToFP(i, t); }
  Value* pow2i(Value* n) const;  // 2^n for integer n in the normal exponent range
  // x 2^n rounded once, for integral float n: ldexp where x 2^n's exponent and 2^n are in the
  // normal range; ldexp_wide where x 2^(n/2) is (the result may overflow or be denormal: two
  // exact-range steps, the second rounding). VSCALEF where the target has it: the same bits.
  Value* ldexp(Value* x, Value* n) const;
  Value* ldexp_wide(Value* x, Value* n) const;
  Value* scalef_or_null(Value* x, Value* n) const;  // VSCALEF(x, n), or null without it

  // Horner with FMA, coefficients from degree 0 up.
  Value* poly(Value* x, std::initializer_list<double> cs) const;
  Value* poly(Value* x, const double* cs, int n) const;
  // Estrin's scheme: the same polynomial with a shorter dependency chain (for long ones).
  Value* poly_estrin(Value* x, const double* cs, int n) const;
};

// Exact transformations of pairs: a + b = s + e and a * b = p + e.
struct Pair {
  Value* hi;
  Value* lo;
};
Pair two_sum(const Vm& m, Value* a, Value* b);
Pair fast_two_sum(const Vm& m, Value* a, Value* b);  // |a| >= |b| (or a == 0)
Pair two_prod(const Vm& m, Value* a, Value* b);

// exp(hi + lo) 2^scale for |lo| << 1, without NaN handling (NaN gives a number): the exponential
// core shared by exp, sigmoid, erf and pow. hi is clamped to where exp under/overflows;
// 0 <= scale <= 64 lifts results that would be denormal back into the normal range.
Value* exp_core(const Vm& m, Value* hi, Value* lo = nullptr, int scale = 0);

// fast() where every lane of `all` is true, slow() otherwise: one branch per vector (per
// element in scalar code). The two must agree on the lanes where `all` holds, so a lane's
// result never depends on the other lanes.
Value* branch_all(const Vm& m, Value* all, const std::function<Value*()>& fast, const std::function<Value*()>& slow);
// log(x) + lo/.. for finite x > 0 (denormals included); `corr` (may be null) is added at the
// low end of the sum: the result is log(x) + corr for |corr| < ulp(x).
Value* log_core(const Vm& m, Value* x, Value* corr = nullptr);
// log(x) for x > 0 as a double-double (f64 only), relative error about 2^-66.
Pair log_dd(const Vm& m, Value* x);

// The family emitters; args already checked.
Value* emit_exp(const Vm& m, Value* x);
Value* emit_expm1(const Vm& m, Value* x);
Value* emit_log(const Vm& m, Value* x);
Value* emit_log1p(const Vm& m, Value* x);
Value* emit_tanh(const Vm& m, Value* x);
Value* emit_sigmoid(const Vm& m, Value* x);
Value* sigmoid_from_exp(const Vm& m, Value* e);
Value* emit_pow(const Vm& m, Value* x, Value* y);
Value* emit_erf(const Vm& m, Value* x);
Value* emit_gelu_erf(const Vm& m, Value* x);
Value* emit_gelu_tanh(const Vm& m, Value* x);
enum class Trig { Sin, Cos, Tan };
Value* emit_trig(const Vm& m, Trig fn, Value* x);

}  // namespace jit::cg::vm
