// codegen/lower_reduction.cpp: lowering of reductions and of dot_general. Each output element
// (or vector of them) is an accumulator in registers over a loop nest of the reduced dims; the
// emitter runs vector lanes over the innermost reduced dim when the output is scalar and the
// loads along it are contiguous (a dot product), folding the lanes at the end.
#include <llvm/IR/Intrinsics.h>

#include <algorithm>

#include <cmath>

#include "codegen/lowering.h"

namespace jit::cg {
namespace {

using ir::OpId;
using llvm::Value;

// The operand index for an output index `at`: kept dims from `at`, reduced dims from `vars`.
Index operand_index(const Shape& dims, int64_t rank, bool keepdim, const Index& at,
                    const std::vector<int>& vars) {
  Index idx;
  size_t o = 0, r = 0;
  for (int64_t d = 0; d < rank; ++d) {
    bool reduced = r < dims.size() && dims[r] == d;
    if (reduced) {
      idx.push_back(IndexDim::var(vars[r++]));
      if (keepdim) ++o;
    } else {
      idx.push_back(at[o++]);
    }
  }
  return idx;
}

Value* identity(Emitter& e, OpId op, DType t) {
  bool fl = is_float(t);
  switch (op) {
    case OpId::Sum: return fl ? e.const_float(0, t) : e.const_int(0, t);
    case OpId::Prod: return fl ? e.const_float(1, t) : e.const_int(1, t);
    case OpId::Max:
      return fl ? e.const_float(-INFINITY, t) : e.const_int(t == DType::b8 ? 0 : t == DType::i32 ? INT32_MIN : INT64_MIN, t);
    default:
      return fl ? e.const_float(INFINITY, t) : e.const_int(t == DType::b8 ? 1 : t == DType::i32 ? INT32_MAX : INT64_MAX, t);
  }
}

Value* combine(Emitter& e, OpId op, DType t, Value* a, Value* x) {
  auto& B = e.b();
  bool fl = is_float(t);
  switch (op) {
    case OpId::Sum: return fl ? B.CreateFAdd(a, x) : t == DType::b8 ? B.CreateOr(a, x) : B.CreateAdd(a, x);
    case OpId::Prod: return fl ? B.CreateFMul(a, x) : t == DType::b8 ? B.CreateAnd(a, x) : B.CreateMul(a, x);
    case OpId::Max: return emit_maximum(e, a, x, t);
    default: return emit_minimum(e, a, x, t);
  }
}

Value* fold(Emitter& e, OpId op, DType t, Value* v) {
  auto& B = e.b();
  llvm::IRBuilderBase::FastMathFlagGuard guard(B);
  llvm::FastMathFlags fmf;
  fmf.setAllowReassoc();  // a tree of partial sums, not a sequential chain
  B.setFastMathFlags(fmf);
  bool fl = is_float(t);
  switch (op) {
    case OpId::Sum: return fl ? B.CreateFAddReduce(llvm::ConstantFP::get(v->getType()->getScalarType(), -0.0), v) : B.CreateAddReduce(v);
    case OpId::Prod: return fl ? B.CreateFMulReduce(llvm::ConstantFP::get(v->getType()->getScalarType(), 1.0), v) : B.CreateMulReduce(v);
    case OpId::Max: return fl ? B.CreateFPMaximumReduce(v) : t == DType::b8 ? B.CreateOrReduce(v) : B.CreateIntMaxReduce(v, true);
    default: return fl ? B.CreateFPMinimumReduce(v) : t == DType::b8 ? B.CreateAndReduce(v) : B.CreateIntMinReduce(v, true);
  }
}

// A float max / min reduction on ordered integer keys: key(x) is x's bits with the magnitude
// bits of negatives flipped, so that signed comparison of keys orders floats as numbers with
// -0 < +0; a NaN's key is the extreme itself (INT_MAX for max, INT_MIN for min), so it wins.
// The keys come from the elements alone, and the accumulator's chain is one integer max / min
// (a cycle) instead of llvm.maximum's NaN and signed-zero fixups around vmaxps (six dependent
// instructions: that chain, not the loads, bound a softmax's max pass). The result is
// llvm.maximum / llvm.minimum's: the extreme, +0 over -0 for max (-0 for min), and NaN if any
// element is NaN (the key's inverse: the all-ones quiet NaN, of either sign).
Value* reduce_float_extreme(Emitter& e, OpId op, DType t, const std::vector<int64_t>& sizes,
                            const Emitter::ElementFn& element, bool tree_fold) {
  auto& B = e.b();
  bool mx = op == OpId::Max;
  unsigned bits = t == DType::f64 ? 64 : 32;
  llvm::APInt mag = llvm::APInt::getSignedMaxValue(bits);
  llvm::APInt win = mx ? llvm::APInt::getSignedMaxValue(bits) : llvm::APInt::getSignedMinValue(bits);
  auto like = [&](Value* v, llvm::Type* scalar) -> llvm::Type* {  // scalar, or a vector like v
    if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(v->getType())) return llvm::FixedVectorType::get(scalar, vt->getNumElements());
    return scalar;
  };
  // x <-> key: flipping the magnitude bits of negatives is its own inverse.
  auto flip = [&](Value* i) {
    llvm::Type* it = i->getType();
    Value* neg = B.CreateAShr(i, llvm::ConstantInt::get(it, bits - 1));
    return B.CreateXor(i, B.CreateAnd(neg, llvm::ConstantInt::get(it, mag)));
  };
  auto key = [&](Value* x) {
    llvm::Type* it = like(x, B.getIntNTy(bits));
    return B.CreateSelect(B.CreateFCmpUNO(x, x), llvm::ConstantInt::get(it, win), flip(B.CreateBitCast(x, it)));
  };
  Value* r = e.reduce(
      sizes, [&] { return key(e.const_float(mx ? -INFINITY : INFINITY, t)); },
      [&](const std::vector<int>& vars) -> Value* {
        Value* x = element(vars);
        return e.analyzing() ? x : key(x);
      },
      [&](Value* a, Value* x) { return B.CreateBinaryIntrinsic(mx ? llvm::Intrinsic::smax : llvm::Intrinsic::smin, a, x); },
      [&](Value* v) { return mx ? B.CreateIntMaxReduce(v, true) : B.CreateIntMinReduce(v, true); }, {},
      /*one_chain=*/false, tree_fold);
  if (e.analyzing()) return r;
  return B.CreateBitCast(flip(r), like(r, t == DType::f64 ? B.getDoubleTy() : B.getFloatTy()));
}

Value* lower_reduce(Emitter& e, const ir::Node& n, const Index& at) {
  const ir::Type& x = e.function().type(n.operands[0]);
  const Shape& dims = n.attrs.get_ints("dims");
  bool keepdim = n.attrs.get_int("keepdim");
  std::vector<int64_t> sizes;
  for (int64_t d : dims) sizes.push_back(x.shape[d]);
  DType t = x.dtype;
  auto element = [&](const std::vector<int>& vars) {
    return e.eval(n.operands[0], operand_index(dims, x.rank(), keepdim, at, vars));
  };
  // A sum of products (or squares) computed inline accumulates with one FMA per element, as a
  // contraction does: sum(x * y) is a dot product, sum(square(x - y)) a squared distance.
  Emitter::AccumulateFn fused;
  const ir::Function& f = e.function();
  ir::ValueId v = n.operands[0];
  if (n.op == OpId::Sum && is_float(t) && e.target().fma && e.is_inline(v) &&
      (f.node_of(v).op == OpId::Mul || f.node_of(v).op == OpId::Square)) {
    fused = [&](Value* acc, const std::vector<int>& vars) -> Value* {
      const ir::Node& m = f.node_of(v);
      Index idx = operand_index(dims, x.rank(), keepdim, at, vars);
      auto factor = [&](size_t k) { return e.eval(m.operands[k], broadcast_index(f.type(m.operands[k]), x, idx)); };
      Value* a = factor(0);
      Value* b = m.op == OpId::Square ? a : factor(1);
      return e.b().CreateIntrinsic(llvm::Intrinsic::fma, {a->getType()}, {a, b, acc});
    };
  }
  if ((n.op == OpId::Max || n.op == OpId::Min) && is_float(t)) return reduce_float_extreme(e, n.op, t, sizes, element, affine(at));
  return e.reduce(
      sizes, [&] { return identity(e, n.op, t); }, element,
      [&](Value* a, Value* x) { return combine(e, n.op, t, a, x); },
      [&](Value* x) { return fold(e, n.op, t, x); }, fused, /*one_chain=*/false, /*tree_fold=*/affine(at));
}

// argmax / argmin: per lane the first extreme (a NaN counts as the extreme) and its index;
// folding takes the extreme over the lanes and the smallest index among the lanes holding it.
Value* lower_arg(Emitter& e, const ir::Node& n, const Index& at) {
  const ir::Type& x = e.function().type(n.operands[0]);
  int64_t dim = n.attrs.get_int("dim");
  bool keepdim = n.attrs.get_int("keepdim");
  bool mx = n.op == OpId::Argmax;
  DType t = x.dtype;
  bool fl = is_float(t);
  Shape dims{dim};
  auto& B = e.b();
  auto pair_type = [&] {
    return llvm::StructType::get(e.value_type(t), e.value_type(DType::i64));
  };
  auto better = [&](Value* v, Value* best) -> Value* {
    if (fl) {
      Value* gt = mx ? B.CreateFCmpOGT(v, best) : B.CreateFCmpOLT(v, best);
      Value* nan_new = B.CreateAnd(B.CreateFCmpUNO(v, v), B.CreateFCmpORD(best, best));
      return B.CreateOr(gt, nan_new);
    }
    if (t == DType::b8) return mx ? B.CreateICmpUGT(v, best) : B.CreateICmpULT(v, best);
    return mx ? B.CreateICmpSGT(v, best) : B.CreateICmpSLT(v, best);
  };
  Value* r = e.reduce(
      {x.shape[dim]},
      [&]() -> Value* {
        Value* p = llvm::UndefValue::get(pair_type());
        p = B.CreateInsertValue(p, fl ? e.const_float(0, t) : e.const_int(0, t), 0);
        return B.CreateInsertValue(p, e.const_int(-1, DType::i64), 1);
      },
      [&](const std::vector<int>& vars) -> Value* {
        Value* v = e.eval(n.operands[0], operand_index(dims, x.rank(), keepdim, at, vars));
        if (e.analyzing()) return e.count(3);
        Value* p = llvm::UndefValue::get(pair_type());
        p = B.CreateInsertValue(p, v, 0);
        return B.CreateInsertValue(p, e.index_value(IndexDim::var(vars[0])), 1);
      },
      [&](Value* acc, Value* p) -> Value* {
        Value *best = B.CreateExtractValue(acc, 0), *bi = B.CreateExtractValue(acc, 1);
        Value *v = B.CreateExtractValue(p, 0), *vi = B.CreateExtractValue(p, 1);
        Value* take = B.CreateOr(B.CreateICmpSLT(bi, e.const_int(0, DType::i64)), better(v, best));
        Value* out = B.CreateInsertValue(acc, B.CreateSelect(take, v, best), 0);
        return B.CreateInsertValue(out, B.CreateSelect(take, vi, bi), 1);
      },
      [&](Value* acc) -> Value* {
        Value *best = B.CreateExtractValue(acc, 0), *bi = B.CreateExtractValue(acc, 1);
        Value* m = fold(e, mx ? OpId::Max : OpId::Min, t, best);
        Value* ms = B.CreateVectorSplat(llvm::cast<llvm::FixedVectorType>(best->getType())->getNumElements(), m);
        Value* hit = fl ? B.CreateSelect(B.CreateFCmpUNO(m, m), B.CreateFCmpUNO(best, best), B.CreateFCmpOEQ(best, ms))
                        : B.CreateICmpEQ(best, ms);
        Value* big = llvm::ConstantInt::get(bi->getType(), INT64_MAX);
        Value* idx = B.CreateIntMinReduce(B.CreateSelect(hit, bi, big), true);
        Value* p = llvm::UndefValue::get(llvm::StructType::get(m->getType(), idx->getType()));
        p = B.CreateInsertValue(p, m, 0);
        return B.CreateInsertValue(p, idx, 1);
      });
  if (e.analyzing()) return r;
  return B.CreateExtractValue(r, 1);
}

// dot_general: output [batch..., lhs free..., rhs free...]; the contracted dims are reduced.
Value* lower_dot(Emitter& e, const ir::Node& n, const Index& at) {
  const ir::Function& f = e.function();
  const ir::Type &l = f.type(n.operands[0]), &r = f.type(n.operands[1]);
  const Shape &bl = n.attrs.get_ints("batch_lhs"), &br = n.attrs.get_ints("batch_rhs");
  const Shape &cl = n.attrs.get_ints("contract_lhs"), &cr = n.attrs.get_ints("contract_rhs");
  auto free_dims = [](int64_t rank, const Shape& a, const Shape& b) {
    Shape out;
    for (int64_t i = 0; i < rank; ++i)
      if (std::find(a.begin(), a.end(), i) == a.end() && std::find(b.begin(), b.end(), i) == b.end()) out.push_back(i);
    return out;
  };
  Shape fl = free_dims(l.rank(), bl, cl), fr = free_dims(r.rank(), br, cr);
  std::vector<int64_t> sizes;
  for (int64_t d : cl) sizes.push_back(l.shape[d]);
  DType t = l.dtype;
  auto& B = e.b();
  // Register blocking: `jam` results at the jam values of loop var `jv`; an operand whose index
  // does not involve jv is loaded once for all of them.
  int64_t jam = e.jam();
  int jv = e.jam_var();
  e.clear_jam();
  auto index_of = [&](const std::vector<int>& vars, Index& li, Index& ri) {
    size_t o = 0;
    for (size_t i = 0; i < bl.size(); ++i, ++o) li[bl[i]] = at[o], ri[br[i]] = at[o];
    for (int64_t d : fl) li[d] = at[o++];
    for (int64_t d : fr) ri[d] = at[o++];
    for (size_t k = 0; k < cl.size(); ++k) li[cl[k]] = ri[cr[k]] = IndexDim::var(vars[k]);
  };
  auto uses = [&](const Index& idx) {
    for (const IndexDim& d : idx)
      if (d.coef(jv)) return true;
    return false;
  };
  // acc + a * b with its rounding fixed in the IR: llvm.fma where the machine has FMA, else a
  // multiply and an add. (A contract flag would leave the fusing to instruction selection,
  // whose choices differ between optimization levels and so between a kernel's tiers.)
  auto madd = [&](Value* acc, Value* a, Value* b) -> Value* {
    if (!is_float(t)) return B.CreateAdd(acc, B.CreateMul(a, b));
    if (e.target().fma) return B.CreateIntrinsic(llvm::Intrinsic::fma, {a->getType()}, {a, b, acc});
    return B.CreateFAdd(acc, B.CreateFMul(a, b));
  };
  auto per_result = [&](Value* x, auto&& fn) -> Value* {  // fn on each member of a jammed struct
    if (jam == 1) return fn(x, 0);
    Value* r = llvm::UndefValue::get(x->getType());
    for (unsigned u = 0; u < jam; ++u) r = B.CreateInsertValue(r, fn(B.CreateExtractValue(x, u), u), u);
    return r;
  };
  return e.reduce(
      sizes,
      [&]() -> Value* {
        Value* z = identity(e, OpId::Sum, t);
        if (jam == 1) return z;
        std::vector<llvm::Type*> ts(jam, z->getType());
        Value* r = llvm::UndefValue::get(llvm::StructType::get(B.getContext(), ts));
        for (unsigned u = 0; u < jam; ++u) r = B.CreateInsertValue(r, z, u);
        return r;
      },
      [&](const std::vector<int>& vars) -> Value* {  // the analysis prices one product
        Index li(l.rank()), ri(r.rank());
        index_of(vars, li, ri);
        e.eval(n.operands[0], li);
        e.eval(n.operands[1], ri);
        return e.count(1);
      },
      [&](Value* acc, Value* p) -> Value* {  // partial accumulators merging
        return per_result(acc, [&](Value* a, unsigned u) {
          Value* x = jam == 1 ? p : B.CreateExtractValue(p, u);
          return is_float(t) ? B.CreateFAdd(a, x) : B.CreateAdd(a, x);
        });
      },
      [&](Value* v) { return per_result(v, [&](Value* x, unsigned) { return fold(e, OpId::Sum, t, x); }); },
      [&](Value* acc, const std::vector<int>& vars) -> Value* {
        Index li(l.rank()), ri(r.rank());
        index_of(vars, li, ri);
        Value* a0 = e.eval(n.operands[0], li);
        Value* b0 = e.eval(n.operands[1], ri);
        if (jam == 1) return madd(acc, a0, b0);
        bool la = uses(li), rb = uses(ri);
        return per_result(acc, [&](Value* c, unsigned u) {
          Value* a = u && la ? e.at_jam(jv, u, [&] { return e.eval(n.operands[0], li); }) : a0;
          Value* b = u && rb ? e.at_jam(jv, u, [&] { return e.eval(n.operands[1], ri); }) : b0;
          return madd(c, a, b);
        });
      },
      /*one_chain=*/true, /*tree_fold=*/jam == 1 && affine(at));
}

}  // namespace

void register_reduction_lowering(ir::OpRegistry& r) {
  for (OpId id : {OpId::Sum, OpId::Prod, OpId::Max, OpId::Min}) r.op(id).lower = lower_reduce;
  r.op(OpId::Argmax).lower = lower_arg;
  r.op(OpId::Argmin).lower = lower_arg;
  r.op(OpId::DotGeneral).lower = lower_dot;
}

}  // namespace jit::cg
