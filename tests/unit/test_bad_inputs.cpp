// tests/unit/test_bad_inputs.cpp: the bad-input catalogue. Each case checks the jit::Error and
// its message, then that the same vmapped function still works (no poisoned cache).
#include <doctest/doctest.h>

#include <jit/jit.h>

#include <sys/mman.h>

#include <cmath>
#include <limits>

namespace {

using jit::Tensor;

Tensor f(const Tensor& x, const Tensor& w) { return jit::tanh(jit::mv(w, x)) + 1.0; }

// The function works on good input after whatever happened before.
void still_works(const jit::Transformed<Tensor (*)(const Tensor&, const Tensor&)>& g) {
  Tensor xs = jit::randn({4, 3}, 1), w = jit::randn({2, 3}, 2);
  Tensor ys = g(xs, w);
  REQUIRE(ys.shape() == jit::Shape{4, 2});
  CHECK(jit::allclose(jit::select(ys, 0, 3), f(jit::select(xs, 0, 3), w), 1e-5, 1e-6));
}

template <class Fn>
void expect_error(Fn&& fn, jit::ErrorKind kind, std::initializer_list<const char*> parts) {
  try {
    fn();
    FAIL("no jit::Error was thrown");
  } catch (const jit::Error& e) {
    CHECK(e.kind() == kind);
    for (const char* p : parts) {
      INFO("message: " << std::string(e.what()));
      CHECK(std::string(e.what()).find(p) != std::string::npos);
    }
  }
}

}  // namespace

