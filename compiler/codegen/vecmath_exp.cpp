// codegen/vecmath_exp.cpp: the exponential and logarithm family: exp, expm1, log, log1p, tanh,
// sigmoid and pow.
//
// 1. exp: n = round(x/ln2), r = x - n ln2 with ln2 in two parts (the first FMA is exact), then
//    exp(r) = 1 + r + r^2 Q(r) (minimax Q), times 2^(n/2) and 2^(n - n/2): two exact-range scale
//    steps, so overflow gives inf and gradual underflow rounds once, as libm.
// 2. expm1 shares the reduction: 2 (2^(n-1) expm1(r) + (2^(n-1) - 1/2)) with one FMA.
// 3. log: x = 2^k m with m in [sqrt .5, sqrt 2) (denormals prescaled), f = m - 1, s = f/(2+f),
//    log(1+f) = f - f^2/2 + s (f^2/2 + z P(z)), z = s^2 (fdlibm's arrangement), + k ln2.
// 4. log1p: log(u) for u = 1 + x, plus e/u with e the exact rounding error of u (Fast2Sum).
// 5. pow: exp(y log|x|); f32 in f64, f64 with log in double-double; then the C99 special cases.
// Coefficients are minimax fits (Sollya fpminimax) of the functions named next to them.
#include <cmath>
#include <iterator>

#include "codegen/vecmath_impl.h"

