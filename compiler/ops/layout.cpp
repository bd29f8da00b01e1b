// ops/layout.cpp: the layout family: ops that move or select elements without arithmetic
// (reshape, permute, expand, slice, pad, concat) and the indexed ones (index_select, gather,
// scatter_add). squeeze, unsqueeze, flatten, transpose, narrow, movedim and stack are composites.
#include <numeric>

#include <algorithm>

#include "ops/family.h"
#include "ops/scalar_math.h"
#include "transforms/batching.h"

namespace jit::ir {
namespace {

// ---- shape rules -------------------------------------------------------------------------------

Type infer_reshape(const OpInfo& op, std::span<const Type> in, const Attrs& attrs) {
  const Shape& s = attrs.get_ints("shape");
  int64_t dyn_in = 0, dyn_out = 0, n_in = 1, n_out = 1;
  for (int64_t d : in[0].shape) d == kDyn ? ++dyn_in : (n_in *= d, 0);
  for (int64_t d : s)
    if (d < 0 && d != kDyn)
      op_fail(op, ErrorKind::Shape, fmt::format("bad target shape {}", shape_string(s)));
  checked_numel(resolve(s, 1));  // throws when the elements do not fit in int64
  for (int64_t d : s) d == kDyn ? ++dyn_out : (n_out *= d, 0);
  if (dyn_in != dyn_out || dyn_in > 1 || n_in != n_out)
    op_fail(op, ErrorKind::Shape, fmt::format("cannot reshape {} to {}", to_string(in[0]), shape_string(s)));
  return {in[0].dtype, s};
}

Type infer_permute(const OpInfo& op, std::span<const Type> in, const Attrs& attrs) {
  const Shape& p = attrs.get_ints("perm");
  Shape sorted = p;
  std::sort(sorted.begin(), sorted.end());
  Shape iota(in[0].rank());
  std::iota(iota.begin(), iota.end(), 0);
  if (sorted != iota)
    op_fail(op, ErrorKind::InvalidArgument,
            fmt::format("perm {} is not a permutation of the dims of {}", shape_string(p), to_string(in[0])));
  Shape s;
  for (int64_t d : p) s.push_back(in[0].shape[d]);
  return {in[0].dtype, s};
}

Type infer_expand(const OpInfo& op, std::span<const Type> in, const Attrs& attrs) {
  const Shape& s = attrs.get_ints("shape");
  const Shape& x = in[0].shape;
  bool ok = s.size() >= x.size();
  for (size_t i = 0; ok && i < s.size(); ++i) {
    ok = s[i] >= 0 || s[i] == kDyn;
    size_t off = s.size() - x.size();
    if (ok && i >= off) ok = x[i - off] == s[i] || x[i - off] == 1;
  }
  if (!ok)
    op_fail(op, ErrorKind::Shape, fmt::format("cannot expand {} to {}", to_string(in[0]), shape_string(s)));
  checked_numel(resolve(s, 1));
  return {in[0].dtype, s};
}

// slice {dim, start, stop, step}: elements start, start+step, ... below stop, with
// 0 <= start <= stop <= size and step >= 1 (the frontend clamps Python-style bounds).
Type infer_slice(const OpInfo& op, std::span<const Type> in, const Attrs& a) {
  const Type& t = in[0];
  int64_t dim = check_dim(op, "dim", a.get_int("dim"), t.rank(), t);
  int64_t start = a.get_int("start"), stop = a.get_int("stop"), step = a.get_int("step");
  int64_t size = t.shape[dim];
  if (size == kDyn) op_fail(op, ErrorKind::Shape, fmt::format("cannot slice the batch dim of {}", to_string(t)));
  if (step < 1 || start < 0 || start > stop || stop > size)
    op_fail(op, ErrorKind::InvalidArgument,
            fmt::format("bad slice start={} stop={} step={} of dim {} (size {}) of {}", start, stop,
                        step, dim, size, to_string(t)));
  Shape s = t.shape;
  s[dim] = stop > start ? (stop - start - 1) / step + 1 : 0;  // no overflow for a huge step
  return {t.dtype, s};
}

// pad {dim, start, step, size}: the transpose of slice. Element i of `dim` goes to
// start + i * step of a zero-filled dim of `size`.
Type infer_pad(const OpInfo& op, std::span<const Type> in, const Attrs& a) {
  const Type& t = in[0];
  int64_t dim = check_dim(op, "dim", a.get_int("dim"), t.rank(), t);
  int64_t start = a.get_int("start"), step = a.get_int("step"), size = a.get_int("size");
  int64_t n = t.shape[dim];
  if (n == kDyn) op_fail(op, ErrorKind::Shape, fmt::format("cannot pad the batch dim of {}", to_string(t)));
  int64_t last = 0;  // start + (n - 1) * step, checked
  bool overflow = n > 0 && (__builtin_mul_overflow(n - 1, step, &last) || __builtin_add_overflow(last, start, &last));
  if (step < 1 || start < 0 || size < 0 || overflow || (n > 0 && last >= size) || (n == 0 && start > size))
    op_fail(op, ErrorKind::InvalidArgument,
            fmt::format("pad start={} step={} size={} does not hold dim {} (size {}) of {}", start,
                        step, size, dim, n, to_string(t)));
  Shape s = t.shape;
  s[dim] = size;
  return {t.dtype, s};
}

Type infer_concat(const OpInfo& op, std::span<const Type> in, const Attrs& a) {
  DType t = same_dtype(op, in);
  int64_t dim = check_dim(op, "dim", a.get_int("dim"), in[0].rank(), in[0]);
  Shape s = in[0].shape;
  s[dim] = 0;
  for (const Type& x : in) {
    bool ok = x.rank() == in[0].rank() && x.shape[dim] != kDyn;
    for (int64_t i = 0; ok && i < x.rank(); ++i) ok = i == dim || x.shape[i] == in[0].shape[i];
    if (!ok)
      op_fail(op, ErrorKind::Shape,
              fmt::format("cannot concatenate {} along dim {}", types_list(in), dim));
    s[dim] += x.shape[dim];
  }
  return {t, s};
}

void need_index(const OpInfo& op, const Type& idx) {
  if (!is_int(idx.dtype))
    op_fail(op, ErrorKind::DType, fmt::format("the index must be i32 or i64, got {}", to_string(idx)));
}

Type infer_index_select(const OpInfo& op, std::span<const Type> in, const Attrs& a) {
  const Type &x = in[0], &idx = in[1];
  int64_t dim = check_dim(op, "dim", a.get_int("dim"), x.rank(), x);
  need_index(op, idx);
  if (idx.rank() != 1)
    op_fail(op, ErrorKind::Shape, fmt::format("the index must be 1-D, got {}", to_string(idx)));
  if (x.shape[dim] == kDyn) op_fail(op, ErrorKind::Shape, "cannot index the batch dim");
  Shape s = x.shape;
  s[dim] = idx.shape[0];
  return {x.dtype, s};
}

// gather(x, idx) {dim}: out[i...] = x[i... with i[dim] = idx[i...]]; idx has x's rank and is no
// larger than x on the other dims.
Type infer_gather(const OpInfo& op, std::span<const Type> in, const Attrs& a) {
  const Type &x = in[0], &idx = in[1];
  int64_t dim = check_dim(op, "dim", a.get_int("dim"), x.rank(), x);
  need_index(op, idx);
  bool ok = idx.rank() == x.rank();
  for (int64_t i = 0; ok && i < x.rank(); ++i)
    ok = i == dim || idx.shape[i] == x.shape[i] || (idx.shape[i] != kDyn && x.shape[i] != kDyn && idx.shape[i] <= x.shape[i]);
  if (!ok)
    op_fail(op, ErrorKind::Shape, fmt::format("index {} does not fit {} (dim {})", to_string(idx), to_string(x), dim));
  return {x.dtype, idx.shape};
}

// scatter_add(base, idx, src) {dim}: base with src[i...] added at i... with i[dim] = idx[i...].
Type infer_scatter_add(const OpInfo& op, std::span<const Type> in, const Attrs& a) {
  const Type &base = in[0], &idx = in[1], &src = in[2];
  int64_t dim = check_dim(op, "dim", a.get_int("dim"), base.rank(), base);
  need_index(op, idx);
  if (base.dtype != src.dtype)
    op_fail(op, ErrorKind::DType, fmt::format("base and src differ in dtype: {}", types_list(in)));
  bool ok = idx.rank() == base.rank() && src.rank() == base.rank();
  auto le = [](int64_t a, int64_t b) { return a == b || (a != kDyn && b != kDyn && a <= b); };
  for (int64_t i = 0; ok && i < base.rank(); ++i)
    ok = le(idx.shape[i], src.shape[i]) && (i == dim || le(idx.shape[i], base.shape[i]));
  if (!ok) op_fail(op, ErrorKind::Shape, fmt::format("shapes do not fit along dim {}: {}", dim, types_list(in)));
  return base;
}

// ---- reference kernels --------------------------------------------------------------------------

void copy_elem(const Tensor& dst, int64_t o, const Tensor& src, int64_t i) {
  int64_t w = dtype_size(src.dtype());
  std::memcpy(static_cast<char*>(dst.data()) + o * w, static_cast<char*>(src.data()) + i * w, w);
}

// Copies src into dst, reading src at `strides` (so views: reshape, permute, expand, slice).
void strided_copy(const Tensor& src, const Tensor& dst, const Shape& strides, int64_t base) {
  for (IndexWalker w(dst.shape(), {contiguous_strides(dst.shape()), strides}); !w.done(); w.next())
    copy_elem(dst, w.offset(0), src, base + w.offset(1));
}

int64_t checked_index(const Node& n, const Tensor& idx, int64_t i, int64_t size) {
  int64_t v = load_int(idx, i);
  if (v < 0 || v >= size)
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("op '{}': index {} is out of range for a dim of size {}",
                            op_info(n.op).name, v, size));
  return v;
}

void kernel(const Node& n, std::span<const Tensor> in, Tensor& out, const KernelCtx&) {
  const Tensor& x = in[0];
  Shape xs = contiguous_strides(x.shape());
  switch (n.op) {
    case OpId::Reshape:
      strided_copy(x, out, contiguous_strides(out.shape()), 0);
      return;
    case OpId::Permute: {
      Shape st;
      for (int64_t d : n.attrs.get_ints("perm")) st.push_back(xs[d]);
      strided_copy(x, out, st, 0);
      return;
    }
    case OpId::Expand:
      strided_copy(x, out, broadcast_strides(x.shape(), out.shape()), 0);
      return;
    case OpId::Slice: {
      int64_t dim = n.attrs.get_int("dim");
      Shape st = xs;
      st[dim] *= n.attrs.get_int("step");
      strided_copy(x, out, st, n.attrs.get_int("start") * xs[dim]);
      return;
    }
    case OpId::Pad: {
      std::memset(out.data(), 0, out.numel() * dtype_size(out.dtype()));
      int64_t dim = n.attrs.get_int("dim");
      Shape os = contiguous_strides(out.shape()), st = os;
      st[dim] *= n.attrs.get_int("step");
      int64_t base = n.attrs.get_int("start") * os[dim];
      for (IndexWalker w(x.shape(), {xs, st}); !w.done(); w.next())
        copy_elem(out, base + w.offset(1), x, w.offset(0));
      return;
    }
    case OpId::Concat: {
      int64_t dim = n.attrs.get_int("dim"), at = 0;
      Shape os = contiguous_strides(out.shape());
      for (const Tensor& t : in) {
        for (IndexWalker w(t.shape(), {contiguous_strides(t.shape()), os}); !w.done(); w.next())
          copy_elem(out, at * os[dim] + w.offset(1), t, w.offset(0));
        at += t.shape()[dim];
      }
      return;
    }
    case OpId::IndexSelect:
    case OpId::Gather: {
      // out[i...] = x[i... with i[dim] replaced by the index's entry]
      int64_t dim = n.attrs.get_int("dim");
      for (IndexWalker w(out.shape(), {contiguous_strides(out.shape())}); !w.done(); w.next()) {
        int64_t at = n.op == OpId::Gather ? w.offset(0) : w.index()[dim];
        int64_t j = checked_index(n, in[1], at, x.shape()[dim]), off = 0;
        for (int64_t i = 0; i < x.dim(); ++i) off += (i == dim ? j : w.index()[i]) * xs[i];
        copy_elem(out, w.offset(0), x, off);
      }
      return;
    }
    case OpId::ScatterAdd: {
      const Tensor &idx = in[1], &src = in[2];
      int64_t dim = n.attrs.get_int("dim");
      std::memcpy(out.data(), x.data(), out.numel() * dtype_size(out.dtype()));
      Shape ss = contiguous_strides(src.shape());
      bool fl = is_float(x.dtype());
      for (IndexWalker w(idx.shape(), {contiguous_strides(idx.shape()), ss}); !w.done(); w.next()) {
        int64_t j = checked_index(n, idx, w.offset(0), x.shape()[dim]), off = 0;
        for (int64_t i = 0; i < x.dim(); ++i) off += (i == dim ? j : w.index()[i]) * xs[i];
        if (fl)
          store_double(out, off, load_double(out, off) + load_double(src, w.offset(1)));
        else
          store_int(out, off, scalar::wrap_add(load_int(out, off), load_int(src, w.offset(1))));
      }
      return;
    }
    default: break;
  }
  __builtin_unreachable();
}

// ---- batching rules -----------------------------------------------------------------------------

Attrs shift_dim(const Attrs& a) {
  Attrs b = a;
  b.set("dim", a.get_int("dim") + 1);
  return b;
}

BValue batch(BatchCtx& ctx, const Node& n, std::span<const BValue> in) {
  Builder& b = ctx.b;
  Attrs a = n.attrs;
  switch (n.op) {
    case OpId::Reshape: case OpId::Expand: {
      ValueId x = in[0].id;
      if (n.op == OpId::Expand) x = ctx.align_rank(x, n.type.rank());
      Shape s = a.get_ints("shape");
      s.insert(s.begin(), ctx.batch);
      a.set("shape", s);
      return {b.op(n.op, {x}, a), true};
    }
    case OpId::Permute: {
      Shape p{0};
      for (int64_t d : a.get_ints("perm")) p.push_back(d + 1);
      a.set("perm", p);
      return {b.op(n.op, {in[0].id}, a), true};
    }
    case OpId::Slice: case OpId::Pad:
      return {b.op(n.op, {in[0].id}, shift_dim(a)), true};
    case OpId::IndexSelect: {
      if (!in[1].batched) return {b.op(n.op, {in[0].id, in[1].id}, shift_dim(a)), true};
      // A batched index: out[b, .., j, ..] = x[b, .., idx[b, j], ..], a gather with the index
      // broadcast over x's other dims.
      ValueId x = ctx.ensure_batched(in[0]);
      Shape xs = b.type(x).shape;
      int64_t dim = a.get_int("dim") + 1, k = b.type(in[1].id).shape[1];
      Shape r(xs.size(), 1), e = xs;
      r[0] = ctx.batch, r[dim] = k, e[dim] = k, e[0] = ctx.batch;
      ValueId idx = b.op(OpId::Reshape, {in[1].id}, {{"shape", r}});
      idx = b.op(OpId::Expand, {idx}, {{"shape", e}});
      return {b.op(OpId::Gather, {x, idx}, {{"dim", dim}}), true};
    }
    default: {  // concat, gather, scatter_add: every operand batched, dims shifted
      std::vector<ValueId> ops;
      for (const BValue& v : in) ops.push_back(ctx.ensure_batched(v));
      return {b.op(n.op, ops, shift_dim(a)), true};
    }
  }
}

}  // namespace