TEST_CASE("bad input: the catalogue, each followed by a good call") {
  auto g = jit::vmap(&f, {0, jit::none}, 0, {.name = "f"});
  Tensor w = jit::randn({2, 3}, 2);
  SUBCASE("mismatched batch sizes") {
    auto h = jit::vmap(&f, {0, 0}, 0, {.name = "f"});
    expect_error([&] { h(jit::randn({4, 3}, 1), jit::randn({5, 2, 3}, 2)); }, jit::ErrorKind::BatchSize,
                 {"vmap(f)", "argument 0", "has 4", "argument 1", "has 5"});
  }
  SUBCASE("in_dims out of range") {
    auto h = jit::vmap(&f, {2, jit::none}, 0, {.name = "f"});
    expect_error([&] { h(jit::randn({4, 3}, 1), w); }, jit::ErrorKind::InvalidArgument,
                 {"vmap(f)", "in_dims[0] = 2", "f32[4,3]"});
  }
  SUBCASE("out_dims out of range") {
    auto h = jit::vmap(&f, {0, jit::none}, 5, {.name = "f"});
    expect_error([&] { h(jit::randn({4, 3}, 1), w); }, jit::ErrorKind::InvalidArgument, {"out_dims[0] = 5"});
  }
  SUBCASE("wrong rank") {
    expect_error([&] { g(jit::randn({4, 3, 2}, 1), w); }, jit::ErrorKind::Shape, {"vmap(f)", "mv"});
  }
  SUBCASE("wrong dtype") {
    expect_error([&] { g(jit::randn({4, 3}, 1).to(jit::DType::f64), w); }, jit::ErrorKind::DType,
                 {"vmap(f)", "f64", "f32"});
  }
  SUBCASE("batch size 0 is fine: empty outputs of the right shape") {
    Tensor ys = g(jit::zeros({0, 3}), w);
    CHECK(ys.shape() == jit::Shape{0, 2});
  }
  SUBCASE("a shape whose element count overflows int64") {
    expect_error([] { jit::zeros({int64_t(1) << 40, int64_t(1) << 40}); }, jit::ErrorKind::Shape,
                 {"more elements than fit in int64"});
  }
  SUBCASE("an allocation too large is a jit::Error, not std::bad_alloc") {
    expect_error([] { jit::empty({int64_t(1) << 38, 16}); }, jit::ErrorKind::OutOfMemory, {"cannot allocate"});
    auto big = jit::vmap([](const Tensor& x) { return jit::expand(jit::unsqueeze(x, 0), {int64_t(1) << 36, 3}); });
    expect_error([&] { big(jit::randn({4, 3}, 1)); }, jit::ErrorKind::OutOfMemory, {"cannot allocate"});
  }
  SUBCASE("NaN and Inf inputs propagate") {
    Tensor xs = jit::full({2, 3}, NAN);
    xs.set({1, 0}, INFINITY);
    Tensor ys = g(xs, w);
    CHECK(std::isnan(ys.at({0, 0})));
    bool ok = !std::isfinite(ys.at({1, 0})) || std::abs(ys.at({1, 0})) <= 2.0;
    CHECK(ok);
  }
  SUBCASE("a traced value kept past its trace, passed to a compiled function") {
    Tensor kept;
    auto keep = jit::vmap([&](const Tensor& x) {
      kept = x;
      return x * 2.0;
    });
    keep(jit::randn({4, 3}, 1));
    REQUIRE(kept.is_symbolic());
    for (int i = 0; i < 2; ++i)  // the second time too: nothing was cached
      expect_error([&] { g(kept, w); }, jit::ErrorKind::InvalidArgument,
                   {"vmap(f)", "tensor argument 0", "traced value outside its trace"});
    auto twice = jit::vmap([](const Tensor& x) { return x * 2.0; });
    expect_error([&] { twice.into({kept}, jit::randn({4, 3}, 1)); }, jit::ErrorKind::InvalidArgument,
                 {"output buffer 0 is a traced value"});
  }
  SUBCASE("a random op under randomness=error") {
    auto r = jit::vmap([](const Tensor& x) { return x + jit::randn_like(x); }, 0, 0, {.name = "noisy"});
    expect_error([&] { r(jit::zeros({3, 2})); }, jit::ErrorKind::Randomness,
                 {"vmap(noisy)", "randn", "randomness=error", "Randomness::Different"});
  }
  SUBCASE("caller output buffers: wrong shape, non-contiguous, aliasing an input") {
    Tensor xs = jit::randn({4, 3}, 1);
    expect_error([&] { g.into({jit::empty({4, 3})}, xs, w); }, jit::ErrorKind::Shape,
                 {"output buffer 0", "f32[4,3]", "f32[4,2]"});
    // A non-contiguous buffer is fine: written through its strides.
    std::vector<float> buf(4 * 2 * 3, -1.f);
    Tensor strided = jit::from_blob(buf.data(), {4, 2}, jit::DType::f32, {6, 3});
    g.into({strided}, xs, w);
    CHECK(jit::allclose(strided, g(xs, w)));
    CHECK(buf[1] == -1.f);  // the gaps are untouched
    // Aliasing an input is refused: the kernel would read what it had overwritten.
    std::vector<float> shared(4 * 3);
    Tensor in = jit::from_blob(shared.data(), {4, 3}, jit::DType::f32);
    Tensor out = jit::from_blob(shared.data(), {4, 2}, jit::DType::f32);
    expect_error([&] { g.into({out}, in, w); }, jit::ErrorKind::InvalidArgument, {"overlaps the memory of argument 0"});
    // So is aliasing a captured tensor (an implicit input read at every call).
    Tensor weights = jit::randn({4, 3}, 2);
    auto h = jit::vmap([&](const Tensor& x) { return x * jit::sum(weights); }, 0, 0, {.name = "scaled"});
    Tensor over_weights = jit::from_blob(weights.data<float>(), {4, 3}, jit::DType::f32);
    expect_error([&] { h.into({over_weights}, xs); }, jit::ErrorKind::InvalidArgument,
                 {"scaled", "output buffer 0", "captures", "f32[4,3]"});
    Tensor ok = jit::empty({4, 3});
    h.into({ok}, xs);
    CHECK(jit::allclose(ok, xs * jit::sum(weights)));
  }
  SUBCASE("caller output buffers after a cache hit: the same checks on the fast path") {
    // Two outputs, so that buffers can overlap each other; each bad call follows a good one of
    // the same signature (the cache-hit path, which checks the call in one pass).
    auto two = jit::vmap([](const Tensor& x, const Tensor& v) { return std::make_tuple(jit::mv(v, x), x * 2.0); },
                         {0, jit::none}, 0, {.name = "two"});
    std::vector<float> mem(64, 0.f);
    auto at = [&](int64_t offset, jit::Shape shape) {
      return jit::from_blob(mem.data() + offset, shape, jit::DType::f32);
    };
    Tensor xs = jit::randn({4, 3}, 3);
    auto good = [&] {
      two.into({at(0, {4, 2}), at(8, {4, 3})}, xs, w);
      CHECK(jit::allclose(at(0, {4, 2}), jit::vmap([&](const Tensor& x) { return jit::mv(w, x); })(xs)));
    };
    good();
    expect_error([&] { two.into({at(0, {4, 2}), at(7, {4, 3})}, xs, w); }, jit::ErrorKind::InvalidArgument,
                 {"two", "output buffers 0 and 1 overlap"});
    good();
    Tensor in = at(40, {4, 3});
    expect_error([&] { two.into({at(0, {4, 2}), at(30, {4, 3})}, in, w); }, jit::ErrorKind::InvalidArgument,
                 {"two", "output buffer 1 overlaps the memory of argument 0"});
    good();
    expect_error([&] { two.into({at(0, {4, 2}), at(8, {5, 3})}, xs, w); }, jit::ErrorKind::Shape,
                 {"two", "output buffer 1", "f32[5,3]", "f32[4,3]"});
    good();
    expect_error([&] { two.into({at(0, {4, 2}), at(8, {4, 3}).to(jit::DType::f64)}, xs, w); },
                 jit::ErrorKind::Shape, {"two", "output buffer 1", "f64[4,3]"});
    good();
    expect_error([&] { two.into({at(0, {4, 2})}, xs, w); }, jit::ErrorKind::InvalidArgument,
                 {"two", "1 output buffers given for 2 outputs"});
    good();
    // Empty buffers overlap nothing.
    Tensor none_x = jit::randn({0, 3}, 4);
    two.into({at(0, {0, 2}), at(0, {0, 3})}, none_x, w);
    two.into({at(0, {0, 2}), at(0, {0, 3})}, none_x, w);
    good();
    CHECK(jit::cache_stats(two).hits >= 7);
  }
  still_works(g);
}

