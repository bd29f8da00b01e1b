// codegen/lower_layout.cpp: lowering of the layout family as index maps. permute, expand,
// slice and reshapes that keep the dims' order map an output index to an operand index
// affinely, so loads through them stay contiguous where the memory is; the others (a general
// reshape, pad, concat, index_select, gather) compute the operand index per lane. scatter_add
// sums the contributions to each output element.
#include <llvm/IR/Intrinsics.h>

#include "codegen/lowering.h"

namespace jit::cg {
namespace {

using ir::OpId;
using llvm::Value;

const ir::Type& operand_type(Emitter& e, const ir::Node& n, int i) {
  return e.function().type(n.operands[i]);
}

// A per-lane i64 value of an index dim (the lanes of the current width).
Value* lanes(Emitter& e, const IndexDim& d) {
  Value* v = e.index_value(d);
  if (e.width() > 1 && !v->getType()->isVectorTy()) v = e.splat(v);
  return v;
}

Value* i64c(Emitter& e, int64_t v) { return e.const_int(v, DType::i64); }

// reshape: dims equal at both ends map directly; the middle goes through the flat index.
Value* lower_reshape(Emitter& e, const ir::Node& n, const Index& at) {
  const Shape& in = operand_type(e, n, 0).shape;
  const Shape& out = n.type.shape;
  // Dims of size 1 carry no index: match the remaining dims in order.
  Shape in_nz, out_nz;
  for (int64_t d : in) if (d != 1) in_nz.push_back(d);
  for (int64_t d : out) if (d != 1) out_nz.push_back(d);
  Index idx(in.size(), IndexDim::constant(0));
  if (in_nz == out_nz) {
    size_t o = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] == 1) continue;
      while (out[o] == 1) ++o;
      idx[i] = at[o++];
    }
    return e.eval(n.operands[0], idx);
  }
  // A common leading prefix (the batch dim among it) maps directly.
  size_t p = 0;
  while (p < in.size() && p < out.size() && in[p] == out[p]) idx[p] = at[p], ++p;
  // The flat index over the rest, then the operand's dims by division.
  std::vector<std::pair<const IndexDim*, int64_t>> parts;
  int64_t stride = 1;
  bool affine = true;
  for (size_t d = out.size(); d-- > p;) {
    parts.push_back({&at[d], stride});
    affine &= !at[d].dynamic;
    stride *= out[d];
  }
  IndexDim flat = IndexDim::constant(0);
  if (affine)
    for (auto [dim, k] : parts) flat = flat.plus(dim->scaled(k));
  if (in.size() == p + 1 && affine) {  // merging into one dim stays affine
    idx[p] = flat;
    return e.eval(n.operands[0], idx);
  }
  if (e.analyzing()) {
    for (size_t i = p; i < in.size(); ++i) idx[i] = e.dynamic(nullptr);
    return e.eval(n.operands[0], idx);
  }
  auto& B = e.b();
  Value* fv = nullptr;
  if (affine) {
    fv = lanes(e, flat);
  } else {
    for (auto [dim, k] : parts) {
      Value* term = B.CreateMul(lanes(e, *dim), i64c(e, k));
      fv = fv ? B.CreateAdd(fv, term) : term;
    }
  }
  int64_t s = 1;
  for (size_t i = in.size(); i-- > p;) {
    Value* q = s == 1 ? fv : B.CreateUDiv(fv, i64c(e, s));
    idx[i] = e.dynamic(i == p ? q : B.CreateURem(q, i64c(e, in[i])));
    s *= in[i];
  }
  return e.eval(n.operands[0], idx);
}

Value* lower_permute(Emitter& e, const ir::Node& n, const Index& at) {
  const Shape& p = n.attrs.get_ints("perm");
  Index idx(p.size());
  for (size_t i = 0; i < p.size(); ++i) idx[p[i]] = at[i];
  return e.eval(n.operands[0], idx);
}

Value* lower_expand(Emitter& e, const ir::Node& n, const Index& at) {
  return e.eval(n.operands[0], broadcast_index(operand_type(e, n, 0), n.type, at));
}

