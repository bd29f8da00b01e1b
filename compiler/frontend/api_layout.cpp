// frontend/api_layout.cpp: the public layout ops. reshape, permute, expand, slice, concat,
// index_select and gather are one node each (or none when nothing changes); transpose, movedim,
// squeeze, unsqueeze, flatten, narrow and stack are built on them.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "frontend/dispatch.h"
#include "frontend/promotion.h"
#include "jit/ops.h"

namespace jit {
namespace {

using detail::apply;
using detail::describe;
using detail::normalize_dim;
using ir::OpId;

[[noreturn]] void fail(ErrorKind k, const std::string& msg) { throw Error(k, msg); }

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape s = shape;
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) fail(ErrorKind::Shape, fmt::format("reshape: only one dim may be -1 in {}", detail::list_string(shape)));
      infer = static_cast<int64_t>(i);
    } else if (s[i] < 0) {
      fail(ErrorKind::Shape, fmt::format("reshape: bad dim {} in {}", s[i], detail::list_string(shape)));
    } else if (__builtin_mul_overflow(known, s[i], &known)) {
      fail(ErrorKind::Shape, fmt::format("reshape: {} has too many elements", detail::list_string(shape)));
    }
  }
  int64_t n = x.numel();
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      fail(ErrorKind::Shape, fmt::format("reshape: cannot reshape {} to {}", describe(x), detail::list_string(shape)));
    s[infer] = n / known;
  } else if (known != n) {
    fail(ErrorKind::Shape, fmt::format("reshape: cannot reshape {} ({} elements) to {} ({} elements)",
                                       describe(x), n, detail::list_string(shape), known));
  }
  if (s == x.shape()) return x;
  return apply(OpId::Reshape, {x}, {{"shape", s}});
}

Tensor permute(const Tensor& x, const Dims& dims) {
  if (static_cast<int64_t>(dims.size()) != x.dim())
    fail(ErrorKind::InvalidArgument,
         fmt::format("permute: {} dims given for {}", dims.size(), describe(x)));
  Dims p;
  for (int64_t d : dims) p.push_back(normalize_dim("permute", d, x));
  Dims iota(p.size());
  std::iota(iota.begin(), iota.end(), 0);
  if (p == iota) return x;
  return apply(OpId::Permute, {x}, {{"perm", p}});
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  int64_t a = normalize_dim("transpose", d0, x), b = normalize_dim("transpose", d1, x);
  if (x.dim() == 0) return x;
  Dims p(x.dim());
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[a], p[b]);
  return permute(x, p);
}

Tensor movedim(const Tensor& x, int64_t src, int64_t dst) {
  int64_t s = normalize_dim("movedim", src, x), d = normalize_dim("movedim", dst, x);
  if (x.dim() == 0) return x;
  Dims p;
  for (int64_t i = 0; i < x.dim(); ++i)
    if (i != s) p.push_back(i);
  p.insert(p.begin() + d, s);
  return permute(x, p);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  if (shape.size() < static_cast<size_t>(x.dim()))
    fail(ErrorKind::Shape, fmt::format("expand: cannot expand {} to fewer dims {}", describe(x), detail::list_string(shape)));
  Shape s = shape;
  size_t off = s.size() - x.dim();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (i < off) fail(ErrorKind::Shape, fmt::format("expand: -1 is not allowed for the new leading dim {} in {}", i, detail::list_string(shape)));
      s[i] = x.shape()[i - off];
    }
  }
  if (s == x.shape()) return x;
  return apply(OpId::Expand, {x}, {{"shape", s}});
}

Tensor squeeze(const Tensor& x) {
  Shape s;
  for (int64_t d : x.shape())
    if (d != 1) s.push_back(d);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int64_t d = normalize_dim("squeeze", dim, x);
  if (x.dim() == 0 || x.shape()[d] != 1) return x;
  Shape s = x.shape();
  s.erase(s.begin() + d);
  return reshape(x, s);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = normalize_dim("unsqueeze", dim, x, /*allow_end=*/true);
  Shape s = x.shape();
  s.insert(s.begin() + d, 1);
  return reshape(x, s);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  int64_t a = normalize_dim("flatten", start_dim, x), b = normalize_dim("flatten", end_dim, x);
  if (x.dim() == 0) return reshape(x, {1});
  if (a > b) fail(ErrorKind::InvalidArgument, fmt::format("flatten: start_dim {} comes after end_dim {} for {}", start_dim, end_dim, describe(x)));
  Shape s(x.shape().begin(), x.shape().begin() + a);
  int64_t n = 1;
  for (int64_t i = a; i <= b; ++i) n *= x.shape()[i];
  s.push_back(n);
  s.insert(s.end(), x.shape().begin() + b + 1, x.shape().end());
  return reshape(x, s);
}

