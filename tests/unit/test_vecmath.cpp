// tests/unit/test_vecmath.cpp: accuracy and special values of codegen/vecmath, JIT-compiled.
//
// Each function and dtype is compiled (own LLJIT, host CPU) into a loop over vectors of 16 f32 /
// 8 f64 with a scalar tail, then swept against libm: f64 libm for f32, long double libm for f64.
// The default sweep takes every 4099th f32 bit pattern, dense samples of the interesting ranges
// and random f64 patterns. VMAPJIT_ULP_FULL=1 sweeps all 2^32 f32 inputs instead (one-argument
// functions; 16x the samples for pow and f64) and prints the max errors for docs/vecmath.md;
// VMAPJIT_ULP_FN=name and VMAPJIT_ULP_DTYPE=f32|f64 restrict it.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/SubtargetFeature.h>

#include "codegen/vecmath.h"

namespace {

using jit::cg::MathFn;
using Kernel = void (*)(const void* in, const void* in2, void* out, int64_t n);

struct FnInfo {
  MathFn fn;
  const char* name;
  double bound_f32, bound_f64;  // max ULP asserted (the measured bounds of docs/vecmath.md)
};
const FnInfo kFns[] = {
    {MathFn::Exp, "exp", 2, 1},           {MathFn::Log, "log", 1, 1},
    {MathFn::Log1p, "log1p", 1, 1},       {MathFn::Expm1, "expm1", 2, 2},
    {MathFn::Tanh, "tanh", 3, 3},         {MathFn::Sigmoid, "sigmoid", 3, 3},
    {MathFn::Erf, "erf", 2, 2},           {MathFn::GeluErf, "gelu_erf", 2, 5},
    {MathFn::GeluTanh, "gelu_tanh", 4, 4}, {MathFn::Sin, "sin", 2, 1},
    {MathFn::Cos, "cos", 2, 1},           {MathFn::Tan, "tan", 4, 3},
    {MathFn::Pow, "pow", 1, 2},
};

// ---- references --------------------------------------------------------------------------------
template <class R>
R reference(MathFn fn, R x, R y) {
  using std::erfc, std::exp, std::sqrt;
  const R pi = R(3.14159265358979323846264338327950288L);
  switch (fn) {
    case MathFn::Exp: return std::exp(x);
    case MathFn::Log: return std::log(x);
    case MathFn::Log1p: return std::log1p(x);
    case MathFn::Expm1: return std::expm1(x);
    case MathFn::Tanh: return std::tanh(x);
    case MathFn::Sigmoid: return 1 / (1 + exp(-x));
    case MathFn::Erf: return std::erf(x);
    case MathFn::GeluErf: return R(0.5) * x * erfc(-x / sqrt(R(2)));  // 1 + erf(z) = erfc(-z)
    case MathFn::GeluTanh: {  // x (1 + tanh u) / 2 = x / (1 + exp(-2u))
      R u = sqrt(2 / pi) * (x + R(0.044715L) * x * x * x);
      return x / (1 + exp(-2 * u));
    }
    case MathFn::Sin: return std::sin(x);
    case MathFn::Cos: return std::cos(x);
    case MathFn::Tan: return std::tan(x);
    case MathFn::Pow: return std::pow(x, y);
  }
  return 0;
}

// |got - ref| in units of the last place of the result type at ref (denormal spacing below the
// normal range, inf counted as 2^(emax+1)). NaN must match NaN.
template <class T, class R>
double ulp_error(T got, R ref) {
  if (std::isnan(ref) || std::isnan(got)) return std::isnan(ref) && std::isnan(got) ? 0 : INFINITY;
  constexpr int digits = std::numeric_limits<T>::digits;
  constexpr int emax = std::numeric_limits<T>::max_exponent;  // 128 / 1024
  constexpr int emin = std::numeric_limits<T>::min_exponent;  // -125 / -1021
  R g = std::isinf(got) ? std::copysign(std::ldexp(R(1), emax), R(got)) : R(got);
  R a = std::fabs(ref);
  if (std::isinf(T(ref))) return got == T(ref) ? 0 : INFINITY;  // overflows in T
  int e = a < std::ldexp(R(1), emin - 1) ? emin - 1 : std::ilogb(a);
  return double(std::fabs(g - ref) / std::ldexp(R(1), e - (digits - 1)));
}

// ---- the JIT -----------------------------------------------------------------------------------
class MathJit {
 public:
  MathJit() {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::orc::JITTargetMachineBuilder jtmb{llvm::Triple(llvm::sys::getProcessTriple())};
    jtmb.setCPU(llvm::sys::getHostCPUName().str());
    llvm::SubtargetFeatures features;
    for (const auto& f : llvm::sys::getHostCPUFeatures()) features.AddFeature(f.getKey(), f.getValue());
    jtmb.addFeatures(features.getFeatures());
    jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Default);
    tm_ = cantFail(jtmb.createTargetMachine());
    jit_ = cantFail(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(jtmb).create());
  }

