// tests/unit/test_tensor.cpp: jit::Tensor, concrete: dtypes, shapes and strides, owning and
// borrowed buffers, factories, element access, copies, casts, printing and allclose.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <sstream>
#include <vector>

#include "frontend/buffer_cache.h"
#include "frontend/views.h"
#include "op_test_util.h"

using namespace optest;
using jit::ErrorKind;

TEST_CASE("tensor: dtype names, sizes and categories") {
  CHECK(jit::dtype_name(DType::f32) == "f32");
  CHECK(jit::dtype_name(DType::f64) == "f64");
  CHECK(jit::dtype_name(DType::i32) == "i32");
  CHECK(jit::dtype_name(DType::i64) == "i64");
  CHECK(jit::dtype_name(DType::b8) == "bool");
  CHECK(jit::dtype_size(DType::f32) == 4);
  CHECK(jit::dtype_size(DType::f64) == 8);
  CHECK(jit::dtype_size(DType::i32) == 4);
  CHECK(jit::dtype_size(DType::i64) == 8);
  CHECK(jit::dtype_size(DType::b8) == 1);
  CHECK(jit::is_float(DType::f64));
  CHECK_FALSE(jit::is_float(DType::i32));
  CHECK(jit::is_int(DType::i64));
  CHECK_FALSE(jit::is_int(DType::b8));
}

TEST_CASE("tensor: shape, strides, numel, size(d)") {
  Tensor t = jit::zeros({2, 3, 4});
  CHECK(t.is_concrete());
  CHECK_FALSE(t.is_symbolic());
  CHECK(t.dim() == 3);
  CHECK(t.shape() == Shape{2, 3, 4});
  CHECK(t.strides() == Shape{12, 4, 1});
  CHECK(t.numel() == 24);
  CHECK(t.size(0) == 2);
  CHECK(t.size(-1) == 4);
  CHECK(t.is_contiguous());
  CHECK_THROWS_AS(t.size(3), jit::Error);
  Tensor s = jit::scalar_tensor(2.5);
  CHECK(s.dim() == 0);
  CHECK(s.numel() == 1);
  CHECK(s.item() == 2.5);
  Tensor e = jit::zeros({3, 0});
  CHECK(e.numel() == 0);
  CHECK(e.to_vector().empty());
  CHECK_FALSE(Tensor().defined());
  CHECK_THROWS_AS(Tensor().shape(), jit::Error);
}

TEST_CASE("tensor: zeros, ones, full, empty in every dtype") {
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::b8}) {
    CAPTURE(jit::dtype_name(t));
    CHECK_VALUES(jit::zeros({2, 2}, t), t, {2, 2}, {0, 0, 0, 0});
    CHECK_VALUES(jit::ones({3}, t), t, {3}, {1, 1, 1});
    CHECK(jit::empty({4, 1}, t).shape() == Shape{4, 1});
    CHECK(jit::empty({4, 1}, t).dtype() == t);
  }
  CHECK_VALUES(jit::full({2}, 2.5), DType::f32, {2}, {2.5, 2.5});
  CHECK_VALUES(jit::full({2}, 7, DType::i64), DType::i64, {2}, {7, 7});
  CHECK_VALUES(jit::full({2}, 2.7, DType::i32), DType::i32, {2}, {2, 2});  // truncates, as torch
  CHECK_VALUES(jit::full({1}, 3, DType::b8), DType::b8, {1}, {1});
  CHECK_VALUES(jit::full({1}, 0.5, DType::b8), DType::b8, {1}, {1});  // nonzero is true, as torch
  CHECK_VALUES(jit::full({2}, -2.7, DType::i64), DType::i64, {2}, {-2, -2});
  CHECK_VALUES(jit::full({1}, 1e20, DType::i32), DType::i32, {1}, {2147483647});  // saturates, as a cast
  CHECK_VALUES(jit::full({1}, INT64_MAX, DType::i64), DType::i64, {1}, {double(INT64_MAX)});
  CHECK(jit::full({1}, INT64_MAX - 1, DType::i64).data<int64_t>()[0] == INT64_MAX - 1);  // exact
  CHECK_VALUES(jit::full({}, -1.5, DType::f64), DType::f64, {}, {-1.5});
  CHECK_VALUES(jit::zeros_like(i32({1, 2, 3})), DType::i32, {3}, {0, 0, 0});
  CHECK_VALUES(jit::ones_like(f64({1, 2}, {1, 2})), DType::f64, {1, 2}, {1, 1});
  CHECK_VALUES(jit::scalar_tensor(4, DType::i64), DType::i64, {}, {4});
}

