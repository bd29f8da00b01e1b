// codegen/lowering.cpp: registers every family's lowering rules into the op table, and the
// helpers they share.
#include <cmath>

#include "codegen/lowering.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

namespace jit::ir {
void register_lowering(OpRegistry& r) {
  cg::register_elementwise_lowering(r);
  cg::register_source_lowering(r);
  cg::register_reduction_lowering(r);
  cg::register_layout_lowering(r);
}
}  // namespace jit::ir

namespace jit::cg {

Index broadcast_index(const ir::Type& in, const ir::Type& out, const Index& at) {
  Index r;
  size_t off = out.shape.size() - in.shape.size();
  for (size_t j = 0; j < in.shape.size(); ++j)
    r.push_back(in.shape[j] == 1 && out.shape[off + j] != 1 ? IndexDim::constant(0) : at[off + j]);
  return r;
}

llvm::Value* emit_maximum(Emitter& e, llvm::Value* a, llvm::Value* b, DType t) {
  auto& B = e.b();
  if (is_float(t)) return B.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, b);
  if (t == DType::b8) return B.CreateOr(a, b);
  return B.CreateBinaryIntrinsic(llvm::Intrinsic::smax, a, b);
}

llvm::Value* emit_minimum(Emitter& e, llvm::Value* a, llvm::Value* b, DType t) {
  auto& B = e.b();
  if (is_float(t)) return B.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, a, b);
  if (t == DType::b8) return B.CreateAnd(a, b);
  return B.CreateBinaryIntrinsic(llvm::Intrinsic::smin, a, b);
}

// Until the inline vector math library lands, each lane calls libm.
llvm::Value* emit_math_op(Emitter& e, Math fn, llvm::ArrayRef<llvm::Value*> args) {
  auto& B = e.b();
  llvm::Type* t = args[0]->getType();
  llvm::Type* st = t->getScalarType();
  bool f32 = st->isFloatTy();
  const char* names[][2] = {{"expf", "exp"},     {"logf", "log"},   {"log1pf", "log1p"},
                            {"expm1f", "expm1"}, {"tanhf", "tanh"}, {nullptr, nullptr},
                            {"erff", "erf"},     {nullptr, nullptr}, {nullptr, nullptr},
                            {"sinf", "sin"},     {"cosf", "cos"},   {"tanf", "tan"},
                            {"powf", "pow"}};
  auto call = [&](Math m, llvm::ArrayRef<llvm::Value*> xs) -> llvm::Value* {
    llvm::Module* mod = B.GetInsertBlock()->getModule();
    std::vector<llvm::Type*> ps(xs.size(), st);
    llvm::FunctionCallee f = mod->getOrInsertFunction(names[int(m)][f32 ? 0 : 1],
                                                      llvm::FunctionType::get(st, ps, false));
    if (!t->isVectorTy()) return B.CreateCall(f, xs);
    unsigned w = llvm::cast<llvm::FixedVectorType>(t)->getNumElements();
    llvm::Value* r = llvm::PoisonValue::get(t);
    for (unsigned i = 0; i < w; ++i) {
      std::vector<llvm::Value*> lane;
      for (llvm::Value* x : xs) lane.push_back(B.CreateExtractElement(x, i));
      r = B.CreateInsertElement(r, B.CreateCall(f, lane), i);
    }
    return r;
  };
  auto c = [&](double v) { return llvm::ConstantFP::get(t, v); };
  switch (fn) {
    case Math::Sigmoid:
      return B.CreateFDiv(c(1), B.CreateFAdd(c(1), call(Math::Exp, {B.CreateFNeg(args[0])})));
    case Math::GeluErf: {
      llvm::Value* x = args[0];
      return B.CreateFMul(B.CreateFMul(c(0.5), x), B.CreateFAdd(c(1), call(Math::Erf, {B.CreateFMul(x, c(M_SQRT1_2))})));
    }
    case Math::GeluTanh: {
      llvm::Value* x = args[0];
      llvm::Value* inner = B.CreateFMul(c(std::sqrt(2.0 / M_PI)), B.CreateFAdd(x, B.CreateFMul(c(0.044715), B.CreateFMul(x, B.CreateFMul(x, x)))));
      return B.CreateFMul(B.CreateFMul(c(0.5), x), B.CreateFAdd(c(1), call(Math::Tanh, {inner})));
    }
    default:
      return call(fn, args);
  }
}

}  // namespace jit::cg
