// tests/unit/test_vmap_edges.cpp: vmap at its edges, against the per-sample loop on both
// backends: outputs that are inputs or captured tensors, a nested function closing over the
// outer sample, caller-owned output buffers, and vmap of grad (whose IR holds pad and
// scatter_add, ops no public function makes directly).
#include "vmap_test_util.h"

#include <tuple>

namespace {

using jit::DType;
using jit::Shape;
using jit::Tensor;
using vt::InDim;
using A = std::span<const Tensor>;

const InDim k0[] = {0};

}  // namespace

TEST_CASE("vmap edges: outputs that are an input, a captured tensor or a constant") {
  Tensor w = jit::randn({3}, 1), x = jit::randn({4, 3}, 2), y = jit::randn({3, 4}, 3);
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    jit::VmapOptions o{.backend = backend};
    // The identity, with the batch dim moved or kept.
    CHECK_CLOSE(jit::vmap([](const Tensor& a) { return a; }, 0, 0, o)(x), x);
    CHECK_CLOSE(jit::vmap([](const Tensor& a) { return a; }, 1, 0, o)(y), jit::transpose(y, 0, 1));
    CHECK_CLOSE(jit::vmap([](const Tensor& a) { return a; }, 0, 1, o)(x), jit::transpose(x, 0, 1));
    // The same value twice, an unmapped input, a captured tensor and a constant.
    auto f = [&](const Tensor& a, const Tensor& b) {
      return std::make_tuple(a, a, b, w, jit::scalar_tensor(2.5));
    };
    auto g = jit::vmap(f, {0, jit::none}, {0, -1, 0, jit::none, 0}, o);
    auto [p, q, r, s, t] = g(x, w);
    CHECK_CLOSE(p, x);
    CHECK_CLOSE(q, jit::transpose(x, 0, 1));
    CHECK_CLOSE(r, jit::expand(jit::unsqueeze(w, 0), {4, 3}));
    CHECK_CLOSE(s, w);
    CHECK_CLOSE(t, jit::full({4}, 2.5));
    // The outputs are fresh: writing one changes neither the inputs nor another output.
    p.set({0, 0}, 100.0);
    CHECK(x.at({0, 0}) != 100.0);
    CHECK(q.at({0, 0}) != 100.0);
    s.set({0}, 100.0);
    CHECK(w.at({0}) != 100.0);
  }
}

TEST_CASE("vmap edges: a nested function closing over the outer sample") {
  // For each x_i: [x_i . y_j for every j], the inner function capturing x_i from the outer trace.
  Tensor xs = jit::randn({5, 3}, 1), ys = jit::randn({4, 3}, 2);
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    jit::VmapOptions o{.backend = backend};
    auto rows = jit::vmap(
        [&](const Tensor& x) {
          return jit::vmap([&](const Tensor& y) { return jit::dot(x, y) * jit::sum(x); }, 0, 0, o)(ys);
        },
        0, 0, o);
    Tensor got = rows(xs);
    REQUIRE(got.shape() == Shape{5, 4});
    CHECK_CLOSE(got, jit::mm(xs, jit::transpose(ys, 0, 1)) * jit::sum(xs, {1}, true));
  }
}

TEST_CASE("vmap edges: results written into caller-owned buffers") {
  Tensor xs = jit::randn({6, 3}, 1);
  auto f = [](const Tensor& a) { return std::make_tuple(jit::softmax(a, 0), jit::sum(a)); };
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    auto g = jit::vmap(f, 0, {1, 0}, {.backend = backend});
    std::vector<float> a(3 * 6), b(6);
    Tensor out_a = jit::from_blob(a.data(), {3, 6}, DType::f32);
    Tensor out_b = jit::from_blob(b.data(), {6}, DType::f32);
    g.into({out_a, out_b}, xs);
    CHECK_CLOSE(out_a, jit::transpose(jit::softmax(xs, 1), 0, 1));
    CHECK_CLOSE(out_b, jit::sum(xs, {1}));
    // A buffer of the wrong shape is an error naming it; then a good call works.
    Tensor wrong = jit::zeros({6, 3});
    std::string m = vt::error_of([&] { g.into({wrong, out_b}, xs); }, jit::ErrorKind::Shape);
    CHECK_MENTIONS(m, "output buffer 0", "f32[6,3]", "f32[3,6]");
    g.into({out_a, out_b}, xs * 2.0);
    CHECK_CLOSE(out_b, jit::sum(xs, {1}) * 2.0);
  }
}

TEST_CASE("vmap edges: a list of output buffers, short and long (past the ones kept on the stack)") {
  Tensor xs = jit::randn({5, 4}, 2);
  for (int n : {1, 3, 8, 9, 12}) {
    CAPTURE(n);
    auto f = [n](const Tensor& a) {
      std::vector<Tensor> outs;
      for (int k = 0; k < n; ++k) outs.push_back(a * double(k + 1) + double(k));
      return outs;
    };
    for (jit::Backend backend : vt::kBackends) {
      CAPTURE(vt::backend_name(backend));
      auto g = jit::vmap(f, 0, 0, {.backend = backend});
      std::vector<Tensor> outs;
      for (int k = 0; k < n; ++k) outs.push_back(jit::full({5, 4}, -1.0));
      for (int call = 0; call < 2; ++call) {  // the first compiles, the second hits the cache
        g.into(outs, xs * double(call + 1));
        for (int k = 0; k < n; ++k) CHECK_CLOSE(outs[k], xs * double(call + 1) * double(k + 1) + double(k));
      }
      // Too few buffers, or one of another shape: an error that names it.
      std::vector<Tensor> fewer(outs.begin(), outs.end() - 1);
      std::string few = vt::error_of([&] { g.into(fewer, xs); }, jit::ErrorKind::InvalidArgument);
      std::string counts = fmt::format("{} output buffers given for {} outputs", n - 1, n);
      CHECK_MENTIONS(few, counts.c_str());
      std::vector<Tensor> bad = outs;
      bad[n - 1] = jit::zeros({4, 5});
      std::string m = vt::error_of([&] { g.into(bad, xs); }, jit::ErrorKind::Shape);
      std::string which = fmt::format("output buffer {}", n - 1);
      CHECK_MENTIONS(m, which.c_str(), "f32[4,5]");
    }
  }
}

