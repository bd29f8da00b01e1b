// tests/unit/test_ops_reduction.cpp: reductions (sum, mean, prod, max, min, argmax, argmin,
// logsumexp, var) and the normalisations (softmax, log_softmax, layer_norm) against values
// written by hand or computed here by loops over the elements.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "op_test_util.h"

using namespace optest;

namespace {

struct Reduced {
  Shape shape;
  std::vector<double> values;
};

// Reduces a row-major array over `dims` (non-negative) with `f` folding each group's values.
Reduced ref_reduce(const std::vector<double>& x, const Shape& shape, const std::vector<int64_t>& dims,
                   bool keepdim, const std::function<double(const std::vector<double>&)>& f) {
  auto reduced = [&](size_t d) { return std::find(dims.begin(), dims.end(), int64_t(d)) != dims.end(); };
  Shape out_shape, kept;
  for (size_t d = 0; d < shape.size(); ++d) {
    kept.push_back(reduced(d) ? 1 : shape[d]);
    if (!reduced(d)) out_shape.push_back(shape[d]);
    else if (keepdim) out_shape.push_back(1);
  }
  int64_t m = 1;
  for (int64_t k : kept) m *= k;
  std::vector<std::vector<double>> groups(m);
  Shape idx(shape.size(), 0);
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t o = 0, rem = int64_t(i);
    for (size_t d = shape.size(); d-- > 0;) idx[d] = rem % shape[d], rem /= shape[d];
    for (size_t d = 0; d < shape.size(); ++d) o = o * kept[d] + (reduced(d) ? 0 : idx[d]);
    groups[o].push_back(x[i]);
  }
  Reduced r{out_shape, {}};
  for (const auto& g : groups) r.values.push_back(f(g));
  return r;
}

double total(const std::vector<double>& g) {
  double s = 0;
  for (double v : g) s += v;
  return s;
}
double average(const std::vector<double>& g) { return total(g) / double(g.size()); }
double variance(const std::vector<double>& g, int64_t correction) {
  double m = average(g), ss = 0;
  for (double v : g) ss += (v - m) * (v - m);
  return ss / double(std::max<int64_t>(0, int64_t(g.size()) - correction));
}
double lse(const std::vector<double>& g) {
  double s = 0;
  for (double v : g) s += std::exp(v);
  return std::log(s);
}

std::vector<double> iota(int64_t n, double scale = 1) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(double(i) * scale);
  return v;
}

}  // namespace

TEST_CASE("reduction: sum over all, one, several and negative dims, keepdim") {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_VALUES(jit::sum(x), DType::f32, {}, {21});
  CHECK_VALUES(jit::sum(x, {0}), DType::f32, {3}, {5, 7, 9});
  CHECK_VALUES(jit::sum(x, {1}), DType::f32, {2}, {6, 15});
  CHECK_VALUES(jit::sum(x, {-1}, true), DType::f32, {2, 1}, {6, 15});
  CHECK_VALUES(jit::sum(x, {-2}, true), DType::f32, {1, 3}, {5, 7, 9});
  CHECK_VALUES(jit::sum(x, {}, true), DType::f32, {1, 1}, {21});
  CHECK_VALUES(jit::sum(x, {1, 0}), DType::f32, {}, {21});
  CHECK_VALUES(x.sum({0}, true), DType::f32, {1, 3}, {5, 7, 9});
  // a 3-D tensor over every pair of dims, against loops
  std::vector<double> v = iota(24, 0.5);
  Tensor y = f64(v, {2, 3, 4});
  for (std::vector<int64_t> dims : {std::vector<int64_t>{0, 2}, {1, 2}, {0, 1}, {1}, {0, 1, 2}}) {
    for (bool keep : {false, true}) {
      CAPTURE(keep);
      CAPTURE(dims.size());
      Reduced r = ref_reduce(v, {2, 3, 4}, dims, keep, total);
      CHECK_VALUES(jit::sum(y, dims, keep), DType::f64, r.shape, r.values);
      std::vector<int64_t> neg;
      for (int64_t d : dims) neg.push_back(d - 3);
      CHECK_VALUES(jit::sum(y, neg, keep), DType::f64, r.shape, r.values);
    }
  }
}

