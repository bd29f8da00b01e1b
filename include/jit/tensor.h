// jit/tensor.h: jit::Tensor, concrete (a strided view of a buffer) or symbolic (a traced value).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "jit/dtype.h"
#include "jit/error.h"

namespace jit {

namespace detail {
class Trace;  // the graph being recorded (internal)

// A block of memory: owned (freed with the last reference) or borrowed from the caller.
struct Storage {
  void* data = nullptr;
  int64_t bytes = 0;
  bool owned = false;
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();
};

struct TensorImpl {
  TensorImpl() = default;
  // A copy is a view: it shares the storage and owns nothing itself.
  TensorImpl(const TensorImpl& o)
      : dtype(o.dtype), shape(o.shape), strides(o.strides), offset(o.offset), storage(o.storage),
        trace(o.trace), value(o.value) {}
  TensorImpl& operator=(const TensorImpl&) = delete;

  // The first byte of the buffer (of element 0 before `offset`).
  void* base() const { return storage ? storage->data : own.data; }

  DType dtype = DType::f32;
  Shape shape;
  Shape strides;       // in elements
  int64_t offset = 0;  // in elements, into storage
  std::shared_ptr<Storage> storage;  // a shared or borrowed buffer, when concrete
  std::shared_ptr<Trace> trace;      // set when symbolic
  int32_t value = -1;                // the traced value's id in `trace`
  Storage own;                       // a fresh tensor's own buffer (then `storage` is empty)
};

// The storage of a concrete tensor, for a view to share (keeping `t` alive).
std::shared_ptr<Storage> share_storage(const std::shared_ptr<TensorImpl>& t);

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  else if constexpr (std::is_same_v<T, double>) return DType::f64;
  else if constexpr (std::is_same_v<T, bool>) return DType::b8;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 4) return DType::i32;
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 8) return DType::i64;
  else static_assert(sizeof(T) == 0, "no jit::DType for this C++ type");
}
}  // namespace detail

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<detail::TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  bool is_symbolic() const { return impl_ && impl_->trace != nullptr; }
  bool is_concrete() const { return impl_ && !impl_->trace; }
  DType dtype() const { return impl().dtype; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const;
  bool is_contiguous() const;

  // The first element of a concrete tensor (throws for a symbolic one).
  void* data() const;
  template <class T>
  T* data() const {
    check_dtype(detail::dtype_of<T>());
    return static_cast<T*>(data());
  }

  // Reading a value. During a trace these throw jit::Error (data-dependent control flow).
  double item() const;
  template <class T>
  T item() const { return static_cast<T>(item()); }
  explicit operator bool() const;
  double at(std::initializer_list<int64_t> index) const;  // one element, as double
  void set(std::initializer_list<int64_t> index, double v) const;

  Tensor contiguous() const;  // itself when already contiguous
  Tensor clone() const;       // a contiguous copy that owns its buffer
  Tensor to(DType t) const;   // cast
  std::vector<double> to_vector() const;  // all elements in row-major order, as double

  // Sugar for the free functions of jit/ops.h.
  Tensor reshape(const Shape& s) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor permute(const Shape& dims) const;
  Tensor unsqueeze(int64_t d) const;
  Tensor squeeze(int64_t d) const;
  Tensor expand(const Shape& s) const;
  Tensor sum(const Shape& dims = {}, bool keepdim = false) const;
  Tensor mean(const Shape& dims = {}, bool keepdim = false) const;

  std::string to_string() const;

  const detail::TensorImpl& impl() const {
    if (!impl_) throw_undefined();
    return *impl_;
  }
  const std::shared_ptr<detail::TensorImpl>& impl_ptr() const { return impl_; }

 private:
  [[noreturn]] static void throw_undefined();
  void check_dtype(DType t) const;
  std::shared_ptr<detail::TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- factories -------------------------------------------------------------------------------
Tensor empty(const Shape& shape, DType dtype = DType::f32);
Tensor zeros(const Shape& shape, DType dtype = DType::f32);
Tensor ones(const Shape& shape, DType dtype = DType::f32);
Tensor full(const Shape& shape, Scalar value, DType dtype = DType::f32);
Tensor scalar_tensor(Scalar value, DType dtype = DType::f32);
Tensor arange(int64_t end, DType dtype = DType::i64);
Tensor arange(double start, double end, double step = 1, DType dtype = DType::f32);
Tensor eye(int64_t n, DType dtype = DType::f32);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);

// A tensor that borrows `data` without copying; `strides` in elements (row-major when empty).
// The caller keeps the buffer alive as long as the tensor (and anything traced from it) is used.
Tensor from_blob(void* data, const Shape& shape, DType dtype, const Shape& strides = {});

// Copies of host data; `shape` defaults to 1-D.
Tensor from_data(const void* data, DType dtype, const Shape& shape);
template <class T>
Tensor from_vector(const std::vector<T>& v, Shape shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(v.size())};
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<uint8_t> bytes(v.begin(), v.end());
    return from_data(bytes.data(), DType::b8, shape);
  } else {
    return from_data(v.data(), detail::dtype_of<T>(), shape);
  }
}
template <class T>
Tensor tensor(std::initializer_list<T> v) {
  return from_vector(std::vector<T>(v));
}
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> rows) {
  std::vector<T> flat;
  int64_t cols = rows.size() ? static_cast<int64_t>(rows.begin()->size()) : 0;
  for (const auto& r : rows) {
    if (static_cast<int64_t>(r.size()) != cols)
      throw Error(ErrorKind::Shape, "jit::tensor: rows of different lengths");
    flat.insert(flat.end(), r.begin(), r.end());
  }
  return from_vector(flat, {static_cast<int64_t>(rows.size()), cols});
}

// Random tensors from a counter-based generator (Philox-4x32-10): the values are a function of
// (seed, stream, element index) only, so they are reproducible and independent of threading.
Tensor rand(const Shape& shape, uint64_t seed, DType dtype = DType::f32);   // U[0, 1)
Tensor randn(const Shape& shape, uint64_t seed, DType dtype = DType::f32);  // N(0, 1)

// True when both have the same shape and |a - b| <= atol + rtol * |b| elementwise; NaNs compare
// equal when equal_nan. Infinities must match exactly.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false);

}  // namespace jit