Value* lower_slice(Emitter& e, const ir::Node& n, const Index& at) {
  Index idx = at;
  int64_t d = n.attrs.get_int("dim");
  IndexDim start = IndexDim::constant(n.attrs.get_int("start"));
  if (!at[d].dynamic) {
    idx[d] = start.plus(at[d].scaled(n.attrs.get_int("step")));
  } else if (!e.analyzing()) {
    auto& B = e.b();
    idx[d] = e.dynamic(B.CreateAdd(B.CreateMul(at[d].dyn, i64c(e, n.attrs.get_int("step"))), i64c(e, n.attrs.get_int("start"))));
  }
  return e.eval(n.operands[0], idx);
}

// pad: element i of the result is x[(i - start) / step] where that lands on x, else 0.
Value* lower_pad(Emitter& e, const ir::Node& n, const Index& at) {
  int64_t d = n.attrs.get_int("dim"), start = n.attrs.get_int("start"), step = n.attrs.get_int("step");
  int64_t len = operand_type(e, n, 0).shape[d];
  Index idx = at;
  if (e.analyzing()) {
    idx[d] = e.dynamic(nullptr);
    e.eval(n.operands[0], idx);
    return e.count(4);
  }
  if (len == 0) return is_float(n.type.dtype) ? e.const_float(0, n.type.dtype) : e.const_int(0, n.type.dtype);
  auto& B = e.b();
  Value* rel = B.CreateSub(lanes(e, at[d]), i64c(e, start));
  Value* q = B.CreateSDiv(rel, i64c(e, step));
  Value* valid = B.CreateAnd(B.CreateICmpSGE(rel, i64c(e, 0)),
                             B.CreateAnd(B.CreateICmpEQ(B.CreateSRem(rel, i64c(e, step)), i64c(e, 0)),
                                         B.CreateICmpSLT(q, i64c(e, len))));
  Value* clamped = B.CreateSelect(valid, q, i64c(e, 0));
  idx[d] = e.dynamic(clamped);
  Value* x = e.eval(n.operands[0], idx);
  Value* zero = is_float(n.type.dtype) ? e.const_float(0, n.type.dtype) : e.const_int(0, n.type.dtype);
  return B.CreateSelect(valid, x, zero);
}

// concat: each operand owns a range of the dim; the lanes take theirs from it.
Value* lower_concat(Emitter& e, const ir::Node& n, const Index& at) {
  int64_t d = n.attrs.get_int("dim");
  if (e.analyzing()) {
    for (size_t k = 0; k < n.operands.size(); ++k) {
      Index idx = at;
      idx[d] = e.dynamic(nullptr);
      e.eval(n.operands[k], idx);
    }
    return e.count(2.0 * n.operands.size());
  }
  auto& B = e.b();
  Value* i = lanes(e, at[d]);
  Value* result = nullptr;
  int64_t off = 0;
  for (size_t k = 0; k < n.operands.size(); ++k) {
    int64_t len = operand_type(e, n, k).shape[d];
    if (len == 0) continue;
    Value* rel = B.CreateSub(i, i64c(e, off));
    Value* in = B.CreateAnd(B.CreateICmpSGE(rel, i64c(e, 0)), B.CreateICmpSLT(rel, i64c(e, len)));
    Index idx = at;
    idx[d] = e.dynamic(B.CreateSelect(in, rel, i64c(e, 0)));
    Value* x = e.eval(n.operands[k], idx);
    result = result ? B.CreateSelect(in, x, result) : x;
    off += len;
  }
  if (!result)  // every part is empty along the dim (then so is the result: never read)
    result = is_float(n.type.dtype) ? e.const_float(0, n.type.dtype) : e.const_int(0, n.type.dtype);
  return result;
}

// The i64 index read from an index tensor, checked against the dim's size: an index out of
// range sets the kernel's error flag and reads element 0 instead.
Value* checked_index(Emitter& e, Value* j, int64_t size) {
  auto& B = e.b();
  llvm::Type* t = e.value_type(DType::i64);
  j = B.CreateSExt(j, t);
  Value* bad = B.CreateOr(B.CreateICmpSLT(j, i64c(e, 0)), B.CreateICmpSGE(j, i64c(e, size)));
  e.flag_error(bad);
  return B.CreateSelect(bad, i64c(e, 0), j);
}