TEST_CASE("vmap edges: vmap of grad batches the derivative's ops (pad, scatter_add)") {
  // Per-sample gradients through slice (whose derivative pads), index_select and gather (whose
  // derivatives scatter-add), against a loop of grad.
  Tensor idx = jit::tensor({2, 0, 2, 1}).to(DType::i64);
  auto loss = [&](const Tensor& w, const Tensor& x, const Tensor& g) {
    Tensor a = jit::slice(w * x, 0, 1, 5, 2);
    Tensor b = jit::index_select(w, 0, idx);
    Tensor c = jit::gather(w, 0, g);
    return jit::sum(jit::square(a)) + jit::sum(b * jit::sum(x)) + jit::sum(jit::exp(c));
  };
  Tensor w = jit::randn({6}, 1), xs = jit::randn({5, 6}, 2);
  Tensor gs = jit::cast(jit::floor(jit::rand({5, 3}, 3) * 6.0), DType::i64);
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    jit::GradOptions go{.backend = backend};
    auto per_sample = jit::vmap(jit::grad(loss, 0, go), {jit::none, 0, 0}, 0, {.backend = backend});
    Tensor got = per_sample(w, xs, gs);
    const InDim in[] = {std::nullopt, 0, 0};
    auto one = jit::grad(loss, 0, go);
    vt::Fn ref = [&](A a) { return std::vector<Tensor>{one(a[0], a[1], a[2])}; };
    CHECK_CLOSE(got, vt::per_sample(ref, in, k0, std::vector<Tensor>{w, xs, gs})[0]);
    // Gradients with respect to the mapped argument, in_dim 1.
    auto wrt_x = jit::vmap(jit::grad(loss, 1, go), {jit::none, 1, 0}, 0, {.backend = backend});
    Tensor xt = jit::transpose(xs, 0, 1).contiguous();
    const InDim in1[] = {std::nullopt, 1, 0};
    auto one_x = jit::grad(loss, 1, go);
    vt::Fn ref_x = [&](A a) { return std::vector<Tensor>{one_x(a[0], a[1], a[2])}; };
    CHECK_CLOSE(wrt_x(w, xt, gs), vt::per_sample(ref_x, in1, k0, std::vector<Tensor>{w, xt, gs})[0]);
    CHECK(jit::cache_stats(per_sample).fallbacks == 0);
  }
}

TEST_CASE("vmap edges: an undefined tensor argument is an error naming it") {
  Tensor x = jit::randn({3, 2}, 1);
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    auto g = jit::vmap([](const Tensor& a, const Tensor& b) { return a + b; }, 0, 0,
                       {.backend = backend, .name = "sum2"});
    CHECK_CLOSE(g(x, x), x * 2.0);  // first, so the fast path is primed
    std::string m = vt::error_of([&] { g(x, Tensor()); }, jit::ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(sum2)", "argument 1", "undefined");
    CHECK_CLOSE(g(x, x), x * 2.0);
  }
}

TEST_CASE("vmap edges: random ops in jit::compile, and an inline vmap's draws inside it") {
  auto noise = [](const Tensor& x) { return x + jit::rand_like(x); };
  Tensor z = jit::zeros({4, 3});
  for (jit::Backend backend : vt::kBackends) {
    CAPTURE(vt::backend_name(backend));
    // Nothing is mapped in jit::compile: random ops draw, with no randomness mode to choose.
    auto c = jit::compile(noise, {.backend = backend});
    jit::manual_seed(5);
    Tensor a = c(z);
    Tensor a_next = c(z);
    jit::manual_seed(5);
    CHECK_CLOSE(c(z), a, 0, 0);
    CHECK_FALSE(jit::allclose(a, a_next));
    CHECK(jit::min(a).item() >= 0.0);
    // A vmap with Randomness::Different traced inline into a compiled function.
    auto inner = jit::vmap(noise, 0, 0, {.randomness = jit::Randomness::Different, .backend = backend});
    auto outer = jit::compile([&](const Tensor& x) { return inner(x) * 2.0; }, {.backend = backend});
    jit::manual_seed(5);
    Tensor b = outer(z);
    CHECK_FALSE(jit::allclose(jit::select(b, 0, 0), jit::select(b, 0, 1)));
    jit::manual_seed(5);
    CHECK_CLOSE(outer(z), b, 0, 0);
    // Under the default mode the inline vmap still refuses.
    auto strict = jit::vmap(noise, 0, 0, {.backend = backend, .name = "noise"});
    auto wrapped = jit::compile([&](const Tensor& x) { return strict(x); }, {.backend = backend});
    std::string m = vt::error_of([&] { wrapped(z); }, jit::ErrorKind::Randomness);
    CHECK_MENTIONS(m, "vmap(noise)", "random op 'rand'");
  }
}
