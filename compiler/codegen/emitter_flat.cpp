// codegen/emitter_flat.cpp: flat elementwise groups (see emit_group). A group of elementwise
// ops whose operands in memory are dense row-major in its shape [?, d1, ...], scalars, or
// unbatched rows of its last dims runs one loop over its tile's elements, f = b * inner + i,
// at the index (0, ..., 0, f): every buffer's address is linear in the index, so that is
// element f of a dense buffer of the group's shape (scratch is rebased per tile), and random
// draws count the same row-major index. A row of n elements is read at f mod n (periodic()).
#include <llvm/IR/Constants.h>

#include <numeric>

#include "codegen/emitter.h"

namespace jit::cg {

Emitter::FlatLoop Emitter::flat_extent(const Group& g) const {
  const ir::Type& t = s_.buffers[g.buffer].type;
  if (t.rank() < 2 || t.shape[0] != ir::kDyn) return {};
  int64_t inner = 1;
  for (int64_t d = 1; d < t.rank(); ++d) inner *= t.shape[d];
  // Row-major and dense in `shape`: for the group's shape, element (b, i, ...) at
  // b * inner + (i, ...).
  auto dense = [&](int buffer, const Shape& shape) {
    const std::vector<Stride>& st = views_[buffer].strides;
    int64_t coef = 1;
    for (size_t d = shape.size(); d-- > 0; coef *= shape[d])
      if (!st[d].is(coef)) return false;
    return true;
  };
  if (!dense(g.buffer, t.shape)) return {};
  int64_t period = 0;  // none yet
  bool flat = walk_group(g, [&](ir::ValueId v, bool leaf) {
    const ir::Type& vt = f_.type(v);
    if (vt.rank() == 0) return true;         // evaluated at no index: the same in every lane
    if (leaf) {
      int buf = s_.buffer_of[v];
      auto dense_leaf = [&] {
        return (buf < 0 || dense(buf, vt.shape)) && (!f_.is_param(v) || dense(static_cast<int>(v), vt.shape));
      };
      if (vt.shape == t.shape) return dense_leaf();
      // An unbatched value of the group's last dims (a row w in x * w + b): at f, its element
      // f mod its size (see periodic()).
      if (vt.rank() >= t.rank() || vt.dtype == DType::b8 || buf < 0 ||
          !std::equal(vt.shape.begin(), vt.shape.end(), t.shape.end() - vt.rank()) || !dense_leaf())
        return false;
      period = period ? std::lcm(period, vt.static_numel()) : vt.static_numel();
      return true;
    }
    if (vt.shape != t.shape) return false;   // a broadcast along some dim
    // Elementwise ops, and operand-free ones: constants, and random draws, whose counter is the
    // row-major index b * inner + i (lower_source.cpp): the flat index itself.
    const ir::Node& n = f_.node_of(v);
    return ir::op_info(n.op).cls == ir::OpClass::Elementwise || n.operands.empty();
  });
  return flat ? FlatLoop{inner, period} : FlatLoop{};
}

llvm::Value* Emitter::periodic(int buffer, int64_t n) {
  DType dt = views_[buffer].dtype;
  llvm::Type* et = scalar_type(dt);
  llvm::Align align(dtype_size(dt));
  if (flat_phase_ >= 0) {
    // The row, loaded whole (the same in every step: LLVM hoists it), its elements repeated.
    auto* rt = llvm::FixedVectorType::get(et, static_cast<unsigned>(n));
    llvm::Value* row = tag(b_->CreateAlignedLoad(rt, views_[buffer].base, align), buffer);
    std::vector<int> lanes(width_);
    for (unsigned l = 0; l < width_; ++l) lanes[l] = static_cast<int>((flat_phase_ + l) % n);
    return b_->CreateShuffleVector(row, lanes);
  }
  // A step at any phase: (f mod n + l) mod n, gathered (every lane's index is in the row; in
  // 32 bits, whose remainder by a constant is a vector multiply).
  llvm::Value* r = b_->CreateTrunc(b_->CreateURem(vars_[lane_var_].value, b_->getInt64(n)), b_->getInt32Ty());
  std::vector<llvm::Constant*> offsets;
  for (unsigned l = 0; l < width_; ++l) offsets.push_back(b_->getInt32(l));
  llvm::Value* idx = b_->CreateURem(b_->CreateAdd(b_->CreateVectorSplat(width_, r), llvm::ConstantVector::get(offsets)),
                                    b_->CreateVectorSplat(width_, b_->getInt32(static_cast<uint32_t>(n))));
  llvm::Value* ptrs = b_->CreateGEP(et, views_[buffer].base, idx);
  return tag(b_->CreateMaskedGather(llvm::FixedVectorType::get(et, width_), ptrs, align), buffer);
}

}  // namespace jit::cg
