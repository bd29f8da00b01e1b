// examples/seed_basic.cpp: the torch.vmap tutorial's first examples in C++. A function written
// for one sample runs over a whole batch; in_dims say where each input's batch dim is, out_dims
// where the output's goes. Exits non-zero if a result differs from the per-sample loop.
#include <jit/jit.h>

#include <cstdio>

using jit::Tensor;

// Written for one sample: a feature vector of any length.
static Tensor simple_func(const Tensor& x) { return x * 2 + 1; }

// f applied to every row of xs (a plain loop of eager calls), stacked: what vmap must equal.
template <class F>
static Tensor loop(F f, const Tensor& xs, const Tensor& ys) {
  std::vector<Tensor> rows;
  for (int64_t i = 0; i < xs.size(0); ++i) rows.push_back(f(jit::select(xs, 0, i), jit::select(ys, 0, i)));
  return jit::stack(rows);
}

int main() {
  bool ok = true;
  auto check = [&](const char* what, const Tensor& got, const Tensor& want) {
    bool same = jit::allclose(got, want, 1e-5, 1e-6);
    std::printf("%s: %s\n", what, same ? "matches the per-sample loop" : "DIFFERS");
    ok = ok && same;
  };

  // Example 1: vectorize simple_func over a [4, 3] batch (the batch dim is 0, the default).
  auto vectorized_func = jit::vmap(simple_func);
  Tensor batch_input = jit::randn({4, 3}, /*seed=*/1);
  Tensor output = vectorized_func(batch_input);
  std::printf("Input shape: [%ld, %ld]\nOutput shape: [%ld, %ld]\nOutput:\n%s\n", batch_input.size(0),
              batch_input.size(1), output.size(0), output.size(1), output.to_string().c_str());
  check("simple_func", output, batch_input * 2 + 1);

  // Batched dot products: torch.dot (and jit::dot) takes two vectors; vmap makes it take two
  // batches of vectors, [N, D] and [N, D] -> [N].
  Tensor x = jit::randn({64, 5}, 2), y = jit::randn({64, 5}, 3);
  Tensor d = jit::vmap(jit::dot)(x, y);
  std::printf("\nbatched dot of [64, 5] and [64, 5]: [%ld]\n", d.size(0));
  check("batched dot", d, loop(jit::dot, x, y));

  // Example 2: the batch dim is dim 1 of both inputs ([features, batch]); in_dims = (1, 1)
  // says so, and out_dims = 0 puts the batch first in the output.
  Tensor x_batch = jit::randn({5, 4}, 4), y_batch = jit::randn({5, 4}, 5);
  auto vectorized_dot = jit::vmap(jit::dot, {1, 1}, 0);
  Tensor out = vectorized_dot(x_batch, y_batch);
  std::printf("\nInput X shape: [5, 4]\nInput Y shape: [5, 4]\nOutput shape (batch dimension at 0): [%ld]\n%s\n",
              out.size(0), out.to_string().c_str());
  check("dot with in_dims (1, 1)", out,
        loop(jit::dot, jit::transpose(x_batch, 0, 1), jit::transpose(y_batch, 0, 1)));
  return ok ? 0 : 1;
}