TEST_CASE("reduction: sum's dtypes, zero-size and 0-d tensors") {
  CHECK_VALUES(jit::sum(i32({2147483647, 1})), DType::i64, {}, {2147483648.0});  // i32 sums in i64
  CHECK_VALUES(jit::sum(i64({1, 2}, {2, 1}), {1}), DType::i64, {2}, {1, 2});
  CHECK_VALUES(jit::sum(b8({1, 1, 0, 1})), DType::i64, {}, {3});
  CHECK_VALUES(jit::sum(f32({kInf, 1})), DType::f32, {}, {kInf});
  CHECK_VALUES(jit::sum(f32({kInf, -kInf})), DType::f32, {}, {kNan});
  CHECK_VALUES(jit::sum(f32({kNan, 1})), DType::f32, {}, {kNan});
  CHECK_VALUES(jit::sum(jit::zeros({0})), DType::f32, {}, {0});
  CHECK_VALUES(jit::sum(jit::zeros({0, 3}), {0}), DType::f32, {3}, {0, 0, 0});
  CHECK_VALUES(jit::sum(jit::zeros({0, 3}), {1}), DType::f32, {0}, {});
  CHECK_VALUES(jit::sum(jit::zeros({2, 0}), {1}, true), DType::f32, {2, 1}, {0, 0});
  Tensor s = scalar(DType::f32, 3);
  CHECK_VALUES(jit::sum(s), DType::f32, {}, {3});
  CHECK_VALUES(jit::sum(s, {0}), DType::f32, {}, {3});
  CHECK_VALUES(jit::sum(s, {-1}), DType::f32, {}, {3});
  CHECK_THROWS_AS(jit::sum(s, {1}), jit::Error);
  CHECK_THROWS_AS(jit::sum(f32({1, 2}), {0, -1}), jit::Error);  // a dim twice
  CHECK_THROWS_AS(jit::sum(f32({1, 2}), {1}), jit::Error);
}

TEST_CASE("reduction: mean") {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_VALUES(jit::mean(x), DType::f32, {}, {3.5});
  CHECK_VALUES(jit::mean(x, {0}), DType::f32, {3}, {2.5, 3.5, 4.5});
  CHECK_VALUES(jit::mean(x, {-1}, true), DType::f32, {2, 1}, {2, 5});
  CHECK_VALUES(x.mean({}, true), DType::f32, {1, 1}, {3.5});
  std::vector<double> v = iota(24, 0.25);
  Reduced r = ref_reduce(v, {2, 3, 4}, {0, 2}, true, average);
  CHECK_VALUES(jit::mean(f64(v, {2, 3, 4}), {2, -3}, true), DType::f64, r.shape, r.values);
  CHECK_VALUES(jit::mean(jit::zeros({0})), DType::f32, {}, {kNan});  // 0 / 0, as torch
  CHECK_VALUES(jit::mean(jit::zeros({0, 2}), {0}), DType::f32, {2}, {kNan, kNan});
  CHECK_VALUES(jit::mean(f64({kInf, 1})), DType::f64, {}, {kInf});
  CHECK_VALUES(jit::mean(scalar(DType::f64, 2)), DType::f64, {}, {2});
  CHECK_THROWS_AS(jit::mean(i32({1, 2})), jit::Error);  // as torch: cast first
}

TEST_CASE("reduction: prod") {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_VALUES(jit::prod(x), DType::f32, {}, {720});
  CHECK_VALUES(jit::prod(x, {0}), DType::f32, {3}, {4, 10, 18});
  CHECK_VALUES(jit::prod(x, {1}, true), DType::f32, {2, 1}, {6, 120});
  CHECK_VALUES(jit::prod(i32({65536, 65536})), DType::i64, {}, {4294967296.0});
  CHECK_VALUES(jit::prod(b8({1, 1})), DType::i64, {}, {1});
  CHECK_VALUES(jit::prod(jit::zeros({0})), DType::f32, {}, {1});
  CHECK_VALUES(jit::prod(f64({kNan, 0})), DType::f64, {}, {kNan});
  CHECK_VALUES(jit::prod(f64({kInf, 0})), DType::f64, {}, {kNan});
  CHECK_VALUES(jit::prod(f64({-2, 0.5, -3}, {3, 1}), {0, 1}), DType::f64, {}, {3});
}

