// tests/unit/test_tiers.cpp: the two tiers of compiled code (quick kernels first, optimized ones
// installed from a background thread) give the same bits, and compiled code lives as long as
// the functions that use it.
#include <doctest/doctest.h>

#include <jit/jit.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "backend_test_util.h"
#include "runtime/engine.h"

using namespace backend_test;

TEST_CASE("backend: tiers give the same bits on transcendentals, reductions and contractions") {
  // Beyond agree()'s cases: every vecmath function, NaN/Inf/-0 through reductions, integer
  // contractions and a long contraction with partial accumulators.
  std::vector<float> edge{0.f, -0.f, 1e-30f, -1e-30f, 88.7f, -103.f, INFINITY, -INFINITY, NAN, 0.5f, -2.5f, 1e6f};
  Tensor e = jit::from_blob(edge.data(), {2, 6}, jit::DType::f32).contiguous();
  Tensor x = batch_of({40}, 33, 21) * 3.0;
  agree("exp log1p expm1", [](const Tensor& a) { return jit::exp(a) + jit::log1p(jit::abs(a)) - jit::expm1(a * 0.5); }, 0, x);
  agree("tanh sigmoid erf", [](const Tensor& a) { return jit::tanh(a) * jit::sigmoid(a) + jit::erf(a); }, 0, x);
  agree("sin cos", [](const Tensor& a) { return jit::sin(a * 10.0) - jit::cos(a); }, 0, x);
  agree("pow sqrt", [](const Tensor& a) { return jit::pow(jit::abs(a), 0.7) + jit::sqrt(jit::abs(a)); }, 0, x);
  agree("edges", [](const Tensor& a) { return jit::exp(a) + jit::tanh(a) + jit::log(a); }, 0, e);
  agree("max min prod", [](const Tensor& a) { return jit::max(a, {0}) - jit::min(a, {0}) + jit::prod(a, {0}); }, 0, e);
  agree("logsumexp", [](const Tensor& a) { return jit::logsumexp(a, {0}); }, 0, x);
  Tensor w = jit::randn({300, 24}, 22);
  agree("long mv", [&](const Tensor& v) { return jit::mv(w, v); }, 0, batch_of({24}, 9, 23));
  // Weights packed by the prologue (transposed by register blocks in the optimized tier,
  // element by element in the quick one), one of them scaled on the way.
  Tensor w2 = jit::randn({10, 300}, 27);
  agree("two layers", [&](const Tensor& v) { return jit::softmax(jit::mv(w2 * 0.5 + 0.25, jit::tanh(jit::mv(w, v))), 0); },
        0, batch_of({24}, 37, 28));
  agree("dot 1000", [](const Tensor& a, const Tensor& b) { return jit::dot(a, b); }, 0, batch_of({1000}, 5, 24),
        batch_of({1000}, 5, 25));
  Tensor xi = (batch_of({6, 7}, 11, 26) * 4.0).to(jit::DType::i32);
  agree("int matmul", [](const Tensor& a) { return jit::matmul(a, jit::transpose(a, 0, 1)); }, 0, xi);
}