  // void f(const T* in, const T* in2, T* out, int64 n): vectors of `width`, then a scalar tail.
  // caller_fast: the builder carries all fast-math flags when emit_math is called (they must not
  // leak into the math).
  // width 0: 16 f32 / 8 f64 lanes.
  Kernel compile(MathFn fn, bool f64, bool caller_fast, bool scalef, unsigned width) {
    auto ctx = std::make_unique<llvm::LLVMContext>();
    auto mod = std::make_unique<llvm::Module>("vecmath_test", *ctx);
    mod->setDataLayout(jit_->getDataLayout());
    mod->setTargetTriple(jit_->getTargetTriple().str());
    llvm::IRBuilder<> b(*ctx);
    if (caller_fast) b.setFastMathFlags(llvm::FastMathFlags::getFast());
    llvm::Type* st = f64 ? b.getDoubleTy() : b.getFloatTy();
    if (!width) width = f64 ? 8 : 16;
    llvm::Type* vt = llvm::FixedVectorType::get(st, width);
    auto* fty = llvm::FunctionType::get(b.getVoidTy(), {b.getPtrTy(), b.getPtrTy(), b.getPtrTy(), b.getInt64Ty()}, false);
    std::string name = std::to_string(counter_++);
    name.insert(name.begin(), 'k');
    auto* f = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, name, *mod);
    llvm::Value *in = f->getArg(0), *in2 = f->getArg(1), *out = f->getArg(2), *n = f->getArg(3);
    auto* entry = llvm::BasicBlock::Create(*ctx, "entry", f);
    auto* vhead = llvm::BasicBlock::Create(*ctx, "vhead", f);
    auto* vbody = llvm::BasicBlock::Create(*ctx, "vbody", f);
    auto* shead = llvm::BasicBlock::Create(*ctx, "shead", f);
    auto* sbody = llvm::BasicBlock::Create(*ctx, "sbody", f);
    auto* done = llvm::BasicBlock::Create(*ctx, "done", f);
    b.SetInsertPoint(entry);
    b.CreateBr(vhead);
    // Vector loop: while i + width <= n.
    b.SetInsertPoint(vhead);
    llvm::PHINode* vi = b.CreatePHI(b.getInt64Ty(), 2);
    vi->addIncoming(b.getInt64(0), entry);
    b.CreateCondBr(b.CreateICmpSLE(b.CreateAdd(vi, b.getInt64(width)), n), vbody, shead);
    b.SetInsertPoint(vbody);
    emit_step(b, fn, vt, st, in, in2, out, vi, scalef);
    vi->addIncoming(b.CreateAdd(vi, b.getInt64(width)), b.GetInsertBlock());
    b.CreateBr(vhead);
    // Scalar tail.
    b.SetInsertPoint(shead);
    llvm::PHINode* si = b.CreatePHI(b.getInt64Ty(), 2);
    si->addIncoming(vi, vhead);
    b.CreateCondBr(b.CreateICmpSLT(si, n), sbody, done);
    b.SetInsertPoint(sbody);
    emit_step(b, fn, st, st, in, in2, out, si, scalef);
    si->addIncoming(b.CreateAdd(si, b.getInt64(1)), b.GetInsertBlock());
    b.CreateBr(shead);
    b.SetInsertPoint(done);
    b.CreateRetVoid();
    REQUIRE_FALSE(llvm::verifyModule(*mod, &llvm::errs()));
    optimize(*mod);
    cantFail(jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx))));
    return cantFail(jit_->lookup(name)).toPtr<Kernel>();
  }

 private:
  static void emit_step(llvm::IRBuilder<>& b, MathFn fn, llvm::Type* t, llvm::Type* st, llvm::Value* in,
                        llvm::Value* in2, llvm::Value* out, llvm::Value* i, bool scalef) {
    llvm::Align al(st->getPrimitiveSizeInBits() / 8);
    auto load = [&](llvm::Value* base) { return b.CreateAlignedLoad(t, b.CreateGEP(st, base, i), al); };
    std::vector<llvm::Value*> args{load(in)};
    if (fn == MathFn::Pow) args.push_back(load(in2));
    b.CreateAlignedStore(jit::cg::emit_math(b, fn, args, {.scalef = scalef}), b.CreateGEP(st, out, i), al);
  }

  // The runtime's lean pipeline (runtime/engine.cpp), so the test sees what production compiles.
  void optimize(llvm::Module& m) {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(tm_.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm;
    cantFail(pb.parsePassPipeline(mpm,
                                  "function(sroa,early-cse<memssa>,instcombine<no-verify-fixpoint>,"
                                  "simplifycfg,loop-mssa(licm),loop-unroll<O2>,gvn,"
                                  "instcombine<no-verify-fixpoint>,simplifycfg)"));
    mpm.run(m, mam);
  }

  std::unique_ptr<llvm::TargetMachine> tm_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  int counter_ = 0;
};

