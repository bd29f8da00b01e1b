// ops/contraction.cpp: dot_general, the one contraction primitive (as XLA's): batch dims paired
// between the operands, contracted dims summed over, the rest free. The result's dims are
// [batch..., lhs free..., rhs free...]. dot, mv, mm, matmul and outer are built on it.
#include <algorithm>

#include "ops/family.h"
#include "ops/scalar_math.h"
#include "transforms/batching.h"

namespace jit::ir {
namespace {

struct Dims {
  Shape bl, br, cl, cr;  // batch and contracting dims of lhs and rhs
  Shape fl, fr;          // free dims, in order
};

Shape free_dims(int64_t rank, const Shape& a, const Shape& b) {
  Shape f;
  for (int64_t i = 0; i < rank; ++i)
    if (std::find(a.begin(), a.end(), i) == a.end() && std::find(b.begin(), b.end(), i) == b.end())
      f.push_back(i);
  return f;
}

Dims dims_of(const Attrs& a, int64_t rl, int64_t rr) {
  Dims d{a.get_ints("batch_lhs"), a.get_ints("batch_rhs"), a.get_ints("contract_lhs"),
         a.get_ints("contract_rhs"), {}, {}};
  d.fl = free_dims(rl, d.bl, d.cl);
  d.fr = free_dims(rr, d.br, d.cr);
  return d;
}

Type infer(const OpInfo& op, std::span<const Type> in, const Attrs& attrs) {
  const Type &l = in[0], &r = in[1];
  DType t = same_dtype(op, in);
  if (t == DType::b8) op_fail(op, ErrorKind::DType, fmt::format("needs numeric operands, got {}", types_list(in)));
  Dims d = dims_of(attrs, l.rank(), r.rank());
  auto check_pairs = [&](const Shape& a, const Shape& b, const char* what) {
    if (a.size() != b.size())
      op_fail(op, ErrorKind::InvalidArgument,
              fmt::format("{} dims {} and {} differ in number", what, shape_string(a), shape_string(b)));
    for (size_t i = 0; i < a.size(); ++i) {
      check_dim(op, what, a[i], l.rank(), l);
      check_dim(op, what, b[i], r.rank(), r);
      if (l.shape[a[i]] != r.shape[b[i]])
        op_fail(op, ErrorKind::Shape,
                fmt::format("{} dim {} of {} has size {} but dim {} of {} has size {}", what, a[i],
                            to_string(l), l.shape[a[i]], b[i], to_string(r), r.shape[b[i]]));
    }
  };
  check_pairs(d.bl, d.br, "batch");
  check_pairs(d.cl, d.cr, "contracting");
  auto unique = [&](const Type& x, const Shape& a, const Shape& b) {
    if (a.size() + b.size() + free_dims(x.rank(), a, b).size() != static_cast<size_t>(x.rank()))
      op_fail(op, ErrorKind::InvalidArgument,
              fmt::format("a dim of {} is listed twice among batch {} and contracting {}",
                          to_string(x), shape_string(a), shape_string(b)));
  };
  unique(l, d.bl, d.cl);
  unique(r, d.br, d.cr);
  Shape s;
  for (int64_t i : d.bl) s.push_back(l.shape[i]);
  for (int64_t i : d.fl) s.push_back(l.shape[i]);
  for (int64_t i : d.fr) s.push_back(r.shape[i]);
  return {t, s};
}

void kernel(const Node& n, std::span<const Tensor> in, Tensor& out, const KernelCtx&) {
  const Tensor &l = in[0], &r = in[1];
  Dims d = dims_of(n.attrs, l.dim(), r.dim());
  Shape sl = contiguous_strides(l.shape()), sr = contiguous_strides(r.shape());
  // Strides of the output index space into each operand.
  Shape ol, orr;
  for (size_t i = 0; i < d.bl.size(); ++i) ol.push_back(sl[d.bl[i]]), orr.push_back(sr[d.br[i]]);
  for (int64_t i : d.fl) ol.push_back(sl[i]), orr.push_back(0);
  for (int64_t i : d.fr) ol.push_back(0), orr.push_back(sr[i]);
  // The contracted index space.
  Shape cshape, cl, cr;
  for (size_t i = 0; i < d.cl.size(); ++i)
    cshape.push_back(l.shape()[d.cl[i]]), cl.push_back(sl[d.cl[i]]), cr.push_back(sr[d.cr[i]]);
  bool fl = is_float(l.dtype());
  for (IndexWalker w(out.shape(), {contiguous_strides(out.shape()), ol, orr}); !w.done(); w.next()) {
    double acc = 0;
    int64_t iacc = 0;
    for (IndexWalker c(cshape, {cl, cr}); !c.done(); c.next()) {
      int64_t a = w.offset(1) + c.offset(0), b = w.offset(2) + c.offset(1);
      if (fl)
        acc += load_double(l, a) * load_double(r, b);
      else
        iacc = scalar::wrap_add(iacc, scalar::wrap_mul(load_int(l, a), load_int(r, b)));
    }
    fl ? store_double(out, w.offset(0), acc) : store_int(out, w.offset(0), iacc);
  }
}

Shape shifted(Shape s) {
  for (int64_t& x : s) ++x;
  return s;
}

// One operand batched: its batch dim becomes a free dim, moved to the front of the result.
// Both batched: the batch dims pair up as a new leading batch dim. A per-sample matrix-vector
// product against an unbatched matrix thus becomes one matrix-matrix product.
BValue batch(BatchCtx& ctx, const Node& n, std::span<const BValue> in) {
  const Function& f = ctx.src;
  Dims d = dims_of(n.attrs, f.type(n.operands[0]).rank(), f.type(n.operands[1]).rank());
  Attrs a = n.attrs;
  if (in[0].batched && in[1].batched) {
    Shape bl = shifted(d.bl), br = shifted(d.br);
    bl.insert(bl.begin(), 0);
    br.insert(br.begin(), 0);
    a.set("batch_lhs", bl).set("batch_rhs", br);
    a.set("contract_lhs", shifted(d.cl)).set("contract_rhs", shifted(d.cr));
    return {ctx.b.op(OpId::DotGeneral, {in[0].id, in[1].id}, a), true};
  }
  int64_t pos;
  if (in[0].batched) {
    a.set("batch_lhs", shifted(d.bl)).set("contract_lhs", shifted(d.cl));
    pos = static_cast<int64_t>(d.bl.size());
  } else {
    a.set("batch_rhs", shifted(d.br)).set("contract_rhs", shifted(d.cr));
    pos = static_cast<int64_t>(d.bl.size() + d.fl.size());
  }
  ValueId v = ctx.b.op(OpId::DotGeneral, {in[0].id, in[1].id}, a);
  return {ctx.move_dim(v, pos, 0), true};
}

}  // namespace

void register_contraction_ops(OpRegistry& reg) {
  OpInfo& op = reg.op(OpId::DotGeneral);
  op.attrs = {{"batch_lhs", AttrKind::Ints}, {"batch_rhs", AttrKind::Ints},
              {"contract_lhs", AttrKind::Ints}, {"contract_rhs", AttrKind::Ints}};
  op.signature = "(lhs, rhs) {batch_lhs, batch_rhs, contract_lhs, contract_rhs} -> [batch, lhs free, rhs free]";
  op.infer = infer;
  op.kernel = kernel;
  op.batch = batch;
}

}  // namespace jit::ir
