// tests/unit/backend_test_util.h: helpers of the backend tests (test_backend.cpp, test_tiers.cpp).
#pragma once

#include <doctest/doctest.h>

#include <jit/jit.h>

#include "../fuzz/random_program.h"

namespace backend_test {

using fuzz::same_bits;
using jit::Tensor;

// Compiled and interpreted vmap of f agree on `args`; the quick and the optimized compiles
// (Tiering) give the same bits, the optimized one on one thread and on all.
template <class F, class... A>
void agree_dims(const char* what, F f, jit::DimSpec in_dims, jit::DimSpec out_dims, const A&... args) {
  auto optimized = jit::vmap(f, in_dims, out_dims, {.name = what, .tiering = jit::Tiering::Optimized});
  auto one_thread = jit::vmap(f, in_dims, out_dims, {.threads = 1, .name = what, .tiering = jit::Tiering::Optimized});
  auto quick = jit::vmap(f, in_dims, out_dims, {.name = what, .tiering = jit::Tiering::Quick});
  auto interp = jit::vmap(f, in_dims, out_dims, {.backend = jit::Backend::Interpreter, .name = what});
  Tensor a = optimized(args...), q = quick(args...), b = interp(args...), a1 = one_thread(args...);
  INFO(what);
  REQUIRE(a.shape() == b.shape());
  bool close = jit::allclose(a, b, 2e-4, 2e-5, /*equal_nan=*/true);
  if (!close) MESSAGE("compiled: " << a << "\ninterpreted: " << b);
  CHECK(close);
  bool same = same_bits(a, q);
  if (!same) MESSAGE("optimized: " << a << "\nquick: " << q);
  CHECK(same);
  CHECK(same_bits(a, a1));
}

template <class F, class... A>
void agree(const char* what, F f, jit::DimSpec in_dims, const A&... args) {
  agree_dims(what, f, std::move(in_dims), 0, args...);
}

inline Tensor batch_of(const jit::Shape& sample, int64_t batch, uint64_t seed, jit::DType t = jit::DType::f32) {
  jit::Shape s{batch};
  for (int64_t d : sample) s.push_back(d);
  return jit::randn(s, seed, t == jit::DType::f64 ? t : jit::DType::f32).to(t);
}

}  // namespace backend_test