TEST_CASE("tensor: arange, both forms, and eye") {
  CHECK_VALUES(jit::arange(5), DType::i64, {5}, {0, 1, 2, 3, 4});
  CHECK_VALUES(jit::arange(3, DType::f32), DType::f32, {3}, {0, 1, 2});
  CHECK_VALUES(jit::arange(0), DType::i64, {0}, {});
  CHECK_VALUES(jit::arange(-2), DType::i64, {0}, {});
  CHECK_VALUES(jit::arange(0.0, 1.0, 0.25), DType::f32, {4}, {0, 0.25, 0.5, 0.75});
  CHECK_VALUES(jit::arange(1.0, 4.0), DType::f32, {3}, {1, 2, 3});
  CHECK_VALUES(jit::arange(5.0, 0.0, -2.0, DType::i32), DType::i32, {3}, {5, 3, 1});
  CHECK_VALUES(jit::arange(0.0, 1.0, 0.3, DType::f64), DType::f64, {4}, {0, 0.3, 0.6, 0.9});
  CHECK(jit::arange(0.0, 1.0, 0.1).numel() == 10);
  CHECK(jit::arange(3.0, 1.0).numel() == 0);
  CHECK_THROWS_AS(jit::arange(0.0, 1.0, 0.0), jit::Error);
  CHECK_THROWS_AS(jit::arange(0.0, INFINITY), jit::Error);
  CHECK_VALUES(jit::eye(3), DType::f32, {3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1});
  CHECK_VALUES(jit::eye(2, DType::i64), DType::i64, {2, 2}, {1, 0, 0, 1});
  CHECK(jit::eye(0).shape() == Shape{0, 0});
}

TEST_CASE("tensor: tensor({...}) 1-D and 2-D, from_vector") {
  CHECK_VALUES(jit::tensor({1.5f, -2.f}), DType::f32, {2}, {1.5, -2});
  CHECK_VALUES(jit::tensor({1.5, -2.0}), DType::f64, {2}, {1.5, -2});
  CHECK_VALUES(jit::tensor({1, 2, 3}), DType::i32, {3}, {1, 2, 3});
  CHECK_VALUES(jit::tensor<int64_t>({4, 5}), DType::i64, {2}, {4, 5});
  CHECK_VALUES(jit::tensor({true, false, true}), DType::b8, {3}, {1, 0, 1});
  CHECK_VALUES(jit::tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}}), DType::f32, {2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK_VALUES(jit::tensor({{1, 2}, {3, 4}}), DType::i32, {2, 2}, {1, 2, 3, 4});
  CHECK_THROWS_AS(jit::tensor({{1.f, 2.f}, {3.f}}), jit::Error);
  CHECK_VALUES(jit::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2}), DType::f64, {3, 2},
               {1, 2, 3, 4, 5, 6});
  CHECK_VALUES(jit::from_vector(std::vector<bool>{true, false}), DType::b8, {2}, {1, 0});
  CHECK_VALUES(jit::from_vector(std::vector<int64_t>{}), DType::i64, {0}, {});
}

TEST_CASE("tensor: from_blob borrows the caller's buffer without copying") {
  float buf[6] = {1, 2, 3, 4, 5, 6};
  Tensor t = jit::from_blob(buf, {2, 3}, DType::f32);
  CHECK(t.data() == static_cast<void*>(buf));
  CHECK(t.data<float>() == buf);
  CHECK(t.strides() == Shape{3, 1});
  buf[4] = 50;  // the tensor reads the caller's memory
  CHECK(t.at({1, 1}) == 50);
  t.set({0, 2}, -3);  // and writes it
  CHECK(buf[2] == -3);
  Tensor view = t;  // a copy of a Tensor is the same tensor
  view.set({1, 2}, 60);
  CHECK(buf[5] == 60);
  Tensor c = t.clone();  // a clone owns a copy
  CHECK(c.data() != t.data());
  c.set({0, 0}, 100);
  CHECK(buf[0] == 1);
  CHECK_VALUES(c, DType::f32, {2, 3}, {100, 2, -3, 4, 50, 60});
  CHECK(t.contiguous().data() == t.data());  // already contiguous: no copy
  // ops read borrowed memory at call time
  CHECK_VALUES(jit::sum(t), DType::f32, {}, {1 + 2 - 3 + 4 + 50 + 60});
  CHECK_THROWS_AS(jit::from_blob(nullptr, {2}, DType::f32), jit::Error);
  CHECK(jit::from_blob(nullptr, {0}, DType::f32).numel() == 0);
  CHECK_THROWS_AS(jit::from_blob(buf, {2, 3}, DType::f32, {1}), jit::Error);
}

