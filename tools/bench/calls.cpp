// tools/bench/calls.cpp: what a call costs apart from its work.
//  1. Cache-hit overhead: after the first call, tight loops of 20000 calls at batch 1 (15 loops,
//     the median ns per call), vmapjit's `.into` and allocating forms next to the hand-written
//     loop called through a non-inlined function (its work is the floor of any call); and
//     vmapjit's `.into` at batch 0 (the same kernel, no samples): the dispatch alone.
//  2. Cold first call: trace + compile + run of a new function, each in a fresh process (this
//     program run again with --cold NAME), the median over the processes; the same process
//     then times a second new function (the compiler already warm: LLVM's one-time setup left
//     out).
#include <jit/jit.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "baselines.h"
#include "workloads.h"

namespace bench {
namespace {

using jit::Tensor;

template <class F>
Timing tight_loop(F&& fn, int64_t calls = 20000) {
  for (int64_t i = 0; i < calls / 4; ++i) fn();
  std::vector<double> s;
  for (int k = 0; k < 15; ++k) {
    auto t0 = Clock::now();
    for (int64_t i = 0; i < calls; ++i) fn();
    s.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / double(calls));
  }
  return timing_of(std::move(s), calls);
}

Timing of_samples(std::vector<double> s) { return timing_of(std::move(s), 1); }

const Tensor& mlp_w(int i) {
  static const Tensor w[4] = {jit::randn({kHid, kIn}, 11) * 0.125f, jit::randn({kHid}, 12) * 0.1f,
                              jit::randn({kOut, kHid}, 13) * 0.09f, jit::randn({kOut}, 14) * 0.1f};
  return w[i];
}
Tensor mlp(const Tensor& x) {
  return jit::softmax(jit::mv(mlp_w(2), jit::tanh(jit::mv(mlp_w(0), x) + mlp_w(1))) + mlp_w(3), 0);
}
Tensor mlp_again(const Tensor& x) { return mlp(x); }
Tensor dot_again(const Tensor& x, const Tensor& y) { return jit::dot(x, y); }

// Calls through these pointers are never inlined.
void (*volatile g_loop_dot)(const float*, const float*, float*, int64_t, int64_t) = loop_dot;
void (*volatile g_loop_mlp)(const Mlp&, const float*, float*, int64_t, int64_t) = loop_mlp;

}  // namespace

void bench_overhead(Runner& r) {
  {
    Work w{"overhead_dot", 1, 0, 0};
    auto f = jit::vmap(jit::dot, 0, 0, {.threads = 1, .name = "dot"});
    Tensor x = jit::randn({1, kDotN}, 1), y = jit::randn({1, kDotN}, 2), o = jit::empty({1});
    float *px = x.data<float>(), *py = y.data<float>(), *po = o.data<float>();
    r.add(w, 1, "cpp_loop", tight_loop([&] { g_loop_dot(px, py, po, 0, 1); }));
    float want = po[0];
    f.into({o}, x, y);
    if (std::fabs(po[0] - want) > 1e-5f * (1 + std::fabs(want))) r.fail("MISMATCH overhead_dot: vmapjit vs cpp_loop");
    jit::wait_for_compiles();  // time the optimized kernel
    r.add(w, 1, "vmapjit", tight_loop([&] { f.into({o}, x, y); }));
    r.add(w, 1, "vmapjit_alloc", tight_loop([&] { Tensor t = f(x, y); }));
    Tensor x0 = jit::empty({0, kDotN}), y0 = jit::empty({0, kDotN}), o0 = jit::empty({0});
    int64_t compiles = jit::cache_stats(f).compiles;
    r.add(w, 1, "vmapjit_batch0", tight_loop([&] { f.into({o0}, x0, y0); }));
    if (jit::cache_stats(f).compiles != compiles) r.fail("overhead_dot: batch 0 compiled again");
  }
  {
    Work w{"overhead_mlp", 1, 0, 0};
    auto f = jit::vmap(mlp, 0, 0, {.threads = 1, .name = "mlp"});
    Tensor x = jit::randn({1, kIn}, 5), o = jit::empty({1, kOut}), ref = jit::empty({1, kOut});
    Mlp m{mlp_w(0).data<float>(), mlp_w(1).data<float>(), mlp_w(2).data<float>(), mlp_w(3).data<float>()};
    float *px = x.data<float>(), *pr = ref.data<float>();
    r.add(w, 1, "cpp_loop", tight_loop([&] { g_loop_mlp(m, px, pr, 0, 1); }));
    f.into({o}, x);
    for (int k = 0; k < kOut; ++k)
      if (std::fabs(o.data<float>()[k] - pr[k]) > 1e-5f) r.fail("MISMATCH overhead_mlp: vmapjit vs cpp_loop");
    jit::wait_for_compiles();
    r.add(w, 1, "vmapjit", tight_loop([&] { f.into({o}, x); }));
    r.add(w, 1, "vmapjit_alloc", tight_loop([&] { Tensor t = f(x); }));
    Tensor x0 = jit::empty({0, kIn}), o0 = jit::empty({0, kOut});
    int64_t compiles = jit::cache_stats(f).compiles;
    r.add(w, 1, "vmapjit_batch0", tight_loop([&] { f.into({o0}, x0); }));
    if (jit::cache_stats(f).compiles != compiles) r.fail("overhead_mlp: batch 0 compiled again");
  }
}

