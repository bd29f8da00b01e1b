// codegen/lower_elementwise.cpp: lowering of the elementwise family. Operands are evaluated at
// the broadcast index, then one row per op emits the arithmetic on <W x T> (floats as libm and
// torch: NaN-propagating max/min, saturating float-to-int casts; no nnan/ninf flags).
#include <llvm/Analysis/VectorUtils.h>
#include <llvm/IR/Intrinsics.h>

#include <cmath>

#include "codegen/lowering.h"

namespace jit::cg {
namespace {

using ir::OpId;
using llvm::Value;

double op_cost(OpId op) {
  switch (op) {
    case OpId::Exp: case OpId::Log: case OpId::Log1p: case OpId::Expm1: case OpId::Tanh:
    case OpId::Sigmoid: case OpId::Gelu: case OpId::Erf: case OpId::Sin: case OpId::Cos:
    case OpId::Tan: case OpId::Pow:
      return 12;
    case OpId::Div: case OpId::Sqrt: case OpId::Rsqrt: case OpId::Reciprocal: return 4;
    case OpId::StopGradient: return 0;
    default: return 1;
  }
}

// Integer power by squaring, with torch's results for negative exponents.
Value* int_pow(Emitter& e, Value* base, Value* ex) {
  auto& B = e.b();
  llvm::Type* t = base->getType();
  unsigned bits = t->getScalarSizeInBits();
  auto k = [&](int64_t v) { return llvm::ConstantInt::get(t, static_cast<uint64_t>(v), true); };
  Value *r = k(1), *b = base, *x = ex;
  for (unsigned i = 0; i < bits; ++i) {
    Value* odd = B.CreateICmpNE(B.CreateAnd(x, k(1)), k(0));
    r = B.CreateSelect(odd, B.CreateMul(r, b), r);
    b = B.CreateMul(b, b);
    x = B.CreateLShr(x, k(1));
  }
  Value* neg = B.CreateICmpSLT(ex, k(0));
  Value* odd = B.CreateICmpNE(B.CreateAnd(ex, k(1)), k(0));
  Value* neg_result = B.CreateSelect(B.CreateICmpEQ(base, k(1)), k(1),
                                     B.CreateSelect(B.CreateICmpEQ(base, k(-1)),
                                                    B.CreateSelect(odd, k(-1), k(1)), k(0)));
  return B.CreateSelect(neg, neg_result, r);
}

// x / d where d is the same in every lane (a softmax's sum, a norm, a constant), correctly
// rounded without a vector division per vector (a divide unit's 512-bit throughput is one per
// 5-16 cycles): the reciprocal y = 1 / d once (a scalar division, hoisted out of the loop with
// d), then q0 = x y, r = x - d q0 (exact, by FMA) and q = q0 + r y, which is x / d rounded to
// nearest (Markstein's theorem: y is 1 / d rounded to nearest and q0 within an ulp of x / d)
// where nothing under- or overflows: d within 2^+-20 and q within [2^-40, 2^80], so x is within
// [2^-60, 2^100] and r is normal. A vector with a lane outside that range (a zero, a NaN, a
// denormal) divides as before: every lane has the division's bits either way.
Value* divide(Emitter& e, Value* x, Value* d) {
  auto& B = e.b();
  Value* s = x->getType()->isVectorTy() ? llvm::getSplatValue(d) : nullptr;
  if (!s || e.target().quick || !e.target().fma) return B.CreateFDiv(x, d);
  llvm::Type* st = s->getType();
  auto c = [&](double v) { return llvm::ConstantFP::get(st, v); };
  auto cv = [&](double v) { return llvm::ConstantFP::get(x->getType(), v); };
  auto fma = [&](Value* a, Value* b, Value* acc) { return B.CreateIntrinsic(llvm::Intrinsic::fma, {a->getType()}, {a, b, acc}); };
  auto within = [&](Value* v, Value* lo, Value* hi) {
    Value* a = B.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, v);
    return B.CreateAnd(B.CreateFCmpOGE(a, lo), B.CreateFCmpOLE(a, hi));
  };
  Value* y = B.CreateVectorSplat(llvm::cast<llvm::FixedVectorType>(x->getType())->getNumElements(), B.CreateFDiv(c(1), s));
  Value* q0 = B.CreateFMul(x, y);
  Value* r = fma(B.CreateFNeg(d), q0, x);
  Value* q = fma(r, y, q0);
  // A remainder step's inactive lanes (zeros, below the range) do not send it down the slow path.
  Value* q_ok = within(q, cv(0x1p-40), cv(0x1p80));
  Value* m = e.active_lanes();
  auto* mt = m ? llvm::dyn_cast<llvm::FixedVectorType>(m->getType()) : nullptr;
  if (mt && mt->getNumElements() == llvm::cast<llvm::FixedVectorType>(q->getType())->getNumElements())
    q_ok = B.CreateOr(q_ok, B.CreateNot(m));
  Value* ok = B.CreateAnd(within(s, c(0x1p-20), c(0x1p20)), B.CreateAndReduce(q_ok));
  return emit_branch_all(B, ok, [&] { return q; }, [&] { return B.CreateFDiv(x, d); });
}

Value* cast(Emitter& e, Value* x, DType from, DType to) {
  auto& B = e.b();
  llvm::Type* t = e.value_type(to);
  if (from == to) return x;
  if (to == DType::b8)
    return is_float(from) ? B.CreateFCmpUNE(x, llvm::Constant::getNullValue(x->getType()))
                          : B.CreateICmpNE(x, llvm::Constant::getNullValue(x->getType()));
  if (from == DType::b8) return is_float(to) ? B.CreateUIToFP(x, t) : B.CreateZExt(x, t);
  if (is_float(from) && is_float(to)) return B.CreateFPCast(x, t);
  if (is_float(from)) return B.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {t, x->getType()}, {x});
  if (is_float(to)) return B.CreateSIToFP(x, t);
  return B.CreateSExtOrTrunc(x, t);
}

