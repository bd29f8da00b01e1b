// tests/unit/test_vmap_semantics.cpp: torch.vmap's semantics, each against the per-sample loop
// on both backends: the seeds' examples, in_dims and out_dims anywhere, several outputs,
// non-tensor arguments, captured tensors read at call time, randomness, chunking, empty batches,
// nested and inline vmap, and concurrent callers.
#include "vmap_test_util.h"

#include <latch>
#include <thread>
#include <tuple>

namespace {

using jit::DType;
using jit::Shape;
using jit::Tensor;
using vt::InDim;
using A = std::span<const Tensor>;

const InDim k0[] = {0};

Tensor simple_func(const Tensor& x) { return x * 2 + 1; }

// Sample (i, j) of a batch with two leading batch dims.
Tensor sample(const Tensor& t, int64_t i, int64_t j) { return jit::select(jit::select(t, 0, i), 0, j); }

}  // namespace

TEST_CASE("vmap semantics: the seeds' examples") {
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    jit::VmapOptions o{.backend = backend};

    // simple_func over a [4, 3] batch.
    Tensor batch_input = jit::randn({4, 3}, 1);
    Tensor out = jit::vmap(simple_func, 0, 0, o)(batch_input);
    CHECK(out.shape() == Shape{4, 3});
    CHECK_CLOSE(out, batch_input * 2.0 + 1.0);

    // Batched dot: [B, N] . [B, N] -> [B].
    Tensor x = jit::randn({64, 5}, 2), y = jit::randn({64, 5}, 3);
    Tensor d = jit::vmap(jit::dot, 0, 0, o)(x, y);
    CHECK(d.shape() == Shape{64});
    CHECK_CLOSE(d, jit::sum(x * y, {1}));

    // dot with in_dims (1, 1), out_dims 0: [5, 4] inputs, the batch of 4 along dim 1.
    Tensor xb = jit::randn({5, 4}, 4), yb = jit::randn({5, 4}, 5);
    Tensor db = jit::vmap(jit::dot, {1, 1}, 0, o)(xb, yb);
    CHECK(db.shape() == Shape{4});
    CHECK_CLOSE(db, jit::sum(xb * yb, {0}));

    // The model with captured weights, against the stacked loop of the eager model.
    Tensor weights = jit::randn({5}, 6);
    auto model = [&](const Tensor& feature_vec) { return jit::relu(jit::dot(feature_vec, weights)); };
    Tensor examples = jit::randn({10, 5}, 7);
    std::vector<Tensor> rows;
    for (int64_t i = 0; i < 10; ++i) rows.push_back(model(jit::select(examples, 0, i)));
    Tensor batched = jit::vmap(model, 0, 0, o)(examples);
    CHECK_CLOSE(batched, jit::stack(rows));
  }
}

TEST_CASE("vmap semantics: in_dims anywhere, out_dims anywhere (negative too)") {
  auto f = [](const Tensor& a, const Tensor& b) { return jit::tanh(a) * b + jit::sum(b); };
  vt::Fn ref = [&](A x) { return std::vector<Tensor>{f(x[0], x[1])}; };
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    jit::VmapOptions o{.backend = backend};
    // a: [2, B, 3] (in_dim 1), b: [2, 3, B] (in_dim 2).
    Tensor a = jit::randn({2, 5, 3}, 1), b = jit::randn({2, 3, 5}, 2);
    const InDim in[] = {1, 2};
    for (int64_t out : {0, 1, 2, -1, -2, -3}) {
      CAPTURE(out);
      const InDim od[] = {out};
      Tensor r = jit::vmap(f, {1, 2}, out, o)(a, b);
      CHECK_CLOSE(r, vt::per_sample(ref, in, od, std::vector<Tensor>{a, b})[0]);
    }
    // One int for every argument: in_dims = -1 maps the last dim of both.
    const InDim last[] = {-1, -1};
    Tensor c = jit::randn({2, 3, 5}, 3);
    CHECK_CLOSE(jit::vmap(f, -1, 0, o)(b, c), vt::per_sample(ref, last, k0, std::vector<Tensor>{b, c})[0]);
  }
}