Value* lower_index_select(Emitter& e, const ir::Node& n, const Index& at) {
  int64_t d = n.attrs.get_int("dim");
  Value* j = e.eval(n.operands[1], {at[d]});
  Index idx = at;
  idx[d] = e.dynamic(e.analyzing() ? nullptr : checked_index(e, j, operand_type(e, n, 0).shape[d]));
  return e.eval(n.operands[0], idx);
}

Value* lower_gather(Emitter& e, const ir::Node& n, const Index& at) {
  int64_t d = n.attrs.get_int("dim");
  Value* j = e.eval(n.operands[1], at);
  Index idx = at;
  idx[d] = e.dynamic(e.analyzing() ? nullptr : checked_index(e, j, operand_type(e, n, 0).shape[d]));
  return e.eval(n.operands[0], idx);
}

// scatter_add(base, idx, src) {dim} at i: base[i] plus src[p] for every p of idx's shape with
// p == i off `dim` and idx[p] == i[dim].
Value* lower_scatter_add(Emitter& e, const ir::Node& n, const Index& at) {
  const ir::Type& it = operand_type(e, n, 1);
  int64_t d = n.attrs.get_int("dim");
  DType t = n.type.dtype;
  auto& B = e.b();
  Value* base = e.eval(n.operands[0], at);
  auto zero = [&] { return is_float(t) ? e.const_float(0, t) : e.const_int(0, t); };
  Value* sum = e.reduce(
      {it.shape[d]}, zero,
      [&](const std::vector<int>& vars) -> Value* {
        // Positions off `dim` beyond idx's extent receive nothing.
        Value* inside = nullptr;
        Index p = at;
        p[d] = IndexDim::var(vars[0]);
        if (!e.analyzing())
          for (int64_t k = 0; k < it.rank(); ++k) {
            if (k == d || it.shape[k] == n.type.shape[k]) continue;
            Value* ok = B.CreateICmpSLT(lanes(e, at[k]), i64c(e, it.shape[k]));
            inside = inside ? B.CreateAnd(inside, ok) : ok;
            p[k] = e.dynamic(B.CreateSelect(ok, lanes(e, at[k]), i64c(e, 0)));
          }
        Value* j = e.eval(n.operands[1], p);
        Value* s = e.eval(n.operands[2], p);
        if (e.analyzing()) return e.count(3);
        Value* jj = checked_index(e, j, n.type.shape[d]);
        Value* hit = B.CreateICmpEQ(jj, lanes(e, at[d]));
        if (inside) hit = B.CreateAnd(hit, inside);
        return B.CreateSelect(hit, s, zero());
      },
      [&](Value* acc, Value* x) { return is_float(t) ? B.CreateFAdd(acc, x) : B.CreateAdd(acc, x); },
      [&](Value* v) -> Value* {
        llvm::IRBuilderBase::FastMathFlagGuard guard(B);
        llvm::FastMathFlags fmf;
        fmf.setAllowReassoc();
        B.setFastMathFlags(fmf);
        return is_float(t) ? B.CreateFAddReduce(llvm::ConstantFP::get(v->getType()->getScalarType(), -0.0), v)
                           : B.CreateAddReduce(v);
      },
      {}, /*one_chain=*/false, /*tree_fold=*/affine(at));
  if (e.analyzing()) return nullptr;
  return is_float(t) ? B.CreateFAdd(base, sum) : B.CreateAdd(base, sum);
}

}  // namespace

void register_layout_lowering(ir::OpRegistry& r) {
  r.op(OpId::Reshape).lower = lower_reshape;
  r.op(OpId::Permute).lower = lower_permute;
  r.op(OpId::Expand).lower = lower_expand;
  r.op(OpId::Slice).lower = lower_slice;
  r.op(OpId::Pad).lower = lower_pad;
  r.op(OpId::Concat).lower = lower_concat;
  r.op(OpId::IndexSelect).lower = lower_index_select;
  r.op(OpId::Gather).lower = lower_gather;
  r.op(OpId::ScatterAdd).lower = lower_scatter_add;
}

}  // namespace jit::cg
