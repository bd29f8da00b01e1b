// jit/dtype.h: element types, scalars and shapes of the public API.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace jit {

// The element types a tensor can hold.
enum class DType : uint8_t { f32, f64, i32, i64, b8 };

inline constexpr DType kBool = DType::b8;

std::string_view dtype_name(DType t);  // "f32", "f64", "i32", "i64", "bool"
inline int64_t dtype_size(DType t) {
  return t == DType::f32 || t == DType::i32 ? 4 : t == DType::b8 ? 1 : 8;
}
inline bool is_float(DType t) { return t == DType::f32 || t == DType::f64; }
inline bool is_int(DType t) { return t == DType::i32 || t == DType::i64; }

using Shape = std::vector<int64_t>;

// A number passed where a tensor may stand (`x + 2.0`). Its kind takes part in type promotion
// as a wrapped number does in torch: `i32 tensor + 2.5` is f32, `f64 tensor + 1` stays f64.
class Scalar {
 public:
  enum class Kind : uint8_t { Bool, Int, Float };
  Scalar(double v) : kind_(Kind::Float), f_(v) {}
  Scalar(float v) : kind_(Kind::Float), f_(v) {}
  Scalar(int v) : kind_(Kind::Int), i_(v) {}
  Scalar(long v) : kind_(Kind::Int), i_(v) {}
  Scalar(long long v) : kind_(Kind::Int), i_(static_cast<int64_t>(v)) {}
  Scalar(unsigned v) : kind_(Kind::Int), i_(v) {}
  Scalar(unsigned long v) : kind_(Kind::Int), i_(static_cast<int64_t>(v)) {}
  Scalar(unsigned long long v) : kind_(Kind::Int), i_(static_cast<int64_t>(v)) {}
  Scalar(bool v) : kind_(Kind::Bool), i_(v) {}
  Kind kind() const { return kind_; }
  double to_double() const { return kind_ == Kind::Float ? f_ : static_cast<double>(i_); }
  // A float value truncates toward zero and saturates (NaN gives 0), as a cast does.
  int64_t to_int() const {
    if (kind_ != Kind::Float) return i_;
    if (!(f_ == f_)) return 0;
    if (f_ >= 9.2233720368547758e18) return INT64_MAX;
    if (f_ <= -9.2233720368547758e18) return INT64_MIN;
    return static_cast<int64_t>(f_);
  }

 private:
  Kind kind_;
  double f_ = 0;
  int64_t i_ = 0;
};

}  // namespace jit