int cold_child(const std::string& name) {
  Tensor x = jit::randn({1, kDotN}, 1), y = jit::randn({1, kDotN}, 2);
  double first = 0, second = 0, optimized = 0;
  int64_t compiles = 0;
  try {
    if (name == "dot") {
      auto f = jit::vmap(jit::dot, 0, 0, {.threads = 1, .name = "dot"});
      auto g = jit::vmap(dot_again, 0, 0, {.threads = 1, .name = "dot_again"});
      auto t0 = Clock::now();
      f(x, y);
      auto t1 = Clock::now();
      g(x, y);
      auto t2 = Clock::now();
      jit::wait_for_compiles();
      auto t3 = Clock::now();
      first = std::chrono::duration<double, std::nano>(t1 - t0).count();
      second = std::chrono::duration<double, std::nano>(t2 - t1).count();
      optimized = std::chrono::duration<double, std::nano>(t3 - t0).count();
      compiles = jit::cache_stats(f).compiles + jit::cache_stats(g).compiles;
    } else if (name == "mlp") {
      mlp_w(0);  // the weights exist before the call, as a program's model does
      auto f = jit::vmap(mlp, 0, 0, {.threads = 1, .name = "mlp"});
      auto g = jit::vmap(mlp_again, 0, 0, {.threads = 1, .name = "mlp_again"});
      auto t0 = Clock::now();
      f(x);
      auto t1 = Clock::now();
      g(x);
      auto t2 = Clock::now();
      jit::wait_for_compiles();
      auto t3 = Clock::now();
      first = std::chrono::duration<double, std::nano>(t1 - t0).count();
      second = std::chrono::duration<double, std::nano>(t2 - t1).count();
      optimized = std::chrono::duration<double, std::nano>(t3 - t0).count();
      compiles = jit::cache_stats(f).compiles + jit::cache_stats(g).compiles;
    } else {
      std::fprintf(stderr, "--cold: unknown workload %s\n", name.c_str());
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "--cold %s: %s\n", name.c_str(), e.what());
    return 1;
  }
  std::printf("%.0f %.0f %.0f %ld\n", first, second, optimized, long(compiles));
  return 0;
}

void bench_cold(Runner& r, const std::string& self, int runs) {
  for (const char* name : {"dot", "mlp"}) {
    std::vector<double> first, second, optimized;
    for (int i = 0; i < runs; ++i) {
      std::string cmd = "'" + self + "' --cold " + name;
      FILE* p = popen(cmd.c_str(), "r");
      double a = 0, b = 0, c = 0;
      long compiles = 0;
      int got = p ? std::fscanf(p, "%lf %lf %lf %ld", &a, &b, &c, &compiles) : 0;
      int status = p ? pclose(p) : -1;
      if (got != 4 || status != 0) {
        r.fail(std::string("ERROR cold ") + name + ": the child process failed (" + cmd + ")");
        break;
      }
      if (compiles != 2) std::fprintf(stderr, "  cold %s: %ld compiles, expected 2\n", name, compiles);
      first.push_back(a);
      second.push_back(b);
      optimized.push_back(c);
    }
    if (first.empty()) continue;
    Work w{std::string("cold_") + name, 1, 0, 0};
    r.add(w, 1, "vmapjit", of_samples(first));
    r.add(w, 1, "vmapjit_2nd_fn", of_samples(second));
    r.add(w, 1, "vmapjit_optimized", of_samples(optimized));
    std::fprintf(stderr,
                 "  cold %-4s first call %8.2f ms, a second new function %8.2f ms, both optimized after %8.2f ms (%d processes)\n",
                 name, of_samples(first).median_ns / 1e6, of_samples(second).median_ns / 1e6,
                 of_samples(optimized).median_ns / 1e6, runs);
  }
}

}  // namespace bench
