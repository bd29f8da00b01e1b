// tests/unit/test_contract.cpp: floating-point contraction (transforms/contract.h) and the fma
// op: what one rounding computes where mul then add rounds twice, in every backend and tier,
// and VmapOptions::fp_contract false keeping op-by-op rounding. (Which patterns contract:
// tests/golden/contract.jir.)
#include <doctest/doctest.h>

#include <jit/jit.h>

#include <cmath>

#include "../fuzz/random_program.h"

namespace {

using jit::Tensor;

// x * x - c with x = 1 + 2^-12 (f32) / 1 + 2^-27 (f64) and c = 1 + 2^-11 / 1 + 2^-26: the
// exact x^2 - c is 2^-24 / 2^-54, but x * x rounds to c (f32: a tie, to even; f64: less than
// half an ulp), so mul then sub gives 0.
struct Case {
  jit::DType dtype;
  double x, c, fused;
};
const Case kCases[] = {{jit::DType::f32, 1 + 0x1p-12, 1 + 0x1p-11, 0x1p-24},
                       {jit::DType::f64, 1 + 0x1p-27, 1 + 0x1p-26, 0x1p-54}};

Tensor filled(int64_t n, double v, jit::DType t) { return jit::full({n, 3}, v, t); }

}  // namespace

TEST_CASE("contract: a * b - c is one rounding by default, two with fp_contract false, in every tier") {
  for (const Case& k : kCases) {
    CAPTURE(jit::dtype_name(k.dtype));
    double c = k.c;  // a scalar constant: its negation is folded (contract.jir: where else)
    auto f = [c](const Tensor& x) { return x * x - c; };
    for (int64_t batch : {1, 5, 64}) {
      CAPTURE(batch);
      Tensor x = filled(batch, k.x, k.dtype);
      for (jit::Tiering tier : {jit::Tiering::Quick, jit::Tiering::Optimized}) {
        Tensor fused = jit::vmap(f, 0, 0, {.tiering = tier})(x);
        Tensor apart = jit::vmap(f, 0, 0, {.tiering = tier, .fp_contract = false})(x);
        CHECK(fuzz::same_bits(fused, jit::full({batch, 3}, k.fused, k.dtype)));
        CHECK(fuzz::same_bits(apart, jit::zeros({batch, 3}, k.dtype)));
      }
      // The interpreter runs the contracted IR: the same bits as the compiled code.
      Tensor interp = jit::vmap(f, 0, 0, {.backend = jit::Backend::Interpreter})(x);
      CHECK(fuzz::same_bits(interp, jit::full({batch, 3}, k.fused, k.dtype)));
      Tensor interp_apart = jit::vmap(f, 0, 0, {.backend = jit::Backend::Interpreter, .fp_contract = false})(x);
      CHECK(fuzz::same_bits(interp_apart, jit::zeros({batch, 3}, k.dtype)));
      // jit::compile too; and a product used twice is not contracted (x * x stays rounded).
      CHECK(fuzz::same_bits(jit::compile(f)(x), jit::full({batch, 3}, k.fused, k.dtype)));
      auto twice = [c](const Tensor& x) {
        Tensor p = x * x;
        return std::make_tuple(p - c, p);
      };
      auto [d, p] = jit::vmap(twice)(x);
      CHECK(fuzz::same_bits(d, jit::zeros({batch, 3}, k.dtype)));
    }
  }
}

TEST_CASE("contract: jit::fma rounds once whatever fp_contract says, and broadcasts") {
  for (const Case& k : kCases) {
    CAPTURE(jit::dtype_name(k.dtype));
    Tensor x = filled(4, k.x, k.dtype);
    Tensor minus_c = jit::full({}, -k.c, k.dtype);
    auto f = [minus_c](const Tensor& x) { return jit::fma(x, x, minus_c); };
    Tensor want = jit::full({4, 3}, k.fused, k.dtype);
    CHECK(fuzz::same_bits(jit::vmap(f, 0, 0, {.fp_contract = false})(x), want));
    CHECK(fuzz::same_bits(jit::vmap(f, 0, 0, {.backend = jit::Backend::Interpreter})(x), want));
    CHECK(fuzz::same_bits(f(x), want));  // eager
  }
  // Integer operands are refused (an FMA is a floating-point rounding).
  Tensor i = jit::full({3}, 2.0, jit::DType::i32);
  CHECK_THROWS_AS(jit::fma(i, i, i), jit::Error);
}

TEST_CASE("contract: the rewritten program gives what the op-by-op one does, within rounding") {
  // A mix of every contracted form, against fp_contract false, on random data; and the gradient
  // of a function whose forward pass contracts (autodiff runs before the pass).
  auto f = [](const Tensor& x, const Tensor& y) {
    Tensor a = x * y + 0.5;
    Tensor b = 2.0 - x * a;
    Tensor c = jit::tanh(a * b - y);
    return jit::sum(c * x + y * y);
  };
  Tensor x = jit::randn({16, 37}, 1), y = jit::randn({16, 37}, 2);
  Tensor on = jit::vmap(f)(x, y), off = jit::vmap(f, 0, 0, {.fp_contract = false})(x, y);
  CHECK(jit::allclose(on, off, 1e-5, 1e-5));
  std::vector<Tensor> g = jit::vmap(jit::grad(f, {0, 1}))(x, y);
  std::vector<Tensor> h = jit::vmap(jit::grad(f, {0, 1}), 0, 0, {.fp_contract = false})(x, y);
  REQUIRE(g.size() == 2);
  REQUIRE(h.size() == 2);
  CHECK(jit::allclose(g[0], h[0], 1e-4, 1e-5));
  CHECK(jit::allclose(g[1], h[1], 1e-4, 1e-5));
}

TEST_CASE("contract: the transforms of grad.h take fp_contract too") {
  for (const Case& k : kCases) {
    CAPTURE(jit::dtype_name(k.dtype));
    Tensor c = jit::full({1}, k.c, k.dtype), x = jit::full({1}, k.x, k.dtype);
    auto f = [c](const Tensor& x) { return jit::sum(x * x - c); };
    auto [v_on, g_on] = jit::value_and_grad(f)(x);
    auto [v_off, g_off] = jit::value_and_grad(f, 0, {.fp_contract = false})(x);
    CHECK(fuzz::same_bits(v_on, jit::full({}, k.fused, k.dtype)));
    CHECK(fuzz::same_bits(v_off, jit::zeros({}, k.dtype)));
    CHECK(jit::allclose(g_on, g_off));
  }
}
