// examples/flagship.cpp: what vmapjit does, in one program. Functions written for one sample run
// over whole batches, checked against per-sample loops; then batched MLP inference, timed
// against a loop over samples.
#include <jit/jit.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

using jit::Tensor;

// The seed's model: a linear model with an activation, for one feature vector.
static Tensor weights = jit::randn({5}, /*seed=*/0);
static Tensor model(const Tensor& feature_vec) { return jit::relu(jit::dot(feature_vec, weights)); }

// An MLP for one sample: 64 -> 128 (tanh) -> 10 (softmax).
static Tensor w1 = jit::randn({128, 64}, 1) * 0.125f, b1 = jit::randn({128}, 2) * 0.1f;
static Tensor w2 = jit::randn({10, 128}, 3) * 0.09f, b2 = jit::randn({10}, 4) * 0.1f;
static Tensor mlp(const Tensor& x) { return jit::softmax(jit::mv(w2, jit::tanh(jit::mv(w1, x) + b1)) + b2, 0); }

template <class F>
static double median_us(F&& fn, int reps) {
  std::vector<double> t;
  fn();
  jit::wait_for_compiles();  // the first call ran quickly compiled code; time the optimized
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main() {
  // Batched dot product: [N, D], [N, D] -> [N].
  Tensor x = jit::randn({2, 5}, 5), y = jit::randn({2, 5}, 6);
  auto batched_dot = jit::vmap(jit::dot, 0, 0, {.name = "dot"});
  std::printf("batched_dot(x, y) = %s\n", batched_dot(x, y).to_string().c_str());

  // Hiding the batch dim of a model: vmap(model)(examples) equals the stacked per-sample loop.
  Tensor examples = jit::randn({3, 5}, 7);
  Tensor result = jit::vmap(model, 0, 0, {.name = "model"})(examples);
  std::vector<Tensor> rows;
  for (const Tensor& e : jit::unbind(examples)) rows.push_back(model(e));
  bool ok = jit::allclose(result, jit::stack(rows));
  std::printf("vmap(model)(examples) = %s\nper-sample loop        = %s\nequal: %s\n",
              result.to_string().c_str(), jit::stack(rows).to_string().c_str(), ok ? "yes" : "NO");

  // Batched MLP inference against a loop over samples of the same compiled function.
  auto batched_mlp = jit::vmap(mlp, 0, 0, {.name = "mlp"});
  // A service's weights do not change: declared constant, they are packed for the contraction
  // once, by the first call, instead of every call.
  auto served_mlp = jit::vmap(mlp, 0, 0, {.name = "mlp", .constant_captures = true});
  auto one_mlp = jit::compile(mlp, {.name = "mlp"});
  std::printf("\nMLP inference 64 -> 128 (tanh) -> 10 (softmax), median times:\n");
  for (int64_t batch : {16, 256, 4096}) {
    Tensor xs = jit::randn({batch, 64}, 8);
    Tensor out = jit::empty({batch, 10}), served = jit::empty({batch, 10});
    std::vector<Tensor> samples = jit::unbind(xs);
    // The first calls compile quickly and return; the optimized kernels, compiled in the
    // background, are the ones to time.
    batched_mlp.into({out}, xs), served_mlp.into({served}, xs), one_mlp(samples[0]);
    jit::wait_for_compiles();
    double tb = median_us([&] { batched_mlp.into({out}, xs); }, 50);
    double tc = median_us([&] { served_mlp.into({served}, xs); }, 50);
    double tl = median_us([&] { for (const Tensor& s : samples) one_mlp(s); }, 10);
    if (batch == 16) {  // the batched result is the loop's, sample for sample
      std::vector<Tensor> loop;
      for (const Tensor& s : samples) loop.push_back(one_mlp(s));
      ok = ok && jit::allclose(out, jit::stack(loop), 1e-5, 1e-7);
    }
    ok = ok && jit::allclose(served, out, 0, 0);  // the same bits
    std::printf("  batch %5ld: vmap %9.1f us (constant weights %9.1f us), per-sample loop %9.1f us, %5.1fx\n",
                batch, tb, tc, tl, tl / tb);
  }
  return ok ? 0 : 1;
}
