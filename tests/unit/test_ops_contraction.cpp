// tests/unit/test_ops_contraction.cpp: dot, mv, mm, matmul (every rank combination, batch
// broadcasting) and outer against products computed here with loops.
#include <doctest/doctest.h>

#include <algorithm>

#include "op_test_util.h"

using namespace optest;

namespace {

// Deterministic, exactly representable values: small multiples of 1/4.
std::vector<double> values(int64_t n, int64_t seed) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(double((i * 7 + seed * 3) % 11 - 5) * 0.25);
  return v;
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

struct Mat {
  Shape shape;
  std::vector<double> v;
};

// torch.matmul written out: batch dims broadcast, 1-D operands lifted and their dim dropped.
Mat ref_matmul(const Mat& a, const Mat& b) {
  Shape as = a.shape, bs = b.shape;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  REQUIRE(bs[bs.size() - 2] == k);
  Shape ba(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  size_t nb = std::max(ba.size(), bb.size());
  ba.insert(ba.begin(), nb - ba.size(), 1);
  bb.insert(bb.begin(), nb - bb.size(), 1);
  Shape batch(nb);
  for (size_t i = 0; i < nb; ++i) batch[i] = ba[i] == 1 ? bb[i] : ba[i];
  Mat r;
  int64_t nbatch = numel(batch);
  for (int64_t t = 0; t < nbatch; ++t) {
    // offsets of batch index t in a and b (broadcast dims read index 0)
    int64_t rem = t, oa = 0, ob = 0, sa = m * k, sb = k * n;
    for (size_t i = nb; i-- > 0;) {
      int64_t idx = rem % batch[i];
      rem /= batch[i];
      oa += (ba[i] == 1 ? 0 : idx) * sa;
      ob += (bb[i] == 1 ? 0 : idx) * sb;
      sa *= ba[i];
      sb *= bb[i];
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p) s += a.v[oa + i * k + p] * b.v[ob + p * n + j];
        r.v.push_back(s);
      }
  }
  r.shape = batch;
  if (a.shape.size() > 1) r.shape.push_back(m);
  if (b.shape.size() > 1) r.shape.push_back(n);
  return r;
}

}  // namespace

TEST_CASE("contraction: dot") {
  CHECK_VALUES(jit::dot(f32({1, 2, 3}), f32({4, -5, 6})), DType::f32, {}, {12});
  CHECK_VALUES(jit::dot(f64({0.5, 0.25}), f64({2, 4})), DType::f64, {}, {2});
  CHECK_VALUES(jit::dot(i32({1, 2}), i32({3, 4})), DType::i32, {}, {11});
  CHECK_VALUES(jit::dot(i64({1ll << 31, 2}), i64({4, 1})), DType::i64, {}, {double((1ll << 33) + 2)});
  CHECK_VALUES(jit::dot(jit::zeros({0}), jit::zeros({0})), DType::f32, {}, {0});
  CHECK_VALUES(jit::dot(f32({kInf, 1}), f32({0, 1})), DType::f32, {}, {kNan});
  CHECK_VALUES(jit::dot(f32({kNan, 1}), f32({1, 1})), DType::f32, {}, {kNan});
  CHECK_THROWS_AS(jit::dot(f32({1, 2}), f32({1, 2, 3})), jit::Error);
  CHECK_THROWS_AS(jit::dot(f32({1, 2}, {1, 2}), f32({1, 2})), jit::Error);
  CHECK_THROWS_AS(jit::dot(f32({1, 2}), f64({1, 2})), jit::Error);
  CHECK_THROWS_AS(jit::dot(b8({1, 0}), b8({1, 1})), jit::Error);
}

TEST_CASE("contraction: mv and mm") {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK_VALUES(jit::mv(a, f32({1, 0, -1})), DType::f32, {2}, {-2, -2});
  Tensor b = f32({1, 2, 0, 1, -1, 0}, {3, 2});
  CHECK_VALUES(jit::mm(a, b), DType::f32, {2, 2}, {-2, 4, -2, 13});
  CHECK_VALUES(jit::mm(b, a), DType::f32, {3, 3}, {9, 12, 15, 4, 5, 6, -1, -2, -3});
  CHECK_VALUES(jit::mm(i64({1, 2, 3, 4}, {2, 2}), jit::eye(2, DType::i64)), DType::i64, {2, 2}, {1, 2, 3, 4});
  // zero-size dims: an empty contraction gives zeros, an empty free dim an empty result
  CHECK_VALUES(jit::mm(jit::zeros({2, 0}), jit::zeros({0, 3})), DType::f32, {2, 3}, {0, 0, 0, 0, 0, 0});
  CHECK_VALUES(jit::mm(jit::zeros({0, 2}), jit::zeros({2, 3})), DType::f32, {0, 3}, {});
  CHECK_VALUES(jit::mv(jit::zeros({3, 0}), jit::zeros({0})), DType::f32, {3}, {0, 0, 0});
  // a transposed (non-contiguous) operand
  CHECK_VALUES(jit::mm(a.transpose(0, 1), a), DType::f32, {3, 3}, {17, 22, 27, 22, 29, 36, 27, 36, 45});
  CHECK_THROWS_AS(jit::mv(a, f32({1, 2})), jit::Error);
  CHECK_THROWS_AS(jit::mm(a, a), jit::Error);
  CHECK_THROWS_AS(jit::mm(a, f32({1, 2, 3})), jit::Error);
}

