// tests/unit/vmap_test_util.h: helpers of the vmap tests: the backends every oracle runs on,
// batched inputs with the batch dim anywhere, and the reference a vmapped function must equal:
// the function applied to each sample (jit::select) and the results stacked (jit::stack).
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <jit/jit.h>

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "op_test_util.h"

namespace vt {

using jit::DType;
using jit::Shape;
using jit::Tensor;

// Every oracle runs on both: the compiled path must agree with the reference interpreter.
inline constexpr jit::Backend kBackends[] = {jit::Backend::Interpreter, jit::Backend::Compiled};

inline std::string backend_name(jit::Backend b) {
  return b == jit::Backend::Interpreter ? "interpreter" : "compiled";
}

// A function of a list of tensors returning a list of tensors: the form the reference loop and
// the table-driven oracle use for functions of any arity.
using Fn = std::function<std::vector<Tensor>(std::span<const Tensor>)>;

// An in_dim: a dim (negative counts from the end) or none.
using InDim = std::optional<int64_t>;

inline std::string dims_string(std::span<const InDim> dims) {
  std::string s = "{";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + (dims[i] ? std::to_string(*dims[i]) : std::string("none"));
  return s + "}";
}

inline jit::DimSpec to_spec(std::span<const InDim> dims) {
  std::vector<jit::Dim> d;
  for (const InDim& x : dims) d.push_back(x ? jit::Dim(*x) : jit::Dim(jit::none));
  return jit::DimSpec(std::move(d));
}

// A dim in [-rank, rank) made non-negative.
inline int64_t norm_dim(int64_t d, int64_t rank) { return d < 0 ? d + rank : d; }

// The shape of a batched input: `sample` with `batch` inserted at `dim` (negative: from the end
// of the batched shape).
inline Shape insert_dim(Shape s, int64_t dim, int64_t batch) {
  int64_t r = static_cast<int64_t>(s.size()) + 1;
  s.insert(s.begin() + norm_dim(dim, r), batch);
  return s;
}

// f applied to each sample and stacked: the oracle every vmap must match. The batch size is the
// size of the mapped arguments' in_dims (they must agree); each output is stacked along its
// out_dim (negative counts from the end of the stacked result).
inline std::vector<Tensor> per_sample(const Fn& f, std::span<const InDim> in_dims,
                                      std::span<const InDim> out_dims, std::span<const Tensor> args) {
  int64_t batch = -1;
  for (size_t i = 0; i < args.size(); ++i)
    if (in_dims[i]) batch = args[i].size(*in_dims[i]);
  REQUIRE(batch >= 1);
  std::vector<std::vector<Tensor>> outs;  // [output][sample]
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Tensor> sample;
    for (size_t i = 0; i < args.size(); ++i)
      sample.push_back(in_dims[i] ? jit::select(args[i], *in_dims[i], b) : args[i]);
    std::vector<Tensor> r = f(sample);
    outs.resize(r.size());
    for (size_t k = 0; k < r.size(); ++k) outs[k].push_back(r[k]);
  }
  std::vector<Tensor> stacked;
  for (size_t k = 0; k < outs.size(); ++k) {
    InDim d = out_dims.size() == 1 ? out_dims[0] : out_dims[k];
    if (!d) {
      stacked.push_back(outs[k][0]);
      continue;
    }
    stacked.push_back(jit::stack(outs[k], norm_dim(*d, outs[k][0].dim() + 1)));
  }
  return stacked;
}

// What differs between got and want, or "" when they agree within the tolerance (dtype and shape
// exactly; NaNs equal; integers and bools exactly).
inline std::string differs(const Tensor& got, const Tensor& want, double rtol = 1e-4,
                           double atol = 1e-5) {
  if (got.dtype() != want.dtype() || got.shape() != want.shape())
    return fmt::format("got {}[{}], want {}[{}]", jit::dtype_name(got.dtype()),
                       fmt::join(got.shape(), ","), jit::dtype_name(want.dtype()),
                       fmt::join(want.shape(), ","));
  bool exact = !jit::is_float(want.dtype());
  if (jit::allclose(got.to(DType::f64), want.to(DType::f64), exact ? 0 : rtol, exact ? 0 : atol,
                    /*equal_nan=*/true))
    return "";
  return fmt::format("values differ:\ngot  {}\nwant {}", got.to_string(), want.to_string());
}

inline std::string differs(std::span<const Tensor> got, std::span<const Tensor> want,
                           double rtol = 1e-4, double atol = 1e-5) {
  if (got.size() != want.size())
    return fmt::format("{} outputs, want {}", got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    std::string d = differs(got[k], want[k], rtol, atol);
    if (!d.empty()) return fmt::format("output {}: {}", k, d);
  }
  return "";
}

// CHECK_CLOSE(got, want): the tensors (or lists of tensors) agree; the message says how not.
#define CHECK_CLOSE(...)                                \
  do {                                                  \
    const std::string differs_ = ::vt::differs(__VA_ARGS__); \
    CHECK_MESSAGE(differs_.empty(), differs_);          \
  } while (0)

using ::optest::error_of;  // the message of the jit::Error `f` throws (op_test_util.h)

// Checks that `msg` contains every one of `parts`.
#define CHECK_MENTIONS(msg, ...)                                           \
  do {                                                                     \
    const std::string msg_ = (msg);                                        \
    for (const char* part_ : {__VA_ARGS__})                                \
      CHECK_MESSAGE(msg_.find(part_) != std::string::npos, "'",            \
                    std::string(part_), "' is not in: ", msg_);            \
  } while (0)

}  // namespace vt
