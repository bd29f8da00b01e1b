// ops/family.h: helpers the family files share: errors that name the op, broadcasting, dim
// checks, dtype dispatch and strided iteration for reference kernels.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "ir/ir.h"
#include "jit/error.h"

namespace jit::ir {

// ---- rules ------------------------------------------------------------------------------------

[[noreturn]] void op_fail(const OpInfo& op, ErrorKind kind, const std::string& what);
std::string types_list(std::span<const Type> in);  // "f32[3], f32[4]"

// torch broadcasting of several shapes (right-aligned; 1 stretches; `?` matches `?` and 1).
Shape broadcast_shapes(const OpInfo& op, std::span<const Type> in);

// Every operand has the same dtype; returns it.
DType same_dtype(const OpInfo& op, std::span<const Type> in);

// A dim attribute in [0, rank) (the frontend normalises negative dims before building).
int64_t check_dim(const OpInfo& op, std::string_view attr, int64_t dim, int64_t rank,
                  const Type& t);

// ---- kernels ----------------------------------------------------------------------------------

// Calls f.template operator()<T>() with T the C++ type of `t` (bool is stored as uint8_t).
template <class F>
decltype(auto) dispatch(DType t, F&& f) {
  switch (t) {
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    case DType::i32: return f.template operator()<int32_t>();
    case DType::i64: return f.template operator()<int64_t>();
    case DType::b8: return f.template operator()<uint8_t>();
  }
  __builtin_unreachable();
}

// Reads element `i` (an offset in elements) of a concrete tensor as double / int64.
double load_double(const Tensor& t, int64_t i);
int64_t load_int(const Tensor& t, int64_t i);
void store_double(const Tensor& t, int64_t i, double v);  // rounds to t's dtype
void store_int(const Tensor& t, int64_t i, int64_t v);

// Row-major strides of a shape (in elements).
Shape contiguous_strides(const Shape& s);

// The strides with which a tensor of shape `in` is read when broadcast to `out` (0 on
// stretched or missing dims).
Shape broadcast_strides(const Shape& in, const Shape& out);

// Walks the multi-index of `shape` in row-major order, keeping one offset per strides list.
class IndexWalker {
 public:
  IndexWalker(const Shape& shape, std::vector<Shape> strides);
  bool done() const { return done_; }
  int64_t offset(size_t k) const { return offsets_[k]; }
  const Shape& index() const { return idx_; }
  void next();

 private:
  Shape shape_, idx_;
  std::vector<Shape> strides_;
  std::vector<int64_t> offsets_;
  bool done_;
};

}  // namespace jit::ir
