// examples/seed_model.cpp: the torch.vmap tutorial's second use case, hiding the batch dim. The
// model is written for one feature vector, with weights captured from the enclosing scope;
// jit::vmap runs it over a batch of examples. The weights are read when the batched function
// runs, not copied when it compiles: change them and the next call sees the change. Exits
// non-zero if a result differs from the per-sample loop.
#include <jit/jit.h>

#include <cstdio>
#include <vector>

using jit::Tensor;

int main() {
  const int64_t batch_size = 64, feature_size = 3;
  // The weights live in a buffer the program owns; the tensor borrows it without a copy.
  std::vector<float> weight_data = {0.5f, -1.0f, 2.0f};
  Tensor weights = jit::from_blob(weight_data.data(), {feature_size}, jit::DType::f32);

  // Written for one example: a [3] feature vector in, a scalar out. jit::dot takes 1-D tensors,
  // so the model does not work on a batch as written.
  auto model = [&](const Tensor& feature_vec) { return jit::relu(jit::dot(feature_vec, weights)); };

  Tensor examples = jit::randn({batch_size, feature_size}, /*seed=*/1);
  auto batched_model = jit::vmap(model, 0, 0, {.name = "model"});

  // The stacked loop over examples, with the eager model: what vmap must equal.
  auto loop = [&] {
    std::vector<Tensor> rows;
    for (int64_t i = 0; i < batch_size; ++i) rows.push_back(model(jit::select(examples, 0, i)));
    return jit::stack(rows);
  };

  bool ok = true;
  Tensor result = batched_model(examples);
  bool same = jit::allclose(result, loop(), 1e-5, 1e-6);
  std::printf("vmap(model)(examples): [%ld], first 5: %s\n", result.size(0),
              jit::slice(result, 0, 0, 5).to_string().c_str());
  std::printf("equal to the loop over examples: %s\n", same ? "yes" : "NO");
  ok = ok && same;

  // New weights, same buffer: the compiled function reads them at call time.
  weight_data = {-0.5f, 1.0f, 0.25f};
  Tensor updated = batched_model(examples);
  same = jit::allclose(updated, loop(), 1e-5, 1e-6);
  std::printf("after changing the weights, first 5: %s\n", jit::slice(updated, 0, 0, 5).to_string().c_str());
  std::printf("equal to the loop with the new weights: %s\n", same ? "yes" : "NO");
  ok = ok && same && !jit::allclose(result, updated);

  // One compile served both calls: the batch size and the weights' values are not part of the
  // signature, only the per-sample shapes and dtypes are.
  std::printf("compiles: %ld, cache hits: %ld\n", jit::cache_stats(batched_model).compiles,
              jit::cache_stats(batched_model).hits);
  ok = ok && jit::cache_stats(batched_model).compiles == 1;

  // (The tutorial's per-sample gradients, vmap of grad, are in examples/per_sample_grads.cpp.)
  return ok ? 0 : 1;
}
