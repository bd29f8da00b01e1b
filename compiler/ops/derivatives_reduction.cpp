// ops/derivatives_reduction.cpp: derivatives of reductions and of dot_general. A reduction's
// cotangent is broadcast back over the reduced dims (max and min share it among ties, prod
// divides out each element without dividing by zero); dot_general's cotangents are
// dot_generals of the cotangent with the other operand, permuted back to the operand's dims.
#include <algorithm>

#include "ops/derivatives.h"

namespace jit::ir {
namespace {

using T = Tensor;

// The result with its reduced dims kept (size 1), as it lines up with the operand.
T kept(const Node& n, const T& x, const T& y) {
  Shape s = x.shape();
  for (int64_t d : n.attrs.get_ints("dims")) s[d] = 1;
  return jit::reshape(y, s);
}

// dy/dx of prod, without dividing by zero: with no zero in the slice, y / x; with one zero,
// the product of the others at the zero; with more, 0.
T prod_local(const Node& n, const T& x, const T& y) {
  const Dims& dims = n.attrs.get_ints("dims");
  T zero = jit::eq(x, 0.0);
  T zeros = jit::sum(jit::cast(zero, x.dtype()), dims, true);
  T others = jit::prod(jit::where(zero, 1.0, x), dims, true);
  return jit::where(jit::eq(zeros, 0.0), kept(n, x, y) / x,
                    jit::where(jit::logical_and(jit::eq(zeros, 1.0), zero), others, 0.0));
}

// dy/dx of max and min: 1 / (number of ties) at the extremes, 0 elsewhere.
T extreme_local(const Node& n, const T& x, const T& y) {
  T at = jit::cast(jit::eq(x, kept(n, x, y)), x.dtype());
  return at / jit::sum(at, n.attrs.get_ints("dims"), true);
}

T local(const Node& n, const T& x, const T& y) {
  return n.op == OpId::Prod ? prod_local(n, x, y) : extreme_local(n, x, y);
}

void vjp_reduce(const Node& n, std::span<const T> x, const T& y, const T& gy, std::span<T> gx) {
  T g = jit::expand(kept(n, x[0], gy), x[0].shape());
  gx[0] = n.op == OpId::Sum ? g : g * local(n, x[0], y);
}

T jvp_reduce(const Node& n, std::span<const T> x, const T& y, std::span<const T> tx) {
  T t = n.op == OpId::Sum ? tx[0] : tx[0] * local(n, x[0], y);
  return jit::reshape(jit::sum(t, n.attrs.get_ints("dims"), true), y.shape());
}

// ---- dot_general ----------------------------------------------------------------------------------

Dims free_dims(int64_t rank, const Dims& a, const Dims& b) {
  Dims f;
  for (int64_t d = 0; d < rank; ++d)
    if (std::find(a.begin(), a.end(), d) == a.end() && std::find(b.begin(), b.end(), d) == b.end())
      f.push_back(d);
  return f;
}

T dot_general(const T& a, const T& b, Dims bl, Dims br, Dims cl, Dims cr) {
  return prim(OpId::DotGeneral, {a, b},
              {{"batch_lhs", bl}, {"batch_rhs", br}, {"contract_lhs", cl}, {"contract_rhs", cr}});
}

// The cotangent of one operand (`self`, with batch dims sb, contracting dims sc and free dims sf)
// from g and the other operand (ob, oc, of). g's dims: [batch, lhs free, rhs free]; self's free
// dims sit at `self_free_at` in g, the other's at `other_free_at`.
T operand_cotangent(const T& g, const T& other, const Dims& sb, const Dims& sc, const Dims& sf,
                    const Dims& ob, const Dims& oc, const Dims& of, int64_t other_free_at,
                    int64_t self_rank) {
  int64_t nb = static_cast<int64_t>(sb.size());
  Dims gb, gc;
  for (int64_t i = 0; i < nb; ++i) gb.push_back(i);
  for (size_t i = 0; i < of.size(); ++i) gc.push_back(other_free_at + static_cast<int64_t>(i));
  // [batch, self free, the other's remaining (contracting) dims in increasing order]
  T r = dot_general(g, other, gb, ob, gc, of);
  Dims rest = oc;
  std::sort(rest.begin(), rest.end());
  Dims at(self_rank);  // self dim -> position in r
  for (int64_t i = 0; i < nb; ++i) at[sb[i]] = i;
  for (size_t j = 0; j < sf.size(); ++j) at[sf[j]] = nb + static_cast<int64_t>(j);
  for (size_t k = 0; k < rest.size(); ++k) {
    size_t pos = std::find(oc.begin(), oc.end(), rest[k]) - oc.begin();
    at[sc[pos]] = nb + static_cast<int64_t>(sf.size() + k);
  }
  return jit::permute(r, at);
}

void vjp_dot(const Node& n, std::span<const T> x, const T&, const T& gy, std::span<T> gx) {
  const Dims &bl = n.attrs.get_ints("batch_lhs"), &br = n.attrs.get_ints("batch_rhs");
  const Dims &cl = n.attrs.get_ints("contract_lhs"), &cr = n.attrs.get_ints("contract_rhs");
  Dims fl = free_dims(x[0].dim(), bl, cl), fr = free_dims(x[1].dim(), br, cr);
  int64_t nb = static_cast<int64_t>(bl.size()), nfl = static_cast<int64_t>(fl.size());
  gx[0] = operand_cotangent(gy, x[1], bl, cl, fl, br, cr, fr, nb + nfl, x[0].dim());
  gx[1] = operand_cotangent(gy, x[0], br, cr, fr, bl, cl, fl, nb, x[1].dim());
}

T jvp_dot(const Node& n, std::span<const T> x, const T&, std::span<const T> tx) {
  auto dot = [&](const T& a, const T& b) { return detail::apply(OpId::DotGeneral, {a, b}, n.attrs); };
  T r;
  if (tx[0].defined()) r = dot(tx[0], x[1]);
  if (tx[1].defined()) r = r.defined() ? r + dot(x[0], tx[1]) : dot(x[0], tx[1]);
  return r;
}

}  // namespace

void register_reduction_derivatives(OpRegistry& reg) {
  for (OpId id : {OpId::Sum, OpId::Prod, OpId::Max, OpId::Min}) {
    reg.op(id).vjp = vjp_reduce;
    reg.op(id).jvp = jvp_reduce;
  }
  reg.op(OpId::DotGeneral).vjp = vjp_dot;
  reg.op(OpId::DotGeneral).jvp = jvp_dot;
}

}  // namespace jit::ir
