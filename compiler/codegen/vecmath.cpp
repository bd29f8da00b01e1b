// codegen/vecmath.cpp: emit_math's dispatch and the IR building blocks of vecmath_impl.h.
#include "codegen/vecmath.h"

#include <cassert>
#include <vector>

#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/MDBuilder.h>

#include "codegen/vecmath_impl.h"

namespace jit::cg {
namespace vm {

Vm::Vm(llvm::IRBuilderBase& b, llvm::Type* t, bool fast_paths, bool scalef)
    : b(b), t(t), f32(t->getScalarType()->isFloatTy()), fast_paths(fast_paths), scalef(scalef) {
  llvm::Type* ie = llvm::Type::getIntNTy(b.getContext(), f32 ? 32 : 64);
  if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t))
    it = llvm::FixedVectorType::get(ie, vt->getNumElements());
  else
    it = ie;
}

Vm Vm::with_elem(llvm::Type* scalar) const {
  if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t))
    return Vm(b, llvm::FixedVectorType::get(scalar, vt->getNumElements()), fast_paths, scalef);
  return Vm(b, scalar, fast_paths, scalef);
}

Value* Vm::fma(Value* x, Value* y, Value* z) const {
  return b.CreateIntrinsic(llvm::Intrinsic::fma, {t}, {x, y, z});
}

Value* Vm::clamp(Value* x, double lo, double hi) const {
  x = sel(gt(x, c(lo)), x, c(lo));  // NaN fails the ordered compare: lo
  return sel(lt(x, c(hi)), x, c(hi));
}

Value* branch_all(const Vm& m, Value* all, const std::function<Value*()>& fast, const std::function<Value*()>& slow) {
  if (!m.fast_paths) return slow();
  return emit_branch_all(m.b, all, fast, slow);
}

Value* Vm::pow2i(Value* n) const {
  return from_bits(b.CreateShl(b.CreateAdd(n, ci(bias())), ci(mant_bits())));
}

Value* Vm::scalef_or_null(Value* x, Value* n) const {
  auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t);
  if (!scalef || !vt) return nullptr;
  unsigned lanes = vt->getNumElements(), ebits = f32 ? 32 : 64, bits = lanes * ebits;
  if (bits > 512) {  // wider than a register (the emitter's several registers of lanes): by halves
    if (lanes % 2) return nullptr;
    unsigned half = lanes / 2;
    Vm hm(b, llvm::FixedVectorType::get(t->getScalarType(), half), fast_paths, scalef);
    std::vector<int> lo(half), hi(half), both(lanes);
    for (unsigned i = 0; i < half; ++i) lo[i] = static_cast<int>(i), hi[i] = static_cast<int>(half + i);
    for (unsigned i = 0; i < lanes; ++i) both[i] = static_cast<int>(i);
    Value* a = hm.scalef_or_null(b.CreateShuffleVector(x, lo), b.CreateShuffleVector(n, lo));
    Value* c = a ? hm.scalef_or_null(b.CreateShuffleVector(x, hi), b.CreateShuffleVector(n, hi)) : nullptr;
    return c ? b.CreateShuffleVector(a, c, both) : nullptr;  // (an unused half is dead code)
  }
  using namespace llvm::Intrinsic;
  if (bits != 512 && bits != 256 && bits != 128) return nullptr;
  ID id = bits == 512   ? (f32 ? x86_avx512_mask_scalef_ps_512 : x86_avx512_mask_scalef_pd_512)
          : bits == 256 ? (f32 ? x86_avx512_mask_scalef_ps_256 : x86_avx512_mask_scalef_pd_256)
                        : (f32 ? x86_avx512_mask_scalef_ps_128 : x86_avx512_mask_scalef_pd_128);
  std::vector<Value*> args{x, n, llvm::PoisonValue::get(t), b.getIntN(lanes == 16 ? 16 : 8, -1)};
  if (bits == 512) args.push_back(b.getInt32(4));  // the current rounding mode (nearest)
  return b.CreateIntrinsic(id, {}, args);
}

Value* Vm::ldexp(Value* x, Value* n) const {
  if (Value* r = scalef_or_null(x, n)) return r;
  return mul(x, pow2i(to_int(n)));
}

Value* Vm::ldexp_wide(Value* x, Value* n) const {
  if (Value* r = scalef_or_null(x, n)) return r;
  Value* ni = to_int(n);
  Value* n1 = b.CreateAShr(ni, ci(1));
  return mul(mul(x, pow2i(n1)), pow2i(b.CreateSub(ni, n1)));
}

Value* Vm::poly(Value* x, const double* cs, int n) const {
  Value* r = c(cs[n - 1]);
  for (int i = n - 2; i >= 0; --i) r = fma(r, x, c(cs[i]));
  return r;
}

