// codegen/lowering.h: helpers shared by the lowering rules of the op families
// (lower_elementwise.cpp, lower_source.cpp, lower_reduction.cpp, lower_layout.cpp).
#pragma once

#include "codegen/emitter.h"
#include "codegen/vecmath.h"
#include "ir/ir.h"

namespace jit::cg {

void register_elementwise_lowering(ir::OpRegistry& r);
void register_source_lowering(ir::OpRegistry& r);
void register_reduction_lowering(ir::OpRegistry& r);
void register_layout_lowering(ir::OpRegistry& r);

// The index of an operand of type `in` that broadcasts to `out` at `at` (torch broadcasting:
// trailing dims line up; size-1 dims read index 0).
Index broadcast_index(const ir::Type& in, const ir::Type& out, const Index& at);


// `at` is affine in the loop variables (no dim computed per lane, as an index_select's): a
// reduction there may reduce its lanes' outputs one by one (Emitter::reduce's tree_fold).
inline bool affine(const Index& at) {
  for (const IndexDim& d : at)
    if (d.dynamic) return false;
  return true;
}

// Arithmetic that every family uses: NaN-propagating max / min of floats, signed for integers,
// or / and for bools.
llvm::Value* emit_maximum(Emitter& e, llvm::Value* a, llvm::Value* b, DType t);
llvm::Value* emit_minimum(Emitter& e, llvm::Value* a, llvm::Value* b, DType t);

// fn of args by vecmath, as the emitter's target and tier call for.
inline llvm::Value* emit_math(Emitter& e, MathFn fn, llvm::ArrayRef<llvm::Value*> args) {
  return emit_math(e.b(), fn, args, {.fast_paths = !e.target().quick, .scalef = e.target().avx512});
}

}  // namespace jit::cg