TEST_CASE("backend: elementwise groups over whole samples run flat, and only where that is the same") {
  // A group of elementwise ops whose operands in memory are dense row-major in its shape (or
  // scalars) runs one loop over b * inner + i: vectors across the ends of rows of 3 or 10
  // floats; unbatched rows of its last dims read by index mod their size. Where an operand is
  // not so (broadcast along another dim, a batch dim not outermost, a view with strides, an
  // output batched along another dim), the group keeps its loop nest;
  // wrongly flattened, each of these reads or writes the wrong elements. Batches that split
  // over threads at odd samples.
  Tensor p = batch_of({3}, 20011, 51), q = batch_of({3}, 20011, 52), k = batch_of({}, 20011, 53);
  Tensor w = jit::randn({3}, 54), s = jit::randn({}, 55);
  agree("points", [&](const Tensor& a, const Tensor& b) { return jit::tanh(a * b + s) - jit::exp(a) * 0.5; }, 0, p, q);
  agree("rank 3", [](const Tensor& a) { return jit::sigmoid(a) * a; }, 0, batch_of({2, 5}, 3001, 56));
  agree("one sample", [](const Tensor& a) { return jit::sigmoid(a) * a; }, 0, batch_of({2, 5}, 1, 57));
  agree("casts", [](const Tensor& a) { return (a * 3.0).to(jit::DType::i32) + 1; }, 0, p);
  // Unbatched rows: lane l of a step at flat index f reads element (f + l) mod n, in blocks of
  // steps whose patterns are fixed (rows of 3: 3 steps of 32 lanes) and in the steps after
  // them, gathered: batches that end in each.
  for (int64_t batch : {1, 21, 22, 43, 20011}) {
    Tensor pb = jit::slice(p, 0, 0, batch).contiguous();
    agree("unbatched row", [&](const Tensor& a) { return jit::tanh(a * w + 1.0); }, 0, pb);
  }
  Tensor w5 = jit::randn({5}, 62), w25 = jit::randn({2, 5}, 63), w7 = jit::randn({7}, 64), w9 = jit::randn({9}, 65);
  agree("rows of 5 and 2 x 5", [&](const Tensor& a) { return a * w5 - w25 * 3.0; }, 0, batch_of({2, 5}, 3001, 66));
  agree("row of 7", [&](const Tensor& a) { return a + w7; }, 0, batch_of({7}, 999, 67));
  Tensor w1 = jit::randn({1}, 71);
  agree("row of 1", [&](const Tensor& a) { return a * w1; }, 0, batch_of({4, 1}, 999, 72));
  agree("row of 9 (the loop nest)", [&](const Tensor& a) { return a + w9; }, 0, batch_of({9}, 999, 68));
  agree("computed row", [&](const Tensor& a) { return a * jit::exp(w); }, 0, p);
  Tensor w64 = jit::randn({3}, 69).to(jit::DType::f64);
  agree("f64 row", [&](const Tensor& a) { return a.to(jit::DType::f64) * w64; }, 0, p);
  Tensor wi = (jit::randn({3}, 70) * 10.0).to(jit::DType::i32);
  agree("i32 row", [&](const Tensor& a) { return (a * 10.0).to(jit::DType::i32) - wi; }, 0, p);
  std::vector<float> spread{1.f, 0.f, -2.f, 0.f, 3.f};
  Tensor ws = jit::from_blob(spread.data(), {3}, jit::DType::f32, {2});  // a strided row: the loop nest
  agree("strided row", [&](const Tensor& a) { return a * ws; }, 0, p);
  agree("per-sample scalar", [](const Tensor& a, const Tensor& c) { return a * c; }, 0, p, k);
  agree("rows and columns", [](const Tensor& a, const Tensor& b) { return a + b; }, 0, batch_of({3, 1}, 5003, 58),
        batch_of({1, 3}, 5003, 59));
  agree("batch dim inside", [](const Tensor& a, const Tensor& b) { return a - b; }, {0, 1}, p, jit::transpose(q, 0, 1).contiguous());
  // Views whose rows are 7 floats apart, every other float of a row (at 6 apart, b * 6 + i * 2
  // is the flat index times 2: flattened, it happens to work).
  Tensor wide = batch_of({7}, 20011, 60);
  Tensor view = jit::from_blob(wide.data<float>() + 1, {20011, 3}, jit::DType::f32, {7, 2});
  agree("strided view", [](const Tensor& a, const Tensor& b) { return jit::exp(a) + b; }, 0, view, q);
  agree_dims("batched output dim", [](const Tensor& a) { return jit::tanh(a); }, 0, 1, p);
  auto tanh_of = [](const Tensor& a) { return jit::tanh(a); };
  Tensor want = jit::vmap(tanh_of, 0, 0, {.backend = jit::Backend::Interpreter})(p);
  for (int threads : {1, 2}) {
    std::vector<float> mem(20011 * 7, 0.f);
    Tensor out = jit::from_blob(mem.data(), {20011, 3}, jit::DType::f32, {7, 2});
    jit::vmap(tanh_of, 0, 0, {.threads = threads}).into({out}, p);
    CHECK(jit::allclose(out, want, 2e-4, 2e-5));
    CHECK(mem[1] == 0.f);  // between the output's elements: untouched
  }
  // Random bits are drawn per (sample, element) by a counter, the row-major index: flat, the
  // same draws as the interpreter's from the same seed.
  auto noisy = [](const Tensor& a) { return a + jit::rand_like(a); };
  auto draw = [&](jit::Backend backend) {
    jit::manual_seed(61);
    return jit::vmap(noisy, 0, 0, {.randomness = jit::Randomness::Different, .backend = backend, .name = "noisy"})(p);
  };
  CHECK(jit::allclose(draw(jit::Backend::Compiled), draw(jit::Backend::Interpreter), 1e-6, 1e-6));
}

