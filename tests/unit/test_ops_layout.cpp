// tests/unit/test_ops_layout.cpp: the layout ops (reshape, transpose, permute, movedim, expand,
// squeeze, unsqueeze, flatten, slice, narrow, select, unbind, index_select, gather, concat, stack)
// against values written by hand, with negative dims, zero-size dims and views as inputs.
#include <doctest/doctest.h>

#include "op_test_util.h"

using namespace optest;

namespace {
// [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] as f32
Tensor m34() { return jit::arange(12, DType::f32).reshape({3, 4}); }
// arange(24) as [2, 3, 4], i64
Tensor t234() { return jit::arange(24).reshape({2, 3, 4}); }
}  // namespace

TEST_CASE("layout: reshape") {
  Tensor x = m34();
  CHECK_VALUES(x.reshape({4, 3}), DType::f32, {4, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  CHECK_VALUES(x.reshape({-1}), DType::f32, {12}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  CHECK(x.reshape({2, -1, 2}).shape() == Shape{2, 3, 2});
  CHECK(x.reshape({-1, 6}).shape() == Shape{2, 6});
  CHECK_VALUES(f32({7}).reshape({}), DType::f32, {}, {7});
  CHECK_VALUES(scalar(DType::i32, 7).reshape({1, 1}), DType::i32, {1, 1}, {7});
  CHECK_VALUES(scalar(DType::i32, 7).reshape({-1}), DType::i32, {1}, {7});
  // the row-major order of a non-contiguous input
  CHECK_VALUES(x.transpose(0, 1).reshape({-1}), DType::f32, {12}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  // zero-size
  CHECK(jit::zeros({0, 3}).reshape({-1, 3}).shape() == Shape{0, 3});
  CHECK(jit::zeros({0, 3}).reshape({3, 0, 5}).shape() == Shape{3, 0, 5});
  CHECK_THROWS_AS(jit::zeros({0, 3}).reshape({-1, 0}), jit::Error);  // -1 is ambiguous, as torch
  CHECK_THROWS_AS(x.reshape({5, -1}), jit::Error);
  CHECK_THROWS_AS(x.reshape({-1, -1}), jit::Error);
  CHECK_THROWS_AS(x.reshape({2, 2}), jit::Error);
  CHECK_THROWS_AS(x.reshape({-2, -6}), jit::Error);
}

TEST_CASE("layout: transpose, permute, movedim") {
  Tensor x = m34();
  CHECK_VALUES(jit::transpose(x, 0, 1), DType::f32, {4, 3}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  CHECK_VALUES(jit::transpose(x, -1, -2), DType::f32, {4, 3}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  CHECK_VALUES(jit::transpose(x, 1, 1), DType::f32, {3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  Tensor t = t234();  // t[i, j, k] = 12 i + 4 j + k
  Tensor p = jit::permute(t, {2, 0, 1});  // p[k, i, j]
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.at({3, 1, 2}) == 12 + 8 + 3);
  CHECK(jit::permute(t, {-1, -3, -2}).at({3, 1, 2}) == 23);
  CHECK_VALUES(jit::permute(t, {1, 0, 2}).reshape({-1}), DType::i64, {24},
               {0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23});
  CHECK_VALUES(jit::transpose(f32({1, 2, 3}), 0, -1), DType::f32, {3}, {1, 2, 3});
  CHECK_VALUES(jit::transpose(scalar(DType::f32, 1), 0, -1), DType::f32, {}, {1});
  Tensor mv = jit::movedim(t, 0, 2);  // [3, 4, 2]: mv[j, k, i]
  CHECK(mv.shape() == Shape{3, 4, 2});
  CHECK(mv.at({2, 1, 1}) == 12 + 8 + 1);
  Tensor mv2 = jit::movedim(t, -1, 0);  // [4, 2, 3]: mv2[k, i, j]
  CHECK(mv2.shape() == Shape{4, 2, 3});
  CHECK(mv2.at({1, 1, 2}) == 12 + 8 + 1);
  CHECK(jit::movedim(t, 1, 1).shape() == Shape{2, 3, 4});
  CHECK(jit::permute(jit::zeros({0, 2}), {1, 0}).shape() == Shape{2, 0});
  CHECK_THROWS_AS(jit::permute(t, {0, 1}), jit::Error);
  CHECK_THROWS_AS(jit::permute(t, {0, 1, 1}), jit::Error);
  CHECK_THROWS_AS(jit::permute(t, {0, 1, 3}), jit::Error);
  CHECK_THROWS_AS(jit::transpose(x, 0, 2), jit::Error);
  CHECK_THROWS_AS(jit::transpose(scalar(DType::f32, 1), 0, 1), jit::Error);
  CHECK_THROWS_AS(jit::movedim(t, 3, 0), jit::Error);
}

TEST_CASE("layout: expand") {
  CHECK_VALUES(jit::expand(f32({1, 2, 3}), {2, 3}), DType::f32, {2, 3}, {1, 2, 3, 1, 2, 3});
  CHECK_VALUES(jit::expand(f32({1, 2}, {2, 1}), {2, 3}), DType::f32, {2, 3}, {1, 1, 1, 2, 2, 2});
  CHECK_VALUES(jit::expand(f32({1, 2}, {2, 1}), {-1, 2}), DType::f32, {2, 2}, {1, 1, 2, 2});
  CHECK_VALUES(jit::expand(f32({1, 2}, {2, 1}), {2, -1, 2}), DType::f32, {2, 2, 2}, {1, 1, 2, 2, 1, 1, 2, 2});
  CHECK_VALUES(jit::expand(scalar(DType::i32, 4), {2, 2}), DType::i32, {2, 2}, {4, 4, 4, 4});
  CHECK_VALUES(jit::expand(f32({5}), {0}), DType::f32, {0}, {});
  CHECK_VALUES(jit::expand(jit::zeros({0, 1}), {0, 3}), DType::f32, {0, 3}, {});
  CHECK_VALUES(b8({1, 0}).expand({2, 2}), DType::b8, {2, 2}, {1, 0, 1, 0});
  CHECK_THROWS_AS(jit::expand(f32({1, 2}), {3}), jit::Error);
  CHECK_THROWS_AS(jit::expand(f32({1, 2}), {2, 4}), jit::Error);
  CHECK_THROWS_AS(jit::expand(f32({1, 2}, {2, 1}), {2}), jit::Error);
  CHECK_THROWS_AS(jit::expand(f32({1, 2}), {-1, 2}), jit::Error);  // -1 for a new dim
}

TEST_CASE("layout: squeeze, unsqueeze, flatten") {
  Tensor x = jit::zeros({1, 3, 1, 2});
  CHECK(jit::squeeze(x).shape() == Shape{3, 2});
  CHECK(jit::squeeze(x, 0).shape() == Shape{3, 1, 2});
  CHECK(jit::squeeze(x, -2).shape() == Shape{1, 3, 2});
  CHECK(jit::squeeze(x, 1).shape() == Shape{1, 3, 1, 2});  // not size 1: unchanged
  CHECK(jit::squeeze(jit::zeros({1, 1})).shape() == Shape{});
  CHECK(jit::squeeze(jit::zeros({1, 0, 1})).shape() == Shape{0});
  CHECK(jit::squeeze(scalar(DType::f32, 1)).shape() == Shape{});
  CHECK(jit::squeeze(scalar(DType::f32, 1), 0).shape() == Shape{});
  CHECK_THROWS_AS(jit::squeeze(x, 4), jit::Error);
  CHECK_VALUES(jit::squeeze(f32({1, 2, 3}, {1, 3})), DType::f32, {3}, {1, 2, 3});
  Tensor v = f32({1, 2, 3});
  CHECK_VALUES(jit::unsqueeze(v, 0), DType::f32, {1, 3}, {1, 2, 3});
  CHECK_VALUES(jit::unsqueeze(v, 1), DType::f32, {3, 1}, {1, 2, 3});
  CHECK_VALUES(jit::unsqueeze(v, -1), DType::f32, {3, 1}, {1, 2, 3});
  CHECK_VALUES(jit::unsqueeze(v, -2), DType::f32, {1, 3}, {1, 2, 3});
  CHECK(jit::unsqueeze(scalar(DType::f32, 1), -1).shape() == Shape{1});
  CHECK(jit::zeros({2, 3}).unsqueeze(-1).shape() == Shape{2, 3, 1});
  CHECK_THROWS_AS(jit::unsqueeze(v, 2), jit::Error);
  CHECK_THROWS_AS(jit::unsqueeze(v, -3), jit::Error);
  Tensor t = t234();
  CHECK_VALUES(jit::flatten(t), DType::i64, {24}, t.to_vector());
  CHECK(jit::flatten(t, 1).shape() == Shape{2, 12});
  CHECK(jit::flatten(t, 0, 1).shape() == Shape{6, 4});
  CHECK(jit::flatten(t, -2, -1).shape() == Shape{2, 12});
  CHECK(jit::flatten(t, 1, 1).shape() == Shape{2, 3, 4});
  CHECK(jit::flatten(scalar(DType::f32, 1)).shape() == Shape{1});
  CHECK(jit::flatten(scalar(DType::f32, 1), -1, 0).shape() == Shape{1});
  CHECK_THROWS_AS(jit::flatten(scalar(DType::f32, 1), 5), jit::Error);
  CHECK(jit::flatten(jit::zeros({2, 0, 3}), 1).shape() == Shape{2, 0});
  CHECK_VALUES(jit::flatten(m34().transpose(0, 1)), DType::f32, {12}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  CHECK_THROWS_AS(jit::flatten(t, 2, 1), jit::Error);
  CHECK_THROWS_AS(jit::flatten(t, 0, 3), jit::Error);
}

TEST_CASE("layout: slice with start, stop, step; negative and out-of-range bounds") {
  Tensor r = jit::arange(10);
  CHECK_VALUES(jit::slice(r, 0, 2, 5), DType::i64, {3}, {2, 3, 4});
  CHECK_VALUES(jit::slice(r, 0, 1, 8, 3), DType::i64, {3}, {1, 4, 7});
  CHECK_VALUES(jit::slice(r, 0, std::nullopt, std::nullopt, 4), DType::i64, {3}, {0, 4, 8});
  CHECK_VALUES(jit::slice(r, 0, -3, std::nullopt), DType::i64, {3}, {7, 8, 9});
  CHECK_VALUES(jit::slice(r, 0, std::nullopt, -7), DType::i64, {3}, {0, 1, 2});
  CHECK_VALUES(jit::slice(r, -1, -4, -1), DType::i64, {3}, {6, 7, 8});
  CHECK_VALUES(jit::slice(r, 0, -100, 100, 5), DType::i64, {2}, {0, 5});  // bounds clamp, as Python
  CHECK_VALUES(jit::slice(r, 0, 8, 100), DType::i64, {2}, {8, 9});
  CHECK_VALUES(jit::slice(r, 0, 12, 20), DType::i64, {0}, {});
  CHECK_VALUES(jit::slice(r, 0, 6, 3), DType::i64, {0}, {});  // stop before start: empty
  CHECK_VALUES(jit::slice(r, 0, -2, -5), DType::i64, {0}, {});
  CHECK_VALUES(jit::slice(r, 0, 0, 10, 20), DType::i64, {1}, {0});
  CHECK_VALUES(jit::slice(r, 0, std::nullopt, std::nullopt), DType::i64, {10}, r.to_vector());
  Tensor x = m34();
  CHECK_VALUES(jit::slice(x, 1, -10, 10, 2), DType::f32, {3, 2}, {0, 2, 4, 6, 8, 10});
  CHECK_VALUES(jit::slice(x, 0, 1, std::nullopt), DType::f32, {2, 4}, {4, 5, 6, 7, 8, 9, 10, 11});
  CHECK_VALUES(jit::slice(jit::slice(x, 0, 1, 3), 1, 1, 4, 2), DType::f32, {2, 2}, {5, 7, 9, 11});
  CHECK_VALUES(jit::slice(x.transpose(0, 1), 0, 3, 4), DType::f32, {1, 3}, {3, 7, 11});
  CHECK(jit::slice(jit::zeros({0, 3}), 0, 1, 2).shape() == Shape{0, 3});
  CHECK_THROWS_AS(jit::slice(r, 0, 0, 5, 0), jit::Error);
  CHECK_THROWS_AS(jit::slice(r, 0, 5, 0, -1), jit::Error);  // negative steps are not allowed, as torch
  CHECK_THROWS_AS(jit::slice(r, 1, 0, 5), jit::Error);
  CHECK_THROWS_AS(jit::slice(scalar(DType::f32, 1), 0, 0, 1), jit::Error);
}

TEST_CASE("layout: narrow, select, unbind") {
  Tensor x = m34();
  CHECK_VALUES(jit::narrow(x, 1, 1, 2), DType::f32, {3, 2}, {1, 2, 5, 6, 9, 10});
  CHECK_VALUES(jit::narrow(x, -2, 2, 1), DType::f32, {1, 4}, {8, 9, 10, 11});
  CHECK_VALUES(jit::narrow(jit::arange(5), 0, -2, 2), DType::i64, {2}, {3, 4});  // as torch
  CHECK_VALUES(jit::narrow(x, 0, 3, 0), DType::f32, {0, 4}, {});
  CHECK_THROWS_AS(jit::narrow(x, 0, 2, 2), jit::Error);
  CHECK_THROWS_AS(jit::narrow(x, 0, 4, 0), jit::Error);
  CHECK_THROWS_AS(jit::narrow(x, 0, -4, 1), jit::Error);
  CHECK_THROWS_AS(jit::narrow(x, 0, 0, -1), jit::Error);
  CHECK_VALUES(jit::select(x, 0, 1), DType::f32, {4}, {4, 5, 6, 7});
  CHECK_VALUES(jit::select(x, 1, -1), DType::f32, {3}, {3, 7, 11});
  CHECK_VALUES(jit::select(x, -1, 0), DType::f32, {3}, {0, 4, 8});
  CHECK_VALUES(jit::select(f32({5, 6}), 0, 1), DType::f32, {}, {6});
  CHECK_VALUES(jit::select(jit::zeros({2, 0}), 0, 1), DType::f32, {0}, {});
  CHECK_THROWS_AS(jit::select(x, 0, 3), jit::Error);
  CHECK_THROWS_AS(jit::select(x, 0, -4), jit::Error);
  CHECK_THROWS_AS(jit::select(x, 2, 0), jit::Error);
  CHECK_THROWS_AS(jit::select(scalar(DType::f32, 1), 0, 0), jit::Error);
  std::vector<Tensor> rows = jit::unbind(x);
  REQUIRE(rows.size() == 3);
  CHECK_VALUES(rows[2], DType::f32, {4}, {8, 9, 10, 11});
  std::vector<Tensor> cols = jit::unbind(x, -1);
  REQUIRE(cols.size() == 4);
  CHECK_VALUES(cols[1], DType::f32, {3}, {1, 5, 9});
  CHECK(jit::unbind(jit::zeros({0, 3})).empty());
  CHECK(jit::unbind(jit::zeros({2, 0}), 0)[1].shape() == Shape{0});
  CHECK_THROWS_AS(jit::unbind(x, 2), jit::Error);
  CHECK_THROWS_AS(jit::unbind(scalar(DType::f32, 1)), jit::Error);  // as torch
}

TEST_CASE("layout: index_select") {
  Tensor x = m34();
  CHECK_VALUES(jit::index_select(x, 0, i64({2, 0, 2})), DType::f32, {3, 4},
               {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  CHECK_VALUES(jit::index_select(x, 1, i32({3, 1})), DType::f32, {3, 2}, {3, 1, 7, 5, 11, 9});
  CHECK_VALUES(jit::index_select(x, -1, i64({0})), DType::f32, {3, 1}, {0, 4, 8});
  CHECK_VALUES(jit::index_select(x, 0, jit::zeros({0}, DType::i64)), DType::f32, {0, 4}, {});
  CHECK_VALUES(jit::index_select(x, 1, scalar(DType::i64, 2)), DType::f32, {3, 1}, {2, 6, 10});
  CHECK_VALUES(jit::index_select(scalar(DType::f32, 9), 0, i64({0})), DType::f32, {}, {9});
  CHECK_VALUES(jit::index_select(x.transpose(0, 1), 0, i64({1})), DType::f32, {1, 3}, {1, 5, 9});
  CHECK_VALUES(jit::index_select(b8({1, 0}), 0, i64({1, 1, 0})), DType::b8, {3}, {0, 0, 1});
  CHECK_THROWS_AS(jit::index_select(x, 0, i64({3})), jit::Error);
  CHECK_THROWS_AS(jit::index_select(x, 0, i64({-1})), jit::Error);  // as torch
  CHECK_THROWS_AS(jit::index_select(x, 0, f32({0})), jit::Error);
  CHECK_THROWS_AS(jit::index_select(x, 0, i64({0, 1}, {1, 2})), jit::Error);
  CHECK_THROWS_AS(jit::index_select(x, 2, i64({0})), jit::Error);
}

TEST_CASE("layout: gather") {
  Tensor x = m34();
  // out[i][j] = x[idx[i][j]][j] along dim 0, x[i][idx[i][j]] along dim 1
  CHECK_VALUES(jit::gather(x, 1, i64({3, 0, 1, 1, 2, 0}, {3, 2})), DType::f32, {3, 2}, {3, 0, 5, 5, 10, 8});
  CHECK_VALUES(jit::gather(x, 0, i64({2, 1, 0, 0}, {1, 4})), DType::f32, {1, 4}, {8, 5, 2, 3});
  CHECK_VALUES(jit::gather(x, -2, i32({1, 2}, {2, 1})), DType::f32, {2, 1}, {4, 8});
  CHECK_VALUES(jit::gather(x, 1, jit::zeros({3, 0}, DType::i64)), DType::f32, {3, 0}, {});
  CHECK_VALUES(jit::gather(f64({1, 2, 3}), 0, i64({2, 2, 0, 1})), DType::f64, {4}, {3, 3, 1, 2});
  CHECK_VALUES(jit::gather(scalar(DType::f32, 9), 0, scalar(DType::i64, 0)), DType::f32, {}, {9});
  CHECK_THROWS_AS(jit::gather(x, 1, i64({4}, {1, 1})), jit::Error);
  CHECK_THROWS_AS(jit::gather(x, 1, i64({0, 1})), jit::Error);           // rank mismatch
  CHECK_THROWS_AS(jit::gather(x, 1, i64({0, 0, 0, 0}, {4, 1})), jit::Error);  // larger than x on dim 0
  CHECK_THROWS_AS(jit::gather(x, 1, f32({0}, {1, 1})), jit::Error);
}

TEST_CASE("layout: concat and stack") {
  Tensor a = f32({1, 2, 3, 4}, {2, 2}), b = f32({5, 6}, {1, 2});
  CHECK_VALUES(jit::concat({a, b}), DType::f32, {3, 2}, {1, 2, 3, 4, 5, 6});
  CHECK_VALUES(jit::concat({a, b.reshape({2, 1})}, 1), DType::f32, {2, 3}, {1, 2, 5, 3, 4, 6});
  CHECK_VALUES(jit::concat({a, a, b}, -2), DType::f32, {5, 2}, {1, 2, 3, 4, 1, 2, 3, 4, 5, 6});
  CHECK_VALUES(jit::concat({a}), DType::f32, {2, 2}, {1, 2, 3, 4});
  CHECK_VALUES(jit::concat({a, jit::zeros({0, 2})}), DType::f32, {2, 2}, {1, 2, 3, 4});
  CHECK_VALUES(jit::concat({a.transpose(0, 1), b}), DType::f32, {3, 2}, {1, 3, 2, 4, 5, 6});
  // dtypes promote, as torch.cat
  CHECK_VALUES(jit::concat({i32({1, 2}), f32({0.5})}), DType::f32, {3}, {1, 2, 0.5});
  CHECK_VALUES(jit::concat({i32({1}), i64({2})}), DType::i64, {2}, {1, 2});
  CHECK_VALUES(jit::concat({b8({1}), i32({2})}), DType::i32, {2}, {1, 2});
  CHECK_THROWS_AS(jit::concat({}), jit::Error);
  CHECK_THROWS_AS(jit::concat({a, f32({1, 2, 3}, {1, 3})}), jit::Error);
  CHECK_THROWS_AS(jit::concat({a, f32({1, 2})}), jit::Error);
  CHECK_THROWS_AS(jit::concat({scalar(DType::f32, 1), scalar(DType::f32, 2)}), jit::Error);
  CHECK_THROWS_AS(jit::concat({a, b}, 2), jit::Error);
  Tensor u = f32({1, 2}), v = f32({3, 4});
  CHECK_VALUES(jit::stack({u, v}), DType::f32, {2, 2}, {1, 2, 3, 4});
  CHECK_VALUES(jit::stack({u, v}, 1), DType::f32, {2, 2}, {1, 3, 2, 4});
  CHECK_VALUES(jit::stack({u, v}, -1), DType::f32, {2, 2}, {1, 3, 2, 4});
  CHECK_VALUES(jit::stack({u, v, u}, -2), DType::f32, {3, 2}, {1, 2, 3, 4, 1, 2});
  CHECK_VALUES(jit::stack({scalar(DType::i32, 1), scalar(DType::i32, 2)}), DType::i32, {2}, {1, 2});
  CHECK_VALUES(jit::stack({u, i32({5, 6})}), DType::f32, {2, 2}, {1, 2, 5, 6});
  CHECK(jit::stack({jit::zeros({0}), jit::zeros({0})}).shape() == Shape{2, 0});
  CHECK_THROWS_AS(jit::stack({u, f32({1, 2, 3})}), jit::Error);
  CHECK_THROWS_AS(jit::stack({u, v}, 2), jit::Error);
  CHECK_THROWS_AS(jit::stack({}), jit::Error);
}