TEST_CASE("vmap semantics: inputs that are strided views") {
  std::vector<float> buf(6 * 10);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = 0.1f * float(i) - 2.f;
  // Every other column of a [6, 10] buffer: a [6, 5] view, and its transpose [5, 6].
  Tensor view = jit::from_blob(buf.data(), {6, 5}, DType::f32, {10, 2});
  Tensor tview = jit::from_blob(buf.data(), {5, 6}, DType::f32, {2, 10});
  REQUIRE_FALSE(view.is_contiguous());
  auto f = [](const Tensor& x) { return jit::softmax(x, 0) * x; };
  vt::Fn ref = [&](A x) { return std::vector<Tensor>{f(x[0])}; };
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    const InDim one[] = {1};
    CHECK_CLOSE(jit::vmap(f, 0, 0, {.backend = backend})(view), vt::per_sample(ref, k0, k0, {&view, 1})[0]);
    CHECK_CLOSE(jit::vmap(f, 1, 0, {.backend = backend})(tview), vt::per_sample(ref, one, k0, {&tview, 1})[0]);
  }
}

TEST_CASE("vmap semantics: several outputs (a tuple) with one out_dim each") {
  auto f = [](const Tensor& x, const Tensor& w) {
    return std::make_tuple(jit::sum(x * w), jit::outer(x, w), x * 2.0, w + 1.0);
  };
  vt::Fn ref = [&](A a) {
    auto [s, o, d, u] = f(a[0], a[1]);
    return std::vector<Tensor>{s, o, d, u};
  };
  Tensor x = jit::randn({3, 7}, 1), w = jit::randn({3}, 2);
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    // x mapped along dim 1; w not mapped. The last output does not depend on x: with an int
    // out_dim it is broadcast over the batch (as torch), with none it is returned as it is.
    auto g = jit::vmap(f, {1, jit::none}, {0, -1, 1, 0}, {.backend = backend});
    auto [s, o, d, u] = g(x, w);
    const InDim in[] = {1, std::nullopt}, out[] = {0, -1, 1, 0};
    std::vector<Tensor> want = vt::per_sample(ref, in, out, std::vector<Tensor>{x, w});
    CHECK(s.shape() == Shape{7});
    CHECK(o.shape() == Shape{3, 3, 7});
    CHECK(d.shape() == Shape{3, 7});
    CHECK(u.shape() == Shape{7, 3});
    CHECK_CLOSE(std::vector<Tensor>{s, o, d, u}, want);

    auto h = jit::vmap(f, {1, jit::none}, {0, 0, 0, jit::none}, {.backend = backend});
    Tensor unbatched = std::get<3>(h(x, w));
    CHECK_CLOSE(unbatched, w + 1.0);

    // A std::vector<Tensor> result, one out_dim for all.
    auto v = jit::vmap([](const Tensor& a) { return jit::unbind(a, 0); }, 0, -1, {.backend = backend});
    std::vector<Tensor> parts = v(x);
    REQUIRE(parts.size() == 7);
    CHECK_CLOSE(parts[2], jit::select(x, 1, 2));
  }
}

TEST_CASE("vmap semantics: non-tensor arguments pass through and are part of the signature") {
  auto f = [](const Tensor& x, double scale, int power, bool negate) {
    Tensor r = jit::pow(x * scale, power);
    return negate ? -r : r;
  };
  Tensor x = jit::randn({4, 3}, 1);
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    // in_dims: one int maps every tensor and ignores the other arguments; a list names them.
    auto g = jit::vmap(f, 0, 0, {.backend = backend});
    auto h = jit::vmap(f, {0, jit::none, jit::none, jit::none}, 0, {.backend = backend});
    CHECK_CLOSE(g(x, 2.0, 2, false), jit::pow(x * 2.0, 2));
    CHECK_CLOSE(g(x, 3.0, 2, false), jit::pow(x * 3.0, 2));
    CHECK_CLOSE(g(x, 3.0, 3, false), jit::pow(x * 3.0, 3));
    CHECK_CLOSE(g(x, 3.0, 3, true), -jit::pow(x * 3.0, 3));
    CHECK_CLOSE(g(x, 2.0, 2, false), jit::pow(x * 2.0, 2));
    CHECK(jit::cache_stats(g).compiles == 4);
    CHECK(jit::cache_stats(g).hits == 1);
    CHECK_CLOSE(h(x, -0.5, 1, true), x * 0.5);
  }
}

