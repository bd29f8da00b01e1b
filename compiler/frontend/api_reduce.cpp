// frontend/api_reduce.cpp: the public reductions and normalisations. sum, prod, max, min,
// argmax and argmin are one node each; mean, var, logsumexp, softmax, log_softmax and
// layer_norm are composites of them.
#include <fmt/format.h>

#include <algorithm>

#include "frontend/dispatch.h"
#include "jit/ops.h"

namespace jit {
namespace {

using detail::apply;
using detail::describe;
using ir::OpId;

// Sorted, unique, non-negative dims; empty means all of them.
Dims reduce_dims(const char* op, const Tensor& x, const Dims& dims) {
  Dims out;
  if (dims.empty()) {
    for (int64_t d = 0; d < x.dim(); ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(detail::normalize_dim(op, d, x));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: a dim appears twice in {} for {}", op, detail::list_string(dims), describe(x)));
  if (x.dim() == 0) out.clear();  // dim 0 of a scalar is the scalar itself
  return out;
}

int64_t count(const Tensor& x, const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= x.shape()[d];
  return n;
}

Tensor reduce(OpId op, const Tensor& x, const Dims& dims, bool keepdim) {
  return apply(op, {x}, {{"dims", dims}, {"keepdim", int64_t(keepdim)}});
}

Tensor need_float(const char* op, const Tensor& x) {
  if (!is_float(x.dtype()))
    throw Error(ErrorKind::DType,
                fmt::format("{}: needs a floating-point tensor, got {}; cast it first", op, describe(x)));
  return x;
}

Tensor to_float(const Tensor& x) { return is_float(x.dtype()) ? x : cast(x, DType::f32); }

Tensor arg_extreme(OpId op, const char* name, const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  if (!dim) {
    // Over the flattened tensor; keepdim keeps every dim as size 1, as torch.
    Tensor r = apply(op, {reshape(x, {-1})}, {{"dim", int64_t(0)}, {"keepdim", int64_t(0)}});
    return keepdim ? reshape(r, Shape(x.dim(), 1)) : r;
  }
  int64_t d = detail::normalize_dim(name, *dim, x);
  if (x.dim() == 0) return apply(op, {reshape(x, {1})}, {{"dim", int64_t(0)}, {"keepdim", int64_t(0)}});
  return apply(op, {x}, {{"dim", d}, {"keepdim", int64_t(keepdim)}});
}

}  // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  Tensor in = is_float(x.dtype()) ? x : cast(x, DType::i64);
  return reduce(OpId::Sum, in, reduce_dims("sum", x, dims), keepdim);
}

Tensor prod(const Tensor& x, const Dims& dims, bool keepdim) {
  Tensor in = is_float(x.dtype()) ? x : cast(x, DType::i64);
  return reduce(OpId::Prod, in, reduce_dims("prod", x, dims), keepdim);
}

Tensor max(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce(OpId::Max, x, reduce_dims("max", x, dims), keepdim);
}

Tensor min(const Tensor& x, const Dims& dims, bool keepdim) {
  return reduce(OpId::Min, x, reduce_dims("min", x, dims), keepdim);
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  need_float("mean", x);
  Dims d = reduce_dims("mean", x, dims);
  return div(reduce(OpId::Sum, x, d, keepdim), Scalar(static_cast<double>(count(x, d))));
}

// sum((x - mean)^2) / max(0, n - correction), as torch.var.
Tensor var(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  need_float("var", x);
  Dims d = reduce_dims("var", x, dims);
  Tensor centred = sub(x, reduce(OpId::Sum, x, d, true) / Scalar(static_cast<double>(count(x, d))));
  Tensor ss = reduce(OpId::Sum, square(centred), d, keepdim);
  return div(ss, Scalar(static_cast<double>(std::max<int64_t>(0, count(x, d) - correction))));
}

// log(sum(exp(x - m))) + m with m the max, where an infinite max is replaced by 0 so that all
// -inf gives -inf and a +inf gives +inf, as torch.logsumexp.
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  Tensor xf = to_float(x);
  Dims d = reduce_dims("logsumexp", xf, dims);
  if (count(xf, d) == 0) return log(reduce(OpId::Sum, exp(xf), d, keepdim));
  // The shift cancels in the value, so no gradient flows through it.
  Tensor m = stop_gradient(reduce(OpId::Max, xf, d, true));
  m = where(isinf(m), Scalar(0.0), m);
  Tensor r = log(reduce(OpId::Sum, exp(sub(xf, m)), d, keepdim));
  return add(r, keepdim ? m : reshape(m, r.shape()));
}

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_extreme(OpId::Argmax, "argmax", x, dim, keepdim);
}

Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_extreme(OpId::Argmin, "argmin", x, dim, keepdim);
}

Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor xf = to_float(x);
  Dims d = reduce_dims("softmax", xf, {dim});
  if (count(xf, d) == 0) return xf;
  Tensor e = exp(sub(xf, stop_gradient(reduce(OpId::Max, xf, d, true))));
  return div(e, reduce(OpId::Sum, e, d, true));
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor xf = to_float(x);
  Dims d = reduce_dims("log_softmax", xf, {dim});
  if (count(xf, d) == 0) return xf;
  Tensor shifted = sub(xf, stop_gradient(reduce(OpId::Max, xf, d, true)));
  return sub(shifted, log(reduce(OpId::Sum, exp(shifted), d, true)));
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  int64_t k = static_cast<int64_t>(normalized_shape.size());
  bool ok = k <= x.dim() && k > 0;
  for (int64_t i = 0; ok && i < k; ++i) ok = x.shape()[x.dim() - k + i] == normalized_shape[i];
  if (!ok)
    throw Error(ErrorKind::Shape,
                fmt::format("layer_norm: normalized_shape {} does not match the trailing dims of {}",
                            detail::list_string(normalized_shape), describe(x)));
  for (const Tensor* p : {&weight, &bias})
    if (p->defined() && p->shape() != normalized_shape)
      throw Error(ErrorKind::Shape,
                  fmt::format("layer_norm: weight and bias must have shape {}, got {}",
                              detail::list_string(normalized_shape), describe(*p)));
  Tensor xf = need_float("layer_norm", x);
  Dims d;
  for (int64_t i = x.dim() - k; i < x.dim(); ++i) d.push_back(i);
  double n = static_cast<double>(count(xf, d));
  Tensor centred = sub(xf, reduce(OpId::Sum, xf, d, true) / Scalar(n));
  Tensor v = reduce(OpId::Sum, square(centred), d, true) / Scalar(n);
  Tensor y = mul(centred, rsqrt(add(v, Scalar(eps))));
  if (weight.defined()) y = mul(y, weight);
  if (bias.defined()) y = add(y, bias);
  return y;
}

}  // namespace jit
