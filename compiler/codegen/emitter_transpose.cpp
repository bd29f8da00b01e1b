// codegen/emitter_transpose.cpp: a 2-D value stored transposed, by 8 x 8 register blocks.
#include "codegen/emitter.h"

namespace jit::cg {

// A 2-D value stored transposed (rows contiguous in, columns contiguous out, 4-byte elements):
// a parameter packed for a contraction, or elementwise ops on such a parameter (a weight's
// scaling, hoisted). 8 x 8 blocks: the group computed a vector per row, with the lanes along the
// row (contiguous reads), transposed in registers and stored a vector per column. Element by
// element with the lanes along the columns, each vector is a gather (scalarized on targets
// without a fast gather; on AVX-512, the MLP's 128 x 64 weight took 1024 gathers a call). The
// edges that do not fill a block are computed element by element. Elementwise ops do not
// care which lanes they run in: the same bits.
// Not in the quick tier: there the shuffles cost more to compile than the gathers cost to run
// (the MLP's first call: instruction selection 23 -> 14 ms; its quick kernel at batch 1
// 10 -> 13 us a call, until the optimized kernel replaces it).
bool Emitter::emit_transpose(const Group& g) {
  const ir::Type& t = s_.buffers[g.buffer].type;
  const BufferView& dst = views_[g.buffer];
  const int64_t w = 8;  // 8 x 32-bit lanes: AVX2 and AVX-512 hosts (ymm registers on the latter)
  if (target_.quick || t.rank() != 2 || t.has_dyn() || dtype_size(t.dtype) != 4 || vector_lanes() < w) return false;
  int64_t rows = t.shape[0], cols = t.shape[1];
  auto fixed = [](const Stride& s, int64_t c) { return !s.runtime && !s.times_batch && s.coef == c; };
  auto fixed_any = [](const Stride& s) { return !s.runtime && !s.times_batch; };
  if (rows < w || cols < w || !fixed(dst.strides[0], 1) || !fixed_any(dst.strides[1])) return false;
  // Elementwise ops (and constants) down to the leaves; every leaf of the group's shape a
  // parameter or stored value whose rows are contiguous. (Leaves of other shapes broadcast: a
  // column reads one element per vector, a row a contiguous vector, unless the row itself is
  // strided: then a gather, as element by element.)
  std::vector<ir::ValueId> todo{g.root};
  while (!todo.empty()) {
    ir::ValueId v = todo.back();
    todo.pop_back();
    if (v == g.root && f_.is_param(v)) {
      const BufferView& src = views_[v];
      if (!fixed(src.strides[1], 1) || !fixed_any(src.strides[0])) return false;
      continue;
    }
    if (v != g.root && !is_inline(v)) {
      const ir::Type& lt = f_.type(v);
      if (lt.shape != t.shape) continue;  // broadcast along at least one dim
      if (!fixed(views_[s_.buffer_of[v]].strides[1], 1)) return false;  // what eval() reads
      continue;
    }
    const ir::Node& n = f_.node_of(v);
    // Elementwise ops, and operand-free nodes (constants) of any shape.
    if (ir::op_info(n.op).cls != ir::OpClass::Elementwise && !n.operands.empty()) return false;
    for (ir::ValueId o : n.operands) todo.push_back(o);
  }
  if (analyzing_) return true;
  int64_t dst_col = dst.strides[1].coef;
  llvm::Type* et = scalar_type(t.dtype);
  llvm::Align align(4);
  int64_t rows_w = rows / w * w, cols_w = cols / w * w;
  size_t base = vars_.size();
  vars_.resize(base + 2);
  vars_[base].trip = rows, vars_[base + 1].trip = cols;
  Index at{IndexDim::var(static_cast<int>(base)), IndexDim::var(static_cast<int>(base + 1))};
  // The group at (r, c), with `lanes` lanes along the row from c.
  auto value_at = [&](llvm::Value* r, llvm::Value* c, unsigned lanes) {
    vars_[base].value = r, vars_[base + 1].value = c;
    unsigned saved_width = width_;
    int saved_lane = lane_var_;
    ir::ValueId saved_root = current_root_;
    width_ = lanes;
    lane_var_ = lanes > 1 ? static_cast<int>(base + 1) : -1;
    current_root_ = g.root;
    llvm::Value* x = eval(g.root, at);
    width_ = saved_width, lane_var_ = saved_lane, current_root_ = saved_root;
    return x;
  };
  loop_range(b_->getInt64(0), b_->getInt64(rows_w), w, [&](llvm::Value* i) {
    loop_range(b_->getInt64(0), b_->getInt64(cols_w), w, [&](llvm::Value* j) {
      std::vector<llvm::Value*> v;
      for (int64_t r = 0; r < w; ++r) v.push_back(value_at(b_->CreateAdd(i, b_->getInt64(r)), j, w));
      // The AVX sequence: interleave within 128-bit halves, pair up, swap halves. Each mask
      // is one instruction (unpcklps/unpckhps, shufps, vperm2f128), which instruction
      // selection matches directly (shuffles that cross the halves cost it several times more).
      auto shuffle = [&](llvm::Value* a, llvm::Value* b, std::initializer_list<int> m) {
        return b_->CreateShuffleVector(a, b, llvm::ArrayRef<int>(m.begin(), m.size()));
      };
      std::vector<llvm::Value*> t(8), u(8);
      for (int p = 0; p < 4; ++p) {
        t[2 * p] = shuffle(v[2 * p], v[2 * p + 1], {0, 8, 1, 9, 4, 12, 5, 13});
        t[2 * p + 1] = shuffle(v[2 * p], v[2 * p + 1], {2, 10, 3, 11, 6, 14, 7, 15});
      }
      for (int q = 0; q < 2; ++q)
        for (int h = 0; h < 2; ++h) {
          u[4 * q + 2 * h] = shuffle(t[4 * q + h], t[4 * q + h + 2], {0, 1, 8, 9, 4, 5, 12, 13});
          u[4 * q + 2 * h + 1] = shuffle(t[4 * q + h], t[4 * q + h + 2], {2, 3, 10, 11, 6, 7, 14, 15});
        }
      for (int c = 0; c < 4; ++c) {
        v[c] = shuffle(u[c], u[c + 4], {0, 1, 2, 3, 8, 9, 10, 11});
        v[c + 4] = shuffle(u[c], u[c + 4], {4, 5, 6, 7, 12, 13, 14, 15});
      }
      llvm::Value* to = b_->CreateAdd(b_->CreateMul(j, b_->getInt64(dst_col)), i);
      for (int64_t c = 0; c < w; ++c)
        tag(b_->CreateAlignedStore(v[c], b_->CreateGEP(et, dst.base, b_->CreateAdd(to, b_->getInt64(c * dst_col))), align), g.buffer);
    });
  });
  // The edges: rows past the last block (all columns), then the columns past it.
  auto edge = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    if (r0 >= r1 || c0 >= c1) return;
    loop_range(b_->getInt64(r0), b_->getInt64(r1), 1, [&](llvm::Value* r) {
      loop_range(b_->getInt64(c0), b_->getInt64(c1), 1, [&](llvm::Value* c) {
        llvm::Value* x = value_at(r, c, 1);
        tag(b_->CreateStore(x, b_->CreateGEP(et, dst.base, b_->CreateAdd(b_->CreateMul(c, b_->getInt64(dst_col)), r))), g.buffer);
      });
    });
  };
  edge(rows_w, rows, 0, cols);
  edge(0, rows_w, cols_w, cols);
  vars_.resize(base);
  return true;
}

}  // namespace jit::cg