TEST_CASE("reduction: max and min, NaN propagation, integers, bool") {
  Tensor x = f32({3, -1, 7, 2, 8, -5}, {2, 3});
  CHECK_VALUES(jit::max(x), DType::f32, {}, {8});
  CHECK_VALUES(jit::min(x), DType::f32, {}, {-5});
  CHECK_VALUES(jit::max(x, {0}), DType::f32, {3}, {3, 8, 7});
  CHECK_VALUES(jit::min(x, {-1}, true), DType::f32, {2, 1}, {-1, -5});
  CHECK_VALUES(jit::max(f32({1, kNan, 3})), DType::f32, {}, {kNan});
  CHECK_VALUES(jit::min(f32({kNan, -kInf})), DType::f32, {}, {kNan});
  CHECK_VALUES(jit::max(f32({1, kNan, 3, 4}, {2, 2}), {1}), DType::f32, {2}, {kNan, 4});
  CHECK_VALUES(jit::max(f64({-kInf, -kInf})), DType::f64, {}, {-kInf});
  CHECK_VALUES(jit::min(f64({kInf, 1e308})), DType::f64, {}, {1e308});
  CHECK_VALUES(jit::max(i32({-3, -7}, {1, 2}), {1}), DType::i32, {1}, {-3});
  CHECK_VALUES(jit::min(jit::tensor<int64_t>({INT64_MAX, INT64_MIN})), DType::i64, {}, {double(INT64_MIN)});
  CHECK_VALUES(jit::max(b8({0, 1, 0})), DType::b8, {}, {1});
  CHECK_VALUES(jit::min(b8({0, 1, 0})), DType::b8, {}, {0});
  std::vector<double> v = {5, 1, 9, 3, 7, 2, 8, 6, 4, 0, 11, 10};
  Reduced r = ref_reduce(v, {2, 2, 3}, {0, 2}, false, [](const std::vector<double>& g) {
    return *std::max_element(g.begin(), g.end());
  });
  CHECK_VALUES(jit::max(f64(v, {2, 2, 3}), {0, 2}), DType::f64, r.shape, r.values);
  // an empty reduced dim has no identity (as torch), but an empty kept dim is fine
  CHECK_THROWS_AS(jit::max(jit::zeros({0})), jit::Error);
  CHECK_THROWS_AS(jit::min(jit::zeros({0, 3}), {0}), jit::Error);
  CHECK_VALUES(jit::max(jit::zeros({0, 3}), {1}), DType::f32, {0}, {});
}

TEST_CASE("reduction: argmax and argmin") {
  Tensor x = f32({1, 3, 3, 2, 2, 1}, {2, 3});
  CHECK_VALUES(jit::argmax(x), DType::i64, {}, {1});  // the first of equal maxima, flattened
  CHECK_VALUES(jit::argmin(x), DType::i64, {}, {0});
  CHECK_VALUES(jit::argmax(x, 1), DType::i64, {2}, {1, 0});
  CHECK_VALUES(jit::argmin(x, -1), DType::i64, {2}, {0, 2});
  CHECK_VALUES(jit::argmax(x, 0, true), DType::i64, {1, 3}, {1, 0, 0});
  CHECK_VALUES(jit::argmin(x, -2, true), DType::i64, {1, 3}, {0, 1, 1});
  CHECK_VALUES(jit::argmax(x, std::nullopt, true), DType::i64, {1, 1}, {1});  // as torch
  // NaN counts as the extreme: the first NaN wins
  CHECK_VALUES(jit::argmax(f32({1, kNan, 3, kNan})), DType::i64, {}, {1});
  CHECK_VALUES(jit::argmin(f32({1, kNan, -3})), DType::i64, {}, {1});
  CHECK_VALUES(jit::argmax(f64({0, kInf, kInf})), DType::i64, {}, {1});
  CHECK_VALUES(jit::argmin(f64({-kInf, 0, -kInf}, {1, 3}), 1), DType::i64, {1}, {0});
  CHECK_VALUES(jit::argmax(f32({-kInf, -kInf})), DType::i64, {}, {0});
  CHECK_VALUES(jit::argmax(i32({1, 5, 3, 5})), DType::i64, {}, {1});
  CHECK_VALUES(jit::argmin(jit::tensor<int64_t>({(1ll << 53) + 1, 1ll << 53})), DType::i64, {}, {1});
  CHECK_VALUES(jit::argmax(b8({0, 1, 1})), DType::i64, {}, {1});
  CHECK_VALUES(jit::argmax(scalar(DType::f32, 2)), DType::i64, {}, {0});
  CHECK_VALUES(jit::argmax(scalar(DType::f32, 2), 0, true), DType::i64, {}, {0});
  CHECK_VALUES(jit::argmax(jit::zeros({0, 3}), 1), DType::i64, {0}, {});
  CHECK_THROWS_AS(jit::argmax(jit::zeros({0})), jit::Error);
  CHECK_THROWS_AS(jit::argmax(x, 2), jit::Error);
}

