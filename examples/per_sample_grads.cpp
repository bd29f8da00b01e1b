// examples/per_sample_grads.cpp: per-sample gradients of an MLP's cross-entropy loss, the
// seeds' third use case. jit::vmap(jit::grad(loss)) compiles the whole computation into one
// batched function; a loop calling jit::grad once per sample is the baseline it replaces.
#include <jit/jit.h>

#include <chrono>
#include <cstdio>

using jit::Tensor;

// The loss of one sample: a 2-layer MLP, softmax cross-entropy against a one-hot target.
static Tensor loss(const Tensor& w1, const Tensor& b1, const Tensor& w2, const Tensor& b2,
                   const Tensor& x, const Tensor& target) {
  Tensor hidden = jit::tanh(jit::mv(w1, x) + b1);
  Tensor logits = jit::mv(w2, hidden) + b2;
  return -jit::sum(target * jit::log_softmax(logits, 0));
}

int main() {
  const int64_t batch = 256, in = 64, hid = 128, out = 10;
  Tensor w1 = jit::randn({hid, in}, 1) * 0.1f, b1 = jit::zeros({hid});
  Tensor w2 = jit::randn({out, hid}, 2) * 0.1f, b2 = jit::zeros({out});
  Tensor xs = jit::randn({batch, in}, 3);
  Tensor labels = jit::cast(jit::rand({batch}, 4) * float(out), jit::DType::i64);
  Tensor targets = jit::index_select(jit::eye(out), 0, labels);

  // Gradients with respect to w1 (argument 0) for every sample at once.
  auto per_sample = jit::vmap(jit::grad(loss, 0), {jit::none, jit::none, jit::none, jit::none, 0, 0});
  Tensor grads = per_sample(w1, b1, w2, b2, xs, targets);  // [batch, hid, in]
  std::printf("per-sample gradients of w1: [%ld, %ld, %ld]\n", grads.size(0), grads.size(1), grads.size(2));

  // Their norms, for the first few samples.
  Tensor norms = jit::sqrt(jit::sum(jit::square(grads), {1, 2}));
  std::printf("gradient norms of samples 0..4: ");
  for (int64_t i = 0; i < 5; ++i) std::printf("%.5f ", norms.at({i}));
  std::printf("\n");

  // The same with a loop of per-sample gradient calls.
  auto one = jit::grad(loss, 0);
  std::vector<Tensor> rows;
  for (int64_t i = 0; i < batch; ++i) rows.push_back(one(w1, b1, w2, b2, jit::select(xs, 0, i), jit::select(targets, 0, i)));
  bool same = jit::allclose(jit::stack(rows), grads, 1e-4, 1e-6);
  std::printf("equal to a loop of jit::grad: %s\n", same ? "yes" : "NO");

  using Clock = std::chrono::steady_clock;
  auto time = [](auto&& fn) {
    fn();
    jit::wait_for_compiles();  // the first call ran quickly compiled code; time the optimized
    auto t0 = Clock::now();
    const int reps = 20;
    for (int i = 0; i < reps; ++i) fn();
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / reps;
  };
  double batched = time([&] { per_sample(w1, b1, w2, b2, xs, targets); });
  double loop = time([&] {
    for (int64_t i = 0; i < batch; ++i) one(w1, b1, w2, b2, jit::select(xs, 0, i), jit::select(targets, 0, i));
  });
  std::printf("vmap(grad): %.0f us; loop of grad: %.0f us (%.1fx)\n", batched, loop, loop / batched);
  return same ? 0 : 1;
}