TEST_CASE("vmap semantics: captured tensors are read at call time") {
  std::vector<float> buf = {1.f, -2.f, 0.5f, 3.f};
  Tensor weights = jit::from_blob(buf.data(), {4}, DType::f32);
  auto model = [&](const Tensor& x) { return jit::relu(jit::dot(x, weights)); };
  Tensor xs = jit::randn({6, 4}, 1);
  auto loop = [&] {
    std::vector<Tensor> rows;
    for (int64_t i = 0; i < 6; ++i) rows.push_back(model(jit::select(xs, 0, i)));
    return jit::stack(rows);
  };
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    auto g = jit::vmap(model, 0, 0, {.backend = backend});
    buf = {1.f, -2.f, 0.5f, 3.f};
    Tensor before = g(xs);
    CHECK_CLOSE(before, loop());
    buf = {-1.f, 4.f, 0.f, 0.25f};  // the same buffer, new values
    Tensor after = g(xs);
    CHECK_CLOSE(after, loop());
    CHECK_FALSE(jit::allclose(before, after));
    CHECK(jit::cache_stats(g).compiles == 1);
  }
}

TEST_CASE("vmap semantics: randomness different, same, reproducible, chunked") {
  auto random_addition = [](const Tensor& x) { return x + jit::randn_like(x); };
  auto uniform = [](const Tensor& x) { return x * jit::rand({2}); };
  Tensor zeros = jit::zeros({5, 3});
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    auto diff = jit::vmap(random_addition, 0, 0, {.randomness = jit::Randomness::Different, .backend = backend});
    auto same = jit::vmap(random_addition, 0, 0, {.randomness = jit::Randomness::Same, .backend = backend});

    jit::manual_seed(7);
    Tensor d = diff(zeros);
    Tensor d_next = diff(zeros);
    jit::manual_seed(7);
    CHECK_CLOSE(diff(zeros), d, 0, 0);  // reproducible from the seed
    CHECK_FALSE(jit::allclose(d, d_next));  // the next call draws new values
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = i + 1; j < 5; ++j)
        CHECK_FALSE(jit::allclose(jit::select(d, 0, i), jit::select(d, 0, j)));
    CHECK(jit::sum(jit::isnan(d)).item() == 0);

    jit::manual_seed(7);
    Tensor s = same(zeros);
    for (int64_t i = 1; i < 5; ++i) CHECK_CLOSE(jit::select(s, 0, i), jit::select(s, 0, 0), 0, 0);
    CHECK_FALSE(jit::allclose(jit::select(s, 0, 0), jit::zeros({3})));
    jit::manual_seed(7);
    CHECK_CLOSE(same(zeros), s, 0, 0);

    // rand of a fixed shape, not of a mapped input, follows the mode too.
    Tensor ones = jit::ones({4, 2});
    Tensor u = jit::vmap(uniform, 0, 0, {.randomness = jit::Randomness::Different, .backend = backend})(ones);
    CHECK_FALSE(jit::allclose(jit::select(u, 0, 0), jit::select(u, 0, 1)));
    CHECK(jit::min(u).item() >= 0.0);
    CHECK(jit::max(u).item() < 1.0);
    Tensor us = jit::vmap(uniform, 0, 0, {.randomness = jit::Randomness::Same, .backend = backend})(ones);
    CHECK_CLOSE(jit::select(us, 0, 3), jit::select(us, 0, 0), 0, 0);

    // Chunked (and threaded) equals unchunked, for both modes.
    Tensor big = jit::zeros({17, 3});
    for (auto mode : {jit::Randomness::Different, jit::Randomness::Same}) {
      jit::manual_seed(11);
      Tensor whole = jit::vmap(random_addition, 0, 0, {.randomness = mode, .backend = backend})(big);
      for (int64_t chunk : {1, 2, 7}) {
        CAPTURE(chunk);
        jit::manual_seed(11);
        auto g = jit::vmap(random_addition, 0, 0, {.randomness = mode, .chunk_size = chunk, .backend = backend});
        CHECK_CLOSE(g(big), whole, 0, 0);
      }
      jit::manual_seed(11);
      auto t = jit::vmap(random_addition, 0, 0, {.randomness = mode, .backend = backend, .threads = 2});
      CHECK_CLOSE(t(big), whole, 0, 0);
    }
  }
}

