// frontend/tensor.cpp: concrete tensors: storage, element access, factories, printing.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include "frontend/buffer_cache.h"
#include "frontend/dispatch.h"
#include "ir/types.h"
#include "jit/ops.h"
#include "ops/family.h"
#include "ops/philox.h"
#include "trace/trace.h"

namespace jit {
namespace detail {

Storage::~Storage() {
  if (owned) release_buffer(data, static_cast<size_t>(bytes));
}

std::shared_ptr<Storage> share_storage(const std::shared_ptr<TensorImpl>& t) {
  return t->storage ? t->storage : std::shared_ptr<Storage>(t, &t->own);
}

namespace {

// A tensor of at most kInlineBytes keeps its elements in its TensorImpl's own allocation (one
// malloc, not two: a batch-1 call's results, most eager scalars). Views share the TensorImpl.
constexpr int64_t kInlineBytes = 128;
struct InlineTensorImpl : TensorImpl {
  alignas(16) unsigned char elements[kInlineBytes];
};

}  // namespace

Tensor allocate(Shape shape, DType t) {
  int64_t n = ir::checked_numel(shape), bytes;
  if (__builtin_mul_overflow(n, dtype_size(t), &bytes) || bytes > (int64_t(1) << 46))
    throw Error(ErrorKind::OutOfMemory,
                fmt::format("cannot allocate a tensor {}{}: too large", dtype_name(t), ir::shape_string(shape)));
  std::shared_ptr<TensorImpl> impl;
  if (bytes <= kInlineBytes) {
    auto small = std::make_shared<InlineTensorImpl>();
    small->own.data = small->elements;  // not `owned`: freed with the TensorImpl
    impl = std::move(small);
  } else {
    impl = std::make_shared<TensorImpl>();
    impl->own.data = acquire_buffer(static_cast<size_t>(bytes));
    if (!impl->own.data)
      throw Error(ErrorKind::OutOfMemory,
                  fmt::format("cannot allocate {} bytes for a tensor {}{}", bytes, dtype_name(t),
                              ir::shape_string(shape)));
    impl->own.owned = true;
  }
  impl->own.bytes = bytes;
  impl->dtype = t;
  impl->strides = ir::contiguous_strides(shape);
  impl->shape = std::move(shape);
  return Tensor(std::move(impl));
}

}  // namespace detail

namespace {

int64_t norm_dim(int64_t d, int64_t rank, const char* what) {
  int64_t r = std::max<int64_t>(rank, 1);
  if (d < -r || d >= r)
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{}: dim {} is out of range for a tensor of rank {}", what, d, rank));
  return d < 0 ? d + r : d;
}

// Reading a symbolic tensor: data-dependent control flow while its trace runs; afterwards a
// tensor that escaped its traced function.
[[noreturn]] void throw_symbolic_read(const Tensor& t, const char* what) {
  const detail::TensorImpl& i = t.impl();
  if (!i.trace->active())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("{} of a symbolic tensor {}{} of function '{}' after its trace ended (it "
                            "escaped the traced function); return it from the function instead",
                            what, dtype_name(i.dtype), ir::shape_string(i.shape), i.trace->name()));
  detail::throw_data_dependent(t, what);
}

// The element offset of a multi-index, bounds-checked.
int64_t element_offset(const Tensor& t, std::initializer_list<int64_t> index) {
  if (static_cast<int64_t>(index.size()) != t.dim())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("an index of {} dims for a tensor of rank {}", index.size(), t.dim()));
  int64_t off = 0, d = 0;
  for (int64_t i : index) {
    int64_t n = t.shape()[d];
    if (i < -n || i >= n)
      throw Error(ErrorKind::InvalidArgument,
                  fmt::format("index {} is out of range for dim {} of size {}", i, d, n));
    off += (i < 0 ? i + n : i) * t.strides()[d];
    ++d;
  }
  return off;
}

}  // namespace

void Tensor::throw_undefined() {
  throw Error(ErrorKind::InvalidArgument, "use of an undefined jit::Tensor");
}

void Tensor::check_dtype(DType t) const {
  if (dtype() != t)
    throw Error(ErrorKind::DType, fmt::format("data<{}>() of a {} tensor", dtype_name(t), dtype_name(dtype())));
}

int64_t Tensor::size(int64_t d) const { return shape()[norm_dim(d, dim(), "size")]; }

