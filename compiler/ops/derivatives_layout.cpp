// ops/derivatives_layout.cpp: derivatives of the layout family. Each op is linear, so its VJP
// is its transpose (reshape back, the inverse permute, a sum over expanded dims, pad for slice
// and slice for pad, slices of a concat, scatter_add for the gathers) and its JVP is the op
// itself applied to the tangent.
#include "ops/derivatives.h"

namespace jit::ir {
namespace {

using T = Tensor;

// The op applied again to other operands (the JVP of a linear op).
T same_op(const Node& n, std::initializer_list<T> operands) { return detail::apply(n.op, operands, n.attrs); }

// The gathers' transpose: cotangents added into zeros at the indexed places.
T scatter(const T& like, int64_t dim, const T& index, const T& src) {
  return prim(OpId::ScatterAdd, {zeros_like_sym(like), index, src}, {{"dim", dim}});
}

// index_select's index, broadcast to the cotangent's shape for scatter_add.
T spread_index(const T& index, int64_t dim, const Shape& shape) {
  Shape s(shape.size(), 1);
  s[dim] = index.shape()[0];
  return jit::expand(jit::reshape(index, s), shape);
}

void vjp_layout(const Node& n, std::span<const T> x, const T&, const T& gy, std::span<T> gx) {
  switch (n.op) {
    case OpId::Reshape: gx[0] = jit::reshape(gy, x[0].shape()); return;
    case OpId::Permute: {
      const Shape& p = n.attrs.get_ints("perm");
      Dims inv(p.size());
      for (size_t i = 0; i < p.size(); ++i) inv[p[i]] = static_cast<int64_t>(i);
      gx[0] = jit::permute(gy, inv);
      return;
    }
    case OpId::Expand: gx[0] = sum_to(gy, x[0].shape()); return;
    case OpId::Slice: {
      int64_t d = n.attrs.get_int("dim");
      gx[0] = prim(OpId::Pad, {gy}, {{"dim", d}, {"start", n.attrs.get_int("start")},
                                     {"step", n.attrs.get_int("step")}, {"size", x[0].shape()[d]}});
      return;
    }
    case OpId::Pad: {
      int64_t d = n.attrs.get_int("dim"), start = n.attrs.get_int("start"), step = n.attrs.get_int("step");
      int64_t len = x[0].shape()[d];
      gx[0] = prim(OpId::Slice, {gy}, {{"dim", d}, {"start", start},
                                       {"stop", len ? start + (len - 1) * step + 1 : start}, {"step", step}});
      return;
    }
    case OpId::Concat: {
      int64_t d = n.attrs.get_int("dim"), at = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        int64_t len = x[i].shape()[d];
        gx[i] = prim(OpId::Slice, {gy}, {{"dim", d}, {"start", at}, {"stop", at + len}, {"step", int64_t(1)}});
        at += len;
      }
      return;
    }
    case OpId::IndexSelect: {
      int64_t d = n.attrs.get_int("dim");
      gx[0] = scatter(x[0], d, spread_index(x[1], d, gy.shape()), gy);
      return;
    }
    case OpId::Gather: gx[0] = scatter(x[0], n.attrs.get_int("dim"), x[1], gy); return;
    case OpId::ScatterAdd:
      gx[0] = gy;
      gx[2] = prim(OpId::Gather, {gy, x[1]}, {{"dim", n.attrs.get_int("dim")}});
      return;
    default: break;
  }
}

T jvp_layout(const Node& n, std::span<const T> x, const T& y, std::span<const T> tx) {
  switch (n.op) {
    case OpId::IndexSelect: case OpId::Gather: return same_op(n, {tx[0], x[1]});
    case OpId::ScatterAdd: {
      T base = tx[0].defined() ? tx[0] : zeros_like_sym(x[0]);
      T src = tx[2].defined() ? tx[2] : zeros_like_sym(x[2]);
      return same_op(n, {base, x[1], src});
    }
    case OpId::Concat: {
      std::vector<T> parts;
      for (size_t i = 0; i < x.size(); ++i) parts.push_back(tx[i].defined() ? tx[i] : zeros_like_sym(x[i]));
      return detail::apply(n.op, parts, n.attrs);
    }
    default: return tx[0].defined() ? same_op(n, {tx[0]}) : zeros_like_sym(y);
  }
}

}  // namespace

void register_layout_derivatives(OpRegistry& reg) {
  for (OpId id : {OpId::Reshape, OpId::Permute, OpId::Expand, OpId::Slice, OpId::Pad, OpId::Concat,
                  OpId::IndexSelect, OpId::Gather, OpId::ScatterAdd}) {
    reg.op(id).vjp = vjp_layout;
    reg.op(id).jvp = jvp_layout;
  }
}

}  // namespace jit::ir