TEST_CASE("vmap semantics: randomness in nested vmap") {
  auto noise = [](const Tensor& x) { return x + jit::rand_like(x); };
  Tensor z = jit::zeros({3, 4, 2});
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    jit::VmapOptions diff{.randomness = jit::Randomness::Different, .backend = backend};
    jit::VmapOptions same{.randomness = jit::Randomness::Same, .backend = backend};
    // Different at both levels: every (i, j) differs.
    Tensor dd = jit::vmap(jit::vmap(noise, 0, 0, diff), 0, 0, diff)(z);
    CHECK_FALSE(jit::allclose(sample(dd, 0, 0), sample(dd, 0, 1)));
    CHECK_FALSE(jit::allclose(sample(dd, 0, 0), sample(dd, 1, 0)));
    // Same inside, different outside: equal along the inner batch, not along the outer one.
    Tensor sd = jit::vmap(jit::vmap(noise, 0, 0, same), 0, 0, diff)(z);
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 1; j < 4; ++j) CHECK_CLOSE(sample(sd, i, j), sample(sd, i, 0), 0, 0);
    CHECK_FALSE(jit::allclose(jit::select(sd, 0, 0), jit::select(sd, 0, 1)));
  }
}

TEST_CASE("vmap semantics: chunk_size 1, 2 and 7 equal the unchunked call") {
  Tensor w = jit::randn({4, 3}, 1);
  auto f = [&](const Tensor& x, const Tensor& y) {
    return std::make_tuple(jit::softmax(jit::mv(w, x), 0) * jit::sum(y), jit::mean(y));
  };
  Tensor xs = jit::randn({17, 3}, 2), ys = jit::randn({5, 17}, 3);
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    auto [a, b] = jit::vmap(f, {0, 1}, {0, -1}, {.backend = backend})(xs, ys);
    for (int64_t chunk : {1, 2, 7, 17, 100}) {
      CAPTURE(chunk);
      auto g = jit::vmap(f, {0, 1}, {0, -1}, {.chunk_size = chunk, .backend = backend});
      auto [c, d] = g(xs, ys);
      CHECK_CLOSE(c, a, 0, 0);
      CHECK_CLOSE(d, b, 0, 0);
      // Other batch sizes with the same compiled function, chunked.
      auto [e, h] = g(jit::slice(xs, 0, 0, 9), jit::slice(ys, 1, 0, 9));
      CHECK_CLOSE(e, jit::slice(a, 0, 0, 9), 0, 0);
      CHECK_CLOSE(h, jit::slice(b, 0, 0, 9), 0, 0);
      CHECK(jit::cache_stats(g).compiles == 1);
    }
  }
}

TEST_CASE("vmap semantics: batch size 0 gives empty outputs of the right shape") {
  Tensor w = jit::randn({3}, 1);
  auto f = [&](const Tensor& x) {
    return std::make_tuple(jit::dot(x, w), jit::outer(x, w), w * 2.0, jit::sum(w));
  };
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    auto g = jit::vmap(f, 0, {0, 1, -1, jit::none}, {.backend = backend});
    auto [a, b, c, d] = g(jit::zeros({0, 3}));
    CHECK(a.shape() == Shape{0});
    CHECK(b.shape() == Shape{3, 0, 3});
    CHECK(c.shape() == Shape{3, 0});
    CHECK(d.shape() == Shape{});  // not batched: returned as it is
    CHECK(d.item() == doctest::Approx(jit::sum(w).item()));
    // in_dim 1 with 0 samples; then a non-empty batch with the same compiled function.
    auto h = jit::vmap(simple_func, 1, 0, {.backend = backend});
    CHECK(h(jit::zeros({2, 0, 4})).shape() == Shape{0, 2, 4});
    Tensor x = jit::randn({2, 3, 4}, 2);
    CHECK_CLOSE(h(x), jit::permute(x, {1, 0, 2}) * 2.0 + 1.0);
    // Nested, with an empty inner batch.
    auto nested = jit::vmap(jit::vmap(jit::dot, {jit::none, 0}), {0, jit::none}, 0, {.backend = backend});
    CHECK(nested(jit::zeros({4, 3}), jit::zeros({0, 3})).shape() == Shape{4, 0});
    CHECK(nested(jit::zeros({0, 3}), jit::zeros({2, 3})).shape() == Shape{0, 2});
  }
}

