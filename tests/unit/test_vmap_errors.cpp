// tests/unit/test_vmap_errors.cpp: every error a user can make with jit::vmap, each checked for
// its kind and its message (the function's name, the argument, the shapes), and each followed
// by a good call of the same vmapped function: an error never poisons the cache.
#include "vmap_test_util.h"

#include <tuple>

namespace {

using jit::DType;
using jit::ErrorKind;
using jit::Shape;
using jit::Tensor;
using vt::error_of;

Tensor add2(const Tensor& a, const Tensor& b) { return a * 2.0 + b; }

// Both backends, each error message naming the function "blend".
struct Each {
  jit::Backend backend;
  jit::VmapOptions opts(jit::Randomness r = jit::Randomness::Error) const {
    return {.randomness = r, .backend = backend, .name = "blend"};
  }
};

}  // namespace

TEST_CASE("vmap errors: in_dims of the wrong length") {
  Tensor x = jit::randn({3, 4}, 1), y = jit::randn({3, 4}, 2);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto g = jit::vmap(add2, {0}, 0, Each{b}.opts());
    std::string m = error_of([&] { g(x, y); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "in_dims has 1 entries", "called with 2 arguments",
                   "(f32[3,4], f32[3,4])");
    auto h = jit::vmap(add2, {0, 0, 0}, 0, Each{b}.opts());
    m = error_of([&] { h(x, y); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "in_dims has 3 entries", "called with 2 arguments");
    auto s2 = jit::vmap([](const Tensor& a, double k) { return a * k; }, {0}, 0, Each{b}.opts());
    m = error_of([&] { s2(x, 2.0); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "in_dims has 1 entries", "(f32[3,4], not a tensor)");
    // A list counts every argument, tensors or not; mapping a non-tensor is an error.
    auto s = jit::vmap([](const Tensor& a, double k) { return a * k; }, {0, 0}, 0, Each{b}.opts());
    m = error_of([&] { s(x, 2.0); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "in_dims[1] = 0", "argument 1 is not a tensor");
    auto ok = jit::vmap([](const Tensor& a, double k) { return a * k; }, {0, jit::none}, 0, Each{b}.opts());
    CHECK_CLOSE(ok(x, 2.0), x * 2.0);
    // The same vmapped object, called with too few arguments, then with the right number.
    auto sum_all = jit::vmap([](const auto&... a) { return (a + ...); }, {0, 0}, 0, Each{b}.opts());
    m = error_of([&] { sum_all(x); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "in_dims has 2 entries", "called with 1 argument (f32[3,4])");
    CHECK_CLOSE(sum_all(x, y), x + y);
    m = error_of([&] { sum_all(x, y, x); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "in_dims has 2 entries", "called with 3 arguments");
    CHECK_CLOSE(sum_all(y, y), y * 2.0);
  }
}

TEST_CASE("vmap errors: out_dims of the wrong length") {
  auto two = [](const Tensor& a) { return std::make_tuple(a + 1.0, jit::sum(a)); };
  Tensor x = jit::randn({3, 4}, 1);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto g = jit::vmap(two, 0, {0}, Each{b}.opts());
    std::string m = error_of([&] { g(x); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "out_dims has 1 entries", "returns 2 outputs",
                   "(f32[4], f32[] per sample)");
    m = error_of([&] { g(x); }, ErrorKind::InvalidArgument);  // the same again, nothing cached
    CHECK_MENTIONS(m, "out_dims has 1 entries");
    auto h = jit::vmap(two, 0, {0, 0, 0}, Each{b}.opts());
    m = error_of([&] { h(x); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "out_dims has 3 entries", "returns 2 outputs");
    auto ok = jit::vmap(two, 0, {0, 0}, Each{b}.opts());
    CHECK_CLOSE(std::get<1>(ok(x)), jit::sum(x, {1}));
    // The same object: the number of outputs is the trace's, so a fixed function traces again.
    size_t count = 3;
    auto some = jit::vmap([&](const Tensor& a) { return std::vector<Tensor>(count, a * 2.0); }, 0,
                          {0, -1}, Each{b}.opts());
    m = error_of([&] { some(x); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "out_dims has 2 entries", "returns 3 outputs", "(f32[4], f32[4], f32[4] per sample)");
    count = 2;
    std::vector<Tensor> r = some(x);
    REQUIRE(r.size() == 2);
    CHECK_CLOSE(r[1], jit::transpose(x * 2.0, 0, 1));
  }
}

TEST_CASE("vmap errors: in_dim or out_dim out of range for the rank") {
  Tensor x = jit::randn({3, 4}, 1), y = jit::randn({3, 4}, 2), s = jit::scalar_tensor(1.0);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto g = jit::vmap(add2, {0, 2}, 0, Each{b}.opts());
    std::string m = error_of([&] { g(x, y); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "in_dims[1] = 2", "argument 1", "f32[3,4]", "rank 2", "[-2, 1]");
    auto n = jit::vmap(add2, {-3, 0}, 0, Each{b}.opts());
    m = error_of([&] { n(x, y); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "in_dims[0] = -3", "argument 0", "f32[3,4]");
    // A 0-d tensor has no dim to map.
    m = error_of([&] { g(s, x); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "in_dims[0] = 0", "argument 0", "f32[]", "scalar");
    // out_dim 2 for a per-sample f32[4]: the batched output has rank 2.
    auto o = jit::vmap(add2, 0, 2, Each{b}.opts());
    m = error_of([&] { o(x, y); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "out_dims[0] = 2", "output 0", "f32[4]", "[-2, 1]");
    auto on = jit::vmap(add2, 0, -3, Each{b}.opts());
    m = error_of([&] { on(x, y); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "out_dims[0] = -3", "output 0");
    // The same objects with good arguments.
    Tensor y3 = jit::randn({1, 4, 3}, 3);
    const vt::InDim in[] = {0, 2}, out0[] = {0};
    vt::Fn ref = [](std::span<const Tensor> a) { return std::vector<Tensor>{add2(a[0], a[1])}; };
    CHECK_CLOSE(g(x, y3), vt::per_sample(ref, in, out0, std::vector<Tensor>{x, y3})[0]);
    Tensor x3 = jit::randn({3, 4, 1}, 4);
    CHECK_CLOSE(o(x3, x3), jit::permute(x3 * 3.0, {1, 2, 0}));
  }
}

TEST_CASE("vmap errors: mapped arguments with different batch sizes") {
  Tensor x = jit::randn({3, 4}, 1), y = jit::randn({5, 4}, 2);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto g = jit::vmap(add2, 0, 0, Each{b}.opts());
    std::string m = error_of([&] { g(x, y); }, ErrorKind::BatchSize);
    CHECK_MENTIONS(m, "vmap(blend)", "different batch sizes", "argument 0 (f32[3,4], in_dim 0) has 3",
                   "argument 1 (f32[5,4], in_dim 0) has 5");
    // In another dim: [4, 5] mapped along 1 has 5.
    auto h = jit::vmap(add2, {0, -1}, 0, Each{b}.opts());
    m = error_of([&] { h(x, jit::randn({4, 5}, 3)); }, ErrorKind::BatchSize);
    CHECK_MENTIONS(m, "argument 0 (f32[3,4], in_dim 0) has 3", "argument 1 (f32[4,5], in_dim 1) has 5");
    CHECK(g(x, x).shape() == Shape{3, 4});
    CHECK(h(x, jit::randn({4, 3}, 4)).shape() == Shape{3, 4});
    // After a cache hit for one batch size, a mismatch is still caught.
    m = error_of([&] { g(x, y); }, ErrorKind::BatchSize);
    CHECK_MENTIONS(m, "has 3", "has 5");
  }
}

TEST_CASE("vmap errors: no mapped argument") {
  Tensor x = jit::randn({3, 4}, 1);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto g = jit::vmap(add2, {jit::none, jit::none}, 0, Each{b}.opts());
    std::string m = error_of([&] { g(x, x); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "no argument is mapped", "arguments: f32[3,4], f32[3,4]");
    auto none = jit::vmap(add2, jit::none, 0, Each{b}.opts());
    m = error_of([&] { none(x, x); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "no argument is mapped");
    // Only non-tensor arguments.
    auto k = jit::vmap([](double v) { return jit::scalar_tensor(v); }, 0, 0, Each{b}.opts());
    m = error_of([&] { k(1.0); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "no argument is mapped", "arguments: not a tensor");
    // The same object with a tensor argument.
    auto generic = jit::vmap([](const auto& a, double v) { return a * v; }, 0, 0, Each{b}.opts());
    m = error_of([&] { generic(2.0, 3.0); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "no argument is mapped", "arguments: not a tensor, not a tensor");
    CHECK_CLOSE(generic(x, 3.0), x * 3.0);
  }
}

TEST_CASE("vmap errors: an output that is not a tensor") {
  Tensor x = jit::randn({3, 4}, 1);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto g = jit::vmap([](const Tensor& a) { return jit::sum(a).defined() ? 1.0 : 0.0; }, 0, 0, Each{b}.opts());
    std::string m = error_of([&] { g(x); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "output 0", "not a jit::Tensor");
    auto u = jit::vmap([](const Tensor&) { return Tensor(); }, 0, 0, Each{b}.opts());
    m = error_of([&] { u(x); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "output 0", "undefined");
    CHECK(jit::cache_stats(g).entries == 0);
  }
}

TEST_CASE("vmap errors: out_dims none for a batched output; an unbatched one is broadcast") {
  auto f = [](const Tensor& a, const Tensor& w) { return std::make_tuple(a * w, w * 2.0); };
  Tensor x = jit::randn({3, 4}, 1), w = jit::randn({4}, 2);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto g = jit::vmap(f, {0, jit::none}, {jit::none, 0}, Each{b}.opts());
    std::string m = error_of([&] { g(x, w); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "out_dims[0] is none", "output 0", "f32[4]", "depends on a mapped input");
    // torch's rule: an output that does not depend on a mapped input, given an int out_dim, is
    // broadcast over the batch; given none, it is returned as it is.
    auto ok = jit::vmap(f, {0, jit::none}, {0, 1}, Each{b}.opts());
    auto [p, q] = ok(x, w);
    CHECK_CLOSE(p, x * w);
    CHECK(q.shape() == Shape{4, 3});
    CHECK_CLOSE(q, jit::expand(jit::unsqueeze(w * 2.0, 1), {4, 3}));
    auto un = jit::vmap(f, {0, jit::none}, {0, jit::none}, Each{b}.opts());
    CHECK_CLOSE(std::get<1>(un(x, w)), w * 2.0);
    // The same object, once its output no longer depends on the mapped input.
    bool depends = true;
    auto h = jit::vmap([&](const Tensor& a, const Tensor& v) { return depends ? a * v : v + 1.0; },
                       {0, jit::none}, jit::none, Each{b}.opts());
    m = error_of([&] { h(x, w); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(blend)", "out_dims[0] is none", "output 0");
    depends = false;
    CHECK_CLOSE(h(x, w), w + 1.0);
  }
}

TEST_CASE("vmap errors: a random op under randomness=error") {
  auto f = [](const Tensor& a) { return a + jit::randn_like(a); };
  Tensor x = jit::randn({3, 4}, 1);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto g = jit::vmap(f, 0, 0, Each{b}.opts());
    std::string m = error_of([&] { g(x); }, ErrorKind::Randomness);
    CHECK_MENTIONS(m, "vmap(blend)", "random op 'randn'", "f32[4]", "randomness=error",
                   "Randomness::Different", "Randomness::Same");
    m = error_of([&] { g(x); }, ErrorKind::Randomness);  // again: nothing was cached
    CHECK(jit::cache_stats(g).entries == 0);
    // Nested: the inner vmap chose, the outer one did not.
    auto inner = jit::vmap(f, 0, 0, Each{b}.opts(jit::Randomness::Different));
    auto outer = jit::vmap(inner, 0, 0, Each{b}.opts());
    m = error_of([&] { outer(jit::randn({2, 3, 4}, 2)); }, ErrorKind::Randomness);
    CHECK_MENTIONS(m, "vmap(blend)", "random op 'randn'");
    CHECK(inner(x).shape() == Shape{3, 4});
    // The same object, once the function no longer draws.
    bool noisy = true;
    auto h = jit::vmap([&](const Tensor& a) { return noisy ? a + jit::rand_like(a) : a * 3.0; }, 0, 0,
                       Each{b}.opts());
    m = error_of([&] { h(x); }, ErrorKind::Randomness);
    CHECK_MENTIONS(m, "vmap(blend)", "random op 'rand'", "f32[4]");
    noisy = false;
    CHECK_CLOSE(h(x), x * 3.0);
  }
}

TEST_CASE("vmap errors: data-dependent control flow") {
  Tensor x = jit::randn({3, 4}, 1);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto item = jit::vmap([&](const Tensor& a) { return jit::sum(a).item() > 0 ? a : -a; }, 0, 0, Each{b}.opts());
    std::string m = error_of([&] { item(x); }, ErrorKind::DataDependent);
    CHECK_MENTIONS(m, "vmap(blend)", "item()", "f32[]", "control flow", "jit::where");
    auto cond = jit::vmap([&](const Tensor& a) { return (jit::sum(a) > 0.0) ? a : -a; }, 0, 0, Each{b}.opts());
    m = error_of([&] { cond(x); }, ErrorKind::DataDependent);
    CHECK_MENTIONS(m, "vmap(blend)", "converting to bool", "bool[]");
    auto at = jit::vmap([&](const Tensor& a) { return a * a.at({0}); }, 0, 0, Each{b}.opts());
    m = error_of([&] { at(x); }, ErrorKind::DataDependent);
    CHECK_MENTIONS(m, "vmap(blend)", "f32[4]");
    // The same vmapped object, traced again without reading a value, works (control flow on a
    // C++ flag is fine: it is fixed while tracing).
    bool read = true;
    auto flag = jit::vmap([&](const Tensor& a) { return read && jit::sum(a).item() > 0 ? a : a * 2.0; },
                          0, 0, Each{b}.opts());
    m = error_of([&] { flag(x); }, ErrorKind::DataDependent);
    CHECK_MENTIONS(m, "vmap(blend)", "item()");
    read = false;
    CHECK_CLOSE(flag(x), x * 2.0);
    auto fixed = jit::vmap([&](const Tensor& a) { return jit::where(jit::sum(a) > 0.0, a, -a); }, 0, 0,
                           Each{b}.opts());
    CHECK_CLOSE(fixed(x), jit::where(jit::sum(x, {1}, true) > 0.0, x, -x));
  }
}

TEST_CASE("vmap errors: an op's shape error inside f names the function and the shapes") {
  Tensor x = jit::randn({3, 4}, 1), y = jit::randn({3, 5}, 2);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto g = jit::vmap(jit::dot, 0, 0, Each{b}.opts());
    std::string m = error_of([&] { g(x, y); }, ErrorKind::Shape);
    CHECK_MENTIONS(m, "vmap(blend)", "dot", "f32[4]", "f32[5]");
    CHECK_CLOSE(g(x, x), jit::sum(x * x, {1}));
    CHECK(jit::cache_stats(g).compiles == 1);
  }
}

TEST_CASE("vmap errors: bad options") {
  std::string m = error_of([] { jit::vmap(add2, 0, 0, {.chunk_size = -1, .name = "blend"}); },
                           ErrorKind::InvalidArgument);
  CHECK_MENTIONS(m, "vmap(blend)", "chunk_size", "-1");
}

TEST_CASE("vmap errors: an error inside a nested vmap names both functions") {
  Tensor xs = jit::randn({2, 3, 4}, 1), ys = jit::randn({2, 5, 4}, 2);
  for (jit::Backend b : vt::kBackends) {
    CAPTURE(vt::backend_name(b));
    auto inner = jit::vmap(add2, 0, 0, {.backend = b, .name = "inner"});
    auto outer = jit::vmap(inner, 0, 0, {.backend = b, .name = "outer"});
    std::string m = error_of([&] { outer(xs, ys); }, ErrorKind::BatchSize);
    CHECK_MENTIONS(m, "vmap(outer)", "vmap(inner)", "argument 0 (f32[3,4], in_dim 0) has 3",
                   "argument 1 (f32[5,4], in_dim 0) has 5");
    CHECK_CLOSE(outer(xs, xs), xs * 3.0);
    auto bad_dim = jit::vmap(jit::vmap(add2, {0, 2}, 0, {.backend = b, .name = "inner"}), 0, 0,
                             {.backend = b, .name = "outer"});
    m = error_of([&] { bad_dim(xs, xs); }, ErrorKind::InvalidArgument);
    CHECK_MENTIONS(m, "vmap(outer)", "vmap(inner)", "in_dims[1] = 2", "argument 1", "f32[3,4]");
  }
}