TEST_CASE("reduction: logsumexp, stable and exact at infinities") {
  std::vector<double> v = {0.5, -1, 2, 3, 0, -2};
  Tensor x = f32(v, {2, 3});
  Reduced all = ref_reduce(v, {2, 3}, {0, 1}, false, lse);
  Reduced rows = ref_reduce(v, {2, 3}, {1}, true, lse);
  CHECK_VALUES(jit::logsumexp(x), DType::f32, all.shape, all.values, 1e-6);
  CHECK_VALUES(jit::logsumexp(x, {-1}, true), DType::f32, rows.shape, rows.values, 1e-6);
  CHECK_VALUES(jit::logsumexp(f64(v, {2, 3}), {0}), DType::f64, {3},
               {std::log(std::exp(0.5) + std::exp(3.0)), std::log(std::exp(-1.0) + 1), std::log(std::exp(2.0) + std::exp(-2.0))});
  // no overflow for large values, no underflow for small ones
  CHECK_VALUES(jit::logsumexp(f32({1000, 1000})), DType::f32, {}, {1000 + std::log(2.0)});
  CHECK_VALUES(jit::logsumexp(f64({-1000, -1000, -1000})), DType::f64, {}, {-1000 + std::log(3.0)});
  // infinities, as torch: all -inf gives -inf, any +inf gives +inf; NaN propagates
  CHECK_VALUES(jit::logsumexp(f32({-kInf, -kInf})), DType::f32, {}, {-kInf});
  CHECK_VALUES(jit::logsumexp(f32({kInf, 1})), DType::f32, {}, {kInf});
  CHECK_VALUES(jit::logsumexp(f32({kInf, -kInf})), DType::f32, {}, {kInf});
  CHECK_VALUES(jit::logsumexp(f32({kInf, kInf})), DType::f32, {}, {kInf});
  CHECK_VALUES(jit::logsumexp(f32({-kInf, 0})), DType::f32, {}, {0});
  CHECK_VALUES(jit::logsumexp(f32({kNan, 1})), DType::f32, {}, {kNan});
  CHECK_VALUES(jit::logsumexp(f32({-kInf, -kInf, 1, 2}, {2, 2}), {1}), DType::f32, {2},
               {-kInf, std::log(std::exp(1.0) + std::exp(2.0))});
  // integers compute in f32; an empty reduction is log(0)
  CHECK_VALUES(jit::logsumexp(i32({0, 0})), DType::f32, {}, {std::log(2.0)});
  CHECK_VALUES(jit::logsumexp(jit::zeros({0})), DType::f32, {}, {-kInf});
  CHECK_VALUES(jit::logsumexp(jit::zeros({2, 0}), {1}, true), DType::f32, {2, 1}, {-kInf, -kInf});
}

TEST_CASE("reduction: var with correction, several dims, keepdim") {
  std::vector<double> v = {1, 2, 4, 7, 11, 16, 2, 3, 5, 8, 13, 21};
  Tensor x = f64(v, {3, 4});
  for (int64_t corr : {0, 1, 2}) {
    CAPTURE(corr);
    auto fn = [corr](const std::vector<double>& g) { return variance(g, corr); };
    Reduced a = ref_reduce(v, {3, 4}, {0, 1}, false, fn);
    Reduced r = ref_reduce(v, {3, 4}, {1}, true, fn);
    Reduced c = ref_reduce(v, {3, 4}, {0}, false, fn);
    CHECK_VALUES(jit::var(x, {}, corr), DType::f64, a.shape, a.values);
    CHECK_VALUES(jit::var(x, {-1}, corr, true), DType::f64, r.shape, r.values);
    CHECK_VALUES(jit::var(x, {0}, corr), DType::f64, c.shape, c.values);
  }
  Reduced c3 = ref_reduce(iota(24, 1.5), {2, 3, 4}, {0, 2}, true,
                          [](const std::vector<double>& g) { return variance(g, 1); });
  CHECK_VALUES(jit::var(f32(iota(24, 1.5), {2, 3, 4}), {0, 2}, 1, true), DType::f32, c3.shape, c3.values, 1e-5);
  CHECK_VALUES(jit::var(f32({1, 2, 3, 4})), DType::f32, {}, {5.0 / 3});
  CHECK_VALUES(jit::var(f32({3})), DType::f32, {}, {kNan});           // 0 / 0
  CHECK_VALUES(jit::var(f32({1, 2}), {}, 2), DType::f32, {}, {kInf});   // 0.5 / max(0, 0)
  CHECK_VALUES(jit::var(f32({1, kNan})), DType::f32, {}, {kNan});
  CHECK_VALUES(jit::var(f32({5, 5, 5})), DType::f32, {}, {0});
  CHECK_THROWS_AS(jit::var(i64({1, 2})), jit::Error);
}