// Python slice semantics: bounds clamp into the dim; the step must be positive.
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop,
             int64_t step) {
  int64_t d = normalize_dim("slice", dim, x);
  if (x.dim() == 0) fail(ErrorKind::InvalidArgument, "slice: cannot slice a scalar");
  if (step < 1) fail(ErrorKind::InvalidArgument, fmt::format("slice: step must be positive, got {}", step));
  int64_t n = x.shape()[d];
  auto clampi = [n](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
  int64_t a = start ? clampi(*start) : 0, b = stop ? clampi(*stop) : n;
  b = std::max(a, b);
  if (a == 0 && b == n && step == 1) return x;
  return apply(OpId::Slice, {x}, {{"dim", d}, {"start", a}, {"stop", b}, {"step", step}});
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  int64_t d = normalize_dim("narrow", dim, x);
  int64_t n = x.dim() ? x.shape()[d] : 0;
  int64_t s = start < 0 ? start + n : start;
  if (s < 0 || length < 0 || s > n || length > n - s)
    fail(ErrorKind::InvalidArgument,
         fmt::format("narrow: start {} and length {} do not fit dim {} (size {}) of {}", start,
                     length, d, n, describe(x)));
  return slice(x, d, s, s + length, 1);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  int64_t d = normalize_dim("select", dim, x);
  if (x.dim() == 0) fail(ErrorKind::InvalidArgument, "select: cannot select from a scalar");
  int64_t n = x.shape()[d];
  if (index < -n || index >= n)
    fail(ErrorKind::InvalidArgument,
         fmt::format("select: index {} is out of range for dim {} (size {}) of {}", index, d, n, describe(x)));
  int64_t i = index < 0 ? index + n : index;
  return squeeze(slice(x, d, i, i + 1, 1), d);
}

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  int64_t d = normalize_dim("unbind", dim, x);
  if (x.dim() == 0) fail(ErrorKind::InvalidArgument, fmt::format("unbind: cannot unbind {}: it has no dims", describe(x)));
  std::vector<Tensor> out;
  for (int64_t i = 0; i < x.shape()[d]; ++i) out.push_back(select(x, d, i));
  return out;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  int64_t d = normalize_dim("index_select", dim, x);
  if (index.dim() > 1)
    fail(ErrorKind::Shape, fmt::format("index_select: the index must be 0-D or 1-D, got {}", describe(index)));
  Tensor xi = x.dim() == 0 ? reshape(x, {1}) : x;
  Tensor r = apply(OpId::IndexSelect, {xi, index.dim() == 0 ? reshape(index, {1}) : index}, {{"dim", d}});
  return x.dim() == 0 ? reshape(r, {}) : r;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  int64_t d = normalize_dim("gather", dim, x);
  if (index.dim() != x.dim())
    fail(ErrorKind::Shape, fmt::format("gather: index {} must have the rank of {}", describe(index), describe(x)));
  if (x.dim() == 0) return apply(OpId::Gather, {reshape(x, {1}), reshape(index, {1})}, {{"dim", int64_t(0)}}).reshape({});
  return apply(OpId::Gather, {x, index}, {{"dim", d}});
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail(ErrorKind::InvalidArgument, "concat: needs at least one tensor");
  for (const Tensor& t : xs)
    if (t.dim() == 0) fail(ErrorKind::Shape, "concat: zero-dimensional tensors cannot be concatenated");
  std::vector<detail::Arg> args(xs.begin(), xs.end());
  DType t = detail::result_type(args);
  int64_t d = normalize_dim("concat", dim, xs[0]);
  std::vector<Tensor> ops;
  for (const Tensor& x : xs) ops.push_back(cast(x, t));
  if (ops.size() == 1) return ops[0];
  return apply(OpId::Concat, ops, {{"dim", d}});
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail(ErrorKind::InvalidArgument, "stack: needs at least one tensor");
  int64_t d = normalize_dim("stack", dim, xs[0], /*allow_end=*/true);
  std::vector<Tensor> parts;
  for (const Tensor& x : xs) {
    if (x.shape() != xs[0].shape())
      fail(ErrorKind::Shape, fmt::format("stack: all tensors must have one shape, got {} and {}", describe(xs[0]), describe(x)));
    parts.push_back(unsqueeze(x, d));
  }
  return concat(parts, d);
}

}  // namespace jit