TEST_CASE("tensor: strided from_blob (a column-major view)") {
  int64_t buf[6] = {0, 1, 2, 3, 4, 5};
  // buf as a 2x3 matrix stored column by column: element (i, j) at i + 2 * j
  Tensor t = jit::from_blob(buf, {2, 3}, DType::i64, {1, 2});
  CHECK(t.strides() == Shape{1, 2});
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.at({0, 1}) == 2);
  CHECK(t.at({1, 2}) == 5);
  CHECK(t.at({-1, -3}) == 1);
  CHECK_VALUES(t, DType::i64, {2, 3}, {0, 2, 4, 1, 3, 5});
  Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.data() != t.data());
  CHECK_VALUES(c, DType::i64, {2, 3}, {0, 2, 4, 1, 3, 5});
  CHECK_VALUES(jit::sum(t, {1}), DType::i64, {2}, {6, 9});
  CHECK_VALUES(t + 10, DType::i64, {2, 3}, {10, 12, 14, 11, 13, 15});
  // an interior pointer, every other element of a row
  float row[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  CHECK_VALUES(jit::from_blob(row + 1, {3}, DType::f32, {2}), DType::f32, {3}, {1, 3, 5});
  // a broadcast view (stride 0)
  CHECK_VALUES(jit::from_blob(row + 2, {2, 2}, DType::f32, {0, 1}), DType::f32, {2, 2}, {2, 3, 2, 3});
}