TEST_CASE("reduction: softmax and log_softmax") {
  std::vector<double> v = {1, 2, 3, -1, 0, 4};
  Tensor x = f32(v, {2, 3});
  auto soft = [&](int64_t row, int64_t col, bool by_row) {
    double s = 0;
    for (int64_t k = 0; k < (by_row ? 3 : 2); ++k) s += std::exp(by_row ? v[row * 3 + k] : v[k * 3 + col]);
    return std::exp(v[row * 3 + col]) / s;
  };
  std::vector<double> rows, cols;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) rows.push_back(soft(i, j, true)), cols.push_back(soft(i, j, false));
  CHECK_VALUES(jit::softmax(x, 1), DType::f32, {2, 3}, rows, 1e-6);
  CHECK_VALUES(jit::softmax(x, -1), DType::f32, {2, 3}, rows, 1e-6);
  CHECK_VALUES(jit::softmax(x, 0), DType::f32, {2, 3}, cols, 1e-6);
  std::vector<double> logrows;
  for (double p : rows) logrows.push_back(std::log(p));
  CHECK_VALUES(jit::log_softmax(x, -1), DType::f32, {2, 3}, logrows, 1e-6);
  CHECK_VALUES(jit::log_softmax(f64(v, {2, 3}), 1), DType::f64, {2, 3}, logrows, 1e-12);
  // stable for large values, -inf entries give 0 (log: -inf), an all -inf row is NaN (as torch)
  CHECK_VALUES(jit::softmax(f32({1000, 1000}), 0), DType::f32, {2}, {0.5, 0.5});
  CHECK_VALUES(jit::softmax(f32({0, -kInf, -kInf, -kInf}, {2, 2}), 1), DType::f32, {2, 2}, {1, 0, kNan, kNan});
  CHECK_VALUES(jit::log_softmax(f32({0, -kInf}), 0), DType::f32, {2}, {0, -kInf});
  CHECK_VALUES(jit::softmax(f32({kNan, 1}), 0), DType::f32, {2}, {kNan, kNan});
  CHECK_VALUES(jit::softmax(i64({0, 0}), 0), DType::f32, {2}, {0.5, 0.5});
  CHECK_VALUES(jit::softmax(jit::zeros({0, 3}), 1), DType::f32, {0, 3}, {});
  CHECK_VALUES(jit::softmax(jit::zeros({2, 0}), 1), DType::f32, {2, 0}, {});
  CHECK_VALUES(jit::softmax(scalar(DType::f32, 5), 0), DType::f32, {}, {1});
  CHECK_THROWS_AS(jit::softmax(x, 2), jit::Error);
}

TEST_CASE("reduction: layer_norm") {
  std::vector<double> v = {1, 2, 3, 2, 2, 2, -1, 0, 5};
  Tensor x = f64(v, {3, 3});
  auto norm_row = [&](int64_t r, double eps) {
    std::vector<double> g(v.begin() + r * 3, v.begin() + r * 3 + 3), out;
    double m = average(g), var = variance(g, 0);
    for (double a : g) out.push_back((a - m) / std::sqrt(var + eps));
    return out;
  };
  std::vector<double> want;
  for (int64_t r = 0; r < 3; ++r)
    for (double a : norm_row(r, 1e-5)) want.push_back(a);
  CHECK_VALUES(jit::layer_norm(x, {3}), DType::f64, {3, 3}, want);
  CHECK(want[3] == 0);  // a constant row normalises to 0, not NaN
  std::vector<double> affine;
  for (size_t i = 0; i < want.size(); ++i) affine.push_back(want[i] * (i % 3 + 1) + 0.5 * double(i % 3));
  CHECK_VALUES(jit::layer_norm(x, {3}, f64({1, 2, 3}), f64({0, 0.5, 1})), DType::f64, {3, 3}, affine);
  CHECK_VALUES(jit::layer_norm(x, {3}, f64({1, 2, 3})), DType::f64, {3, 3},
               [&] { std::vector<double> w; for (size_t i = 0; i < want.size(); ++i) w.push_back(want[i] * (i % 3 + 1)); return w; }());
  // over two trailing dims, with a large eps
  std::vector<double> all;
  {
    double m = average(v), var = variance(v, 0);
    for (double a : v) all.push_back((a - m) / std::sqrt(var + 0.5));
  }
  CHECK_VALUES(jit::layer_norm(f32(v, {1, 3, 3}), {3, 3}, {}, {}, 0.5), DType::f32, {1, 3, 3}, all, 1e-5, 1e-6);
  CHECK_THROWS_AS(jit::layer_norm(x, {4}), jit::Error);
  CHECK_THROWS_AS(jit::layer_norm(x, {3}, f64({1, 2})), jit::Error);
  CHECK_THROWS_AS(jit::layer_norm(i32({1, 2, 3}), {3}), jit::Error);
}
