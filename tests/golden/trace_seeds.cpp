// tests/golden/trace_seeds.cpp: the seeds' examples traced from C++ through the public API, for
// the golden tests (trace_seeds.test). Run with VMAPJIT_DUMP=DIR, every compile writes its
// stages to DIR; with VMAPJIT_LOG=info, one line per compile goes to stderr. It prints the
// results, so a person (and FileCheck) can see the examples ran.
#include <jit/jit.h>

#include <cstdio>

using jit::Tensor;

// The seed's model: a linear model with an activation, for one feature vector.
static Tensor weights = jit::randn({5}, /*seed=*/0);
static Tensor model(const Tensor& feature_vec) { return jit::relu(jit::dot(feature_vec, weights)); }

int main() {
  // Batched dot: [N, D], [N, D] -> [N].
  Tensor x = jit::randn({2, 5}, 1), y = jit::randn({2, 5}, 2);
  auto batched_dot = jit::vmap(jit::dot, 0, 0, {.name = "dot"});
  std::printf("batched_dot: %s\n", batched_dot(x, y).to_string().c_str());

  // The tutorial's in_dims=(1, 1): the batch dim last.
  auto dot_dim1 = jit::vmap(jit::dot, {1, 1}, 0, {.name = "dot_dim1"});
  std::printf("dot_dim1: %s\n", dot_dim1(x.transpose(0, 1), y.transpose(0, 1)).to_string().c_str());

  // Two signatures, then the first again: a cache hit found by lookup, not the fast path.
  auto resized = jit::vmap(jit::dot, 0, 0, {.name = "dot_resized"});
  resized(x, y);
  resized(jit::randn({3, 4}, 3), jit::randn({3, 4}, 4));
  resized(x, y);

  // vmap(model)(examples) with the weights captured.
  Tensor examples = jit::randn({3, 5}, 5);
  auto batched_model = jit::vmap(model, 0, 0, {.name = "model"});
  std::printf("model: %s\n", batched_model(examples).to_string().c_str());

  // x w + y, contracted into one fma (the dump's fused file shows the contracted IR).
  auto axpy = jit::vmap([](const Tensor& a, const Tensor& b) { return a * weights + b; }, 0, 0, {.name = "axpy"});
  std::printf("axpy: %s\n", axpy(x, y).to_string().c_str());
  return 0;
}
