// codegen/vecmath_trig.cpp: sin, cos and tan with a correct argument reduction everywhere.
//
// 1. Reduce: x = n pi/2 + r, |r| <= pi/4, in f64 (for f32 too). Below 2^28 (f32) / 2^30 (f64):
//    n = round(x 2/pi), r = x - n P1 - n P2 - n P3 with pi/2 = P1 + P2 + P3 in doubles; the first
//    FMA is exact, f64 keeps r as a double-double.
// 2. Above: Payne-Hanek without branches. x 2/pi mod 4 is a sum of exact products of x with
//    pieces of 2/pi, each reduced mod 4 exactly and summed with TwoSum. f32 picks four 29-bit
//    pieces of 2/pi by the exponent of x (selects, no table); f64 gathers three 53-bit pieces
//    of (2^(8b) 2/pi mod 4) from a 122-entry table indexed by b = exponent/8.
// 3. sin and cos of r by minimax polynomials on [-pi/4, pi/4] (f32 in f32 arithmetic), chosen
//    and negated by n mod 4; tan = sin/cos or -cos/sin.
#include <cmath>
#include <vector>

#include <llvm/IR/Module.h>

#include "codegen/vecmath_impl.h"

namespace jit::cg::vm {
namespace {

// sin r = r + r^3 S(r^2), cos r = 1 - r^2/2 + r^4 C(r^2) on [-pi/4, pi/4].
constexpr double kSinf[] = {-0x1.555546p-3, 0x1.11077ap-7, -0x1.9954e8p-13};
constexpr double kCosf[] = {0x1.55554ap-5, -0x1.6c0c2ap-10, 0x1.99e914p-16};
constexpr double kSin[] = {-0x1.5555555555548p-3, 0x1.111111110f76p-7,   -0x1.a01a019bf2b7ap-13,
                           0x1.71de355fa46d4p-19, -0x1.ae5e54ffce5a9p-26, 0x1.5d8e6226c1c47p-33};
constexpr double kCos[] = {0x1.555555555554bp-5,  -0x1.6c16c16c15018p-10, 0x1.a01a019c8f942p-16,
                           -0x1.27e4f7f1ee40cp-22, 0x1.1ee9dc126f3cdp-29,  -0x1.8fa6a868179ep-37};

// pi/2 = kPio2[0] + kPio2[1] + kPio2[2] (+ 2^-163).
constexpr double kPio2[] = {0x1.921fb54442d18p+0, 0x1.1a62633145c07p-54, -0x1.f1976b7ed8fbcp-110};

// 2/pi in binary: bit t (weight 2^-t, t >= 1) is bit 31 - (t-1)%32 of word (t-1)/32.
constexpr uint32_t kTwoOverPi[] = {
    0xa2f9836e, 0x4e441529, 0xfc2757d1, 0xf534ddc0, 0xdb629599, 0x3c439041, 0xfe5163ab, 0xdebbc561,
    0xb7246e3a, 0x424dd2e0, 0x06492eea, 0x09d1921c, 0xfe1deb1c, 0xb129a73e, 0xe88235f5, 0x2ebb4484,
    0xe99c7026, 0xb45f7e41, 0x3991d639, 0x835339f4, 0x9c845f8b, 0xbdf9283b, 0x1ff897ff, 0xde05980f,
    0xef2f118b, 0x5a0a6d1f, 0x6d367ecf, 0x27cb09b7, 0x4f463f66, 0x9e5fea2d, 0x7527bac7, 0xebe5f17b,
    0x3d0739f7, 0x8a5292ea, 0x6bfb5fb1, 0x1f8d5d08, 0x56033046, 0xfc7b6bab, 0xf0cfbc20, 0x9af4361d};

// The `count` (<= 53) bits of 2/pi from weight 2^-from down, times 2^scale, as a double (bits
// above 2^-1 are 0).
double two_over_pi_bits(int from, int count, int scale = 0) {
  uint64_t v = 0;
  for (int t = from; t < from + count; ++t) {
    int bit = 0;
    if (t >= 1) bit = (kTwoOverPi[(t - 1) / 32] >> (31 - (t - 1) % 32)) & 1;
    v = (v << 1) | uint64_t(bit);
  }
  return std::ldexp(double(v), scale - (from + count - 1));
}

// v - 4 round(v/4): exact.
Value* mod4(const Vm& d, Value* v) {
  return d.fma(d.rint(d.mul(v, d.c(0.25))), d.c(-4), v);
}

struct Reduced {
  Value* n;   // quadrant count (double, integral)
  Value* r;   // x - n pi/2
  Value* rr;  // low part of r (f64 only)
};

// Sums exact pieces of x 2/pi mod 4: n and f with x 2/pi = n + f mod 4, then r = f pi/2. The
// first `big` pieces may exceed 4; the rest are below 1. `dd`: r as a double-double.
Reduced sum_pieces(const Vm& d, const std::vector<Value*>& pieces, size_t big, bool dd) {
  Value* hi = mod4(d, pieces[0]);
  Value* lo = d.c(0);
  for (size_t i = 1; i < pieces.size(); ++i) {
    Pair s = two_sum(d, hi, i < big ? mod4(d, pieces[i]) : pieces[i]);
    hi = i < big ? mod4(d, s.hi) : s.hi;
    lo = d.add(lo, s.lo);
  }
  Value* n = d.rint(hi);
  Pair f = fast_two_sum(d, d.sub(hi, n), lo);
  if (!dd) return {n, d.mul(f.hi, d.c(kPio2[0])), nullptr};
  Pair r = two_prod(d, f.hi, d.c(kPio2[0]));
  Value* rlo = d.fma(f.hi, d.c(kPio2[1]), d.fma(f.lo, d.c(kPio2[0]), r.lo));
  Pair rn = fast_two_sum(d, r.hi, rlo);
  return {n, rn.hi, rn.lo};
}

// Cody-Waite with FMA, for |x| below the Payne-Hanek bound (d is f64). `dd`: r as a
// double-double; else r is a double within 2^-52 relative (enough for f32).
Reduced reduce_small(const Vm& d, Value* x, bool dd) {
  Value* n = d.rint(d.mul(x, d.c(M_2_PI)));
  Value* nn = d.neg(n);
  Value* r1 = d.fma(nn, d.c(kPio2[0]), x);  // exact
  if (!dd) return {n, d.fma(nn, d.c(kPio2[2]), d.fma(nn, d.c(kPio2[1]), r1)), nullptr};
  Pair w = two_prod(d, n, d.c(kPio2[1]));
  Pair s = two_sum(d, r1, d.neg(w.hi));
  Value* lo = d.fma(nn, d.c(kPio2[2]), d.sub(s.lo, w.lo));
  Pair r = fast_two_sum(d, s.hi, lo);
  return {n, r.hi, r.lo};
}

// The exponent field of the double x.
Value* exponent_field(const Vm& d, Value* x) {
  return d.b.CreateAnd(d.b.CreateLShr(d.bits(x), d.ci(52)), d.ci(0x7ff));
}

// Payne-Hanek for doubles that hold an f32 value (24-bit mantissa), |x| >= 2^28.
Reduced reduce_big_f32(const Vm& d, Value* x) {
  auto& B = d.b;
  // x = M 2^e with M < 2^24; pieces of 2/pi above weight 2^-(e-1) give multiples of 4.
  Value* e = B.CreateSub(exponent_field(d, x), d.ci(1023 + 23));
  Value* j1 = B.CreateICmpSGE(e, d.ci(31));
  Value* j2 = B.CreateICmpSGE(e, d.ci(60));
  Value* j3 = B.CreateICmpSGE(e, d.ci(89));
  std::vector<Value*> pieces;
  for (int i = 0; i < 4; ++i) {
    auto chunk = [&](int j) { return d.c(two_over_pi_bits(29 * j + 1, 29)); };
    Value* k = d.sel(j3, chunk(3 + i), d.sel(j2, chunk(2 + i), d.sel(j1, chunk(1 + i), chunk(i))));
    pieces.push_back(d.mul(x, k));  // 24 x 29 bits: exact
  }
  // x times the piece below 2^-(29 j0 + 58) is below 2^(e + 24 - 29 j0 - 58) < 1.
  return sum_pieces(d, pieces, 2, false);
}

// The table for f64 Payne-Hanek: entry b holds 2^(8b) 2/pi mod 4 as three 53-bit doubles.
constexpr int kTableEntries = 122;
llvm::GlobalVariable* rem_table(llvm::Module& mod) {
  const char* name = "vmapjit.vecmath.two_over_pi_mod4";
  if (auto* g = mod.getNamedGlobal(name)) return g;
  std::vector<double> vals;
  for (int b = 0; b < kTableEntries; ++b)
    for (int k = 0; k < 3; ++k) vals.push_back(two_over_pi_bits(8 * b - 1 + 53 * k, 53, 8 * b));
  llvm::Constant* init = llvm::ConstantDataArray::get(mod.getContext(), vals);
  return new llvm::GlobalVariable(mod, init->getType(), true, llvm::GlobalValue::PrivateLinkage,
                                  init, name);
}

Value* table_load(const Vm& d, llvm::GlobalVariable* g, Value* idx) {
  auto& B = d.b;
  llvm::Type* et = B.getDoubleTy();
  Value* ptr = B.CreateInBoundsGEP(et, g, idx);
  if (!d.t->isVectorTy()) return B.CreateAlignedLoad(et, ptr, llvm::Align(8));
  return B.CreateMaskedGather(d.t, ptr, llvm::Align(8));
}

// Payne-Hanek for f64, |x| >= 2^30 (finite).
Reduced reduce_big_f64(const Vm& d, Value* x) {
  auto& B = d.b;
  llvm::GlobalVariable* g = rem_table(*B.GetInsertBlock()->getModule());
  // x = M 2^E; with b = max(0, E/8), x' = x 2^-8b is an integer (or b = 0): x 2/pi = x' Y_b mod 4.
  Value* e = B.CreateSub(exponent_field(d, x), d.ci(1023 + 52));
  Value* bidx = B.CreateBinaryIntrinsic(llvm::Intrinsic::smax, B.CreateAShr(e, d.ci(3)), d.ci(0));
  Value* xs = d.mul(x, d.pow2i(B.CreateMul(bidx, d.ci(-8))));
  Value* base = B.CreateMul(bidx, d.ci(3));
  Value* y0 = table_load(d, g, base);
  Value* y1 = table_load(d, g, B.CreateAdd(base, d.ci(1)));
  Value* y2 = table_load(d, g, B.CreateAdd(base, d.ci(2)));
  Pair p0 = two_prod(d, xs, y0);
  Pair p1 = two_prod(d, xs, y1);
  return sum_pieces(d, {p0.hi, p0.lo, p1.hi, p1.lo, d.mul(xs, y2)}, 4, true);
}

}  // namespace

Value* emit_trig(const Vm& m, Trig fn, Value* x) {
  auto& B = m.b;
  Value* finite = m.lt(m.abs(x), m.c(INFINITY));
  Value* xs = m.sel(finite, x, m.c(0));
  Value *q, *s, *c;
  if (m.f32) {
    Vm d = m.with_elem(B.getDoubleTy());
    Value* xd = B.CreateFPExt(xs, d.t);
    // Each path sees a harmless stand-in on the other's lanes (no denormals, no huge n).
    Value* big = d.ge(d.abs(xd), d.c(0x1p28));
    Reduced a = reduce_small(d, d.sel(big, d.c(0), xd), false);
    Reduced b = reduce_big_f32(d, d.sel(big, xd, d.c(0x1p28)));
    Value* n = d.sel(big, b.n, a.n);
    Value* r = B.CreateFPTrunc(d.sel(big, b.r, a.r), m.t);
    q = B.CreateTrunc(d.to_int(n), m.it);
    Value* z = m.mul(r, r);
    s = m.fma(m.mul(r, z), m.poly(z, kSinf, 3), r);
    c = m.fma(z, m.fma(z, m.poly(z, kCosf, 3), m.c(-0.5)), m.c(1));
  } else {
    Value* big = m.ge(m.abs(xs), m.c(0x1p30));
    Reduced a = reduce_small(m, m.sel(big, m.c(0), xs), true);
    Reduced b = reduce_big_f64(m, m.sel(big, xs, m.c(0x1p30)));
    Value* n = m.sel(big, b.n, a.n);
    Value* r = m.sel(big, b.r, a.r);
    Value* rr = m.sel(big, b.rr, a.rr);
    q = m.to_int(n);
    Value* z = m.mul(r, r);
    // sin(r + rr) = r + (r^3 S(z) + rr (1 - z/2)); cos(r + rr) = 1 - z/2 + (z^2 C(z) - r rr),
    // with the rounding error of 1 - z/2 added back.
    Value* tail = m.fma(m.mul(r, z), m.poly(z, kSin, 6), m.fma(m.mul(m.c(-0.5), z), rr, rr));
    s = m.add(r, tail);
    Value* hz = m.mul(m.c(0.5), z);
    Value* w = m.sub(m.c(1), hz);
    Value* err = m.sub(m.sub(m.c(1), w), hz);
    c = m.add(w, m.add(err, m.fma(m.mul(z, z), m.poly(z, kCos, 6), m.neg(m.mul(r, rr)))));
  }
  if (fn == Trig::Cos) q = B.CreateAdd(q, m.ci(1));
  Value* odd = B.CreateICmpNE(B.CreateAnd(q, m.ci(1)), m.ci(0));
  Value* r;
  if (fn == Trig::Tan) {
    r = m.sel(odd, m.div(m.neg(c), s), m.div(s, c));
  } else {
    Value* flip = B.CreateICmpNE(B.CreateAnd(q, m.ci(2)), m.ci(0));
    r = m.sel(odd, c, s);
    r = m.sel(flip, m.neg(r), r);
  }
  if (fn != Trig::Cos) r = m.sel(m.eq(x, m.c(0)), x, r);  // sin(-0) = tan(-0) = -0
  r = m.sel(finite, r, m.c(NAN));
  return m.sel(m.isnan(x), x, r);
}

}  // namespace jit::cg::vm