namespace jit::cg::vm {
namespace {

// (exp(r) - 1 - r) / r^2 on [-ln2/2, ln2/2]: relative error 2^-23 (f32), 2^-59 (f64).
constexpr double kExpQf[] = {0x1p-1, 0x1.5554dep-3, 0x1.55556cp-5, 0x1.120ac2p-7, 0x1.6ca998p-10};
constexpr double kExpQ[] = {0x1p-1,
                            0x1.5555555555557p-3,
                            0x1.5555555555552p-5,
                            0x1.1111111110055p-7,
                            0x1.6c16c16c18931p-10,
                            0x1.a01a01ac1b399p-13,
                            0x1.a01a0197bd567p-16,
                            0x1.71de01b5a8f36p-19,
                            0x1.27e500de8c048p-22,
                            0x1.af4eb92961a66p-26,
                            0x1.1f32f0c8c838dp-29};
// (2 atanh(s)/s - 2) / s^2 as a polynomial in z = s^2, |s| <= 0.1716.
constexpr double kLogPf[] = {0x1.555556p-1, 0x1.99986cp-2, 0x1.24c216p-2, 0x1.ce5c5ap-3};
// With the leading 2/3 exact (double-double), for log_dd: relative error 2^-66.
constexpr double kLogTail[] = {0x1.9999999999999p-2, 0x1.24924924927afp-2, 0x1.c71c71c67cd12p-3,
                               0x1.745d17bcef823p-3, 0x1.3b1380fed0268p-3, 0x1.111c4f05d3d52p-3,
                               0x1.dee02070d9055p-4, 0x1.e5a31012806c6p-4};
constexpr double kLogP[] = {0x1.5555555555555p-1, 0x1.9999999999d59p-2, 0x1.249249242ee1bp-2,
                            0x1.c71c725c5ee56p-3, 0x1.745cdb7521fa2p-3, 0x1.3b215933c2fcp-3,
                            0x1.0f4a1544c367ap-3, 0x1.1023b86d5bb0ap-3};

// ln 2 for the exp reduction: hi is ln 2 rounded, lo the rest (n ln2_hi is exact inside the FMA).
constexpr double kLn2Hi = 0x1.62e42fefa39efp-1, kLn2Lo = 0x1.abc9e3b39803fp-56;
constexpr double kLn2HiF = 0x1.62e43p-1, kLn2LoF = -0x1.05c61p-29;
// ln 2 for the log sum: hi has trailing zeros so that k ln2_hi is exact.
constexpr double kLogLn2Hi = 0x1.62e42feep-1, kLogLn2Lo = 0x1.a39ef35793c76p-33;
constexpr double kLogLn2HiF = 0x1.62e3p-1, kLogLn2LoF = 0x1.2fefa39ef3579p-17;

// Q(r), or with d = 2, 2 Q(2s) for s = r/2: Horner with the coefficients times 2^(k+1), whose
// every step is the unscaled one's exact power-of-two multiple (the same roundings).
Value* q_poly(const Vm& m, Value* r, int d = 1) {
  const double* q = m.f32 ? kExpQf : kExpQ;
  const int n = m.f32 ? static_cast<int>(std::size(kExpQf)) : static_cast<int>(std::size(kExpQ));
  if (d == 1) return m.poly(r, q, n);
  double c[std::size(kExpQ)];
  for (int k = 0; k < n; ++k) c[k] = std::ldexp(q[k], k + 1);
  return m.poly(r, c, n);
}

// n = round(x / ln2) and r = x - n ln2 for x already clamped (finite). n by one FMA against
// 1.5 2^23 (f32) / 1.5 2^52 (f64), whose ulp is 1: it rounds the exact product to an integer
// (the same n as rint of the rounded product but where that product's rounding crosses a
// half, and r then within ln2/2 + ulp either way), then an exact subtraction: two operations
// where the multiply and ROUNDSCALE take three uops on Intel (ROUNDSCALE is two). It needs
// |x log2 e| < 2^22 (f32), which every caller's clamp or fast-path range ensures.
// With d = 2: n and r/2 for the argument 2x, without computing 2x (d log2 e and ln2/d are exact
// scalings of the constants, and the FMAs round exactly half of what they round for 2x: r/2
// is x itself, exact even if denormal, when n = 0, and at least about 2^-55 otherwise).
std::pair<Value*, Value*> exp_reduce(const Vm& m, Value* x, int d = 1) {
  Value* magic = m.c(m.f32 ? 0x1.8p23 : 0x1.8p52);
  Value* n = m.sub(m.fma(x, m.c(d * M_LOG2E), magic), magic);
  Value* r = m.fma(m.neg(n), m.c((m.f32 ? kLn2HiF : kLn2Hi) / d), x);
  return {n, m.fma(m.neg(n), m.c((m.f32 ? kLn2LoF : kLn2Lo) / d), r)};
}

// k, m in [sqrt .5, sqrt 2) with x = 2^k m, for finite x > 0 (denormals included).
std::pair<Value*, Value*> log_split(const Vm& m, Value* x) {
  auto& B = m.b;
  Value* sub = m.lt(x, m.c(m.f32 ? 0x1p-126 : 0x1p-1022));
  Value* xs = m.sel(sub, m.mul(x, m.c(m.f32 ? 0x1p24 : 0x1p54)), x);
  Value* kadj = m.sel(sub, m.ci(m.f32 ? -24 : -54), m.ci(0));
  int64_t sqrt_half = m.f32 ? 0x3f3504f3 : 0x3fe6a09e667f3bcdLL;
  Value* ix = B.CreateSub(m.bits(xs), m.ci(sqrt_half));
  Value* k = B.CreateAdd(B.CreateAShr(ix, m.ci(m.mant_bits())), kadj);
  int64_t mant_mask = (int64_t(1) << m.mant_bits()) - 1;
  Value* mant = m.from_bits(B.CreateAdd(B.CreateAnd(ix, m.ci(mant_mask)), m.ci(sqrt_half)));
  return {m.to_float(k), mant};
}

// log x for x = +0, +inf, NaN and negative: -inf, inf, x, NaN.
Value* log_specials(const Vm& m, Value* x, Value* r) {
  r = m.sel(m.eq(x, m.c(INFINITY)), x, r);
  r = m.sel(m.eq(x, m.c(0)), m.c(-INFINITY), r);
  r = m.sel(m.lt(x, m.c(0)), m.c(NAN), r);
  return m.sel(m.isnan(x), x, r);
}

Pair mul_dd(const Vm& m, Pair a, Pair b) {
  Pair p = two_prod(m, a.hi, b.hi);
  Value* lo = m.fma(a.hi, b.lo, m.fma(a.lo, b.hi, p.lo));
  return fast_two_sum(m, p.hi, lo);
}

}  // namespace

Value* exp_core(const Vm& m, Value* hi, Value* lo, int scale) {
  double lo_bound = (m.f32 ? -104.0 : -746.0) - scale * M_LN2 - 10;
  Value* x = m.clamp(hi, lo_bound, m.f32 ? 89.0 : 710.0);
  auto [n, r] = exp_reduce(m, x);
  if (lo) r = m.add(r, lo);
  Value* e = m.add(m.c(1), m.fma(m.mul(r, r), q_poly(m, r), r));
  return m.ldexp_wide(e, scale ? m.add(n, m.c(scale)) : n);
}

namespace {
// expm1(x)/2 = 2^(n-1) expm1(r) + (2^(n-1) - 1/2), exactly half of expm1's result (the final
// doubling is exact but where it overflows to inf); `clamp` for x outside [-26, 89] (f32) /
// [-40, 710] (f64), which without it leave the result alone.
// With d = 2, expm1(2x)/2 for 2x <= 88 (f32) / 708 (f64) and no clamp (tanh's fast path), with
// the same bits and one multiply fewer: r/2 and p/2 from exp_reduce and q_poly's scaled forms
// (r^2/4 may round where r^2 would not only when r is so small that r^2 Q is below r's half ulp),
// and 2^n (p/2) + (2^n/2 - 1/2), the same sum rounded the same way (2^n normal: n <= 127).
Value* expm1_half(const Vm& m, Value* x, bool clamp, int d = 1) {
  if (clamp) x = m.f32 ? m.clamp(x, -26.0, 89.0) : m.clamp(x, -40.0, 710.0);
  auto [n, r] = exp_reduce(m, x, d);
  Value* p = m.fma(m.mul(r, r), q_poly(m, r, d), r);
  if (d == 2) {
    Value* t = m.scalef_or_null(m.c(1), n);  // 2^n
    if (!t) t = m.pow2i(m.to_int(n));
    return m.fma(t, p, m.fma(t, m.c(0.5), m.c(-0.5)));
  }
  Value* t = m.scalef_or_null(m.c(0.5), n);  // 2^(n-1): 2^n overflows at n = 128 (f32)
  if (!t) t = m.pow2i(m.b.CreateSub(m.to_int(n), m.ci(1)));
  return m.fma(t, p, m.sub(t, m.c(0.5)));
}
}  // namespace

Value* log_core(const Vm& m, Value* x, Value* corr) {
  auto [k, mant] = log_split(m, x);
  Value* f = m.sub(mant, m.c(1));
  Value* s = m.div(f, m.add(m.c(2), f));
  Value* z = m.mul(s, s);
  Value* r = m.mul(z, m.f32 ? m.poly(z, kLogPf, 4) : m.poly(z, kLogP, 8));
  Value* hfsq = m.mul(m.mul(m.c(0.5), f), f);
  Value* lo = m.mul(k, m.c(m.f32 ? kLogLn2LoF : kLogLn2Lo));
  if (corr) lo = m.add(lo, corr);
  Value* t = m.sub(m.sub(hfsq, m.fma(s, m.add(hfsq, r), lo)), f);
  return m.sub(m.mul(k, m.c(m.f32 ? kLogLn2HiF : kLogLn2Hi)), t);
}

Pair log_dd(const Vm& m, Value* x) {
  auto [k, mant] = log_split(m, x);
  Value* f = m.sub(mant, m.c(1));
  // s = f / (2 + f) as sh + sl.
  Pair d = fast_two_sum(m, m.c(2), f);
  Value* sh = m.div(f, d.hi);
  Value* sl = m.div(m.sub(m.fma(m.neg(sh), d.hi, f), m.mul(sh, d.lo)), d.hi);
  Pair s{sh, sl};
  // log(1+f) = 2s + (2/3) s^3 + s z^2 P'(z): the s^3 term in double-double.
  Pair s3 = mul_dd(m, mul_dd(m, s, s), s);
  Pair c3 = mul_dd(m, s3, {m.c(0x1.5555555555555p-1), m.c(0x1.5555555555555p-55)});
  Value* z = m.mul(sh, sh);
  Value* tail = m.mul(m.mul(sh, m.mul(z, z)), m.poly(z, kLogTail, 8));
  Pair a = two_sum(m, m.mul(k, m.c(kLogLn2Hi)), m.mul(m.c(2), sh));
  Pair b = two_sum(m, a.hi, c3.hi);
  Value* lo = m.add(m.add(a.lo, b.lo), m.add(m.fma(m.c(2), sl, c3.lo), tail));
  lo = m.fma(k, m.c(kLogLn2Lo), lo);
  Pair r = fast_two_sum(m, b.hi, lo);
  // log(0) = -inf, log(inf) = inf, exactly (pow relies on them).
  Value* special = m.bor(m.eq(x, m.c(0)), m.eq(x, m.c(INFINITY)));
  return {log_specials(m, x, r.hi), m.sel(special, m.c(0), r.lo)};
}

// When every lane of x is in [-kExpFast, kExpFast] (NaN is not), exp_core's result needs neither
// its clamp nor its two-step scaling: with n in the normal exponent range, e 2^n takes one
// exact-range multiply, rounding once exactly as the two steps do (each power-of-two multiply
// but the last is exact). So the fast path gives exp_core's bits, and a lane's result does not
// depend on its neighbours; one predictable branch per vector picks it.
constexpr double kExpFastF = 87.0, kExpFast = 707.0;

Value* exp_fast(const Vm& m, Value* x) {
  auto [n, r] = exp_reduce(m, x);
  Value* e = m.add(m.c(1), m.fma(m.mul(r, r), q_poly(m, r), r));
  return m.ldexp(e, n);
}

Value* exp_in_fast_range(const Vm& m, Value* x) { return m.b.CreateFCmpOLE(m.abs(x), m.c(m.f32 ? kExpFastF : kExpFast)); }

Value* emit_exp(const Vm& m, Value* x) {
  return branch_all(m, exp_in_fast_range(m, x), [&] { return exp_fast(m, x); },
                    [&] { return m.sel(m.isnan(x), x, exp_core(m, x)); });
}

Value* emit_expm1(const Vm& m, Value* x) {
  // |x| below 2^-25 (f32) / 2^-54 (f64) and NaN: x itself (keeps -0 and denormals exact).
  Value* tiny = m.b.CreateFCmpULT(m.abs(x), m.c(m.f32 ? 0x1p-25 : 0x1p-54));
  return m.sel(tiny, x, m.mul(m.c(2), expm1_half(m, x, true)));
}

Value* emit_log(const Vm& m, Value* x) {
  return log_specials(m, x, log_core(m, x));
}

Value* emit_log1p(const Vm& m, Value* x) {
  Value* u = m.add(m.c(1), x);
  // e = (1 + x) - u exactly; the larger operand first for Fast2Sum.
  Value* big = m.gt(m.abs(x), m.c(1));
  Value* e = m.sel(big, m.sub(m.c(1), m.sub(u, x)), m.sub(x, m.sub(u, m.c(1))));
  Value* r = log_specials(m, u, log_core(m, u, m.div(e, u)));
  Value* tiny = m.b.CreateFCmpULT(m.abs(x), m.c(m.f32 ? 0x1p-24 : 0x1p-54));
  return m.sel(tiny, x, r);
}

Value* emit_tanh(const Vm& m, Value* x) {
  Value* a = m.abs(x);
  // h = expm1(2|x|)/2; without the clamp (which leaves such inputs alone) where 2|x| <= 88 (f32)
  // or 708 (f64): the same bits, and then x is not NaN either.
  auto tanh_of = [&](Value* h, bool may_be_nan) {
    // tanh|x| = e/(e+2) = h/(h+1) with e = 2h, everywhere: no cancellation, and h is finite
    // (the clamp keeps expm1_half below f32's/f64's largest), so a large |x| gives h/h = 1.
    // Before, 1 - 1/(h+1) from 0.55 up, for a smaller error there: a compare, two selects and an add
    // more a vector (the benchmark's chain, 1,000 x f32[1000]: 595-608 -> 546-548 us), while the
    // maximum error is below 0.55 either way (2.46 ULP at 0.03113 for f32, all inputs).
    Value* r = m.copysign(m.div(h, m.add(h, m.c(1))), x);
    return may_be_nan ? m.sel(m.isnan(x), x, r) : r;
  };
  return branch_all(m, m.b.CreateFCmpOLE(a, m.c(m.f32 ? 44.0 : 354.0)),
                    [&] { return tanh_of(expm1_half(m, a, false, 2), false); },
                    [&] { return tanh_of(expm1_half(m, m.mul(m.c(2), a), true), true); });
}

// sigmoid(x) = e/(1+e) with e = exp(x): exp's cost and no more, and a group computing exp(x)
// too computes it once (lower_elementwise shares it: the same bits either way). e is capped at
// 2^100 (f32) / 2^600 (f64), where e/(1+e) rounds to 1 already, so that exp's overflow gives 1,
// not inf/inf; NaN passes the cap (a select on cap < e). Below, e/(1+e) is e's own denormal.
Value* sigmoid_from_exp(const Vm& m, Value* e) {
  Value* cap = m.c(m.f32 ? 0x1p100 : 0x1p600);
  Value* capped = m.sel(m.lt(cap, e), cap, e);
  return m.div(capped, m.add(m.c(1), capped));
}

Value* emit_sigmoid(const Vm& m, Value* x) { return sigmoid_from_exp(m, emit_exp(m, x)); }

Value* emit_pow(const Vm& m, Value* x, Value* y) {
  auto& B = m.b;
  Value* ax = m.abs(x);
  Value* r;
  if (m.f32) {
    Vm d = m.with_elem(B.getDoubleTy());
    Value* yd = B.CreateFPExt(y, d.t);
    Value* axd = B.CreateFPExt(ax, d.t);
    Value* t = d.mul(yd, log_specials(d, axd, log_core(d, axd)));
    r = B.CreateFPTrunc(exp_core(d, t), m.t);
  } else {
    Pair l = log_dd(m, ax);
    Pair t = two_prod(m, y, l.hi);
    Value* lo = m.fma(y, l.lo, t.lo);
    // y log|x| infinite or huge: exp saturates, and the low part would be NaN.
    lo = m.sel(m.lt(m.abs(t.hi), m.c(0x1p20)), lo, m.c(0));
    r = exp_core(m, t.hi, lo);
  }
  // Sign: negative x (or -0) with odd integer y. NaN: finite negative x with non-integer y.
  Value* y_int = m.eq(m.rint(y), y);
  Value* half = m.mul(y, m.c(0.5));
  Value* y_odd = m.band(y_int, B.CreateFCmpUNE(m.rint(half), half));
  Value* x_neg = B.CreateICmpSLT(m.bits(x), m.ci(0));
  r = m.sel(m.band(x_neg, y_odd), m.neg(r), r);
  Value* bad = m.band(m.band(m.lt(x, m.c(0)), m.gt(x, m.c(-INFINITY))), B.CreateNot(y_int));
  r = m.sel(bad, m.c(NAN), r);
  r = m.sel(B.CreateFCmpUNO(x, y), m.add(x, y), r);
  // pow(x, ±0) = 1 and pow(1, y) = 1 even for NaN; pow(-1, ±inf) = 1.
  Value* one = m.bor(m.bor(m.eq(y, m.c(0)), m.eq(x, m.c(1))), m.band(m.eq(ax, m.c(1)), m.isinf(y)));
  return m.sel(one, m.c(1), r);
}

}  // namespace jit::cg::vm