int64_t Tensor::numel() const { return ir::checked_numel(shape()); }

bool Tensor::is_contiguous() const {
  int64_t acc = 1;
  for (int64_t i = dim(); i-- > 0;) {
    if (shape()[i] != 1 && strides()[i] != acc) return false;
    acc *= shape()[i];
  }
  return true;
}

void* Tensor::data() const {
  if (is_symbolic()) throw_symbolic_read(*this, "reading the data");
  const detail::TensorImpl& i = impl();
  return static_cast<char*>(i.base()) + i.offset * dtype_size(i.dtype);
}

double Tensor::item() const {
  if (is_symbolic()) throw_symbolic_read(*this, "item()");
  if (numel() != 1)
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("item() needs a tensor with one element, got {}{}",
                            dtype_name(dtype()), ir::shape_string(shape())));
  return ir::load_double(*this, 0);
}

Tensor::operator bool() const {
  if (is_symbolic()) throw_symbolic_read(*this, "converting to bool");
  return item() != 0;
}

double Tensor::at(std::initializer_list<int64_t> index) const {
  if (is_symbolic()) throw_symbolic_read(*this, "at()");
  return ir::load_double(*this, element_offset(*this, index));
}

void Tensor::set(std::initializer_list<int64_t> index, double v) const {
  if (is_symbolic()) throw_symbolic_read(*this, "set()");
  ir::store_double(*this, element_offset(*this, index), v);
}

Tensor Tensor::contiguous() const {
  if (is_symbolic() || is_contiguous()) return *this;
  Tensor out = detail::allocate(shape(), dtype());
  int64_t w = dtype_size(dtype());
  for (ir::IndexWalker it(shape(), {ir::contiguous_strides(shape()), strides()}); !it.done(); it.next())
    std::memcpy(static_cast<char*>(out.data()) + it.offset(0) * w,
                static_cast<char*>(data()) + it.offset(1) * w, w);
  return out;
}

Tensor Tensor::clone() const {
  if (is_symbolic()) return *this;  // values are immutable in a trace
  Tensor c = contiguous();
  if (c.impl_ != impl_) return c;
  Tensor out = detail::allocate(shape(), dtype());
  std::memcpy(out.data(), data(), numel() * dtype_size(dtype()));
  return out;
}

Tensor Tensor::to(DType t) const { return cast(*this, t); }

std::vector<double> Tensor::to_vector() const {
  Tensor c = contiguous();
  std::vector<double> v(c.numel());
  for (int64_t i = 0; i < c.numel(); ++i) v[i] = ir::load_double(c, i);
  return v;
}

Tensor Tensor::reshape(const Shape& s) const { return jit::reshape(*this, s); }
Tensor Tensor::transpose(int64_t a, int64_t b) const { return jit::transpose(*this, a, b); }
Tensor Tensor::permute(const Shape& d) const { return jit::permute(*this, d); }
Tensor Tensor::unsqueeze(int64_t d) const { return jit::unsqueeze(*this, d); }
Tensor Tensor::squeeze(int64_t d) const { return jit::squeeze(*this, d); }
Tensor Tensor::expand(const Shape& s) const { return jit::expand(*this, s); }
Tensor Tensor::sum(const Shape& d, bool k) const { return jit::sum(*this, d, k); }
Tensor Tensor::mean(const Shape& d, bool k) const { return jit::mean(*this, d, k); }

// ---- printing --------------------------------------------------------------------------------

namespace {

std::string format_value(double v, DType t) {
  if (t == DType::b8) return v != 0 ? "true" : "false";
  if (is_int(t)) return fmt::format("{}", static_cast<int64_t>(v));
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.6g}", v);
}

// Nested brackets; dims longer than 6 show their first and last 3 entries.
void format_dim(std::string& out, const Tensor& t, int64_t d, int64_t off) {
  if (d == t.dim()) {
    out += format_value(ir::load_double(t, off), t.dtype());
    return;
  }
  int64_t n = t.shape()[d];
  out += '[';
  for (int64_t i = 0; i < n; ++i) {
    if (n > 6 && i == 3) {
      out += d + 1 == t.dim() ? "..., " : "...,\n" + std::string(d + 1, ' ');
      i = n - 3;
    }
    format_dim(out, t, d + 1, off + i * t.strides()[d]);
    if (i + 1 < n) out += d + 1 == t.dim() ? ", " : ",\n" + std::string(d + 1, ' ');
  }
  out += ']';
}

}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "Tensor(undefined)";
  std::string head = fmt::format("{}{}", dtype_name(dtype()), ir::shape_string(shape()));
  if (is_symbolic()) return fmt::format("Tensor({}, traced in '{}')", head, impl().trace->name());
  std::string body;
  format_dim(body, *this, 0, 0);
  return head + " " + body;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