MathJit& math_jit() {
  static MathJit j;
  return j;
}

// scalef: scaling by 2^n with AVX-512's VSCALEF, as the runtime compiles on such hosts;
// width: the vector lanes (0: 16 f32 / 8 f64).
Kernel kernel(MathFn fn, bool f64, bool caller_fast = false, bool scalef = false, unsigned width = 0) {
  static std::map<std::tuple<int, bool, bool, bool, unsigned>, Kernel> cache;
  auto key = std::make_tuple(int(fn), f64, caller_fast, scalef, width);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  return cache[key] = math_jit().compile(fn, f64, caller_fast, scalef, width);
}

bool host_has_scalef() {
  static const bool has = [] {
    llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
    return f.lookup("avx512f") && f.lookup("avx512vl");
  }();
  return has;
}

// ---- sweeps ------------------------------------------------------------------------------------
struct Worst {
  double ulp = 0;
  double x = 0, y = 0;
  void merge(double u, double a, double b) {
    if (u > ulp) ulp = u, x = a, y = b;
  }
};

template <class T>
void run(MathFn fn, const std::vector<T>& xs, const std::vector<T>& ys, Worst& w) {
  using R = std::conditional_t<std::is_same_v<T, float>, double, long double>;
  std::vector<T> out(xs.size());
  constexpr bool f64 = std::is_same_v<T, double>;
  kernel(fn, f64)(xs.data(), ys.empty() ? nullptr : ys.data(), out.data(), int64_t(xs.size()));
  // VSCALEF's one rounding: the same bits as the one- or two-step scaling, at every vector
  // width the runtime may use (128, 256 and 512 bits, and four 512-bit pieces).
  if (host_has_scalef()) {
    const std::vector<unsigned> widths = f64 ? std::vector<unsigned>{2, 4, 8, 32} : std::vector<unsigned>{4, 8, 16, 64};
    for (unsigned width : widths) {
      std::vector<T> sc(xs.size());
      kernel(fn, f64, false, true, width)(xs.data(), ys.empty() ? nullptr : ys.data(), sc.data(), int64_t(xs.size()));
      size_t differ = 0, first = 0;
      for (size_t i = 0; i < xs.size(); ++i)
        if (std::memcmp(&out[i], &sc[i], sizeof(T)) != 0 && !(std::isnan(out[i]) && std::isnan(sc[i])) && !differ++) first = i;
      INFO("with VSCALEF at ", width, " lanes: ", differ, " results differ, first at x = ", double(xs[first]), ": ",
           double(out[first]), " vs ", double(sc[first]));
      CHECK(differ == 0);
    }
  }
  for (size_t i = 0; i < xs.size(); ++i) {
    T y = ys.empty() ? T(0) : ys[i];
    w.merge(ulp_error(out[i], reference<R>(fn, R(xs[i]), R(y))), double(xs[i]), double(y));
  }
}

float f32_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
double f64_bits(uint64_t u) {
  double f;
  std::memcpy(&f, &u, 8);
  return f;
}

// Where each function's result is neither trivially 0, 1 or inf nor just x.
std::pair<double, double> interesting(MathFn fn) {
  switch (fn) {
    case MathFn::Exp: return {-746, 710};
    case MathFn::Log: return {0, 4};
    case MathFn::Log1p: return {-1, 3};
    case MathFn::Expm1: return {-40, 710};
    case MathFn::Tanh: case MathFn::Sigmoid: return {-40, 40};
    case MathFn::Erf: return {-6, 6};
    case MathFn::GeluErf: case MathFn::GeluTanh: return {-40, 10};
    default: return {-10, 10};
  }
}