Value* lower(Emitter& e, const ir::Node& n, const Index& at) {
  const ir::Function& f = e.function();
  std::vector<Value*> x;
  for (ir::ValueId o : n.operands) x.push_back(e.eval(o, broadcast_index(f.type(o), n.type, at)));
  if (e.analyzing()) return e.count(op_cost(n.op));
  auto& B = e.b();
  DType t = f.type(n.operands.back()).dtype;  // the value operands' dtype
  bool fl = is_float(t), bl = t == DType::b8;
  auto c = [&](double v) { return fl ? e.const_float(v, t) : e.const_int(static_cast<int64_t>(v), t); };
  auto un = [&](llvm::Intrinsic::ID id) { return B.CreateUnaryIntrinsic(id, x[0]); };
  switch (n.op) {
    case OpId::Neg: return fl ? B.CreateFNeg(x[0]) : B.CreateNeg(x[0]);
    case OpId::Abs: return fl ? un(llvm::Intrinsic::fabs) : B.CreateBinaryIntrinsic(llvm::Intrinsic::abs, x[0], B.getFalse());
    case OpId::Sign: {
      Value* pos = fl ? B.CreateFCmpOGT(x[0], c(0)) : B.CreateICmpSGT(x[0], c(0));
      Value* neg = fl ? B.CreateFCmpOLT(x[0], c(0)) : B.CreateICmpSLT(x[0], c(0));
      Value* r = B.CreateSelect(pos, c(1), B.CreateSelect(neg, c(-1), c(0)));
      return fl ? B.CreateSelect(B.CreateFCmpUNO(x[0], x[0]), x[0], r) : r;
    }
    case OpId::Exp: case OpId::Sigmoid: {
      // sigmoid is e/(1+e) with e = exp(x): a group computing both of one x computes e once.
      Value* ex = e.shared_exp(n.operands[0], broadcast_index(f.type(n.operands[0]), n.type, at),
                               [&] { return emit_math(e, MathFn::Exp, x); });
      return n.op == OpId::Exp ? ex : emit_sigmoid_from_exp(B, ex);
    }
    case OpId::Log: return emit_math(e, MathFn::Log, x);
    case OpId::Log1p: return emit_math(e, MathFn::Log1p, x);
    case OpId::Expm1: return emit_math(e, MathFn::Expm1, x);
    case OpId::Sqrt: return un(llvm::Intrinsic::sqrt);
    case OpId::Rsqrt: return B.CreateFDiv(c(1), un(llvm::Intrinsic::sqrt));
    case OpId::Square: return fl ? B.CreateFMul(x[0], x[0]) : B.CreateMul(x[0], x[0]);
    case OpId::Reciprocal: return B.CreateFDiv(c(1), x[0]);
    case OpId::Sin: return emit_math(e, MathFn::Sin, x);
    case OpId::Cos: return emit_math(e, MathFn::Cos, x);
    case OpId::Tan: return emit_math(e, MathFn::Tan, x);
    case OpId::Tanh: return emit_math(e, MathFn::Tanh, x);
    case OpId::Erf: return emit_math(e, MathFn::Erf, x);
    case OpId::Gelu:
      return emit_math(e, n.attrs.get_int("approximate") ? MathFn::GeluTanh : MathFn::GeluErf, x);
    case OpId::Relu:
      // x > 0 ? x : +0, and NaN stays NaN (as the reference kernel): one unordered compare.
      // (As a NaN select around an ordered one, LLVM 19's instcombine miscompiled relu(abs(x)):
      // merging the two compares on |x| into a class test, it tested x > 0 instead of x != 0.)
      return fl ? B.CreateSelect(B.CreateFCmpUGT(x[0], c(0)), x[0], c(0))
                : B.CreateBinaryIntrinsic(llvm::Intrinsic::smax, x[0], c(0));
    case OpId::Floor: return fl ? un(llvm::Intrinsic::floor) : x[0];
    case OpId::Ceil: return fl ? un(llvm::Intrinsic::ceil) : x[0];
    case OpId::Round: return fl ? un(llvm::Intrinsic::roundeven) : x[0];
    case OpId::LogicalNot: return B.CreateNot(x[0]);
    case OpId::IsNan: return fl ? B.CreateFCmpUNO(x[0], x[0]) : e.const_int(0, DType::b8);
    case OpId::IsInf:
      return fl ? B.CreateFCmpOEQ(un(llvm::Intrinsic::fabs), c(INFINITY)) : e.const_int(0, DType::b8);
    case OpId::Cast: return cast(e, x[0], t, n.type.dtype);
    case OpId::StopGradient: return x[0];
    case OpId::Add: return fl ? B.CreateFAdd(x[0], x[1]) : bl ? B.CreateOr(x[0], x[1]) : B.CreateAdd(x[0], x[1]);
    case OpId::Sub: return fl ? B.CreateFSub(x[0], x[1]) : B.CreateSub(x[0], x[1]);
    case OpId::Mul: return fl ? B.CreateFMul(x[0], x[1]) : bl ? B.CreateAnd(x[0], x[1]) : B.CreateMul(x[0], x[1]);
    case OpId::Div: return divide(e, x[0], x[1]);
    case OpId::Pow: return fl ? emit_math(e, MathFn::Pow, x) : int_pow(e, x[0], x[1]);
    case OpId::Maximum: return emit_maximum(e, x[0], x[1], t);
    case OpId::Minimum: return emit_minimum(e, x[0], x[1], t);
    case OpId::Eq: return fl ? B.CreateFCmpOEQ(x[0], x[1]) : B.CreateICmpEQ(x[0], x[1]);
    case OpId::Ne: return fl ? B.CreateFCmpUNE(x[0], x[1]) : B.CreateICmpNE(x[0], x[1]);
    case OpId::Lt: return fl ? B.CreateFCmpOLT(x[0], x[1]) : bl ? B.CreateICmpULT(x[0], x[1]) : B.CreateICmpSLT(x[0], x[1]);
    case OpId::Le: return fl ? B.CreateFCmpOLE(x[0], x[1]) : bl ? B.CreateICmpULE(x[0], x[1]) : B.CreateICmpSLE(x[0], x[1]);
    case OpId::Gt: return fl ? B.CreateFCmpOGT(x[0], x[1]) : bl ? B.CreateICmpUGT(x[0], x[1]) : B.CreateICmpSGT(x[0], x[1]);
    case OpId::Ge: return fl ? B.CreateFCmpOGE(x[0], x[1]) : bl ? B.CreateICmpUGE(x[0], x[1]) : B.CreateICmpSGE(x[0], x[1]);
    case OpId::LogicalAnd: return B.CreateAnd(x[0], x[1]);
    case OpId::LogicalOr: return B.CreateOr(x[0], x[1]);
    case OpId::Where: return B.CreateSelect(x[0], x[1], x[2]);
    case OpId::Clamp: return emit_minimum(e, emit_maximum(e, x[0], x[1], t), x[2], t);
    case OpId::Fma: return B.CreateIntrinsic(llvm::Intrinsic::fma, {x[0]->getType()}, {x[0], x[1], x[2]});
    default: break;
  }
  __builtin_unreachable();
}

}  // namespace

void register_elementwise_lowering(ir::OpRegistry& r) {
  for (int i = 0; i < ir::kNumOps; ++i) {
    ir::OpInfo& op = r.op(static_cast<ir::OpId>(i));
    if (op.cls == ir::OpClass::Elementwise) op.lower = lower;
  }
}

}  // namespace jit::cg