TEST_CASE("backend: outputs of 4 MiB and more stream past the caches: the same bits at any alignment") {
  // At 4 MiB of output a call's stores of whole cache lines stream where the address is a
  // line's (MOVNT, which faults on an address not aligned to its operand) and the rest are
  // cached (masked remainders, narrower vectors, other addresses): here into buffers of
  // every alignment, from one thread and two, against the quick tier, which never streams.
  // An elementwise group (one flat loop over rows of 1000 floats, a masked remainder at each
  // tile's end), a softmax (reduced then stored, rows of 1024) and a contraction (a register
  // block's stores).
  std::vector<float> mem(1100 * 1024);
  float* aligned = mem.data();
  while (reinterpret_cast<uintptr_t>(aligned) % 64) ++aligned;
  auto check = [&](const char* what, auto f, jit::Shape sample, int64_t batch, const std::vector<Tensor>& args) {
    INFO(what);
    auto quick = jit::vmap(f, 0, 0, {.name = what, .tiering = jit::Tiering::Quick});
    Tensor want = quick(args[0], args[1]);
    jit::Shape shape{batch};
    shape.insert(shape.end(), sample.begin(), sample.end());
    for (int threads : {1, 2}) {
      auto opt = jit::vmap(f, 0, 0, {.threads = threads, .name = what, .tiering = jit::Tiering::Optimized});
      CHECK(same_bits(opt(args[0], args[1]), want));
      for (int64_t offset : {0, 1, 4, 8, 16}) {  // floats: 64-, 4-, 16-, 32- and 64-byte aligned
        INFO("threads ", threads, ", output ", offset, " floats past a 64-byte boundary");
        Tensor out = jit::from_blob(aligned + offset, shape, jit::DType::f32);
        opt.into({out}, args[0], args[1]);
        CHECK(same_bits(out, want));
      }
    }
  };
  Tensor x = batch_of({1000}, 1050, 41), y = batch_of({1000}, 1050, 42);
  check("streamed elementwise", [](const Tensor& a, const Tensor& b) { return jit::tanh(a) * b + 1.0; }, {1000}, 1050, {x, y});
  Tensor s = batch_of({1024}, 1024, 43);
  check("streamed softmax", [](const Tensor& a, const Tensor& b) { return jit::softmax(a, 0) + b; }, {1024}, 1024, {s, s});
  Tensor m = batch_of({16, 16}, 4096, 44), n = batch_of({16, 16}, 4096, 45);
  check("streamed matmul", [](const Tensor& a, const Tensor& b) { return jit::matmul(a, b); }, {16, 16}, 4096, {m, n});
}

TEST_CASE("backend: tiered compiles: quick kernels first, then the optimized ones, same results") {
  auto f = jit::vmap([](const Tensor& a) { return jit::softmax(jit::tanh(a) * 3.0, 0); });
  Tensor x = jit::randn({37, 50}, 1);
  Tensor first = f(x);
  jit::wait_for_compiles();
  jit::CacheStats s = jit::cache_stats(f);
  CHECK(s.compiles == 1);
  CHECK(s.optimized == 1);
  CHECK(same_bits(f(x), first));
  CHECK(jit::cache_stats(f).compiles == 1);  // the optimized kernels replaced, not re-keyed

  auto quick = jit::vmap([](const Tensor& a) { return a * 2.0; }, 0, 0, {.tiering = jit::Tiering::Quick});
  quick(x);
  jit::wait_for_compiles();
  CHECK(jit::cache_stats(quick).optimized == 0);
  auto opt = jit::vmap([](const Tensor& a) { return a * 2.0; }, 0, 0, {.tiering = jit::Tiering::Optimized});
  opt(x);
  CHECK(jit::cache_stats(opt).optimized == 1);  // at once, nothing in background
}

TEST_CASE("backend: a function destroyed before its background compile") {
  // The queued optimized compiles of functions already gone are skipped or dropped; nothing
  // dangles.
  Tensor x = jit::randn({4, 9}, 2);
  for (int i = 0; i < 6; ++i) {
    auto f = jit::vmap([i](const Tensor& a) { return jit::exp(a) * double(i); });
    CHECK(jit::allclose(f(x), jit::exp(x) * double(i), 1e-5, 1e-6));
  }
  jit::wait_for_compiles();
}

TEST_CASE("backend: concurrent callers while the optimized kernels are installed") {
  Tensor w = jit::randn({64, 32}, 3);
  auto f = jit::vmap([&](const Tensor& a) { return jit::tanh(jit::mv(w, a)); });
  Tensor x = jit::randn({33, 32}, 4);
  Tensor want = f(x);  // the quick kernels; the optimized compile starts in background
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i)
        if (!same_bits(f(x), want)) ++bad;
    });
  for (auto& th : threads) th.join();
  jit::wait_for_compiles();
  CHECK(bad == 0);
  CHECK(same_bits(f(x), want));
  CHECK(jit::cache_stats(f).optimized == 1);
}

TEST_CASE("backend: a destroyed function's machine code is freed") {
  // Each compiled module is mapped until the last executable using it goes: a process that
  // creates functions over and over (a service, one per request) does not run out of memory
  // mappings. Background (quick, then optimized) and optimized-only tiers; a function still
  // alive keeps working.
  jit::rt::Engine& engine = jit::rt::Engine::instance();
  Tensor x = jit::randn({5, 3}, 1);
  auto kept = jit::vmap([](const Tensor& t) { return jit::tanh(t) * 2.0; }, 0, 0, {.name = "kept"});
  Tensor before = kept(x);
  jit::wait_for_compiles();
  int64_t live = engine.live_modules();
  for (int i = 0; i < 40; ++i) {
    auto tiering = i % 2 ? jit::Tiering::Optimized : jit::Tiering::Background;
    auto f = jit::vmap([i](const Tensor& t) { return t * double(i) + 1.0; }, 0, 0, {.name = "temp", .tiering = tiering});
    CHECK(jit::allclose(f(x), x * double(i) + 1.0));
  }
  jit::wait_for_compiles();  // a background compile finishing after its function went frees its code too
  CHECK(engine.live_modules() == live);
  CHECK(same_bits(kept(x), before));
}