template <class T>
std::vector<T> uniform(std::mt19937_64& rng, double lo, double hi, size_t n) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (T& x : v) x = T(d(rng));
  return v;
}

// `scale` multiplies the sample counts (16 in the full sweep).
Worst sweep_f32(MathFn fn, int scale) {
  Worst w;
  std::mt19937_64 rng(1);
  std::vector<float> xs;
  for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 4099) xs.push_back(f32_bits(uint32_t(u)));
  auto [lo, hi] = interesting(fn);
  for (float x : uniform<float>(rng, lo, hi, 1 << 19)) xs.push_back(x);
  for (float x : uniform<float>(rng, -1, 1, 1 << 17)) xs.push_back(x);
  for (float x : uniform<float>(rng, -87, 87, 1 << 16)) xs.push_back(x);  // exp's fast path, every n
  std::vector<float> ys;
  if (fn == MathFn::Pow) {
    // |x| over all magnitudes and y with |y log2 x| up to 160, plus negative x with integer y.
    xs.assign(size_t(scale) << 21, 0);
    ys.assign(xs.size(), 0);
    std::uniform_int_distribution<uint32_t> bits(1, 0x7f7fffff);
    std::uniform_real_distribution<double> v(-160, 160);
    for (size_t i = 0; i < xs.size(); ++i) {
      xs[i] = i % 4 == 3 ? float(std::uniform_real_distribution<double>(-20, 20)(rng)) : f32_bits(bits(rng));
      double l = std::log2(std::fabs(double(xs[i])));
      ys[i] = i % 4 == 3 ? float(std::round(v(rng) / 4)) : i % 4 == 2 ? float(v(rng) / 8) : float(v(rng) / l);
    }
  }
  run(fn, xs, ys, w);
  return w;
}

Worst sweep_f64(MathFn fn, int scale) {
  Worst w;
  std::mt19937_64 rng(2);
  std::vector<double> xs(size_t(scale) << 17), ys;
  for (double& x : xs) x = f64_bits(rng());
  auto [lo, hi] = interesting(fn);
  for (double x : uniform<double>(rng, lo, hi, size_t(scale) << 18)) xs.push_back(x);
  for (double x : uniform<double>(rng, -1, 1, size_t(scale) << 16)) xs.push_back(x);
  for (double x : uniform<double>(rng, -707, 707, size_t(scale) << 15)) xs.push_back(x);  // exp's fast path
  if (fn == MathFn::Sin || fn == MathFn::Cos || fn == MathFn::Tan)
    for (double x : uniform<double>(rng, -1e6, 1e6, size_t(scale) << 16)) xs.push_back(x);
  if (fn == MathFn::Pow) {
    xs.assign(size_t(scale) << 19, 0);
    ys.assign(xs.size(), 0);
    std::uniform_real_distribution<double> v(-1100, 1100);
    for (size_t i = 0; i < xs.size(); ++i) {
      xs[i] = i % 4 == 3 ? std::uniform_real_distribution<double>(-20, 20)(rng) : std::fabs(f64_bits(rng()));
      if (!std::isfinite(xs[i]) || xs[i] == 0) xs[i] = 1.5;
      double l = std::log2(std::fabs(xs[i]));
      ys[i] = i % 4 == 3 ? std::round(v(rng) / 8) : i % 4 == 2 ? v(rng) / 16 : v(rng) / l;
    }
  }
  run(fn, xs, ys, w);
  return w;
}

// All 2^32 f32 inputs, in chunks.
Worst sweep_f32_full(MathFn fn) {
  Worst w;
  std::vector<float> xs(1 << 24);
  for (uint64_t base = 0; base < (uint64_t(1) << 32); base += xs.size()) {
    for (size_t i = 0; i < xs.size(); ++i) xs[i] = f32_bits(uint32_t(base + i));
    run(fn, xs, {}, w);
  }
  return w;
}

// ---- special values ----------------------------------------------------------------------------
template <class T>
T eval1(MathFn fn, T x, T y = 0) {
  T out;
  kernel(fn, std::is_same_v<T, double>)(&x, &y, &out, 1);
  return out;
}