TEST_CASE("vmap semantics: nested vmap computes all pairs") {
  auto dist = [](const Tensor& a, const Tensor& b) { return jit::sqrt(jit::sum(jit::square(a - b))); };
  Tensor xs = jit::randn({5, 4}, 1), ys = jit::randn({6, 4}, 2);
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    jit::VmapOptions o{.backend = backend};
    auto pairs = jit::vmap(jit::vmap(dist, {jit::none, 0}, 0, o), {0, jit::none}, 0, o);
    Tensor d = pairs(xs, ys);
    REQUIRE(d.shape() == Shape{5, 6});
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 6; ++j)
        CHECK(d.at({i, j}) ==
              doctest::Approx(dist(jit::select(xs, 0, i), jit::select(ys, 0, j)).item()).epsilon(1e-5));
    // Three levels, the innermost over the features: |x_i[k] - y_j[k]|.
    auto absdiff = [](const Tensor& a, const Tensor& b) { return jit::abs(a - b); };
    auto triple =
        jit::vmap(jit::vmap(jit::vmap(absdiff, {0, 0}, 0, o), {jit::none, 0}, 0, o), {0, jit::none}, 0, o);
    Tensor t = triple(xs, ys);
    REQUIRE(t.shape() == Shape{5, 6, 4});
    CHECK_CLOSE(t, jit::abs(jit::unsqueeze(xs, 1) - jit::unsqueeze(ys, 0)));
    CHECK(jit::cache_stats(pairs).compiles == 1);
  }
}

TEST_CASE("vmap semantics: a vmapped function called inside a traced function is traced inline") {
  Tensor w = jit::randn({4}, 1);
  auto model = [&](const Tensor& x) { return jit::relu(jit::dot(x, w)); };
  Tensor xs = jit::randn({6, 4}, 2);
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    auto batched = jit::vmap(model, 0, 0, {.backend = backend});
    auto outer = jit::compile([&](const Tensor& x) { return jit::softmax(batched(x), 0); }, {.backend = backend});
    Tensor got = outer(xs);
    CHECK_CLOSE(got, jit::softmax(batched(xs), 0));
    CHECK(jit::cache_stats(batched).compiles == 1);  // only the direct call compiled
    CHECK(jit::cache_stats(outer).compiles == 1);
    // A compiled function called inside vmap, and vmap of it, are inline too.
    auto c = jit::compile(model, {.backend = backend});
    CHECK_CLOSE(jit::vmap(c, 0, 0, {.backend = backend})(xs), batched(xs));
    CHECK(jit::cache_stats(c).compiles == 0);
  }
}

TEST_CASE("vmap semantics: threads calling one vmapped function with different shapes") {
  Tensor w = jit::randn({5}, 1);
  auto f = [&](const Tensor& x) { return jit::softmax(x, -1) * jit::sum(x) + jit::mean(w); };
  const int64_t widths[] = {2, 3, 5, 8};
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    auto g = jit::vmap(f, 0, 0, {.backend = backend, .threads = 1});
    std::latch start(8);
    std::vector<int> bad(8, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        start.arrive_and_wait();  // all eight miss the cache together
        for (int i = 0; i < 6; ++i) {
          int64_t width = widths[(t + i) % 4], batch = 1 + (t * 5 + i) % 9;
          Tensor x = jit::randn({batch, 3, width}, uint64_t(t * 100 + i));
          Tensor want = jit::softmax(x, -1) * jit::sum(x, {1, 2}, true) + jit::mean(w);
          if (!vt::differs(g(x), want).empty()) ++bad[t];
        }
      });
    for (auto& th : threads) th.join();
    for (int t = 0; t < 8; ++t) CHECK(bad[t] == 0);
    CHECK(jit::cache_stats(g).compiles == 4);  // one per width, however many threads missed
    CHECK(jit::cache_stats(g).entries == 4);
    CHECK(jit::cache_stats(g).hits == 8 * 6 - 4);
  }
}
