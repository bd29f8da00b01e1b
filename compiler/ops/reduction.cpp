// ops/reduction.cpp: the reduction family: sum, prod, max, min over a sorted list of dims
// (keepdim), and argmax / argmin along one dim. mean, var and logsumexp are composites
// (compiler/frontend).
#include <cmath>
#include <limits>

#include "ops/family.h"
#include "ops/scalar_math.h"
#include "transforms/batching.h"

namespace jit::ir {
namespace {

bool is_arg(OpId id) { return id == OpId::Argmax || id == OpId::Argmin; }

// The dims an op reduces: `dims` (sorted, unique, in range) or the one `dim` of argmax/argmin.
Shape reduced_dims(const OpInfo& op, const Type& t, const Attrs& attrs) {
  if (is_arg(op.id)) return {check_dim(op, "dim", attrs.get_int("dim"), t.rank(), t)};
  const Shape& dims = attrs.get_ints("dims");
  for (size_t i = 0; i < dims.size(); ++i) {
    check_dim(op, "dims", dims[i], t.rank(), t);
    if (i && dims[i] <= dims[i - 1])
      op_fail(op, ErrorKind::InvalidArgument,
              fmt::format("dims {} must be sorted and unique", shape_string(dims)));
  }
  return dims;
}

Shape reduced_shape(const Shape& in, const Shape& dims, bool keepdim) {
  Shape out;
  for (size_t i = 0, k = 0; i < in.size(); ++i) {
    bool r = k < dims.size() && dims[k] == static_cast<int64_t>(i);
    if (r) ++k;
    if (!r) out.push_back(in[i]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

Type infer(const OpInfo& op, std::span<const Type> in, const Attrs& attrs) {
  const Type& t = in[0];
  Shape dims = reduced_dims(op, t, attrs);
  if ((op.id == OpId::Sum || op.id == OpId::Prod) && t.dtype == DType::b8)
    op_fail(op, ErrorKind::DType, fmt::format("needs a numeric operand, got {}", to_string(t)));
  if (op.id != OpId::Sum && op.id != OpId::Prod)
    for (int64_t d : dims)
      if (t.shape[d] == 0)
        op_fail(op, ErrorKind::Shape,
                fmt::format("cannot reduce over dim {} of {}: it has size 0 and there is no "
                            "identity for {}", d, to_string(t), op.name));
  return {is_arg(op.id) ? DType::i64 : t.dtype, reduced_shape(t.shape, dims, attrs.get_int("keepdim"))};
}

// Visits every input element with the offset of the output element it reduces into.
template <class F>
void walk(const Tensor& x, const Shape& dims, F&& f) {
  Shape kept = reduced_shape(x.shape(), dims, true);
  Shape out_strides = contiguous_strides(kept);
  for (int64_t d : dims) out_strides[d] = 0;
  for (IndexWalker w(x.shape(), {contiguous_strides(x.shape()), out_strides}); !w.done(); w.next())
    f(w.offset(1), w.offset(0), w.index());
}

void kernel(const Node& n, std::span<const Tensor> in, Tensor& out, const KernelCtx&) {
  const Tensor& x = in[0];
  const OpInfo& op = op_info(n.op);
  Shape dims = reduced_dims(op, Type{x.dtype(), x.shape()}, n.attrs);
  int64_t m = out.numel();
  bool fl = is_float(x.dtype());
  if (is_arg(n.op)) {
    // The first extreme along dim; a NaN counts as the extreme, as in torch.
    // Integers compare as int64: int64 values beyond 2^53 are not exact in a double.
    bool mx = n.op == OpId::Argmax;
    std::vector<double> best(m);
    std::vector<int64_t> ibest(m), arg(m, -1);
    walk(x, dims, [&](int64_t o, int64_t i, const Shape& idx) {
      bool take;
      if (fl) {
        double v = load_double(x, i);
        take = arg[o] < 0 ||
               (!std::isnan(best[o]) && (std::isnan(v) || (mx ? v > best[o] : v < best[o])));
        if (take) best[o] = v;
      } else {
        int64_t v = load_int(x, i);
        take = arg[o] < 0 || (mx ? v > ibest[o] : v < ibest[o]);
        if (take) ibest[o] = v;
      }
      if (take) arg[o] = idx[dims[0]];
    });
    for (int64_t o = 0; o < m; ++o) store_int(out, o, arg[o]);
    return;
  }
  if (fl) {
    double init = n.op == OpId::Sum ? 0 : n.op == OpId::Prod ? 1
                : n.op == OpId::Max ? -INFINITY : INFINITY;
    std::vector<double> acc(m, init);
    walk(x, dims, [&](int64_t o, int64_t i, const Shape&) {
      double v = load_double(x, i);
      switch (n.op) {
        case OpId::Sum: acc[o] += v; break;
        case OpId::Prod: acc[o] *= v; break;
        case OpId::Max: acc[o] = scalar::maximum(acc[o], v); break;
        default: acc[o] = scalar::minimum(acc[o], v); break;
      }
    });
    for (int64_t o = 0; o < m; ++o) store_double(out, o, acc[o]);
  } else {
    int64_t init = n.op == OpId::Sum ? 0 : n.op == OpId::Prod ? 1
                 : n.op == OpId::Max ? std::numeric_limits<int64_t>::min()
                                     : std::numeric_limits<int64_t>::max();
    std::vector<int64_t> acc(m, init);
    walk(x, dims, [&](int64_t o, int64_t i, const Shape&) {
      int64_t v = load_int(x, i);
      switch (n.op) {
        case OpId::Sum: acc[o] = scalar::wrap_add(acc[o], v); break;
        case OpId::Prod: acc[o] = scalar::wrap_mul(acc[o], v); break;
        case OpId::Max: acc[o] = std::max(acc[o], v); break;
        default: acc[o] = std::min(acc[o], v); break;
      }
    });
    for (int64_t o = 0; o < m; ++o) store_int(out, o, acc[o]);
  }
}

// The batch dim is never reduced: every reduced dim moves one to the right.
BValue batch(BatchCtx& ctx, const Node& n, std::span<const BValue> in) {
  Attrs a = n.attrs;
  if (is_arg(n.op)) {
    a.set("dim", a.get_int("dim") + 1);
  } else {
    Shape dims = a.get_ints("dims");
    for (int64_t& d : dims) ++d;
    a.set("dims", dims);
  }
  return {ctx.b.op(n.op, {in[0].id}, a), true};
}

}  // namespace

void register_reduction_ops(OpRegistry& reg) {
  for (OpId id : {OpId::Sum, OpId::Prod, OpId::Max, OpId::Min, OpId::Argmax, OpId::Argmin}) {
    OpInfo& op = reg.op(id);
    op.infer = infer;
    op.kernel = kernel;
    op.batch = batch;
    if (is_arg(id)) {
      op.attrs = {{"dim", AttrKind::Int}, {"keepdim", AttrKind::Int}};
      op.signature = "(x) {dim, keepdim} -> i64";
      op.differentiable = false;
    } else {
      op.attrs = {{"dims", AttrKind::Ints}, {"keepdim", AttrKind::Int}};
      op.signature = "(x) {dims: sorted, keepdim} -> y";
    }
  }
}

}  // namespace jit::ir
