// tests/unit/test_smoke.cpp: a first end-to-end check of eager ops, tracing and vmap.
#include <doctest/doctest.h>

#include <jit/jit.h>

#include <cmath>

TEST_CASE("smoke: eager, vmap of dot, captured weights") {
  jit::Tensor x = jit::tensor({1.f, 2.f, 3.f});
  jit::Tensor y = jit::exp(x) + 1.0f;
  CHECK(y.at({0}) == doctest::Approx(std::exp(1.0) + 1));
  auto bdot = jit::vmap(jit::dot, 0, 0, {.backend = jit::Backend::Interpreter});
  jit::Tensor a = jit::randn({4, 5}, 1), b = jit::randn({4, 5}, 2);
  jit::Tensor r = bdot(a, b);
  REQUIRE(r.shape() == jit::Shape{4});
  for (int i = 0; i < 4; ++i) {
    double s = 0;
    for (int j = 0; j < 5; ++j) s += a.at({i, j}) * b.at({i, j});
    CHECK(r.at({i}) == doctest::Approx(s).epsilon(1e-5));
  }
  jit::Tensor w = jit::randn({5}, 3);
  auto model = [&](const jit::Tensor& v) { return jit::relu(jit::dot(v, w)); };
  jit::Tensor m = jit::vmap(model)(a);
  for (int i = 0; i < 4; ++i) {
    jit::Tensor row = jit::slice(a, 0, i, i + 1).reshape({5});
    CHECK(m.at({i}) == doctest::Approx(model(row).item()).epsilon(1e-5));
  }
}
