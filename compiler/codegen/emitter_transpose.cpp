// codegen/emitter_transpose.cpp: a 2-D value stored transposed, by register blocks.
#include <llvm/Analysis/VectorUtils.h>

#include "codegen/emitter.h"

namespace jit::cg {

// A 2-D value stored transposed (rows contiguous in, columns contiguous out, 4-byte elements):
// a parameter packed for a contraction, or elementwise ops on such a parameter (a weight's
// scaling, hoisted). Element by element with the lanes along the columns, each vector would be
// a gather (scalarized on targets without a fast gather; on AVX-512, the MLP's 128 x 64 weight
// took 1024 gathers a call). Instead:
// - A parameter copied as it is (the usual pack): blocks of 16 (or 8) rows by 4 columns. Each
//   of 4 vectors is assembled from 4-element row pieces, rows k, k+4, k+8, k+12 in its 128-bit
//   quarters (loads and inserts of 128 bits, which most ports execute), and a 4 x 4 transpose
//   within the quarters (two unpacks a vector) leaves a column's 16 rows in each. The MLP's
//   128 x 64 weight: 8 shuffles (the port-5 kind) per 64 elements, where 8 x 8 blocks took 24.
//   The rows past the whole blocks take one partial block (a mask on the stores, or none
//   into rows padded to a register), so a layer of 9 to 15 outputs is packed in vectors too.
// - Elementwise ops on the way: 8 x 8 blocks, the group computing a vector per row (its ops at
//   full width), transposed in registers and stored a vector per column.
// The edges that do not fill a block (columns past the last 4 in a copy; rows and columns
// past the last 8 with elementwise ops) are computed element by element. Elementwise ops do
// not care which lanes they run in: the same bits.
// Not in the quick tier: there the shuffles cost more to compile than the gathers cost to run
// (the MLP's first call: instruction selection 23 -> 14 ms; its quick kernel at batch 1
// 10 -> 13 us a call, until the optimized kernel replaces it).
bool Emitter::emit_transpose(const Group& g) {
  const ir::Type& t = s_.buffers[g.buffer].type;
  const BufferView& dst = views_[g.buffer];
  const int64_t w = 8;  // 8 x 32-bit lanes: AVX2 and AVX-512 hosts (ymm registers on the latter)
  if (target_.quick || t.rank() != 2 || t.has_dyn() || dtype_size(t.dtype) != 4 || vector_lanes() < w) return false;
  int64_t rows = t.shape[0], cols = t.shape[1];
  const bool copy = f_.is_param(g.root);
  if (rows < w || cols < (copy ? 4 : w) || !dst.strides[0].is(1) || !dst.strides[1].known()) return false;
  // Elementwise ops (and constants) down to the leaves; every leaf of the group's shape a
  // parameter or stored value whose rows are contiguous. (Leaves of other shapes broadcast: a
  // column reads one element per vector, a row a contiguous vector, unless the row itself is
  // strided: then a gather, as element by element.)
  bool dense_rows = walk_group(g, [&](ir::ValueId v, bool leaf) {
    if (v == g.root && f_.is_param(v)) {
      const BufferView& src = views_[v];
      return src.strides[1].is(1) && src.strides[0].known();
    }
    if (leaf) {
      if (f_.type(v).shape != t.shape) return true;  // broadcast along at least one dim
      return views_[s_.buffer_of[v]].strides[1].is(1);  // what eval() reads
    }
    // Elementwise ops, and operand-free nodes (constants) of any shape.
    const ir::Node& n = f_.node_of(v);
    return ir::op_info(n.op).cls == ir::OpClass::Elementwise || n.operands.empty();
  });
  if (!dense_rows) return false;
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
  // x's lanes to rows r, r + 1, ... of column c (only the lanes `mask` has, if not null).
  auto store_column = [&](llvm::Value* x, llvm::Value* r, llvm::Value* c, llvm::Value* mask = nullptr) {
    llvm::Value* at = b_->CreateAdd(b_->CreateMul(c, b_->getInt64(dst_col)), r);
    llvm::Value* p = b_->CreateGEP(et, dst.base, at);
    if (mask)
      tag(b_->CreateMaskedStore(x, p, align, mask), g.buffer);
    else
      tag(b_->CreateAlignedStore(x, p, align), g.buffer);
  };
  // The edges: rows past the last block (all columns), then the columns past it.
  auto edge = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    if (r0 >= r1 || c0 >= c1) return;
    loop_range(b_->getInt64(r0), b_->getInt64(r1), 1, [&](llvm::Value* r) {
      loop_range(b_->getInt64(c0), b_->getInt64(c1), 1, [&](llvm::Value* c) { store_column(value_at(r, c, 1), r, c); });
    });
  };
  if (copy) {
    int64_t cols_4 = cols / 4 * 4, done = 0;
    // Blocks of h rows from row i, of which the first `valid` exist (all but in the last);
    // `in_pad`: the missing rows' lanes fall in a padded column's pad (see
    // Buffer::padded_inner), so columns are stored unmasked, whole aligned vectors.
    auto blocks = [&](int64_t h, int64_t valid, llvm::Value* i, bool in_pad) {
      // Within each 128-bit quarter of two vectors: unpack the low or high pairs of 32-bit
      // elements (`wide` = 0) or of 64-bit ones (`wide` = 1).
      auto unpack = [&](llvm::Value* a, llvm::Value* b, bool high, bool wide) {
        std::vector<int> m;
        for (int64_t q = 0; q < h / 4; ++q)
          for (int e = 0; e < 4; ++e) {
            int from_b = wide ? e / 2 : e % 2, k = wide ? e % 2 : e / 2;
            m.push_back(static_cast<int>(4 * q + (high ? 2 : 0) + k + from_b * h));
          }
        return b_->CreateShuffleVector(a, b, m);
      };
      llvm::Value* mask = nullptr;
      if (valid < h && !in_pad) {
        std::vector<llvm::Constant*> on;
        for (int64_t r = 0; r < h; ++r) on.push_back(b_->getInt1(r < valid));
        mask = llvm::ConstantVector::get(on);
      }
      loop_range(b_->getInt64(0), b_->getInt64(cols_4), 4, [&](llvm::Value* j) {
        std::vector<llvm::Value*> v(4);
        for (int64_t k = 0; k < 4; ++k) {
          std::vector<llvm::Value*> pieces;
          for (int64_t q = 0; q < h / 4; ++q)
            pieces.push_back(k + 4 * q < valid ? value_at(b_->CreateAdd(i, b_->getInt64(k + 4 * q)), j, 4)
                                               : llvm::PoisonValue::get(llvm::FixedVectorType::get(et, 4)));
          v[k] = llvm::concatenateVectors(*b_, pieces);
        }
        llvm::Value* lo01 = unpack(v[0], v[1], false, false);
        llvm::Value* hi01 = unpack(v[0], v[1], true, false);
        llvm::Value* lo23 = unpack(v[2], v[3], false, false);
        llvm::Value* hi23 = unpack(v[2], v[3], true, false);
        llvm::Value* c[4] = {unpack(lo01, lo23, false, true), unpack(lo01, lo23, true, true),
                             unpack(hi01, hi23, false, true), unpack(hi01, hi23, true, true)};
        for (int64_t k = 0; k < 4; ++k) store_column(c[k], i, b_->CreateAdd(j, b_->getInt64(k)), mask);
        // The next block's lines of these 4 columns, fetched for writing while this one is
        // stored: each column's 16 rows are one line, written in a later iteration of the
        // row loop, and a store to a line not in L1 waits for it (read for ownership). The MLP's
        // 128 x 64 weight: its pack's stores fill 512 such lines a call. (A prefetch past the
        // buffer's end does nothing.)
        if (h == 16 && valid == h)
          for (int64_t k = 0; k < 4; ++k) {
            llvm::Value* col = b_->CreateAdd(j, b_->getInt64(k));
            llvm::Value* next = b_->CreateAdd(i, b_->getInt64(h));
            llvm::Value* at = b_->CreateAdd(b_->CreateMul(col, b_->getInt64(dst_col)), next);
            b_->CreateIntrinsic(llvm::Intrinsic::prefetch, {b_->getPtrTy()},
                                {b_->CreateGEP(et, dst.base, at), b_->getInt32(1), b_->getInt32(3), b_->getInt32(1)});
          }
      });
    };
    // Whole blocks of 16 rows, then of 8. The rows past them take one partial block, whose
    // missing rows are not read and whose columns are stored under a mask: of 16 rows where
    // more than 8 are left (a layer's 10 outputs), else of 8. Before, element by element: the
    // MLP's 10 x 128 weight took a block of 8 rows and 256 scalar copies.
    for (int64_t h : {int64_t(16), int64_t(8)}) {
      if (vector_lanes() < h) continue;
      if (int64_t n = (rows - done) / h * h; n > 0) {
        loop_range(b_->getInt64(done), b_->getInt64(done + n), h, [&](llvm::Value* i) { blocks(h, h, i, false); });
        done += n;
      }
      if (int64_t rest = rows - done; rest > (h == 16 ? 8 : 0)) {
        const int64_t padded = s_.buffers[g.buffer].padded_inner;
        blocks(h, rest, b_->getInt64(done), padded > 0 && done + h <= padded);
        done = rows;
      }
    }
    edge(done, rows, 0, cols);
    edge(0, done, cols_4, cols);
    vars_.resize(base);
    return true;
  }
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
      for (int64_t c = 0; c < w; ++c) store_column(v[c], i, b_->CreateAdd(j, b_->getInt64(c)));
    });
  });
  edge(rows_w, rows, 0, cols);
  edge(0, rows_w, cols_w, cols);
  vars_.resize(base);
  return true;
}

}  // namespace jit::cg
