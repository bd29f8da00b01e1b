// tools/bench/workloads.cpp: the workloads of issue 7, each written once for one sample with
// the public API and run by vmapjit (`.into` caller-owned outputs, and the allocating call) next
// to the hand-written loop and Eigen, at each batch size, on 1 thread and on all cores.
//
// Roofline counts (f32 = 4 bytes): bytes = inputs read once + outputs written once; flops = 2
// per multiply-add, 1 per add, mul, max, div or sqrt, 10 per exp, tanh, sigmoid or log (a
// vector polynomial's worth of FMAs).
#include "workloads.h"

#include <jit/jit.h>

#include <algorithm>

#include "baselines.h"

namespace bench {
namespace {

using jit::Tensor;
constexpr double kTrans = 10;  // flops per transcendental

float* fp(const Tensor& t) { return t.data<float>(); }
Output out(const Tensor& t) { return {t.data<float>(), t.numel()}; }

jit::VmapOptions opts(int threads, const char* name) {
  return {.threads = threads == 1 ? 1 : 0, .name = name};
}

// A careful user starts threads only for a call with enough work: ~2^17 flops or elements.
bool worth_threads(const Work& w) { return std::max(w.flops, w.bytes / 4) >= 131072; }

// A baseline over batch ranges, on `threads` threads when worth it.
Impl ranged(std::string name, const Work& w, int threads, std::function<void(int64_t, int64_t)> body,
            std::vector<Output> outs) {
  bool par = worth_threads(w);
  int64_t n = w.batch;
  return Impl{std::move(name), [=] { for_ranges(n, threads, par, body); }, [outs] { return outs; }};
}

// The vmapjit pair: into caller-owned outputs, and allocating (results kept in `held`).
template <class F, class... A>
std::vector<Impl> vmapjit_impls(const F& f, std::vector<Tensor> outs, std::vector<Tensor>& held, const A&... args) {
  auto as_outputs = [](const std::vector<Tensor>& ts) {
    std::vector<Output> o;
    for (const Tensor& t : ts) o.push_back(out(t));
    return o;
  };
  return {
      Impl{"vmapjit", [&f, outs, &args...] { f.into(outs, args...); }, [outs, as_outputs] { return as_outputs(outs); }},
      Impl{"vmapjit_alloc", [&f, &held, &args...] { held = jit::detail::flatten(f(args...)); },
           [&held, as_outputs] { return as_outputs(held); }},
  };
}

template <class T>
std::vector<T> concat(std::vector<T> a, std::vector<T> b) {
  for (T& x : b) a.push_back(std::move(x));
  return a;
}

// ---- the per-sample functions --------------------------------------------------------------
struct Params {
  Tensor w = jit::randn({kDotN}, 10);
  Tensor w1 = jit::randn({kHid, kIn}, 11) * 0.125f, b1 = jit::randn({kHid}, 12) * 0.1f;
  Tensor w2 = jit::randn({kOut, kHid}, 13) * 0.09f, b2 = jit::randn({kOut}, 14) * 0.1f;
  Tensor a = jit::randn({kJacN, kJacN}, 15) * 0.09f;
  Mlp mlp() const { return {fp(w1), fp(b1), fp(w2), fp(b2)}; }
};
const Params& params() {
  static Params p;
  return p;
}

Tensor model(const Tensor& x) { return jit::relu(jit::dot(x, params().w)); }
Tensor chain(const Tensor& x) { return jit::tanh(1.5f * x + 0.5f) * jit::sigmoid(x) - 0.1f * jit::exp(x); }
Tensor mlp(const Tensor& x) {
  const Params& p = params();
  return jit::softmax(jit::mv(p.w2, jit::tanh(jit::mv(p.w1, x) + p.b1)) + p.b2, 0);
}
Tensor mlp_loss(const Tensor& w1, const Tensor& b1, const Tensor& w2, const Tensor& b2, const Tensor& x,
                const Tensor& target) {
  Tensor logits = jit::mv(w2, jit::tanh(jit::mv(w1, x) + b1)) + b2;
  return -jit::sum(target * jit::log_softmax(logits, 0));
}
Tensor tanh_av(const Tensor& v) { return jit::tanh(jit::mv(params().a, v)); }
Tensor dist(const Tensor& x, const Tensor& y) { return jit::sqrt(jit::sum(jit::square(x - y))); }
Tensor softmax0(const Tensor& x) { return jit::softmax(x, 0); }

double mlp_flops() {
  return 2.0 * kIn * kHid + kHid + kTrans * kHid + 2.0 * kHid * kOut + kOut + kOut * (3 + kTrans + 1);
}
double mlp_param_floats() { return double(kHid * kIn + kHid + kOut * kHid + kOut); }

// One-hot targets [batch, kOut] of pseudo-random labels.
Tensor one_hot(int64_t batch) {
  Tensor t = jit::zeros({batch, kOut});
  for (int64_t b = 0; b < batch; ++b) fp(t)[b * kOut + (b * 7 + 3) % kOut] = 1.0f;
  return t;
}

}  // namespace

void bench_dot(Runner& r) {
  std::vector<decltype(jit::vmap(jit::dot))> fs;
  for (int th : r.thread_counts()) fs.push_back(jit::vmap(jit::dot, 0, 0, opts(th, "dot")));
  for (int64_t b : {1, 64, 4096, 100000}) {
    Work w{"dot", b, 4.0 * (2 * kDotN * b + b), 2.0 * kDotN * b};
    Tensor x = jit::randn({b, kDotN}, 1), y = jit::randn({b, kDotN}, 2);
    const float *px = fp(x), *py = fp(y);
    Tensor ref = jit::empty({b}), e = jit::empty({b}), o = jit::empty({b});
    float *pr = fp(ref), *pe = fp(e);
    std::vector<Tensor> held;
    for (size_t i = 0; i < fs.size(); ++i) {
      int th = r.thread_counts()[i];
      r.run(w, th, concat({ranged("cpp_loop", w, th, [=](int64_t b0, int64_t b1) { loop_dot(px, py, pr, b0, b1); }, {out(ref)}),
                           ranged("eigen", w, th, [=](int64_t b0, int64_t b1) { eigen_dot(px, py, pe, b0, b1); }, {out(e)})},
                          vmapjit_impls(fs[i], {o}, held, x, y)));
    }
  }
}

void bench_model(Runner& r) {
  std::vector<decltype(jit::vmap(model))> fs;
  for (int th : r.thread_counts()) fs.push_back(jit::vmap(model, 0, 0, opts(th, "model")));
  const float* pw = fp(params().w);
  for (int64_t b : {1, 64, 4096, 100000}) {
    Work w{"model", b, 4.0 * (kDotN * b + kDotN + b), 2.0 * kDotN * b + b};
    Tensor x = jit::randn({b, kDotN}, 3);
    const float* px = fp(x);
    Tensor ref = jit::empty({b}), e = jit::empty({b}), o = jit::empty({b});
    float *pr = fp(ref), *pe = fp(e);
    std::vector<Tensor> held;
    for (size_t i = 0; i < fs.size(); ++i) {
      int th = r.thread_counts()[i];
      r.run(w, th, concat({ranged("cpp_loop", w, th, [=](int64_t b0, int64_t b1) { loop_model(px, pw, pr, b0, b1); }, {out(ref)}),
                           ranged("eigen", w, th, [=](int64_t b0, int64_t b1) { eigen_model(px, pw, pe, b0, b1); }, {out(e)})},
                          vmapjit_impls(fs[i], {o}, held, x)));
    }
  }
}

void bench_elementwise(Runner& r) {
  const int64_t b = 1000;
  Work w{"elementwise", b, 8.0 * kEwN * b, (5 + 3 * kTrans) * kEwN * b};
  Tensor x = jit::randn({b, kEwN}, 4);
  const float* px = fp(x);
  Tensor ref = jit::empty({b, kEwN}), e = jit::empty({b, kEwN}), o = jit::empty({b, kEwN});
  float *pr = fp(ref), *pe = fp(e);
  std::vector<Tensor> held;
  for (int th : r.thread_counts()) {
    auto f = jit::vmap(chain, 0, 0, opts(th, "chain"));
    r.run(w, th, concat({ranged("cpp_loop", w, th, [=](int64_t b0, int64_t b1) { loop_elementwise(px, pr, b0, b1); }, {out(ref)}),
                         ranged("eigen", w, th, [=](int64_t b0, int64_t b1) { eigen_elementwise(px, pe, b0, b1); }, {out(e)})},
                        vmapjit_impls(f, {o}, held, x)));
  }
}

// The MLP as it is, and as a service that declares its weights constant runs it
// (mlp_const: VmapOptions::constant_captures, the weights packed on the first call only).
void bench_mlp(Runner& r) {
  std::vector<decltype(jit::vmap(mlp))> fs, fcs;
  for (int th : r.thread_counts()) {
    fs.push_back(jit::vmap(mlp, 0, 0, opts(th, "mlp")));
    jit::VmapOptions c = opts(th, "mlp_const");
    c.constant_captures = true;
    fcs.push_back(jit::vmap(mlp, 0, 0, c));
  }
  Mlp m = params().mlp();
  for (int64_t b : {1, 16, 256, 4096}) {
    Tensor x = jit::randn({b, kIn}, 5);
    const float* px = fp(x);
    Tensor ref = jit::empty({b, kOut}), e = jit::empty({b, kOut}), o = jit::empty({b, kOut});
    float *pr = fp(ref), *pe = fp(e);
    std::vector<Tensor> held;
    for (const char* name : {"mlp", "mlp_const"}) {
      Work w{name, b, 4.0 * (kIn * b + kOut * b + mlp_param_floats()), mlp_flops() * b};
      for (size_t i = 0; i < fs.size(); ++i) {
        int th = r.thread_counts()[i];
        const auto& f = name == std::string("mlp") ? fs[i] : fcs[i];
        r.run(w, th, concat({ranged("cpp_loop", w, th, [=](int64_t b0, int64_t b1) { loop_mlp(m, px, pr, b0, b1); }, {out(ref)}),
                             ranged("eigen", w, th, [=](int64_t b0, int64_t b1) { eigen_mlp(m, px, pe, b0, b1); }, {out(e)})},
                            vmapjit_impls(f, {o}, held, x)));
      }
    }
  }
}

void bench_psg(Runner& r) {
  const int64_t b = 256;
  const Params& p = params();
  Mlp m = p.mlp();
  double grad_floats = mlp_param_floats();
  double bwd_flops = kOut * 3 + kOut * kHid + 2.0 * kOut * kHid + 3.0 * kHid + kHid * kIn;
  Work w{"psg", b, 4.0 * (b * (kIn + kOut) + mlp_param_floats() + b * grad_floats), (mlp_flops() + bwd_flops) * b};
  Tensor x = jit::randn({b, kIn}, 6), t = one_hot(b);
  const float *px = fp(x), *pt = fp(t);
  auto grads = [&] {
    return std::vector<Tensor>{jit::empty({b, kHid, kIn}), jit::empty({b, kHid}), jit::empty({b, kOut, kHid}),
                               jit::empty({b, kOut})};
  };
  std::vector<Tensor> ref = grads(), e = grads(), o = grads();
  auto outs = [](const std::vector<Tensor>& g) { return std::vector<Output>{out(g[0]), out(g[1]), out(g[2]), out(g[3])}; };
  auto mg = [](const std::vector<Tensor>& g) { return MlpGrads{fp(g[0]), fp(g[1]), fp(g[2]), fp(g[3])}; };
  MlpGrads gr = mg(ref), ge = mg(e);
  std::vector<Tensor> held;
  for (int th : r.thread_counts()) {
    auto f = jit::vmap(jit::grad(mlp_loss, {0, 1, 2, 3}), {jit::none, jit::none, jit::none, jit::none, 0, 0}, 0,
                       opts(th, "psg"));
    r.run(w, th, concat({ranged("cpp_loop", w, th, [=](int64_t b0, int64_t b1) { loop_psg(m, px, pt, gr, b0, b1); }, outs(ref)),
                         ranged("eigen", w, th, [=](int64_t b0, int64_t b1) { eigen_psg(m, px, pt, ge, b0, b1); }, outs(e))},
                        vmapjit_impls(f, o, held, p.w1, p.b1, p.w2, p.b2, x, t)));
  }
}

void bench_jacrev(Runner& r) {
  const int64_t n = kJacN;
  // No batch: jacrev's own vmap over the output basis is the batch; threads are the runtime's.
  Work w{"jacrev", 1, 4.0 * (2 * n * n + n), 3.0 * n * n + n * (kTrans + 2)};
  Tensor v = jit::randn({n}, 7);
  const float *pa = fp(params().a), *pv = fp(v);
  Tensor ref = jit::empty({n, n}), e = jit::empty({n, n}), o = jit::empty({n, n});
  float *pr = fp(ref), *pe = fp(e);
  std::vector<Tensor> held;
  auto f = jit::jacrev(tanh_av, 0, {.name = "jacrev"});
  for (int th : r.thread_counts()) {
    Work wr = w;
    wr.batch = n;  // the baselines split the rows
    auto rows = [&](const char* name, auto fn, float* dst, const Tensor& t) {
      Impl i = ranged(name, wr, th, [=](int64_t r0, int64_t r1) { fn(pa, pv, dst, r0, r1); }, {out(t)});
      return i;
    };
    r.run(w, th, concat({rows("cpp_loop", loop_jacrev, pr, ref), rows("eigen", eigen_jacrev, pe, e)},
                        vmapjit_impls(f, {o}, held, v)));
  }
}

void bench_matmul16(Runner& r) {
  const int64_t b = 10000, nn = kMM * kMM;
  Work w{"matmul16", b, 4.0 * 3 * nn * b, 2.0 * kMM * kMM * kMM * b};
  Tensor x = jit::randn({b, kMM, kMM}, 8), y = jit::randn({b, kMM, kMM}, 9);
  const float *px = fp(x), *py = fp(y);
  Tensor ref = jit::empty({b, kMM, kMM}), e = jit::empty({b, kMM, kMM}), o = jit::empty({b, kMM, kMM});
  float *pr = fp(ref), *pe = fp(e);
  std::vector<Tensor> held;
  for (int th : r.thread_counts()) {
    auto f = jit::vmap(jit::mm, 0, 0, opts(th, "matmul16"));
    r.run(w, th, concat({ranged("cpp_loop", w, th, [=](int64_t b0, int64_t b1) { loop_matmul16(px, py, pr, b0, b1); }, {out(ref)}),
                         ranged("eigen", w, th, [=](int64_t b0, int64_t b1) { eigen_matmul16(px, py, pe, b0, b1); }, {out(e)})},
                        vmapjit_impls(f, {o}, held, x, y)));
  }
}

void bench_pairwise(Runner& r) {
  const int64_t n = kPairN;
  Work w{"pairwise", n, 4.0 * (2 * n * kPairD + n * n), double(n) * n * (3 * kPairD + 1)};
  Tensor x = jit::randn({n, kPairD}, 16), y = jit::randn({n, kPairD}, 17);
  const float *px = fp(x), *py = fp(y);
  Tensor ref = jit::empty({n, n}), e = jit::empty({n, n}), o = jit::empty({n, n});
  float *pr = fp(ref), *pe = fp(e);
  std::vector<Tensor> held;
  for (int th : r.thread_counts()) {
    auto f = jit::vmap(jit::vmap(dist, {jit::none, 0}, 0, opts(th, "dist")), {0, jit::none}, 0, opts(th, "pairwise"));
    r.run(w, th, concat({ranged("cpp_loop", w, th, [=](int64_t i0, int64_t i1) { loop_pairwise(px, py, pr, i0, i1); }, {out(ref)}),
                         ranged("eigen", w, th, [=](int64_t i0, int64_t i1) { eigen_pairwise(px, py, pe, i0, i1); }, {out(e)})},
                        vmapjit_impls(f, {o}, held, x, y)),
          1e-4, 1e-4);
  }
}

void bench_softmax(Runner& r) {
  const int64_t b = 1024;
  Work w{"softmax", b, 8.0 * kSmN * b, (4 + kTrans) * kSmN * b};
  Tensor x = jit::randn({b, kSmN}, 18);
  const float* px = fp(x);
  Tensor ref = jit::empty({b, kSmN}), e = jit::empty({b, kSmN}), o = jit::empty({b, kSmN});
  float *pr = fp(ref), *pe = fp(e);
  std::vector<Tensor> held;
  for (int th : r.thread_counts()) {
    auto f = jit::vmap(softmax0, 0, 0, opts(th, "softmax"));
    r.run(w, th, concat({ranged("cpp_loop", w, th, [=](int64_t b0, int64_t b1) { loop_softmax(px, pr, b0, b1); }, {out(ref)}),
                         ranged("eigen", w, th, [=](int64_t b0, int64_t b1) { eigen_softmax(px, pe, b0, b1); }, {out(e)})},
                        vmapjit_impls(f, {o}, held, x)));
  }
}

}  // namespace bench
