// ir/types.h: value types of the IR: a dtype and a static shape, where one dim may be the
// dynamic batch size `?` added by vmap.
#pragma once

#include <cstdint>
#include <string>

#include "jit/dtype.h"

namespace jit::ir {

// The dynamic batch dim. All dynamic dims of a function are the same size: its batch size.
inline constexpr int64_t kDyn = -1;

struct Type {
  DType dtype = DType::f32;
  Shape shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  bool has_dyn() const;
  // Elements, or -1 when a dim is dynamic.
  int64_t static_numel() const;
  bool operator==(const Type& o) const { return dtype == o.dtype && shape == o.shape; }
};

// "f32[?,64]"; scalars are "f32[]".
std::string to_string(const Type& t);
std::string shape_string(const Shape& s);  // "[?,64]"

// The shape with every dynamic dim replaced by `batch`.
Shape resolve(const Shape& s, int64_t batch);

// Product of dims with overflow checking; throws jit::Error when it does not fit in int64.
int64_t checked_numel(const Shape& s);

}  // namespace jit::ir