// ---- factories ---------------------------------------------------------------------------------

Tensor empty(const Shape& shape, DType dtype) { return detail::allocate(shape, dtype); }

// A float value converts as a cast does (saturating, NaN to 0, nonzero to true); an integer
// one exactly.
Tensor full(const Shape& shape, Scalar value, DType dtype) {
  Tensor t = detail::allocate(shape, dtype);
  bool fl = is_float(dtype) || value.kind() == Scalar::Kind::Float;
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    fl ? ir::store_double(t, i, value.to_double()) : ir::store_int(t, i, value.to_int());
  return t;
}
Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1, dtype); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor scalar_tensor(Scalar value, DType dtype) { return full({}, value, dtype); }

Tensor arange(int64_t end, DType dtype) {
  Tensor t = detail::allocate({std::max<int64_t>(end, 0)}, dtype);
  for (int64_t i = 0; i < t.numel(); ++i) ir::store_int(t, i, i);
  return t;
}

Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("arange({}, {}, {}): bounds must be finite and step nonzero", start, end, step));
  int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((end - start) / step)));
  Tensor t = detail::allocate({n}, dtype);
  for (int64_t i = 0; i < n; ++i) ir::store_double(t, i, start + i * step);
  return t;
}

Tensor eye(int64_t n, DType dtype) {
  Tensor t = zeros({n, n}, dtype);
  for (int64_t i = 0; i < n; ++i) ir::store_int(t, i * n + i, 1);
  return t;
}

Tensor from_blob(void* data, const Shape& shape, DType dtype, const Shape& strides) {
  ir::checked_numel(shape);
  if (!strides.empty() && strides.size() != shape.size())
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("from_blob: {} strides for a shape of rank {}", strides.size(), shape.size()));
  if (!data && ir::checked_numel(shape) != 0)
    throw Error(ErrorKind::InvalidArgument, "from_blob: null data for a non-empty tensor");
  auto storage = std::make_shared<detail::Storage>();
  storage->data = data;
  storage->owned = false;
  auto impl = std::make_shared<detail::TensorImpl>();
  impl->dtype = dtype;
  impl->shape = shape;
  impl->strides = strides.empty() ? ir::contiguous_strides(shape) : strides;
  impl->storage = std::move(storage);
  return Tensor(std::move(impl));
}

Tensor from_data(const void* data, DType dtype, const Shape& shape) {
  Tensor t = detail::allocate(shape, dtype);
  if (t.numel()) std::memcpy(t.data(), data, t.numel() * dtype_size(dtype));
  return t;
}

namespace {
Tensor seeded(ir::OpId op, const Shape& shape, uint64_t seed, DType dtype) {
  ir::Node n;
  n.op = op;
  n.attrs = {{"dtype", dtype}, {"shape", shape}, {"stream", int64_t(0)}};
  n.type = ir::infer_type(op, {}, n.attrs);
  Tensor out = detail::allocate(shape, dtype);
  ir::op_info(op).kernel(n, {}, out, {seed, 0, 0});
  return out;
}
}  // namespace

Tensor rand(const Shape& shape, uint64_t seed, DType dtype) { return seeded(ir::OpId::Rand, shape, seed, dtype); }
Tensor randn(const Shape& shape, uint64_t seed, DType dtype) { return seeded(ir::OpId::Randn, shape, seed, dtype); }

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  if (a.shape() != b.shape()) return false;
  Tensor ca = a.contiguous(), cb = b.contiguous();
  for (int64_t i = 0, n = ca.numel(); i < n; ++i) {
    double x = ir::load_double(ca, i), y = ir::load_double(cb, i);
    if (std::isnan(x) || std::isnan(y)) {
      if (!(equal_nan && std::isnan(x) && std::isnan(y))) return false;
      continue;
    }
    if (std::isinf(x) || std::isinf(y)) {
      if (x != y) return false;
      continue;
    }
    if (std::fabs(x - y) > atol + rtol * std::fabs(y)) return false;
  }
  return true;
}

}  // namespace jit
