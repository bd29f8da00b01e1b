// examples/seed_randomness.cpp: the torch.vmap tutorial's randomness example. A random op inside
// a vmapped function must say how the batch draws: Randomness::Different gives every sample its
// own values, Randomness::Same one draw shared by all; the default, Randomness::Error, refuses.
// Results are reproducible from jit::manual_seed and do not depend on chunk_size. Exits non-zero
// if any of that does not hold.
#include <jit/jit.h>

#include <cstdio>

using jit::Tensor;

// Adds noise of the shape of one sample.
static Tensor random_addition(const Tensor& x) { return x + jit::randn_like(x); }

// Whether rows i and j of a [batch, n] tensor are equal.
static bool rows_equal(const Tensor& t, int64_t i, int64_t j) {
  return jit::allclose(jit::select(t, 0, i), jit::select(t, 0, j), 0, 0);
}

int main() {
  bool ok = true;
  Tensor batch_input = jit::zeros({3, 2});

  // Case 1: different random values for each batch element.
  auto vmap_diff = jit::vmap(random_addition, 0, 0, {.randomness = jit::Randomness::Different});
  jit::manual_seed(0);
  Tensor diff = vmap_diff(batch_input);
  std::printf("Randomness 'different':\n%s\n", diff.to_string().c_str());
  ok = ok && !rows_equal(diff, 0, 1) && !rows_equal(diff, 1, 2) && !rows_equal(diff, 0, 2);

  // Case 2: the same random values for every batch element.
  auto vmap_same = jit::vmap(random_addition, 0, 0, {.randomness = jit::Randomness::Same});
  Tensor same = vmap_same(batch_input);
  std::printf("Randomness 'same':\n%s\n", same.to_string().c_str());
  ok = ok && rows_equal(same, 0, 1) && rows_equal(same, 1, 2);

  // The same seed gives the same draws, also when the batch runs one sample at a time.
  jit::manual_seed(0);
  auto one_at_a_time = jit::vmap(random_addition, 0, 0,
                                 {.randomness = jit::Randomness::Different, .chunk_size = 1});
  bool reproducible = jit::allclose(one_at_a_time(batch_input), diff, 0, 0);
  std::printf("reseeded, chunk_size = 1: %s\n", reproducible ? "the same values" : "DIFFERENT values");
  ok = ok && reproducible;

  // The default: a random op is an error that says how to choose.
  try {
    jit::vmap(random_addition, 0, 0, {.name = "random_addition"})(batch_input);
    std::printf("randomness 'error': no error was raised\n");
    ok = false;
  } catch (const jit::Error& e) {
    std::printf("Randomness 'error': %s\n", e.what());
  }
  return ok ? 0 : 1;
}