TEST_CASE("contraction: outer") {
  CHECK_VALUES(jit::outer(f32({1, 2}), f32({3, 4, 5})), DType::f32, {2, 3}, {3, 4, 5, 6, 8, 10});
  CHECK_VALUES(jit::outer(i32({-1, 2}), i32({3})), DType::i32, {2, 1}, {-3, 6});
  CHECK_VALUES(jit::outer(jit::zeros({0}), f32({1, 2})), DType::f32, {0, 2}, {});
  // dtypes promote and bools are allowed, as torch.outer
  CHECK_VALUES(jit::outer(i64({1, 2}), f32({0.5, 1})), DType::f32, {2, 2}, {0.5, 1, 1, 2});
  CHECK_VALUES(jit::outer(b8({1, 0}), b8({1, 1})), DType::b8, {2, 2}, {1, 1, 0, 0});
  CHECK_VALUES(jit::outer(f32({kInf, 0}), f32({0, 1})), DType::f32, {2, 2}, {kNan, kInf, 0, 0});
  CHECK_THROWS_AS(jit::outer(f32({1, 2}, {1, 2}), f32({1})), jit::Error);
  CHECK_THROWS_AS(jit::outer(f32({1}), scalar(DType::f32, 1)), jit::Error);
}

TEST_CASE("contraction: matmul over every rank combination, with batch broadcasting") {
  const Shape shapes[][2] = {
      {{3}, {3}},             // dot
      {{2, 3}, {3}},          // mv
      {{3}, {3, 4}},          // vector-matrix
      {{2, 3}, {3, 4}},       // mm
      {{5, 2, 3}, {5, 3, 4}}, // batched
      {{5, 2, 3}, {3, 4}},    // batch on the left only
      {{2, 3}, {5, 3, 4}},    // batch on the right only
      {{3}, {5, 3, 4}},       // 1-D against a batch
      {{5, 2, 3}, {3}},       // a batch against 1-D
      {{2, 1, 2, 3}, {3, 3, 2}},  // batch dims broadcast: [2, 1] with [3] -> [2, 3]
      {{1, 2, 3}, {4, 3, 1}},     // size-1 batch against 4
      {{4, 1, 2, 3}, {1, 5, 3, 2}},
      {{0, 2, 3}, {3, 4}},    // an empty batch
      {{2, 0}, {0, 4}},       // an empty contraction
  };
  for (const auto& [sa, sb] : shapes) {
    for (DType t : {DType::f32, DType::f64, DType::i64}) {
      CAPTURE(jit::dtype_name(t));
      CAPTURE(fmt::format("[{}] @ [{}]", fmt::join(sa, ","), fmt::join(sb, ",")));
      Mat a{sa, values(numel(sa), 1)}, b{sb, values(numel(sb), 2)};
      if (t == DType::i64) {
        for (double& x : a.v) x *= 4;
        for (double& x : b.v) x *= 4;
      }
      Mat r = ref_matmul(a, b);
      CHECK_VALUES(jit::matmul(make(t, sa, a.v), make(t, sb, b.v)), t, r.shape, r.v);
    }
  }
}

TEST_CASE("contraction: matmul errors") {
  CHECK_THROWS_AS(jit::matmul(jit::zeros({2, 3}), jit::zeros({4, 5})), jit::Error);
  CHECK_THROWS_AS(jit::matmul(jit::zeros({3}), jit::zeros({4})), jit::Error);
  CHECK_THROWS_AS(jit::matmul(jit::zeros({2, 2, 3}), jit::zeros({3, 3, 4})), jit::Error);  // batch 2 vs 3
  CHECK_THROWS_AS(jit::matmul(scalar(DType::f32, 1), jit::zeros({3})), jit::Error);
  CHECK_THROWS_AS(jit::matmul(jit::zeros({2, 3}), jit::zeros({3, 2}, DType::f64)), jit::Error);
}
