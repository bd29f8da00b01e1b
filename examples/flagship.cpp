// examples/flagship.cpp: what vmapjit does, in one program. A function written for one sample
// runs over a whole batch, checked against a per-sample loop.
#include <jit/jit.h>

#include <cstdio>

// The seed's model: a linear model with an activation, for one feature vector.
static jit::Tensor weights = jit::randn({5}, /*seed=*/0);
static jit::Tensor model(const jit::Tensor& feature_vec) { return jit::relu(jit::dot(feature_vec, weights)); }

int main() {
  // Batched dot product: [N, D], [N, D] -> [N].
  jit::Tensor x = jit::randn({2, 5}, 1), y = jit::randn({2, 5}, 2);
  auto batched_dot = jit::vmap(jit::dot, 0, 0, {.name = "dot"});
  std::printf("batched_dot(x, y) = %s\n", batched_dot(x, y).to_string().c_str());

  // Hiding the batch dim of a model: vmap(model)(examples) equals the stacked per-sample loop.
  jit::Tensor examples = jit::randn({3, 5}, 3);
  jit::Tensor result = jit::vmap(model, 0, 0, {.name = "model"})(examples);
  std::vector<jit::Tensor> rows;
  for (int64_t i = 0; i < examples.size(0); ++i) rows.push_back(model(jit::select(examples, 0, i)));
  jit::Tensor expected = jit::stack(rows);
  std::printf("vmap(model)(examples) = %s\nper-sample loop        = %s\nallclose: %s\n",
              result.to_string().c_str(), expected.to_string().c_str(),
              jit::allclose(result, expected) ? "yes" : "NO");
  return jit::allclose(result, expected) ? 0 : 1;
}
