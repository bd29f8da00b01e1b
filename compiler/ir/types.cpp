// ir/types.cpp: printing and resolving IR types.
#include "ir/types.h"

#include <fmt/format.h>

#include "jit/error.h"

namespace jit::ir {

bool Type::has_dyn() const {
  for (int64_t d : shape)
    if (d == kDyn) return true;
  return false;
}

int64_t Type::static_numel() const { return has_dyn() ? -1 : checked_numel(shape); }

std::string shape_string(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ',';
    out += s[i] == kDyn ? std::string("?") : std::to_string(s[i]);
  }
  return out + "]";
}

std::string to_string(const Type& t) {
  return std::string(dtype_name(t.dtype)) + shape_string(t.shape);
}

Shape resolve(const Shape& s, int64_t batch) {
  Shape out = s;
  for (int64_t& d : out)
    if (d == kDyn) d = batch;
  return out;
}

int64_t checked_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) throw Error(ErrorKind::Shape, fmt::format("negative dim in shape {}", shape_string(s)));
    if (__builtin_mul_overflow(n, d, &n))
      throw Error(ErrorKind::Shape,
                  fmt::format("shape {} has more elements than fit in int64", shape_string(s)));
  }
  return n;
}

}  // namespace jit::ir
