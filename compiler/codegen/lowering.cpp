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

}  // namespace jit::cg
