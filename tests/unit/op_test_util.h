// tests/unit/op_test_util.h: helpers of the op-semantics tests: building tensors of any dtype
// from plain values and checking a result's dtype, shape and values against expectations that
// the test computes itself.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <jit/jit.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace optest {

using jit::DType;
using jit::Shape;
using jit::Tensor;

inline const double kNan = std::numeric_limits<double>::quiet_NaN();
inline const double kInf = std::numeric_limits<double>::infinity();

// A tensor of `dtype` and `shape` holding `v` (row-major), each value converted as a C++ cast.
inline Tensor make(DType dtype, const Shape& shape, const std::vector<double>& v) {
  auto from = [&](const auto& typed) { return jit::from_data(typed.data(), dtype, shape); };
  REQUIRE(int64_t(v.size()) == jit::zeros(shape, DType::b8).numel());
  switch (dtype) {
    case DType::f32: return from(std::vector<float>(v.begin(), v.end()));
    case DType::f64: return from(v);
    case DType::i32: return from(std::vector<int32_t>(v.begin(), v.end()));
    case DType::i64: return from(std::vector<int64_t>(v.begin(), v.end()));
    case DType::b8: {
      std::vector<uint8_t> b;
      for (double x : v) b.push_back(x != 0);
      return from(b);
    }
  }
  return {};
}
inline Tensor f32(const std::vector<double>& v, const Shape& shape = {}) {
  return make(DType::f32, shape.empty() ? Shape{int64_t(v.size())} : shape, v);
}
inline Tensor f64(const std::vector<double>& v, const Shape& shape = {}) {
  return make(DType::f64, shape.empty() ? Shape{int64_t(v.size())} : shape, v);
}
inline Tensor i32(const std::vector<double>& v, const Shape& shape = {}) {
  return make(DType::i32, shape.empty() ? Shape{int64_t(v.size())} : shape, v);
}
inline Tensor i64(const std::vector<double>& v, const Shape& shape = {}) {
  return make(DType::i64, shape.empty() ? Shape{int64_t(v.size())} : shape, v);
}
inline Tensor b8(const std::vector<double>& v, const Shape& shape = {}) {
  return make(DType::b8, shape.empty() ? Shape{int64_t(v.size())} : shape, v);
}
// 0-d tensors.
inline Tensor scalar(DType dtype, double v) { return make(dtype, {}, {v}); }

// The value a float result of dtype t holds for the exact value v.
inline double round_to(DType t, double v) { return t == DType::f32 ? double(float(v)) : v; }

// What differs between `got` and the expectation, or "" when they agree. NaN equals NaN and
// infinities must match exactly; finite values within atol + rtol * |want|. Negative tolerances
// pick the dtype's default (f32: 1e-6, f64: 1e-12, integers and bool exact).
inline std::string mismatch(const Tensor& got, DType dtype, const Shape& shape,
                            const std::vector<double>& want, double rtol = -1, double atol = -1) {
  if (!got.defined()) return "result is undefined";
  std::string head = fmt::format("got {}[{}], want {}[{}]", jit::dtype_name(got.dtype()),
                                 fmt::join(got.shape(), ","), jit::dtype_name(dtype),
                                 fmt::join(shape, ","));
  if (got.dtype() != dtype || got.shape() != shape) return "dtype/shape: " + head;
  if (rtol < 0) rtol = dtype == DType::f32 ? 1e-6 : dtype == DType::f64 ? 1e-12 : 0;
  if (atol < 0) atol = dtype == DType::f32 ? 1e-7 : dtype == DType::f64 ? 1e-14 : 0;
  std::vector<double> v = got.to_vector();
  if (v.size() != want.size())
    return fmt::format("{} elements, the test lists {}", v.size(), want.size());
  for (size_t i = 0; i < v.size(); ++i) {
    double g = v[i], w = want[i];
    bool ok = std::isnan(w) ? std::isnan(g)
              : std::isinf(w) ? g == w
                              : !std::isnan(g) && std::fabs(g - w) <= atol + rtol * std::fabs(w);
    if (!ok)
      return fmt::format("element {}: got {}, want {} (all: [{}])", i, g, w, fmt::join(v, ", "));
  }
  return "";
}

// CHECK_VALUES(result, dtype, shape, {values...} [, rtol [, atol]])
#define CHECK_VALUES(...)                                          \
  do {                                                             \
    const std::string mismatch_ = ::optest::mismatch(__VA_ARGS__); \
    CHECK_MESSAGE(mismatch_.empty(), mismatch_);                   \
  } while (0)

// The message of the jit::Error `f` throws, checking its kind; "" (and a failed check) when it
// throws none.
template <class F>
std::string error_of(F&& f, jit::ErrorKind kind) {
  try {
    f();
  } catch (const jit::Error& e) {
    CHECK_MESSAGE(e.kind() == kind, "kind ", std::string(jit::error_kind_name(e.kind())),
                  " for: ", std::string(e.what()));
    return e.what();
  }
  FAIL_CHECK("no jit::Error thrown");
  return "";
}

}  // namespace optest