// The result must equal libm's bit for bit (NaN: any NaN) where libm's is 0, ±1 or ±inf.
template <class T>
void check_special(MathFn fn, T x, T y, double bound) {
  using R = std::conditional_t<std::is_same_v<T, float>, double, long double>;
  T want = T(reference<R>(fn, R(x), R(y)));
  T got = eval1(fn, x, y);
  // Also through the vector path: lane 5 of a full vector.
  std::vector<T> xs(20, x), ys(20, y), out(20);
  kernel(fn, std::is_same_v<T, double>)(xs.data(), ys.data(), out.data(), 20);
  INFO(std::string(kFns[int(fn)].name), "(", double(x), ", ", double(y), ") = ", double(got), ", want ",
       double(want));
  CHECK((std::isnan(got) ? std::isnan(out[5]) : std::memcmp(&got, &out[5], sizeof(T)) == 0));
  if (std::isnan(want)) {
    CHECK(std::isnan(got));
  } else if (want == 0 || std::isinf(want) || std::fabs(want) == 1 || want == x) {
    CHECK(std::memcmp(&got, &want, sizeof(T)) == 0);
  } else {
    CHECK(ulp_error(got, reference<R>(fn, R(x), R(y))) <= bound);
    CHECK(std::signbit(got) == std::signbit(want));
  }
}

template <class T>
std::vector<T> special_inputs() {
  using L = std::numeric_limits<T>;
  std::vector<T> v{T(0), L::infinity(), L::quiet_NaN(), L::denorm_min(), L::min(), L::max(),
                   T(1), T(2), T(0.5), T(3), T(1e-30), T(100), T(1000), T(1e30)};
  size_t n = v.size();
  for (size_t i = 0; i < n; ++i) v.push_back(-v[i]);
  return v;
}

template <class T>
void check_specials() {
  for (const FnInfo& f : kFns) {
    double bound = std::is_same_v<T, float> ? f.bound_f32 : f.bound_f64;
    for (T x : special_inputs<T>()) {
      if (f.fn != MathFn::Pow) {
        check_special<T>(f.fn, x, 0, bound);
        continue;
      }
      for (T y : special_inputs<T>()) check_special<T>(f.fn, x, y, bound);
    }
  }
}

bool full_sweep() {
  const char* v = std::getenv("VMAPJIT_ULP_FULL");
  return v && std::string(v) == "1";
}

}  // namespace

TEST_CASE("vecmath: special values as libm, f32") { check_specials<float>(); }
TEST_CASE("vecmath: special values as libm, f64") { check_specials<double>(); }

TEST_CASE("vecmath: named special cases") {
  const float inf = INFINITY, nan = NAN;
  CHECK(eval1(MathFn::Exp, -inf) == 0.0f);
  CHECK(!std::signbit(eval1(MathFn::Exp, -inf)));
  CHECK(eval1(MathFn::Exp, inf) == inf);
  CHECK(eval1(MathFn::Exp, 89.0f) == inf);
  CHECK(eval1(MathFn::Exp, -104.0f) == 0.0f);
  CHECK(eval1(MathFn::Exp, -100.0f) == std::exp(-100.0f));  // a denormal
  CHECK(eval1(MathFn::Log, 0.0f) == -inf);
  CHECK(std::isnan(eval1(MathFn::Log, -1.0f)));
  CHECK(eval1(MathFn::Log, inf) == inf);
  CHECK(eval1(MathFn::Tanh, -inf) == -1.0f);
  CHECK(eval1(MathFn::Sigmoid, -inf) == 0.0f);
  CHECK(eval1(MathFn::Erf, -inf) == -1.0f);
  CHECK(std::isnan(eval1(MathFn::Sin, inf)));
  CHECK(std::isnan(eval1(MathFn::Cos, nan)));
  for (MathFn fn : {MathFn::Sin, MathFn::Tanh, MathFn::Expm1, MathFn::Log1p, MathFn::Erf, MathFn::Tan}) {
    CHECK(std::signbit(eval1(fn, -0.0f)));
    CHECK(std::signbit(eval1(fn, -0.0)));
  }
  CHECK(eval1(MathFn::Pow, nan, 0.0f) == 1.0f);
  CHECK(eval1(MathFn::Pow, 1.0f, nan) == 1.0f);
  CHECK(eval1(MathFn::Pow, -2.0f, 3.0f) == -8.0f);
  CHECK(std::isnan(eval1(MathFn::Pow, -2.0f, 0.5f)));
  CHECK(eval1(MathFn::Pow, -0.0f, -3.0f) == -inf);
  CHECK(eval1(MathFn::Pow, -inf, 3.0f) == -inf);
  CHECK(eval1(MathFn::Pow, -1.0, -double(INFINITY)) == 1.0);
}

