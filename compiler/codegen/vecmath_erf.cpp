// codegen/vecmath_erf.cpp: erf and the two forms of gelu.
//
// 1. erf(x) = x P(x^2) for |x| < 0.75 (minimax).
// 2. erfc(a) = t exp(-a^2 + Q(t)), t = 1/(1 + a/2), for a >= 0.3, with a^2 as an exact pair
//    (FMA) and Q a minimax fit of log(erfc(a) e^(a^2) / t) in t; erf = 1 - erfc above 0.75.
//    For f32, t is one rounding of the f64 quotient (Q is sensitive to it).
// 3. gelu_erf = x/2 (1 + erf(x/sqrt 2)): 1 + erf by one FMA near 0, erfc(|z|) on the negative
//    side (no cancellation, correct down to the underflow), 2 - erfc on the positive side.
// 4. gelu_tanh = x/2 (1 + tanh u) = x sigmoid(2u), with 2u = 2 sqrt(2/pi) (x + 0.044715 x^3)
//    in extended precision (f32: in f64; f64: double-double), since exp(-2u) amplifies its error.
// As in the scalar reference, gelu(-inf) = -inf * 0 = NaN and gelu(inf) = inf.
#include <cmath>

#include "codegen/vecmath_impl.h"

namespace jit::cg::vm {
namespace {

// erf(x) = x (C0 + C0lo) + x^3 P(x^2) on [0, 0.75], C0 + C0lo = 2/sqrt(pi).
constexpr double kErfC0F = 0x1.20dd76p0, kErfC0LoF = -0x1.f7ac92p-25;
constexpr double kErfC0 = 0x1.20dd750429b6dp0, kErfC0Lo = 0x1.1ae3a914fed8p-56;
constexpr double kErfSmallF[] = {-0x1.81273ep-2, 0x1.ce2b98p-4, -0x1.b7b65ap-6, 0x1.4f90b2p-8,
                                 -0x1.63ec32p-11};
constexpr double kErfSmall[] = {-0x1.812746b0378a3p-2, 0x1.ce2f21a02c635p-4, -0x1.b82ce30a01e49p-6,
                                0x1.565bcb7532a17p-8,  -0x1.c02d5cf7946bep-11, 0x1.f997ef11c7eep-14,
                                -0x1.f3ed1e2a802fap-17, 0x1.aec4d2c3a95fp-20, -0x1.11328b321505fp-23};
// log(erfc(a) e^(a^2) / t) for t = 1/(1 + a/2), as a polynomial in t - tm.
// f32: a in [0.3, 10.3], tm = 0x1.08p-1, abs error 2^-27; f64: a in [0.3, 27.5], tm = 0x1.ep-2,
// abs error 2^-55.
constexpr double kErfcTmF = 0x1.08p-1;
constexpr double kErfcF[] = {-0x1.4d2c6p-1, 0x1.59d65cp0,  0x1.5f5e5cp-3, -0x1.898b3cp-2,
                             -0x1.15acap-3, 0x1.299508p-2, 0x1.4ea15p-4,  -0x1.279d4p-2,
                             -0x1.2a38a6p-6, 0x1.cec3aep-3};
constexpr double kErfcTm = 0x1.ep-2;
constexpr double kErfc[] = {
    -0x1.6d61f7c6ce528p-1, 0x1.551656b9341ccp0,   0x1.c9ccb5fd75dbep-3,  -0x1.6934c43abeec2p-2,
    -0x1.99d9776b875eep-3, 0x1.055d63a5df569p-2,  0x1.692102da1555dp-3,  -0x1.1d3af7d910602p-2,
    -0x1.180c990e3ec05p-3, 0x1.6a7bfb5f0e12fp-2,  0x1.5ee84b9bd69aap-5,  -0x1.c401ca805ec92p-2,
    0x1.269f2c30a841bp-3,  0x1.ddc0ae741da3bp-2,  -0x1.b2b5ea059fab9p-2, -0x1.446d60fefba55p-2,
    0x1.66c5a1e86a5afp-1,  -0x1.5a642bfcc8a42p-4, -0x1.84032b83c51b6p-1, 0x1.3b8cffc723ebp-1,
    0x1.bf12b23158be7p-2,  -0x1.bebddb862a0cfp-1, 0x1.37f7ea50ab646p-5,  0x1.0b76953da7ac1p-1,
    -0x1.52e06d44f87adp-3};

// erf(z) = z C0 + z tail for |z| < 0.75: returns tail (C0lo folded in).
Value* erf_small_tail(const Vm& m, Value* z) {
  Value* z2 = m.mul(z, z);
  Value* p = m.f32 ? m.poly(z2, kErfSmallF, 5) : m.poly(z2, kErfSmall, 9);
  return m.fma(z2, p, m.c(m.f32 ? kErfC0LoF : kErfC0Lo));
}
Value* erf_c0(const Vm& m) { return m.c(m.f32 ? kErfC0F : kErfC0); }

// erfc(a) 2^scale for 0.3 <= a (clamped by the caller), a^2 = a2.hi + a2.lo exactly. The scale
// keeps the exponential normal where the final result is not: it is removed by one rounding.
// f32_fit selects the f32 fit of Q (also used in f64 arithmetic for f32 gelu). a/2 = v k:
// gelu passes |x| and 1/(2 sqrt 2), saving the rounding of a.
Value* erfc_big(const Vm& m, Value* v, double k, Pair a2, int scale, bool f32_fit) {
  auto& B = m.b;
  Value* t;
  if (m.f32) {
    Vm d = m.with_elem(B.getDoubleTy());
    Value* vd = B.CreateFPExt(v, d.t);
    t = B.CreateFPTrunc(d.div(d.c(1), d.fma(vd, d.c(k), d.c(1))), m.t);
  } else {
    t = m.div(m.c(1), m.fma(v, m.c(k), m.c(1)));
  }
  Value* u = m.sub(t, m.c(f32_fit ? kErfcTmF : kErfcTm));
  // Q(u) = c0 + u P(u) with the last addition exact: its rounding would be a relative error of
  // erfc.
  const double* c = f32_fit ? kErfcF : kErfc;
  Pair q = fast_two_sum(m, m.c(c[0]), m.mul(u, m.poly_estrin(u, c + 1, f32_fit ? 9 : 24)));
  Pair e = two_sum(m, m.neg(a2.hi), q.hi);
  return m.mul(t, exp_core(m, e.hi, m.add(e.lo, m.sub(q.lo, a2.lo)), scale));
}

}  // namespace

Value* emit_erf(const Vm& m, Value* x) {
  // From 4 (f32) / 6 (f64) on, erfc < ulp(1)/2 and erf rounds to 1: clamping there keeps a^2
  // finite and erfc away from the denormals (slow on x86).
  Value* a = m.abs(x);
  Value* ac = m.sel(m.lt(a, m.c(m.f32 ? 4.0 : 6.0)), a, m.c(m.f32 ? 4.0 : 6.0));
  Value* big = m.sub(m.c(1), erfc_big(m, ac, 0.5, two_prod(m, ac, ac), 0, m.f32));
  Value* small = m.fma(a, erf_c0(m), m.mul(a, erf_small_tail(m, a)));
  Value* r = m.copysign(m.sel(m.lt(a, m.c(0.75)), small, big), x);  // odd: keeps -0
  return m.sel(m.isnan(x), x, r);
}

Value* emit_gelu_erf(const Vm& m, Value* x) {
  auto& B = m.b;
  double lim = m.f32 ? 16.0 : 40.0;  // erfc(lim/sqrt 2) is 0 in the type
  Value* xc = m.sel(m.lt(m.abs(x), m.c(lim)), x, m.copysign(m.c(lim), x));
  Value* clamped = B.CreateNot(m.eq(xc, x));
  Value* z = m.mul(xc, m.c(M_SQRT1_2));
  // 1 + erf(z): one FMA for -0.3 <= z < 0.75, 2 - erfc(z) above, erfc(-z) below, where the
  // result x/2 erfc(-z) is computed at scale (f64: 2^64; f32: in f64) to round once, also
  // into the denormals.
  Value *erfc, *neg;
  if (m.f32) {
    Vm d = m.with_elem(B.getDoubleTy());
    Value* xd = B.CreateFPExt(xc, d.t);
    Value* a2 = d.mul(d.mul(xd, xd), d.c(0.5));  // exact: 24-bit x
    Value* e = erfc_big(d, d.abs(xd), 0.5 * M_SQRT1_2, {a2, d.c(0)}, 0, true);
    erfc = B.CreateFPTrunc(e, m.t);
    neg = B.CreateFPTrunc(d.mul(d.mul(d.c(0.5), xd), e), m.t);
  } else {
    Pair x2 = two_prod(m, xc, xc);
    Value* e = erfc_big(m, m.abs(xc), 0.5 * M_SQRT1_2, {m.mul(x2.hi, m.c(0.5)), m.mul(x2.lo, m.c(0.5))},
                        64, false);
    erfc = m.mul(e, m.c(0x1p-64));
    neg = m.mul(m.mul(m.mul(m.c(0.5), xc), e), m.c(0x1p-64));
  }
  erfc = m.sel(clamped, m.c(0), erfc);
  neg = m.sel(clamped, m.mul(x, m.c(0)), neg);  // -0, or NaN for -inf as in the formula
  Value* onep = m.fma(z, m.add(erf_c0(m), erf_small_tail(m, z)), m.c(1));
  onep = m.sel(m.ge(z, m.c(0.75)), m.sub(m.c(2), erfc), onep);
  Value* r = m.sel(m.lt(z, m.c(-0.3)), neg, m.mul(m.mul(m.c(0.5), x), onep));
  return m.sel(m.isnan(x), x, r);
}

Value* emit_gelu_tanh(const Vm& m, Value* x) {
  auto& B = m.b;
  constexpr long double k2 = 2 * 0.797884560802865355879892119868763737L;  // 2 sqrt(2/pi)
  constexpr long double c3 = 0.044715L;
  int scale = m.f32 ? 32 : 64;
  // w = 2u in extended precision; then x sigmoid(w) by the form 1/(1+e) or e/(1+e) with
  // e = exp(-|w|), which never overflows (sigmoid itself now takes e/(1+e) with e = exp(w)).
  Value *e, *neg, *under;
  if (m.f32) {
    Vm d = m.with_elem(B.getDoubleTy());
    Value* xd = B.CreateFPExt(x, d.t);
    Value* w = d.mul(d.mul(d.c(double(k2)), xd), d.fma(d.mul(xd, xd), d.c(double(c3)), d.c(1)));
    neg = d.lt(w, d.c(0));
    w = d.neg(d.abs(w));
    under = B.CreateFPTrunc(w, m.t);  // below -190 the result is 0 even at scale
    w = d.sel(d.gt(w, d.c(-200)), w, d.c(-200));  // NaN: -200, any finite
    Value* hi = B.CreateFPTrunc(w, m.t);
    Value* lo = B.CreateFPTrunc(d.sub(w, B.CreateFPExt(hi, d.t)), m.t);
    e = exp_core(m, hi, lo, scale);
  } else {
    auto dd = [&](long double v) -> Pair {
      double hi = double(v);
      return {m.c(hi), m.c(double(v - hi))};
    };
    auto mul = [&](Pair a, Pair b) {
      Pair p = two_prod(m, a.hi, b.hi);
      return fast_two_sum(m, p.hi, m.fma(a.hi, b.lo, m.fma(a.lo, b.hi, p.lo)));
    };
    Value* xc = m.sel(m.lt(m.abs(x), m.c(1e5)), x, m.copysign(m.c(1e5), x));
    Pair x2 = two_prod(m, xc, xc);
    Pair t = mul(x2, dd(c3));                        // 0.044715 x^2
    Pair s = fast_two_sum(m, m.c(1), t.hi);          // 1 + 0.044715 x^2
    s = fast_two_sum(m, s.hi, m.add(s.lo, t.lo));
    Pair w = mul(mul(s, {xc, m.c(0)}), dd(k2));      // 2u
    neg = m.lt(w.hi, m.c(0));
    under = m.neg(m.abs(w.hi));
    e = exp_core(m, under, m.sel(neg, w.lo, m.neg(w.lo)), scale);
  }
  e = m.sel(m.lt(under, m.c(m.f32 ? -190.0 : -800.0)), m.c(0), e);
  // x sigmoid(w) = x/(1 + e) for w >= 0, x e/(1 + e) below (at scale 2^scale: can be denormal).
  Value* unscale = m.c(std::ldexp(1.0, -scale));
  Value* den = m.add(m.c(1), m.mul(e, unscale));
  Value* r = m.sel(neg, m.mul(m.div(m.mul(x, e), den), unscale), m.div(x, den));
  return m.sel(m.isnan(x), x, r);
}

}  // namespace jit::cg::vm
