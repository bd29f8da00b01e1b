// tests/unit/test_ops_random.cpp: rand, randn, rand_like, randn_like: reproducible from a seed
// (explicit, or the process generator's after jit::manual_seed), and distributed as promised
// (moments of a large sample within loose bounds).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "op_test_util.h"

using namespace optest;

namespace {

struct Moments {
  double mean = 0, var = 0, min = 0, max = 0;
};

Moments moments(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  Moments m;
  m.min = *std::min_element(v.begin(), v.end());
  m.max = *std::max_element(v.begin(), v.end());
  for (double x : v) m.mean += x;
  m.mean /= double(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= double(v.size() - 1);
  return m;
}

double fraction(const Tensor& t, bool (*pred)(double)) {
  std::vector<double> v = t.to_vector();
  return double(std::count_if(v.begin(), v.end(), pred)) / double(v.size());
}

bool identical(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.contiguous().data(), b.contiguous().data(), a.numel() * jit::dtype_size(a.dtype())) == 0;
}

constexpr int64_t kSample = 200000;

}  // namespace

TEST_CASE("random: an explicit seed gives the same values, another seed others") {
  for (DType t : {DType::f32, DType::f64}) {
    CAPTURE(jit::dtype_name(t));
    CHECK(identical(jit::rand({3, 5}, 42, t), jit::rand({3, 5}, 42, t)));
    CHECK(identical(jit::randn({3, 5}, 42, t), jit::randn({3, 5}, 42, t)));
    CHECK_FALSE(jit::allclose(jit::rand({3, 5}, 42, t), jit::rand({3, 5}, 43, t)));
    CHECK_FALSE(jit::allclose(jit::randn({3, 5}, 42, t), jit::randn({3, 5}, 43, t)));
    CHECK_FALSE(jit::allclose(jit::randn({64}, 1ull << 32, t), jit::randn({64}, 0, t)));  // high bits count
    // values depend on (seed, element index) only: the shape does not change them
    CHECK(identical(jit::rand({2, 3}, 7, t).reshape({6}), jit::rand({6}, 7, t)));
    CHECK(identical(jit::slice(jit::rand({10}, 7, t), 0, 0, 4), jit::rand({4}, 7, t)));
  }
  // elements differ from each other
  std::vector<double> v = jit::rand({1000}, 3).to_vector();
  std::sort(v.begin(), v.end());
  CHECK(std::adjacent_find(v.begin(), v.end()) == v.end());
  CHECK(jit::rand({0}, 1).numel() == 0);
  CHECK(jit::randn({}, 1).dim() == 0);
  CHECK_THROWS_AS(jit::rand({2}, 1, DType::i32), jit::Error);
  CHECK_THROWS_AS(jit::randn({2}, 1, DType::b8), jit::Error);
}

TEST_CASE("random: manual_seed makes the process generator reproducible") {
  jit::manual_seed(1234);
  Tensor a = jit::rand({50}), b = jit::randn({4, 5}, DType::f64);
  Tensor c = jit::rand({50});
  jit::manual_seed(1234);
  Tensor a2 = jit::rand({50}), b2 = jit::randn({4, 5}, DType::f64);
  CHECK(identical(a, a2));
  CHECK(identical(b, b2));
  CHECK(b.dtype() == DType::f64);
  CHECK_FALSE(jit::allclose(a, c));  // each call draws new values
  jit::manual_seed(4321);
  CHECK_FALSE(jit::allclose(a, jit::rand({50})));
  CHECK_THROWS_AS(jit::rand({2}, DType::i64), jit::Error);
}

TEST_CASE("random: rand_like and randn_like") {
  jit::manual_seed(99);
  Tensor x = jit::zeros({3, 4}, DType::f64);
  Tensor r = jit::rand_like(x), n = jit::randn_like(x);
  CHECK(r.shape() == Shape{3, 4});
  CHECK(r.dtype() == DType::f64);
  CHECK(n.shape() == Shape{3, 4});
  CHECK(n.dtype() == DType::f64);
  CHECK(jit::rand_like(jit::zeros({2}, DType::i32)).dtype() == DType::f32);  // integers: the default float
  CHECK(jit::randn_like(scalar(DType::f32, 1)).dim() == 0);
  jit::manual_seed(99);
  CHECK(identical(jit::rand_like(x), r));
  CHECK(identical(jit::randn_like(x), n));
}

TEST_CASE("random: rand is uniform on [0, 1)") {
  for (DType t : {DType::f32, DType::f64}) {
    CAPTURE(jit::dtype_name(t));
    Tensor u = jit::rand({kSample}, 2024, t);
    Moments m = moments(u);
    CHECK(m.min >= 0);
    CHECK(m.max < 1);
    CHECK(m.mean == doctest::Approx(0.5).epsilon(0.01));
    CHECK(m.var == doctest::Approx(1.0 / 12).epsilon(0.02));
    CHECK(fraction(u, [](double x) { return x < 0.25; }) == doctest::Approx(0.25).epsilon(0.02));
    CHECK(fraction(u, [](double x) { return x >= 0.9; }) == doctest::Approx(0.1).epsilon(0.05));
  }
  jit::manual_seed(5);
  Moments m = moments(jit::rand({kSample}));
  CHECK(m.mean == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("random: randn is standard normal") {
  for (DType t : {DType::f32, DType::f64}) {
    CAPTURE(jit::dtype_name(t));
    Tensor n = jit::randn({kSample}, 77, t);
    Moments m = moments(n);
    CHECK(std::fabs(m.mean) < 0.01);
    CHECK(m.var == doctest::Approx(1).epsilon(0.02));
    CHECK(m.min < -3.5);  // tails are reached (P(|x| > 3.5) ~ 5e-4, about 90 of the sample)
    CHECK(m.max > 3.5);
    CHECK(fraction(n, [](double x) { return std::fabs(x) < 1; }) == doctest::Approx(0.6827).epsilon(0.01));
    CHECK(fraction(n, [](double x) { return x < 0; }) == doctest::Approx(0.5).epsilon(0.01));
    CHECK(fraction(n, [](double x) { return !std::isfinite(x); }) == 0);
  }
  jit::manual_seed(6);
  Moments m = moments(jit::randn({kSample}));
  CHECK(std::fabs(m.mean) < 0.01);
  CHECK(m.var == doctest::Approx(1).epsilon(0.02));
}