void register_layout_ops(OpRegistry& reg) {
  struct Spec {
    OpId id;
    InferFn infer;
    std::vector<AttrSpec> attrs;
    std::string_view sig;
    bool differentiable = true;
  };
  const Spec specs[] = {
      {OpId::Reshape, infer_reshape, {{"shape", AttrKind::Ints}}, "(x) {shape} -> y, same elements"},
      {OpId::Permute, infer_permute, {{"perm", AttrKind::Ints}}, "(x) {perm} -> y, y.dim[i] = x.dim[perm[i]]"},
      {OpId::Expand, infer_expand, {{"shape", AttrKind::Ints}}, "(x) {shape} -> y, broadcast"},
      {OpId::Slice, infer_slice, {{"dim", AttrKind::Int}, {"start", AttrKind::Int}, {"step", AttrKind::Int}, {"stop", AttrKind::Int}}, "(x) {dim, start, stop, step} -> y"},
      {OpId::Pad, infer_pad, {{"dim", AttrKind::Int}, {"size", AttrKind::Int}, {"start", AttrKind::Int}, {"step", AttrKind::Int}}, "(x) {dim, start, step, size} -> y, zero-filled"},
      {OpId::Concat, infer_concat, {{"dim", AttrKind::Int}}, "(x, ...) {dim} -> y"},
      {OpId::IndexSelect, infer_index_select, {{"dim", AttrKind::Int}}, "(x, index: int[n]) {dim} -> y"},
      {OpId::Gather, infer_gather, {{"dim", AttrKind::Int}}, "(x, index: int) {dim} -> y"},
      {OpId::ScatterAdd, infer_scatter_add, {{"dim", AttrKind::Int}}, "(base, index: int, src) {dim} -> y"},
  };
  for (const Spec& s : specs) {
    OpInfo& op = reg.op(s.id);
    op.infer = s.infer;
    op.attrs = s.attrs;
    op.signature = s.sig;
    op.kernel = kernel;
    op.batch = batch;
    op.differentiable = s.differentiable;
  }
}

}  // namespace jit::ir