TEST_CASE("vecmath: the caller's fast-math flags do not apply inside") {
  for (MathFn fn : {MathFn::Log1p, MathFn::Sin}) {
    Kernel k = kernel(fn, false, true);
    std::vector<float> xs{NAN, INFINITY, -INFINITY, -0.0f, 1e-3f, 0.3f, 7.5f, 1e30f};
    std::vector<float> out(xs.size());
    k(xs.data(), nullptr, out.data(), int64_t(xs.size()));
    for (size_t i = 0; i < xs.size(); ++i) {
      double want = reference<double>(fn, xs[i], 0);
      INFO(std::string(kFns[int(fn)].name), "(", xs[i], ")");
      CHECK(ulp_error(out[i], want) <= kFns[int(fn)].bound_f32);
      CHECK((std::isnan(want) || std::signbit(out[i]) == std::signbit(want)));
    }
  }
}

TEST_CASE("vecmath: max ULP error over the sweeps") {
  // Full: all f32 inputs (pow: 16x the pairs), 16x the f64 samples. VMAPJIT_ULP_FN and
  // VMAPJIT_ULP_DTYPE (f32 or f64) restrict it.
  bool full = full_sweep();
  int scale = full ? 16 : 1;
  const char* only = std::getenv("VMAPJIT_ULP_FN");
  const char* dtype = std::getenv("VMAPJIT_ULP_DTYPE");
  for (const FnInfo& f : kFns) {
    if (only && std::string(only) != f.name) continue;
    for (bool f64 : {false, true}) {
      if (dtype && std::string(dtype) != (f64 ? "f64" : "f32")) continue;
      bool all = full && !f64 && f.fn != MathFn::Pow;
      Worst w = f64 ? sweep_f64(f.fn, scale) : all ? sweep_f32_full(f.fn) : sweep_f32(f.fn, scale);
      double bound = f64 ? f.bound_f64 : f.bound_f32;
      std::string what = std::string(f.name) + (f64 ? " f64" : all ? " f32 all 2^32" : " f32");
      if (full || std::getenv("VMAPJIT_ULP_REPORT"))
        MESSAGE(what, ": max ", w.ulp,
                " ulp at x = ", w.x, ", y = ", w.y);
      INFO(what, ": max ", w.ulp, " ulp at x = ", w.x, ", y = ", w.y);
      CHECK(w.ulp <= bound);
    }
  }
}

// Not a check: VMAPJIT_VECMATH_BENCH=1 prints ns per element (16K elements in cache, best of 30).
TEST_CASE("vecmath: throughput") {
  if (!std::getenv("VMAPJIT_VECMATH_BENCH")) return;
  size_t n = 1 << 14;
  std::mt19937_64 rng(3);
  std::vector<float> xf = uniform<float>(rng, 0.1, 10, n), yf(n, 1.3f), of(n);
  std::vector<double> xd(xf.begin(), xf.end()), yd(n, 1.3), od(n);
  for (const FnInfo& f : kFns) {
    double ns[2];
    for (bool f64 : {false, true}) {
      Kernel k = kernel(f.fn, f64);
      double best = INFINITY;
      for (int rep = 0; rep < 30; ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        for (int it = 0; it < 10; ++it)
          f64 ? k(xd.data(), yd.data(), od.data(), int64_t(n)) : k(xf.data(), yf.data(), of.data(), int64_t(n));
        std::chrono::duration<double, std::nano> t = std::chrono::steady_clock::now() - t0;
        best = std::min(best, t.count() / (10.0 * double(n)));
      }
      ns[f64] = best;
    }
    // For scale: a scalar loop over the float libm function (or the formula in float).
    double libm = INFINITY;
    for (int rep = 0; rep < 5; ++rep) {
      auto t0 = std::chrono::steady_clock::now();
      for (size_t i = 0; i < n; ++i) of[i] = reference<float>(f.fn, xf[i], yf[i]);
      std::chrono::duration<double, std::nano> t = std::chrono::steady_clock::now() - t0;
      libm = std::min(libm, t.count() / double(n));
    }
    MESSAGE(std::string(f.name), ": f32 ", ns[0], " ns/element, f64 ", ns[1], " ns/element; scalar libm f32 ",
            libm, " ns/element");
  }
}