TEST_CASE("bad input: index arithmetic beyond 2^31 elements is exact") {
  // Three samples 2^31 + 7 elements apart in a reserved but untouched address range: only the
  // pages holding them are ever written.
  const int64_t stride = (int64_t(1) << 31) + 7;
  const size_t bytes = static_cast<size_t>(3 * stride) * sizeof(float);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) {
    MESSAGE("cannot reserve the address range; skipped");
    return;
  }
  float* p = static_cast<float*>(mem);
  for (int i = 0; i < 3; ++i) p[i * stride] = 1.5f * float(i + 1);
  Tensor xs = jit::from_blob(p, {3}, jit::DType::f32, {stride});
  auto g = jit::vmap([](const Tensor& x) { return x * 2.0 + 1.0; });
  Tensor ys = g(xs);
  CHECK(ys.at({0}) == doctest::Approx(4.0));
  CHECK(ys.at({2}) == doctest::Approx(10.0));
  // Written through the same huge stride.
  Tensor out = jit::from_blob(p + 1, {3}, jit::DType::f32, {stride});
  g.into({out}, jit::tensor({1.f, 2.f, 3.f}));
  CHECK(p[1 + 2 * stride] == 7.f);
  // A broadcast view of 2^31 + 8 elements, summed per sample without materializing it.
  auto s = jit::vmap([](const Tensor& x) { return jit::sum(jit::expand(x, {(int64_t(1) << 31) + 8})); });
  Tensor one = jit::full({2, 1}, 0.25, jit::DType::f64);
  CHECK(s(one).at({1}) == doctest::Approx(double((int64_t(1) << 29) + 2)));
  munmap(mem, bytes);
}