TEST_CASE("tensor: element access: at, set, item, bool, data<T>") {
  Tensor t = i32({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.at({1, 0}) == 4);
  CHECK(t.at({-1, -1}) == 6);
  t.set({0, 1}, 20.9);  // float to int truncates
  CHECK(t.at({0, 1}) == 20);
  CHECK_THROWS_AS(t.at({2, 0}), jit::Error);
  CHECK_THROWS_AS(t.at({0, -4}), jit::Error);
  CHECK_THROWS_AS(t.at({0}), jit::Error);
  CHECK_THROWS_AS(t.item(), jit::Error);
  CHECK(t.data<int32_t>()[3] == 4);
  CHECK_THROWS_AS(t.data<float>(), jit::Error);
  CHECK(f32({2.5}).item() == 2.5);
  CHECK(f64({7.75}, {1, 1}).item<int>() == 7);
  CHECK(scalar(DType::i64, -3).item<int64_t>() == -3);
  CHECK(static_cast<bool>(scalar(DType::f32, 0.5)));
  CHECK_FALSE(static_cast<bool>(scalar(DType::i32, 0)));
  CHECK(static_cast<bool>(scalar(DType::b8, 1)));
  CHECK(static_cast<bool>(scalar(DType::f32, kNan)));  // NaN is nonzero
  CHECK_THROWS_AS((void)static_cast<bool>(f32({1, 2})), jit::Error);
  Tensor b = b8({0, 0});
  b.set({1}, 5);
  CHECK_VALUES(b, DType::b8, {2}, {0, 1});
}

TEST_CASE("tensor: to(dtype) casts; float to int saturates and NaN becomes 0") {
  Tensor x = f32({1.7, -1.7, 1e20, -1e20, kNan, kInf, -kInf, 0});
  CHECK_VALUES(x.to(DType::i32), DType::i32, {8},
               {1, -1, 2147483647, -2147483648.0, 0, 2147483647, -2147483648.0, 0});
  CHECK_VALUES(x.to(DType::i64), DType::i64, {8},
               {1, -1, 9223372036854775807.0, -9223372036854775808.0, 0, 9223372036854775807.0,
                -9223372036854775808.0, 0});
  CHECK_VALUES(x.to(DType::b8), DType::b8, {8}, {1, 1, 1, 1, 1, 1, 1, 0});
  CHECK_VALUES(x.to(DType::f64), DType::f64, {8},
               {double(1.7f), double(-1.7f), double(1e20f), double(-1e20f), kNan, kInf, -kInf, 0});
  CHECK_VALUES(f64({0.1}).to(DType::f32), DType::f32, {1}, {double(0.1f)}, 0, 0);
  CHECK_VALUES(i64({(1ll << 32) + 5, -1}).to(DType::i32), DType::i32, {2}, {5, -1});  // wraps
  CHECK_VALUES(b8({1, 0}).to(DType::f32), DType::f32, {2}, {1, 0});
  CHECK_VALUES(i32({-2, 0, 3}).to(DType::b8), DType::b8, {3}, {1, 0, 1});
  Tensor same = x.to(DType::f32);
  CHECK(same.data() == x.data());  // a cast to its own dtype is the tensor itself
}

TEST_CASE("tensor: contiguous and clone of views") {
  Tensor m = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor c = m.clone();
  CHECK(c.data() != m.data());
  CHECK_VALUES(c, DType::f32, {2, 3}, {1, 2, 3, 4, 5, 6});
  m.set({0, 0}, 9);
  CHECK(c.at({0, 0}) == 1);
  Tensor t = m.transpose(0, 1);
  CHECK(t.shape() == Shape{3, 2});
  CHECK_VALUES(t.contiguous(), DType::f32, {3, 2}, {9, 4, 2, 5, 3, 6});
  CHECK_VALUES(t.clone(), DType::f32, {3, 2}, {9, 4, 2, 5, 3, 6});
  CHECK(jit::zeros({0, 4}).clone().shape() == Shape{0, 4});
}

TEST_CASE("tensor: printing") {
  CHECK(f32({1, 2.5, -3}).to_string() == "f32[3] [1, 2.5, -3]");
  CHECK(i64({1, 2, 3, 4}, {2, 2}).to_string() == "i64[2,2] [[1, 2],\n [3, 4]]");
  CHECK(b8({1, 0}).to_string() == "bool[2] [true, false]");
  CHECK(scalar(DType::f32, 5).to_string() == "f32[] 5");
  CHECK(scalar(DType::i32, -7).to_string() == "i32[] -7");
  CHECK(f64({kNan, kInf, -kInf, 0.1}).to_string() == "f64[4] [nan, inf, -inf, 0.1]");
  CHECK(f32({1.0 / 3}).to_string() == "f32[1] [0.333333]");
  CHECK(jit::zeros({0}).to_string() == "f32[0] []");
  CHECK(jit::arange(10).to_string() == "i64[10] [0, 1, 2, ..., 7, 8, 9]");
  CHECK(jit::arange(16).reshape({8, 2}).to_string() ==
        "i64[8,2] [[0, 1],\n [2, 3],\n [4, 5],\n ...,\n [10, 11],\n [12, 13],\n [14, 15]]");
  CHECK(jit::arange(8).reshape({2, 2, 2}).to_string() ==
        "i64[2,2,2] [[[0, 1],\n  [2, 3]],\n [[4, 5],\n  [6, 7]]]");
  CHECK(jit::zeros({2, 0}).to_string() == "f32[2,0] [[],\n []]");
  CHECK(Tensor().to_string() == "Tensor(undefined)");
  std::ostringstream os;
  os << i32({4, 5});
  CHECK(os.str() == "i32[2] [4, 5]");
  // a strided view prints its logical order
  int32_t buf[4] = {1, 2, 3, 4};
  CHECK(jit::from_blob(buf, {2, 2}, DType::i32, {1, 2}).to_string() == "i32[2,2] [[1, 3],\n [2, 4]]");
}

TEST_CASE("tensor: allclose") {
  Tensor a = f32({1, 2, 3});
  CHECK(jit::allclose(a, f32({1, 2, 3})));
  CHECK(jit::allclose(a, f64({1, 2, 3})));  // values, not dtypes, are compared
  CHECK_FALSE(jit::allclose(a, f32({1, 2})));
  CHECK_FALSE(jit::allclose(a, f32({1, 2, 3}, {3, 1})));
  // |a - b| <= atol + rtol * |b|
  CHECK(jit::allclose(f64({100.0009}), f64({100}), 1e-5, 0));
  CHECK_FALSE(jit::allclose(f64({100.0011}), f64({100}), 1e-5, 0));
  CHECK(jit::allclose(f64({0.5}), f64({0.4}), 0, 0.1 + 1e-12));
  CHECK_FALSE(jit::allclose(f64({0.5}), f64({0.4}), 0, 0.09));
  CHECK(jit::allclose(f64({1e-9}), f64({0})));  // the default atol is 1e-8
  CHECK_FALSE(jit::allclose(f64({1e-7}), f64({0})));
  // NaN: never close unless equal_nan, and then only to NaN
  CHECK_FALSE(jit::allclose(f64({kNan}), f64({kNan})));
  CHECK(jit::allclose(f64({kNan, 1}), f64({kNan, 1}), 1e-5, 1e-8, true));
  CHECK_FALSE(jit::allclose(f64({kNan}), f64({1}), 1e-5, 1e-8, true));
  CHECK_FALSE(jit::allclose(f64({1}), f64({kNan}), 1e-5, 1e-8, true));
  // infinities match exactly, whatever the tolerance
  CHECK(jit::allclose(f64({kInf, -kInf}), f64({kInf, -kInf})));
  CHECK_FALSE(jit::allclose(f64({kInf}), f64({-kInf})));
  CHECK_FALSE(jit::allclose(f64({kInf}), f64({1e308}), 1, 1e308));
  CHECK_FALSE(jit::allclose(f64({1e308}), f64({kInf}), 1, 1e308));
  CHECK(jit::allclose(jit::zeros({0}), jit::zeros({0})));
}

TEST_CASE("tensor: seeded rand and randn are reproducible") {
  Tensor a = jit::rand({64}, 7), b = jit::rand({64}, 7), c = jit::rand({64}, 8);
  CHECK(a.dtype() == DType::f32);
  CHECK(std::memcmp(a.data(), b.data(), 64 * sizeof(float)) == 0);
  CHECK_FALSE(jit::allclose(a, c));
  Tensor n = jit::randn({2, 32}, 7, DType::f64);
  CHECK(n.dtype() == DType::f64);
  CHECK(n.shape() == Shape{2, 32});
  CHECK(jit::allclose(n, jit::randn({2, 32}, 7, DType::f64), 0, 0));
  CHECK_FALSE(jit::allclose(n, jit::randn({2, 32}, 9, DType::f64)));
}

TEST_CASE("tensor: a large buffer freed is kept for the next tensor of its size, within a limit") {
  namespace d = jit::detail;
  size_t limit = d::buffer_cache_limit();
  if (limit == 0) {  // off (under AddressSanitizer): every buffer goes back to malloc
    { Tensor a = jit::empty({512, 512}); }
    CHECK(d::cached_buffer_bytes() == 0);
    return;
  }
  const size_t mib = 1 << 20;
  d::trim_buffer_cache();  // whatever earlier tests left
  REQUIRE(d::cached_buffer_bytes() == 0);
  void* p;
  {
    Tensor a = jit::full({512, 512}, 1.5f);  // 1 MiB
    p = a.data();
    Tensor view = d::narrow_view(a, 0, 0, 2);
    a = Tensor();
    CHECK(d::cached_buffer_bytes() == 0);  // the view still holds it
  }
  CHECK(d::cached_buffer_bytes() == mib);
  {
    Tensor b = jit::empty({256, 1024});  // the same size, another shape: the same buffer
    CHECK(b.data() == p);
    CHECK(d::cached_buffer_bytes() == 0);
    Tensor c = jit::empty({1024, 1025});  // another rounded size: not from the cache
    CHECK(d::cached_buffer_bytes() == 0);
  }
  CHECK(d::cached_buffer_bytes() == mib + 1025 * 4096);  // 1024 x 1025 floats: 1025 pages of 4 KiB
  // A buffer larger than the whole cache goes back to malloc.
  { Tensor huge = jit::empty({static_cast<int64_t>(limit / 4 + 1024)}); }
  CHECK(d::cached_buffer_bytes() == mib + 1025 * 4096);
  // Buffers adding up to more than the limit: the least recently freed go first. Two 2 MiB
  // buffers freed first, then 1 MiB ones past the limit: both 2 MiB ones are gone, so a new
  // 2 MiB tensor takes nothing from the cache.
  d::trim_buffer_cache();
  { Tensor x = jit::empty({512, 1024}), y = jit::empty({512, 1024}); }
  CHECK(d::cached_buffer_bytes() == 4 * mib);
  {
    std::vector<Tensor> many;
    for (size_t i = 0; i < limit / mib; ++i) many.push_back(jit::empty({256, 1024}));
  }
  CHECK(d::cached_buffer_bytes() == limit);
  {
    Tensor z = jit::empty({512, 1024});
    CHECK(d::cached_buffer_bytes() == limit);
  }
  d::trim_buffer_cache();
  CHECK(d::cached_buffer_bytes() == 0);
}