Value* Vm::poly_estrin(Value* x, const double* cs, int n) const {
  std::vector<Value*> terms;
  for (int i = 0; i < n; i += 2) terms.push_back(i + 1 < n ? fma(c(cs[i + 1]), x, c(cs[i])) : c(cs[i]));
  for (Value* p = mul(x, x); terms.size() > 1; p = mul(p, p)) {
    std::vector<Value*> next;
    for (size_t i = 0; i < terms.size(); i += 2)
      next.push_back(i + 1 < terms.size() ? fma(terms[i + 1], p, terms[i]) : terms[i]);
    terms = std::move(next);
  }
  return terms[0];
}

Value* Vm::poly(Value* x, std::initializer_list<double> cs) const {
  return poly(x, cs.begin(), int(cs.size()));
}

Pair two_sum(const Vm& m, Value* a, Value* b) {
  Value* s = m.add(a, b);
  Value* bb = m.sub(s, a);
  Value* e = m.add(m.sub(a, m.sub(s, bb)), m.sub(b, bb));
  return {s, e};
}

Pair fast_two_sum(const Vm& m, Value* a, Value* b) {
  Value* s = m.add(a, b);
  return {s, m.sub(b, m.sub(s, a))};
}

Pair two_prod(const Vm& m, Value* a, Value* b) {
  Value* p = m.mul(a, b);
  return {p, m.fma(a, b, m.neg(p))};
}

}  // namespace vm

llvm::Value* emit_branch_all(llvm::IRBuilderBase& B, llvm::Value* all, const std::function<llvm::Value*()>& fast,
                             const std::function<llvm::Value*()>& slow) {
  llvm::Function* fn = B.GetInsertBlock()->getParent();
  llvm::LLVMContext& ctx = B.getContext();
  auto* fast_bb = llvm::BasicBlock::Create(ctx, "fast", fn);
  auto* slow_bb = llvm::BasicBlock::Create(ctx, "slow", fn);
  auto* join = llvm::BasicBlock::Create(ctx, "join", fn);
  llvm::Value* cond = all->getType()->isVectorTy() ? B.CreateAndReduce(all) : all;
  B.CreateCondBr(cond, fast_bb, slow_bb, llvm::MDBuilder(ctx).createBranchWeights(1000, 1));
  B.SetInsertPoint(fast_bb);
  llvm::Value* a = fast();
  llvm::BasicBlock* fast_end = B.GetInsertBlock();
  B.CreateBr(join);
  B.SetInsertPoint(slow_bb);
  llvm::Value* b = slow();
  llvm::BasicBlock* slow_end = B.GetInsertBlock();
  B.CreateBr(join);
  B.SetInsertPoint(join);
  llvm::PHINode* r = B.CreatePHI(a->getType(), 2);
  r->addIncoming(a, fast_end);
  r->addIncoming(b, slow_end);
  return r;
}

llvm::Value* emit_sigmoid_from_exp(llvm::IRBuilderBase& b, llvm::Value* e) {
  llvm::IRBuilderBase::FastMathFlagGuard guard(b);
  b.clearFastMathFlags();
  return vm::sigmoid_from_exp(vm::Vm(b, e->getType(), false, false), e);
}

llvm::Value* emit_math(llvm::IRBuilderBase& b, MathFn fn, llvm::ArrayRef<llvm::Value*> args, const MathOptions& options) {
  assert(!args.empty() && "emit_math: no argument");
  llvm::Type* t = args[0]->getType();
  assert(t->getScalarType()->isFloatTy() || t->getScalarType()->isDoubleTy());
  assert(args.size() == (fn == MathFn::Pow ? 2u : 1u) && "emit_math: wrong argument count");
  assert((args.size() == 1 || args[1]->getType() == t) && "emit_math: argument types differ");
  assert(!b.getIsFPConstrained() && "emit_math: constrained FP is not supported");
  // The caller's fast-math flags (reassoc would undo TwoSum) do not apply inside.
  llvm::IRBuilderBase::FastMathFlagGuard guard(b);
  b.clearFastMathFlags();
  vm::Vm m(b, t, options.fast_paths, options.scalef);
  llvm::Value* x = args[0];
  switch (fn) {
    case MathFn::Exp: return vm::emit_exp(m, x);
    case MathFn::Log: return vm::emit_log(m, x);
    case MathFn::Log1p: return vm::emit_log1p(m, x);
    case MathFn::Expm1: return vm::emit_expm1(m, x);
    case MathFn::Tanh: return vm::emit_tanh(m, x);
    case MathFn::Sigmoid: return vm::emit_sigmoid(m, x);
    case MathFn::Erf: return vm::emit_erf(m, x);
    case MathFn::GeluErf: return vm::emit_gelu_erf(m, x);
    case MathFn::GeluTanh: return vm::emit_gelu_tanh(m, x);
    case MathFn::Sin: return vm::emit_trig(m, vm::Trig::Sin, x);
    case MathFn::Cos: return vm::emit_trig(m, vm::Trig::Cos, x);
    case MathFn::Tan: return vm::emit_trig(m, vm::Trig::Tan, x);
    case MathFn::Pow: return vm::emit_pow(m, x, args[1]);
  }
  return nullptr;
}

}  // namespace jit::cg
